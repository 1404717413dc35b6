/* The projections of the layer sequences: Y = X . W^T by our gemv for a
 * few rows, by a CLBlast SGEMM above that (model.h, mcl_project). */
#include "model/model.h"

#include <clblast_c.h>

#include "base/error.h"

/* C[M, N] = A[M, K] . W[N, K]^T + beta * C, W widened to fp32 when 16-bit. */
static mcl_status gemm(mcl_model *m, const char *what, int M, const mcl_dmat *W, cl_mem A,
                       float beta, cl_mem C)
{
    size_t n = (size_t)W->rows, k = (size_t)W->cols;
    cl_mem B = W->parts[0];
    if (W->dtype != MCL_DTYPE_F32) {
        MCL_TRY(mcl_scratch_wf32(m, n * k));
        MCL_TRY(mcl_kern_convert(m->rt, W->parts[0], W->dtype, m->scratch.wf32, (uint64_t)(n * k)));
        B = m->scratch.wf32;
    }
    cl_event ev = NULL;
    CLBlastStatusCode st = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes,
                                        (size_t)M, n, k, 1.0f, A, 0, k, B, 0, k, beta, C, 0, n,
                                        &m->rt->queue, m->rt->profiling ? &ev : NULL);
    if (st == CLBlastSuccess && ev) mcl_runtime_record_event(m->rt, what, ev);
    if (st != CLBlastSuccess)
        return mcl_error_set(st == CLBlastOpenCLOutOfResources ? MCL_ERR_DEVICE_MEM : MCL_ERR_OPENCL,
                             "CLBlastSgemm(%s, %d x %zu x %zu) failed with CLBlast status %d", what,
                             M, n, k, (int)st);
    return MCL_OK;
}

/* Rows up to which a projection runs as our gemv (weights read once per
 * batch tile, no fp32 widening, no CLBlast kernel compile on a process's
 * first short prompt); above it, as a CLBlast GEMM. Measured on the H100
 * (docs/performance.md): at batch 64 the gemv re-reads the weights 16 times
 * and the GEMM is several times faster; at 8 they are close. */
#define MCL_GEMV_MAX_ROWS 16

mcl_status mcl_project(mcl_model *m, const char *what, int rows, const mcl_dmat *W, cl_mem X,
                       bool accumulate, cl_mem Y)
{
    if (rows <= MCL_GEMV_MAX_ROWS)
        return mcl_kern_gemv(m->rt, W->parts[0], W->dtype, X, Y, W->rows, W->cols, rows, accumulate);
    return gemm(m, what, rows, W, X, accumulate ? 1.0f : 0.0f, Y);
}
