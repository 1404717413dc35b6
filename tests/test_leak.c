/* Load/free cycles without growth: a runtime created, the tiny model loaded,
 * a prefill long enough to go through CLBlast's GEMM (rows > 16, under the
 * GPU rules: MAMBACL_TEST_DEVICE_TYPE=gpu) and a decode, then everything freed, N times (MCL_LEAK_CYCLES, default 100 in
 * CI; the 1,000 by hand). The resident set after the warm-up cycles
 * (30; the heap settles there) may not grow by more than 64 KiB a cycle on average (before CLBlast's
 * cache was cleared with the last runtime it grew by ~2.8 MB a cycle). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mambacl.h"

#define VOCAB 256
#define PROMPT 24
#define WARMUP 30

static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void cycle(const char *dir, float *logits)
{
    mcl_runtime *rt = NULL;
    mcl_model *m = NULL;
    mcl_state *s = NULL;
    if (mcl_runtime_create(NULL, &rt) != MCL_OK) fail_msg("runtime: %s", mcl_last_error());
    if (mcl_model_load(rt, dir, &m) != MCL_OK) fail_msg("model: %s", mcl_last_error());
    assert_int_equal(mcl_state_create(m, &s), MCL_OK);
    int32_t ids[PROMPT];
    for (int i = 0; i < PROMPT; i++) ids[i] = (i * 17 + 3) % VOCAB;
    const int32_t *toks[1] = {ids};
    int len = PROMPT;
    if (mcl_prefill(m, &s, toks, &len, 1, logits) != MCL_OK) fail_msg("prefill: %s", mcl_last_error());
    int32_t next = 5;
    assert_int_equal(mcl_decode(m, &s, &next, 1, logits), MCL_OK);
    mcl_state_free(s);
    mcl_model_free(m);
    mcl_runtime_free(rt);
}

static void test_cycles_do_not_grow(void **state)
{
    (void)state;
    /* The GPU rules (GEMM_CLBLAST 1) on the CI's CPU device, so that the
     * prefill's projections go through CLBlast, whose kernel cache leaked. */
    setenv("MAMBACL_TEST_DEVICE_TYPE", "gpu", 1);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/tests/data/tiny-model", getenv("MAMBACL_SOURCE_ROOT"));
    const char *env = getenv("MCL_LEAK_CYCLES");
    int cycles = env ? atoi(env) : 100;
    if (cycles <= WARMUP) cycles = WARMUP + 1;
    static float logits[VOCAB], first[VOCAB];
    long base = 0;
    for (int i = 0; i < cycles; i++) {
        cycle(dir, logits);
        if (i == 0) memcpy(first, logits, sizeof first);
        else assert_memory_equal(first, logits, sizeof first);
        if (i == WARMUP - 1) base = rss_kib();
        if (getenv("MCL_LEAK_VERBOSE") && i % 50 == 49) print_message("cycle %d: rss %ld KiB\n", i + 1, rss_kib());
    }
    long end = rss_kib();
    double per = (double)(end - base) / (cycles - WARMUP);
    print_message("rss %ld KiB after %d warm-up cycles, %ld KiB after %d: %.1f KiB per cycle\n", base, WARMUP,
                  end, cycles, per);
    assert_true(base > 0 && end > 0);
    if (per > 64.0) fail_msg("the process grows by %.1f KiB per load/free cycle", per);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cycles_do_not_grow)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
