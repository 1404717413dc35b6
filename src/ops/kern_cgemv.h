/* Host launchers of cgemv and cgemv_in (cl/cgemv.cl): the decode
 * projections for CPUs, with the contracts of mcl_kern_gemv (kern.h) and
 * mcl_kern_gemv_in (kern_decode.h), so a caller picks one pair or the
 * other by mcl_kern_cgemv_wanted. Enqueue only; bad sizes give
 * MCL_ERR_INVALID_ARG, a refused launch MCL_ERR_OPENCL naming the kernel. */
#ifndef MCL_KERN_CGEMV_H
#define MCL_KERN_CGEMV_H

#include "ops/kern_decode.h"

/* Whether the fused decode's projections of B rows run cgemv.cl: the rule's
 * CG_ON (CPUs), unless MAMBACL_DISABLE lists "cgemv" (gemv.cl's kernels,
 * also the test of the fallback). */
bool mcl_kern_cgemv_wanted(const mcl_runtime *rt, int B);

/* Rows per work-group of an O-row launch at batch B (a multiple of CG_RB
 * unless O is smaller): about CG_GPC groups per compute unit over the batch. */
mcl_status mcl_kern_cgemv_rows(const mcl_runtime *rt, int O, int B, int *rows);

/* y[b, o] = sum_i W[o, i] x[b, i] (+ y[b, o] when accumulate), as mcl_kern_gemv. */
mcl_status mcl_kern_cgemv(mcl_runtime *rt, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O, int I, int B,
                          bool accumulate);

/* y = (RMSNorm(x) * nw) . W^T and the conv step of rows < conv->n_conv, as
 * mcl_kern_gemv_in. */
mcl_status mcl_kern_cgemv_in(mcl_runtime *rt, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O, int I,
                             int B, cl_mem nw, float eps, const mcl_kern_conv *conv);

#endif
