/* Environment variables as untrusted input: every variable the library reads
 * goes through these readers, which refuse a malformed value with a message
 * naming the variable and what it accepts (never a crash, never a silent
 * misreading such as strtoul("12abc") == 12). */
#ifndef MCL_ENV_H
#define MCL_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "mambacl.h"

/* The value of `name`, or NULL when it is unset or empty. */
const char *mcl_env_str(const char *name);

/* Whether the comma-separated list in `name` (e.g. MAMBACL_DISABLE) holds the
 * item `item` whole ("a,bc" holds "bc", not "b"). Unset or empty: false. */
bool mcl_env_lists(const char *name, const char *item);

/* True when `item` is one of the comma-separated entries of `list` (whole
 * entries only: "ptx" is not in "ptx2,mma"); false for a NULL list or an
 * empty item. */
bool mcl_list_has(const char *list, const char *item);

/* A whole decimal number in [min, max]: returns MCL_OK with *out set, or
 * MCL_OK with *set false when unset/empty (*out unchanged), or
 * MCL_ERR_INVALID_ARG ("MAMBACL_X='abc' is not a whole number in [1, 1024]")
 * for anything else (signs, spaces, suffixes, overflow). */
mcl_status mcl_env_uint(const char *name, uint64_t min, uint64_t max, uint64_t *out, bool *set);

/* A boolean: "1", "true", "yes", "on" / "0", "false", "no", "off" (any
 * case). Unset or empty: *out = false. Anything else: MCL_ERR_INVALID_ARG
 * naming the variable, *out = false. */
mcl_status mcl_env_flag(const char *name, bool *out);

#endif
