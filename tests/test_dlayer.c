/* The persistent decode layer (cl/dlayer.cl, src/ops/kern_dlayer.c):
 *  - one layer against the C references chained (rmsnorm, gemv, conv step,
 *    gemv, ssm step, gemv with the residual add) at odd sizes (tails of the
 *    8-element vectors, N below the channel team, W_dt rows on 16 bytes and
 *    not), every weight dtype, with
 *    and without conv bias, 1 and several x_proj slices, two steps in a row
 *    (the barrier's generation carries over launches), a state slot that is
 *    not the first;
 *  - the probe: it passes on this device, one made to answer wrong turns the
 *    path off, MAMBACL_DISABLE=persistent keeps it from running;
 *  - a barrier that times out (groups that do not exist) gives an error,
 *    not a hang, and turns the path off;
 *  - the barriers (DL_BAR 0, 2 and the default, 1 on GPUs), the
 *    prefetches (DL_PF) and the per-dtype loop copies (DL_SPEC) give
 *    bitwise the same h, and time out the same way;
 *  - the bundled model decodes the same greedy tokens with the path on and
 *    off, logits within 1e-4 (on: the dispatch threshold raised through
 *    MAMBACL_TUNE_SET, which the test also covers);
 *  - several layers per launch (DL_LPL 2, 3 and the default, all layers) on
 *    a random model of 5 layers give bitwise the logits of one layer per
 *    launch and within 1e-4 the chain's, with one weight arena and with
 *    max_buffer forced so that an arena holds 2 layers (arenas of 2, 2, 1;
 *    the state buffers in groups too, which change as the pool grows): the
 *    pool growing after the state was written keeps its values, a state
 *    saved before the growth and loaded after decodes the same, and the
 *    launches per step are what the arenas allow (MAMBACL_DISABLE=arenas:
 *    none, one layer per launch, the same logits; DL_MULTI=0, the program
 *    without the layer loop: one layer per launch, the same logits; DL_PF=3,DL_PFA=3, the
 *    L2 prefetches of this and the next layer: the same logits); a multi-layer launch whose
 *    barriers time out gives the error and turns the path off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/half.h"
#include "ops/kern_dlayer.h"
#include "runtime/runtime.h"
#include "ref/ref_kernels.h"
#include "ref/ref_scan.h"
#include "model/model.h"
#include "fwd_common.h"
#include "test_rand.h"

static void check_close(const float *got, const float *want, size_t n, double tol, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]);
        if (!(e <= tol + tol * fabs(want[i])))
            fail_msg("%s: element %zu is %.9g, reference %.9g", what, i, got[i], want[i]);
    }
}

static mcl_runtime *runtime(void)
{
    mcl_runtime *rt = NULL;
    if (mcl_runtime_create(NULL, &rt) != MCL_OK) fail_msg("runtime: %s", mcl_last_error());
    return rt;
}

/* One layer's host tensors and their device copies. */
typedef struct layer {
    int dm, di, R, N, K, nx, cap, slot;
    mcl_dtype dt;
    bool bias;
    void *w_in, *w_x, *w_dt, *w_out;               /* [2di, dm], [nx, di], [di, R], [dm, di] */
    float *nw, *cw, *cb, *b_dt, *A, *D;            /* [dm], [di, K], [di], [di], [di, N], [di] */
    float *h, *cst, *sst;                          /* [dm], [cap, di, K-1], [cap, di, N] */
    cl_mem b[20];
} layer;

static void layer_make(layer *L, int dm, int di, int R, int N, int K, mcl_dtype dt, bool bias)
{
    memset(L, 0, sizeof *L);
    L->dm = dm, L->di = di, L->R = R, L->N = N, L->K = K, L->nx = R + 2 * N, L->cap = 3, L->slot = 1;
    L->dt = dt, L->bias = bias;
    L->w_in = trand_weights((size_t)2 * di * dm, dt, 0.3f);
    L->w_x = trand_weights((size_t)L->nx * di, dt, 0.3f);
    L->w_dt = trand_weights((size_t)di * R, dt, 0.5f);
    L->w_out = trand_weights((size_t)dm * di, dt, 0.3f);
    L->nw = trand_floats((size_t)dm, 0.5f, 1.5f);
    L->cw = trand_floats((size_t)di * K, -0.5f, 0.5f);
    L->cb = trand_floats((size_t)di, -0.5f, 0.5f);
    L->b_dt = trand_floats((size_t)di, -4.0f, -2.0f);
    L->A = trand_floats((size_t)di * N, -8.0f, -1.0f);
    L->D = trand_floats((size_t)di, 0.5f, 1.5f);
    L->h = trand_floats((size_t)dm, -2.0f, 2.0f);
    L->cst = trand_floats((size_t)L->cap * di * (K - 1), -1.0f, 1.0f);
    L->sst = trand_floats((size_t)L->cap * di * N, -1.0f, 1.0f);
}

static void layer_free(layer *L)
{
    for (int i = 0; i < 20; i++) mcl_buffer_release(&L->b[i]);
    void *all[] = {L->w_in, L->w_x, L->w_dt, L->w_out, L->nw, L->cw, L->cb, L->b_dt, L->A, L->D, L->h, L->cst, L->sst};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
}

