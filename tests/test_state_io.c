/* State files (issue 15): mcl_state_save / mcl_state_load round-trip exactly
 * (prefill A, save, load, prefill B == prefill A+B, and decode goes on the
 * same), and files from another model, weights or dtype, truncated, corrupt
 * or not state files at all are refused with a message naming the problem,
 * leaving the state untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mambacl.h"
#include "diag/presets.h"

static mcl_runtime *rt;
static mcl_model *shakes;
static char path[256];

static int setup(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/models/shakespeare-mamba", getenv("MAMBACL_SOURCE_ROOT"));
    snprintf(path, sizeof path, "/tmp/mcl-test-state-%ld.bin", (long)getpid());
    if (mcl_runtime_create(NULL, &rt) != MCL_OK) return -1;
    return mcl_model_load(rt, dir, &shakes) == MCL_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    remove(path);
    mcl_model_free(shakes);
    mcl_runtime_free(rt);
    return 0;
}

static const int32_t A[] = {858, 26, 199, 7, 101, 55, 9, 300, 42, 199, 12, 77, 500, 3, 8, 199};
static const int32_t B[] = {1007, 26, 199, 64, 65};
#define NA ((int)(sizeof A / sizeof A[0]))
#define NB ((int)(sizeof B / sizeof B[0]))

static float max_diff(const float *a, const float *b, int n)
{
    float d = 0.0f;
    for (int i = 0; i < n; i++) d = fmaxf(d, fabsf(a[i] - b[i]));
    return d;
}

static void prefill(mcl_model *m, mcl_state *s, const int32_t *ids, int n, float *logits)
{
    assert_int_equal(mcl_prefill(m, &s, &ids, &n, 1, logits), MCL_OK);
}

static void test_round_trip_continues_exactly(void **state)
{
    (void)state;
    int v = mcl_model_vocab(shakes);
    float *want = malloc((size_t)v * 4), *got = malloc((size_t)v * 4);
    int32_t ab[NA + NB];
    memcpy(ab, A, sizeof A);
    memcpy(ab + NA, B, sizeof B);
    mcl_state *ref = NULL, *s = NULL, *t = NULL;
    assert_int_equal(mcl_state_create(shakes, &ref), MCL_OK);
    prefill(shakes, ref, ab, NA + NB, want);

    assert_int_equal(mcl_state_create(shakes, &s), MCL_OK);
    prefill(shakes, s, A, NA, got);
    assert_int_equal(mcl_state_save(s, path), MCL_OK);
    const mcl_config *c = mcl_model_config(shakes);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    assert_int_equal(size, 96 + 4L * c->n_layer * c->d_inner * (c->d_conv - 1 + c->d_state));

    assert_int_equal(mcl_state_create(shakes, &t), MCL_OK); /* another slot, zeroed */
    assert_int_equal(mcl_state_load(t, path), MCL_OK);
    prefill(shakes, t, B, NB, got);
    assert_true(max_diff(got, want, v) < 1e-4f);
    /* and a decode step from both agrees too */
    int32_t next = 5;
    assert_int_equal(mcl_decode(shakes, &ref, &next, 1, want), MCL_OK);
    assert_int_equal(mcl_decode(shakes, &t, &next, 1, got), MCL_OK);
    assert_true(max_diff(got, want, v) < 1e-4f);
    mcl_state_free(ref);
    mcl_state_free(s);
    mcl_state_free(t);
    free(want);
    free(got);
}

/* Saves a state of model m (after A, or its first tokens within its vocab). */
static void save_from(mcl_model *m)
{
    mcl_state *s = NULL;
    int32_t ids[4] = {1, 2, 3, 4};
    assert_int_equal(mcl_state_create(m, &s), MCL_OK);
    prefill(m, s, ids, 4, NULL);
    assert_int_equal(mcl_state_save(s, path), MCL_OK);
    mcl_state_free(s);
}

