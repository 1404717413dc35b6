/* Host launchers of rgemv and rgemv_in (cl/rgemv.cl): the batch-1 decode
 * projections for GPUs, with the contracts of mcl_kern_gemv (kern.h) and
 * mcl_kern_gemv_in (kern_decode.h) at B = 1. mcl_kern_gemv and
 * mcl_kern_gemv_in call them when mcl_kern_rgemv_wanted says so (the
 * dispatch); tests call them directly on any device. Enqueue only; bad sizes
 * give MCL_ERR_INVALID_ARG, a refused launch MCL_ERR_OPENCL naming the
 * kernel. */
#ifndef MCL_KERN_RGEMV_H
#define MCL_KERN_RGEMV_H

#include "ops/kern_decode.h"

/* Whether a projection of B rows and I columns runs rgemv.cl: B == 1, the
 * rule's RG_ON (GPUs), x and the scratch within the local memory
 * (mcl_kern_rgemv_local_bytes), unless MAMBACL_DISABLE lists "rgemv"
 * (gemv.cl's gemv_1 / gemv_in_1: the fallback, and its test) or rt->rgemv_mode
 * is -1 (gemv_1's and gemv_in_1's selftests). */
bool mcl_kern_rgemv_wanted(const mcl_runtime *rt, int B, int I);

/* Local memory of one work-group of RG_WG work-items at I columns: x staged
 * (I rounded up to 4 floats) and the reduction scratch (RG_WG floats). */
size_t mcl_kern_rgemv_local_bytes(int I, long wg);

/* y[o] = sum_i W[o, i] x[i] (+ y[o] when accumulate); W [O, I] of wdtype,
 * x [I], y [O]. */
mcl_status mcl_kern_rgemv(mcl_runtime *rt, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O, int I,
                          bool accumulate);

/* y = (RMSNorm(x) * nw) . W^T with eps and the conv step of rows
 * o < conv->n_conv (conv NULL: none), as mcl_kern_gemv_in at B = 1. */
mcl_status mcl_kern_rgemv_in(mcl_runtime *rt, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O, int I,
                             cl_mem nw, float eps, const mcl_kern_conv *conv);

#endif
