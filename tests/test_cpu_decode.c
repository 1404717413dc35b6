/* The CPUs' decode kernels against the C references (tests/ref):
 *  - xstep (cl/xstep.cl: x_proj + dt + state update + gate) against ref_gemv
 *    for x_proj, then ref_ssm_step on its output;
 *  - cgemv (plain and accumulating) against ref_gemv, cgemv_in (RMSNorm +
 *    projection + the conv step of the first rows) against
 *    ref_rmsnorm_residual, ref_gemv and ref_conv_step;
 * at odd sizes (tails of every vector width and row block), every weight
 * dtype, batches with permuted slots and unequal states, every XS_VW / CG_VW
 * and several row blocks and groups; and the dispatch rules: XS_ON / CG_ON 0
 * and MAMBACL_DISABLE=xstep / cgemv turn them off (gemv.cl and ssm_step.cl's
 * fused chain, tested by test_decode, is the fallback). */
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
#include "ops/kern_cgemv.h"
#include "ops/kern_xstep.h"
#include "runtime/runtime.h"
#include "tune/tune.h"
#include "ref/ref_kernels.h"
#include "ref/ref_scan.h"
#include "test_rand.h"

static mcl_runtime *rt;
static cl_mem upload(const void *host, size_t bytes) { return tbuf_upload(rt, host, bytes); }
static void download(cl_mem m, void *host, size_t bytes) { tbuf_download(rt, m, host, bytes); }

static void check_close(const float *got, const float *want, size_t n, double tol, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]);
        if (!(e <= tol + tol * fabs(want[i])))
            fail_msg("%s: element %zu is %.9g, reference %.9g", what, i, got[i], want[i]);
    }
}

/* One xstep launch of B sequences against the references. */
static void run_xstep(int B, int d_inner, int R, int N, int xdt, int wdt)
{
    int slot[6], cap = B + 2, nx = R + 2 * N;
    for (int b = 0; b < B; b++) slot[b] = cap - 1 - b;
    uint64_t off = 7, se = (uint64_t)d_inner * N + 3;
    size_t sn = (size_t)(off + cap * se);
    float *xc = trand_floats((size_t)B * d_inner, -1, 1), *xz = trand_floats((size_t)B * 2 * d_inner, -1, 1);
    float *b_dt = trand_floats((size_t)d_inner, -4, -1), *A = trand_floats((size_t)d_inner * N, -8, -1);
    float *D = trand_floats((size_t)d_inner, 0.5f, 1.5f), *st = trand_floats(sn, -1, 1), *st_ref = malloc(sn * 4);
    void *wx = trand_weights((size_t)nx * d_inner, (mcl_dtype)xdt, 0.3f);
    void *w = trand_weights((size_t)d_inner * R, (mcl_dtype)wdt, 1.0f);
    float *dbc = malloc((size_t)B * nx * 4), *want = malloc((size_t)B * d_inner * 4);
    float *got = malloc((size_t)B * d_inner * 4);
    memcpy(st_ref, st, sn * 4);
    ref_gemv(wx, (mcl_dtype)xdt, xc, dbc, nx, d_inner, B, 0);
    ref_ssm_step(xc, dbc, xz, w, wdt, b_dt, A, D, st_ref, off, slot, se, B, d_inner, R, N, want);
    cl_mem bxc = upload(xc, (size_t)B * d_inner * 4), bwx = upload(wx, (size_t)nx * d_inner * mcl_half_dtype_size((mcl_dtype)xdt));
    cl_mem bxz = upload(xz, (size_t)B * 2 * d_inner * 4), bw = upload(w, (size_t)d_inner * R * mcl_half_dtype_size((mcl_dtype)wdt));
    cl_mem bb = upload(b_dt, (size_t)d_inner * 4), bA = upload(A, (size_t)d_inner * N * 4);
    cl_mem bD = upload(D, (size_t)d_inner * 4), bst = upload(st, sn * 4);
    cl_mem bslot = upload(slot, (size_t)B * 4), by = upload(NULL, (size_t)B * d_inner * 4);
    mcl_scan_args a = {bxc, NULL, bxz, bw, bb, bA, bD, by, (mcl_dtype)wdt, d_inner, R, N, (uint64_t)d_inner,
                       2 * d_inner, 0};
    mcl_kern_state ks = {bst, off, bslot, se};
    if (mcl_kern_xstep(rt, &a, bwx, (mcl_dtype)xdt, &ks, B) != MCL_OK) fail_msg("%s", mcl_last_error());
    download(by, got, (size_t)B * d_inner * 4);
    char what[128];
    snprintf(what, sizeof what, "xstep B %d d_inner %d R %d N %d dtypes %d %d", B, d_inner, R, N, xdt, wdt);
    check_close(got, want, (size_t)B * d_inner, 2e-4, what);
    download(bst, st, sn * 4);
    strcat(what, " state");
    check_close(st, st_ref, sn, 2e-4, what); /* other slots and the gaps unchanged */
    cl_mem all[] = {bxc, bwx, bxz, bw, bb, bA, bD, bst, bslot, by};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) mcl_buffer_release(&all[i]);
    free(xc), free(xz), free(b_dt), free(A), free(D), free(st), free(st_ref), free(wx), free(w);
    free(dbc), free(want), free(got);
}

