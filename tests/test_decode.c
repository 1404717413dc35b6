/* The fused decode kernels (gemv_in, gemv_split, ssm_step_parts) against the
 * C references (tests/ref) at odd sizes, every weight dtype, batches whose
 * states have unequal histories (different conv/SSM states, permuted slots),
 * and every F16 conversion variant of gemv.cl (GEMV_F16 0, 1; 2 where the
 * device has cl_khr_fp16: each one the fallback of another). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/half.h"
#include "ops/kern_decode.h"
#include "ops/kern_gmma.h"
#include "ops/kern_rgemv.h"
#include "ops/kern_scan.h"
#include "runtime/program.h"
#include "tune/tune.h"
#include "runtime/runtime.h"
#include "ref/ref_kernels.h"
#include "ref/ref_scan.h"
#include "test_rand.h"

static mcl_runtime *rt;
static float frand(void) { return trand(); }
static float *rand_floats(size_t n, float lo, float hi) { return trand_floats(n, lo, hi); }
static void *rand_weights(size_t n, mcl_dtype dt) { return trand_weights(n, dt, 1.0f); }
static cl_mem upload(const void *host, size_t bytes) { return tbuf_upload(rt, host, bytes); }
static void download(cl_mem m, void *host, size_t bytes) { tbuf_download(rt, m, host, bytes); }

static double worst_abs, worst_rel;

static void check_close(const float *got, const float *want, size_t n, double rtol, double atol, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]);
        if (e > worst_abs) worst_abs = e;
        if (fabs(want[i]) > 1e-3 && e / fabs(want[i]) > worst_rel) worst_rel = e / fabs(want[i]);
        if (!(e <= atol + rtol * fabs(want[i])))
            fail_msg("%s: element %zu is %.9g, reference %.9g", what, i, got[i], want[i]);
    }
}

/* Rebuilds gemv.cl with GEMV_F16 = f16 (the runtime's other tunables kept). */
static void rebuild_gemv(long f16)
{
    mcl_params p = *mcl_runtime_params(rt, "gemv.cl");
    mcl_params_set(&p, "GEMV_F16", f16);
    assert_int_equal(mcl_runtime_rebuild(rt, "gemv.cl", &p), MCL_OK);
}

/* B rows of gemv_in (norm + conv on the first n_conv rows) against
 * rmsnorm + gemv + conv_step of the references. slots: permuted, so each
 * row's conv state (random: a history) lives in another slot. */
static void run_gemv_in(int O, int I, int B, int n_conv, int K, mcl_dtype dt, bool bias)
{
    int slot[64], cap = B + 2;
    assert_true(B <= 64);
    for (int b = 0; b < B; b++) slot[b] = cap - 1 - b; /* distinct, reversed */
    size_t se = (size_t)(n_conv ? n_conv : 1) * (size_t)(K - 1), off = 3;
    void *W = rand_weights((size_t)O * I, dt);
    float *h = rand_floats((size_t)B * I, -2.0f, 2.0f), *nw = rand_floats((size_t)I, 0.5f, 1.5f);
    float *cw = rand_floats((size_t)(n_conv ? n_conv : 1) * K, -0.5f, 0.5f);
    float *cb = rand_floats((size_t)(n_conv ? n_conv : 1), -0.5f, 0.5f);
    float *st = rand_floats(off + (size_t)cap * se, -1.0f, 1.0f), *st_ref = malloc((off + (size_t)cap * se) * 4);
    memcpy(st_ref, st, (off + (size_t)cap * se) * 4);
    float *hn = malloc((size_t)B * I * 4), *want = malloc((size_t)B * O * 4), *got = malloc((size_t)B * O * 4);
    float *xc_ref = malloc((size_t)B * (n_conv ? n_conv : 1) * 4);
    float *xc = malloc((size_t)B * (n_conv ? n_conv : 1) * 4), *hcopy = malloc((size_t)B * I * 4);
    memcpy(hcopy, h, (size_t)B * I * 4);
    ref_rmsnorm_residual(hcopy, NULL, nw, 1e-5f, hn, NULL, B, I);
    ref_gemv(W, dt, hn, want, O, I, B, 0);
    if (n_conv) {
        /* the conv's x: the first n_conv outputs of each row */
        ref_conv_step(want, O, cw, bias ? cb : NULL, st_ref, off, slot, se, B, n_conv, K, xc_ref);
    }
    cl_mem bW = upload(W, (size_t)O * I * mcl_half_dtype_size(dt)), bh = upload(h, (size_t)B * I * 4);
    cl_mem bnw = upload(nw, (size_t)I * 4), by = upload(NULL, (size_t)B * O * 4);
    cl_mem bcw = upload(cw, (size_t)(n_conv ? n_conv : 1) * K * 4), bcb = upload(cb, (size_t)(n_conv ? n_conv : 1) * 4);
    cl_mem bst = upload(st, (off + (size_t)cap * se) * 4), bslot = upload(slot, (size_t)B * 4);
    cl_mem bxc = upload(NULL, (size_t)B * (n_conv ? n_conv : 1) * 4);
    mcl_kern_conv cv = {bcw, bias ? bcb : NULL, {bst, off, bslot, se}, K, n_conv, bxc};
    assert_int_equal(mcl_kern_gemv_in(rt, bW, dt, bh, by, O, I, B, bnw, 1e-5f, n_conv ? &cv : NULL), MCL_OK);
    download(by, got, (size_t)B * O * 4);
    char what[128];
    snprintf(what, sizeof what, "gemv_in O %d I %d B %d conv %d K %d dtype %d", O, I, B, n_conv, K, (int)dt);
    check_close(got, want, (size_t)B * O, 2e-4, 2e-4, what);
    if (n_conv) {
        download(bxc, xc, (size_t)B * n_conv * 4);
        strcat(what, " xc");
        check_close(xc, xc_ref, (size_t)B * n_conv, 2e-4, 2e-4, what);
        download(bst, st, (off + (size_t)cap * se) * 4);
        strcat(what, " state");
        check_close(st, st_ref, off + (size_t)cap * se, 2e-4, 2e-4, what);
    }
    cl_mem all[] = {bW, bh, bnw, by, bcw, bcb, bst, bslot, bxc};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) mcl_buffer_release(&all[i]);
    free(W), free(h), free(nw), free(cw), free(cb), free(st), free(st_ref), free(hn), free(want), free(got);
    free(xc_ref), free(xc), free(hcopy);
}

