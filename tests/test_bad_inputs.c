/* Every broken model directory of tests/data/bad (made by
 * tools/make_bad_corpus.py) through the CLI: `mambacl info -m DIR` must exit
 * with code 1 (no crash, no hang: each run is killed after a timeout) and
 * print exactly one line on stderr that names the file and the problem
 * (cases.tsv: case, file named, text contained). Needs no device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define RUN_TIMEOUT_S 30 /* generous for sanitizer builds */

typedef struct run_result {
    int exit_code;  /* -1 when killed by a signal */
    int signal;
    char err[8192]; /* stderr, NUL-terminated (cut when longer) */
} run_result;

static const char *cli(void)
{
    const char *p = getenv("MAMBACL_CLI");
    if (!p) fail_msg("MAMBACL_CLI is not set (run through meson test)");
    return p;
}

static const char *data_dir(char *buf, size_t cap)
{
    const char *root = getenv("MAMBACL_SOURCE_ROOT");
    if (!root) fail_msg("MAMBACL_SOURCE_ROOT is not set (run through meson test)");
    snprintf(buf, cap, "%s/tests/data", root);
    return buf;
}

/* Child: stderr into the pipe, stdout to /dev/null, sanitizer failures get
 * their own exit codes, killed by SIGALRM after the timeout. */
static void child(int errfd, char *const argv[])
{
    const char *asan = getenv("ASAN_OPTIONS");
    char opts[1024];
    snprintf(opts, sizeof opts, "%s%sexitcode=86", asan ? asan : "", asan && *asan ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    setenv("UBSAN_OPTIONS", "halt_on_error=1:exitcode=87:print_stacktrace=1", 1);
    dup2(errfd, 2);
    FILE *null = freopen("/dev/null", "w", stdout);
    (void)null;
    alarm(RUN_TIMEOUT_S);
    execv(argv[0], argv);
    _exit(127);
}

static void run(char *const argv[], run_result *r)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child(fds[1], argv);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t n;
    char sink[4096];
    while ((n = read(fds[0], got + 1 < sizeof r->err ? r->err + got : sink,
                     got + 1 < sizeof r->err ? sizeof r->err - 1 - got : sizeof sink)) > 0)
        if (got + 1 < sizeof r->err) got += (size_t)n;
    r->err[got] = '\0';
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* One `info -m dir` run checked: exit 1, one line, names `named`, contains `text`. */
static bool check_case(const char *dir, const char *named, const char *text)
{
    char *argv[] = {(char *)cli(), "info", "-m", (char *)dir, NULL};
    run_result r;
    run(argv, &r);
    size_t len = strlen(r.err);
    bool ok = r.exit_code == 1 && count_lines(r.err) == 1 && len > 0 && r.err[len - 1] == '\n' &&
              strstr(r.err, named) && strstr(r.err, text);
    if (!ok)
        print_message("FAIL %s: exit %d signal %d, %d line(s), want '%s' and '%s' in:\n%s\n", dir,
                      r.exit_code, r.signal, count_lines(r.err), named, text, r.err);
    return ok;
}

static void test_corpus(void **state)
{
    (void)state;
    char data[1024], tsv[1200], line[2048];
    data_dir(data, sizeof data);
    snprintf(tsv, sizeof tsv, "%s/bad/cases.tsv", data);
    FILE *f = fopen(tsv, "r");
    if (!f) fail_msg("cannot open %s (run tools/make_bad_corpus.py)", tsv);
    int cases = 0, failed = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *name = strtok(line, "\t"), *file = strtok(NULL, "\t"), *text = strtok(NULL, "\t");
        if (!name || !file || !text) fail_msg("malformed line in %s", tsv);
        char dir[1400], named[1500];
        snprintf(dir, sizeof dir, "%s/bad/%s", data, name);
        if (strcmp(file, ".") == 0) snprintf(named, sizeof named, "%s", dir);
        else snprintf(named, sizeof named, "%s/%s", dir, file);
        cases++;
        failed += !check_case(dir, named, text);
    }
    fclose(f);
    print_message("%d broken model directories, %d failed\n", cases, failed);
    assert_true(cases >= 25);
    assert_int_equal(failed, 0);
}

