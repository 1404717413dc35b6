/* Selftests of scan_prefill (cl/scan.cl) and ssm_step (cl/ssm_step.cl):
 * rows of entries[] in selftest.c point here. */
#ifndef MCL_SELFTEST_SCAN_H
#define MCL_SELFTEST_SCAN_H

#include "diag/selftest.h"

mcl_status mcl_selftest_scan_prefill(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_ssm_step(mcl_runtime *rt, bool *ok);

#endif
