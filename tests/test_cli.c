/* The CLI as a llama.cpp user meets it (issue 15), one test per numbered
 * item of the issue and the state file as a prompt cache, on the CI device
 * with the bundled model. Each test drives the `mambacl` binary through the
 * shell; the commands keep to small prompts and shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "cli_common.h"
#include "cli/generate.h"
#include "base/error.h"
#include "device/device.h"

static char tmp[256];  /* a directory of this test process */
static char bin[1024]; /* the binary, quoted for the shell */

/* Runs the shell command built from fmt (stdout in *out when out is not
 * NULL); returns its exit code. */
static int sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh(char **out, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char *o = NULL;
    int rc = cli_test_run(cmd, &o);
    if (out) *out = o;
    else free(o);
    return rc;
}

/* The whole file at tmp/name (malloc'ed, "" when missing). */
static char *slurp(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "rb");
    if (!f) return strdup("");
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0)
        if ((n += got) + 1 == cap) buf = realloc(buf, cap *= 2);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void expect_in(const char *hay, const char *needle, const char *what)
{
    if (!strstr(hay, needle)) fail_msg("%s: expected '%s' in:\n%s", what, needle, hay);
}

static void expect_not_in(const char *hay, const char *needle, const char *what)
{
    if (strstr(hay, needle)) fail_msg("%s: did not expect '%s' in:\n%s", what, needle, hay);
}

/* The type of the device the CLI opens here by default (MAMBACL_DEVICE, else
 * the best one) and whether a CPU device is listed; false when none opens. */
static bool device_types(mcl_device_type *selected, bool *has_cpu)
{
    mcl_device_info *list = NULL;
    int n = 0, idx = -1;
    bool ok = mcl_device_enumerate(&list, NULL, NULL, &n, false) == MCL_OK &&
              mcl_device_select(list, n, NULL, &idx) == MCL_OK;
    *has_cpu = false;
    for (int i = 0; ok && i < n; i++) *has_cpu = *has_cpu || list[i].type == MCL_DEVICE_TYPE_CPU;
    if (ok) *selected = list[idx].type;
    free(list);
    mcl_error_clear();
    return ok;
}

/* The shell prefix that makes the CLI open a CPU device: "" when the default
 * one is a CPU (the CI's PoCL), "MAMBACL_DEVICE=cpu " when another device is
 * the default (the H200 machine, whose PoCL platform is listed too); false
 * when there is no CPU device. For the items whose subject needs a CPU's
 * speed or its defaults: a prefill lasting seconds, bench's small defaults. */
