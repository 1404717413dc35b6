/* libFuzzer target: request bodies of `mambacl serve` through its parsers
 * (src/serve/request.c), without HTTP or a model. The first byte picks the
 * endpoint (POST /v1/completions, /tokenize, /detokenize), the rest is the
 * body. The tokenizer is the bundled model's (models/shakespeare-mamba,
 * loaded once); its pre-token cache is emptied after each input so that a
 * run frees all it allocated and does not depend on the runs before it.
 * Checks: no crash, no leak; a refusal leaves a one-line message shorter
 * than SRV_ERR_LEN and an empty result; an accepted completion holds what
 * the limits allow (1..max_prompt_tokens prompt ids in [0, vocab), where the
 * model's vocab is 96 ids short of the tokenizer's, so text prompts with the
 * last tokens must be refused,
 * 1..max_tokens new tokens, sampler values in their ranges, 0..16 non-empty
 * stop strings of at most 256 bytes, stream_options only with stream); ids
 * from /tokenize are the tokenizer's, from /detokenize in [0, vocab). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/request.h"
#include "tokenizer/tokenizer.h"

static mcl_tokenizer *tok;
static int vocab;
static const srv_limits lim = {.max_prompt_tokens = 64, .max_tokens = 128, .default_max_tokens = 16};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *path = MCL_FUZZ_SOURCE_ROOT "/models/shakespeare-mamba/tokenizer.json";
    if (mcl_tokenizer_load(path, &tok) != MCL_OK) {
        /* Without the tokenizer no text prompt would be tested: refuse to start. */
        fprintf(stderr, "fuzz_request: %s\n", mcl_last_error());
        abort();
    }
    vocab = mcl_tokenizer_vocab_size(tok) - 96; /* a tokenizer larger than the model, as GPT-NeoX's */
    return 0;
}

static void check_refusal(const char *err)
{
    size_t n = strnlen(err, SRV_ERR_LEN);
    if (n == 0 || n == SRV_ERR_LEN || strchr(err, '\n')) abort();
}

static void check_ids(const int32_t *ids, size_t n, int limit)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= limit) abort();
}

static void check_completion(const srv_params *p)
{
    const mcl_sampler_params *s = &p->sampler;
    if (p->n_prompt < 1 || p->n_prompt > lim.max_prompt_tokens || !p->prompt) abort();
    check_ids(p->prompt, (size_t)p->n_prompt, vocab);
    if (p->max_tokens < 1 || p->max_tokens > lim.max_tokens) abort();
    if (!(s->temperature >= 0 && s->temperature <= 2) || !(s->top_p > 0 && s->top_p <= 1)) abort();
    if (!(s->min_p >= 0 && s->min_p <= 1) || !(s->repeat_penalty >= 0.01f && s->repeat_penalty <= 100)) abort();
    if (s->top_k < 0 || p->n_stops < 0 || p->n_stops > SRV_MAX_STOPS) abort();
    for (int i = 0; i < p->n_stops; i++)
        if (!p->stops[i] || !p->stops[i][0] || strlen(p->stops[i]) > 256) abort();
    if (p->include_usage && !p->stream) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char err[SRV_ERR_LEN] = "";
    int32_t *ids = NULL;
    size_t n = 0;
    srv_params p;
    switch (data[0] % 3) {
    case 0:
        if (srv_parse_completion(body, len, tok, vocab, &lim, &p, err)) {
            check_completion(&p);
            srv_params_free(&p);
        } else {
            check_refusal(err);
            if (p.prompt || p.n_stops) abort();
        }
        break;
    case 1:
        if (srv_parse_tokenize(body, len, tok, &ids, &n, err)) check_ids(ids, n, mcl_tokenizer_vocab_size(tok));
        else check_refusal(err);
        break;
    default:
        if (srv_parse_detokenize(body, len, vocab, &ids, &n, err)) check_ids(ids, n, vocab);
        else check_refusal(err);
        break;
    }
    free(ids);
    tok_cache_clear(tok->cache);
    return 0;
}
