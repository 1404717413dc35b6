/* Host fp32 <-> F16 / BF16 conversions: exhaustive round trips, ties to even,
 * overflow, subnormals, NaN, and (where gcc has _Float16) agreement with the
 * compiler's own conversion on random values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "base/half.h"

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void test_half_round_trip_all(void **state)
{
    (void)state;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = mcl_half_to_float((uint16_t)h);
        bool nan = ((h >> 10) & 0x1f) == 0x1f && (h & 0x3ff);
        if (nan) {
            assert_true(isnan(f));
            assert_true(isnan(mcl_half_to_float(mcl_half_from_float(f))));
        } else {
            assert_int_equal(mcl_half_from_float(f), h);
        }
    }
    assert_true(mcl_half_to_float(0x3c00) == 1.0f);
    assert_true(mcl_half_to_float(0x0001) == ldexpf(1.0f, -24));
    assert_true(mcl_half_to_float(0x7bff) == 65504.0f);
    assert_true(mcl_half_to_float(0xc000) == -2.0f);
}

static void test_half_ties_to_even(void **state)
{
    (void)state;
    for (uint32_t h = 0; h < 0x7bff; h++) { /* every pair of adjacent positive finite halves */
        float lo = mcl_half_to_float((uint16_t)h), hi = mcl_half_to_float((uint16_t)(h + 1));
        float mid = (lo + hi) * 0.5f; /* exact: 12 significant bits */
        uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
        assert_int_equal(mcl_half_from_float(mid), even);
        assert_int_equal(mcl_half_from_float(-mid), even | 0x8000);
        assert_int_equal(mcl_half_from_float(nextafterf(mid, 0.0f)), h);
        assert_int_equal(mcl_half_from_float(nextafterf(mid, INFINITY)), h + 1);
    }
}

static void test_half_edges(void **state)
{
    (void)state;
    assert_int_equal(mcl_half_from_float(65519.0f), 0x7bff);
    assert_int_equal(mcl_half_from_float(65520.0f), 0x7c00);
    assert_int_equal(mcl_half_from_float(1e10f), 0x7c00);
    assert_int_equal(mcl_half_from_float(-INFINITY), 0xfc00);
    assert_int_equal(mcl_half_from_float(ldexpf(1.0f, -25)), 0x0000); /* tie to even zero */
    assert_int_equal(mcl_half_from_float(nextafterf(ldexpf(1.0f, -25), 1.0f)), 0x0001);
    assert_int_equal(mcl_half_from_float(-1e-30f), 0x8000);
    assert_int_equal(mcl_half_from_float(ldexpf(1023.5f, -24)), 0x0400); /* rounds up to normal */
    assert_int_equal(mcl_half_from_float(-0.0f), 0x8000);
    uint16_t n = mcl_half_from_float(NAN);
    assert_true((n & 0x7c00) == 0x7c00 && (n & 0x3ff) != 0);
}

static void test_bf16(void **state)
{
    (void)state;
    for (uint32_t b = 0; b < 65536; b++) {
        float f = mcl_bf16_to_float((uint16_t)b);
        assert_int_equal(bits(f), b << 16);
        if (!isnan(f)) assert_int_equal(mcl_bf16_from_float(f), b);
        else assert_true(isnan(mcl_bf16_to_float(mcl_bf16_from_float(f))));
    }
    assert_int_equal(mcl_bf16_from_float(from_bits(0x3f808000u)), 0x3f80); /* tie, even below */
    assert_int_equal(mcl_bf16_from_float(from_bits(0x3f818000u)), 0x3f82); /* tie, even above */
    assert_int_equal(mcl_bf16_from_float(from_bits(0x3f808001u)), 0x3f81);
    assert_int_equal(mcl_bf16_from_float(from_bits(0x7f7fffffu)), 0x7f80); /* FLT_MAX -> inf */
    uint16_t n = mcl_bf16_from_float(from_bits(0x7f800001u)); /* signalling NaN stays NaN */
    assert_true((n & 0x7f80) == 0x7f80 && (n & 0x7f) != 0);
}

static void test_arrays(void **state)
{
    (void)state;
    float src[5] = {1.0f, -2.5f, 0.1f, 65504.0f, -0.0f}, back[5];
    uint16_t h[5];
    float f32[5];
    assert_int_equal(mcl_half_convert_from_f32(src, MCL_DTYPE_F16, h, 5), MCL_OK);
    assert_int_equal(mcl_half_convert_to_f32(h, MCL_DTYPE_F16, back, 5), MCL_OK);
    for (int i = 0; i < 5; i++) assert_true(fabsf(back[i] - src[i]) <= fabsf(src[i]) * 1e-3f);
    assert_int_equal(mcl_half_convert_from_f32(src, MCL_DTYPE_BF16, h, 5), MCL_OK);
    assert_int_equal(mcl_half_convert_to_f32(h, MCL_DTYPE_BF16, back, 5), MCL_OK);
    for (int i = 0; i < 5; i++) assert_true(fabsf(back[i] - src[i]) <= fabsf(src[i]) * 4e-3f);
    assert_int_equal(mcl_half_convert_from_f32(src, MCL_DTYPE_F32, f32, 5), MCL_OK);
    assert_memory_equal(f32, src, sizeof src);
    assert_int_equal(mcl_half_convert_to_f32(src, (mcl_dtype)7, back, 5), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_half_dtype_size(MCL_DTYPE_BF16), 2);
    assert_int_equal(mcl_half_dtype_size((mcl_dtype)9), 0);
}

static void test_against_compiler(void **state)
{
    (void)state;
#if defined(__FLT16_MAX__)
    uint32_t s = 12345;
    for (int i = 0; i < 2000000; i++) {
        s = s * 1664525u + 1013904223u;
        float f = from_bits(s);
        if (isnan(f)) continue;
        _Float16 c = (_Float16)f;
        uint16_t cb;
        memcpy(&cb, &c, sizeof cb);
        assert_int_equal(mcl_half_from_float(f), cb);
    }
#else
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_round_trip_all),
        cmocka_unit_test(test_half_ties_to_even),
        cmocka_unit_test(test_half_edges),
        cmocka_unit_test(test_bf16),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_against_compiler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