static void rebuild(long vw, long rb, long gpc)
{
    mcl_params p = *mcl_runtime_params(rt, MCL_F_XSTEP);
    mcl_params_set(&p, MCL_T_XS_VW, vw);
    mcl_params_set(&p, MCL_T_XS_RB, rb);
    mcl_params_set(&p, MCL_T_XS_GPC, gpc);
    if (mcl_runtime_rebuild(rt, MCL_F_XSTEP, &p) != MCL_OK) fail_msg("%s", mcl_last_error());
}

static void test_xstep_shapes(void **state)
{
    (void)state;
    const long vws[] = {4, 8, 16}, rbs[] = {5, 8, 1}, gpcs[] = {1, 3, 2};
    mcl_params def = *mcl_runtime_params(rt, MCL_F_XSTEP);
    for (int v = 0; v < 3; v++) {
        rebuild(vws[v], rbs[v], gpcs[v]);
        for (int dt = 0; dt < 3; dt++) {
            run_xstep(1, 37, 5, 16, dt, (dt + 1) % 3);
            run_xstep(3, 19, 7, 5, (dt + 2) % 3, dt);
        }
        run_xstep(5, 64, 16, 16, 1, 1);
        run_xstep(2, 3, 1, 1, 0, 2);
    }
    assert_int_equal(mcl_runtime_rebuild(rt, MCL_F_XSTEP, &def), MCL_OK);
}

/* The dispatch: XS_ON 1 on this CPU device (0 on others), off by
 * MAMBACL_DISABLE=xstep and by XS_ON 0. */
static void test_xstep_dispatch(void **state)
{
    (void)state;
    bool cpu = mcl_runtime_device(rt)->type == MCL_DEVICE_TYPE_CPU;
    assert_int_equal(mcl_kern_xstep_wanted(rt, 512, 48, 1), cpu);
    setenv("MAMBACL_DISABLE", "fp16,xstep", 1);
    assert_false(mcl_kern_xstep_wanted(rt, 512, 48, 1));
    setenv("MAMBACL_DISABLE", "xsteps", 1);
    assert_int_equal(mcl_kern_xstep_wanted(rt, 512, 48, 1), cpu);
    unsetenv("MAMBACL_DISABLE");
    mcl_params def = *mcl_runtime_params(rt, MCL_F_XSTEP), p = def;
    mcl_params_set(&p, MCL_T_XS_ON, 0);
    assert_int_equal(mcl_runtime_rebuild(rt, MCL_F_XSTEP, &p), MCL_OK);
    assert_false(mcl_kern_xstep_wanted(rt, 512, 48, 1));
    assert_int_equal(mcl_runtime_rebuild(rt, MCL_F_XSTEP, &def), MCL_OK);
    int groups = 0, chunk = 0; /* the grid covers d_inner in chunks of whole vectors */
    assert_int_equal(mcl_kern_xstep_grid(rt, 37, 1, &groups, &chunk), MCL_OK);
    assert_true(groups >= 1 && chunk % mcl_params_get(&def, MCL_T_XS_VW, 8) == 0);
    assert_true((groups - 1) * chunk < 37 && groups * chunk >= 37);
}

static void test_xstep_bad_args(void **state)
{
    (void)state;
    cl_mem m = upload(NULL, 64);
    mcl_scan_args a = {m, NULL, m, m, m, m, m, m, MCL_DTYPE_F32, 4, 1, 1, 4, 3, 0};
    mcl_kern_state ks = {m, 0, m, 4};
    assert_int_equal(mcl_kern_xstep(rt, &a, m, MCL_DTYPE_F32, &ks, 1), MCL_ERR_INVALID_ARG); /* z stride < d_inner */
    assert_non_null(strstr(mcl_last_error(), "xstep"));
    a.z_ld = 8;
    assert_int_equal(mcl_kern_xstep(rt, &a, m, (mcl_dtype)7, &ks, 1), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_kern_xstep(rt, &a, m, MCL_DTYPE_F32, &ks, 0), MCL_OK); /* no rows: no launch */
    mcl_buffer_release(&m);
}