/* One step of the layer in C on L's host tensors (h and the states updated). */
static void layer_ref(layer *L)
{
    int dm = L->dm, di = L->di, slot = L->slot;
    float *hn = malloc((size_t)dm * 4), *xz = malloc((size_t)2 * di * 4), *xc = malloc((size_t)di * 4);
    float *dbc = malloc((size_t)L->nx * 4), *y = malloc((size_t)di * 4), *hc = malloc((size_t)dm * 4);
    memcpy(hc, L->h, (size_t)dm * 4);
    ref_rmsnorm_residual(hc, NULL, L->nw, 1e-5f, hn, NULL, 1, dm);
    ref_gemv(L->w_in, L->dt, hn, xz, 2 * di, dm, 1, 0);
    ref_conv_step(xz, 2 * di, L->cw, L->bias ? L->cb : NULL, L->cst, 0, &slot, (size_t)di * (L->K - 1), 1, di,
                  L->K, xc);
    ref_gemv(L->w_x, L->dt, xc, dbc, L->nx, di, 1, 0);
    ref_ssm_step(xc, dbc, xz, L->w_dt, L->dt, L->b_dt, L->A, L->D, L->sst, 0, &slot, (uint64_t)di * L->N, 1, di,
                 L->R, L->N, y);
    ref_gemv(L->w_out, L->dt, y, L->h, dm, di, 1, 1);
    free(hn), free(xz), free(xc), free(dbc), free(y), free(hc);
}

enum { B_H, B_NW, B_WIN, B_CW, B_CB, B_CST, B_SLOT, B_XZ, B_XC, B_WX, B_PARTS, B_WDT, B_BDT, B_A, B_D, B_SST, B_Y, B_WOUT };

static void layer_upload(mcl_runtime *rt, layer *L)
{
    size_t ws = mcl_half_dtype_size(L->dt), dm = (size_t)L->dm, di = (size_t)L->di;
    L->b[B_H] = tbuf_upload(rt, L->h, dm * 4);
    L->b[B_NW] = tbuf_upload(rt, L->nw, dm * 4);
    L->b[B_WIN] = tbuf_upload(rt, L->w_in, 2 * di * dm * ws);
    L->b[B_CW] = tbuf_upload(rt, L->cw, di * (size_t)L->K * 4);
    L->b[B_CB] = tbuf_upload(rt, L->cb, di * 4);
    L->b[B_CST] = tbuf_upload(rt, L->cst, (size_t)L->cap * di * (size_t)(L->K - 1) * 4);
    L->b[B_SLOT] = tbuf_upload(rt, &L->slot, 4);
    L->b[B_XZ] = tbuf_upload(rt, NULL, 2 * di * 4);
    L->b[B_XC] = tbuf_upload(rt, NULL, di * 4);
    L->b[B_WX] = tbuf_upload(rt, L->w_x, (size_t)L->nx * di * ws);
    L->b[B_PARTS] = tbuf_upload(rt, NULL, 16 * (size_t)L->nx * 4);
    L->b[B_WDT] = tbuf_upload(rt, L->w_dt, di * (size_t)L->R * ws);
    L->b[B_BDT] = tbuf_upload(rt, L->b_dt, di * 4);
    L->b[B_A] = tbuf_upload(rt, L->A, di * (size_t)L->N * 4);
    L->b[B_D] = tbuf_upload(rt, L->D, di * 4);
    L->b[B_SST] = tbuf_upload(rt, L->sst, (size_t)L->cap * di * (size_t)L->N * 4);
    L->b[B_Y] = tbuf_upload(rt, NULL, di * 4);
    L->b[B_WOUT] = tbuf_upload(rt, L->w_out, dm * di * ws);
}

static mcl_kern_dlayer_args layer_args(const layer *L, int n_parts)
{
    int di = L->di;
    mcl_kern_dlayer_args a = {
        .h = L->b[B_H], .nw = L->b[B_NW], .eps = 1e-5f, .w_in = L->b[B_WIN], .dt_in = L->dt,
        .conv = {L->b[B_CW], L->bias ? L->b[B_CB] : NULL, {L->b[B_CST], 0, L->b[B_SLOT], (uint64_t)di * (L->K - 1)},
                 L->K, di, L->b[B_XC]},
        .w_x = L->b[B_WX], .dt_x = L->dt, .parts = L->b[B_PARTS], .n_parts = n_parts,
        .scan = {L->b[B_XC], L->b[B_PARTS], L->b[B_XZ], L->b[B_WDT], L->b[B_BDT], L->b[B_A], L->b[B_D], L->b[B_Y],
                 L->dt, di, L->R, L->N, (uint64_t)di, 2 * di},
        .ssm = {L->b[B_SST], 0, L->b[B_SLOT], (uint64_t)di * L->N},
        .w_out = L->b[B_WOUT], .dt_out = L->dt, .d_model = L->dm,
    };
    return a;
}

/* `steps` steps on the device and in C; h and both states compared; the
 * device's h into keep [dm] when given. */
