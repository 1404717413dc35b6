/* The tokenizer against the Hugging Face `tokenizers` library: the 16
 * GPT-NeoX cases, the shakespeare-mamba prompts, the variant tokenizers of
 * tests/data/tokenizer (ids and decoded text), round trips, invalid UTF-8,
 * NFC, lookups, the bad-file corpus through the API and the CLI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "tokenizer/tokenizer.h"

static char neox_path[1024], shakes_path[1024], data_dir[1024];
static mcl_tokenizer *neox;

static const char *env_or_skip(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "%s not set\n", name);
        skip();
    }
    return v;
}

static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    if (!buf || got != (size_t)n) { free(buf); return NULL; }
    buf[n] = '\0';
    if (len) *len = (size_t)n;
    return buf;
}

static cJSON *read_json(const char *path)
{
    char *text = read_text(path, NULL);
    assert_non_null(text);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    return j;
}

static int setup(void **state)
{
    (void)state;
    const char *shared = getenv("MAMBACL_SHARED"), *src = getenv("MAMBACL_SOURCE_ROOT");
    if (!shared || !src) return -1;
    snprintf(neox_path, sizeof neox_path, "%s/tokenizers/gpt-neox-20b/tokenizer.json", shared);
    snprintf(shakes_path, sizeof shakes_path, "%s/models/shakespeare-mamba/tokenizer.json", shared);
    snprintf(data_dir, sizeof data_dir, "%s/tests/data", src);
    if (mcl_tokenizer_load(neox_path, &neox) != MCL_OK) {
        fprintf(stderr, "%s\n", mcl_last_error());
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mcl_tokenizer_free(neox);
    return 0;
}

/* Encodes text and compares with the JSON array of expected ids. */
static void check_encode(const mcl_tokenizer *tok, const char *text, size_t len, const cJSON *want, const char *what)
{
    int32_t *ids;
    size_t n;
    assert_int_equal(mcl_tokenizer_encode(tok, text, len, &ids, &n), MCL_OK);
    bool same = (int)n == cJSON_GetArraySize(want);
    size_t i = 0;
    for (const cJSON *w = want->child; same && w; w = w->next, i++) same = ids[i] == (int32_t)w->valuedouble;
    if (!same) {
        fprintf(stderr, "%s: text \"%s\": got", what, text);
        for (i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
        fprintf(stderr, "\n");
    }
    free(ids);
    assert_true(same);
}

static void test_neox_cases(void **state)
{
    (void)state;
    char path[1200];
    snprintf(path, sizeof path, "%s/reference/gpt-neox-20b-tokenizer-cases.json", env_or_skip("MAMBACL_SHARED"));
    cJSON *cases = read_json(path);
    assert_int_equal(cJSON_GetArraySize(cases), 16);
    for (const cJSON *c = cases->child; c; c = c->next) {
        const char *text = cJSON_GetObjectItem(c, "text")->valuestring;
        check_encode(neox, text, strlen(text), cJSON_GetObjectItem(c, "ids"), "gpt-neox-20b");
    }
    cJSON_Delete(cases);
}

static void test_shakespeare_prompts(void **state)
{
    (void)state;
    char path[1200];
    snprintf(path, sizeof path, "%s/reference/shakespeare-mamba.json", env_or_skip("MAMBACL_SHARED"));
    cJSON *ref = read_json(path);
    mcl_tokenizer *tok;
    assert_int_equal(mcl_tokenizer_load(shakes_path, &tok), MCL_OK);
    assert_int_equal(mcl_tokenizer_vocab_size(tok), 4096);
    assert_true(cJSON_GetArraySize(ref) >= 3);
    for (const cJSON *c = ref->child; c; c = c->next) {
        const char *text = cJSON_GetObjectItem(c, "prompt")->valuestring;
        check_encode(tok, text, strlen(text), cJSON_GetObjectItem(c, "ids"), "shakespeare-mamba");
    }
    mcl_tokenizer_free(tok);
    cJSON_Delete(ref);
}

/* Every variant tokenizer: ids and the decoded text as the library gives. */
static void test_variants(void **state)
{
    (void)state;
    char path[1200];
    snprintf(path, sizeof path, "%s/tokenizer/cases.json", data_dir);
    cJSON *all = read_json(path);
    int n_variants = 0;
    for (const cJSON *v = cJSON_GetObjectItem(all, "variants")->child; v; v = v->next, n_variants++) {
        const char *file = cJSON_GetObjectItem(v, "file")->valuestring;
        snprintf(path, sizeof path, "%s/tokenizer/%s", data_dir, file);
        mcl_tokenizer *tok;
        if (mcl_tokenizer_load(path, &tok) != MCL_OK) fail_msg("%s", mcl_last_error());
        for (const cJSON *c = cJSON_GetObjectItem(v, "cases")->child; c; c = c->next) {
            const char *text = cJSON_GetObjectItem(c, "text")->valuestring;
            const cJSON *want = cJSON_GetObjectItem(c, "ids");
            check_encode(tok, text, strlen(text), want, file);
            int32_t ids[256];
            size_t n = 0;
            for (const cJSON *w = want->child; w; w = w->next) ids[n++] = (int32_t)w->valuedouble;
            char *out;
            assert_int_equal(mcl_tokenizer_decode(tok, ids, n, &out, NULL), MCL_OK);
            assert_string_equal(out, cJSON_GetObjectItem(c, "decoded")->valuestring);
            free(out);
        }
        mcl_tokenizer_free(tok);
    }
    assert_true(n_variants >= 15);
    cJSON_Delete(all);
}

static void roundtrip(const mcl_tokenizer *tok, const char *s)
{
    int32_t *ids;
    size_t n, len;
    char *out;
    assert_int_equal(mcl_tokenizer_encode(tok, s, strlen(s), &ids, &n), MCL_OK);
    assert_int_equal(mcl_tokenizer_decode(tok, ids, n, &out, &len), MCL_OK);
    assert_string_equal(out, s);
    assert_int_equal(len, strlen(s));
    /* The streaming pieces concatenate to the same bytes. */
    tok_buf cat = {0};
    for (size_t i = 0; i < n; i++) {
        const char *b;
        size_t bl;
        assert_int_equal(mcl_tokenizer_token_text(tok, ids[i], &b, &bl), MCL_OK);
        assert_true(tok_buf_append(&cat, b, bl));
    }
    assert_int_equal(cat.len, len);
    assert_memory_equal(cat.p ? cat.p : "", out, len);
    tok_buf_free(&cat);
    free(out);
    free(ids);
}

static void test_roundtrip(void **state)
{
    (void)state;
    static const char *texts[] = {
        "", "a", "Hello, world!", "emoji \xF0\x9F\x99\x82\xF0\x9F\x9A\x80 family \xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7",
        "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE3\x83\x86\xE3\x82\xAD\xE3\x82\xB9\xE3\x83\x88 \xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4",
        "   spaces   and\t\ttabs\n\n\n  \r\n", "                                                  ",
        "<|endoftext|><|padding|>assistant RWKV<|im_start|>", "caf\xC3\xA9 na\xC3\xAFve \xC3\x85ngstr\xC3\xB6m",
        "x\xC2\xA0y\xE2\x80\xA8z\xE3\x80\x80w", "code: for (int i = 0; i < n; i++) { s += a[i]; }",
    };
    mcl_tokenizer *shakes;
    assert_int_equal(mcl_tokenizer_load(shakes_path, &shakes), MCL_OK);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        roundtrip(neox, texts[i]);
        roundtrip(shakes, texts[i]);
    }
    mcl_tokenizer_free(shakes);
}

