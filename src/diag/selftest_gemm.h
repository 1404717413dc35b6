/* Selftests of gemm.cl's kernels (rows of entries[] in selftest.c): each
 * runs once on a few numbers and is compared with a host computation. */
#ifndef MCL_SELFTEST_GEMM_H
#define MCL_SELFTEST_GEMM_H

#include "diag/selftest.h"

mcl_status mcl_selftest_gemm_split(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_gemm_reduce(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_gemm_simt(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_gemm_mma(mcl_runtime *rt, bool *ok);

#endif