/* cgemv of B rows (accumulating into a random y or not) against ref_gemv. */
static void run_cgemv(int O, int I, int B, int dt, int acc)
{
    void *W = trand_weights((size_t)O * I, (mcl_dtype)dt, 1.0f);
    float *x = trand_floats((size_t)B * I, -1, 1), *y0 = trand_floats((size_t)B * O, -1, 1);
    float *want = malloc((size_t)B * O * 4), *got = malloc((size_t)B * O * 4);
    memcpy(want, y0, (size_t)B * O * 4);
    ref_gemv(W, (mcl_dtype)dt, x, want, O, I, B, acc);
    cl_mem bW = upload(W, (size_t)O * I * mcl_half_dtype_size((mcl_dtype)dt)), bx = upload(x, (size_t)B * I * 4);
    cl_mem by = upload(y0, (size_t)B * O * 4);
    if (mcl_kern_cgemv(rt, bW, (mcl_dtype)dt, bx, by, O, I, B, acc) != MCL_OK) fail_msg("%s", mcl_last_error());
    download(by, got, (size_t)B * O * 4);
    char what[96];
    snprintf(what, sizeof what, "cgemv O %d I %d B %d dtype %d acc %d", O, I, B, dt, acc);
    check_close(got, want, (size_t)B * O, 2e-4, what);
    mcl_buffer_release(&bW), mcl_buffer_release(&bx), mcl_buffer_release(&by);
    free(W), free(x), free(y0), free(want), free(got);
}

/* cgemv_in of B rows (conv on the first n_conv rows, permuted slots, random
 * conv states) against rmsnorm + gemv + conv_step of the references. */
static void run_cgemv_in(int O, int I, int B, int n_conv, int K, int dt, bool bias)
{
    int slot[8], cap = B + 2, nc = n_conv ? n_conv : 1;
    for (int b = 0; b < B; b++) slot[b] = cap - 1 - b;
    size_t se = (size_t)nc * (size_t)(K - 1), off = 3, sn = off + (size_t)cap * se;
    void *W = trand_weights((size_t)O * I, (mcl_dtype)dt, 1.0f);
    float *h = trand_floats((size_t)B * I, -2, 2), *nw = trand_floats((size_t)I, 0.5f, 1.5f);
    float *cw = trand_floats((size_t)nc * K, -0.5f, 0.5f), *cb = trand_floats((size_t)nc, -0.5f, 0.5f);
    float *st = trand_floats(sn, -1, 1), *st_ref = malloc(sn * 4), *hn = malloc((size_t)B * I * 4);
    float *want = malloc((size_t)B * O * 4), *got = malloc((size_t)B * O * 4), *hc = malloc((size_t)B * I * 4);
    float *xc_ref = malloc((size_t)B * nc * 4), *xc = malloc((size_t)B * nc * 4);
    memcpy(st_ref, st, sn * 4);
    memcpy(hc, h, (size_t)B * I * 4);
    ref_rmsnorm_residual(hc, NULL, nw, 1e-5f, hn, NULL, B, I);
    ref_gemv(W, (mcl_dtype)dt, hn, want, O, I, B, 0);
    if (n_conv) ref_conv_step(want, O, cw, bias ? cb : NULL, st_ref, off, slot, se, B, n_conv, K, xc_ref);
    cl_mem bW = upload(W, (size_t)O * I * mcl_half_dtype_size((mcl_dtype)dt)), bh = upload(h, (size_t)B * I * 4);
    cl_mem bnw = upload(nw, (size_t)I * 4), by = upload(NULL, (size_t)B * O * 4);
    cl_mem bcw = upload(cw, (size_t)nc * K * 4), bcb = upload(cb, (size_t)nc * 4), bst = upload(st, sn * 4);
    cl_mem bslot = upload(slot, (size_t)B * 4), bxc = upload(NULL, (size_t)B * nc * 4);
    mcl_kern_conv cv = {bcw, bias ? bcb : NULL, {bst, off, bslot, se}, K, n_conv, bxc};
    if (mcl_kern_cgemv_in(rt, bW, (mcl_dtype)dt, bh, by, O, I, B, bnw, 1e-5f, n_conv ? &cv : NULL) != MCL_OK)
        fail_msg("%s", mcl_last_error());
    download(by, got, (size_t)B * O * 4);
    char what[128];
    snprintf(what, sizeof what, "cgemv_in O %d I %d B %d conv %d K %d dtype %d", O, I, B, n_conv, K, dt);
    check_close(got, want, (size_t)B * O, 2e-4, what);
    if (n_conv) {
        download(bxc, xc, (size_t)B * n_conv * 4);
        strcat(what, " xc");
        check_close(xc, xc_ref, (size_t)B * n_conv, 2e-4, what);
        download(bst, st, sn * 4);
        strcat(what, " state");
        check_close(st, st_ref, sn, 2e-4, what);
    }
    cl_mem all[] = {bW, bh, bnw, by, bcw, bcb, bst, bslot, bxc};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) mcl_buffer_release(&all[i]);
    free(W), free(h), free(nw), free(cw), free(cb), free(st), free(st_ref), free(hn), free(want), free(got);
    free(hc), free(xc_ref), free(xc);
}

