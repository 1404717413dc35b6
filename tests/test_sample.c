/* Sampling and UTF-8 streaming helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mambacl.h"
#include "generate/sample.h"

static mcl_sampler *make(mcl_sampler_params p, int n)
{
    mcl_sampler *s = NULL;
    assert_int_equal(mcl_sampler_create(&p, n, &s), MCL_OK);
    return s;
}

static void test_greedy_is_argmax(void **state)
{
    (void)state;
    float logits[5] = {0.1f, 3.0f, -1.0f, 2.9f, NAN};
    mcl_sampler_params p = {0};
    mcl_sampler *s = make(p, 5);
    assert_int_equal(mcl_sampler_sample(s, logits, NULL, 0), 1);
    mcl_sampler_free(s);
}

/* Greedy over a vocabulary-sized row (the lanes of argmax and its tail):
 * the first of equal maxima wins, NaN never does, the maximum anywhere. */
static void test_greedy_large_rows(void **state)
{
    (void)state;
    enum { V = 50277 }; /* not a multiple of the 8 lanes */
    float *logits = malloc(V * sizeof *logits);
    assert_non_null(logits);
    mcl_sampler_params p = {0};
    mcl_sampler *s = make(p, V);
    const int at[] = {0, 1, 7, 8, 4095, 50271, 50272, V - 1};
    for (size_t t = 0; t < sizeof at / sizeof at[0]; t++) {
        for (int i = 0; i < V; i++) logits[i] = sinf((float)i * 0.37f) * 4.0f;
        logits[at[t]] = 9.0f;
        if (at[t] + 1 < V) logits[at[t] + 1] = 9.0f; /* a tie after it: the first wins */
        if (at[t] != 0) logits[0] = NAN;
        logits[V / 2] = NAN;
        assert_int_equal(mcl_sampler_sample(s, logits, NULL, 0), at[t]);
    }
    for (int i = 0; i < V; i++) logits[i] = -2.0f;
    assert_int_equal(mcl_sampler_sample(s, logits, NULL, 0), 0);
    logits[0] = NAN;
    assert_int_equal(mcl_sampler_sample(s, logits, NULL, 0), 1);
    mcl_sampler_free(s);
    free(logits);
}

static void test_top_k_one_is_argmax(void **state)
{
    (void)state;
    enum { V = 1000 };
    float logits[V];
    for (int i = 0; i < V; i++) logits[i] = sinf((float)i) * 3.0f;
    logits[777] = 10.0f;
    mcl_sampler_params p = {.temperature = 5.0f, .top_k = 1, .seed = 3};
    mcl_sampler *s = make(p, V);
    for (int i = 0; i < 50; i++) assert_int_equal(mcl_sampler_sample(s, logits, NULL, 0), 777);
    mcl_sampler_free(s);
}

static void test_same_seed_same_sequence(void **state)
{
    (void)state;
    enum { V = 300 };
    float logits[V];
    int32_t a[64], b[64];
    for (int i = 0; i < V; i++) logits[i] = cosf((float)i * 0.37f);
    mcl_sampler_params p = mcl_sampler_params_default();
    p.seed = 1234;
    mcl_sampler *s1 = make(p, V), *s2 = make(p, V);
    for (int i = 0; i < 64; i++) {
        a[i] = mcl_sampler_sample(s1, logits, a, (size_t)i);
        b[i] = mcl_sampler_sample(s2, logits, b, (size_t)i);
    }
    assert_memory_equal(a, b, sizeof a);
    mcl_sampler_free(s2);
    p.seed = 99;
    s2 = make(p, V);
    int differ = 0;
    for (int i = 0; i < 64; i++) differ += mcl_sampler_sample(s2, logits, b, (size_t)i) != a[i];
    assert_true(differ > 0);
    mcl_sampler_free(s1);
    mcl_sampler_free(s2);
}

/* Frequencies follow softmax(logits / T) for plain temperature sampling. */
static void test_frequencies_follow_softmax(void **state)
{
    (void)state;
    float logits[4] = {1.0f, 2.0f, 0.0f, -1.0f};
    mcl_sampler_params p = {.temperature = 1.0f, .seed = 7};
    mcl_sampler *s = make(p, 4);
    int count[4] = {0};
    enum { N = 40000 };
    for (int i = 0; i < N; i++) count[mcl_sampler_sample(s, logits, NULL, 0)]++;
    double z = 0;
    for (int i = 0; i < 4; i++) z += exp(logits[i]);
    for (int i = 0; i < 4; i++) {
        double expect = exp(logits[i]) / z;
        double got = (double)count[i] / N;
        double sd = sqrt(expect * (1 - expect) / N);
        assert_true(fabs(got - expect) < 5 * sd);
    }
    mcl_sampler_free(s);
}

