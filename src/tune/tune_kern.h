/* The kernel families copy.cl, norm.cl, convert.cl, conv.cl, gemv.cl and
 * gemm.cl (with the host-side dispatch thresholds GEMM_GEMV_MAX_ROWS and
 * GEMM_CLBLAST): their tunables, defaults rules, fits rules and gemv's
 * candidate space (tune_kern.c). */
#ifndef MCL_TUNE_KERN_H
#define MCL_TUNE_KERN_H

#include "tune/tune.h"

extern const mcl_family mcl_family_copy;
extern const mcl_family mcl_family_norm;
extern const mcl_family mcl_family_convert;
extern const mcl_family mcl_family_conv;
extern const mcl_family mcl_family_gemv;
extern const mcl_family mcl_family_gemm;

/* Local memory (bytes) that a gemv configuration needs: 4 * (RPL + 1) * BT * WG. */
long mcl_tune_gemv_local_bytes(const mcl_params *p);

/* gemm.cl's defaults (rules in tune_kern.c). */
void mcl_tune_gemm_defaults(const mcl_device_info *dev, mcl_params *out);

/* Local memory (bytes) of gemm.cl's mma kernels and of gemm_simt. */
long mcl_tune_gemm_mma_local_bytes(const mcl_params *p);
long mcl_tune_gemm_simt_local_bytes(const mcl_params *p);

/* Whether a gemm.cl configuration fits the device (divisibility, work-group
 * size, local memory). */
bool mcl_tune_gemm_fits(const mcl_device_info *dev, const mcl_params *p);

#endif
