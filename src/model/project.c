/* The projections of the layer sequences: Y = X . W^T through
 * mcl_op_matmul (ops/gemm.h: gemv for a few rows, else a GEMM on the
 * weights as stored; model.h, mcl_project), and in_proj's with the RMSNorm
 * writing the GEMM's split A (mcl_project_norm). */
#include "model/model.h"

#include "base/error.h"
#include "ops/gemm.h"

mcl_status mcl_project(mcl_model *m, const char *what, int rows, const mcl_dmat *W, cl_mem X,
                       bool accumulate, cl_mem Y)
{
    return mcl_op_matmul(m->rt, what, W->parts[0], W->dtype, W->rows, W->cols, X, rows,
                         accumulate ? 1.0f : 0.0f, Y);
}

mcl_status mcl_project_norm(mcl_model *m, const char *what, int rows, const mcl_dmat *W, cl_mem h, cl_mem nw,
                            float eps, cl_mem hn, cl_mem Y)
{
    mcl_gemm_parts a;
    bool pre = false;
    MCL_TRY(mcl_op_matmul_presplit(m->rt, W->dtype, rows, W->rows, W->cols, 0.0f, &a, &pre));
    if (!pre) {
        MCL_TRY(mcl_kern_rmsnorm(m->rt, h, NULL, nw, eps, hn, NULL, rows, W->cols));
        return mcl_project(m, what, rows, W, hn, false, Y);
    }
    MCL_TRY(mcl_kern_rmsnorm_split(m->rt, h, NULL, nw, eps, a.hi, a.lo, a.lda, a.dt, a.split, rows, W->cols));
    return mcl_op_matmul_parts(m->rt, what, W->parts[0], W->dtype, W->rows, W->cols, &a, rows, 0.0f, Y);
}
