/* Selftests of the fused decode kernels (gemv_in, gemv_split,
 * ssm_step_parts) and bench's read_f4 (rows of entries[] in selftest.c):
 * one launch on a few numbers, compared with a host computation. */
#ifndef MCL_SELFTEST_DECODE_H
#define MCL_SELFTEST_DECODE_H

#include "diag/selftest.h"

mcl_status mcl_selftest_read(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_gemv_in(mcl_runtime *rt, bool *ok);   /* batch 2: the tile kernel */
mcl_status mcl_selftest_gemv_in_1(mcl_runtime *rt, bool *ok); /* batch 1: gemv_in_1 */
mcl_status mcl_selftest_gemv_split(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_gemv_split_1(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_gmma_in(mcl_runtime *rt, bool *ok);    /* gemv_mma.cl, batch 2 */
mcl_status mcl_selftest_gmma_split(mcl_runtime *rt, bool *ok); /* gemv_mma.cl, F16, batch 2 */
mcl_status mcl_selftest_ssm_step_parts(mcl_runtime *rt, bool *ok);

#endif
