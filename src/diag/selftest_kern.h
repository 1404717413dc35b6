/* Selftests of embed_gather, rmsnorm_residual, rmsnorm_split, weights_to_f32, conv_prefill, conv_prefill4,
 * conv_step and gemv (rows of entries[] in selftest.c). Each launches the
 * kernel once on a few numbers and compares with a host computation. */
#ifndef MCL_SELFTEST_KERN_H
#define MCL_SELFTEST_KERN_H

#include "diag/selftest.h"

mcl_status mcl_selftest_embed(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_greedy_pick(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_rmsnorm(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_rmsnorm_split(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_rmsnorm_parts(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_convert(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_conv_prefill(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_conv_prefill4(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_conv_step(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_conv_step_parts(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_gemv(mcl_runtime *rt, bool *ok);   /* batch 2: the tile kernel */
mcl_status mcl_selftest_gemv_1(mcl_runtime *rt, bool *ok); /* batch 1: gemv_1 */
mcl_status mcl_selftest_gmma(mcl_runtime *rt, bool *ok);   /* gemv_mma.cl at batch 2 */

#endif