static void run_layer_keep(mcl_runtime *rt, int dm, int di, int R, int N, int K, mcl_dtype dt, bool bias, int parts,
                           int steps, float *keep)
{
    layer L;
    layer_make(&L, dm, di, R, N, K, dt, bias);
    layer_upload(rt, &L);
    bool ready = false;
    assert_int_equal(mcl_kern_dlayer_ready(rt, 1, dm, di, L.nx, &ready), MCL_OK);
    if (!ready) fail_msg("persistent layer not ready: %s", rt->dlayer.reason);
    int n = parts ? parts : mcl_kern_dlayer_parts(rt, L.nx, di, 16);
    mcl_kern_dlayer_args a = layer_args(&L, n);
    for (int s = 0; s < steps; s++) {
        assert_int_equal(mcl_kern_dlayer(rt, &a), MCL_OK);
        layer_ref(&L);
    }
    assert_int_equal(mcl_kern_dlayer_flag_read(rt), MCL_OK);
    assert_int_equal(mcl_runtime_finish(rt), MCL_OK);
    assert_int_equal(mcl_kern_dlayer_flag_check(rt), MCL_OK);
    size_t ncs = (size_t)L.cap * di * (K - 1), nss = (size_t)L.cap * di * N;
    float *h = malloc((size_t)dm * 4), *cs = malloc(ncs * 4), *ss = malloc(nss * 4);
    tbuf_download(rt, L.b[B_H], h, (size_t)dm * 4);
    tbuf_download(rt, L.b[B_CST], cs, ncs * 4);
    tbuf_download(rt, L.b[B_SST], ss, nss * 4);
    char what[160];
    snprintf(what, sizeof what, "dlayer d_model %d d_inner %d R %d N %d K %d dtype %d bias %d parts %d", dm, di, R,
             N, K, (int)dt, bias, n);
    check_close(h, L.h, (size_t)dm, 5e-4, what);
    check_close(cs, L.cst, ncs, 5e-4, what);
    check_close(ss, L.sst, nss, 5e-4, what);
    if (keep) memcpy(keep, h, (size_t)dm * 4);
    free(h), free(cs), free(ss);
    layer_free(&L);
}

static void run_layer(mcl_runtime *rt, int dm, int di, int R, int N, int K, mcl_dtype dt, bool bias, int parts,
                      int steps)
{
    run_layer_keep(rt, dm, di, R, N, K, dt, bias, parts, steps, NULL);
}

static void test_layer_ref(void **state)
{
    mcl_runtime *rt = *state;
    const mcl_dtype dts[] = {MCL_DTYPE_F32, MCL_DTYPE_F16, MCL_DTYPE_BF16};
    for (int i = 0; i < 3; i++) {
        run_layer(rt, 64, 128, 4, 16, 4, dts[i], true, 0, 2);
        run_layer(rt, 50, 100, 4, 16, 4, dts[i], false, 3, 2); /* tails of 8-element vectors, 3 slices */
        run_layer(rt, 36, 72, 3, 8, 3, dts[i], true, 1, 1);    /* N below a channel team, K 3 */
        run_layer(rt, 40, 96, 16, 16, 4, dts[i], true, 2, 1);  /* W_dt rows on 16 bytes (R 16) */
    }
    assert_true(rt->dlayer.groups >= 1);
}

static void test_bad_args(void **state)
{
    mcl_runtime *rt = *state;
    layer L;
    layer_make(&L, 16, 32, 1, 4, 4, MCL_DTYPE_F32, false);
    layer_upload(rt, &L);
    bool ready = false;
    assert_int_equal(mcl_kern_dlayer_ready(rt, 1, 16, 32, L.nx, &ready), MCL_OK);
    assert_true(ready);
    mcl_kern_dlayer_args a = layer_args(&L, 0);
    assert_int_equal(mcl_kern_dlayer(rt, &a), MCL_ERR_INVALID_ARG); /* no slice */
    a = layer_args(&L, 1);
    a.conv.n_conv = 31;
    assert_int_equal(mcl_kern_dlayer(rt, &a), MCL_ERR_INVALID_ARG); /* conv rows != d_inner */
    assert_int_equal(mcl_kern_dlayer_ready(rt, 2, 16, 32, L.nx, &ready), MCL_OK);
    assert_false(ready); /* batch 1 only */
    layer_free(&L);
}

static void test_probe_wrong(void **state)
{
    (void)state;
    setenv("MAMBACL_TEST_PROBE_WRONG", "persistent", 1);
    mcl_runtime *rt = runtime();
    bool ready = true;
    assert_int_equal(mcl_kern_dlayer_ready(rt, 1, 64, 128, 36, &ready), MCL_OK);
    unsetenv("MAMBACL_TEST_PROBE_WRONG");
    assert_false(ready);
    assert_int_equal(rt->dlayer.state, -1);
    assert_non_null(strstr(rt->dlayer.reason, "wrong values"));
    assert_int_equal(mcl_kern_dlayer_ready(rt, 1, 64, 128, 36, &ready), MCL_OK);
    assert_false(ready); /* remembered */
    mcl_runtime_free(rt);
}

static void test_disabled(void **state)
{
    (void)state;
    setenv("MAMBACL_DISABLE", "ptx,persistent", 1);
    mcl_runtime *rt = runtime();
    bool ready = true;
    assert_int_equal(mcl_kern_dlayer_ready(rt, 1, 64, 128, 36, &ready), MCL_OK);
    unsetenv("MAMBACL_DISABLE");
    assert_false(ready);
    assert_int_equal(rt->dlayer.state, 0); /* never probed */
    mcl_runtime_free(rt);
}

/* Every barrier waits for a group that does not exist: each times out after
 * 1000 polls, the step reports it, and the path turns itself off. */