/* gemv_split with n splits: the sum of the partials against ref_gemv. */
static void run_gemv_split(int O, int I, int B, int n, mcl_dtype dt)
{
    void *W = rand_weights((size_t)O * I, dt);
    float *x = rand_floats((size_t)B * I, -1.0f, 1.0f), *want = malloc((size_t)B * O * 4);
    uint64_t stride = (uint64_t)B * O + 5;
    float *parts = malloc((size_t)stride * n * 4), *got = calloc((size_t)B * O, 4);
    ref_gemv(W, dt, x, want, O, I, B, 0);
    cl_mem bW = upload(W, (size_t)O * I * mcl_half_dtype_size(dt)), bx = upload(x, (size_t)B * I * 4);
    cl_mem by = upload(NULL, (size_t)stride * n * 4);
    assert_int_equal(mcl_kern_gemv_split(rt, bW, dt, bx, by, O, I, B, n, stride), MCL_OK);
    download(by, parts, (size_t)stride * n * 4);
    for (int p = 0; p < n; p++)
        for (size_t i = 0; i < (size_t)B * O; i++) got[i] += parts[(size_t)p * stride + i];
    char what[128];
    snprintf(what, sizeof what, "gemv_split O %d I %d B %d splits %d dtype %d", O, I, B, n, (int)dt);
    check_close(got, want, (size_t)B * O, 2e-4, 2e-4, what);
    mcl_buffer_release(&bW), mcl_buffer_release(&bx), mcl_buffer_release(&by);
    free(W), free(x), free(want), free(parts), free(got);
}

static void test_gemv_in(void **state)
{
    (void)state;
    long def = mcl_params_get(mcl_runtime_params(rt, MCL_F_GEMV), MCL_T_GEMV_F16, 0);
    for (int dt = 0; dt < 3; dt++) {
        run_gemv_in(37, 64, 1, 13, 4, (mcl_dtype)dt, true);
        run_gemv_in(74, 261, 3, 37, 4, (mcl_dtype)dt, false);
        run_gemv_in(19, 8, 9, 0, 2, (mcl_dtype)dt, true); /* LM head: norm only, batch past a tile */
        run_gemv_in(40, 136, 2, 20, 3, (mcl_dtype)dt, true);
    }
    /* the other F16 conversions (the fallbacks of each other; 2 needs cl_khr_fp16) */
    const long f16s[] = {0, 1, 2};
    for (int f = 0; f < (rt->dev.has_fp16 ? 3 : 2); f++) {
        if (f16s[f] == def) continue;
        rebuild_gemv(f16s[f]);
        run_gemv_in(37, 64, 1, 13, 4, MCL_DTYPE_F16, true);
        run_gemv_in(74, 261, 3, 37, 4, MCL_DTYPE_F16, false);
        run_gemv_in(40, 136, 2, 20, 3, MCL_DTYPE_F16, true);
    }
    rebuild_gemv(def); /* back to the default */
    /* teams of 4 lanes (the team sum: shuffles or local memory), 3 rows per
     * team at batch 1 (GEMV_RPL_IN) but 1 in the tiles */
    mcl_params keep = *mcl_runtime_params(rt, MCL_F_GEMV), p = keep;
    mcl_params_set(&p, MCL_T_GEMV_WG, 32);
    mcl_params_set(&p, MCL_T_GEMV_LPR, 4);
    mcl_params_set(&p, MCL_T_GEMV_RPL, 1);
    mcl_params_set(&p, MCL_T_GEMV_RPL_IN, 3);
    mcl_params_set(&p, MCL_T_GEMV_BT, 2);
    assert_int_equal(mcl_runtime_rebuild(rt, MCL_F_GEMV, &p), MCL_OK);
    for (int dt = 0; dt < 3; dt++) {
        run_gemv_in(37, 64, 1, 13, 4, (mcl_dtype)dt, true);
        run_gemv_in(74, 261, 3, 37, 4, (mcl_dtype)dt, false);
        run_gemv_in(19, 8, 1, 0, 2, (mcl_dtype)dt, true);
    }
    assert_int_equal(mcl_runtime_rebuild(rt, MCL_F_GEMV, &keep), MCL_OK);
    printf("gemv_in: max abs err %.3g, max rel err %.3g\n", worst_abs, worst_rel);
}

static void test_gemv_split(void **state)
{
    (void)state;
    for (int dt = 0; dt < 3; dt++) {
        run_gemv_split(11, 261, 1, 1, (mcl_dtype)dt);
        run_gemv_split(11, 261, 2, 3, (mcl_dtype)dt);
        run_gemv_split(48, 512, 5, 8, (mcl_dtype)dt);
        run_gemv_split(7, 20, 1, 8, (mcl_dtype)dt); /* more splits than vectors: empty splits */
    }
    assert_true(mcl_kern_gemv_split_count(rt, 80, 1536, 1) >= 1);
    assert_true(mcl_kern_gemv_split_count(rt, 80, 1536, 1) <= MCL_GEMV_MAX_SPLIT);
}

