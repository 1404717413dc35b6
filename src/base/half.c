/* fp32 <-> F16 / BF16 conversions by bit manipulation, round to nearest even. */
#include "base/half.h"

#include <string.h>

#include "base/error.h"

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Shifts m right by s (1..31) rounding to nearest, ties to even. */
static uint32_t shift_rne(uint32_t m, int s)
{
    uint32_t q = m >> s, rem = m & ((1u << s) - 1u), half = 1u << (s - 1);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return q;
}

uint16_t mcl_half_from_float(float f)
{
    uint32_t x = float_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t a = x & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu)); /* NaN */
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 (or inf): inf */
    if (a >= 0x38800000u) /* normal half: rebias the exponent by 127-15, drop 13 bits */
        return (uint16_t)(sign | shift_rne(a - 0x38000000u, 13)); /* a carry bumps the exponent */
    if (a < 0x33000000u) return sign; /* below half the smallest subnormal (2^-25): zero */
    /* subnormal half: value = mant * 2^(e-150) = m * 2^-24, m = mant >> (126 - e) */
    uint32_t mant = (a & 0x7fffffu) | 0x800000u;
    int e = (int)(a >> 23);
    return (uint16_t)(sign | shift_rne(mant, 126 - e)); /* may round up to 0x400, the smallest normal */
}

float mcl_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0x1f) return bits_float(sign | 0x7f800000u | (m << 13)); /* inf / NaN */
    if (e != 0) return bits_float(sign | ((e + 112u) << 23) | (m << 13));
    if (m == 0) return bits_float(sign);
    /* subnormal: m * 2^-24, exact in fp32 */
    float v = (float)m * (1.0f / 16777216.0f);
    return sign ? -v : v;
}

uint16_t mcl_bf16_from_float(float f)
{
    uint32_t x = float_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u); /* quiet NaN */
    x += 0x7fffu + ((x >> 16) & 1u); /* ties to even; overflow carries into inf correctly */
    return (uint16_t)(x >> 16);
}

float mcl_bf16_to_float(uint16_t b) { return bits_float((uint32_t)b << 16); }

size_t mcl_half_dtype_size(mcl_dtype dtype)
{
    switch (dtype) {
    case MCL_DTYPE_F32: return 4;
    case MCL_DTYPE_F16:
    case MCL_DTYPE_BF16: return 2;
    }
    return 0;
}

mcl_status mcl_half_convert_to_f32(const void *src, mcl_dtype dtype, float *dst, size_t n)
{
    const uint16_t *s16 = src;
    switch (dtype) {
    case MCL_DTYPE_F32: memcpy(dst, src, n * sizeof *dst); return MCL_OK;
    case MCL_DTYPE_F16:
        for (size_t i = 0; i < n; i++) dst[i] = mcl_half_to_float(s16[i]);
        return MCL_OK;
    case MCL_DTYPE_BF16:
        for (size_t i = 0; i < n; i++) dst[i] = mcl_bf16_to_float(s16[i]);
        return MCL_OK;
    }
    return mcl_error_set(MCL_ERR_INVALID_ARG, "unknown weight dtype %d", (int)dtype);
}

mcl_status mcl_half_convert_from_f32(const float *src, mcl_dtype dtype, void *dst, size_t n)
{
    uint16_t *d16 = dst;
    switch (dtype) {
    case MCL_DTYPE_F32: memcpy(dst, src, n * sizeof *src); return MCL_OK;
    case MCL_DTYPE_F16:
        for (size_t i = 0; i < n; i++) d16[i] = mcl_half_from_float(src[i]);
        return MCL_OK;
    case MCL_DTYPE_BF16:
        for (size_t i = 0; i < n; i++) d16[i] = mcl_bf16_from_float(src[i]);
        return MCL_OK;
    }
    return mcl_error_set(MCL_ERR_INVALID_ARG, "unknown weight dtype %d", (int)dtype);
}