static void timeout_case(mcl_runtime *rt)
{
    layer L;
    layer_make(&L, 16, 32, 1, 4, 4, MCL_DTYPE_F32, true);
    layer_upload(rt, &L);
    bool ready = false;
    assert_int_equal(mcl_kern_dlayer_ready(rt, 1, 16, 32, L.nx, &ready), MCL_OK);
    if (!ready) fail_msg("persistent layer not ready: %s", rt->dlayer.reason);
    setenv("MAMBACL_TEST_DLAYER_PHANTOM", "1", 1);
    setenv("MAMBACL_TEST_DLAYER_SPIN", "1000", 1);
    mcl_kern_dlayer_args a = layer_args(&L, 1);
    assert_int_equal(mcl_kern_dlayer(rt, &a), MCL_OK);
    unsetenv("MAMBACL_TEST_DLAYER_PHANTOM");
    unsetenv("MAMBACL_TEST_DLAYER_SPIN");
    assert_int_equal(mcl_kern_dlayer_flag_read(rt), MCL_OK);
    assert_int_equal(mcl_runtime_finish(rt), MCL_OK);
    assert_int_equal(mcl_kern_dlayer_flag_check(rt), MCL_ERR_INTERNAL);
    assert_non_null(strstr(mcl_last_error(), "timed out"));
    assert_int_equal(mcl_kern_dlayer_ready(rt, 1, 16, 32, L.nx, &ready), MCL_OK);
    assert_false(ready);
    layer_free(&L);
}

static void test_timeout(void **state)
{
    (void)state;
    mcl_runtime *rt = runtime();
    timeout_case(rt);
    mcl_runtime_free(rt);
}

/* The device-wide barriers (DL_BAR, cl/dlayer.cl), the L2 prefetches
 * (DL_PF) and the per-dtype copies of the GEMV loops (DL_SPEC): the
 * default's (on GPUs DL_BAR 1, PTX where on, DL_SPEC 1) and DL_BAR 2 (one
 * word, OpenCL atomics) with prefetches and DL_SPEC 1 give h after two steps
 * bitwise equal to the counter tree's without prefetches (0: the fallback,
 * the default on CPUs, with DL_SPEC 0 there; the same arithmetic: a barrier
 * that let a group read before the others had written would not), their
 * probes pass, and a barrier that cannot complete times out under 0 and 2
 * as under the default (test_timeout). */
static mcl_runtime *runtime_set(const char *set)
{
    setenv("MAMBACL_TUNE_SET", set, 1);
    mcl_runtime *rt = runtime();
    unsetenv("MAMBACL_TUNE_SET");
    return rt;
}

static void test_barriers(void **state)
{
    float want[64], got[64];
    mcl_runtime *rt = runtime_set("DL_BAR=0,DL_PF=0");
    trand_seed(0x5eed0du);
    run_layer_keep(rt, 64, 128, 4, 16, 4, MCL_DTYPE_F16, true, 0, 2, want);
    timeout_case(rt);
    mcl_runtime_free(rt);
    trand_seed(0x5eed0du); /* the same layer */
    run_layer_keep(*state, 64, 128, 4, 16, 4, MCL_DTYPE_F16, true, 0, 2, got);
    if (memcmp(got, want, sizeof got) != 0) fail_msg("the default barrier: h differs from the counter tree's");
    rt = runtime_set("DL_BAR=2,DL_PF=1,DL_SPEC=1");
    trand_seed(0x5eed0du);
    run_layer_keep(rt, 64, 128, 4, 16, 4, MCL_DTYPE_F16, true, 0, 2, got);
    if (memcmp(got, want, sizeof got) != 0) fail_msg("DL_BAR=2, DL_SPEC=1: h differs from the counter tree's");
    timeout_case(rt);
    mcl_runtime_free(rt);
    rt = runtime_set("DL_BAR=4"); /* the flag barrier (session 18; PTX only, else the tree) */
    trand_seed(0x5eed0du);
    run_layer_keep(rt, 64, 128, 4, 16, 4, MCL_DTYPE_F16, true, 0, 2, got);
    if (memcmp(got, want, sizeof got) != 0) fail_msg("DL_BAR=4: h differs from the counter tree's");
    timeout_case(rt);
    mcl_runtime_free(rt);
    rt = runtime_set("DL_PF=2,DL_PFA=2"); /* the early prefetches (session 17) */
    trand_seed(0x5eed0du);
    run_layer_keep(rt, 64, 128, 4, 16, 4, MCL_DTYPE_F16, true, 0, 2, got);
    if (memcmp(got, want, sizeof got) != 0) fail_msg("DL_PF=2, DL_PFA=2: h differs from the counter tree's");
    mcl_runtime_free(rt);
}

