/* The capability layer and gemm.cl against the C reference (tests/ref/ref_gemm.c):
 *  - every path this device can take (gemv, gemm_simt, CLBlast, tensor cores
 *    when the mma capability is on) at M, N, K from {1, 7, 33, 129, 2053},
 *    F32/F16/BF16 weights, beta 0 and 1 (and 0.5 off the gemv path);
 *  - MAMBACL_DISABLE turns capabilities off, the defines follow;
 *  - a probe made to answer wrong (MAMBACL_TEST_PROBE_WRONG) turns its
 *    capability off, and the model's logits stay within 1e-3 of Hugging Face's;
 *  - every candidate of gemm.cl's tuning space for this device (the mma
 *    tiles on the H200, gemm_simt's on PoCL: one there unless
 *    MAMBACL_TEST_LONG=1) against the reference;
 *  - the bundled model in BF16 on a long prompt: the device's GEMM path
 *    against a plain one (mma off, or gemv), logits, argmax, greedy.
 * On PoCL only the portable paths run; on the H200 the mma path too (and the
 * suite runs again with MAMBACL_DISABLE=mma). */
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
#include "diag/selftest_gemm.h"
#include "fwd_common.h"
#include "model/model.h"
#include "model/weights.h"
#include "ops/gemm.h"
#include "ops/kern.h"
#include "ref/ref_gemm.h"
#include "ref/ref_kernels.h"
#include "runtime/caps_cache.h"
#include "runtime/runtime.h"
#include "tune/tune_kern.h"

static mcl_runtime *rt;
static uint64_t rng = 0x2545f4914f6cdd1dull;
static double worst[MCL_GEMM_CPU + 1]; /* per path */

static float frand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static cl_mem upload(const void *host, size_t bytes)
{
    cl_mem m = NULL;
    assert_int_equal(mcl_buffer_create(rt, CL_MEM_READ_WRITE, bytes, "test", &m), MCL_OK);
    assert_int_equal(clEnqueueWriteBuffer(rt->queue, m, CL_TRUE, 0, bytes, host, 0, NULL, NULL), CL_SUCCESS);
    return m;
}

/* One product on `path` against the reference; C as computed into `out`
 * (M * N floats) when out is not NULL. */
static void check_into(mcl_gemm_path path, int M, int N, int K, mcl_dtype dt, float beta, float *out)
{
    size_t an = (size_t)M * K, wn = (size_t)N * K, cn = (size_t)M * N;
    float *A = malloc(an * 4), *wf = malloc(wn * 4), *C0 = malloc(cn * 4), *want = malloc(cn * 4),
          *got = malloc(cn * 4);
    void *W = malloc(wn * 4);
    assert_true(A && wf && C0 && want && got && W);
    for (size_t i = 0; i < an; i++) A[i] = frand() * 2.0f;
    for (size_t i = 0; i < wn; i++) wf[i] = frand();
    for (size_t i = 0; i < cn; i++) C0[i] = frand() * 3.0f;
    assert_int_equal(mcl_half_convert_from_f32(wf, dt, W, wn), MCL_OK);
    memcpy(want, C0, cn * 4);
    ref_gemm(A, W, dt, want, M, N, K, beta);
    cl_mem bA = upload(A, an * 4), bW = upload(W, wn * mcl_half_dtype_size(dt)), bC = upload(C0, cn * 4);
    mcl_status st = mcl_op_matmul_path(rt, path, "test", bW, dt, N, K, bA, M, beta, bC);
    if (st != MCL_OK) fprintf(stderr, "%s\n", mcl_last_error());
    assert_int_equal(st, MCL_OK);
    assert_int_equal(clEnqueueReadBuffer(rt->queue, bC, CL_TRUE, 0, cn * 4, got, 0, NULL, NULL), CL_SUCCESS);
    /* |terms| <= 2, K <= 2053: fp32 sums err ~1e-5 * sqrt(K); the hi+lo
     * split adds ~2^-17 relative per term */
    double tol = 2e-4 * sqrt((double)K) + 1e-4;
    for (size_t i = 0; i < cn; i++) {
        double e = fabs((double)got[i] - want[i]);
        if (e > worst[path]) worst[path] = e;
        if (!(e <= tol + 1e-4 * fabs(want[i])))
            fail_msg("%s M %d N %d K %d dtype %d beta %g: C[%zu] = %g, want %g", mcl_gemm_path_name(path), M, N,
                     K, (int)dt, (double)beta, i, got[i], want[i]);
    }
    if (out) memcpy(out, got, cn * 4);
    mcl_buffer_release(&bA);
    mcl_buffer_release(&bW);
    mcl_buffer_release(&bC);
    free(A), free(wf), free(C0), free(want), free(got), free(W);
}

static void check_one(mcl_gemm_path path, int M, int N, int K, mcl_dtype dt, float beta)
{
    check_into(path, M, N, K, dt, beta, NULL);
}

/* Every size of {1, 7, 33, 129, 2053} in every role, products kept small for PoCL. */
static const int shapes[][3] = {{1, 7, 33},   {7, 33, 129},    {33, 129, 7},  {129, 1, 2053},
                                {2053, 7, 1}, {7, 2053, 33},   {33, 33, 2053}, {2053, 33, 7},
                                {129, 129, 129}, {33, 2053, 1}, {1, 1, 1}};

static void run_path(mcl_gemm_path path)
{
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int dt = 0; dt < 3; dt++) {
            if (path == MCL_GEMM_MMA && dt == MCL_DTYPE_F32) continue;
            const float betas[] = {0.0f, 1.0f, 0.5f};
            for (int b = 0; b < (path == MCL_GEMM_GEMV ? 2 : 3); b++)
                check_one(path, shapes[s][0], shapes[s][1], shapes[s][2], (mcl_dtype)dt, betas[b]);
        }
}

static void test_gemm_simt(void **state) { (void)state; run_path(MCL_GEMM_SIMT); }
static void test_gemm_gemv(void **state) { (void)state; run_path(MCL_GEMM_GEMV); }
static void test_gemm_auto(void **state) { (void)state; run_path(MCL_GEMM_AUTO); }
static void test_gemm_clblast(void **state) { (void)state; run_path(MCL_GEMM_CLBLAST); }

/* gemm_cpu (CPU devices; elsewhere the path is refused as a caller's error) */
static void test_gemm_cpu(void **state)
{
    (void)state;
    if (rt->dev.type == MCL_DEVICE_TYPE_CPU) {
        run_path(MCL_GEMM_CPU);
        return;
    }
    assert_int_equal(mcl_op_matmul_path(rt, MCL_GEMM_CPU, "t", NULL, MCL_DTYPE_F16, 4, 4, NULL, 4, 0.0f, NULL),
                     MCL_ERR_INVALID_ARG);
    assert_non_null(strstr(mcl_last_error(), "CPU devices only"));
}

static void test_gemm_mma(void **state)
{
    (void)state;
    if (!mcl_caps_on(&rt->caps, MCL_CAP_MMA)) {
        printf("mma off on this device (%s): checking that the path is refused\n", rt->caps.cap[MCL_CAP_MMA].reason);
        cl_mem m = NULL;
        assert_int_equal(mcl_buffer_create(rt, CL_MEM_READ_WRITE, 64, "test", &m), MCL_OK);
        assert_int_equal(mcl_op_matmul_path(rt, MCL_GEMM_MMA, "t", m, MCL_DTYPE_F16, 2, 2, m, 2, 0.0f, m),
                         MCL_ERR_INVALID_ARG);
        mcl_buffer_release(&m);
        return;
    }
    run_path(MCL_GEMM_MMA);
    /* split-K and several blocks: a shape that takes more than one K slice */
    check_one(MCL_GEMM_MMA, 40, 72, 2053, MCL_DTYPE_BF16, 1.0f);
    check_one(MCL_GEMM_MMA, 300, 260, 1024, MCL_DTYPE_F16, 0.0f);
}