/* Invalid UTF-8 is replaced by U+FFFD (one per maximal invalid subpart)
 * before encoding. */
static void test_invalid_utf8(void **state)
{
    (void)state;
    static const struct { const char *in, *as; } cases[] = {
        {"a\xFF" "b", "a\xEF\xBF\xBD" "b"},
        {"\xC3", "\xEF\xBF\xBD"},
        {"x\xE6\x97", "x\xEF\xBF\xBD"},                       /* truncated 3-byte sequence: one U+FFFD */
        {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"}, /* surrogate: three */
        {"\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},             /* overlong */
        {"\x80\x80 ok", "\xEF\xBF\xBD\xEF\xBF\xBD ok"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int32_t *a, *b;
        size_t na, nb;
        assert_int_equal(mcl_tokenizer_encode(neox, cases[i].in, strlen(cases[i].in), &a, &na), MCL_OK);
        assert_int_equal(mcl_tokenizer_encode(neox, cases[i].as, strlen(cases[i].as), &b, &nb), MCL_OK);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na * sizeof *a);
        char *out;
        assert_int_equal(mcl_tokenizer_decode(neox, a, na, &out, NULL), MCL_OK);
        assert_string_equal(out, cases[i].as);
        free(out);
        free(a);
        free(b);
    }
    /* A token that is half of a UTF-8 sequence decodes to U+FFFD alone, but
     * its token_text is the raw byte. */
    int32_t id = mcl_tokenizer_token_id(neox, "\xC3\xA6"); /* byte 0xE6 as ByteLevel 'æ' */
    assert_true(id >= 0);
    char *out;
    assert_int_equal(mcl_tokenizer_decode(neox, &id, 1, &out, NULL), MCL_OK);
    assert_string_equal(out, "\xEF\xBF\xBD");
    free(out);
    const char *b;
    size_t bl;
    assert_int_equal(mcl_tokenizer_token_text(neox, id, &b, &bl), MCL_OK);
    assert_int_equal(bl, 1);
    assert_int_equal((unsigned char)b[0], 0xE6);
    /* NUL bytes are ordinary text. */
    int32_t *ids;
    size_t n;
    assert_int_equal(mcl_tokenizer_encode(neox, "a\0b", 3, &ids, &n), MCL_OK);
    assert_true(n >= 2);
    free(ids);
}

static void nfc_is(const char *in, const char *want)
{
    tok_buf out = {0};
    assert_true(tok_nfc(in, strlen(in), &out));
    assert_non_null(out.p);
    assert_string_equal(out.p, want);
    tok_buf_free(&out);
}

static void test_nfc(void **state)
{
    (void)state;
    nfc_is("cafe\xCC\x81", "caf\xC3\xA9");                         /* e + acute -> é */
    nfc_is("caf\xC3\xA9", "caf\xC3\xA9");
    nfc_is("\xE2\x84\xAB", "\xC3\x85");                            /* ANGSTROM SIGN -> Å */
    nfc_is("A\xCC\x8A", "\xC3\x85");
    nfc_is("a\xCC\x82\xCC\xA3", "\xE1\xBA\xAD");                   /* a + circumflex + dot below -> ậ (reordered) */
    nfc_is("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8", "\xEA\xB0\x81"); /* Hangul L V T -> 각 */
    nfc_is("\xCC\x81" "a", "\xCC\x81" "a");                         /* leading mark stays */
    nfc_is("\xC3\xA9\xCC\x81", "\xC3\xA9\xCC\x81");                /* é + acute: nothing to compose */
    nfc_is("\xE0\xA5\x98", "\xE0\xA4\x95\xE0\xA4\xBC");            /* composition exclusion U+0958 */
    /* The GPT-NeoX tokenizer normalizes before BPE. */
    int32_t *a, *b;
    size_t na, nb;
    assert_int_equal(mcl_tokenizer_encode(neox, "re\xCC\x81sume\xCC\x81", 10, &a, &na), MCL_OK);
    assert_int_equal(mcl_tokenizer_encode(neox, "r\xC3\xA9sum\xC3\xA9", 8, &b, &nb), MCL_OK);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na * sizeof *a);
    free(a);
    free(b);
}

static void test_lookups(void **state)
{
    (void)state;
    assert_int_equal(mcl_tokenizer_vocab_size(neox), 50281);
    assert_int_equal(mcl_tokenizer_token_id(neox, "<|endoftext|>"), 0);
    assert_int_equal(mcl_tokenizer_token_id(neox, "<|padding|>"), 1);
    assert_int_equal(mcl_tokenizer_token_id(neox, "no such token here"), -1);
    assert_int_equal(mcl_tokenizer_eos_id(neox), 0);
    assert_int_equal(mcl_tokenizer_bos_id(neox), 0);
    assert_true(mcl_tokenizer_is_special(neox, 0));
    assert_false(mcl_tokenizer_is_special(neox, 50276));
    assert_false(mcl_tokenizer_is_special(neox, 12092));
    assert_false(mcl_tokenizer_is_special(neox, -1));
    const char *b;
    size_t n;
    assert_int_equal(mcl_tokenizer_token_text(neox, 12092, &b, &n), MCL_OK);  /* "Hello" */
    assert_int_equal(n, 5);
    assert_memory_equal(b, "Hello", 5);
    assert_int_equal(mcl_tokenizer_token_text(neox, 1533, &b, &n), MCL_OK);   /* "Ġworld" */
    assert_memory_equal(b, " world", 6);
    assert_int_equal(mcl_tokenizer_token_text(neox, 50281, &b, &n), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_tokenizer_token_text(neox, -3, &b, &n), MCL_ERR_INVALID_ARG);
    int32_t bad[] = {12092, 60000};
    char *out;
    assert_int_equal(mcl_tokenizer_decode(neox, bad, 2, &out, NULL), MCL_ERR_INVALID_ARG);
    assert_non_null(strstr(mcl_last_error(), "60000"));
    assert_null(out);
    assert_int_equal(mcl_tokenizer_encode(neox, NULL, 3, NULL, NULL), MCL_ERR_INVALID_ARG);
    mcl_tokenizer *t = (mcl_tokenizer *)1;
    assert_int_equal(mcl_tokenizer_load("/nonexistent/tokenizer.json", &t), MCL_ERR_IO);
    assert_null(t);
    assert_non_null(strstr(mcl_last_error(), "/nonexistent/tokenizer.json"));
}

/* A long text: the cache and the merge loop on many distinct words give the
 * same ids as encoding each line alone (no state leaks between pre-tokens). */
static void test_long_text(void **state)
{
    (void)state;
    tok_buf text = {0};
    char line[128];
    for (int i = 0; i < 3000; i++) {
        int k = snprintf(line, sizeof line, "Line %d: word%dx thequickbrownfox%d, naïve Ünïcödé %c%c.\n", i, i * 7919,
                         i % 97, 'a' + i % 26, 'A' + (i * 3) % 26);
        assert_true(tok_buf_append(&text, line, (size_t)k));
    }
    int32_t *all;
    size_t n_all;
    assert_int_equal(mcl_tokenizer_encode(neox, text.p, text.len, &all, &n_all), MCL_OK);
    size_t at = 0;
    for (const char *s = text.p; *s;) {
        const char *e = strchr(s, '\n');
        /* "\n" is its own pre-token after a line: encode line and newline. */
        int32_t *ids;
        size_t n;
        assert_int_equal(mcl_tokenizer_encode(neox, s, (size_t)(e + 1 - s), &ids, &n), MCL_OK);
        assert_true(at + n <= n_all);
        assert_memory_equal(all + at, ids, n * sizeof *ids);
        at += n;
        free(ids);
        s = e + 1;
    }
    assert_int_equal(at, n_all);
    free(all);
    tok_buf_free(&text);
}

/* Runs the CLI; returns its exit status and its stdout / stderr. */
static int run_cli(const char *args, char *out, size_t out_cap, char *err, size_t err_cap)
{
    const char *cli = env_or_skip("MAMBACL_CLI");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s tokenize %s >/tmp/mcl-tok-out.%d 2>/tmp/mcl-tok-err.%d", cli, args, (int)getpid(),
             (int)getpid());
    int rc = system(cmd);
    char path[64];
    snprintf(path, sizeof path, "/tmp/mcl-tok-out.%d", (int)getpid());
    char *o = read_text(path, NULL);
    unlink(path);
    snprintf(path, sizeof path, "/tmp/mcl-tok-err.%d", (int)getpid());
    char *e = read_text(path, NULL);
    unlink(path);
    snprintf(out, out_cap, "%s", o ? o : "");
    snprintf(err, err_cap, "%s", e ? e : "");
    free(o);
    free(e);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static void test_bad_files(void **state)
{
    (void)state;
    char list[1200], path[1400], args[1600], out[4096], err[4096];
    snprintf(list, sizeof list, "%s/bad/tokenizer/expected.txt", data_dir);
    FILE *f = fopen(list, "r");
    assert_non_null(f);
    char name[256], status[64];
    int count = 0;
    while (fscanf(f, "%255s %63s", name, status) == 2) {
        snprintf(path, sizeof path, "%s/bad/tokenizer/%s", data_dir, name);
        mcl_tokenizer *tok = (mcl_tokenizer *)1;
        mcl_status st = mcl_tokenizer_load(path, &tok);
        if (strcmp(mcl_status_name(st), status) != 0) fail_msg("%s: got %s (%s), want %s", name, mcl_status_name(st), mcl_last_error(), status);
        assert_null(tok);
        if (!strstr(mcl_last_error(), path)) fail_msg("%s: message does not name the file: %s", name, mcl_last_error());
        snprintf(args, sizeof args, "--tokenizer '%s' --text x", path);
        assert_int_equal(run_cli(args, out, sizeof out, err, sizeof err), 1);
        assert_int_equal(count_lines(err), 1);
        assert_non_null(strstr(err, name));
        assert_string_equal(out, "");
        count++;
    }
    fclose(f);
    assert_true(count >= 30);
}

static void test_cli(void **state)
{
    (void)state;
    char args[2400], out[4096], err[4096];
    snprintf(args, sizeof args, "--tokenizer '%s' --text 'Hello world'", neox_path);
    assert_int_equal(run_cli(args, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "{\"ids\":[12092,1533]}\n");
    snprintf(args, sizeof args, "--tokenizer '%s' --decode '12092 1533,0 187'", neox_path);
    assert_int_equal(run_cli(args, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "{\"text\":\"Hello world<|endoftext|>\\n\"}\n");
    char dir[1200];
    snprintf(dir, sizeof dir, "%s", shakes_path);
    *strrchr(dir, '/') = '\0';
    snprintf(args, sizeof args, "-m '%s' --text 'ROMEO:'", dir);
    assert_int_equal(run_cli(args, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "{\"ids\":[858,26]}\n");
    snprintf(args, sizeof args, "--tokenizer '%s' --decode '1 two 3'", neox_path);
    assert_int_equal(run_cli(args, out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "two"));
    /* an id outside the vocabulary is bad usage, as in logits (issue 15): one
     * line naming it, then the --help hint */
    snprintf(args, sizeof args, "--tokenizer '%s' --decode '1 99999'", neox_path);
    assert_int_equal(run_cli(args, out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "99999"));
    assert_int_equal(count_lines(err), 2);
    /* no text option: stdin, as run does; no -m: the default model */
    snprintf(args, sizeof args, "--tokenizer '%s' </dev/null", neox_path);
    assert_int_equal(run_cli(args, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "{\"ids\":[]}\n");
    assert_int_equal(run_cli("--text ROMEO:", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "{\"ids\":[858,26]}\n");
    assert_int_equal(run_cli("--text x --decode 1", out, sizeof out, err, sizeof err), 2);
    assert_int_equal(run_cli("-m /nonexistent-dir --text x", out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "/nonexistent-dir/tokenizer.json"));
    assert_int_equal(run_cli("--help", out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "--decode"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_neox_cases),    cmocka_unit_test(test_shakespeare_prompts),
        cmocka_unit_test(test_variants),      cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_invalid_utf8),  cmocka_unit_test(test_nfc),
        cmocka_unit_test(test_lookups),       cmocka_unit_test(test_long_text),
        cmocka_unit_test(test_bad_files),     cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
