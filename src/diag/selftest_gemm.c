/* Tiny checked launches of gemm.cl's kernels. */
#include "diag/selftest_gemm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/half.h"
#include "ops/gemm.h"

static mcl_status put(mcl_runtime *rt, const void *host, size_t bytes, cl_mem *out)
{
    MCL_TRY(mcl_buffer_create(rt, CL_MEM_READ_WRITE, bytes, "selftest", out));
    if (host)
        MCL_CL_CHECK(clEnqueueWriteBuffer(rt->queue, *out, CL_TRUE, 0, bytes, host, 0, NULL, NULL),
                     "clEnqueueWriteBuffer(selftest)");
    return MCL_OK;
}

static mcl_status get(mcl_runtime *rt, cl_mem m, void *host, size_t bytes)
{
    MCL_CL_CHECK(clEnqueueReadBuffer(rt->queue, m, CL_TRUE, 0, bytes, host, 0, NULL, NULL),
                 "clEnqueueReadBuffer(selftest)");
    return MCL_OK;
}

static mcl_status release3(cl_mem *a, cl_mem *b, cl_mem *c, mcl_status st)
{
    mcl_buffer_release(a);
    mcl_buffer_release(b);
    mcl_buffer_release(c);
    return st;
}

mcl_status mcl_selftest_gemm_split(mcl_runtime *rt, bool *ok)
{
    enum { M = 2, K = 5, LDA = 8 };
    float a[M * K];
    uint16_t hi[M * LDA], lo[M * LDA];
    for (int i = 0; i < M * K; i++) a[i] = 1.0f / (float)(i + 3) - 0.2f;
    cl_mem A = NULL, H = NULL, L = NULL;
    mcl_status st = put(rt, a, sizeof a, &A);
    if (st == MCL_OK) st = put(rt, NULL, sizeof hi, &H);
    if (st == MCL_OK) st = put(rt, NULL, sizeof lo, &L);
    if (st == MCL_OK) st = mcl_op_gemm_split(rt, A, M, K, LDA, MCL_DTYPE_BF16, 2, H, L);
    if (st == MCL_OK) st = get(rt, H, hi, sizeof hi);
    if (st == MCL_OK) st = get(rt, L, lo, sizeof lo);
    *ok = st == MCL_OK;
    for (int r = 0; r < M && *ok; r++)
        for (int c = 0; c < LDA; c++) {
            float v = c < K ? a[r * K + c] : 0.0f;
            uint16_t h = mcl_bf16_from_float(v), l = mcl_bf16_from_float(v - mcl_bf16_to_float(h));
            if (hi[r * LDA + c] != h || lo[r * LDA + c] != l) *ok = false;
        }
    return release3(&A, &H, &L, st);
}

mcl_status mcl_selftest_gemm_reduce(mcl_runtime *rt, bool *ok)
{
    enum { S = 3, MN = 5 };
    float ws[S * MN], c[MN], out[MN];
    for (int i = 0; i < S * MN; i++) ws[i] = (float)i * 0.5f;
    for (int i = 0; i < MN; i++) c[i] = (float)i - 2.0f;
    cl_mem W = NULL, C = NULL, unused = NULL;
    cl_kernel k;
    MCL_TRY(mcl_runtime_kernel(rt, "gemm_reduce", &k));
    mcl_status st = put(rt, ws, sizeof ws, &W);
    if (st == MCL_OK) st = put(rt, c, sizeof c, &C);
    cl_int s = S;
    cl_ulong mn = MN;
    float beta = 2.0f;
    cl_int e = st ? CL_SUCCESS
                  : clSetKernelArg(k, 0, sizeof W, &W) | clSetKernelArg(k, 1, 4, &s) |
                        clSetKernelArg(k, 2, sizeof mn, &mn) | clSetKernelArg(k, 3, 4, &beta) |
                        clSetKernelArg(k, 4, sizeof C, &C);
    if (e) st = mcl_error_cl(CL_INVALID_KERNEL_ARGS, "clSetKernelArg(gemm_reduce)");
    size_t global = 64, local = 64; /* halved to the device's limit (an elementwise kernel) */
    while (local > 1 && (local > rt->dev.max_work_group_size || local > rt->dev.max_work_item_sizes[0])) local /= 2;
    if (st == MCL_OK) st = mcl_launch(rt, k, "gemm_reduce", 1, &global, &local);
    if (st == MCL_OK) st = get(rt, C, out, sizeof out);
    *ok = st == MCL_OK;
    for (int i = 0; i < MN && *ok; i++) {
        float want = 2.0f * c[i];
        for (int z = 0; z < S; z++) want += ws[z * MN + i];
        if (out[i] != want) *ok = false;
    }
    return release3(&W, &C, &unused, st);
}

