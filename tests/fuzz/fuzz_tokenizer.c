/* libFuzzer target: text through the GPT-NeoX tokenizer
 * ($MAMBACL_SHARED/tokenizers/gpt-neox-20b/tokenizer.json, loaded once in
 * LLVMFuzzerInitialize, so an execution costs two encodes and one decode).
 * The pre-token cache is emptied after each input: a run does not depend on
 * the runs before it, and it frees all it allocated (with the cache kept,
 * every input with a new word left entries behind, and libFuzzer's leak
 * check re-ran it and scanned the heap: a fifth of the time).
 * Checks: no crash, no leak, every id has its token text, a second encode
 * (from the cache) gives the same ids, and
 * decode(encode(text)) gives back the NFC of valid UTF-8 text, unless an
 * added token with "normalized": false was matched (it is split out of the
 * raw text before normalization, as in the `tokenizers` library, so a
 * combining mark after "assistant" does not compose with its "t"). The
 * tokenizer.json parser is fuzzed separately by fuzz_tokenizer_json. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer.h"

static mcl_tokenizer *neox;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *shared = getenv("MAMBACL_SHARED");
    char path[1024];
    snprintf(path, sizeof path, "%s/tokenizers/gpt-neox-20b/tokenizer.json", shared ? shared : "../shared");
    if (mcl_tokenizer_load(path, &neox) != MCL_OK) {
        /* Without the tokenizer every run would test nothing: refuse to start. */
        fprintf(stderr, "fuzz_tokenizer: %s\n", mcl_last_error());
        abort();
    }
    return 0;
}

/* True when one of the ids is an added token matched on raw text. */
static bool has_raw_added(const int32_t *ids, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        int a = ids[i] >= 0 && ids[i] < neox->n_ids ? neox->added_of[ids[i]] : -1;
        if (a >= 0 && !neox->added[a].normalized) return true;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    int32_t *ids = NULL;
    size_t k = 0, len = 0;
    char *out = NULL;
    if (mcl_tokenizer_encode(neox, s, size, &ids, &k) != MCL_OK) abort(); /* only OOM may fail */
    int32_t *again = NULL;
    size_t k2 = 0;
    if (mcl_tokenizer_encode(neox, s, size, &again, &k2) != MCL_OK) abort();
    if (k2 != k || (k && memcmp(ids, again, k * sizeof *ids) != 0)) abort(); /* the cache changed the ids */
    free(again);
    tok_cache_clear(neox->cache);
    if (mcl_tokenizer_decode(neox, ids, k, &out, &len) != MCL_OK) abort();
    if (tok_utf8_valid(s, size) && !has_raw_added(ids, k)) {
        tok_buf nfc = {0};
        if (tok_nfc(s, size, &nfc) && (nfc.len != len || memcmp(nfc.p ? nfc.p : "", out, len) != 0)) abort();
        tok_buf_free(&nfc);
    }
    for (size_t i = 0; i < k; i++) {
        const char *b;
        size_t bl;
        if (mcl_tokenizer_token_text(neox, ids[i], &b, &bl) != MCL_OK) abort();
    }
    free(out);
    free(ids);
    return 0;
}