/* Loading `path` into a shakespeare state fails with `status` and `text`,
 * and leaves the state as it was (prefill after it matches a fresh one). */
static void expect_refused(mcl_status status, const char *text)
{
    int v = mcl_model_vocab(shakes);
    float *want = malloc((size_t)v * 4), *got = malloc((size_t)v * 4);
    mcl_state *s = NULL, *fresh = NULL;
    assert_int_equal(mcl_state_create(shakes, &s), MCL_OK);
    assert_int_equal(mcl_state_create(shakes, &fresh), MCL_OK);
    prefill(shakes, s, A, NA, NULL);
    prefill(shakes, fresh, A, NA, NULL);
    assert_int_equal(mcl_state_load(s, path), status);
    if (!strstr(mcl_last_error(), text)) fail_msg("expected '%s' in: %s", text, mcl_last_error());
    assert_non_null(strstr(mcl_last_error(), path));
    prefill(shakes, s, B, NB, got);
    prefill(shakes, fresh, B, NB, want);
    assert_true(max_diff(got, want, v) == 0.0f);
    mcl_state_free(s);
    mcl_state_free(fresh);
    free(want);
    free(got);
}

static void test_foreign_models_refused(void **state)
{
    (void)state;
    mcl_model *m = NULL;
    const mcl_config *tiny = &mcl_preset_find("tiny")->cfg;
    assert_int_equal(mcl_model_create_random(rt, tiny, MCL_DTYPE_F32, 7, &m), MCL_OK);
    save_from(m);
    mcl_model_free(m);
    expect_refused(MCL_ERR_INVALID_ARG, "another model");

    /* The same shape as the loaded model (F16): other weights, other dtype. */
    mcl_config same = *mcl_model_config(shakes);
    assert_int_equal(mcl_model_create_random(rt, &same, MCL_DTYPE_F16, 7, &m), MCL_OK);
    save_from(m);
    mcl_model_free(m);
    expect_refused(MCL_ERR_INVALID_ARG, "different weights");
    assert_int_equal(mcl_model_create_random(rt, &same, MCL_DTYPE_BF16, 7, &m), MCL_OK);
    save_from(m);
    mcl_model_free(m);
    expect_refused(MCL_ERR_INVALID_ARG, "BF16");
}

static void test_damaged_files_refused(void **state)
{
    (void)state;
    save_from(shakes);
    FILE *f = fopen(path, "r+b");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size / 2, SEEK_SET); /* a payload byte */
    int c = fgetc(f);
    fseek(f, size / 2, SEEK_SET);
    fputc(c ^ 0x40, f);
    fclose(f);
    expect_refused(MCL_ERR_FORMAT, "corrupt");

    save_from(shakes);
    assert_int_equal(truncate(path, size - 100), 0);
    expect_refused(MCL_ERR_FORMAT, "truncated");
    assert_int_equal(truncate(path, 40), 0);
    expect_refused(MCL_ERR_FORMAT, "truncated");

    f = fopen(path, "wb");
    fputs("{\"not\": \"a state\"}\n", f);
    fclose(f);
    expect_refused(MCL_ERR_FORMAT, "not a mambacl state file");

    save_from(shakes);
    f = fopen(path, "ab");
    fputc(0, f);
    fclose(f);
    expect_refused(MCL_ERR_FORMAT, "after the end");

    remove(path);
    expect_refused(MCL_ERR_IO, "cannot open");
    mcl_state *s = NULL;
    assert_int_equal(mcl_state_create(shakes, &s), MCL_OK);
    assert_int_equal(mcl_state_save(s, "/nonexistent-dir/x.state"), MCL_ERR_IO);
    assert_non_null(strstr(mcl_last_error(), "/nonexistent-dir/x.state"));
    mcl_state_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_continues_exactly),
        cmocka_unit_test(test_foreign_models_refused),
        cmocka_unit_test(test_damaged_files_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