/* Greedy decode of the bundled model, 12 steps after a prompt, path on / off. */
static int decode_tokens(bool persistent, int32_t *toks, float *last, int n)
{
    if (!persistent) setenv("MAMBACL_DISABLE", "persistent", 1);
    else setenv("MAMBACL_TUNE_SET", "DL_MAX_DINNER=1000000", 1); /* the dispatch rule may keep it off (CPUs) */
    mcl_runtime *rt = runtime();
    unsetenv("MAMBACL_TUNE_SET");
    mcl_model *m = NULL;
    assert_int_equal(mcl_model_load(rt, fwd_model_dir(), &m), MCL_OK);
    int v = mcl_model_vocab(m);
    assert_true(v <= 65536);
    float *logits = malloc((size_t)v * 4);
    mcl_state *s = NULL;
    assert_int_equal(mcl_state_create(m, &s), MCL_OK);
    const int32_t prompt[] = {47, 30, 37, 49, 1, 20, 35}, *pp = prompt;
    int len = 7;
    assert_int_equal(mcl_prefill(m, &s, &pp, &len, 1, logits), MCL_OK);
    for (int i = 0; i < n; i++) {
        int32_t t = fwd_argmax_f(logits, v);
        toks[i] = t;
        assert_int_equal(mcl_decode(m, &s, &t, 1, logits), MCL_OK);
    }
    memcpy(last, logits, (size_t)v * 4);
    assert_int_equal(rt->dlayer.state == 1, persistent);
    unsetenv("MAMBACL_DISABLE");
    free(logits);
    mcl_state_free(s);
    mcl_model_free(m);
    mcl_runtime_free(rt);
    return v;
}

static void test_model_same(void **state)
{
    (void)state;
    int32_t on[12], off[12];
    float *lon = malloc(65536 * 4), *loff = malloc(65536 * 4);
    int v = decode_tokens(true, on, lon, 12);
    assert_int_equal(decode_tokens(false, off, loff, 12), v);
    for (int i = 0; i < 12; i++) assert_int_equal(on[i], off[i]);
    check_close(lon, loff, (size_t)v, 1e-4, "last logits, persistent vs chain");
    free(lon), free(loff);
}


/* ---- several layers per launch ------------------------------------------ */

#define ML_STEPS 4
#define ML_V 96

typedef struct ml_out {
    float logits[ML_STEPS][ML_V]; /* of the first state */
    float loaded[ML_STEPS][ML_V]; /* steps 2.. of the state loaded after the growth */
    int dlayer_launches;          /* in the first two steps */
    int n_arena, arena_per, pool_per;
} ml_out;

/* A random model of 5 layers (odd sizes) on a runtime with the tunables
 * `set` (NULL: the persistent path off): prefill, 2 decode steps, the state
 * saved, 3 more states created (the pool grows 1 -> 4), the saved state
 * loaded into the last, then 2 more steps of both. */
static void ml_run(const char *set, uint64_t max_buffer, ml_out *o)
{
    if (set) setenv("MAMBACL_TUNE_SET", set, 1);
    else setenv("MAMBACL_DISABLE", "persistent", 1);
    mcl_runtime *rt = runtime();
    unsetenv("MAMBACL_TUNE_SET");
    mcl_config c = {.d_model = 40, .n_layer = 5, .d_inner = 88, .d_state = 16, .d_conv = 4, .dt_rank = 3,
                    .vocab_size = ML_V, .norm_eps = 1e-5f, .tie_embeddings = true, .conv_bias = true};
    mcl_weights *w = NULL;
    assert_int_equal(mcl_weights_random(&c, MCL_DTYPE_F16, 77, &w), MCL_OK);
    mcl_model_options opts = {0};
    opts.max_buffer_bytes = max_buffer;
    mcl_model *m = NULL;
    if (mcl_model_upload(rt, w, &opts, &m) != MCL_OK) fail_msg("upload: %s", mcl_last_error());
    mcl_weights_free(w);
    assert_int_equal(mcl_runtime_set_profiling(rt, true), MCL_OK);
    mcl_state *s[4] = {0};
    assert_int_equal(mcl_state_create(m, &s[0]), MCL_OK);
    const int32_t prompt[] = {5, 90, 17, 33, 2}, *pp = prompt;
    int len = 5;
    float tmp[ML_V];
    char file[64];
    snprintf(file, sizeof file, "/tmp/mcl-test-dlayer-%d.bin", (int)getpid());
    assert_int_equal(mcl_prefill(m, &s[0], &pp, &len, 1, tmp), MCL_OK);
    for (int t = 0; t < ML_STEPS; t++) {
        if (t == 2) {
            o->dlayer_launches = 0;
            for (int i = 0; i < rt->n_prof; i++) o->dlayer_launches += strcmp(rt->prof[i].kernel, "dlayer") == 0;
            assert_int_equal(mcl_state_save(s[0], file), MCL_OK);
            for (int i = 1; i < 4; i++) assert_int_equal(mcl_state_create(m, &s[i]), MCL_OK);
            assert_int_equal(m->pool.cap, 4);
            assert_int_equal(mcl_state_load(s[3], file), MCL_OK);
            remove(file);
        }
        int32_t tok = (int32_t)((t * 37 + 11) % ML_V);
        assert_int_equal(mcl_decode(m, &s[0], &tok, 1, o->logits[t]), MCL_OK);
        if (t >= 2) assert_int_equal(mcl_decode(m, &s[3], &tok, 1, o->loaded[t]), MCL_OK);
    }
    assert_int_equal(rt->dlayer.state == 1, set != NULL);
    o->n_arena = m->n_arena, o->arena_per = m->arena_per, o->pool_per = m->pool.per;
    unsetenv("MAMBACL_DISABLE");
    for (int i = 0; i < 4; i++) mcl_state_free(s[i]);
    mcl_model_free(m);
    mcl_runtime_free(rt);
}