static void rebuild_cg(long vw, long rb, long gpc)
{
    mcl_params p = *mcl_runtime_params(rt, MCL_F_CGEMV);
    mcl_params_set(&p, MCL_T_CG_VW, vw);
    mcl_params_set(&p, MCL_T_CG_RB, rb);
    mcl_params_set(&p, MCL_T_CG_GPC, gpc);
    if (mcl_runtime_rebuild(rt, MCL_F_CGEMV, &p) != MCL_OK) fail_msg("%s", mcl_last_error());
}

static void test_cgemv_shapes(void **state)
{
    (void)state;
    const long vws[] = {16, 8, 16}, rbs[] = {8, 3, 1}, gpcs[] = {4, 1, 3};
    mcl_params def = *mcl_runtime_params(rt, MCL_F_CGEMV);
    for (int v = 0; v < 3; v++) {
        rebuild_cg(vws[v], rbs[v], gpcs[v]);
        for (int dt = 0; dt < 3; dt++) {
            run_cgemv(37, 43, 1, dt, dt == 1);
            run_cgemv(5, 16, 3, dt, 1);
            run_cgemv_in(70, 35, 1, 33, 4, dt, dt != 2);
            run_cgemv_in(19, 64, 5, 0, 4, dt, false); /* the LM head: no conv */
        }
        run_cgemv(129, 7, 2, 1, 0);
        run_cgemv_in(24, 9, 3, 24, 2, 1, true);
    }
    assert_int_equal(mcl_runtime_rebuild(rt, MCL_F_CGEMV, &def), MCL_OK);
}

/* The dispatch: CG_ON 1 on this CPU device (0 on others), off by
 * MAMBACL_DISABLE=cgemv and by CG_ON 0; rows per group cover O. */
static void test_cgemv_dispatch(void **state)
{
    (void)state;
    bool cpu = mcl_runtime_device(rt)->type == MCL_DEVICE_TYPE_CPU;
    assert_int_equal(mcl_kern_cgemv_wanted(rt, 1), cpu);
    setenv("MAMBACL_DISABLE", "cgemv,persistent", 1);
    assert_false(mcl_kern_cgemv_wanted(rt, 1));
    assert_int_equal(mcl_kern_xstep_wanted(rt, 512, 48, 1), cpu); /* one switch each */
    unsetenv("MAMBACL_DISABLE");
    mcl_params def = *mcl_runtime_params(rt, MCL_F_CGEMV), p = def;
    mcl_params_set(&p, MCL_T_CG_ON, 0);
    assert_int_equal(mcl_runtime_rebuild(rt, MCL_F_CGEMV, &p), MCL_OK);
    assert_false(mcl_kern_cgemv_wanted(rt, 1));
    assert_int_equal(mcl_runtime_rebuild(rt, MCL_F_CGEMV, &def), MCL_OK);
    int rows = 0;
    assert_int_equal(mcl_kern_cgemv_rows(rt, 1000, 1, &rows), MCL_OK);
    assert_true(rows % mcl_params_get(&def, MCL_T_CG_RB, 8) == 0 && rows > 0 && rows <= 1000 + 16);
    cl_mem m = upload(NULL, 64);
    assert_int_equal(mcl_kern_cgemv(rt, m, MCL_DTYPE_F32, m, m, 0, 4, 1, false), MCL_ERR_INVALID_ARG);
    mcl_kern_conv cv = {m, NULL, {m, 0, m, 3}, 1, 2, m};
    assert_int_equal(mcl_kern_cgemv_in(rt, m, MCL_DTYPE_F32, m, m, 4, 4, 1, m, 1e-5f, &cv), MCL_ERR_INVALID_ARG);
    assert_non_null(strstr(mcl_last_error(), "cgemv_in"));
    mcl_buffer_release(&m);
}

static int setup(void **state)
{
    (void)state;
    trand_seed(0x5eed5);
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
        cmocka_unit_test(test_xstep_shapes),
        cmocka_unit_test(test_xstep_dispatch),
        cmocka_unit_test(test_xstep_bad_args),
        cmocka_unit_test(test_cgemv_shapes),
        cmocka_unit_test(test_cgemv_dispatch),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
