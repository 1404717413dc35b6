/* The matrix products of the projections: C[M, N] = A[M, K] . W[N, K]^T +
 * beta * C, with A and C fp32 row-major activations and W a weight matrix as
 * stored (F32, F16 or BF16). One entry point picks the path for the device
 * and shape: gemv for few rows, tensor cores (gemm.cl's mma kernels) when the
 * mma capability is on and W is 16-bit, else gemm_simt (or CLBlast SGEMM on
 * a widened copy of W when the GEMM_CLBLAST tunable says it is faster). */
#ifndef MCL_GEMM_H
#define MCL_GEMM_H

#include "runtime/runtime.h"

typedef enum mcl_gemm_path {
    MCL_GEMM_AUTO = 0,
    MCL_GEMM_GEMV,    /* gemv.cl, one pass over W per batch tile */
    MCL_GEMM_SIMT,    /* gemm_simt (+ gemm_reduce with split-K, not with GEMM_SKRED) */
    MCL_GEMM_MMA,     /* gemm_split_a (not with GEMM_FUSE) + gemm_mma_{bf16,f16} (+ gemm_reduce, not with GEMM_SKRED) */
    MCL_GEMM_CLBLAST, /* weights_to_f32 + CLBlastSgemm */
    MCL_GEMM_CPU,     /* gemm_cpu: explicit vectors, one work-item per group (CPU devices only) */
} mcl_gemm_path;

/* "auto", "gemv", "simt", "mma", "clblast", "cpu". */
const char *mcl_gemm_path_name(mcl_gemm_path p);

/* The path MCL_GEMM_AUTO takes on rt for M rows of a W [N, K] of dtype wdt:
 * gemv up to GEMM_GEMV_MAX_ROWS rows (beta 0 or 1), else mma (capability on,
 * 16-bit W), else CLBlast (GEMM_CLBLAST and the fp32 copy of W within a
 * quarter of the largest allocation and 256 MiB), else gemm_cpu (GEMM_CPUK,
 * CPU devices), else gemm_simt. */
mcl_gemm_path mcl_op_matmul_choice(const mcl_runtime *rt, mcl_dtype wdt, int M, int N, int K, float beta);

/* The most rows a projection with weights of wdt runs as a GEMV at M rows
 * (gemm.cl's GEMM_GEMV_MAX_ROWS for that shape class; F32 weights never
 * above the fallback's); 0 when gemm.cl was not built. */
int mcl_op_gemv_max_rows(const mcl_runtime *rt, int M, mcl_dtype wdt);

/* C[M, N] = A[M, K] . W[N, K]^T + beta * C (C not read when beta == 0).
 * A: float [M, K], W: [N, K] of wdt, C: float [M, N], all on rt's device.
 * `what` (a string literal) names the launch in errors and profiles. Uses
 * rt's GEMM workspaces (grown on demand). Enqueues without waiting. M == 0
 * is a no-op. Errors: MCL_ERR_INVALID_ARG for bad sizes, dtype, or a path
 * that this device or dtype cannot take (mma without the capability or with
 * F32 weights, gemv with beta other than 0 or 1); MCL_ERR_OPENCL /
 * MCL_ERR_DEVICE_MEM naming the launch. */
mcl_status mcl_op_matmul(mcl_runtime *rt, const char *what, cl_mem W, mcl_dtype wdt, int N, int K,
                         cl_mem A, int M, float beta, cl_mem C);

/* hi = round(A), lo = round(A - hi) in dt (F16 or BF16), [M, lda] ushort
 * each with zeros for k >= K (lo written only when split == 2); lda a
 * multiple of 8, >= K (the parts' rows are stored 16 bytes at a time). The
 * first step of the mma path; exposed for tests. */
mcl_status mcl_op_gemm_split(mcl_runtime *rt, cl_mem A, int M, int K, int lda, mcl_dtype dt, int split,
                             cl_mem hi, cl_mem lo);

/* An activation A [M, K] already split into the mma path's 16-bit parts:
 * hi, lo ushort [M, lda] of dt each (hi = round(A), lo = round(A - hi), zeros
 * for k >= K, lo only when split == 2), as mcl_op_gemm_split writes them. */