/* Other configurations of gemm.cl (those the timing runs compare; each
 * applied over the defaults, skipped when it does not fit the device):
 * rebuilt, then a few shapes on every path the device takes. */
static const char *const configs[] = {
    "GEMM_SWZ=1",
    /* gemm_cpu (CPUs): 8 lanes, and 16 lanes on 8 x 8 blocks (edges in every
     * block of the shapes below); gemm_simt instead of it */
    "GEMM_CPUK=1,GEMM_CVW=8",
    "GEMM_CPUK=1,GEMM_CVW=16,GEMM_SW=2,GEMM_ST=4",
    "GEMM_CPUK=0,GEMM_ST=8",
    "GEMM_SWZ=1,GEMM_STAGES=3",
    "GEMM_BM=128,GEMM_BN=128,GEMM_BK=16,GEMM_WM=2,GEMM_WN=4,GEMM_STAGES=3",
    "GEMM_BM=64,GEMM_BN=256,GEMM_BK=16,GEMM_WM=2,GEMM_WN=4,GEMM_STAGES=3",
    "GEMM_BM=128,GEMM_BN=64,GEMM_BK=32,GEMM_WM=4,GEMM_WN=2",
    "GEMM_BM=64,GEMM_BN=128,GEMM_BK=64",
    "GEMM_BM=128,GEMM_BN=128,GEMM_BK=32,GEMM_WM=2,GEMM_WN=4",
    "GEMM_BK=16,GEMM_STAGES=4",
    /* A split inside the GEMM (GEMM_FUSE) and the 36 KiB 128-row blocks of
     * padded rows at BK 16 that tools/gemm_device.sh sweeps */
    "GEMM_FUSE=1",
    "GEMM_FUSE=2",
    "GEMM_FUSE=1,GEMM_BK=16,GEMM_STAGES=4",
    "GEMM_FUSE=2,GEMM_BK=16,GEMM_STAGES=3",
    "GEMM_FUSE=2,GEMM_SWZ=1,GEMM_STAGES=3",
    "GEMM_BM=128,GEMM_BN=128,GEMM_BK=16,GEMM_WM=2,GEMM_WN=2",
    "GEMM_BM=128,GEMM_BN=128,GEMM_BK=16,GEMM_WM=2,GEMM_WN=4",
    "GEMM_FUSE=2,GEMM_BM=128,GEMM_BN=128,GEMM_BK=16,GEMM_WM=2,GEMM_WN=2",
    "GEMM_FUSE=2,GEMM_BM=128,GEMM_BN=128,GEMM_BK=16,GEMM_WM=2,GEMM_WN=4",
    "GEMM_BM=64,GEMM_BN=256,GEMM_BK=16,GEMM_WM=2,GEMM_WN=4",
    "GEMM_FUSE=2,GEMM_BM=64,GEMM_BN=256,GEMM_BK=16,GEMM_WM=2,GEMM_WN=4",
    /* session 9's sweep: 48 KiB blocks with the unchecked loads and the
     * per-m16-tile fragment order */
    "GEMM_BM=128,GEMM_BN=128,GEMM_BK=32,GEMM_SWZ=1,GEMM_LDF=1",
    "GEMM_BM=128,GEMM_BN=256,GEMM_BK=16,GEMM_SWZ=1,GEMM_STAGES=3,GEMM_WN=4,GEMM_LDF=1",
    "GEMM_FAST=0",
    "GEMM_SW=8,GEMM_ST=4,GEMM_SBK=16",
    "GEMM_SW=16,GEMM_ST=2",
};

static void apply_config(mcl_params *p, const char *spec)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        char *eq = strchr(t, '=');
        assert_non_null(eq);
        *eq = '\0';
        mcl_params_set(p, t, strtol(eq + 1, NULL, 10));
    }
}

static void test_gemm_configs(void **state)
{
    (void)state;
    const mcl_params *cur = mcl_runtime_params(rt, "gemm.cl");
    assert_non_null(cur);
    mcl_params base = *cur;
    int tested = 0;
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
        bool simt = strstr(configs[c], "GEMM_SW=") || strstr(configs[c], "GEMM_ST=") || strstr(configs[c], "GEMM_SBK=") ||
                    strstr(configs[c], "GEMM_CPUK=") || strstr(configs[c], "GEMM_CVW=");
        if (!simt && !mcl_caps_on(&rt->caps, MCL_CAP_MMA)) continue; /* changes nothing that runs here */
        mcl_params p = base;
        apply_config(&p, configs[c]);
        if (!mcl_tune_gemm_fits(&rt->dev, &p)) continue;
        mcl_status st = mcl_runtime_rebuild(rt, "gemm.cl", &p);
        if (st != MCL_OK) printf("%s: %s\n", configs[c], mcl_last_error());
        assert_int_equal(st, MCL_OK);
        static const mcl_gemm_path paths[] = {MCL_GEMM_SIMT, MCL_GEMM_MMA, MCL_GEMM_CPU};
        for (int q = 0; q < 3; q++) {
            mcl_gemm_path path = paths[q];
            if (path == MCL_GEMM_MMA && !mcl_caps_on(&rt->caps, MCL_CAP_MMA)) continue;
            if (path == MCL_GEMM_CPU && rt->dev.type != MCL_DEVICE_TYPE_CPU) continue;
            check_one(path, 33, 129, 2053, MCL_DTYPE_BF16, 1.0f);
            check_one(path, 129, 33, 1024, MCL_DTYPE_F16, 0.0f);
            check_one(path, 7, 2053, 40, MCL_DTYPE_F16, 0.5f);
        }
        tested++;
    }
    assert_int_equal(mcl_runtime_rebuild(rt, "gemm.cl", &base), MCL_OK);
    printf("gemm configurations: %d of %zu fit and pass\n", tested, sizeof configs / sizeof configs[0]);
    assert_true(tested >= 2);
}

/* GEMM_SKRED (the split-K slabs added inside the GEMM by the last slice of
 * each C tile) against gemm_reduce: bitwise the same C, on gemm_simt and
 * (where the capability is on) the mma path, at shapes that take 2..4 K
 * slices with one or several C tiles (on a 2-CU PoCL device and on the
 * H200), beta 0 and 1, and a second product in a row (the counters were
 * left at zero). Same inputs for both: the generator state is replayed. */
