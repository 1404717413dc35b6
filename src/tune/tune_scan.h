/* The kernel families scan.cl and ssm_step.cl: their tunables, the rules
 * that derive their defaults from the device record, their fits rules and
 * candidate spaces (tables in tune_scan.c, walked by the engine in tune.c). */
#ifndef MCL_TUNE_SCAN_H
#define MCL_TUNE_SCAN_H

#include <stdbool.h>
#include "tune/tune.h"

extern const mcl_family mcl_family_scan;
extern const mcl_family mcl_family_step;

/* Defaults of scan.cl (SCAN_DCH, SCAN_NSG, SCAN_TT, SCAN_ITEMS, SCAN_NG,
 * SCAN_RT, SCAN_KEEPB, SCAN_FAST_EXP) and of ssm_step.cl (STEP_WG); rules in tune_scan.c. */
void mcl_tune_scan_defaults(const mcl_device_info *dev, mcl_params *out);
void mcl_tune_step_defaults(const mcl_device_info *dev, mcl_params *out);

/* Local memory (bytes) that a scan.cl configuration needs, with CH = TT*ITEMS:
 * 4 * (RT*DCH + max(CH*(2NG+1), NSG*(CH+1)*DCH) + 2*CH*(DCH+1) + (2TT+1)*NG*DCH). */
long mcl_tune_scan_local_bytes(const mcl_params *p);

/* Work-items per work-group of scan_prefill: DCH * NSG * TT (the launchers
 * use it with a picked configuration's tunables). */
long mcl_tune_scan_wg(const mcl_params *p);

/* scan_warp (SCAN_WARP 1): work-items per group (WL * DCH, WL = SCAN_WL)
 * and local memory, 4 * (2NG*(CH+1) + 2DCH*(CH+WL+1) + 2WL*DCH) bytes with
 * CH = WL*ITEMS. */
long mcl_tune_scan_warp_wg(const mcl_params *p);
long mcl_tune_scan_warp_local_bytes(const mcl_params *p);

/* Whether a complete scan.cl configuration can run on the device: TT a
 * power of two, NSG dividing NG, DCH*NSG*TT within the work-group limits,
 * local memory within CL_DEVICE_LOCAL_MEM_SIZE, (NG/NSG)*ITEMS (twice that
 * with KEEPB) <= 128 (registers). */
bool mcl_tune_scan_fits(const mcl_device_info *dev, const mcl_params *p);

/* The candidate spaces of scan.cl (SCAN_DCH x SCAN_NSG x SCAN_TT x
 * SCAN_ITEMS x SCAN_KEEPB; CPUs get a smaller table) and of ssm_step.cl
 * (STEP_WG x STEP_LPC): shorthands for mcl_tune_space_size and
 * mcl_tune_space_config over the defaults (SCAN_RT derived per point). */
int mcl_tune_scan_space_size(const mcl_device_info *dev);
bool mcl_tune_scan_space_config(const mcl_device_info *dev, int index, mcl_params *out);
int mcl_tune_step_space_size(const mcl_device_info *dev);
bool mcl_tune_step_space_config(const mcl_device_info *dev, int index, mcl_params *out);

#endif
