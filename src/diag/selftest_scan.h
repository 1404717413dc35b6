/* Selftests of scan_prefill and scan_summary (cl/scan.cl) and ssm_step (cl/ssm_step.cl):
 * rows of entries[] in selftest.c point here. */
#ifndef MCL_SELFTEST_SCAN_H
#define MCL_SELFTEST_SCAN_H

#include "diag/selftest.h"

mcl_status mcl_selftest_scan_prefill(mcl_runtime *rt, bool *ok);
/* scan_prefill_split: the same problem with y written as F16 hi/lo parts. */
mcl_status mcl_selftest_scan_prefill_split(mcl_runtime *rt, bool *ok);
/* scan_summary: the same problem through a split launch (SCAN_NSEG 2). */
mcl_status mcl_selftest_scan_summary(mcl_runtime *rt, bool *ok);
/* scan_dt / scan_dt_gather / scan_dt2: the same problem with Δ from the dt
 * pre-pass (SCAN_DTIN 1 / 2 / 3, SCAN_PREF 1). */
mcl_status mcl_selftest_scan_dt(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_scan_dt2(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_scan_dt_gather(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_ssm_step(mcl_runtime *rt, bool *ok);
mcl_status mcl_selftest_ssm_step_tile(mcl_runtime *rt, bool *ok);

#endif
