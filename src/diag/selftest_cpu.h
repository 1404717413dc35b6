/* Selftests of the CPUs' decode kernels, xstep (cl/xstep.cl), cgemv and
 * cgemv_in (cl/cgemv.cl) (rows of entries[] in selftest.c): one launch on a
 * few numbers each, compared with a host computation. */
#ifndef MCL_SELFTEST_CPU_H
#define MCL_SELFTEST_CPU_H

#include "diag/selftest.h"

mcl_status mcl_selftest_xstep(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_cgemv(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_cgemv_in(mcl_runtime *rt, bool *ok);

#endif