static void test_gemm_skred(void **state)
{
    (void)state;
    static const int sh[][3] = {{7, 29, 2053}, {33, 20, 1030}, {70, 136, 1032}};
    const mcl_params *cur = mcl_runtime_params(rt, "gemm.cl");
    assert_non_null(cur);
    mcl_params base = *cur, p = base;
    mcl_params_set(&p, MCL_T_GEMM_SPLITK, 4);
    enum { MAXC = 70 * 136 };
    static float want[3][2][2][MAXC], got[MAXC];
    uint64_t seed = rng;
    for (int red = 0; red < 2; red++) {
        mcl_params_set(&p, MCL_T_GEMM_SKRED, red);
        assert_int_equal(mcl_runtime_rebuild(rt, "gemm.cl", &p), MCL_OK);
        for (int path = 0; path < 2; path++) {
            mcl_gemm_path gp = path ? MCL_GEMM_MMA : MCL_GEMM_SIMT;
            if (gp == MCL_GEMM_MMA && !mcl_caps_on(&rt->caps, MCL_CAP_MMA)) continue;
            rng = seed;
            for (int s = 0; s < 3; s++)
                for (int b = 0; b < 2; b++) {
                    mcl_dtype dt = (s + b) % 2 ? MCL_DTYPE_BF16 : MCL_DTYPE_F16;
                    size_t cn = (size_t)sh[s][0] * sh[s][1];
                    for (int rep = 0; rep < 1 + red; rep++) {
                        uint64_t before = rng;
                        check_into(gp, sh[s][0], sh[s][1], sh[s][2], dt, (float)b, red ? got : want[s][b][path]);
                        if (red && memcmp(got, want[s][b][path], cn * 4) != 0)
                            fail_msg("%s %dx%dx%d beta %d (run %d): GEMM_SKRED=1 differs from gemm_reduce",
                                     mcl_gemm_path_name(gp), sh[s][0], sh[s][1], sh[s][2], b, rep + 1);
                        if (rep == 0 && red) rng = before; /* the second run: the same inputs again */
                    }
                }
        }
    }
    assert_non_null(rt->gemm_ws[3]); /* the counters were made: some product took several slices */
    assert_int_equal(mcl_runtime_rebuild(rt, "gemm.cl", &base), MCL_OK);
}

static void slab_read(cl_mem m, void *host, size_t bytes)
{
    assert_int_equal(clEnqueueReadBuffer(rt->queue, m, CL_TRUE, 0, bytes, host, 0, NULL, NULL), CL_SUCCESS);
}

static void close_to(const float *got, const float *want, size_t n, double tol, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)got[i] - want[i]) <= tol * (1.0 + fabs(want[i]))))
            fail_msg("%s: [%zu] = %g, want %g", what, i, got[i], want[i]);
}

/* mcl_op_matmul_slabs with its consumers (gemm.cl rebuilt with GEMM_SPLITK 4,
 * more slices wanted than the grid needs, no gemv rows, so every product
 * below takes several K slices): mcl_op_slabs_reduce, conv_step_parts
 * (beta 0: in_proj + conv step) and rmsnorm_parts (beta 1: out_proj into
 * the residual + the next norm) give bitwise what mcl_op_matmul followed by
 * mcl_kern_conv_step / mcl_kern_rmsnorm gives, and those are within
 * tolerance of the C references (ref_gemm, ref_conv_step,
 * ref_rmsnorm_residual). Odd sizes, F16 and BF16 (and F32 off the mma path),
 * slots out of order; mma where the capability is on (the H200), gemm_simt
 * elsewhere and with MAMBACL_DISABLE=mma. */
