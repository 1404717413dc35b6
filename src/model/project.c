/* The projections of the layer sequences: Y = X . W^T through
 * mcl_op_matmul (ops/gemm.h: gemv for a few rows, else a GEMM on the
 * weights as stored; model.h, mcl_project). */
#include "model/model.h"

#include "base/error.h"
#include "ops/gemm.h"

mcl_status mcl_project(mcl_model *m, const char *what, int rows, const mcl_dmat *W, cl_mem X,
                       bool accumulate, cl_mem Y)
{
    return mcl_op_matmul(m->rt, what, W->parts[0], W->dtype, W->rows, W->cols, X, rows,
                         accumulate ? 1.0f : 0.0f, Y);
}
