/* One tiny launch of each kernel, checked against a host computation. */
#ifndef MCL_SELFTEST_H
#define MCL_SELFTEST_H

#include "runtime/runtime.h"

/* Runs the kernel's selftest; *ok tells whether its output was right.
 * Returns a failure status only when the launch itself failed. */
typedef mcl_status (*mcl_selftest_fn)(mcl_runtime *rt, bool *ok);

typedef struct mcl_selftest_entry {
    const char *kernel;
    mcl_selftest_fn run;
} mcl_selftest_entry;

/* The entry of a kernel, or NULL when it has none. */
const mcl_selftest_entry *mcl_selftest_find(const char *kernel);

#endif