static void test_gemm_slabs(void **state)
{
    (void)state;
    const mcl_params *cur = mcl_runtime_params(rt, "gemm.cl");
    assert_non_null(cur);
    mcl_params base = *cur, p = base;
    mcl_params_set(&p, MCL_T_GEMM_SPLITK, 4);
    mcl_params_set(&p, MCL_T_GEMM_SKW, 64);
    mcl_params_set(&p, MCL_T_GEMM_GEMV_MAX_ROWS, 0);
    mcl_params_set(&p, MCL_T_GEMM_CPUK, 0); /* gemm_cpu takes no K slices */
    assert_int_equal(mcl_runtime_rebuild(rt, "gemm.cl", &p), MCL_OK);
    /* B rows, d_inner (xz rows of 2 * DI), K; D, K for the norm */
    static const int cv[][3] = {{5, 20, 1030}, {3, 37, 2053}};
    static const int nm[][3] = {{7, 29, 2053}, {2, 40, 1030}};
    for (int dt = 0; dt < 3; dt++) {
        if (dt == MCL_DTYPE_F32 && mcl_caps_on(&rt->caps, MCL_CAP_MMA)) continue; /* F32 W: simt there too */
        for (int c = 0; c < 2; c++) {
            /* in_proj [2*DI, K] + conv step, K taps 4, conv bias, slots reversed */
            const int B = cv[c][0], DI = cv[c][1], K = cv[c][2], N = 2 * DI, KC = 4, taps = DI * (KC - 1);
            size_t an = (size_t)B * K, wn = (size_t)N * K, cn = (size_t)B * N;
            float *A = malloc(an * 4), *wf = malloc(wn * 4), *cw = malloc((size_t)DI * KC * 4),
                  *cb = malloc((size_t)DI * 4), *st0 = malloc((size_t)B * taps * 4), *xz1 = malloc(cn * 4),
                  *xz2 = malloc(cn * 4), *xc1 = malloc((size_t)B * DI * 4), *xc2 = malloc((size_t)B * DI * 4),
                  *s1 = malloc((size_t)B * taps * 4), *s2 = malloc((size_t)B * taps * 4),
                  *rxz = calloc(cn, 4), *rxc = malloc((size_t)B * DI * 4), *rst = malloc((size_t)B * taps * 4);
            void *W = malloc(wn * 4);
            int *slot = malloc((size_t)B * sizeof(int));
            assert_true(A && wf && cw && cb && st0 && xz1 && xz2 && xc1 && xc2 && s1 && s2 && rxz && rxc && rst && W &&
                        slot);
            for (size_t i = 0; i < an; i++) A[i] = frand();
            for (size_t i = 0; i < wn; i++) wf[i] = frand();
            for (int i = 0; i < DI * KC; i++) cw[i] = frand();
            for (int i = 0; i < DI; i++) cb[i] = frand();
            for (int i = 0; i < B * taps; i++) st0[i] = frand();
            for (int b = 0; b < B; b++) slot[b] = B - 1 - b;
            assert_int_equal(mcl_half_convert_from_f32(wf, (mcl_dtype)dt, W, wn), MCL_OK);
            cl_mem bA = upload(A, an * 4), bW = upload(W, wn * mcl_half_dtype_size((mcl_dtype)dt));
            cl_mem bcw = upload(cw, (size_t)DI * KC * 4), bcb = upload(cb, (size_t)DI * 4);
            cl_mem bslot = upload(slot, (size_t)B * sizeof(int)), bxz = upload(xz1, cn * 4);
            cl_mem bxc = upload(xc1, (size_t)B * DI * 4), bst = upload(st0, (size_t)B * taps * 4);
            mcl_kern_state ks = {bst, 0, bslot, (uint64_t)taps};
            mcl_kern_view xv = {bxz, 0, N};
            for (int run = 0; run < 2; run++) {
                assert_int_equal(clEnqueueWriteBuffer(rt->queue, bst, CL_TRUE, 0, (size_t)B * taps * 4, st0, 0, NULL,
                                                      NULL), CL_SUCCESS);
                if (run == 0) {
                    assert_int_equal(mcl_op_matmul(rt, "in_proj", bW, (mcl_dtype)dt, N, K, bA, B, 0.0f, bxz), MCL_OK);
                    assert_int_equal(mcl_kern_conv_step(rt, &xv, bcw, bcb, &ks, B, DI, KC, bxc), MCL_OK);
                } else {
                    mcl_gemm_slabs sl;
                    assert_int_equal(mcl_op_matmul_slabs(rt, "in_proj", bW, (mcl_dtype)dt, N, K, bA, B, 0.0f, bxz, &sl),
                                     MCL_OK);
                    assert_true(sl.n > 1);
                    assert_int_equal(mcl_kern_conv_step_parts(rt, sl.buf, sl.n, sl.stride, bxz, N, bcw, bcb, &ks, B,
                                                              DI, KC, bxc), MCL_OK);
                }
                slab_read(bxz, run ? xz2 : xz1, cn * 4);
                slab_read(bxc, run ? xc2 : xc1, (size_t)B * DI * 4);
                slab_read(bst, run ? s2 : s1, (size_t)B * taps * 4);
            }
            if (memcmp(xz1, xz2, cn * 4) || memcmp(xc1, xc2, (size_t)B * DI * 4) || memcmp(s1, s2, (size_t)B * taps * 4))
                fail_msg("conv_step_parts differs from gemm_reduce + conv_step (dtype %d, B %d, d_inner %d)", dt, B, DI);
            ref_gemm(A, W, (mcl_dtype)dt, rxz, B, N, K, 0.0f);
            memcpy(rst, st0, (size_t)B * taps * 4);
            ref_conv_step(rxz, N, cw, cb, rst, 0, slot, (size_t)taps, B, DI, KC, rxc);
            close_to(xz2, rxz, cn, 2e-4 * sqrt((double)K), "xz against ref_gemm");
            close_to(xc2, rxc, (size_t)B * DI, 2e-4 * sqrt((double)K), "xc against ref_conv_step");
            close_to(s2, rst, (size_t)B * taps, 2e-4 * sqrt((double)K), "conv state against ref_conv_step");
            mcl_buffer_release(&bA), mcl_buffer_release(&bW), mcl_buffer_release(&bcw), mcl_buffer_release(&bcb);
            mcl_buffer_release(&bslot), mcl_buffer_release(&bxz), mcl_buffer_release(&bxc), mcl_buffer_release(&bst);
            free(A), free(wf), free(cw), free(cb), free(st0), free(xz1), free(xz2), free(xc1), free(xc2), free(s1);
            free(s2), free(rxz), free(rxc), free(rst), free(W), free(slot);
        }
        for (int c = 0; c < 2; c++) {
            /* out_proj [D, K] accumulating into the residual h [T, D], then the norm */
            const int T = nm[c][0], D = nm[c][1], K = nm[c][2];
            size_t an = (size_t)T * K, wn = (size_t)D * K, cn = (size_t)T * D;
            float *A = malloc(an * 4), *wf = malloc(wn * 4), *h0 = malloc(cn * 4), *nw = malloc((size_t)D * 4),
                  *h1 = malloc(cn * 4), *h2 = malloc(cn * 4), *o1 = malloc(cn * 4), *o2 = malloc(cn * 4),
                  *rh = malloc(cn * 4), *ro = malloc(cn * 4), *r1 = malloc(cn * 4);
            void *W = malloc(wn * 4);
            assert_true(A && wf && h0 && nw && h1 && h2 && o1 && o2 && rh && ro && r1 && W);
            for (size_t i = 0; i < an; i++) A[i] = frand();
            for (size_t i = 0; i < wn; i++) wf[i] = frand();
            for (size_t i = 0; i < cn; i++) h0[i] = frand() * 3.0f;
            for (int i = 0; i < D; i++) nw[i] = 1.0f + 0.1f * frand();
            assert_int_equal(mcl_half_convert_from_f32(wf, (mcl_dtype)dt, W, wn), MCL_OK);
            cl_mem bA = upload(A, an * 4), bW = upload(W, wn * mcl_half_dtype_size((mcl_dtype)dt));
            cl_mem bh = upload(h0, cn * 4), bnw = upload(nw, (size_t)D * 4), bo = upload(h0, cn * 4);
            for (int run = 0; run < 3; run++) {
                assert_int_equal(clEnqueueWriteBuffer(rt->queue, bh, CL_TRUE, 0, cn * 4, h0, 0, NULL, NULL),
                                 CL_SUCCESS);
                mcl_gemm_slabs sl;
                if (run == 0) {
                    assert_int_equal(mcl_op_matmul(rt, "out_proj", bW, (mcl_dtype)dt, D, K, bA, T, 1.0f, bh), MCL_OK);
                    assert_int_equal(mcl_kern_rmsnorm(rt, bh, NULL, bnw, 1e-5f, bo, NULL, T, D), MCL_OK);
                } else {
                    assert_int_equal(mcl_op_matmul_slabs(rt, "out_proj", bW, (mcl_dtype)dt, D, K, bA, T, 1.0f, bh, &sl),
                                     MCL_OK);
                    assert_true(sl.n > 1);
                    if (run == 1)
                        assert_int_equal(mcl_kern_rmsnorm_parts(rt, bh, sl.buf, sl.n, sl.stride, bnw, 1e-5f, bo, T, D),
                                         MCL_OK);
                    else /* the reduction the slabs left out, alone */
                        assert_int_equal(mcl_op_slabs_reduce(rt, &sl, T, D, 1.0f, bh), MCL_OK);
                }
                slab_read(bh, run == 0 ? h1 : h2, cn * 4);
                if (run < 2) slab_read(bo, run == 0 ? o1 : o2, cn * 4);
                if (run > 0 && memcmp(h1, h2, cn * 4))
                    fail_msg("%s: the residual differs from gemm_reduce's (dtype %d, %d x %d)",
                             run == 1 ? "rmsnorm_parts" : "mcl_op_slabs_reduce", dt, T, D);
            }
            if (memcmp(o1, o2, cn * 4)) fail_msg("rmsnorm_parts differs from rmsnorm_residual (dtype %d)", dt);
            memcpy(rh, h0, cn * 4);
            ref_gemm(A, W, (mcl_dtype)dt, rh, T, D, K, 1.0f);
            memcpy(r1, rh, cn * 4);
            ref_rmsnorm_residual(r1, NULL, nw, 1e-5f, ro, NULL, T, D);
            close_to(h2, rh, cn, 2e-4 * sqrt((double)K), "residual against ref_gemm");
            close_to(o2, ro, cn, 2e-4 * sqrt((double)K), "norm against ref_rmsnorm_residual");
            mcl_buffer_release(&bA), mcl_buffer_release(&bW), mcl_buffer_release(&bh), mcl_buffer_release(&bnw);
            mcl_buffer_release(&bo);
            free(A), free(wf), free(h0), free(nw), free(h1), free(h2), free(o1), free(o2), free(rh), free(ro);
            free(r1), free(W);
        }
    }
    assert_int_equal(mcl_runtime_rebuild(rt, "gemm.cl", &base), MCL_OK);
}

/* GEMM_FAST (unchecked stage loads in blocks inside the matrix, float2 C
 * stores) and GEMM_LDF (per m16 tile A fragments) against the plain mma
 * kernel: bitwise the same C, at shapes with interior and edge blocks (and
 * K % 8 != 0, odd N: the checked paths), beta 0 and 1; each C also against
 * the C reference (check_into). Only where the mma capability is on (the
 * H200): nothing of this runs elsewhere. */