static void ml_same(const ml_out *a, const ml_out *b, const char *what)
{
    if (memcmp(a->logits, b->logits, sizeof a->logits) != 0) fail_msg("%s: logits differ from DL_LPL=1's", what);
    if (memcmp(&a->loaded[2], &b->loaded[2], sizeof a->loaded[0] * (ML_STEPS - 2)) != 0)
        fail_msg("%s: the loaded state's logits differ from DL_LPL=1's", what);
}

static void test_layers_per_launch(void **state)
{
    (void)state;
    static ml_out chain, one, two, three, all, fone, fall, none, single, pf;
    ml_run(NULL, 0, &chain);
    setenv("MAMBACL_DISABLE", "arenas", 1); /* every weight in a buffer of its own: one layer per launch */
    ml_run("DL_MAX_DINNER=1000000", 0, &none);
    unsetenv("MAMBACL_DISABLE");
    assert_int_equal(none.n_arena, 0);
    assert_int_equal(none.dlayer_launches, 2 * 5);
    ml_run("DL_MAX_DINNER=1000000,DL_LPL=1", 0, &one);
    ml_run("DL_MAX_DINNER=1000000,DL_LPL=2", 0, &two);
    ml_run("DL_MAX_DINNER=1000000,DL_LPL=3", 0, &three);
    ml_run("DL_MAX_DINNER=1000000", 0, &all);
    ml_run("DL_MAX_DINNER=1000000,DL_MULTI=0", 0, &single); /* no layer loop: DL_LPL is capped at 1 */
    ml_run("DL_MAX_DINNER=1000000,DL_PF=3,DL_PFA=3", 0, &pf); /* prefetches of the next layer too (PTX only) */
    for (int t = 0; t < ML_STEPS; t++) {
        check_close(one.logits[t], chain.logits[t], ML_V, 1e-4, "DL_LPL=1 vs the chain");
        if (t >= 2) check_close(one.loaded[t], one.logits[t], ML_V, 0.0, "the loaded state vs the first");
        if (t >= 2) check_close(chain.loaded[t], chain.logits[t], ML_V, 0.0, "chain: the loaded state vs the first");
    }
    ml_same(&two, &one, "DL_LPL=2");
    ml_same(&three, &one, "DL_LPL=3");
    ml_same(&all, &one, "DL_LPL default");
    ml_same(&none, &one, "MAMBACL_DISABLE=arenas");
    ml_same(&single, &one, "DL_MULTI=0");
    ml_same(&pf, &one, "DL_PF=3,DL_PFA=3");
    assert_int_equal(single.n_arena, 1);
    assert_int_equal(single.dlayer_launches, 2 * 5);
    assert_int_equal(all.n_arena, 1);
    assert_int_equal(all.arena_per, 5);
    assert_int_equal(one.dlayer_launches, 2 * 5);
    assert_int_equal(two.dlayer_launches, 2 * 3);
    assert_int_equal(three.dlayer_launches, 2 * 2);
    assert_int_equal(all.dlayer_launches, 2 * 1);
    /* an arena of 2 layers: max_buffer just above two layers' weights (the
     * state buffers then hold fewer than 5 layers of 4 slots: the groups
     * change as the pool grows) */
    mcl_config c = {.d_model = 40, .n_layer = 5, .d_inner = 88, .d_state = 16, .d_conv = 4, .dt_rank = 3,
                    .vocab_size = ML_V, .norm_eps = 1e-5f, .tie_embeddings = true, .conv_bias = true};
    uint64_t stride = 0;
    {
        mcl_runtime *rt = runtime();
        mcl_weights *w = NULL;
        mcl_model *m = NULL;
        assert_int_equal(mcl_weights_random(&c, MCL_DTYPE_F16, 77, &w), MCL_OK);
        assert_int_equal(mcl_model_upload(rt, w, NULL, &m), MCL_OK);
        stride = m->arena_stride;
        mcl_weights_free(w);
        mcl_model_free(m);
        mcl_runtime_free(rt);
    }
    uint64_t mb = 2 * stride + 64;
    uint64_t pool_per = mb / (4 * 88 * 16 * 4); /* layers of 4 ssm slots per buffer */
    assert_true(pool_per >= 1 && pool_per < 5);
    ml_run("DL_MAX_DINNER=1000000,DL_LPL=1", mb, &fone);
    ml_run("DL_MAX_DINNER=1000000", mb, &fall);
    assert_int_equal(fall.n_arena, 3);
    assert_int_equal(fall.arena_per, 2);
    assert_int_equal(fall.pool_per, (int)pool_per); /* all 5 layers in one group before the growth */
    assert_int_equal(fall.dlayer_launches, 2 * 3); /* 2 + 2 + 1 */
    ml_same(&fone, &one, "max_buffer of 2 layers, DL_LPL=1");
    ml_same(&fall, &one, "max_buffer of 2 layers, DL_LPL default");
    for (int t = 2; t < ML_STEPS; t++) check_close(fall.loaded[t], fall.logits[t], ML_V, 0.0, "the loaded state");
}

/* ---- the chained greedy decode (src/model/chain.c) ---------------------- */

#define GC_STEPS 40 /* windows of MCL_CHAIN_RING / 2 = 8: five, the ring of 16 wrapped twice */
#define GC_V 4096    /* the bundled model's vocabulary fits */

