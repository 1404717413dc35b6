/* xstep (cl/xstep.cl: x_proj + dt + state update + gate of decode, the CPUs'
 * middle of a fused layer) against the C references (ref_gemv for x_proj,
 * then ref_ssm_step on its output) at odd sizes (tails of every vector
 * width), every weight dtype for W_x and W_dt, batches with permuted slots
 * and unequal states, every XS_VW and several groups per sequence; and the
 * dispatch rule: XS_ON 0 and MAMBACL_DISABLE=xstep turn it off (the 4-launch
 * chain, tested by test_decode, is the fallback). */
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
                       2 * d_inner};
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

static void rebuild(long vw, long gpc)
{
    mcl_params p = *mcl_runtime_params(rt, MCL_F_XSTEP);
    mcl_params_set(&p, MCL_T_XS_VW, vw);
    mcl_params_set(&p, MCL_T_XS_GPC, gpc);
    if (mcl_runtime_rebuild(rt, MCL_F_XSTEP, &p) != MCL_OK) fail_msg("%s", mcl_last_error());
}

static void test_xstep_shapes(void **state)
{
    (void)state;
    const long vws[] = {4, 8, 16}, gpcs[] = {1, 3, 2};
    mcl_params def = *mcl_runtime_params(rt, MCL_F_XSTEP);
    for (int v = 0; v < 3; v++) {
        rebuild(vws[v], gpcs[v]);
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
    mcl_scan_args a = {m, NULL, m, m, m, m, m, m, MCL_DTYPE_F32, 4, 1, 1, 4, 3};
    mcl_kern_state ks = {m, 0, m, 4};
    assert_int_equal(mcl_kern_xstep(rt, &a, m, MCL_DTYPE_F32, &ks, 1), MCL_ERR_INVALID_ARG); /* z stride < d_inner */
    assert_non_null(strstr(mcl_last_error(), "xstep"));
    a.z_ld = 8;
    assert_int_equal(mcl_kern_xstep(rt, &a, m, (mcl_dtype)7, &ks, 1), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_kern_xstep(rt, &a, m, MCL_DTYPE_F32, &ks, 0), MCL_OK); /* no rows: no launch */
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
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
