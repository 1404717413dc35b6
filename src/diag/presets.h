/* Shapes of the released Mamba-1 checkpoints, for benchmarks and tuning with
 * random weights (`--config 130m`). */
#ifndef MCL_PRESETS_H
#define MCL_PRESETS_H

#include "mambacl.h"

typedef struct mcl_preset {
    const char *name; /* "130m" */
    mcl_config cfg;
} mcl_preset;

/* The preset called `name` (130m 370m 790m 1.4b 2.8b tiny), or NULL. */
const mcl_preset *mcl_preset_find(const char *name);

#endif
