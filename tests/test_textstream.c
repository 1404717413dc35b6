/* Stop strings, hold-back and UTF-8 repair of streamed text
 * (generate/textstream.c, shared by `mambacl run` and `mambacl serve`), and
 * the server's request parsing (serve/request.c) on the bundled tokenizer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mambacl.h"
#include "generate/textstream.h"
#include "serve/request.h"

static void test_find_stop_earliest_and_nul(void **state)
{
    (void)state;
    const char *stops[] = {"cd", "b\0"};
    const char text[] = "xa\0bcdb";
    assert_int_equal(mcl_text_find_stop(text, sizeof text - 1, stops, 1), 4);
    const char *s2[] = {"cd", "a"};
    assert_int_equal(mcl_text_find_stop(text, sizeof text - 1, s2, 2), 1);
    const char *none[] = {"zz"};
    assert_int_equal(mcl_text_find_stop(text, sizeof text - 1, none, 1), -1);
    assert_int_equal(mcl_text_find_stop("ab", 2, none, 0), -1);
}

static void test_holdback_and_safe_end(void **state)
{
    (void)state;
    const char *stops[] = {"\n\n", "END"};
    assert_int_equal(mcl_text_stop_holdback("abc\n", 4, stops, 2), 1);
    assert_int_equal(mcl_text_stop_holdback("abcEN", 5, stops, 2), 2);
    assert_int_equal(mcl_text_stop_holdback("abcE", 4, stops, 2), 1);
    assert_int_equal(mcl_text_stop_holdback("abc", 3, stops, 2), 0);
    /* "é" = C3 A9: half of it is held back, and so is a possible stop */
    assert_int_equal(mcl_text_safe_end("ab\xC3", 3, stops, 2, 0), 2);
    assert_int_equal(mcl_text_safe_end("ab\xC3\xA9", 4, stops, 2, 0), 4);
    assert_int_equal(mcl_text_safe_end("abEN", 4, stops, 2, 0), 2);
    assert_int_equal(mcl_text_safe_end("abEN", 4, stops, 2, 1), 4);
}

static void test_utf8_sanitize_and_valid(void **state)
{
    (void)state;
    char out[64];
    /* valid text is copied unchanged */
    assert_int_equal(mcl_utf8_sanitize("h\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 10, out), 10);
    assert_memory_equal(out, "h\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 10);
    assert_true(mcl_utf8_valid(out, 10));
    /* a lone continuation, an overlong C0 AF, a surrogate ED A0 80, a truncated E2 82 */
    const char bad[] = "a\x80" "b\xC0\xAF" "c\xED\xA0\x80" "d\xE2\x82";
    size_t n = mcl_utf8_sanitize(bad, sizeof bad - 1, out);
    const char want[] = "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                        "d\xEF\xBF\xBD";
    assert_int_equal(n, sizeof want - 1);
    assert_memory_equal(out, want, n);
    assert_true(mcl_utf8_valid(out, n));
    assert_false(mcl_utf8_valid(bad, sizeof bad - 1));
    assert_false(mcl_utf8_valid("\xF5\x80\x80\x80", 4));
    assert_false(mcl_utf8_valid("\xF4\x90\x80\x80", 4)); /* above U+10FFFF */
    assert_true(mcl_utf8_valid("\xF4\x8F\xBF\xBF", 4));
}

static mcl_tokenizer *tok;

static int load_tok(void **state)
{
    (void)state;
    char path[4096];
    const char *root = getenv("MAMBACL_SOURCE_ROOT");
    snprintf(path, sizeof path, "%s/models/shakespeare-mamba/tokenizer.json", root ? root : ".");
    return mcl_tokenizer_load(path, &tok) == MCL_OK ? 0 : -1;
}

static int free_tok(void **state)
{
    (void)state;
    mcl_tokenizer_free(tok);
    return 0;
}

static bool parse(const char *body, srv_params *p, char *err)
{
    srv_limits lim = {8, 100, 16};
    return srv_parse_completion(body, strlen(body), tok, 4096, &lim, p, err);
}

static void test_parse_completion_fields(void **state)
{
    (void)state;
    srv_params p;
    char err[SRV_ERR_LEN];
    assert_true(parse("{\"prompt\":\"ROMEO:\",\"stop\":[\"a\",\"bb\"],\"seed\":-5,\"top_k\":-1,"
                      "\"temperature\":0,\"stream\":true,\"stream_options\":{\"include_usage\":true},\"x\":1}",
                      &p, err));
    assert_true(p.n_prompt > 0);
    assert_int_equal(p.max_tokens, 16);
    assert_int_equal(p.n_stops, 2);
    assert_string_equal(p.stops[1], "bb");
    assert_true(p.seeded && p.stream && p.include_usage);
    assert_int_equal(p.sampler.top_k, 0);
    assert_true(p.sampler.temperature == 0.0f && p.sampler.top_p == 1.0f);
    srv_params_free(&p);
    assert_true(parse("{\"prompt\":[[1,2,3]],\"max_tokens\":100}", &p, err));
    assert_int_equal(p.n_prompt, 3);
    assert_int_equal(p.prompt[2], 3);
    srv_params_free(&p);
}

static void test_parse_completion_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *body, *msg;
    } bad[] = {
        {"{\"prompt\":\"A\",\"max_tokens\":101}", "'max_tokens' must be in [1, 100]"},
        {"{\"prompt\":\"A\",\"max_tokens\":1e400}", "'max_tokens' must be an integer"},
        {"{\"prompt\":\"A\",\"temperature\":\"x\"}", "'temperature' must be a number"},
        {"{\"prompt\":[4096]}", "'prompt' item 0 must be a token id in [0, 4096)"},
        {"{\"prompt\":\"A A A A A A A A A A A A\"}", "more than this server's limit of 8"},
        {"{\"prompt\":\"\"}", "'prompt' is empty"},
        {"{\"prompt\":[\"a\",\"b\"]}", "several prompts"},
        {"{\"prompt\":\"A\",\"n\":2}", "'n' must be 1"},
        {"{\"prompt\":\"A\",\"stop\":[1]}", "'stop' must be a string"},
        {"{\"prompt\":\"A\"} x", "data after its JSON value"},
        {"{\"prompt\":\"\xFF\"}", "not valid UTF-8"},
        {"[1]", "must be a JSON object"},
        {"{\"max_tokens\":3}", "'prompt' is required"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        srv_params p;
        char err[SRV_ERR_LEN] = "";
        assert_false(parse(bad[i].body, &p, err));
        if (!strstr(err, bad[i].msg)) fail_msg("body %s: message '%s' lacks '%s'", bad[i].body, err, bad[i].msg);
        assert_null(p.prompt);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_stop_earliest_and_nul),
        cmocka_unit_test(test_holdback_and_safe_end),
        cmocka_unit_test(test_utf8_sanitize_and_valid),
        cmocka_unit_test_setup_teardown(test_parse_completion_fields, load_tok, free_tok),
        cmocka_unit_test_setup_teardown(test_parse_completion_refusals, load_tok, free_tok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
