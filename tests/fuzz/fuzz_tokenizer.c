/* libFuzzer target: the fuzz input is either a tokenizer.json to load (first
 * byte even) or text to encode with the GPT-NeoX tokenizer (first byte odd;
 * $MAMBACL_SHARED/tokenizers/gpt-neox-20b/tokenizer.json, loaded once).
 * A loaded fuzz tokenizer also encodes and decodes a fixed text and the
 * input itself. Checks: no crash, no leak, and decode(encode(text)) gives
 * back the NFC of valid UTF-8 text for the GPT-NeoX tokenizer. */
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
    if (mcl_tokenizer_load(path, &neox) != MCL_OK) fprintf(stderr, "fuzz_tokenizer: text mode off: %s\n", mcl_last_error());
    return 0;
}

static void encode_decode(const mcl_tokenizer *tok, const char *s, size_t n, bool check)
{
    int32_t *ids;
    size_t k;
    char *out;
    size_t len;
    if (mcl_tokenizer_encode(tok, s, n, &ids, &k) != MCL_OK) return;
    if (mcl_tokenizer_decode(tok, ids, k, &out, &len) == MCL_OK) {
        if (check && tok_utf8_valid(s, n)) {
            tok_buf nfc = {0};
            if (tok_nfc(s, n, &nfc) && (nfc.len != len || memcmp(nfc.p ? nfc.p : "", out, len) != 0)) abort();
            tok_buf_free(&nfc);
        }
        free(out);
    }
    for (size_t i = 0; i < k; i++) {
        const char *b;
        size_t bl;
        if (mcl_tokenizer_token_text(tok, ids[i], &b, &bl) != MCL_OK) abort();
    }
    free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] & 1) {
        if (neox) encode_decode(neox, s, n, true);
        return 0;
    }
    mcl_tokenizer *tok;
    if (tok_load_mem(s, n, "fuzz.json", &tok) != MCL_OK) return 0;
    encode_decode(tok, "Hello world, <|endoftext|> 12 caf\xC3\xA9  x", 33, false);
    encode_decode(tok, s, n < 4096 ? n : 4096, false);
    int32_t v = mcl_tokenizer_vocab_size(tok);
    for (int32_t id = 0; id < v && id < 64; id++) {
        const char *b;
        size_t bl;
        mcl_tokenizer_token_text(tok, id, &b, &bl);
    }
    mcl_tokenizer_free(tok);
    return 0;
}
