/* Kernel tunables as data: each kernel family (one .cl file) names its
 * parameters and the rule that derives their defaults from the device record.
 * The values become -D defines of that program and are readable by the host
 * code that launches it (mcl_runtime_param). */
#ifndef MCL_TUNE_H
#define MCL_TUNE_H

#include <stddef.h>
#include "mambacl.h"

#define MCL_MAX_PARAMS 16

typedef struct mcl_params {
    int n;
    struct {
        char name[32];
        long value;
    } p[MCL_MAX_PARAMS];
} mcl_params;

typedef struct mcl_family {
    const char *file; /* "scan.cl" */
    /* Fills the defaults for the device (documented rules, docs/tuning.md). */
    void (*defaults)(const mcl_device_info *dev, mcl_params *out);
    /* The candidate space (NULL: nothing to tune): its size for the device,
     * and configuration `index` written into *out (the tunables it sets),
     * returning whether that configuration fits the device (local memory,
     * work-group limits). Invalid configurations are never compiled. */
    int (*space_size)(const mcl_device_info *dev);
    bool (*space_config)(const mcl_device_info *dev, int index, mcl_params *out);
} mcl_family;

/* The family of a program file, or NULL when it has no tunables. */
const mcl_family *mcl_tune_family(const char *file);

/* The i-th family (NULL past the end), for the tuner and the tests. */
const mcl_family *mcl_tune_family_at(int i);

/* Writes up to cap candidate configurations of the family that fit the
 * device into out (each starts from `base` with the dims overridden);
 * returns how many. */
int mcl_tune_candidates(const mcl_family *fam, const mcl_device_info *dev, const mcl_params *base,
                        mcl_params *out, int cap);

void mcl_params_set(mcl_params *ps, const char *name, long value);
long mcl_params_get(const mcl_params *ps, const char *name, long fallback);

/* Appends " -DNAME=value" for every parameter to out (NUL-terminated). */
void mcl_params_defines(const mcl_params *ps, char *out, size_t cap);

/* Largest power of two <= v (v >= 1). */
long mcl_pow2_floor(long v);

#endif
