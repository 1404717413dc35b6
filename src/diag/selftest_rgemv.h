/* Selftests of the GPUs' batch-1 projections, rgemv_<dt> and rgemv_in_<dt>
 * (cl/rgemv.cl; rows of entries[] in selftest.c): launched directly (not
 * through the dispatch, so on every device), a few numbers each, compared
 * with a double-precision host computation. */
#ifndef MCL_SELFTEST_RGEMV_H
#define MCL_SELFTEST_RGEMV_H

#include "diag/selftest.h"

mcl_status mcl_selftest_rgemv_f32(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_rgemv_f16(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_rgemv_bf16(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_rgemv_in_f32(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_rgemv_in_f16(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_rgemv_in_bf16(mcl_runtime *rt, bool *ok);

#endif
