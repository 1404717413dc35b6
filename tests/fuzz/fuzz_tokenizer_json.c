/* libFuzzer target: tokenizer.json text through the parser (tok_load_mem).
 * Meant for small inputs (run with -max_len=4096): every accepted tokenizer
 * then encodes and decodes a fixed text and the input's first 256 bytes
 * (text is fuzz_tokenizer's job: this keeps a run about the parser), and
 * gives the text of its first ids. Checks: no crash, no leak, an accepted tokenizer
 * never fails to encode, a refused one leaves a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer.h"

static void encode_decode(const mcl_tokenizer *tok, const char *s, size_t n)
{
    int32_t *ids = NULL;
    size_t k = 0, len = 0;
    char *out = NULL;
    if (mcl_tokenizer_encode(tok, s, n, &ids, &k) != MCL_OK) abort();
    if (mcl_tokenizer_decode(tok, ids, k, &out, &len) == MCL_OK) free(out);
    for (size_t i = 0; i < k; i++) {
        const char *b;
        size_t bl;
        if (mcl_tokenizer_token_text(tok, ids[i], &b, &bl) != MCL_OK) abort();
    }
    free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    mcl_tokenizer *tok = NULL;
    if (tok_load_mem(s, size, "fuzz.json", &tok) != MCL_OK) {
        if (mcl_last_error()[0] == '\0') abort();
        return 0;
    }
    encode_decode(tok, "Hello world, <|endoftext|> 12 caf\xC3\xA9  x", 33);
    encode_decode(tok, s, size < 256 ? size : 256);
    int32_t v = mcl_tokenizer_vocab_size(tok);
    for (int32_t id = 0; id < v && id < 64; id++) {
        const char *b;
        size_t bl;
        mcl_tokenizer_token_text(tok, id, &b, &bl);
    }
    mcl_tokenizer_free(tok);
    return 0;
}
