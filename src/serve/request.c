/* Parsing and validation of request bodies (request.h). */
#include "serve/request.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "generate/textstream.h"

static bool fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(char *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, SRV_ERR_LEN, fmt, ap);
    va_end(ap);
    return false;
}

static cJSON *parse_object(const char *body, size_t len, char *err)
{
    if (!mcl_utf8_valid(body, len)) return fail(err, "the request body is not valid UTF-8"), NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!root) return fail(err, "the request body is not valid JSON"), NULL;
    while (end && end < body + len && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t')) end++;
    if (end && end < body + len && *end) {
        cJSON_Delete(root);
        return fail(err, "the request body has data after its JSON value"), NULL;
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return fail(err, "the request body must be a JSON object"), NULL;
    }
    if (mcl_json_has_nul(body, len)) { /* cJSON's strings end there: a prompt would be cut silently */
        cJSON_Delete(root);
        return fail(err, "the request body holds a NUL character (\\u0000) in a string: not supported"), NULL;
    }
    return root;
}

/* A field that is absent or JSON null. */
static bool missing(const cJSON *v)
{
    return !v || cJSON_IsNull(v);
}

/* An integer field in [lo, hi]; absent/null keeps *out. */
static bool get_int(const cJSON *o, const char *name, long long lo, long long hi, long long *out, char *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (missing(v)) return true;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || floor(v->valuedouble) != v->valuedouble)
        return fail(err, "'%s' must be an integer", name);
    if (v->valuedouble < (double)lo || v->valuedouble > (double)hi)
        return fail(err, "'%s' must be in [%lld, %lld]", name, lo, hi);
    *out = (long long)v->valuedouble;
    return true;
}

/* A number field in [lo, hi]; absent/null keeps *out. */
static bool get_num(const cJSON *o, const char *name, double lo, double hi, float *out, char *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (missing(v)) return true;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return fail(err, "'%s' must be a number", name);
    if (v->valuedouble < lo || v->valuedouble > hi) return fail(err, "'%s' must be in [%g, %g]", name, lo, hi);
    *out = (float)v->valuedouble;
    return true;
}

static bool get_bool(const cJSON *o, const char *name, bool *out, char *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (missing(v)) return true;
    if (!cJSON_IsBool(v)) return fail(err, "'%s' must be true or false", name);
    *out = cJSON_IsTrue(v);
    return true;
}

/* Token ids of a JSON array, each in [0, vocab). */
static bool get_ids(const cJSON *arr, const char *name, int vocab, int32_t **ids, size_t *n, char *err)
{
    int count = cJSON_GetArraySize(arr);
    int32_t *out = malloc(((size_t)count + 1) * sizeof *out);
    if (!out) return fail(err, "out of memory");
    size_t k = 0;
    for (const cJSON *e = arr->child; e; e = e->next) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble) || floor(e->valuedouble) != e->valuedouble ||
            e->valuedouble < 0 || e->valuedouble >= vocab) {
            free(out);
            return fail(err, "'%s' item %zu must be a token id in [0, %d)", name, k, vocab);
        }
        out[k++] = (int32_t)e->valuedouble;
    }
    *ids = out;
    *n = k;
    return true;
}

static bool encode(const mcl_tokenizer *tok, const cJSON *s, int32_t **ids, size_t *n, char *err)
{
    const char *text = s->valuestring;
    if (mcl_tokenizer_encode(tok, text, strlen(text), ids, n) != MCL_OK)
        return fail(err, "cannot tokenize the prompt: %s", mcl_last_error());
    return true;
}