typedef struct gc_out {
    int32_t ids[GC_STEPS];
    int n, vocab;
    float after[GC_V]; /* the logits of one more mcl_decode, of ids[n - 1] */
    int picks;         /* greedy_pick launches */
    uint64_t stride;   /* the model's arena stride */
    int n_arena;
} gc_out;

/* The bundled model (max_buffer mb; 0: the device's) on a runtime with the
 * tunables `set` (NULL: the persistent path off): a prompt, then `steps`
 * greedy steps stopping after stop_id (-1: none), by mcl_decode_greedy
 * (chained) or by the host loop of mcl_decode and fwd_argmax_f. */
static void gc_run(const char *set, uint64_t mb, bool chained, int steps, int32_t stop_id, gc_out *o)
{
    if (set) setenv("MAMBACL_TUNE_SET", set, 1);
    else setenv("MAMBACL_DISABLE", "persistent", 1);
    mcl_runtime *rt = runtime();
    unsetenv("MAMBACL_TUNE_SET");
    mcl_model_options opts = {.max_buffer_bytes = mb};
    mcl_model *m = NULL;
    if (mcl_model_load_ex(rt, fwd_model_dir(), &opts, &m) != MCL_OK) fail_msg("load: %s", mcl_last_error());
    memset(o, 0, sizeof *o);
    o->vocab = mcl_model_vocab(m);
    o->stride = m->arena_stride;
    o->n_arena = m->n_arena;
    assert_true(o->vocab <= GC_V);
    assert_int_equal(mcl_runtime_set_profiling(rt, true), MCL_OK);
    mcl_state *s = NULL;
    assert_int_equal(mcl_state_create(m, &s), MCL_OK);
    const int32_t prompt[] = {47, 30, 37, 49, 1, 20, 35}, *pp = prompt;
    int len = 7;
    float *logits = malloc((size_t)o->vocab * 4);
    assert_int_equal(mcl_prefill(m, &s, &pp, &len, 1, logits), MCL_OK);
    int32_t tok = fwd_argmax_f(logits, o->vocab);
    if (chained) {
        if (mcl_decode_greedy(m, s, tok, steps, &stop_id, stop_id >= 0, o->ids, &o->n) != MCL_OK)
            fail_msg("greedy decode: %s", mcl_last_error());
    } else {
        for (bool stop = false; o->n < steps && !stop; stop = tok == stop_id) {
            assert_int_equal(mcl_decode(m, &s, &tok, 1, logits), MCL_OK);
            tok = o->ids[o->n++] = fwd_argmax_f(logits, o->vocab);
        }
    }
    assert_int_equal(rt->dlayer.state == 1, set != NULL);
    for (int i = 0; i < rt->n_prof; i++) o->picks += strcmp(rt->prof[i].kernel, "greedy_pick") == 0;
    assert_int_equal(mcl_decode(m, &s, &o->ids[o->n - 1], 1, o->after), MCL_OK);
    if (!set) unsetenv("MAMBACL_DISABLE"); /* else the caller's (chain) */
    free(logits);
    mcl_state_free(s);
    mcl_model_free(m);
    mcl_runtime_free(rt);
}

static void gc_same(const gc_out *got, const gc_out *want, const char *what)
{
    if (got->n != want->n) fail_msg("%s: %d ids, the host loop %d", what, got->n, want->n);
    for (int i = 0; i < want->n; i++)
        if (got->ids[i] != want->ids[i]) fail_msg("%s: id %d is %d, the host loop's %d", what, i, got->ids[i], want->ids[i]);
    check_close(got->after, want->after, (size_t)want->vocab, 0.0, what); /* the same state: the same kernels after */
}

/* Chained == the host loop (ids, and the state through the logits of one
 * more step), with a stop inside the run (the steps enqueued after it are
 * no-ops: the host looks one window behind), with 3 arenas (3 launches per
 * step, each halted), MAMBACL_DISABLE=chain and the persistent path off (the
 * host loop inside mcl_decode_greedy); bad arguments refused. */