/* One product C = A . W^T + C on `path` with dt weights, M x N x K, against
 * the host's double sums: *ok when every element is within the error of an
 * fp32 sum over K terms of |a w| <= 1 plus the hi + lo split's 2^-17 per
 * term (the bound tests/test_gemm.c uses). */
static mcl_status product(mcl_runtime *rt, mcl_gemm_path path, mcl_dtype dt, int M, int N, int K, bool *ok)
{
    size_t an = (size_t)M * K, wn = (size_t)N * K, cn = (size_t)M * N;
    float *a = malloc(an * 4), *wf = malloc(wn * 4), *c = malloc(cn * 4), *out = malloc(cn * 4);
    uint16_t *w = malloc(wn * 2);
    cl_mem A = NULL, W = NULL, C = NULL;
    mcl_status st = a && wf && c && out && w ? MCL_OK : mcl_error_set(MCL_ERR_NOMEM, "selftest: out of host memory");
    *ok = false;
    for (size_t i = 0; st == MCL_OK && i < an; i++) a[i] = (float)((i * 7) % 11) * 0.125f - 0.5f;
    for (size_t i = 0; st == MCL_OK && i < wn; i++) wf[i] = (float)((i * 5) % 13) * 0.0625f - 0.375f;
    for (size_t i = 0; st == MCL_OK && i < cn; i++) c[i] = (float)(i % 3);
    if (st == MCL_OK) st = mcl_half_convert_from_f32(wf, dt, w, wn);
    if (st == MCL_OK) st = put(rt, a, an * 4, &A);
    if (st == MCL_OK) st = put(rt, w, wn * 2, &W);
    if (st == MCL_OK) st = put(rt, c, cn * 4, &C);
    if (st == MCL_OK) st = mcl_op_matmul_path(rt, path, "selftest", W, dt, N, K, A, M, 1.0f, C);
    if (st == MCL_OK) st = get(rt, C, out, cn * 4);
    *ok = st == MCL_OK;
    double tol = 2e-4 * sqrt((double)K) + 1e-4;
    for (int i = 0; i < M && *ok; i++)
        for (int j = 0; j < N && *ok; j++) {
            double sum = c[(size_t)i * N + j];
            for (int k = 0; k < K; k++) sum += (double)a[(size_t)i * K + k] * wf[(size_t)j * K + k];
            if (!(fabs(sum - out[(size_t)i * N + j]) <= tol + 1e-4 * fabs(sum))) *ok = false;
        }
    free(a), free(wf), free(c), free(out), free(w);
    return release3(&A, &W, &C, st);
}

mcl_status mcl_selftest_gemm_simt(mcl_runtime *rt, bool *ok)
{
    return product(rt, MCL_GEMM_SIMT, MCL_DTYPE_F16, 20, 24, 40, ok);
}

mcl_status mcl_selftest_gemm_cpu(mcl_runtime *rt, bool *ok)
{
    return product(rt, MCL_GEMM_CPU, MCL_DTYPE_F16, 20, 24, 40, ok);
}

mcl_status mcl_selftest_gemm_mma(mcl_runtime *rt, bool *ok)
{
    bool a = false, b = false;
    MCL_TRY(product(rt, MCL_GEMM_MMA, MCL_DTYPE_F16, 20, 24, 40, &a));
    MCL_TRY(product(rt, MCL_GEMM_MMA, MCL_DTYPE_BF16, 20, 24, 40, &b));
    *ok = a && b;
    return MCL_OK;
}

mcl_status mcl_selftest_gemm_shapes(mcl_runtime *rt, bool *ok)
{
    /* several blocks with partial edges, K % 8 != 0 (W loaded element by
     * element), and few blocks with a long K (split-K slices, cp.async) */
    static const int shapes[][3] = {{150, 200, 300}, {70, 136, 1032}};
    *ok = true;
    for (int s = 0; s < 2; s++)
        for (int dt = MCL_DTYPE_F16; dt <= MCL_DTYPE_BF16; dt++) {
            bool one = false;
            MCL_TRY(product(rt, MCL_GEMM_AUTO, (mcl_dtype)dt, shapes[s][0], shapes[s][1], shapes[s][2], &one));
            *ok = *ok && one;
        }
    return MCL_OK;
}