/* y = y0 + W . x (accumulate; else y = W . x) through mcl_kern_gemv against ref_gemv. */
static void run_gemv_y(int O, int I, int B, mcl_dtype dt, bool acc)
{
    void *W = rand_weights((size_t)O * I, dt);
    float *x = rand_floats((size_t)B * I, -1.0f, 1.0f), *y0 = rand_floats((size_t)B * O, -1.0f, 1.0f);
    float *want = malloc((size_t)B * O * 4), *got = malloc((size_t)B * O * 4);
    ref_gemv(W, dt, x, want, O, I, B, 0);
    for (size_t i = 0; acc && i < (size_t)B * O; i++) want[i] += y0[i];
    cl_mem bW = upload(W, (size_t)O * I * mcl_half_dtype_size(dt)), bx = upload(x, (size_t)B * I * 4);
    cl_mem by = upload(y0, (size_t)B * O * 4);
    assert_int_equal(mcl_kern_gemv(rt, bW, dt, bx, by, O, I, B, acc), MCL_OK);
    download(by, got, (size_t)B * O * 4);
    char what[128];
    snprintf(what, sizeof what, "gemv accumulate %d O %d I %d B %d dtype %d", (int)acc, O, I, B, (int)dt);
    check_close(got, want, (size_t)B * O, 2e-4, 2e-4, what);
    mcl_buffer_release(&bW), mcl_buffer_release(&bx), mcl_buffer_release(&by);
    free(W), free(x), free(y0), free(want), free(got);
}

static void run_gemv_acc(int O, int I, int B, mcl_dtype dt) { run_gemv_y(O, I, B, dt, true); }

/* rgemv.cl (the GPUs' batch-1 projections) through the dispatch of
 * mcl_kern_gemv / mcl_kern_gemv_in with RG_ON 1, on this device's defaults
 * and on two configurations that take the other code paths: several chunks
 * per row, rows past a chunk's vectors, a grid stride of many rows per team
 * and none (RG_GPC 0), RG_PF 0 and 1, the local-memory team sum (no shuffles:
 * groups not a multiple of a warp), F16 conversions 0 and 1; odd O, I not a
 * multiple of 8 (unaligned rows) and I below one vector, every dtype,
 * accumulate 0 and 1, conv rows with and without bias. Then the rule's
 * default restored. */
static void test_rgemv(void **state)
{
    (void)state;
    mcl_params keep = *mcl_runtime_params(rt, MCL_F_RGEMV);
    /* WG, LPR, NL, PF, GPC, F16 (-1: the default) */
    const long cfg[3][6] = {{-1, -1, -1, -1, -1, -1}, {8, 4, 2, 1, 1, 0}, {16, 8, 1, 0, 0, 1}};
    const char *names[6] = {MCL_T_RG_WG, MCL_T_RG_LPR, MCL_T_RG_NL, MCL_T_RG_PF, MCL_T_RG_GPC, MCL_T_RG_F16};
    for (int c = 0; c < 3; c++) {
        mcl_params p = keep;
        mcl_params_set(&p, MCL_T_RG_ON, 1);
        for (int t = 0; t < 6; t++)
            if (cfg[c][t] >= 0) mcl_params_set(&p, names[t], cfg[c][t]);
        assert_int_equal(mcl_runtime_rebuild(rt, MCL_F_RGEMV, &p), MCL_OK);
        assert_true(mcl_kern_rgemv_wanted(rt, 1, 1000));
        assert_false(mcl_kern_rgemv_wanted(rt, 2, 1000));
        for (int dt = 0; dt < 3; dt++) {
            run_gemv_in(37, 64, 1, 13, 4, (mcl_dtype)dt, true);
            run_gemv_in(74, 261, 1, 37, 4, (mcl_dtype)dt, false);
            run_gemv_in(19, 8, 1, 0, 2, (mcl_dtype)dt, true); /* LM head: norm only */
            run_gemv_in(301, 1000, 1, 0, 2, (mcl_dtype)dt, true);
            run_gemv_y(37, 43, 1, (mcl_dtype)dt, true);
            run_gemv_y(130, 520, 1, (mcl_dtype)dt, false);
            run_gemv_y(129, 3, 1, (mcl_dtype)dt, true); /* no whole vector */
        }
    }
    assert_int_equal(mcl_runtime_rebuild(rt, MCL_F_RGEMV, &keep), MCL_OK);
    bool cpu = mcl_runtime_device(rt)->type == MCL_DEVICE_TYPE_CPU;
    assert_int_equal(mcl_kern_rgemv_wanted(rt, 1, 1000), !cpu); /* the rule: GPUs */
    setenv("MAMBACL_DISABLE", "cgemv,rgemv", 1);
    assert_false(mcl_kern_rgemv_wanted(rt, 1, 1000));
    unsetenv("MAMBACL_DISABLE");
    uint64_t lm = mcl_runtime_device(rt)->local_mem_bytes;
    assert_false(mcl_kern_rgemv_wanted(rt, 1, (int)(lm / 4 + 1))); /* x does not fit in local memory */
    cl_mem m = upload(NULL, 64);
    assert_int_equal(mcl_kern_rgemv(rt, m, (mcl_dtype)5, m, m, 2, 4, false), MCL_ERR_INVALID_ARG);
    mcl_kern_conv cv = {m, NULL, {m, 0, m, 3}, 1, 2, m};
    assert_int_equal(mcl_kern_rgemv_in(rt, m, MCL_DTYPE_F32, m, m, 4, 4, m, 1e-5f, &cv), MCL_ERR_INVALID_ARG);
    assert_non_null(strstr(mcl_last_error(), "rgemv_in"));
    mcl_buffer_release(&m);
}

/* The tensor-core batch path (gemv_mma.cl; emulated mma without the matrix
 * capability) through the three launchers, with GMMA_MAX_B raised so every
 * batch here takes it: odd and unaligned I, rows past a 16-row tile, batches
 * of one, two and three 8-sequence tiles and past a GMMA_NT tile, empty
 * splits, in two shapes of group (a K split over warps; several row tiles);
 * then the default restored. F32 weights and batch 1 never go there. */