static void test_top_p_and_min_p_cut(void **state)
{
    (void)state;
    /* p ~ {0.64, 0.24, 0.09, 0.03}: top_p 0.7 keeps ids 0 and 1 only. */
    float logits[4] = {3.0f, 2.0f, 1.0f, -0.1f};
    mcl_sampler_params p = {.temperature = 1.0f, .top_p = 0.7f, .seed = 11};
    mcl_sampler *s = make(p, 4);
    int seen[4] = {0};
    for (int i = 0; i < 5000; i++) seen[mcl_sampler_sample(s, logits, NULL, 0)]++;
    assert_true(seen[0] > 0 && seen[1] > 0);
    assert_int_equal(seen[2] + seen[3], 0);
    mcl_sampler_free(s);
    /* min_p 0.3 keeps tokens with p >= 0.3 * 0.64: ids 0 and 1. */
    mcl_sampler_params q = {.temperature = 1.0f, .min_p = 0.3f, .seed = 11};
    s = make(q, 4);
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 5000; i++) seen[mcl_sampler_sample(s, logits, NULL, 0)]++;
    assert_true(seen[0] > 0 && seen[1] > 0);
    assert_int_equal(seen[2] + seen[3], 0);
    mcl_sampler_free(s);
}

static void test_repeat_penalty_changes_choice(void **state)
{
    (void)state;
    float logits[3] = {2.0f, 1.9f, -3.0f};
    int32_t hist[3] = {0, 0, 2};
    mcl_sampler_params p = {.temperature = 0.0f, .repeat_penalty = 1.5f, .repeat_last_n = 8};
    mcl_sampler *s = make(p, 3);
    assert_int_equal(mcl_sampler_sample(s, logits, hist, 3), 1);
    assert_int_equal(mcl_sampler_sample(s, logits, NULL, 0), 0);
    /* Outside the window the penalty does not apply. */
    int32_t old[10] = {0, 2, 2, 2, 2, 2, 2, 2, 2, 2};
    assert_int_equal(mcl_sampler_sample(s, logits, old, 10), 0);
    /* The input logits are left as they were. */
    assert_true(logits[0] == 2.0f);
    mcl_sampler_free(s);
}

static void test_bad_params(void **state)
{
    (void)state;
    mcl_sampler *s = NULL;
    mcl_sampler_params p = {.temperature = -1.0f};
    assert_int_equal(mcl_sampler_create(&p, 10, &s), MCL_ERR_INVALID_ARG);
    assert_non_null(strstr(mcl_last_error(), "temperature"));
    p = (mcl_sampler_params){.top_p = 1.5f};
    assert_int_equal(mcl_sampler_create(&p, 10, &s), MCL_ERR_INVALID_ARG);
    assert_non_null(strstr(mcl_last_error(), "top_p"));
    p = (mcl_sampler_params){.top_k = -2};
    assert_int_equal(mcl_sampler_create(&p, 10, &s), MCL_ERR_INVALID_ARG);
    p = (mcl_sampler_params){0};
    assert_int_equal(mcl_sampler_create(&p, 0, &s), MCL_ERR_INVALID_ARG);
    assert_null(s);
}

static void test_all_neg_inf(void **state)
{
    (void)state;
    float logits[3] = {-INFINITY, -INFINITY, -INFINITY};
    mcl_sampler_params p = mcl_sampler_params_default();
    mcl_sampler *s = make(p, 3);
    int32_t id = mcl_sampler_sample(s, logits, NULL, 0);
    assert_true(id >= 0 && id < 3);
    mcl_sampler_free(s);
}

static void test_utf8_prefix(void **state)
{
    (void)state;
    const char *euro = "a\xe2\x82\xac"; /* a + U+20AC */
    assert_int_equal(mcl_utf8_complete_prefix(euro, 4), 4);
    assert_int_equal(mcl_utf8_complete_prefix(euro, 3), 1);
    assert_int_equal(mcl_utf8_complete_prefix(euro, 2), 1);
    assert_int_equal(mcl_utf8_complete_prefix(euro, 1), 1);
    const char *emoji = "\xf0\x9f\x99\x82"; /* U+1F642 */
    for (size_t k = 1; k < 4; k++) assert_int_equal(mcl_utf8_complete_prefix(emoji, k), 0);
    assert_int_equal(mcl_utf8_complete_prefix(emoji, 4), 4);
    /* Invalid bytes are passed through rather than held forever. */
    assert_int_equal(mcl_utf8_complete_prefix("\xff", 1), 1);
    assert_int_equal(mcl_utf8_complete_prefix("\x80\x80\x80\x80", 4), 4);
    assert_int_equal(mcl_utf8_complete_prefix("", 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy_is_argmax),
        cmocka_unit_test(test_greedy_large_rows),
        cmocka_unit_test(test_top_k_one_is_argmax),
        cmocka_unit_test(test_same_seed_same_sequence),
        cmocka_unit_test(test_frequencies_follow_softmax),
        cmocka_unit_test(test_top_p_and_min_p_cut),
        cmocka_unit_test(test_repeat_penalty_changes_choice),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_all_neg_inf),
        cmocka_unit_test(test_utf8_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
