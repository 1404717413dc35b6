/* The kernel family dlayer.cl (the persistent decode layer): tunables,
 * defaults and fits rules (tune_dlayer.c). */
#ifndef MCL_TUNE_DLAYER_H
#define MCL_TUNE_DLAYER_H

#include "tune/tune.h"

extern const mcl_family mcl_family_dlayer;

#endif