static void test_gmma_batches(void **state)
{
    (void)state;
    mcl_params keep = *mcl_runtime_params(rt, MCL_F_GMMA);
    /* a K split across 2 warps with 2 n8 tiles; 3 row tiles of one warp with one n8 tile */
    const long cfg[2][3] = {{2, 1, 2}, {1, 3, 1}}; /* WARPS, MT, NT */
    for (int c = 0; c < 2; c++)
    for (int dt = 1; dt < 3; dt++) {
        mcl_params p = keep;
        mcl_params_set(&p, MCL_T_GMMA_MAX_B, 64);
        mcl_params_set(&p, MCL_T_GMMA_WARPS, cfg[c][0]);
        mcl_params_set(&p, MCL_T_GMMA_MT, cfg[c][1]);
        mcl_params_set(&p, MCL_T_GMMA_NT, cfg[c][2]);
        if (dt == 1) assert_int_equal(mcl_runtime_rebuild(rt, MCL_F_GMMA, &p), MCL_OK);
        assert_false(mcl_kern_gmma_wanted(rt, MCL_DTYPE_F32, 4));
        assert_false(mcl_kern_gmma_wanted(rt, MCL_DTYPE_F16, 1));
        assert_true(mcl_kern_gmma_wanted(rt, (mcl_dtype)dt, 17));
        run_gemv_in(74, 261, 3, 37, 4, (mcl_dtype)dt, false);
        run_gemv_in(19, 8, 9, 0, 2, (mcl_dtype)dt, true); /* LM head: norm only */
        run_gemv_in(40, 136, 2, 20, 3, (mcl_dtype)dt, true);
        run_gemv_in(33, 96, 17, 16, 4, (mcl_dtype)dt, true); /* two batch tiles */
        run_gemv_split(11, 261, 2, 3, (mcl_dtype)dt);
        run_gemv_split(48, 512, 5, 8, (mcl_dtype)dt);
        run_gemv_split(7, 20, 2, 8, (mcl_dtype)dt); /* empty splits */
        run_gemv_acc(21, 70, 24, (mcl_dtype)dt);
        run_gemv_acc(16, 64, 8, (mcl_dtype)dt);
    }
    assert_int_equal(mcl_runtime_rebuild(rt, MCL_F_GMMA, &keep), MCL_OK);
    printf("gmma: max abs err %.3g, max rel err %.3g\n", worst_abs, worst_rel);
}

/* gemv of F16 rows of special halves (subnormals, zeros of both signs,
 * +-65504, inf, NaN) with x = 1, at B 1 (gemv_1) and B 2 (the tile kernel):
 * the conversion must be exact for every half. */
static void run_gemv_f16_special(const char *what)
{
    enum { O = 5, I = 24, B = 2 };
    uint16_t W[O * I];
    for (int j = 0; j < I; j++) {
        W[0 * I + j] = (uint16_t)((j % 2 ? 0x8000u : 0u) | (uint16_t)(1 + 40 * j)); /* subnormals */
        W[1 * I + j] = 0;
        W[2 * I + j] = 0x3c00; /* 1 */
        W[3 * I + j] = 0x3c00;
        W[4 * I + j] = 0xbc00; /* -1 */
    }
    const uint16_t row1[] = {0x0000, 0x8000, 0x7bff, 0xfbff, 0x3c00, 0x0400, 0x03ff, 0x8400, 0x3555, 0xc000};
    memcpy(W + I, row1, sizeof row1);
    W[2 * I + 5] = 0x7c00; /* +inf */
    W[3 * I + 17] = 0x7e00; /* NaN */
    W[4 * I + 9] = 0xfc00;  /* -inf */
    float x[B * I], want[O], got[B * O];
    for (int i = 0; i < B * I; i++) x[i] = 1.0f;
    for (int o = 0; o < 2; o++) {
        double sum = 0.0;
        for (int j = 0; j < I; j++) sum += (double)mcl_half_to_float(W[o * I + j]);
        want[o] = (float)sum;
    }
    cl_mem bW = upload(W, sizeof W), bx = upload(x, sizeof x), by = upload(NULL, sizeof got);
    for (int nb = 1; nb <= B; nb++) {
        assert_int_equal(mcl_kern_gemv(rt, bW, MCL_DTYPE_F16, bx, by, O, I, nb, false), MCL_OK);
        download(by, got, (size_t)nb * O * 4);
        for (int b = 0; b < nb; b++) {
            char w[96];
            snprintf(w, sizeof w, "gemv of special halves (%s), B %d row %d", what, nb, b);
            check_close(got + b * O, want, 2, 1e-6, 0.0, w);
            if (!(isinf(got[b * O + 2]) && got[b * O + 2] > 0)) fail_msg("%s: +inf row gave %g", w, got[b * O + 2]);
            if (!isnan(got[b * O + 3])) fail_msg("%s: NaN row gave %g", w, got[b * O + 3]);
            if (!(isinf(got[b * O + 4]) && got[b * O + 4] < 0)) fail_msg("%s: -inf row gave %g", w, got[b * O + 4]);
        }
    }
    mcl_buffer_release(&bW), mcl_buffer_release(&bx), mcl_buffer_release(&by);
}

/* Every F16 conversion variant (GEMV_F16 0, 1, 2 with cl_khr_fp16; 1 uses
 * PTX cvt.f32.f16 where MCL_CAP_PTX is on, which MAMBACL_DISABLE=ptx turns
 * off: the bit manipulation). */
static void test_gemv_f16_special(void **state)
{
    (void)state;
    long def = mcl_params_get(mcl_runtime_params(rt, MCL_F_GEMV), MCL_T_GEMV_F16, 0);
    /* gemv.cl's conversions: the batch of 2 stays off gemv_mma.cl, whose
     * tensor cores add a k-group's products with the precision of the
     * largest (row 1 mixes +-65504 with 1/3: 2.4e-4 off on the H200) and
     * whose lo part makes inf * 0 a NaN: exact sums of such rows are not
     * its contract (docs/kernels.md, gemv_mma) */
    rt->gmma_mode = -1;
    run_gemv_f16_special("default");
    for (long f = 0; f < (rt->dev.has_fp16 ? 3 : 2); f++) {
        if (f == def) continue;
        rebuild_gemv(f);
        run_gemv_f16_special(f == 0 ? "GEMV_F16 0" : f == 1 ? "GEMV_F16 1" : "GEMV_F16 2");
    }
    rebuild_gemv(def);
    rt->gmma_mode = 0;
}