/* "prompt": a string, an array of ids, or an array holding one of those. */
static bool get_prompt(const cJSON *o, const mcl_tokenizer *tok, int vocab, const srv_limits *lim, srv_params *p,
                       char *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "prompt");
    if (missing(v)) return fail(err, "'prompt' is required");
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 1 && (cJSON_IsString(v->child) || cJSON_IsArray(v->child)))
        v = v->child;
    else if (cJSON_IsArray(v) && v->child && (cJSON_IsString(v->child) || cJSON_IsArray(v->child)))
        return fail(err, "'prompt' holds several prompts; send one per request");
    int32_t *ids = NULL;
    size_t n = 0;
    if (cJSON_IsString(v)) {
        if (!encode(tok, v, &ids, &n, err)) return false;
        for (size_t i = 0; i < n; i++) /* the tokenizer may know more ids than the model embeds */
            if (ids[i] >= vocab) {
                int32_t id = ids[i];
                free(ids);
                return fail(err, "the prompt's token id %d is outside the model's vocabulary [0, %d) "
                                 "(tokenizer.json has more tokens than config.json's vocab_size)", (int)id, vocab);
            }
    } else if (cJSON_IsArray(v)) {
        if (!get_ids(v, "prompt", vocab, &ids, &n, err)) return false;
    } else return fail(err, "'prompt' must be a string or an array of token ids");
    if (n == 0) {
        free(ids);
        return fail(err, "'prompt' is empty: give at least one token");
    }
    if (n > (size_t)lim->max_prompt_tokens) {
        free(ids);
        return fail(err, "the prompt has %zu tokens, more than this server's limit of %d (--max-prompt-tokens)", n,
                    lim->max_prompt_tokens);
    }
    p->prompt = ids;
    p->n_prompt = (int)n;
    return true;
}

static bool add_stop(srv_params *p, const cJSON *s, char *err)
{
    if (!cJSON_IsString(s)) return fail(err, "'stop' must be a string or an array of strings");
    if (!*s->valuestring) return fail(err, "'stop' strings must not be empty");
    if (strlen(s->valuestring) > 256) return fail(err, "'stop' strings must be at most 256 bytes");
    if (p->n_stops == SRV_MAX_STOPS) return fail(err, "'stop' has more than %d strings", SRV_MAX_STOPS);
    if (!(p->stops[p->n_stops] = strdup(s->valuestring))) return fail(err, "out of memory");
    p->n_stops++;
    return true;
}

static bool get_stops(const cJSON *o, srv_params *p, char *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "stop");
    if (missing(v)) return true;
    if (!cJSON_IsArray(v)) return add_stop(p, v, err);
    for (const cJSON *e = v->child; e; e = e->next)
        if (!add_stop(p, e, err)) return false;
    return true;
}

/* Fields mambacl does not implement: accepted only at their neutral value. */
static bool check_unsupported(const cJSON *o, char *err)
{
    long long one = 1, zero = 0;
    float pen = 0;
    bool echo = false;
    if (!get_int(o, "n", 1, 1, &one, err)) return fail(err, "'n' must be 1 (one choice per request)");
    if (!get_int(o, "best_of", 1, 1, &one, err)) return fail(err, "'best_of' must be 1");
    if (!get_int(o, "logprobs", 0, 0, &zero, err)) return fail(err, "'logprobs' is not supported (null or 0)");
    if (!get_bool(o, "echo", &echo, err)) return false;
    if (echo) return fail(err, "'echo' is not supported");
    if (!get_num(o, "presence_penalty", 0, 0, &pen, err) || !get_num(o, "frequency_penalty", 0, 0, &pen, err))
        return fail(err, "presence_penalty and frequency_penalty are not supported (0 or null); "
                         "repetition_penalty is");
    const cJSON *bias = cJSON_GetObjectItemCaseSensitive(o, "logit_bias");
    if (!missing(bias) && !(cJSON_IsObject(bias) && !bias->child)) return fail(err, "'logit_bias' is not supported");
    const cJSON *suffix = cJSON_GetObjectItemCaseSensitive(o, "suffix");
    if (!missing(suffix)) return fail(err, "'suffix' is not supported");
    return true;
}