static void test_gemm_fast(void **state)
{
    (void)state;
    if (!mcl_caps_on(&rt->caps, MCL_CAP_MMA)) return;
    static const int sh[][3] = {{130, 300, 1032}, {64, 256, 2048}, {200, 136, 40}, {65, 131, 1030}};
    static const int set[][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}}; /* GEMM_FAST, GEMM_LDF */
    const mcl_params *cur = mcl_runtime_params(rt, "gemm.cl");
    assert_non_null(cur);
    mcl_params base = *cur, p = base;
    enum { MAXC = 200 * 300 };
    static float want[4][2][MAXC], got[MAXC];
    uint64_t seed = rng;
    for (int c = 0; c < 4; c++) {
        mcl_params_set(&p, MCL_T_GEMM_FAST, set[c][0]);
        mcl_params_set(&p, MCL_T_GEMM_LDF, set[c][1]);
        assert_int_equal(mcl_runtime_rebuild(rt, "gemm.cl", &p), MCL_OK);
        rng = seed;
        for (int s = 0; s < 4; s++)
            for (int b = 0; b < 2; b++) {
                mcl_dtype dt = (s + b) % 2 ? MCL_DTYPE_BF16 : MCL_DTYPE_F16;
                check_into(MCL_GEMM_MMA, sh[s][0], sh[s][1], sh[s][2], dt, (float)b, c ? got : want[s][b]);
                if (c && memcmp(got, want[s][b], (size_t)sh[s][0] * sh[s][1] * 4) != 0)
                    fail_msg("mma %dx%dx%d beta %d: GEMM_FAST=%d,GEMM_LDF=%d differs from 0,0", sh[s][0], sh[s][1],
                             sh[s][2], b, set[c][0], set[c][1]);
            }
    }
    assert_int_equal(mcl_runtime_rebuild(rt, "gemm.cl", &base), MCL_OK);
    printf("gemm GEMM_FAST / GEMM_LDF: bitwise the plain mma kernel at 4 shapes, beta 0 and 1\n");
}

static bool long_tests(void)
{
    const char *v = getenv("MAMBACL_TEST_LONG");
    return v && strcmp(v, "1") == 0;
}

/* Every candidate of gemm.cl's tuning space for this device, over the
 * current configuration (the mma tiles, K steps, stages, split-K caps and
 * thresholds on the H200; gemm_simt's tunables and the thresholds on PoCL,
 * where only the first is built unless MAMBACL_TEST_LONG=1: test_gemm_configs
 * covers other gemm_simt shapes):
 * rebuilt, then the path the dispatch takes at a few odd shapes against
 * the reference, and the tuner's own check (mcl_selftest_gemm_shapes). */
static void test_gemm_space(void **state)
{
    (void)state;
    const mcl_params *cur = mcl_runtime_params(rt, "gemm.cl");
    assert_non_null(cur);
    mcl_params base = *cur;
    static mcl_params cands[256];
    int n = mcl_tune_candidates(&mcl_family_gemm, &rt->dev, &base, cands, 256), tested = 0;
    assert_true(n >= 1);
    bool all = mcl_caps_on(&rt->caps, MCL_CAP_MMA) || long_tests();
    for (int i = 0; i < (all ? n : 1); i++) {
        assert_int_equal(mcl_runtime_rebuild(rt, "gemm.cl", &cands[i]), MCL_OK);
        check_one(MCL_GEMM_AUTO, 33, 129, 2053, MCL_DTYPE_BF16, 1.0f);
        check_one(MCL_GEMM_AUTO, 2053, 33, 40, MCL_DTYPE_F16, 0.0f);
        check_one(MCL_GEMM_AUTO, 7, 129, 33, MCL_DTYPE_F32, 1.0f);
        bool ok = false;
        assert_int_equal(mcl_selftest_gemm_shapes(rt, &ok), MCL_OK);
        assert_true(ok);
        tested++;
    }
    assert_int_equal(mcl_runtime_rebuild(rt, "gemm.cl", &base), MCL_OK);
    printf("gemm tuning space: %d of %d candidates built and checked\n", tested, n);
}

/* gemm_split_a against the host's F16/BF16 rounding: magnitudes from F16
 * subnormals to 6e4, signs, zeros, K not a multiple of 4, zero padding. */
static void test_gemm_split(void **state)
{
    (void)state;
    enum { M = 5, K = 37, LDA = 40 };
    float a[M * K];
    for (int i = 0; i < M * K; i++) {
        float mag = powf(10.0f, -7.5f + 12.0f * (float)((i * 37) % 101) / 100.0f);
        a[i] = (i % 3 == 0 ? -1.0f : 1.0f) * mag * (1.0f + 0.37f * frand());
    }
    a[3] = 0.0f;
    a[7] = -0.0f;
    a[11] = 65504.0f;
    cl_mem bA = upload(a, sizeof a), bH = NULL, bL = NULL;
    assert_int_equal(mcl_buffer_create(rt, CL_MEM_READ_WRITE, M * LDA * 2, "hi", &bH), MCL_OK);
    assert_int_equal(mcl_buffer_create(rt, CL_MEM_READ_WRITE, M * LDA * 2, "lo", &bL), MCL_OK);
    for (int dt = MCL_DTYPE_F16; dt <= MCL_DTYPE_BF16; dt++) {
        uint16_t hi[M * LDA], lo[M * LDA];
        assert_int_equal(mcl_op_gemm_split(rt, bA, M, K, LDA, (mcl_dtype)dt, 2, bH, bL), MCL_OK);
        assert_int_equal(clEnqueueReadBuffer(rt->queue, bH, CL_TRUE, 0, sizeof hi, hi, 0, NULL, NULL), CL_SUCCESS);
        assert_int_equal(clEnqueueReadBuffer(rt->queue, bL, CL_TRUE, 0, sizeof lo, lo, 0, NULL, NULL), CL_SUCCESS);
        for (int r = 0; r < M; r++)
            for (int c = 0; c < LDA; c++) {
                float v = c < K ? a[r * K + c] : 0.0f;
                bool f16 = dt == MCL_DTYPE_F16;
                uint16_t h = f16 ? mcl_half_from_float(v) : mcl_bf16_from_float(v);
                float hv = f16 ? mcl_half_to_float(h) : mcl_bf16_to_float(h);
                uint16_t l = f16 ? mcl_half_from_float(v - hv) : mcl_bf16_from_float(v - hv);
                if (hi[r * LDA + c] != h || lo[r * LDA + c] != l)
                    fail_msg("split dtype %d [%d, %d] of %g: %04x %04x, want %04x %04x", dt, r, c, (double)v,
                             hi[r * LDA + c], lo[r * LDA + c], h, l);
            }
    }
    assert_int_equal(mcl_op_gemm_split(rt, bA, M, K, 38, MCL_DTYPE_F16, 2, bH, bL), MCL_ERR_INVALID_ARG);
    mcl_buffer_release(&bA);
    mcl_buffer_release(&bH);
    mcl_buffer_release(&bL);
}

/* rmsnorm_split's parts and residual against rmsnorm_residual + gemm_split_a,
 * bit for bit: T rows of D (D not a multiple of 8: zero padding), F16 and
 * BF16, split 1 and 2, with and without the residual add. Returns the
 * normalized fp32 rows (T * D floats, malloc'd) of the last case's
 * rmsnorm_residual (no delta, BF16 split 2 order: the caller's A). */