/* ssm_step_parts with dbc given as n random partials against ref_ssm_step. */
static void run_step_parts(int B, int d_inner, int R, int N, int n, int dt)
{
    int slot[6], cap = B + 1, nx = R + 2 * N;
    for (int b = 0; b < B; b++) slot[b] = cap - 1 - b;
    float *xc = rand_floats((size_t)B * d_inner, -1, 1), *dbc = rand_floats((size_t)B * nx, -0.5f, 0.5f);
    float *xz = rand_floats((size_t)B * 2 * d_inner, -1, 1), *b_dt = rand_floats((size_t)d_inner, -4, -2);
    float *A = rand_floats((size_t)d_inner * N, -8, -1), *D = rand_floats((size_t)d_inner, 0.5f, 1.5f);
    void *w = rand_weights((size_t)d_inner * R, (mcl_dtype)dt);
    uint64_t se = (uint64_t)d_inner * N, stride = (uint64_t)B * nx + 3;
    float *st = rand_floats((size_t)(cap * se), -1, 1), *st_ref = malloc((size_t)(cap * se) * 4);
    memcpy(st_ref, st, (size_t)(cap * se) * 4);
    float *parts = calloc((size_t)(stride * n), 4), *want = malloc((size_t)B * d_inner * 4);
    float *got = malloc((size_t)B * d_inner * 4);
    for (size_t i = 0; i < (size_t)B * nx; i++) {
        float rest = dbc[i];
        for (int p = 1; p < n; p++) {
            float v = frand() * 0.1f;
            parts[(size_t)p * stride + i] = v;
            rest -= v;
        }
        parts[i] = rest;
        double s = 0; /* the reference gets the same fp32 sum the kernel forms */
        float f = parts[i];
        for (int p = 1; p < n; p++) f += parts[(size_t)p * stride + i];
        s = f;
        dbc[i] = (float)s;
    }
    ref_ssm_step(xc, dbc, xz, w, dt, b_dt, A, D, st_ref, 0, slot, se, B, d_inner, R, N, want);
    cl_mem bxc = upload(xc, (size_t)B * d_inner * 4), bp = upload(parts, (size_t)(stride * n) * 4);
    cl_mem bxz = upload(xz, (size_t)B * 2 * d_inner * 4), bw = upload(w, (size_t)d_inner * R * mcl_half_dtype_size((mcl_dtype)dt));
    cl_mem bb = upload(b_dt, (size_t)d_inner * 4), bA = upload(A, (size_t)d_inner * N * 4);
    cl_mem bD = upload(D, (size_t)d_inner * 4), bst = upload(st, (size_t)(cap * se) * 4);
    cl_mem bslot = upload(slot, (size_t)B * 4), by = upload(NULL, (size_t)B * d_inner * 4);
    mcl_scan_args a = {bxc, bp, bxz, bw, bb, bA, bD, by, (mcl_dtype)dt, d_inner, R, N, (uint64_t)d_inner,
                       2 * d_inner, B};
    mcl_kern_state ks = {bst, 0, bslot, se};
    assert_int_equal(mcl_kern_ssm_step_parts(rt, &a, &ks, B, n, stride), MCL_OK);
    download(by, got, (size_t)B * d_inner * 4);
    char what[128];
    snprintf(what, sizeof what, "ssm_step_parts B %d d_inner %d R %d N %d parts %d dtype %d", B, d_inner, R, N, n, dt);
    check_close(got, want, (size_t)B * d_inner, 2e-4, 2e-4, what);
    download(bst, st, (size_t)(cap * se) * 4);
    check_close(st, st_ref, (size_t)(cap * se), 2e-4, 2e-4, what);
    cl_mem all[] = {bxc, bp, bxz, bw, bb, bA, bD, bst, bslot, by};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) mcl_buffer_release(&all[i]);
    free(xc), free(dbc), free(xz), free(b_dt), free(A), free(D), free(w), free(st), free(st_ref);
    free(parts), free(want), free(got);
}

static void test_ssm_step_parts(void **state)
{
    (void)state;
    for (int dt = 0; dt < 3; dt++) {
        run_step_parts(1, 37, 5, 16, 1, dt);
        run_step_parts(3, 19, 7, 16, 4, dt);
        run_step_parts(5, 24, 3, 5, 8, dt);
    }
}

/* ---- ssm_step.cl configurations: sequences per group, hoisted ranks/states ---- */

/* One state-update case on the host: B sequences (slots reversed, one spare
 * slot), n partial dbc rows per sequence, and the reference result. */
typedef struct step_case {
    int B, d_inner, R, N, n, dt, slot[16];
    uint64_t se;
    float *xc, *parts, *xz, *b_dt, *A, *D, *st, *want_y, *want_st;
    void *w;
} step_case;

static void step_case_make(step_case *c, int B, int d_inner, int R, int N, int n, int dt)
{
    int nx = R + 2 * N;
    *c = (step_case){.B = B, .d_inner = d_inner, .R = R, .N = N, .n = n, .dt = dt};
    for (int b = 0; b < B; b++) c->slot[b] = B - b; /* slot 0 unused */
    c->se = (uint64_t)d_inner * N;
    size_t pool = (size_t)(B + 1) * c->se;
    c->xc = rand_floats((size_t)B * d_inner, -1, 1), c->xz = rand_floats((size_t)B * 2 * d_inner, -1, 1);
    c->parts = rand_floats((size_t)n * B * nx, -0.3f, 0.3f);
    c->b_dt = rand_floats((size_t)d_inner, -4, -2), c->A = rand_floats((size_t)d_inner * N, -8, -1);
    c->D = rand_floats((size_t)d_inner, 0.5f, 1.5f), c->w = rand_weights((size_t)d_inner * R, (mcl_dtype)dt);
    c->st = rand_floats(pool, -1, 1), c->want_st = malloc(pool * 4), c->want_y = malloc((size_t)B * d_inner * 4);
    float *dbc = malloc((size_t)B * nx * 4);
    for (size_t i = 0; i < (size_t)B * nx; i++) { /* the fp32 sum in the kernel's order */
        float f = c->parts[i];
        for (int p = 1; p < n; p++) f += c->parts[(size_t)p * B * nx + i];
        dbc[i] = f;
    }
    memcpy(c->want_st, c->st, pool * 4);
    ref_ssm_step(c->xc, dbc, c->xz, c->w, dt, c->b_dt, c->A, c->D, c->want_st, 0, c->slot, c->se, B, d_inner, R,
                 N, c->want_y);
    free(dbc);
}