static bool get_sampling(const cJSON *o, srv_params *p, char *err)
{
    mcl_sampler_params *s = &p->sampler;
    long long top_k = 0, seed = 0;
    memset(s, 0, sizeof *s);
    s->temperature = 1.0f;
    s->top_p = 1.0f;
    s->repeat_penalty = 1.0f;
    s->repeat_last_n = 64;
    if (!get_num(o, "temperature", 0, 2, &s->temperature, err) || !get_num(o, "top_p", 0, 1, &s->top_p, err) ||
        !get_num(o, "min_p", 0, 1, &s->min_p, err) ||
        !get_num(o, "repetition_penalty", 0.01, 100, &s->repeat_penalty, err) ||
        !get_int(o, "top_k", -1, 1 << 30, &top_k, err))
        return false;
    if (s->top_p == 0) return fail(err, "'top_p' must be in (0, 1]");
    s->top_k = top_k < 0 ? 0 : (int)top_k; /* -1: all tokens, as vLLM */
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(o, "seed");
    p->seeded = !missing(sv);
    if (!get_int(o, "seed", -9007199254740991LL, 9007199254740991LL, &seed, err)) return false;
    s->seed = (uint64_t)seed;
    return true;
}

static bool get_stream(const cJSON *o, srv_params *p, char *err)
{
    if (!get_bool(o, "stream", &p->stream, err)) return false;
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(o, "stream_options");
    if (missing(so)) return true;
    if (!cJSON_IsObject(so)) return fail(err, "'stream_options' must be an object");
    if (!p->stream) return fail(err, "'stream_options' is only allowed with \"stream\": true");
    return get_bool(so, "include_usage", &p->include_usage, err);
}

static bool parse_fields(const cJSON *o, const mcl_tokenizer *tok, int vocab, const srv_limits *lim,
                         srv_params *p, char *err)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(o, "model");
    if (!missing(model) && !cJSON_IsString(model)) return fail(err, "'model' must be a string");
    long long max_tokens = lim->default_max_tokens;
    if (!get_int(o, "max_tokens", 1, lim->max_tokens, &max_tokens, err)) return false;
    p->max_tokens = (int)max_tokens;
    return check_unsupported(o, err) && get_sampling(o, p, err) && get_stream(o, p, err) &&
           get_stops(o, p, err) && get_prompt(o, tok, vocab, lim, p, err);
}

bool srv_parse_completion(const char *body, size_t len, const mcl_tokenizer *tok, int vocab,
                          const srv_limits *lim, srv_params *out, char *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root = parse_object(body, len, err);
    if (!root) return false;
    bool ok = parse_fields(root, tok, vocab, lim, out, err);
    cJSON_Delete(root);
    if (!ok) srv_params_free(out);
    return ok;
}

void srv_params_free(srv_params *p)
{
    free(p->prompt);
    for (int i = 0; i < p->n_stops; i++) free(p->stops[i]);
    memset(p, 0, sizeof *p);
}

bool srv_parse_tokenize(const char *body, size_t len, const mcl_tokenizer *tok, int32_t **ids, size_t *n,
                        char *err)
{
    cJSON *root = parse_object(body, len, err);
    if (!root) return false;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "content");
    if (missing(v)) v = cJSON_GetObjectItemCaseSensitive(root, "prompt");
    bool ok = cJSON_IsString(v) ? encode(tok, v, ids, n, err) : fail(err, "'content' must be a string");
    cJSON_Delete(root);
    return ok;
}

bool srv_parse_detokenize(const char *body, size_t len, int vocab, int32_t **ids, size_t *n, char *err)
{
    cJSON *root = parse_object(body, len, err);
    if (!root) return false;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "tokens");
    bool ok = cJSON_IsArray(v) ? get_ids(v, "tokens", vocab, ids, n, err)
                               : fail(err, "'tokens' must be an array of token ids");
    cJSON_Delete(root);
    return ok;
}