static void check_norm_split(int T, int D, mcl_dtype dt, int split, bool with_delta)
{
    int lda = (D + 7) / 8 * 8;
    size_t n = (size_t)T * D, np = (size_t)T * lda;
    float *h = malloc(n * 4), *d = malloc(n * 4), *w = malloc((size_t)D * 4), *r1 = malloc(n * 4), *r2 = malloc(n * 4);
    uint16_t *h1 = malloc(np * 2), *l1 = malloc(np * 2), *h2 = malloc(np * 2), *l2 = malloc(np * 2);
    assert_true(h && d && w && r1 && r2 && h1 && l1 && h2 && l2);
    for (size_t i = 0; i < n; i++) h[i] = frand() * 3.0f, d[i] = frand();
    for (int i = 0; i < D; i++) w[i] = 1.0f + 0.5f * frand();
    cl_mem bh1 = upload(h, n * 4), bh2 = upload(h, n * 4), bd = upload(d, n * 4), bw = upload(w, (size_t)D * 4);
    cl_mem bo = upload(h, n * 4), bH1 = upload(h1, np * 2), bL1 = upload(l1, np * 2), bH2 = upload(h2, np * 2),
           bL2 = upload(l2, np * 2);
    memset(l1, 0, np * 2), memset(l2, 0, np * 2);
    assert_int_equal(mcl_kern_rmsnorm(rt, bh1, with_delta ? bd : NULL, bw, 1e-5f, bo, NULL, T, D), MCL_OK);
    assert_int_equal(mcl_op_gemm_split(rt, bo, T, D, lda, dt, split, bH1, bL1), MCL_OK);
    assert_int_equal(mcl_kern_rmsnorm_split(rt, bh2, with_delta ? bd : NULL, bw, 1e-5f, bH2, bL2, lda, dt, split, T, D),
                     MCL_OK);
    slab_read(bH1, h1, np * 2), slab_read(bH2, h2, np * 2), slab_read(bh1, r1, n * 4), slab_read(bh2, r2, n * 4);
    if (split == 2) slab_read(bL1, l1, np * 2), slab_read(bL2, l2, np * 2);
    for (size_t i = 0; i < np; i++)
        if (h1[i] != h2[i] || l1[i] != l2[i])
            fail_msg("rmsnorm_split T %d D %d dtype %d split %d delta %d: part [%zu] %04x %04x, want %04x %04x", T,
                     D, (int)dt, split, with_delta, i, h2[i], l2[i], h1[i], l1[i]);
    assert_memory_equal(r1, r2, n * 4); /* the residual add, in place */
    cl_mem all[] = {bh1, bh2, bd, bw, bo, bH1, bL1, bH2, bL2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) mcl_buffer_release(&all[i]);
    free(h), free(d), free(w), free(r1), free(r2), free(h1), free(l1), free(h2), free(l2);
}

/* The GEMM on A split by its producer (mcl_op_matmul_presplit + parts)
 * against the GEMM on fp32 A through its own split pass: the same C bit for
 * bit where the mma path runs; refused where it does not. */
static void check_presplit_gemm(int M, int N, int K, mcl_dtype dt)
{
    size_t an = (size_t)M * K, wn = (size_t)N * K, cn = (size_t)M * N;
    float *A = malloc(an * 4), *wf = malloc(wn * 4), *ones = malloc((size_t)K * 4), *c1 = malloc(cn * 4),
          *c2 = malloc(cn * 4);
    void *W = malloc(wn * 2);
    assert_true(A && wf && ones && c1 && c2 && W);
    for (size_t i = 0; i < an; i++) A[i] = frand() * 2.0f;
    for (size_t i = 0; i < wn; i++) wf[i] = frand();
    for (int i = 0; i < K; i++) ones[i] = 1.0f + 0.25f * frand();
    assert_int_equal(mcl_half_convert_from_f32(wf, dt, W, wn), MCL_OK);
    cl_mem bA = upload(A, an * 4), bA2 = upload(A, an * 4), bW = upload(W, wn * 2), bn = upload(ones, (size_t)K * 4);
    cl_mem bX = upload(A, an * 4), bC1 = upload(c1, cn * 4), bC2 = upload(c2, cn * 4);
    mcl_gemm_parts p;
    bool on = true;
    assert_int_equal(mcl_op_matmul_presplit(rt, dt, M, N, K, 0.0f, &p, &on), MCL_OK);
    if (!on) {
        printf("presplit off for %d x %d x %d (path %s): mcl_op_matmul_parts refuses\n", M, N, K,
               mcl_gemm_path_name(mcl_op_matmul_choice(rt, dt, M, N, K, 0.0f)));
        mcl_gemm_parts bad = {bX, bX, (K + 7) / 8 * 8, 2, dt};
        assert_int_equal(mcl_op_matmul_parts(rt, "t", bW, dt, N, K, &bad, M, 0.0f, bC2), MCL_ERR_INVALID_ARG);
        mcl_error_clear();
    } else {
        /* X = rmsnorm(A) * ones as fp32, then the GEMM on X through gemm_split_a ... */
        assert_int_equal(mcl_kern_rmsnorm(rt, bA, NULL, bn, 1e-5f, bX, NULL, M, K), MCL_OK);
        assert_int_equal(mcl_op_matmul_path(rt, MCL_GEMM_MMA, "t", bW, dt, N, K, bX, M, 0.0f, bC1), MCL_OK);
        /* ... against the norm writing the parts and the GEMM reading them */
        assert_int_equal(mcl_op_matmul_presplit(rt, dt, M, N, K, 0.0f, &p, &on), MCL_OK);
        assert_int_equal(mcl_kern_rmsnorm_split(rt, bA2, NULL, bn, 1e-5f, p.hi, p.lo, p.lda, p.dt, p.split, M, K),
                         MCL_OK);
        assert_int_equal(mcl_op_matmul_parts(rt, "t", bW, dt, N, K, &p, M, 0.0f, bC2), MCL_OK);
        slab_read(bC1, c1, cn * 4), slab_read(bC2, c2, cn * 4);
        assert_memory_equal(c1, c2, cn * 4);
        mcl_gemm_parts bad = p;
        bad.lda += 8;
        assert_int_equal(mcl_op_matmul_parts(rt, "t", bW, dt, N, K, &bad, M, 0.0f, bC2), MCL_ERR_INVALID_ARG);
        mcl_error_clear();
        setenv("MAMBACL_DISABLE", "gmma,presplit", 1);
        assert_int_equal(mcl_op_matmul_presplit(rt, dt, M, N, K, 0.0f, &p, &on), MCL_OK);
        unsetenv("MAMBACL_DISABLE");
        assert_false(on);
    }
    cl_mem all[] = {bA, bA2, bW, bn, bX, bC1, bC2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) mcl_buffer_release(&all[i]);
    free(A), free(wf), free(ones), free(c1), free(c2), free(W);
}

static void test_gemm_presplit(void **state)
{
    (void)state;
    for (int dt = MCL_DTYPE_F16; dt <= MCL_DTYPE_BF16; dt++)
        for (int split = 1; split <= 2; split++) {
            check_norm_split(3, 37, (mcl_dtype)dt, split, split == 2);
            check_norm_split(5, 64, (mcl_dtype)dt, split, split == 1);
        }
    check_presplit_gemm(129, 72, 37, MCL_DTYPE_F16);
    check_presplit_gemm(200, 136, 264, MCL_DTYPE_BF16);
}