static bool cpu_prefix(const char **prefix)
{
    mcl_device_type t = MCL_DEVICE_TYPE_OTHER;
    bool has_cpu = false;
    assert_true(device_types(&t, &has_cpu));
    *prefix = t == MCL_DEVICE_TYPE_CPU ? "" : "MAMBACL_DEVICE=cpu ";
    return has_cpu;
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/mcl-test-cli-%ld", (long)getpid());
    snprintf(bin, sizeof bin, "'%s'", getenv("MAMBACL_CLI"));
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* A prompt of about `bytes` tokens (random base64 lines: ~1 token per byte
 * with this tokenizer), whose prefill takes many seconds on the CI device. */
static void long_prompt(const char *name, int bytes)
{
    assert_int_equal(sh(NULL, "head -c %d /dev/urandom | base64 -w 100 > %s/%s", bytes * 3 / 4, tmp, name), 0);
}

/* 1. Ctrl-C during a long prefill stops within a fraction of a second (exit
 * 130, a message), and a terminal shows the prefill's progress. On a CPU
 * device: the 30000-token prefill of the bundled model lasts seconds there;
 * a GPU such as the H200 can finish it within the 1 s the test waits
 * before its signal. */
static void test_1_ctrl_c_in_prefill_and_progress(void **state)
{
    (void)state;
    char *out;
    const char *cpu;
    if (!cpu_prefix(&cpu)) {
        print_message("no CPU device: a prefill here ends before the signal could be sent\n");
        skip();
    }
    long_prompt("long.txt", 30000);
    /* The prompt is echoed just before the prefill starts: signal 1 s later. */
    assert_int_equal(sh(&out,
                        "cd %s && %s%s run -f long.txt -n 4 >o1 2>e1 & pid=$!; i=0; "
                        "while [ ! -s %s/o1 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; sleep 1; "
                        "t0=$(date +%%s%%N); kill -INT $pid; wait $pid; rc=$?; t1=$(date +%%s%%N); "
                        "echo $rc $(( (t1 - t0) / 1000000 ))",
                        tmp, cpu, bin, tmp),
                     0);
    int rc = -1, ms = -1;
    assert_int_equal(sscanf(out, "%d %d", &rc, &ms), 2);
    free(out);
    char *err = slurp("e1");
    assert_int_equal(rc, 130);
    expect_in(err, "interrupted during the prefill", "stderr after Ctrl-C");
    /* One layer of a 1024-token pass is ~0.3 s here; the bound leaves room
     * for a loaded CI machine (before issue 15 the whole ~25 s prefill ran). */
    if (ms > 3000) fail_msg("the prefill took %d ms to stop after SIGINT", ms);
    free(err);
    /* A second Ctrl-C, while the first waits for the layer to end, exits at
     * once. The two signals race with the end of the layer: up to 3 tries. */
    bool twice = false;
    for (int attempt = 0; attempt < 3 && !twice; attempt++) {
        assert_int_equal(sh(&out,
                            "cd %s && rm -f o2 && %s%s run -f long.txt -n 4 >o2 2>e2 & pid=$!; i=0; "
                            "while [ ! -s %s/o2 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; sleep 1; "
                            "kill -INT $pid; sleep 0.01; kill -INT $pid; wait $pid; echo $?",
                            tmp, cpu, bin, tmp),
                         0);
        assert_int_equal(atoi(out), 130);
        free(out);
        err = slurp("e2");
        twice = strstr(err, "interrupted twice") != NULL;
        free(err);
    }
    if (!twice) fail_msg("a second Ctrl-C never ended the process at once (3 tries)");
    /* On a terminal (script gives one): "prefill: done / total tokens (..%), rate". */
    assert_int_equal(sh(&out,
                        "cd %s && (%sscript -qfec \"sh -c 'echo \\$\\$ > pid; exec %s run -f long.txt -n 4 "
                        "--no-echo'\" /dev/null > tty.txt 2>&1 &) ; i=0; "
                        "while ! grep -q 'tokens/s' tty.txt 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; "
                        "kill -INT $(cat pid); i=0; while kill -0 $(cat pid) 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; "
                        "i=$((i+1)); done; true",
                        tmp, cpu, bin),
                     0);
    free(out);
    char *tty = slurp("tty.txt");
    expect_in(tty, "prefill: ", "terminal output");
    expect_in(tty, " tokens (", "terminal output");
    expect_in(tty, "tokens/s", "terminal output");
    free(tty);
}

/* 2. Every argument, file and output path is checked before the device is
 * opened: with a device selector that matches nothing, each bad argument
 * is what gets reported, not the device. */
static void test_2_checks_before_any_work(void **state)
{
    (void)state;
    static const struct {
        const char *args;
        int rc;
        const char *says;
    } cases[] = {
        {"bench -m /nonexistent", 1, "/nonexistent"},
        {"bench --config tiny --json /nonexistent/x.json", 2, "/nonexistent/x.json"},
        {"bench --config tiny --csv /nonexistent/x.csv", 2, "/nonexistent/x.csv"},
        {"bench --config tiny --anchor /nonexistent.json", 2, "/nonexistent.json"},
        {"tune -m /nonexistent", 1, "/nonexistent"},
        {"run -f /nonexistent", 2, "/nonexistent"},
        {"run -p x --state-save /nonexistent/s.state", 2, "/nonexistent/s.state"},
        {"run -p x --state-load /nonexistent.state", 2, "/nonexistent.state"},
        {"run --batch-file /nonexistent", 2, "/nonexistent"},
        {"run -m /nonexistent -p x", 1, "/nonexistent"},
        {"run --ids 999999 --print-ids", 2, "vocabulary"},
        {"logits --ids 999999", 2, "vocabulary"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = sh(NULL, "MAMBACL_DEVICE=no-such-device %s %s </dev/null >/dev/null 2>%s/err", bin, cases[i].args, tmp);
        char *err = slurp("err");
        if (rc != cases[i].rc) fail_msg("'%s': exit %d, expected %d; stderr: %s", cases[i].args, rc, cases[i].rc, err);
        expect_in(err, cases[i].says, cases[i].args);
        expect_not_in(err, "no device matches", cases[i].args);
        free(err);
    }
    /* tune without a usable cache directory fails before the device too. */
    int rc = sh(NULL, "MAMBACL_CACHE_DIR=/dev/null/cache MAMBACL_DEVICE=no-such-device %s tune 2>%s/err", bin, tmp);
    char *err = slurp("err");
    assert_int_equal(rc, 1);
    expect_in(err, "cache directory", "tune without a cache directory");
    expect_not_in(err, "no device matches", "tune without a cache directory");
    free(err);
}

/* 3. Escapes in -p and --stop are processed as llama.cpp does (on by
 * default), --no-escape keeps them literal. */
static void test_3_escapes(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(sh(&out, "%s run -p 'ROMEO:' -n 32 --greedy --quiet --no-echo --stop '\\n\\n'", bin), 0);
    assert_string_equal(out, "\nI have a man of this.\n");
    free(out);
    assert_int_equal(sh(&out, "%s run -p 'ROMEO:' -n 32 --greedy --quiet --no-echo --no-escape --stop '\\n\\n'", bin), 0);
    expect_in(out, "DUKE OF YORK", "--no-escape: the stop string is literal and never met");
    free(out);
    char *a, *b;
    assert_int_equal(sh(&a, "%s run -p 'ROMEO:\\nJULIET:' -n 8 --greedy --quiet", bin), 0);
    assert_int_equal(sh(&b, "%s run -p \"$(printf 'ROMEO:\\nJULIET:')\" -n 8 --greedy --quiet", bin), 0);
    assert_string_equal(a, b);
    free(a);
    free(b);
    assert_int_equal(sh(&a, "%s run -e -p 'A\\x42\\tC' -n 0 --quiet", bin), 0);
    assert_string_equal(a, "AB\tC\n");
    free(a);
}

/* 4. --batch-file says its limit; write errors exit 1 everywhere. */
static void test_4_batch_limit_and_write_errors(void **state)
{
    (void)state;
    assert_int_equal(sh(NULL, "yes ROMEO: | head -n 1025 > %s/big.txt", tmp), 0);
    assert_int_equal(sh(NULL, "MAMBACL_DEVICE=no-such-device %s run --batch-file %s/big.txt 2>%s/err", bin, tmp, tmp), 2);
    char *err = slurp("err");
    expect_in(err, "more than 1024 prompts", "1025 prompts");
    free(err);
    static const char *const cmds[] = {"run -p ROMEO: -n 4", "tokenize -p ROMEO:", "info", "logits --ids '1 2'",
                                       "devices", "bench --config tiny --quick --reps 1", "run --help", "--version"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        int rc = sh(NULL, "%s %s >/dev/full 2>%s/err", bin, cmds[i], tmp);
        err = slurp("err");
        if (rc != 1) fail_msg("'%s >/dev/full' exited %d; stderr: %s", cmds[i], rc, err);
        expect_in(err, "No space left on device", cmds[i]);
        free(err);
    }
    assert_int_equal(sh(NULL, "%s run -p ROMEO: -n 4 >&- 2>/dev/null", bin), 1);
    assert_int_equal(sh(NULL, "%s tokenize -p ROMEO: >&- 2>/dev/null", bin), 1);
}

/* 5. A cold start says it compiles and keeps it out of the figures; batch
 * completions come out as each one finishes. The notice "compiling the
 * OpenCL kernels" comes once creating the runtime has taken a second: it
 * is expected when the kernels alone took longer (PoCL's many seconds with
 * its own cache empty; NVIDIA's driver, whose compute cache is outside the
 * directories given here, can build them all in less). mambacl's cache is
 * cold here; PoCL's is the suite's (POCL_CACHE_DIR), mostly warm by now: an
 * empty one of its own cost ~45 s of CI in each of build/ and build-asan/. */
static void test_5_no_silent_phases(void **state)
{
    (void)state;
    assert_int_equal(sh(NULL,
                        "MAMBACL_CACHE_DIR=%s/cold %s run -p ROMEO: -n 2 >/dev/null 2>%s/cold.txt && "
                        "MAMBACL_CACHE_DIR=%s/cold %s run -p ROMEO: -n 2 >/dev/null 2>%s/warm.txt",
                        tmp, bin, tmp, tmp, bin, tmp),
                     0);
    char *cold = slurp("cold.txt"), *warm = slurp("warm.txt");
    const char *line = strstr(cold, "first run on this device: kernels compiled in ");
    double compile_s = -1.0;
    if (!line || sscanf(line, "first run on this device: kernels compiled in %lf s", &compile_s) != 1)
        fail_msg("cold start: no 'kernels compiled in N s' in:\n%s", cold);
    if (compile_s > 1.5) expect_in(cold, "compiling the OpenCL kernels", "cold start of more than a second");
    expect_in(cold, "not counted in the figures", "cold start");
    expect_not_in(warm, "compiling the OpenCL kernels", "warm start");
    expect_not_in(warm, "kernels compiled in", "warm start");
    free(cold);
    free(warm);
    /* "First" runs its 32 tokens; "ROMEO:" meets the stop string after a few:
     * its completion (line 2) is printed first. */
    write_file("batch.txt", "First\nROMEO:\n");
    char *out;
    assert_int_equal(sh(&out, "%s run --batch-file %s/batch.txt -n 32 --greedy --quiet --stop DUKE", bin, tmp), 0);
    const char *two = strstr(out, "=== 2: ROMEO:\nI have a man of this.\n\n\n"), *one = strstr(out, "=== 1: First");
    assert_non_null(two);
    assert_non_null(one);
    assert_true(two < one);
    free(out);
}

/* 6. Device order: real GPUs, then CPUs, simulators last and only when asked
 * for; the names gpu, cpu, pocl select devices. */
static void test_6_device_order_and_names(void **state)
{
    (void)state;
    mcl_device_info list[4];
    memset(list, 0, sizeof list);
    const struct { const char *platform, *name; mcl_device_type type; } devs[] = {
        {"Oclgrind", "Oclgrind Simulator", MCL_DEVICE_TYPE_GPU},
        {"Portable Computing Language", "cpu-haswell", MCL_DEVICE_TYPE_CPU},
        {"NVIDIA CUDA", "NVIDIA H200", MCL_DEVICE_TYPE_GPU},
        {"Other", "Other", MCL_DEVICE_TYPE_OTHER}};
    for (int i = 0; i < 4; i++) {
        snprintf(list[i].platform, sizeof list[i].platform, "%s", devs[i].platform);
        snprintf(list[i].name, sizeof list[i].name, "%s", devs[i].name);
        list[i].type = devs[i].type;
        list[i].is_simulator = mcl_device_is_simulator(&list[i]);
    }
    int perm[4];
    mcl_device_order(list, 4, perm);
    assert_int_equal(perm[0], 2); /* the real GPU */
    assert_int_equal(perm[1], 1); /* the CPU */
    assert_int_equal(perm[2], 3); /* others */
    assert_int_equal(perm[3], 0); /* the simulator, although a "GPU", last */
    mcl_device_info sorted[4];
    for (int i = 0; i < 4; i++) sorted[i] = list[perm[i]], sorted[i].index = i;
    int idx = -1;
    unsetenv("MAMBACL_DEVICE");
    assert_int_equal(mcl_device_select(sorted, 4, NULL, &idx), MCL_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(mcl_device_select(sorted, 4, "cpu", &idx), MCL_OK);
    assert_int_equal(idx, 1);
    assert_int_equal(mcl_device_select(sorted, 4, "GPU", &idx), MCL_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(mcl_device_select(sorted, 4, "pocl", &idx), MCL_OK);
    assert_int_equal(idx, 1);
    assert_int_equal(mcl_device_select(sorted, 4, "oclgrind", &idx), MCL_OK);
    assert_int_equal(idx, 3);
    /* A simulator alone is not taken by default. */
    assert_int_equal(mcl_device_select(&sorted[3], 1, NULL, &idx), MCL_ERR_NO_DEVICE);
    expect_in(mcl_last_error(), "simulator", "only a simulator");
    assert_int_equal(mcl_device_select(&sorted[3], 1, "gpu", &idx), MCL_ERR_NO_DEVICE);
    /* The CI device answers to its common names. */
    assert_int_equal(sh(NULL, "%s run --device pocl -p ROMEO: -n 2 --quiet >/dev/null", bin), 0);
    assert_int_equal(sh(NULL, "%s run --device cpu -p ROMEO: -n 2 --quiet >/dev/null", bin), 0);
    char *out;
    assert_int_equal(sh(&out, "%s devices --json", bin), 0);
    expect_in(out, "\"simulator\":false", "devices --json");
    free(out);
}

/* Off a CPU (the H200): bench's defaults are the 130m configuration, not the
 * CPU's tiny one (--quick keeps it short; it does not choose the model). */
static void expect_gpu_bench_defaults(void)
{
    assert_int_equal(sh(NULL, "MAMBACL_CACHE_DIR=%s/tc %s bench --reps 1 --quick > %s/bench.txt", tmp, bin, tmp), 0);
    char *out = slurp("bench.txt");
    expect_not_in(out, "a CPU device", "bench defaults off a CPU");
    expect_in(out, "model     130m,", "bench defaults off a CPU");
    free(out);
}

/* 7. bench and tune pick small defaults on a CPU and print as they go; tune
 * keeps the families it finished when Ctrl-C stops it. Where the default
 * device is not a CPU, bench's defaults there are checked too, and the CPU
 * part runs on the CPU device when one is listed. */
static void test_7_defaults_by_device_and_partial_tuning(void **state)
{
    (void)state;
    const char *cpu;
    bool has_cpu = cpu_prefix(&cpu);
    assert_int_equal(sh(NULL, "mkdir -p %s/tc && cp -r %s/mcl-cache/. %s/tc/ 2>/dev/null; true", tmp,
                        getenv("MAMBACL_BUILD_ROOT"), tmp),
                     0);
    if (*cpu) expect_gpu_bench_defaults();
    if (!has_cpu) {
        print_message("no CPU device: the CPU defaults and the partial tuning are not tried\n");
        skip();
    }
    assert_int_equal(sh(NULL, "MAMBACL_CACHE_DIR=%s/tc %s%s bench --reps 1 > %s/bench.txt", tmp, cpu, bin, tmp), 0);
    char *out = slurp("bench.txt");
    expect_in(out, "a CPU device: --config tiny --quick", "bench defaults");
    expect_in(out, "prefill   L=64", "bench quick shapes");
    /* startup is measured first, before other sections warm anything */
    const char *st = strstr(out, "startup"), *dev = strstr(out, "device    ");
    assert_true(st && dev && st < dev);
    free(out);
    assert_int_equal(sh(&out,
                        "cd %s && MAMBACL_CACHE_DIR=%s/tc %s%s tune --reps 1 --only gemv.cl,ssm_step.cl > tune.txt 2>&1 & "
                        "pid=$!; i=0; while ! grep -q 'gemv.cl .*finished' %s/tune.txt && [ $i -lt 1200 ]; do sleep 0.1; "
                        "i=$((i+1)); done; kill -INT $pid; wait $pid; echo $?",
                        tmp, tmp, cpu, bin, tmp),
                     0);
    int rc = atoi(out);
    free(out);
    out = slurp("tune.txt");
    if (rc != 130) fail_msg("tune after Ctrl-C exited %d:\n%s", rc, out);
    expect_in(out, "a CPU device: --config tiny --quick", "tune defaults");
    expect_in(out, "interrupted", "tune after Ctrl-C");
    /* ssm_step.cl may finish before the signal lands (it is quick on the tiny
     * shape): the file must hold exactly the families reported finished. */
    bool step_done = strstr(out, "ssm_step.cl  finished") != NULL;
    free(out);
    assert_int_equal(sh(&out, "cat %s/tc/tuning/*.json", tmp), 0);
    expect_in(out, "gemv.cl", "the tuning file keeps the finished family");
    if (step_done) expect_in(out, "ssm_step.cl", "the finished second family");
    else expect_not_in(out, "ssm_step.cl", "the unfinished family");
    free(out);
}

/* 8. Statistics say what was measured: -n 1 has no decode step. */
static void test_8_honest_statistics(void **state)
{
    (void)state;
    assert_int_equal(sh(NULL, "%s run -p ROMEO: -n 1 --greedy >/dev/null 2>%s/err", bin, tmp), 0);
    char *err = slurp("err");
    expect_in(err, "generated: 1 token (no decode step, no decode rate)", "-n 1");
    free(err);
    assert_int_equal(sh(NULL, "%s run -p ROMEO: -n 5 --greedy --ignore-eos >/dev/null 2>%s/err", bin, tmp), 0);
    err = slurp("err");
    expect_in(err, "generated: 5 tokens, ", "-n 5");
    expect_in(err, "over 4 decode steps", "-n 5");
    free(err);
    char path[600];
    snprintf(path, sizeof path, "%s/b.json", tmp);
    assert_int_equal(sh(NULL, "%s bench --config tiny --quick --reps 1 --json %s >/dev/null", bin, path), 0);
    cJSON *j = cli_test_read_json(path);
    cJSON *s = cJSON_GetObjectItem(j, "startup");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(s, "bundled_model")));
    expect_in(cJSON_GetObjectItem(s, "note")->valuestring, "measured first", "startup note");
    cJSON_Delete(j);
}

/* 9. llama.cpp conventions: random seed printed, aliases, -n -1, top-p 0,
 * repeat options, -ngl. */
static void test_9_llama_conventions(void **state)
{
    (void)state;
    char *a, *b, *c;
    assert_int_equal(sh(&a, "%s run -p JULIET: -n 16 --temp 1.2 --no-echo 2>%s/e1", bin, tmp), 0);
    assert_int_equal(sh(&b, "%s run -p JULIET: -n 16 --temp 1.2 --no-echo 2>%s/e2", bin, tmp), 0);
    char *e1 = slurp("e1"), *e2 = slurp("e2");
    unsigned long long s1 = 0, s2 = 0;
    assert_int_equal(sscanf(strstr(e1, "seed: "), "seed: %llu", &s1), 1);
    assert_int_equal(sscanf(strstr(e2, "seed: "), "seed: %llu", &s2), 1);
    assert_true(s1 != s2);
    /* the printed seed reproduces the text, through -s too */
    assert_int_equal(sh(&c, "%s run -p JULIET: -n 16 --temperature 1.2 -s %llu --no-echo --quiet", bin, s1), 0);
    assert_string_equal(a, c);
    free(a);
    free(b);
    free(c);
    free(e1);
    free(e2);
    /* -r is --stop; -n -1 runs until a stop (or the end of text) */
    assert_int_equal(sh(&a, "%s run -p ROMEO: -n -1 --greedy --quiet --no-echo -r DUKE", bin), 0);
    assert_string_equal(a, "\nI have a man of this.\n\n\n");
    free(a);
    /* top-p 0 keeps one token: the greedy text whatever the temperature */
    assert_int_equal(sh(&a, "%s run -p ROMEO: -n 16 --top-p 0 --temp 1.5 --quiet", bin), 0);
    assert_int_equal(sh(&b, "%s run -p ROMEO: -n 16 --greedy --quiet", bin), 0);
    assert_string_equal(a, b);
    free(a);
    /* a repeat penalty over a window of 0 tokens changes nothing */
    assert_int_equal(sh(&a, "%s run -p ROMEO: -n 16 --temp 0 --repeat-penalty 1.8 --repeat-last-n 0 --quiet", bin), 0);
    assert_string_equal(a, b);
    free(a);
    assert_int_equal(sh(&a, "%s run -p ROMEO: -n 16 --temp 0 --repeat-penalty 1.8 --quiet", bin), 0);
    assert_string_not_equal(a, b);
    free(a);
    free(b);
    assert_int_equal(sh(NULL, "%s run -p x --repeat-penalty 0 2>/dev/null", bin), 2);
    /* -ngl and -c of llama.cpp scripts are accepted with a note */
    assert_int_equal(sh(NULL, "%s run -ngl 99 -c 2048 -p ROMEO: -n 2 >/dev/null 2>%s/err", bin, tmp), 0);
    a = slurp("err");
    expect_in(a, "-ngl 99 ignored", "-ngl");
    expect_in(a, "-c 2048 ignored", "-c");
    free(a);
    assert_int_equal(sh(&a, "%s run --help", bin), 0);
    expect_in(a, "default 1.0 = off", "repeat penalty default documented");
    expect_in(a, "applied in this order", "sampler order documented");
    free(a);
}

/* 10. The same options mean the same in every command; help tells the truth. */
static void test_10_consistency_and_help(void **state)
{
    (void)state;
    char *a, *b;
    /* -m is optional everywhere (the bundled model) */
    assert_int_equal(sh(&a, "%s info --json", bin), 0);
    assert_non_null(strstr(a, "\"d_model\""));
    assert_true(strchr(a, '\n') == a + strlen(a) - 1); /* one line */
    free(a);
    assert_int_equal(sh(&a, "%s tokenize -p ROMEO:", bin), 0);
    assert_int_equal(sh(&b, "printf ROMEO: | %s tokenize", bin), 0); /* stdin by default, as in run */
    assert_string_equal(a, b);
    free(b);
    assert_int_equal(sh(&b, "%s tokenize --text ROMEO:", bin), 0);
    assert_string_equal(a, b);
    free(a);
    free(b);
    assert_int_equal(sh(NULL, "%s logits --ids '858 26' >/dev/null", bin), 0);
    /* an id outside the vocabulary is bad usage in both */
    assert_int_equal(sh(NULL, "%s tokenize --decode 999999 2>/dev/null", bin), 2);
    assert_int_equal(sh(NULL, "%s logits --ids 999999 2>/dev/null", bin), 2);
    /* run takes --tokenizer */
    assert_int_equal(sh(&a, "%s run --tokenizer '%s/models/shakespeare-mamba/tokenizer.json' -p ROMEO: -n 4 --greedy --quiet",
                        bin, getenv("MAMBACL_SOURCE_ROOT")),
                     0);
    expect_in(a, "ROMEO:\nI have", "run --tokenizer");
    free(a);
    /* help */
    assert_int_equal(sh(&a, "%s help run", bin), 0);
    assert_int_equal(sh(&b, "%s run --help", bin), 0);
    assert_string_equal(a, b);
    expect_in(b, "--file FILE", "run --help");
    expect_in(b, "('-' = stdin), at most 1024", "run --help");
    free(a);
    free(b);
    assert_int_equal(sh(&a, "%s --help", bin), 0);
    expect_in(a, "--version", "--help");
    expect_in(a, "help [COMMAND]", "--help");
    free(a);
    assert_int_equal(sh(&a, "%s --version", bin), 0);
    assert_true(strncmp(a, "mambacl ", 8) == 0);
    free(a);
    /* an unknown option: one line naming it, one hint */
    assert_int_equal(sh(NULL, "%s run --bogus 2>%s/err", bin, tmp), 2);
    a = slurp("err");
    assert_string_equal(a, "mambacl run: unknown option '--bogus'\nTry 'mambacl run --help'.\n");
    free(a);
    assert_int_equal(sh(NULL, "%s tokenize -x 2>%s/err", bin, tmp), 2);
    a = slurp("err");
    assert_string_equal(a, "mambacl tokenize: unknown option '-x'\nTry 'mambacl tokenize --help'.\n");
    free(a);
}

/* 11. The smaller items. */
static void test_11_smaller_items(void **state)
{
    (void)state;
    char *a;
    /* --quiet draws no load bar even on a terminal */
    assert_int_equal(sh(NULL, "cd %s && script -qfec \"%s run -p ROMEO: -n 2 --quiet\" /dev/null > q.txt 2>&1", tmp, bin), 0);
    a = slurp("q.txt");
    expect_not_in(a, "loading", "--quiet on a terminal");
    expect_not_in(a, "[mambacl]", "--quiet on a terminal");
    free(a);
    /* --no-echo with a batch; blank lines skipped; outputs numbered by line */
    write_file("b2.txt", "ROMEO:\n   \n\nJULIET:\n");
    assert_int_equal(sh(&a, "%s run --batch-file %s/b2.txt -n 4 --greedy --quiet --no-echo", bin, tmp), 0);
    assert_string_equal(a, "=== 1: \nI have a\n=== 4: \nI have a\n");
    free(a);
    /* CSV integers in full */
    assert_int_equal(sh(NULL, "%s bench --config tiny --quick --reps 1 --csv %s/b.csv >/dev/null", bin, tmp), 0);
    a = slurp("b.csv");
    expect_in(a, "baseline,copy,copy_bytes,16777216\n", "CSV integer");
    free(a);
    /* the echoed prompt shows what the model saw: U+FFFD for an invalid byte */
    assert_int_equal(sh(&a, "%s run -p \"$(printf '\\377ROMEO:')\" -n 0 --quiet", bin), 0);
    assert_string_equal(a, "\xef\xbf\xbdROMEO:\n");
    free(a);
    /* a broken cache directory is said, once */
    write_file("notadir", "x");
    assert_int_equal(sh(NULL, "MAMBACL_CACHE_DIR=%s/notadir %s run -p ROMEO: -n 2 >/dev/null 2>%s/err", tmp, bin, tmp), 0);
    a = slurp("err");
    expect_in(a, "warning", "a file as the cache directory");
    expect_in(a, "compiled on every run", "a file as the cache directory");
    assert_null(strstr(strstr(a, "warning") + 1, "warning: no cache"));
    free(a);
}

/* The end of a generation never prints half a character: an unfinished one
 * becomes U+FFFD. */
static void test_11_final_flush_is_valid_utf8(void **state)
{
    (void)state;
    gen_opts o = {0};
    gen_text b = {0};
    b.data = strdup("ab\xe2\x82");
    b.len = 4;
    b.cap = 5;
    char *printed = NULL;
    size_t plen = 0;
    FILE *out = open_memstream(&printed, &plen);
    assert_int_equal(gen_text_flush(&b, &o, out, false), MCL_OK);
    fflush(out);
    assert_int_equal(plen, 2); /* held back while it may still complete */
    assert_int_equal(gen_text_flush(&b, &o, out, true), MCL_OK);
    fclose(out);
    assert_string_equal(printed, "ab\xef\xbf\xbd");
    free(printed);
    free(b.data);
}

/* The ids of `mambacl ARGS`' JSON output ({"ids": [...]} or [...]) as "1 2 3". */
static char *json_ids(const char *args)
{
    char *out;
    assert_int_equal(sh(&out, "%s %s", bin, args), 0);
    cJSON *j = cJSON_Parse(out), *arr = cJSON_IsArray(j) ? j : cJSON_GetObjectItem(j, "ids"), *e;
    assert_non_null(arr);
    char *s = calloc(1, 4096);
    cJSON_ArrayForEach(e, arr) snprintf(s + strlen(s), 4096 - strlen(s), "%s%d", *s ? " " : "", e->valueint);
    cJSON_Delete(j);
    free(out);
    return s;
}

/* The text of ids "1 2 3" (tokenize --decode). */
static char *decode(const char *ids)
{
    char *out;
    assert_int_equal(sh(&out, "%s tokenize --decode '%s'", bin, ids), 0);
    cJSON *j = cJSON_Parse(out);
    char *t = strdup(cJSON_GetObjectItem(j, "text")->valuestring);
    cJSON_Delete(j);
    free(out);
    return t;
}

/* The state file as a prompt cache: prefill A, save, load, continue ==
 * prefill A+B (ids and greedy text); foreign and corrupt files refused;
 * -i continues the same state line after line. */
static void test_state_files(void **state)
{
    (void)state;
    char *a, *b;
    /* text */
    assert_int_equal(sh(NULL, "%s run -p 'ROMEO:\\n' -n 0 --quiet --state-save %s/a.state >/dev/null", bin, tmp), 0);
    assert_int_equal(sh(&a, "%s run --state-load %s/a.state -p JULIET: -n 24 --greedy --quiet --no-echo", bin, tmp), 0);
    assert_int_equal(sh(&b, "%s run -p 'ROMEO:\\nJULIET:' -n 24 --greedy --quiet --no-echo", bin), 0);
    assert_string_equal(a, b);
    free(a);
    free(b);
    /* ids */
    assert_int_equal(sh(&a, "%s run --ids '858 26 199 7 101' --print-ids -n 0 --state-save %s/i.state", bin, tmp), 0);
    assert_string_equal(a, "[]\n");
    free(a);
    assert_int_equal(sh(&a, "%s run --state-load %s/i.state --ids '1007 26' --print-ids -n 12 --greedy", bin, tmp), 0);
    assert_int_equal(sh(&b, "%s run --ids '858 26 199 7 101 1007 26' --print-ids -n 12 --greedy", bin), 0);
    assert_string_equal(a, b);
    free(a);
    free(b);
    /* -i: each line continues the state, generated text included */
    assert_int_equal(sh(&a, "printf 'ROMEO:\\nJULIET:\\n' | %s run -i -n 0 --quiet --state-save %s/ia.state", bin, tmp), 0);
    free(a);
    assert_int_equal(sh(&a, "%s run --state-load %s/ia.state -p K -n 12 --greedy --quiet --no-echo", bin, tmp), 0);
    assert_int_equal(sh(&b, "%s run -p 'ROMEO:\\nJULIET:\\nK' -n 12 --greedy --quiet --no-echo", bin), 0);
    assert_string_equal(a, b);
    free(a);
    free(b);
    /* With generation: line 2's completion continues line 1 + its 4 generated
     * tokens, as a one-shot run over those ids says. */
    assert_int_equal(sh(&a, "printf 'ROMEO:\\nKING:\\n' | %s run -i -n 4 --greedy --quiet", bin), 0);
    char *l1 = json_ids("tokenize -p 'ROMEO:\\n'"), *l2 = json_ids("tokenize -p 'KING:\\n'"), cmd[1024];
    snprintf(cmd, sizeof cmd, "run --ids '%s' --print-ids -n 4 --greedy", l1);
    char *g1 = json_ids(cmd);
    snprintf(cmd, sizeof cmd, "run --ids '%s %s %s' --print-ids -n 4 --greedy", l1, g1, l2);
    char *g2 = json_ids(cmd), *t1 = decode(g1), *t2 = decode(g2), want[1024];
    snprintf(want, sizeof want, "%s\n%s\n", t1, t2);
    assert_string_equal(a, want);
    free(a);
    free(l1);
    free(l2);
    free(g1);
    free(g2);
    free(t1);
    free(t2);
    /* a state of another model is refused: another config before the device,
     * other weights (one byte changed) once the model is loaded */
    assert_int_equal(sh(NULL,
                        "cd %s && mkdir -p other && cp -r '%s/models/shakespeare-mamba/.' other/ && "
                        "sed -i 's/\"layer_norm_epsilon\": *1e-05/\"layer_norm_epsilon\": 2e-05/' other/config.json && "
                        "mkdir -p other2 && cp -r '%s/models/shakespeare-mamba/.' other2/ && "
                        "printf 'Z' | dd of=other2/model.safetensors bs=1 seek=$(( $(stat -c %%s other2/model.safetensors) - 64 )) "
                        "conv=notrunc 2>/dev/null",
                        tmp, getenv("MAMBACL_SOURCE_ROOT"), getenv("MAMBACL_SOURCE_ROOT")),
                     0);
    assert_int_equal(sh(NULL, "MAMBACL_DEVICE=no-such-device %s run -m %s/other --state-load %s/a.state -p x 2>%s/err",
                        bin, tmp, tmp, tmp),
                     1);
    a = slurp("err");
    expect_in(a, "saved from another model", "a state of another config");
    free(a);
    assert_int_equal(sh(NULL, "%s run -m %s/other2 --state-load %s/a.state -p x -n 1 2>%s/err", bin, tmp, tmp, tmp), 1);
    a = slurp("err");
    expect_in(a, "different weights", "a state of other weights");
    free(a);
    assert_int_equal(sh(NULL, "cd %s && cp a.state bad.state && printf 'XXXX' | dd of=bad.state bs=1 seek=5000 "
                              "conv=notrunc 2>/dev/null", tmp), 0);
    assert_int_equal(sh(NULL, "%s run --state-load %s/bad.state -p x -n 1 2>%s/err", bin, tmp, tmp), 1);
    a = slurp("err");
    expect_in(a, "corrupt state file", "a corrupt state");
    free(a);
    assert_int_equal(sh(NULL, "cd %s && head -c 1000 a.state > short.state", tmp), 0);
    assert_int_equal(sh(NULL, "%s run --state-load %s/short.state -p x -n 1 2>%s/err", bin, tmp, tmp), 1);
    a = slurp("err");
    expect_in(a, "truncated", "a truncated state");
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_1_ctrl_c_in_prefill_and_progress),
        cmocka_unit_test(test_2_checks_before_any_work),
        cmocka_unit_test(test_3_escapes),
        cmocka_unit_test(test_4_batch_limit_and_write_errors),
        cmocka_unit_test(test_5_no_silent_phases),
        cmocka_unit_test(test_6_device_order_and_names),
        cmocka_unit_test(test_7_defaults_by_device_and_partial_tuning),
        cmocka_unit_test(test_8_honest_statistics),
        cmocka_unit_test(test_9_llama_conventions),
        cmocka_unit_test(test_10_consistency_and_help),
        cmocka_unit_test(test_11_smaller_items),
        cmocka_unit_test(test_11_final_flush_is_valid_utf8),
        cmocka_unit_test(test_state_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
