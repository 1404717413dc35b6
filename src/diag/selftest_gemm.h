/* Selftests of gemm.cl's kernels (rows of entries[] in selftest.c): each
 * runs once on a few numbers and is compared with a host computation. */
#ifndef MCL_SELFTEST_GEMM_H
#define MCL_SELFTEST_GEMM_H

#include "diag/selftest.h"

mcl_status mcl_selftest_gemm_split(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_gemm_reduce(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_gemm_simt(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_gemm_cpu(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_gemm_mma(mcl_runtime *rt, bool *ok);

/* The path mcl_op_matmul picks (AUTO: mma where the capability is on) at
 * 150 x 200 x 300 and 70 x 136 x 1032, F16 and BF16 weights, beta 1, with
 * the current configuration of gemm.cl, against the host: what the tuner
 * checks for every gemm.cl candidate before timing it. */
mcl_status mcl_selftest_gemm_shapes(mcl_runtime *rt, bool *ok);

#endif
