/* The family cgemv.cl: the decode projections for CPUs in one-work-item
 * groups with explicit vectors (cl/cgemv.cl; rules in tune_cgemv.c). */
#ifndef MCL_TUNE_CGEMV_H
#define MCL_TUNE_CGEMV_H

#include "tune/tune.h"

extern const mcl_family mcl_family_cgemv;

#endif