static void test_gemm_bad_args(void **state)
{
    (void)state;
    cl_mem m = NULL;
    assert_int_equal(mcl_buffer_create(rt, CL_MEM_READ_WRITE, 64, "test", &m), MCL_OK);
    assert_int_equal(mcl_op_matmul(rt, "t", m, MCL_DTYPE_F16, 0, 2, m, 2, 0.0f, m), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_op_matmul(rt, "t", m, (mcl_dtype)7, 2, 2, m, 2, 0.0f, m), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_op_matmul_path(rt, MCL_GEMM_GEMV, "t", m, MCL_DTYPE_F16, 2, 2, m, 2, 0.5f, m),
                     MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_op_matmul(rt, "t", m, MCL_DTYPE_F16, 2, 2, m, 0, 0.0f, m), MCL_OK);
    mcl_buffer_release(&m);
}

/* ---- capabilities -------------------------------------------------------------- */

static void test_caps_disable(void **state)
{
    (void)state;
    mcl_caps c;
    assert_int_equal(mcl_caps_load(rt->platform, rt->device, &rt->dev, NULL, &c), MCL_OK);
    for (int i = 0; i < MCL_CAP_COUNT; i++) {
        if (c.cap[i].on) assert_string_equal(c.cap[i].reason, "");
        else assert_true(c.cap[i].reason[0] != '\0');
        printf("capability %-9s detected %d on %d %s\n", mcl_cap_name((mcl_cap_id)i), c.cap[i].detected,
               c.cap[i].on, c.cap[i].reason);
    }
    const char *old = getenv("MAMBACL_DISABLE");
    char saved[256] = "";
    if (old) snprintf(saved, sizeof saved, "%s", old);
    setenv("MAMBACL_DISABLE", "ptx,subgroups,fp16", 1);
    mcl_caps d;
    assert_int_equal(mcl_caps_load(rt->platform, rt->device, &rt->dev, rt->cache_dir, &d), MCL_OK);
    if (old) setenv("MAMBACL_DISABLE", saved, 1);
    else unsetenv("MAMBACL_DISABLE");
    for (int i = 0; i < MCL_CAP_COUNT; i++) {
        assert_false(d.cap[i].on); /* mma follows ptx */
        if (c.cap[i].on) assert_non_null(strstr(d.cap[i].reason, "MAMBACL_DISABLE"));
    }
    char defs[512] = "";
    mcl_caps_defines(&d, defs, sizeof defs);
    assert_non_null(strstr(defs, "-DMCL_CAP_MMA=0"));
    assert_non_null(strstr(defs, "-DMCL_CAP_PTX=0"));
    assert_non_null(strstr(rt->base_options, "-DMCL_CAP_MMA="));
}

/* The logits of the default model under a runtime whose `cap` probe answers
 * wrong stay within 1e-3 of Hugging Face's, and the capability is off. */
static void check_sabotage(const char *cap, mcl_cap_id id, const fwd_case *cases, int n_cases)
{
    setenv("MAMBACL_TEST_PROBE_WRONG", cap, 1);
    mcl_runtime *r = NULL;
    mcl_status st = mcl_runtime_create(NULL, &r);
    unsetenv("MAMBACL_TEST_PROBE_WRONG");
    assert_int_equal(st, MCL_OK);
    assert_true(r->caps.cap[id].detected);
    assert_false(r->caps.cap[id].on);
    printf("probe %s sabotaged: off (%s)\n", cap, r->caps.cap[id].reason);
    assert_non_null(strstr(r->caps.cap[id].reason, "probe"));
    mcl_caps natural;
    assert_int_equal(mcl_caps_load(r->platform, r->device, &r->dev, NULL, &natural), MCL_OK);
    if (natural.cap[id].on) assert_non_null(strstr(r->caps.cap[id].reason, "answered wrong"));
    mcl_model *m = NULL;
    assert_int_equal(mcl_model_load(r, fwd_model_dir(), &m), MCL_OK);
    for (int c = 0; c < n_cases; c++) {
        const fwd_case *k = &cases[c];
        mcl_state *s = NULL;
        assert_int_equal(mcl_state_create(m, &s), MCL_OK);
        float *logits = malloc((size_t)k->vocab * 4);
        const int32_t *toks[1] = {k->ids};
        int len[1] = {k->n_ids};
        assert_int_equal(mcl_prefill(m, &s, toks, len, 1, logits), MCL_OK);
        double e = 0.0;
        for (int i = 0; i < k->vocab; i++) e = fmax(e, fabs(logits[i] - (double)k->last_logits[i]));
        assert_true(e < 1e-3);
        assert_int_equal(fwd_argmax_f(logits, k->vocab), k->argmax[k->n_ids - 1]);
        free(logits);
        mcl_state_free(s);
    }
    mcl_model_free(m);
    mcl_runtime_free(r);
}

static void test_caps_probe_wrong(void **state)
{
    (void)state;
    fwd_case *cases = NULL;
    int n = fwd_cases_load(&cases);
    assert_true(n > 0);
    check_sabotage("fp16", MCL_CAP_FP16, cases, n);
    if (rt->caps.cap[MCL_CAP_MMA].on) check_sabotage("mma", MCL_CAP_MMA, cases, n);
    fwd_cases_free(cases, n);
}

/* ---- long-prompt BF16 parity: the device's GEMM path against the plain one ---- */

/* The bundled model (F16) with every 16-bit tensor rounded to BF16 (the
 * nearest BF16 of each F16 value), the F32 tensors as they are. */
static mcl_weights *bf16_weights(void)
{
    mcl_weights *src = NULL;
    assert_int_equal(mcl_weights_open(fwd_model_dir(), &src), MCL_OK);
    size_t slots = mcl_weight_slots(&src->arch->weights, src->cfg.n_layer), total = 0;
    for (size_t i = 0; i < slots; i++)
        if (src->t[i].data && src->t[i].dtype == MCL_DTYPE_F16) total += src->t[i].n;
    assert_true(total > 0);
    mcl_weights *w = calloc(1, sizeof *w);
    assert_non_null(w);
    *w = *src;
    w->t = malloc(slots * sizeof *w->t);
    w->arena = malloc(total * 2);
    assert_true(w->t && w->arena);
    memcpy(w->t, src->t, slots * sizeof *w->t);
    uint16_t *out = w->arena;
    for (size_t i = 0; i < slots; i++) {
        if (!w->t[i].data || w->t[i].dtype != MCL_DTYPE_F16) continue;
        const uint16_t *h = w->t[i].data;
        for (size_t k = 0; k < w->t[i].n; k++) out[k] = mcl_bf16_from_float(mcl_half_to_float(h[k]));
        w->t[i].data = out;
        w->t[i].dtype = MCL_DTYPE_BF16;
        out += w->t[i].n;
    }
    /* w owns the checkpoint now (its F32 tensors point into it) */
    src->checkpoint = NULL;
    mcl_weights_free(src);
    return w;
}

/* A runtime whose GEMM path at rows x (N, K) differs from rt's: the mma
 * capability off (MAMBACL_DISABLE=mma; CLBlast or gemm_simt then), and where
 * that alone leaves the same path (PoCL: gemm_simt both times) the gemv
 * path for every row count (GEMM_GEMV_MAX_ROWS raised: a different
 * summation order; CLBlast's would be gemm_simt's, one FMA per k in order,
 * and give the same bits). */
