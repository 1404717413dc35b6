/* Element types of weights (mcl_dtype, declared in mambacl.h): sizes, names,
 * parsing. The conversions live in base/half.h. */
#ifndef MCL_DTYPE_H
#define MCL_DTYPE_H

#include <stdbool.h>
#include <stddef.h>

#include "mambacl.h"

/* Bytes of one element of `dtype` (4 or 2). */
size_t mcl_dtype_size(mcl_dtype dtype);

/* Parses "f32", "f16" or "bf16" (case-insensitive; also "fp32", "fp16");
 * false otherwise. */
bool mcl_dtype_parse(const char *s, mcl_dtype *out);

#endif