static void test_greedy_chain(void **state)
{
    (void)state;
    static gc_out host, got, host_stop, got_stop, host_mb, mb_stop, off, nopers;
    const char *on = "DL_MAX_DINNER=1000000";
    gc_run(on, 0, false, GC_STEPS, -1, &host);
    gc_run(on, 0, true, GC_STEPS, -1, &got);
    gc_same(&got, &host, "chained, no stop");
    assert_int_equal(host.picks, 0);
    assert_int_equal(got.picks, GC_STEPS);
    int k = -1; /* the latest id below step 30 that does not come earlier */
    for (int i = 1; i < 30; i++) {
        bool first = true;
        for (int j = 0; j < i; j++) first = first && host.ids[j] != host.ids[i];
        if (first) k = i;
    }
    if (k < 9) fail_msg("the greedy ids repeat from step 9 on: no stop id past the first window to test");
    gc_run(on, 0, false, GC_STEPS, host.ids[k], &host_stop);
    assert_int_equal(host_stop.n, k + 1);
    gc_run(on, 0, true, GC_STEPS, host.ids[k], &got_stop);
    gc_same(&got_stop, &host_stop, "chained, a stop id");
    int ahead = (k / (MCL_CHAIN_RING / 2) + 2) * (MCL_CHAIN_RING / 2); /* steps enqueued: one window past the stop's */
    assert_int_equal(got_stop.picks, ahead < GC_STEPS ? ahead : GC_STEPS);
    assert_true(got_stop.picks > got_stop.n);
    gc_run(on, 2 * host.stride + 64, false, GC_STEPS, host.ids[k], &host_mb); /* arenas of 2, 2, 2 layers */
    gc_run(on, 2 * host.stride + 64, true, GC_STEPS, host.ids[k], &mb_stop);
    assert_int_equal(mb_stop.n_arena, 3);
    gc_same(&mb_stop, &host_mb, "chained over 3 arenas, a stop id");
    setenv("MAMBACL_DISABLE", "chain", 1);
    gc_run(on, 0, true, GC_STEPS, host.ids[k], &off);
    unsetenv("MAMBACL_DISABLE");
    gc_same(&off, &host_stop, "MAMBACL_DISABLE=chain");
    assert_int_equal(off.picks, 0);
    gc_run(NULL, 0, true, 12, -1, &nopers); /* the persistent path off: the host loop */
    assert_int_equal(nopers.n, 12);
    assert_int_equal(nopers.picks, 0);

    mcl_runtime *rt = runtime();
    mcl_model *m = NULL;
    assert_int_equal(mcl_model_load(rt, fwd_model_dir(), &m), MCL_OK);
    mcl_state *s = NULL;
    assert_int_equal(mcl_state_create(m, &s), MCL_OK);
    int32_t out[4], stop[MCL_GREEDY_MAX_STOP + 1] = {0};
    int n = 7;
    assert_int_equal(mcl_decode_greedy(m, s, 1, 0, NULL, 0, out, &n), MCL_ERR_INVALID_ARG);
    assert_int_equal(n, 0);
    assert_int_equal(mcl_decode_greedy(m, s, 1, 4, stop, MCL_GREEDY_MAX_STOP + 1, out, &n), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_decode_greedy(m, s, 1, 4, NULL, 1, out, &n), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_decode_greedy(m, s, mcl_model_vocab(m), 4, NULL, 0, out, &n), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_decode_greedy(m, NULL, 1, 4, NULL, 0, out, &n), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_decode_greedy(m, s, 1, 4, NULL, 0, NULL, &n), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_decode_greedy(NULL, s, 1, 4, NULL, 0, out, &n), MCL_ERR_INVALID_ARG);
    mcl_state_free(s);
    mcl_model_free(m);
    mcl_runtime_free(rt);
}

/* A launch of all 5 layers whose barriers wait for a group that does not
 * exist: the step reports the timeout, the path turns itself off, and the
 * next step runs the chain. */
static void test_layers_timeout(void **state)
{
    (void)state;
    setenv("MAMBACL_TUNE_SET", "DL_MAX_DINNER=1000000", 1);
    mcl_runtime *rt = runtime();
    unsetenv("MAMBACL_TUNE_SET");
    mcl_config c = {.d_model = 40, .n_layer = 5, .d_inner = 88, .d_state = 16, .d_conv = 4, .dt_rank = 3,
                    .vocab_size = ML_V, .norm_eps = 1e-5f, .tie_embeddings = true, .conv_bias = true};
    mcl_model *m = NULL;
    assert_int_equal(mcl_model_create_random(rt, &c, MCL_DTYPE_F16, 77, &m), MCL_OK);
    mcl_state *s = NULL;
    assert_int_equal(mcl_state_create(m, &s), MCL_OK);
    float logits[ML_V];
    int32_t tok = 3;
    assert_int_equal(mcl_decode(m, &s, &tok, 1, logits), MCL_OK);
    assert_int_equal(rt->dlayer.state, 1);
    setenv("MAMBACL_TEST_DLAYER_PHANTOM", "1", 1);
    setenv("MAMBACL_TEST_DLAYER_SPIN", "1000", 1);
    assert_int_equal(mcl_decode(m, &s, &tok, 1, logits), MCL_ERR_INTERNAL);
    unsetenv("MAMBACL_TEST_DLAYER_PHANTOM");
    unsetenv("MAMBACL_TEST_DLAYER_SPIN");
    assert_non_null(strstr(mcl_last_error(), "timed out"));
    assert_int_equal(rt->dlayer.state, -1);
    assert_int_equal(mcl_decode(m, &s, &tok, 1, logits), MCL_OK); /* the chain */
    mcl_state_free(s);
    mcl_model_free(m);
    mcl_runtime_free(rt);
}

static int setup(void **state)
{
    trand_seed(0x9e3779b97f4a7c15ull);
    mcl_runtime *rt = NULL;
    if (mcl_runtime_create(NULL, &rt) != MCL_OK) {
        fprintf(stderr, "runtime: %s\n", mcl_last_error());
        return -1;
    }
    *state = rt;
    return 0;
}

static int teardown(void **state)
{
    mcl_runtime_free(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layer_ref),  cmocka_unit_test(test_bad_args), cmocka_unit_test(test_probe_wrong),
        cmocka_unit_test(test_disabled),   cmocka_unit_test(test_timeout),  cmocka_unit_test(test_barriers),
        cmocka_unit_test(test_model_same), cmocka_unit_test(test_layers_per_launch),
        cmocka_unit_test(test_layers_timeout), cmocka_unit_test(test_greedy_chain),
    };
    const char *filter = getenv("MCL_TEST_FILTER"); /* e.g. "test_greedy*" */
    if (filter && *filter) cmocka_set_test_filter(filter);
    return cmocka_run_group_tests(tests, setup, teardown);
}
