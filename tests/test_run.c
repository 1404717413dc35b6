/* Text generation (issue 5): `mambacl run` end to end on the default model,
 * and the streaming text buffer's UTF-8 and stop-string hold-back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "cli_common.h"

#include "cli/generate.h"
#include "mambacl.h"

/* Runs a shell command; *out receives stdout (malloc'ed), returns the exit code. */
static cJSON *load_reference(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/reference/shakespeare-mamba.json", getenv("MAMBACL_SHARED"));
    return cli_test_read_json(path);
}

/* Single-quotes s for the shell. */
static void shell_quote(const char *s, char *out, size_t cap)
{
    size_t k = 0;
    out[k++] = '\'';
    for (; *s && k + 5 < cap; s++) {
        if (*s == '\'') { memcpy(out + k, "'\\''", 4); k += 4; }
        else out[k++] = *s;
    }
    out[k++] = '\'';
    out[k] = '\0';
}

/* The default model (no -m) with --greedy reproduces the reference text. */
static void test_greedy_text_matches_reference(void **state)
{
    (void)state;
    cJSON *ref = load_reference();
    cJSON *e;
    cJSON_ArrayForEach(e, ref) {
        const char *prompt = cJSON_GetObjectItem(e, "prompt")->valuestring;
        const char *want = cJSON_GetObjectItem(e, "greedy_text")->valuestring;
        char q[512], cmd[2048], *out;
        shell_quote(prompt, q, sizeof q);
        snprintf(cmd, sizeof cmd, "%s run -p %s -n 32 --greedy --quiet --ignore-eos --no-echo", cli_test_binary(), q);
        assert_int_equal(cli_test_run(cmd, &out), 0);
        size_t n = strlen(out);
        assert_true(n > 0 && out[n - 1] == '\n'); /* run ends the output with a newline */
        out[n - 1] = '\0';
        assert_string_equal(out, want);
        free(out);
    }
    cJSON_Delete(ref);
}

static void test_seed_reproducible(void **state)
{
    (void)state;
    char cmd[1024], *a, *b, *c;
    snprintf(cmd, sizeof cmd, "%s run -p 'JULIET:' -n 24 --seed 7 --temp 1.0 --quiet", cli_test_binary());
    assert_int_equal(cli_test_run(cmd, &a), 0);
    assert_int_equal(cli_test_run(cmd, &b), 0);
    assert_string_equal(a, b);
    snprintf(cmd, sizeof cmd, "%s run -p 'JULIET:' -n 24 --seed 8 --temp 1.0 --quiet", cli_test_binary());
    assert_int_equal(cli_test_run(cmd, &c), 0);
    assert_string_not_equal(a, c);
    free(a);
    free(b);
    free(c);
}

static void test_stop_string(void **state)
{
    (void)state;
    char cmd[1024], *out;
    /* Greedy text after "ROMEO:" is "\nI have a man of this.\n\nDUKE OF YORK:..." */
    snprintf(cmd, sizeof cmd, "%s run -p 'ROMEO:' -n 32 --greedy --quiet --stop DUKE --no-echo", cli_test_binary());
    assert_int_equal(cli_test_run(cmd, &out), 0);
    assert_string_equal(out, "\nI have a man of this.\n\n\n");
    free(out);
}

static void test_batch_file(void **state)
{
    (void)state;
    char cmd[1024], *out;
    const char *path = "/tmp/mcl-test-batch.txt";
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("ROMEO:\n\nJULIET:\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s run --batch-file %s -n 32 --greedy --quiet --ignore-eos", cli_test_binary(), path);
    assert_int_equal(cli_test_run(cmd, &out), 0);
    /* The batched completion of ROMEO: equals the single-sequence reference. */
    assert_non_null(strstr(out, "=== 1: ROMEO:\nI have a man of this.\n\nDUKE OF YORK:\nI have a king, and I have not.\n"));
    assert_non_null(strstr(out, "=== 3: JULIET:")); /* numbered by line in the file */
    assert_null(strstr(out, "=== 2"));
    free(out);
    remove(path);
}

static void test_bad_options_exit_2(void **state)
{
    (void)state;
    const char *bad[] = {"--temp -1 -p x", "--top-p 2 -p x", "--top-k x -p x", "-n -2 -p x", "--bogus",
                         "--print-ids -p x", "-p x --ids '1 2'", "--stop '' -p x", "-m /nonexistent/dir -p x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char cmd[1024], *out;
        snprintf(cmd, sizeof cmd, "%s run %s 2>/tmp/mcl-run-err.txt", cli_test_binary(), bad[i]);
        int rc = cli_test_run(cmd, &out);
        free(out);
        /* The last one is a runtime error (the model is missing), the rest usage errors. */
        assert_int_equal(rc, i + 1 == sizeof bad / sizeof bad[0] ? 1 : 2);
        FILE *f = fopen("/tmp/mcl-run-err.txt", "r");
        char line[512] = {0};
        assert_non_null(fgets(line, sizeof line, f));
        fclose(f);
        assert_non_null(strstr(line, "mambacl run"));
    }
    remove("/tmp/mcl-run-err.txt");
}

