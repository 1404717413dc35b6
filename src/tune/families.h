/* The list of kernel families (families.c): every family the runtime builds
 * or reads, looked up by name or id. */
#ifndef MCL_FAMILIES_H
#define MCL_FAMILIES_H

#include "tune/tune.h"

/* The family named `name` (MCL_F_*), or NULL. */
const mcl_family *mcl_tune_family(const char *name);

/* The family with id `id` (never NULL for id < MCL_FAM_COUNT). */
const mcl_family *mcl_tune_family_id(mcl_family_id id);

/* The i-th family in id order (NULL past the end), for the runtime, the
 * tuner and the tests. */
const mcl_family *mcl_tune_family_at(int i);

#endif
