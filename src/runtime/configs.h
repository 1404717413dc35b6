/* Building and releasing the runtime's configurations and programs
 * (configs.c); the lookups are declared in runtime.h. */
#ifndef MCL_CONFIGS_H
#define MCL_CONFIGS_H

#include "runtime/runtime.h"

/* Builds every family's configurations (and their programs) from the
 * defaults, the built-in table and rt->tunedb; bad entries become warnings
 * in rt->warnings. Needs rt's device, context, base options and cache set. */
mcl_status mcl_runtime_build_configs(mcl_runtime *rt);

/* Releases the kernels, programs and configurations. */
void mcl_runtime_release_configs(mcl_runtime *rt);

#endif
