/* Request bodies of the server: JSON parsed and checked into plain structs.
 * Every check names the field and the rule in `err` (the HTTP layer sends it
 * as a 400 body). Unknown fields are ignored, as the OpenAI API does;
 * fields whose meaning mambacl does not implement are refused when set to
 * anything but their neutral value, so that nothing is silently ignored. */
#ifndef MCL_SERVE_REQUEST_H
#define MCL_SERVE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mambacl.h"

#define SRV_MAX_STOPS 16
#define SRV_ERR_LEN 256

/* Limits set on the command line. */
typedef struct srv_limits {
    int max_prompt_tokens;   /* a longer prompt is refused */
    int max_tokens;          /* largest max_tokens accepted */
    int default_max_tokens;  /* when the request has none (OpenAI: 16) */
} srv_limits;

/* A parsed POST /v1/completions. Owns prompt and stops (srv_params_free). */
typedef struct srv_params {
    int32_t *prompt;              /* [n_prompt] token ids, malloc'ed */
    int n_prompt;
    int max_tokens;
    mcl_sampler_params sampler;   /* OpenAI defaults: temperature 1, top_p 1, the rest off */
    char *stops[SRV_MAX_STOPS];   /* malloc'ed, non-empty */
    int n_stops;
    bool stream;
    bool include_usage;           /* stream_options.include_usage */
    bool seeded;                  /* the request gave a seed */
} srv_params;

void srv_params_free(srv_params *p);

/* Parses body[0..len) (need not be NUL-terminated) as a completion request:
 * encodes a text prompt with tok, checks ids against `vocab` and every field
 * against `lim`. Returns true with *out filled (free it with
 * srv_params_free), or false with a message in err[SRV_ERR_LEN] (*out is
 * then empty). */
bool srv_parse_completion(const char *body, size_t len, const mcl_tokenizer *tok, int vocab,
                          const srv_limits *lim, srv_params *out, char *err);

/* POST /tokenize: {"content": TEXT} (or "prompt"). On success *ids and *n hold
 * the ids (malloc'ed; free()). */
bool srv_parse_tokenize(const char *body, size_t len, const mcl_tokenizer *tok, int32_t **ids, size_t *n,
                        char *err);

/* POST /detokenize: {"tokens": [ids]}. On success *ids and *n hold the ids
 * (malloc'ed; free()), each checked against vocab. */
bool srv_parse_detokenize(const char *body, size_t len, int vocab, int32_t **ids, size_t *n, char *err);

#endif