/* The first n (<= 6) of the state-update cases (B, d_inner, R, N, partial
 * rows, dtype): ranks beyond the registers' 160 (R 170), states beyond the
 * 16 per channel (N 20), the scalar (R 7 / 3, N 5) and 16-byte paths, each
 * dtype. */
static void step_cases_make(step_case *c, int n)
{
    static const int shape[6][6] = {{5, 37, 170, 20, 3, MCL_DTYPE_F16}, {7, 19, 7, 5, 1, MCL_DTYPE_BF16},
                                    {2, 24, 3, 16, 2, MCL_DTYPE_F32},   {9, 41, 16, 16, 2, MCL_DTYPE_F16},
                                    {6, 33, 24, 16, 1, MCL_DTYPE_BF16}, {5, 20, 8, 8, 1, MCL_DTYPE_F32}};
    assert_true(n <= 6);
    for (int i = 0; i < n; i++)
        step_case_make(&c[i], shape[i][0], shape[i][1], shape[i][2], shape[i][3], shape[i][4], shape[i][5]);
}

static void step_case_free(step_case *c)
{
    free(c->xc), free(c->parts), free(c->xz), free(c->b_dt), free(c->A), free(c->D), free(c->w), free(c->st);
    free(c->want_y), free(c->want_st);
}

/* Sequences b0..b0+nb-1 of c alone (their rows and partials copied out),
 * kernel k (tunables p) with sb per group, on a fresh copy of the states:
 * y [nb, d_inner] and the whole pool back. */
/* mode 0: k is ssm_step_parts (mcl_kern_ssm_step_run); 1: k is ssm_step_tile
 * (mcl_kern_ssm_step_tile_run); 2: k is ssm_step, launched by
 * mcl_kern_ssm_step_with (its own choice of kernel and sb; c->n must be 1). */
static void step_case_run_as(const step_case *c, int mode, cl_kernel k, const mcl_params *p, int b0, int nb, int sb,
                             float *y, float *pool)
{
    int nx = c->R + 2 * c->N, D = c->d_inner;
    size_t rows = (size_t)nb * nx, np = (size_t)c->n * rows, bytes = (size_t)(c->B + 1) * c->se * 4;
    float *parts = malloc(np * 4);
    for (int q = 0; q < c->n; q++)
        memcpy(parts + q * rows, c->parts + ((size_t)q * c->B + b0) * nx, rows * 4);
    cl_mem bxc = upload(c->xc + (size_t)b0 * D, (size_t)nb * D * 4), bp = upload(parts, np * 4);
    cl_mem bxz = upload(c->xz + (size_t)b0 * 2 * D, (size_t)nb * 2 * D * 4);
    cl_mem bw = upload(c->w, (size_t)D * c->R * mcl_half_dtype_size((mcl_dtype)c->dt));
    cl_mem bb = upload(c->b_dt, (size_t)D * 4), bA = upload(c->A, (size_t)D * c->N * 4);
    cl_mem bD = upload(c->D, (size_t)D * 4), bst = upload(c->st, bytes);
    cl_mem bslot = upload(c->slot + b0, (size_t)nb * 4), by = upload(NULL, (size_t)nb * D * 4);
    mcl_scan_args a = {bxc, bp, bxz, bw, bb, bA, bD, by, (mcl_dtype)c->dt, D, c->R, c->N, (uint64_t)D, 2 * D, 0};
    mcl_kern_state ks = {bst, 0, bslot, c->se};
    mcl_status st = mode == 1   ? mcl_kern_ssm_step_tile_run(rt, k, p, &a, &ks, nb, c->n, rows, sb, "ssm_step_tile")
                    : mode == 2 ? mcl_kern_ssm_step_with(rt, k, p, &a, &ks, nb)
                                : mcl_kern_ssm_step_run(rt, k, p, &a, &ks, nb, c->n, rows, sb, "ssm_step_parts");
    if (st != MCL_OK) fail_msg("ssm_step_run (mode %d): %s", mode, mcl_last_error());
    download(by, y, (size_t)nb * D * 4);
    download(bst, pool, bytes);
    cl_mem all[] = {bxc, bp, bxz, bw, bb, bA, bD, bst, bslot, by};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) mcl_buffer_release(&all[i]);
    free(parts);
}

static void step_case_run(const step_case *c, cl_kernel k, const mcl_params *p, int b0, int nb, int sb, float *y,
                          float *pool)
{
    step_case_run_as(c, 0, k, p, b0, nb, sb, y, pool);
}

/* Every sb of configuration p on c: close to the reference, bitwise the same
 * for every sb, and each sequence alone bitwise as in the batch. */
