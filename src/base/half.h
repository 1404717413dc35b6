/* Host conversions between fp32 and the 16-bit weight formats: IEEE binary16
 * (F16) and bfloat16 (BF16). Plain bit manipulation (no _Float16), with
 * round-to-nearest-even, so results are the same on every compiler and target.
 * NaN stays NaN (quiet), infinities stay infinities, F16 overflow gives
 * infinity, tiny values become F16 subnormals or signed zero. */
#ifndef MCL_HALF_H
#define MCL_HALF_H

#include <stddef.h>
#include <stdint.h>
#include "mambacl.h"

/* The F16 bits nearest to f (ties to even). */
uint16_t mcl_half_from_float(float f);

/* The exact fp32 value of F16 bits h. */
float mcl_half_to_float(uint16_t h);

/* The BF16 bits nearest to f (ties to even; NaN kept quiet). */
uint16_t mcl_bf16_from_float(float f);

/* The exact fp32 value of BF16 bits b. */
float mcl_bf16_to_float(uint16_t b);

/* Converts n elements of `src` stored as `dtype` (F32, F16 or BF16, host
 * byte order) to fp32 in dst. src and dst must not overlap. Returns
 * MCL_ERR_INVALID_ARG (with a message) for an unknown dtype. */
mcl_status mcl_half_convert_to_f32(const void *src, mcl_dtype dtype, float *dst, size_t n);

/* Converts n fp32 values to `dtype` in dst (4 bytes per element for F32,
 * 2 for F16 and BF16), rounding to nearest even. MCL_ERR_INVALID_ARG for an
 * unknown dtype. */
mcl_status mcl_half_convert_from_f32(const float *src, mcl_dtype dtype, void *dst, size_t n);

/* Bytes per element of a dtype (4, 2, 2), 0 for an unknown one. */
size_t mcl_half_dtype_size(mcl_dtype dtype);

#endif
