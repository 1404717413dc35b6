/* The family rgemv.cl: the batch-1 decode GEMVs for GPUs (in_proj with
 * RMSNorm and the conv step, out_proj with the residual add, the LM head with
 * the final norm), one warp per row streaming W (cl/rgemv.cl; rules in
 * tune_rgemv.c). */
#ifndef MCL_TUNE_RGEMV_H
#define MCL_TUNE_RGEMV_H

#include "tune/tune.h"

extern const mcl_family mcl_family_rgemv;

#endif