static void step_case_check(const step_case *c, const char *defs, cl_kernel k, const mcl_params *p)
{
    size_t ny = (size_t)c->B * c->d_inner, pool = (size_t)(c->B + 1) * c->se;
    float *y1 = malloc(ny * 4), *s1 = malloc(pool * 4), *y = malloc(ny * 4), *s = malloc(pool * 4);
    char what[192];
    long sbmax = mcl_params_get(p, "STEP_SB", 1);
    snprintf(what, sizeof what, "%s B %d d_inner %d R %d N %d parts %d dtype %d", defs, c->B, c->d_inner, c->R,
             c->N, c->n, c->dt);
    step_case_run(c, k, p, 0, c->B, 1, y1, s1);
    check_close(y1, c->want_y, ny, 2e-4, 2e-4, what);
    check_close(s1, c->want_st, pool, 2e-4, 2e-4, what);
    for (int sb = 2; sb <= sbmax && sb <= c->B; sb++) {
        step_case_run(c, k, p, 0, c->B, sb, y, s);
        if (memcmp(y, y1, ny * 4) || memcmp(s, s1, pool * 4)) fail_msg("%s: sb %d differs from sb 1", what, sb);
    }
    for (int b = 0; b < c->B; b++) { /* alone: its y row and its slot's states */
        step_case_run(c, k, p, b, 1, 1, y, s);
        size_t at = (size_t)c->slot[b] * c->se;
        if (memcmp(y, y1 + (size_t)b * c->d_inner, (size_t)c->d_inner * 4) || memcmp(s + at, s1 + at, c->se * 4))
            fail_msg("%s: sequence %d alone differs from the batch", what, b);
    }
    free(y1), free(s1), free(y), free(s);
}

/* ssm_step.cl compiled with several (STEP_WG, STEP_LPC, STEP_SB) over the
 * runtime's: the local-tree team sums with a loop over the group's
 * sequences (LPC > 1 without shuffles, PoCL), one work-item per channel
 * (LPC 1), the shuffles where the device has them (the GPUs' default, first),
 * ranks beyond the registers' 160 (R 170) and states beyond the 16 per
 * channel (N 20), d_inner not a multiple of the teams, B not a multiple of sb. */
static void test_step_configs(void **state)
{
    (void)state;
    static const long cfg[][4] = {{0, 0, 0, 0}, {64, 16, 4, 0}, {32, 4, 3, 1}, {128, 1, 4, 0}};
    step_case cases[3];
    step_cases_make(cases, 3);
    for (size_t i = 0; i < sizeof cfg / sizeof cfg[0]; i++) {
        mcl_params p = *mcl_runtime_params(rt, "ssm_step.cl");
        if (cfg[i][0]) {
            if (cfg[i][0] > mcl_tune_max_wg(&rt->dev)) continue;
            mcl_params_set(&p, "STEP_WG", cfg[i][0]);
            mcl_params_set(&p, "STEP_LPC", cfg[i][1]);
            mcl_params_set(&p, "STEP_SB", cfg[i][2]);
            mcl_params_set(&p, "STEP_FAST_EXP", cfg[i][3]);
        }
        char defs[128] = "";
        mcl_params_defines(&p, defs, sizeof defs);
        mcl_program prog;
        memset(&prog, 0, sizeof prog);
        if (mcl_runtime_build_program(rt, "ssm_step.cl", &p, &prog) != MCL_OK) fail_msg("%s", mcl_last_error());
        cl_int err;
        cl_kernel k = clCreateKernel(prog.program, "ssm_step_parts", &err);
        assert_int_equal(err, CL_SUCCESS);
        for (int c = 0; c < 3; c++) step_case_check(&cases[c], defs, k, &p);
        clReleaseKernel(k);
        mcl_program_release(&prog);
    }
    for (int c = 0; c < 3; c++) step_case_free(&cases[c]);
}

/* ssm_step_tile (one work-item per (channel, sequence)) against ssm_step_parts
 * of the same program, sb 1, bitwise, at every sb it takes, under several
 * (STEP_LPC: the order of its sums; STEP_TWG, STEP_TSQ, STEP_TJ; STEP_TPRE 0
 * and 1), including TSQ not a power of two and TWG not a multiple of 32; the cases cover the
 * 16-byte paths (R % 8 == 0: W_dt; N % 4 == 0: the states) and the scalar
 * ones (R 170 / 7 / 3, N 20 / 5), states beyond the 16 in registers, d_inner
 * not a multiple of the channels per group, and each dtype. Where c->n is 1
 * the launcher mcl_kern_ssm_step_with with STEP_TILE 2 must pick it (and
 * the result stays the same). */