static mcl_runtime *plain_runtime(int rows, int N, int K, mcl_gemm_path *fast, mcl_gemm_path *plain)
{
    const char *old = getenv("MAMBACL_DISABLE");
    char saved[256] = "", want[300];
    if (old) snprintf(saved, sizeof saved, "%s", old);
    snprintf(want, sizeof want, "%s%smma", saved, saved[0] ? "," : "");
    setenv("MAMBACL_DISABLE", want, 1);
    mcl_runtime *r = NULL;
    mcl_status st = mcl_runtime_create(NULL, &r);
    if (old) setenv("MAMBACL_DISABLE", saved, 1);
    else unsetenv("MAMBACL_DISABLE");
    assert_int_equal(st, MCL_OK);
    assert_false(mcl_caps_on(&r->caps, MCL_CAP_MMA));
    *fast = mcl_op_matmul_choice(rt, MCL_DTYPE_BF16, rows, N, K, 0.0f);
    *plain = mcl_op_matmul_choice(r, MCL_DTYPE_BF16, rows, N, K, 0.0f);
    if (*plain == *fast) {
        mcl_params p = *mcl_runtime_params(r, "gemm.cl");
        mcl_params_set(&p, MCL_T_GEMM_GEMV_MAX_ROWS, 1L << 16);
        assert_int_equal(mcl_runtime_rebuild(r, "gemm.cl", &p), MCL_OK);
        *plain = mcl_op_matmul_choice(r, MCL_DTYPE_BF16, rows, N, K, 0.0f);
    }
    assert_true(*plain != *fast);
    return r;
}

/* The prompt: the reference prompts one after the other, repeated. */
static int32_t *long_prompt(int L)
{
    fwd_case *cases = NULL;
    int n = fwd_cases_load(&cases), at = 0;
    assert_true(n > 0);
    int32_t *t = malloc((size_t)L * sizeof *t);
    assert_non_null(t);
    for (int i = 0; i < L; i++) {
        const fwd_case *c = &cases[(i / 64) % n];
        t[i] = c->ids[at++ % c->n_ids];
    }
    fwd_cases_free(cases, n);
    return t;
}

/* Prefill of the prompt (all positions' logits into `all`), then `steps`
 * greedy decode steps into `greedy`. */
static void run_prompt(mcl_runtime *r, const mcl_weights *w, const int32_t *toks, int L, float *all, int steps,
                       int32_t *greedy)
{
    mcl_model *m = NULL;
    assert_int_equal(mcl_model_upload(r, w, NULL, &m), MCL_OK);
    mcl_state *s = NULL;
    assert_int_equal(mcl_state_create(m, &s), MCL_OK);
    const int32_t *tp[1] = {toks};
    int len[1] = {L};
    assert_int_equal(mcl_prefill_all(m, &s, tp, len, 1, all), MCL_OK);
    int v = w->cfg.vocab_size;
    float *logits = malloc((size_t)v * 4);
    assert_non_null(logits);
    int32_t t = fwd_argmax_f(all + (size_t)(L - 1) * v, v);
    for (int i = 0; i < steps; i++) {
        greedy[i] = t;
        assert_int_equal(mcl_decode(m, &s, &t, 1, logits), MCL_OK);
        t = fwd_argmax_f(logits, v);
    }
    free(logits);
    mcl_state_free(s);
    mcl_model_free(m);
}

/* The bundled model in BF16 on a long prompt (M = L rows in every
 * projection's GEMM): rt's path (mma on the H200, gemm_simt on PoCL) against
 * a plain runtime's (CLBlast or gemm_simt, mma off): the last logits within
 * 1e-3, the argmax at every position and the greedy continuation
 * identical. L is 4100 where MAMBACL_TEST_LONG=1 (tools/device_check.sh
 * sets it for the GPU run; 15 s on the 2-core PoCL machine) and 600 by
 * default (3 s; CI time), both above every block size. */
static void test_bf16_long_parity(void **state)
{
    (void)state;
    const char *lv = getenv("MAMBACL_TEST_LONG");
    const int L = lv && strcmp(lv, "1") == 0 ? 4100 : 600;
    enum { STEPS = 16 };
    mcl_weights *w = bf16_weights();
    const int v = w->cfg.vocab_size;
    mcl_gemm_path fast, plain;
    mcl_runtime *r2 = plain_runtime(L, 2 * w->cfg.d_inner, w->cfg.d_model, &fast, &plain);
    printf("bf16 parity, %d tokens: %s against %s\n", L, mcl_gemm_path_name(fast), mcl_gemm_path_name(plain));
    int32_t *toks = long_prompt(L);
    float *a = malloc((size_t)L * v * 4), *b = malloc((size_t)L * v * 4);
    assert_true(a && b);
    int32_t ga[STEPS], gb[STEPS];
    run_prompt(rt, w, toks, L, a, STEPS, ga);
    run_prompt(r2, w, toks, L, b, STEPS, gb);
    double last = 0.0, any = 0.0;
    for (int i = 0; i < v; i++) last = fmax(last, fabs((double)a[(size_t)(L - 1) * v + i] - b[(size_t)(L - 1) * v + i]));
    int differ = 0;
    for (int p = 0; p < L; p++) {
        const float *x = a + (size_t)p * v, *y = b + (size_t)p * v;
        for (int i = 0; i < v; i++) any = fmax(any, fabs((double)x[i] - y[i]));
        if (fwd_argmax_f(x, v) != fwd_argmax_f(y, v)) {
            if (differ++ < 5) fprintf(stderr, "argmax differs at position %d: %d vs %d\n", p, fwd_argmax_f(x, v), fwd_argmax_f(y, v));
        }
    }
    printf("bf16 parity: last logits max diff %.3g, all positions %.3g, argmax differs at %d of %d\n", last, any,
           differ, L);
    assert_true(last < 1e-3);
    assert_int_equal(differ, 0);
    assert_memory_equal(ga, gb, sizeof ga);
    free(a), free(b), free(toks);
    mcl_runtime_free(r2);
    mcl_weights_free(w);
}

static int setup(void **state)
{
    (void)state;
    if (mcl_runtime_create(NULL, &rt) != MCL_OK) {
        fprintf(stderr, "runtime: %s\n", mcl_last_error());
        return -1;
    }
    printf("device %s, mma %s (%s)\n", rt->dev.name, rt->caps.cap[MCL_CAP_MMA].on ? "on" : "off",
           rt->caps.cap[MCL_CAP_MMA].reason);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int p = 0; p <= MCL_GEMM_CPU; p++)
        if (worst[p] > 0) printf("%-8s max abs err %.3g\n", mcl_gemm_path_name((mcl_gemm_path)p), worst[p]);
    mcl_runtime_free(rt);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_simt),   cmocka_unit_test(test_gemm_gemv),
        cmocka_unit_test(test_gemm_auto),   cmocka_unit_test(test_gemm_clblast), cmocka_unit_test(test_gemm_cpu),
        cmocka_unit_test(test_gemm_mma),    cmocka_unit_test(test_gemm_configs),
        cmocka_unit_test(test_gemm_space),  cmocka_unit_test(test_gemm_skred),
        cmocka_unit_test(test_gemm_fast),   cmocka_unit_test(test_gemm_slabs),
        cmocka_unit_test(test_gemm_split),  cmocka_unit_test(test_gemm_presplit),
        cmocka_unit_test(test_gemm_bad_args),
        cmocka_unit_test(test_caps_disable), cmocka_unit_test(test_caps_probe_wrong),
        cmocka_unit_test(test_bf16_long_parity),
    };
    const char *filter = getenv("MCL_TEST_FILTER");
    if (filter && *filter) cmocka_set_test_filter(filter);
    return cmocka_run_group_tests(tests, setup, teardown);
}
