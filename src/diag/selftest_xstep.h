/* Selftest of xstep (cl/xstep.cl, a row of entries[] in selftest.c): one
 * launch on a few numbers, compared with a host computation. */
#ifndef MCL_SELFTEST_XSTEP_H
#define MCL_SELFTEST_XSTEP_H

#include "diag/selftest.h"

mcl_status mcl_selftest_xstep(mcl_runtime *rt, bool *ok);

#endif