static void test_step_tile(void **state)
{
    (void)state;
    static const long cfg[][7] = {/* LPC, WG, TWG, TSQ, TJ, FAST_EXP, TPRE; 0: the runtime's */
                                  {0, 0, 0, 0, 0, 0, 0}, {16, 64, 24, 3, 3, 1, 0}, {2, 64, 16, 8, 1, 0, 1},
                                  {32, 64, 32, 1, 4, 0, 1}};
    step_case cases[6];
    step_cases_make(cases, 6);
    for (size_t i = 0; i < sizeof cfg / sizeof cfg[0]; i++) {
        mcl_params p = *mcl_runtime_params(rt, "ssm_step.cl");
        if (cfg[i][0]) {
            if (cfg[i][1] > mcl_tune_max_wg(&rt->dev) || cfg[i][2] > mcl_tune_max_wg(&rt->dev)) continue;
            const char *names[] = {"STEP_LPC", "STEP_WG", "STEP_TWG", "STEP_TSQ", "STEP_TJ", "STEP_FAST_EXP",
                                   "STEP_TPRE"};
            for (int t = 0; t < 7; t++) mcl_params_set(&p, names[t], cfg[i][t]);
            mcl_params_set(&p, "STEP_SB", 1);
        }
        mcl_params_set(&p, "STEP_TILE", 2);
        /* one sequence per group of the largest case must fit the device's local memory */
        if (mcl_kern_ssm_step_tile_local(&p, 1, 170, 20) > rt->dev.local_mem_bytes) continue;
        char defs[256] = "";
        mcl_params_defines(&p, defs, sizeof defs);
        mcl_program prog;
        memset(&prog, 0, sizeof prog);
        if (mcl_runtime_build_program(rt, "ssm_step.cl", &p, &prog) != MCL_OK) fail_msg("%s", mcl_last_error());
        cl_int e1, e2, e3;
        cl_kernel k = clCreateKernel(prog.program, "ssm_step_parts", &e1);
        cl_kernel kt = clCreateKernel(prog.program, "ssm_step_tile", &e2);
        cl_kernel ks = clCreateKernel(prog.program, "ssm_step", &e3);
        assert_true(e1 == CL_SUCCESS && e2 == CL_SUCCESS && e3 == CL_SUCCESS);
        long sbmax = mcl_params_get(&p, "STEP_TSQ", 4) * mcl_params_get(&p, "STEP_TJ", 2);
        for (int ci = 0; ci < 6; ci++) {
            const step_case *c = &cases[ci];
            size_t ny = (size_t)c->B * c->d_inner, pool = (size_t)(c->B + 1) * c->se;
            float *y1 = malloc(ny * 4), *s1 = malloc(pool * 4), *y = malloc(ny * 4), *s = malloc(pool * 4);
            char what[384];
            snprintf(what, sizeof what, "%s B %d d_inner %d R %d N %d parts %d dtype %d", defs, c->B, c->d_inner,
                     c->R, c->N, c->n, c->dt);
            step_case_run_as(c, 0, k, &p, 0, c->B, 1, y1, s1);
            check_close(y1, c->want_y, ny, 2e-4, 2e-4, what);
            check_close(s1, c->want_st, pool, 2e-4, 2e-4, what);
            for (int sb = 1; sb <= sbmax && sb <= c->B; sb++) {
                step_case_run_as(c, 1, kt, &p, 0, c->B, sb, y, s);
                if (memcmp(y, y1, ny * 4) || memcmp(s, s1, pool * 4))
                    fail_msg("%s: ssm_step_tile sb %d differs from ssm_step_parts", what, sb);
            }
            if (c->n == 1) { /* the launcher's own choice: the tile kernel (B >= STEP_TILE 2) */
                assert_true(mcl_kern_ssm_step_tile_sb(rt, &p, c->B, c->d_inner, c->R, c->N) > 0);
                step_case_run_as(c, 2, ks, &p, 0, c->B, 0, y, s);
                if (memcmp(y, y1, ny * 4) || memcmp(s, s1, pool * 4))
                    fail_msg("%s: mcl_kern_ssm_step_with (tile) differs from ssm_step_parts", what);
            }
            free(y1), free(s1), free(y), free(s);
        }
        clReleaseKernel(k), clReleaseKernel(kt), clReleaseKernel(ks);
        mcl_program_release(&prog);
    }
    for (int c = 0; c < 6; c++) step_case_free(&cases[c]);
}

/* sb outside 1..min(STEP_SB, B) is refused, as are bad partial strides. */
static void test_step_bad_sb(void **state)
{
    (void)state;
    cl_mem m = upload(NULL, 4096);
    cl_kernel k;
    const mcl_params *p = mcl_runtime_params(rt, "ssm_step.cl");
    assert_int_equal(mcl_runtime_kernel(rt, "ssm_step_parts", &k), MCL_OK);
    mcl_scan_args a = {m, m, m, m, m, m, m, m, MCL_DTYPE_F32, 4, 2, 2, 4, 8, 0};
    mcl_kern_state ks = {m, 0, m, 8};
    long sbmax = mcl_params_get(p, "STEP_SB", 1);
    assert_int_equal(mcl_kern_ssm_step_run(rt, k, p, &a, &ks, 2, 1, 0, 0, "ssm_step_parts"), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_kern_ssm_step_run(rt, k, p, &a, &ks, 2, 1, 0, 3, "ssm_step_parts"), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_kern_ssm_step_run(rt, k, p, &a, &ks, 64, 1, 0, (int)sbmax + 1, "ssm_step_parts"),
                     MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_kern_ssm_step_parts(rt, &a, &ks, 2, 2, 5), MCL_ERR_INVALID_ARG);
    assert_non_null(strstr(mcl_last_error(), "ssm_step_parts"));
    assert_int_equal(mcl_kern_ssm_step_sb(rt, p, 3, 4, 2, 2) >= 1, 1);
    assert_true(mcl_kern_ssm_step_sb(rt, p, 3, 4, 2, 2) <= 3);
    mcl_buffer_release(&m);
}

static void test_bad_args(void **state)
{
    (void)state;
    cl_mem m = upload(NULL, 64);
    assert_int_equal(mcl_kern_gemv_in(rt, m, MCL_DTYPE_F32, m, m, 0, 4, 1, m, 1e-5f, NULL), MCL_ERR_INVALID_ARG);
    mcl_kern_conv cv = {m, NULL, {m, 0, m, 3}, 1, 2, m};
    assert_int_equal(mcl_kern_gemv_in(rt, m, MCL_DTYPE_F32, m, m, 4, 4, 1, m, 1e-5f, &cv), MCL_ERR_INVALID_ARG);
    assert_non_null(strstr(mcl_last_error(), "gemv_in"));
    assert_int_equal(mcl_kern_gemv_split(rt, m, MCL_DTYPE_F32, m, m, 4, 4, 2, 2, 7), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_kern_gemv_split(rt, m, MCL_DTYPE_F32, m, m, 4, 4, 1, 0, 4), MCL_ERR_INVALID_ARG);
    mcl_buffer_release(&m);
}

static int setup(void **state)
{
    (void)state;
    if (mcl_runtime_create(NULL, &rt) != MCL_OK) {
        fprintf(stderr, "runtime: %s\n", mcl_last_error());
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mcl_runtime_free(rt);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemv_in),
        cmocka_unit_test(test_gemv_split),
        cmocka_unit_test(test_gmma_batches),
        cmocka_unit_test(test_rgemv),
        cmocka_unit_test(test_gemv_f16_special),
        cmocka_unit_test(test_ssm_step_parts),
        cmocka_unit_test(test_step_configs),
        cmocka_unit_test(test_step_tile),
        cmocka_unit_test(test_step_bad_sb),
        cmocka_unit_test(test_bad_args),
    };
    const char *filter = getenv("MCL_TEST_FILTER"); /* e.g. "test_step_*" */
    if (filter && *filter) cmocka_set_test_filter(filter);
    return cmocka_run_group_tests(tests, setup, teardown);
}