/* Feeds the token pieces of `text` one at a time and checks that nothing
 * printed ever ends inside a UTF-8 character, and that all of it comes out. */
static void test_multibyte_split_prints_intact(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/models/shakespeare-mamba/tokenizer.json", getenv("MAMBACL_SOURCE_ROOT"));
    mcl_tokenizer *tok = NULL;
    assert_int_equal(mcl_tokenizer_load(path, &tok), MCL_OK);
    const char *text = "caf\xc3\xa9 \xe2\x82\xac 5 \xf0\x9f\x99\x82!";
    int32_t *ids = NULL;
    size_t n = 0;
    assert_int_equal(mcl_tokenizer_encode(tok, text, strlen(text), &ids, &n), MCL_OK);
    gen_opts o = {0};
    gen_text b = {0};
    char *printed = NULL;
    size_t plen = 0;
    FILE *out = open_memstream(&printed, &plen);
    int splits = 0;
    for (size_t i = 0; i < n; i++) {
        bool stop = false;
        assert_int_equal(gen_text_add(tok, &b, ids[i], &o, &stop), MCL_OK);
        gen_text_flush(&b, &o, out, false);
        fflush(out);
        if (b.printed < b.len) splits++;
        assert_int_equal(mcl_utf8_complete_prefix(printed, plen), plen);
    }
    gen_text_flush(&b, &o, out, true);
    fclose(out);
    assert_true(splits > 0); /* the tokenizer did split a character */
    assert_string_equal(printed, text);
    free(printed);
    free(b.data);
    free(ids);
    mcl_tokenizer_free(tok);
}

/* Ctrl-C (SIGINT) stops a long generation at the next token: exit 0, the
 * text so far and the statistics marked "(interrupted)". The signal is sent
 * once the first tokens have been streamed (the handler is in place then). */
static void test_ctrl_c_stops_cleanly(void **state)
{
    (void)state;
    char cmd[1024], *out;
    snprintf(cmd, sizeof cmd,
             "%s run -p 'ROMEO:' -n 1000000 --ignore-eos --seed 1 >/tmp/mcl-int-out.txt 2>/tmp/mcl-int-err.txt & "
             "pid=$!; i=0; while [ ! -s /tmp/mcl-int-out.txt ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; "
             "sleep 0.5; kill -INT $pid; wait $pid; echo $?",
             cli_test_binary());
    assert_int_equal(cli_test_run(cmd, &out), 0);
    assert_int_equal(atoi(out), 0);
    free(out);
    assert_int_equal(cli_test_run("cat /tmp/mcl-int-err.txt", &out), 0);
    assert_non_null(strstr(out, "(interrupted)"));
    assert_non_null(strstr(out, "generated:"));
    free(out);
    assert_int_equal(cli_test_run("cat /tmp/mcl-int-out.txt", &out), 0);
    assert_true(strncmp(out, "ROMEO:", 6) == 0 && strlen(out) > 20);
    free(out);
    remove("/tmp/mcl-int-out.txt");
    remove("/tmp/mcl-int-err.txt");
}

/* The API example builds and generates the reference text. */
static void test_example_program(void **state)
{
    (void)state;
    const char *exe = getenv("MAMBACL_EXAMPLE");
    assert_non_null(exe);
    char cmd[2048], *out;
    snprintf(cmd, sizeof cmd, "%s '%s/models/shakespeare-mamba' 'ROMEO:' 16", exe, getenv("MAMBACL_SOURCE_ROOT"));
    assert_int_equal(cli_test_run(cmd, &out), 0);
    assert_non_null(strstr(out, "ROMEO:\nI have a man of this.\n\nDUKE OF YORK"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy_text_matches_reference),
        cmocka_unit_test(test_seed_reproducible),
        cmocka_unit_test(test_stop_string),
        cmocka_unit_test(test_batch_file),
        cmocka_unit_test(test_bad_options_exit_2),
        cmocka_unit_test(test_multibyte_split_prints_intact),
        cmocka_unit_test(test_ctrl_c_stops_cleanly),
        cmocka_unit_test(test_example_program),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
