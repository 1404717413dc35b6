/* The family xstep.cl: x_proj through the gate of a decode layer in one
 * launch, for CPUs (cl/xstep.cl; rules in tune_xstep.c). */
#ifndef MCL_TUNE_XSTEP_H
#define MCL_TUNE_XSTEP_H

#include "tune/tune.h"

extern const mcl_family mcl_family_xstep;

#endif
