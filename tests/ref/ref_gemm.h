/* Plain C reference of gemm.cl's product: C[M, N] = A[M, K] . W[N, K]^T +
 * beta * C (C not read when beta == 0), double accumulation; W of `dtype`
 * as raw host bits (F16/BF16 as uint16_t). */
#ifndef MCL_REF_GEMM_H
#define MCL_REF_GEMM_H

#include "mambacl.h"

void ref_gemm(const float *A, const void *W, mcl_dtype dtype, float *C, int M, int N, int K, float beta);

#endif