typedef struct mcl_gemm_parts {
    cl_mem hi, lo; /* ushort [M, lda] each; the GEMM's workspaces (not owned) */
    int lda, split;
    mcl_dtype dt;
} mcl_gemm_parts;

/* Whether mcl_op_matmul would run this product (W [N, K] of wdt, M rows,
 * beta) on the mma path with its own gemm_split_a pass (capability on,
 * 16-bit W, more rows than gemv takes, GEMM_FUSE 0): then *on is true and
 * *parts the GEMM's A workspaces grown for M rows with the lda, split and dt
 * the kernel reads, for a producer (norm.cl's rmsnorm_split) to fill before
 * mcl_op_matmul_parts; no other matmul on rt may run in between (it would
 * reuse the workspaces). MAMBACL_DISABLE=presplit: always false (the fp32
 * path, for tests and comparisons). Errors: MCL_ERR_DEVICE_MEM growing the
 * workspaces, MCL_ERR_INTERNAL when gemm.cl was not built. */
mcl_status mcl_op_matmul_presplit(mcl_runtime *rt, mcl_dtype wdt, int M, int N, int K, float beta,
                                  mcl_gemm_parts *parts, bool *on);

/* C[M, N] = A . W[N, K]^T + beta * C on the mma path from A already split
 * (parts, filled as mcl_op_matmul_presplit said): no gemm_split_a launch,
 * bitwise the C that mcl_op_matmul_path(MCL_GEMM_MMA) gives on the fp32 A
 * the parts came from. Errors: MCL_ERR_INVALID_ARG for bad sizes, without
 * the mma capability, or parts whose lda, split or dt are not what the
 * configuration for M reads (or a configuration with GEMM_FUSE); as
 * mcl_op_matmul otherwise. */
mcl_status mcl_op_matmul_parts(mcl_runtime *rt, const char *what, cl_mem W, mcl_dtype wdt, int N, int K,
                               const mcl_gemm_parts *A, int M, float beta, cl_mem C);

/* The split-K slabs of a product left for its consumer to add
 * (mcl_op_matmul_slabs): n slabs [M, N] fp32, `stride` elements apart in
 * buf (the GEMM's workspace, not owned); n == 0: none (C holds the result). */
typedef struct mcl_gemm_slabs {
    cl_mem buf;
    int n;
    uint64_t stride; /* M * N */
} mcl_gemm_slabs;

/* mcl_op_matmul, except that where the chosen path would end with a
 * gemm_reduce launch (the mma or simt GEMM with more than one K slice and
 * GEMM_SKRED 0) that launch is left out: *out gets the slabs, C is not
 * touched, and the caller's next launch must add them in slab order, then
 * beta * C (what gemm_reduce does, so the result is bitwise the same:
 * conv.cl's conv_step_parts, norm.cl's rmsnorm_parts, or
 * mcl_op_slabs_reduce); no other matmul on rt may run before that (it would
 * reuse the workspace). Elsewhere (one slice, gemv, CLBlast, GEMM_SKRED,
 * MAMBACL_DISABLE=slabs) C gets the result as from mcl_op_matmul and
 * out->n is 0. Errors: those of mcl_op_matmul. */
mcl_status mcl_op_matmul_slabs(mcl_runtime *rt, const char *what, cl_mem W, mcl_dtype wdt, int N, int K,
                               cl_mem A, int M, float beta, cl_mem C, mcl_gemm_slabs *out);

/* Whether mcl_op_matmul_slabs may leave slabs (not MAMBACL_DISABLE=slabs). */
bool mcl_op_slabs_on(void);

/* C[M, N] = the sum of the slabs + beta * C: the gemm_reduce launch that
 * mcl_op_matmul_slabs left out (a no-op for sl->n == 0). */
mcl_status mcl_op_slabs_reduce(mcl_runtime *rt, const mcl_gemm_slabs *sl, int M, int N, float beta, cl_mem C);

/* The same on a given path (tests, bench, timing tools). */
mcl_status mcl_op_matmul_path(mcl_runtime *rt, mcl_gemm_path path, const char *what, cl_mem W,
                              mcl_dtype wdt, int N, int K, cl_mem A, int M, float beta, cl_mem C);

#endif
