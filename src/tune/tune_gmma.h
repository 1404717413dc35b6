/* The family gemv_mma.cl: the decode projections of batches 2..GMMA_MAX_B on
 * the matrix units (cl/gemv_mma.cl; rules in tune_gmma.c). */
#ifndef MCL_TUNE_GMMA_H
#define MCL_TUNE_GMMA_H

#include "tune/tune.h"

extern const mcl_family mcl_family_gmma;

/* Bytes of gemv_mma.cl's __local red_mem for tunables p: the warps' sums and
 * x^2 sums, 4 * WARPS * NT * (128 * MT + 32), and the emulation's fragments,
 * 4 * 6 * 32 * WARPS (reserved on every device, so one rule holds). */
long mcl_tune_gmma_local_bytes(const mcl_params *p);

#endif
