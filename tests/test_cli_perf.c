/* The bench and tune commands on the CI device (issues 6 and 7): bench's
 * JSON has every figure, positive and finite; tune writes a tuning file that
 * a second process loads; a corrupt or foreign tuning file is ignored with a
 * warning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "cli_common.h"

static char dir[256];

static void positive(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble <= 0)
        fail_msg("bench JSON: %s is missing or not a positive finite number", key);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mcl-test-perf-%ld", (long)getpid());
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/cache && cp -r %s/tests/mcl-cache/. %s/cache/ 2>/dev/null; true", dir,
             getenv("MAMBACL_BUILD_ROOT"), dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_bench_json(void **state)
{
    (void)state;
    char cmd[1400], path[300], anchor[300], *out;
    snprintf(path, sizeof path, "%s/bench.json", dir);
    snprintf(anchor, sizeof anchor, "%s/anchor.json", dir);
    FILE *f = fopen(anchor, "w"); /* an anchor with the first quick shape only */
    assert_non_null(f);
    fputs("{\"scan\": [{\"batch\": 1, \"d_inner\": 64, \"L\": 128, \"d_state\": 16, \"fp32_ms\": 0.5, "
          "\"bf16_ms\": 0.25}]}\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "MAMBACL_CACHE_DIR=%s/cache %s bench --config tiny --quick --reps 1 --json %s --anchor %s", dir,
             cli_test_binary(), path, anchor);
    assert_int_equal(cli_test_run(cmd, &out), 0);
    assert_non_null(strstr(out, "x CUDA fp32 (0.5000)"));
    free(out);
    cJSON *j = cli_test_read_json(path), *e;
    /* the ratios come from the anchor, at its shape only */
    const cJSON *s0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "scan"), 0);
    const cJSON *s1 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "scan"), 1);
    double ms = cJSON_GetObjectItem(s0, "ms")->valuedouble;
    assert_true(fabs(cJSON_GetObjectItem(s0, "x_anchor_fp32")->valuedouble - 0.5 / ms) < 1e-6 * (0.5 / ms));
    assert_true(fabs(cJSON_GetObjectItem(s0, "x_anchor_bf16")->valuedouble - 0.25 / ms) < 1e-6 * (0.25 / ms));
    assert_null(cJSON_GetObjectItem(s1, "x_anchor_fp32"));
    const cJSON *b = cJSON_GetObjectItem(j, "baselines");
    positive(b, "copy_gbps");
    positive(b, "sgemm_gflops");
    positive(j, "step_floor_us");
    const char *sections[] = {"scan", "prefill", "decode"};
    const char *keys[3][6] = {{"ms", "gbps", "pct_copy", "launches", NULL},
                              {"L", "ms", "tokens_per_s", NULL},
                              {"ms_per_step", "tokens_per_s", "pct_roofline", "weight_bytes_per_token",
                               "host_layers_ms_per_step", "ms_per_step_median"}};
    for (int s = 0; s < 3; s++) {
        const cJSON *arr = cJSON_GetObjectItem(j, sections[s]);
        assert_true(cJSON_GetArraySize(arr) >= 2);
        cJSON_ArrayForEach(e, arr) {
            for (int k = 0; k < 6 && keys[s][k]; k++) positive(e, keys[s][k]);
            if (s > 0) assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(e, "kernels_ms")) >= 3);
        }
    }
    const cJSON *st = cJSON_GetObjectItem(j, "startup");
    positive(st, "ttft_no_cache_ms");
    positive(st, "ttft_cache_ms");
    cJSON_Delete(j);
}

/* "tuning: <source>" of program `file` in selftest's output. */
static void expect_tuning(const char *out, const char *file, const char *source)
{
    const char *p = strstr(out, file);
    assert_non_null(p);
    const char *t = strstr(p, "tuning: ");
    assert_non_null(t);
    if (strncmp(t + 8, source, strlen(source)) != 0) fail_msg("%s: expected tuning %s, got %.20s", file, source, t + 8);
}

static void test_tune_then_load(void **state)
{
    (void)state;
    char cmd[1024], *out;
    /* One family only: a whole quick tune took 88 s of CI, and scan.cl's
     * candidates alone ~80 (PoCL compiling each; nobody else compiles them),
     * where test_cli's tune compiles gemv.cl's same candidates anyway; the
     * tuning engine's search itself is test_tuning's. */
    snprintf(cmd, sizeof cmd, "MAMBACL_CACHE_DIR=%s/cache %s tune --config tiny --quick --reps 2 --only gemv.cl", dir,
             cli_test_binary());
    assert_int_equal(cli_test_run(cmd, &out), 0);
    assert_non_null(strstr(out, "saved "));
    free(out);
    /* A second process loads the file: the tuned families say so. */
    snprintf(cmd, sizeof cmd, "MAMBACL_CACHE_DIR=%s/cache %s selftest 2>&1", dir, cli_test_binary());
    assert_int_equal(cli_test_run(cmd, &out), 0);
    expect_tuning(out, "gemv.cl", "tuned");
    expect_tuning(out, "scan.cl", "default");
    free(out);
    /* Corrupt it: ignored with a warning, defaults again, still correct. */
    snprintf(cmd, sizeof cmd, "for f in %s/cache/tuning/*.json; do echo '{\"format\": [' > \"$f\"; done", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "MAMBACL_CACHE_DIR=%s/cache %s selftest 2>&1", dir, cli_test_binary());
    assert_int_equal(cli_test_run(cmd, &out), 0);
    assert_non_null(strstr(out, "warning: ignoring tuning file"));
    assert_non_null(strstr(out, "not valid JSON"));
    expect_tuning(out, "gemv.cl", "default");
    free(out);
    /* A file written for another device is refused too. */
    snprintf(cmd, sizeof cmd,
             "for f in %s/cache/tuning/*.json; do printf '%%s' '{\"format\":\"mambacl-tuning-1\",\"device\":"
             "{\"platform\":\"X\",\"name\":\"Y\",\"driver\":\"Z\"},\"families\":{\"scan.cl\":{\"params\":"
             "{\"SCAN_TT\":4}}}}' > \"$f\"; done", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "MAMBACL_CACHE_DIR=%s/cache %s selftest 2>&1", dir, cli_test_binary());
    assert_int_equal(cli_test_run(cmd, &out), 0);
    assert_non_null(strstr(out, "another device"));
    expect_tuning(out, "scan.cl", "default");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bench_json),
        cmocka_unit_test(test_tune_then_load),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