/* Paths that are not model directories at all. */
static void test_not_a_model_dir(void **state)
{
    (void)state;
    char data[1024], path[1200];
    data_dir(data, sizeof data);
    snprintf(path, sizeof path, "%s/bad/no-such-directory", data);
    assert_true(check_case(path, path, "cannot open model directory"));
    snprintf(path, sizeof path, "%s/bad/cases.tsv", data);
    assert_true(check_case(path, path, "not a directory"));
    assert_true(check_case("", "", "cannot open model directory"));
}

/* The valid tiny model passes through the same path (the harness can see success). */
static void test_valid_model_exit_0(void **state)
{
    (void)state;
    char data[1024], dir[1200];
    data_dir(data, sizeof data);
    snprintf(dir, sizeof dir, "%s/tiny-model/", data);
    char *argv[] = {(char *)cli(), "info", "-m", dir, NULL};
    run_result r;
    run(argv, &r);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(r.err, "");
}

/* Usage errors are exit 2, not 1; without -m, info reads the default model
 * (as run does, issue 15). */
static void test_usage(void **state)
{
    (void)state;
    char *argv[] = {(char *)cli(), "info", NULL};
    run_result r;
    run(argv, &r);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(r.err, "");
    char *argv2[] = {(char *)cli(), "info", "-m", "x", "extra", NULL};
    run(argv2, &r);
    assert_int_equal(r.exit_code, 2);
}

/* Values from the environment and paths are quoted with control characters
 * escaped (\xHH), never raw: MAMBACL_MODEL holding an ESC sequence and a
 * newline still gives one line on stderr without an ESC byte. */
static void test_control_characters_escaped(void **state)
{
    (void)state;
    char *argv[] = {(char *)cli(), "info", NULL};
    run_result r;
    setenv("MAMBACL_MODEL", "/nonexistent/\x1b[31mred\nline", 1);
    run(argv, &r);
    unsetenv("MAMBACL_MODEL");
    assert_int_equal(r.exit_code, 1);
    assert_int_equal(count_lines(r.err), 1);
    assert_null(strchr(r.err, '\x1b'));
    assert_non_null(strstr(r.err, "/nonexistent/\\x1b[31mred\\x0aline: cannot open model directory"));
    char *argv2[] = {(char *)cli(), "info", "-m", "bad\x07" "dir", NULL};
    run(argv2, &r);
    assert_int_equal(r.exit_code, 1);
    if (!strstr(r.err, "bad\\x07dir")) fail_msg("stderr: %s", r.err);
}

/* `run` refuses what `info` refuses (conv_kernel 1, by config.json and field),
 * and a prompt whose ids the tokenizer has but the model does not embed
 * (a tokenizer larger than the vocabulary) before anything is echoed or run,
 * naming the token, the tokenizer file and config.json. */
static void test_run_agrees_with_info(void **state)
{
    (void)state;
    char data[1024], dir[1200], tok[1300];
    data_dir(data, sizeof data);
    snprintf(dir, sizeof dir, "%s/bad/cfg-conv-kernel-one", data);
    char *argv[] = {(char *)cli(), "run", "-m", dir, "-p", "hi", "-n", "1", NULL};
    run_result r;
    run(argv, &r);
    if (r.exit_code != 1) fail_msg("exit %d, stderr: %s", r.exit_code, r.err);
    assert_int_equal(count_lines(r.err), 1);
    assert_non_null(strstr(r.err, "config.json: \"conv_kernel\" = 1 is out of range [2, 64]"));
    snprintf(dir, sizeof dir, "%s/tiny-model", data); /* vocab 256 */
    snprintf(tok, sizeof tok, "%s/../../models/shakespeare-mamba/tokenizer.json", data); /* 4096 tokens */
    char *argv2[] = {(char *)cli(), "run", "-m", dir, "--tokenizer", tok, "-p", "hi", "-n", "1", NULL};
    run(argv2, &r);
    assert_int_equal(r.exit_code, 1);
    assert_int_equal(count_lines(r.err), 1);
    assert_non_null(strstr(r.err, "the prompt's token 'hi' (id 373 from "));
    assert_non_null(strstr(r.err, "shakespeare-mamba/tokenizer.json) is outside the model's vocabulary of 256"));
    assert_non_null(strstr(r.err, "tiny-model/config.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_not_a_model_dir),
        cmocka_unit_test(test_valid_model_exit_0),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_control_characters_escaped),
        cmocka_unit_test(test_run_agrees_with_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
