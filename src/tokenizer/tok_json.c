/* tokenizer.json parsing (cJSON) and validation. Every problem is reported
 * as "<file>: <field>: <problem>" with MCL_ERR_FORMAT for malformed content
 * and MCL_ERR_UNSUPPORTED for valid content this tokenizer cannot run. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

#define GPT2_PATTERN "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
/* Rust regex's Unicode \w and \s, which the library's Whitespace
 * pre-tokenizer and single_word checks use. */
#define RUST_W "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}"
#define RUST_S "\\p{White_Space}"
#define WHITESPACE_PATTERN "[" RUST_W "]+|[^" RUST_W RUST_S "]+"
#define WHITESPACE_SPLIT_PATTERN "[" RUST_S "]+"
#define WORD_CHAR_PATTERN "[" RUST_W "]"
#define MAX_NESTING 8

static mcl_status fail(const mcl_tokenizer *tok, mcl_status st, const char *fmt, ...) MCL_PRINTF(3, 4);
static mcl_status fail(const mcl_tokenizer *tok, mcl_status st, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (st == MCL_ERR_NOMEM) return mcl_error_set(st, "%s: out of memory while %s", tok->path, msg);
    return mcl_error_set(st, "%s: %s", tok->path, msg);
}

/* A short printable excerpt of s[0..n) for messages. */
static const char *excerpt_n(const char *s, size_t n, char *buf, size_t cap)
{
    size_t i = 0;
    for (; i < n && i + 4 < cap; i++) buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == '"') ? '?' : s[i];
    if (i < n) { memcpy(buf + i, "...", 3); i += 3; }
    buf[i] = '\0';
    return buf;
}

static const char *excerpt(const char *s, char *buf, size_t cap) { return excerpt_n(s, strlen(s), buf, cap); }

static bool json_int(const cJSON *v, double lo, double hi, int64_t *out)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || floor(v->valuedouble) != v->valuedouble ||
        v->valuedouble < lo || v->valuedouble > hi)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

/* Optional boolean field: missing or null gives def. */
static mcl_status opt_bool(const mcl_tokenizer *tok, const cJSON *obj, const char *where, const char *key,
                           bool def, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) { *out = def; return MCL_OK; }
    if (!cJSON_IsBool(v)) return fail(tok, MCL_ERR_FORMAT, "%s.%s is not a boolean", where, key);
    *out = cJSON_IsTrue(v);
    return MCL_OK;
}

/* Optional string field: missing or null gives NULL; else a copy. */
static mcl_status opt_string(const mcl_tokenizer *tok, const cJSON *obj, const char *where, const char *key,
                             char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v)) return MCL_OK;
    if (!cJSON_IsString(v)) return fail(tok, MCL_ERR_FORMAT, "%s.%s is not a string", where, key);
    *out = strdup(v->valuestring);
    return *out ? MCL_OK : fail(tok, MCL_ERR_NOMEM, "copying %s.%s", where, key);
}

/* The "type" of a component object. */
static mcl_status type_of(const mcl_tokenizer *tok, const cJSON *obj, const char *where, const char **type)
{
    if (!cJSON_IsObject(obj)) return fail(tok, MCL_ERR_FORMAT, "%s is not an object", where);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "type");
    if (!cJSON_IsString(t)) return fail(tok, MCL_ERR_FORMAT, "%s.type is missing or not a string", where);
    *type = t->valuestring;
    return MCL_OK;
}

mcl_status tok_compile_regex(const mcl_tokenizer *tok, const char *pattern, size_t len, const char *what,
                             pcre2_code **out)
{
    int err;
    PCRE2_SIZE at;
    *out = pcre2_compile((PCRE2_SPTR)pattern, len, PCRE2_UTF | PCRE2_UCP, &err, &at, NULL);
    if (!*out) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return fail(tok, MCL_ERR_UNSUPPORTED, "%s: regex does not compile at offset %zu: %s", what, (size_t)at,
                    (const char *)msg);
    }
    pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE);   /* optional: falls back to the interpreter */
    return MCL_OK;
}

/* ---- model ------------------------------------------------------------ */

static mcl_status parse_vocab_ids(mcl_tokenizer *tok, const cJSON *vocab, int64_t *max_id)
{
    if (!cJSON_IsObject(vocab)) return fail(tok, MCL_ERR_FORMAT, "model.vocab is missing or not an object");
    char ex[64];
    for (const cJSON *it = vocab->child; it; it = it->next) {
        int64_t id;
        if (!json_int(it, 0, TOK_MAX_IDS - 1, &id))
            return fail(tok, MCL_ERR_FORMAT, "model.vocab[\"%s\"]: id is not an integer in [0, %d]",
                        excerpt(it->string, ex, sizeof ex), TOK_MAX_IDS - 1);
        if (id > *max_id) *max_id = id;
    }
    return MCL_OK;
}

static mcl_status fill_vocab(mcl_tokenizer *tok, const cJSON *vocab)
{
    char ex[64], ex2[64];
    if (!tok_map_init(&tok->vocab, (size_t)cJSON_GetArraySize(vocab)))
        return fail(tok, MCL_ERR_NOMEM, "reading model.vocab");
    for (const cJSON *it = vocab->child; it; it = it->next) {
        int32_t id = (int32_t)it->valuedouble, old;
        if (tok->model_tok[id])
            return fail(tok, MCL_ERR_FORMAT, "model.vocab: id %d is given to both \"%s\" and \"%s\"", (int)id,
                        excerpt(tok->model_tok[id], ex2, sizeof ex2), excerpt(it->string, ex, sizeof ex));
        size_t len = strlen(it->string);
        tok->model_tok[id] = strdup(it->string);
        if (!tok->model_tok[id]) return fail(tok, MCL_ERR_NOMEM, "reading model.vocab");
        tok->model_len[id] = (uint32_t)len;
        if (!tok_map_put(&tok->vocab, tok->model_tok[id], len, id, &old))
            return fail(tok, MCL_ERR_NOMEM, "reading model.vocab");
        if (old >= 0)
            return fail(tok, MCL_ERR_FORMAT, "model.vocab: token \"%s\" appears twice", excerpt(it->string, ex, sizeof ex));
    }
    return MCL_OK;
}

/* One merge: "a b" or ["a", "b"]. */
static mcl_status merge_parts(mcl_tokenizer *tok, const cJSON *m, int i, const char **a, size_t *la, const char **b,
                              size_t *lb)
{
    if (cJSON_IsString(m)) {
        const char *s = m->valuestring, *sp = strchr(s, ' ');
        if (!sp || strchr(sp + 1, ' '))
            return fail(tok, MCL_ERR_FORMAT, "model.merges[%d] is not two tokens separated by one space", i);
        *a = s; *la = (size_t)(sp - s); *b = sp + 1; *lb = strlen(sp + 1);
        return MCL_OK;
    }
    if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 2 && cJSON_IsString(m->child) && cJSON_IsString(m->child->next)) {
        *a = m->child->valuestring; *la = strlen(*a);
        *b = m->child->next->valuestring; *lb = strlen(*b);
        return MCL_OK;
    }
    return fail(tok, MCL_ERR_FORMAT, "model.merges[%d] is neither \"a b\" nor [\"a\", \"b\"]", i);
}

static mcl_status parse_merges(mcl_tokenizer *tok, const cJSON *merges)
{
    if (!cJSON_IsArray(merges)) return fail(tok, MCL_ERR_FORMAT, "model.merges is missing or not an array");
    int n = cJSON_GetArraySize(merges), i = 0;
    if (!tok_merge_init(&tok->merges, (size_t)n)) return fail(tok, MCL_ERR_NOMEM, "reading model.merges");
    size_t plen = tok->prefix ? strlen(tok->prefix) : 0;
    tok_buf joined = {0};
    char ex[64];
    mcl_status st = MCL_OK;
    for (const cJSON *m = merges->child; m && st == MCL_OK; m = m->next, i++) {
        const char *a = NULL, *b = NULL;
        size_t la = 0, lb = 0;
        if ((st = merge_parts(tok, m, i, &a, &la, &b, &lb)) != MCL_OK) break;
        int32_t ia = tok_map_get(&tok->vocab, a, la), ib = tok_map_get(&tok->vocab, b, lb);
        if (ia < 0 || ib < 0) {
            st = fail(tok, MCL_ERR_FORMAT, "model.merges[%d] names token \"%s\" that is not in model.vocab", i,
                      ia < 0 ? excerpt_n(a, la, ex, sizeof ex) : excerpt_n(b, lb, ex, sizeof ex));
            break;
        }
        size_t skip = lb >= plen ? plen : lb;
        joined.len = 0;
        if (!tok_buf_append(&joined, a, la) || !tok_buf_append(&joined, b + skip, lb - skip)) {
            st = fail(tok, MCL_ERR_NOMEM, "reading model.merges");
            break;
        }
        int32_t id = tok_map_get(&tok->vocab, joined.p, joined.len);
        if (id < 0)
            st = fail(tok, MCL_ERR_FORMAT, "model.merges[%d]: the merged token \"%s\" is not in model.vocab", i,
                      excerpt(joined.p, ex, sizeof ex));
        else if (!tok_merge_put(&tok->merges, ia, ib, (uint32_t)i, id))
            st = fail(tok, MCL_ERR_NOMEM, "reading model.merges");
    }
    tok_buf_free(&joined);
    return st;
}

static mcl_status parse_model_options(mcl_tokenizer *tok, const cJSON *model)
{
    const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    if (dropout && !cJSON_IsNull(dropout)) {
        if (!cJSON_IsNumber(dropout) || !(dropout->valuedouble >= 0.0 && dropout->valuedouble <= 1.0))
            return fail(tok, MCL_ERR_FORMAT, "model.dropout is not null or a number in [0, 1]");
        if (dropout->valuedouble > 0.0)
            return fail(tok, MCL_ERR_UNSUPPORTED, "model.dropout %g: BPE dropout is not supported", dropout->valuedouble);
    }
    MCL_TRY(opt_bool(tok, model, "model", "fuse_unk", false, &tok->fuse_unk));
    MCL_TRY(opt_bool(tok, model, "model", "byte_fallback", false, &tok->byte_fallback));
    MCL_TRY(opt_bool(tok, model, "model", "ignore_merges", false, &tok->ignore_merges));
    MCL_TRY(opt_string(tok, model, "model", "continuing_subword_prefix", &tok->prefix));
    MCL_TRY(opt_string(tok, model, "model", "end_of_word_suffix", &tok->suffix));
    return MCL_OK;
}

static mcl_status parse_unk(mcl_tokenizer *tok, const cJSON *model)
{
    char *unk = NULL;
    char ex[64];
    MCL_TRY(opt_string(tok, model, "model", "unk_token", &unk));
    tok->unk_id = -1;
    if (!unk) return MCL_OK;
    tok->unk_id = tok_map_get(&tok->vocab, unk, strlen(unk));
    mcl_status st = MCL_OK;
    if (tok->unk_id < 0)
        st = fail(tok, MCL_ERR_FORMAT, "model.unk_token \"%s\" is not in model.vocab", excerpt(unk, ex, sizeof ex));
    free(unk);
    return st;
}

/* ---- added tokens ----------------------------------------------------- */

static mcl_status parse_added_ids(mcl_tokenizer *tok, const cJSON *added, int64_t *max_id)
{
    if (!added || cJSON_IsNull(added)) return MCL_OK;
    if (!cJSON_IsArray(added)) return fail(tok, MCL_ERR_FORMAT, "added_tokens is not an array");
    int i = 0;
    for (const cJSON *a = added->child; a; a = a->next, i++) {
        int64_t id;
        if (!cJSON_IsObject(a)) return fail(tok, MCL_ERR_FORMAT, "added_tokens[%d] is not an object", i);
        if (!json_int(cJSON_GetObjectItemCaseSensitive(a, "id"), 0, TOK_MAX_IDS - 1, &id))
            return fail(tok, MCL_ERR_FORMAT, "added_tokens[%d].id is missing or not an integer in [0, %d]", i,
                        TOK_MAX_IDS - 1);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(a, "content");
        if (!cJSON_IsString(c) || c->valuestring[0] == '\0')
            return fail(tok, MCL_ERR_FORMAT, "added_tokens[%d].content is missing, empty or not a string", i);
        if (id > *max_id) *max_id = id;
    }
    tok->n_added = i;
    return MCL_OK;
}

static mcl_status fill_added(mcl_tokenizer *tok, const cJSON *added)
{
    if (tok->n_added == 0) return MCL_OK;
    tok->added = calloc((size_t)tok->n_added, sizeof *tok->added);
    if (!tok->added) return fail(tok, MCL_ERR_NOMEM, "reading added_tokens");
    int i = 0;
    char where[48];
    for (const cJSON *a = added->child; a; a = a->next, i++) {
        tok_added *t = &tok->added[i];
        snprintf(where, sizeof where, "added_tokens[%d]", i);
        t->id = (int32_t)cJSON_GetObjectItemCaseSensitive(a, "id")->valuedouble;
        if (tok->added_of[t->id] >= 0)
            return fail(tok, MCL_ERR_FORMAT, "%s.id %d is also the id of added_tokens[%d]", where, (int)t->id,
                        (int)tok->added_of[t->id]);
        tok->added_of[t->id] = i;
        MCL_TRY(opt_bool(tok, a, where, "special", false, &t->special));
        MCL_TRY(opt_bool(tok, a, where, "single_word", false, &t->single_word));
        MCL_TRY(opt_bool(tok, a, where, "lstrip", false, &t->lstrip));
        MCL_TRY(opt_bool(tok, a, where, "rstrip", false, &t->rstrip));
        MCL_TRY(opt_bool(tok, a, where, "normalized", !t->special, &t->normalized));
        t->content = strdup(cJSON_GetObjectItemCaseSensitive(a, "content")->valuestring);
        if (!t->content) return fail(tok, MCL_ERR_NOMEM, "reading added_tokens");
        t->len = strlen(t->content);
    }
    return MCL_OK;
}

static const mcl_tokenizer *sort_ctx;   /* qsort has no context argument; guarded by sort_lock */
static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;

static int added_cmp(const void *pa, const void *pb)
{
    const tok_added *a = &sort_ctx->added[*(const int *)pa], *b = &sort_ctx->added[*(const int *)pb];
    if (a->normalized != b->normalized) return a->normalized ? 1 : -1;
    unsigned ca = (unsigned char)a->match[0], cb = (unsigned char)b->match[0];
    if (ca != cb) return ca < cb ? -1 : 1;
    if (a->match_len != b->match_len) return a->match_len > b->match_len ? -1 : 1;
    return *(const int *)pa - *(const int *)pb;
}

/* The strings searched in the text (normalized tokens through NFC) and the
 * first-byte index over them. */
static mcl_status index_added(mcl_tokenizer *tok)
{
    for (int i = 0; i < tok->n_added; i++) {
        tok_added *t = &tok->added[i];
        tok_buf b = {0};
        if (t->normalized && tok->nfc) {
            if (!tok_nfc(t->content, t->len, &b)) return fail(tok, MCL_ERR_NOMEM, "normalizing added_tokens");
        } else if (!tok_buf_append(&b, t->content, t->len)) {
            return fail(tok, MCL_ERR_NOMEM, "reading added_tokens");
        }
        t->match = b.p;
        t->match_len = b.len;
    }
    tok->added_order = malloc((size_t)(tok->n_added ? tok->n_added : 1) * sizeof(int));
    if (!tok->added_order) return fail(tok, MCL_ERR_NOMEM, "indexing added_tokens");
    for (int i = 0; i < tok->n_added; i++) tok->added_order[i] = i;
    pthread_mutex_lock(&sort_lock);
    sort_ctx = tok;
    qsort(tok->added_order, (size_t)tok->n_added, sizeof(int), added_cmp);
    pthread_mutex_unlock(&sort_lock);
    int k = 0;
    for (int norm = 0; norm < 2; norm++)
        for (int c = 0; c <= 256; c++) {
            while (k < tok->n_added && c < 256) {
                const tok_added *t = &tok->added[tok->added_order[k]];
                if ((int)t->normalized != norm || (unsigned char)t->match[0] >= c) break;
                k++;
            }
            tok->added_start[norm][c] = k;
        }
    return MCL_OK;
}

/* ---- normalizer, pre-tokenizer, decoder, post-processor ---------------- */

static mcl_status parse_normalizer(mcl_tokenizer *tok, const cJSON *n, const char *where, int depth)
{
    const char *type;
    if (!n || cJSON_IsNull(n)) return MCL_OK;
    if (depth > MAX_NESTING) return fail(tok, MCL_ERR_UNSUPPORTED, "%s: Sequence nested too deeply", where);
    MCL_TRY(type_of(tok, n, where, &type));
    if (strcmp(type, "NFC") == 0) { tok->nfc = true; return MCL_OK; }
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(n, "normalizers");
        if (!cJSON_IsArray(list)) return fail(tok, MCL_ERR_FORMAT, "%s.normalizers is not an array", where);
        for (const cJSON *it = list->child; it; it = it->next)
            MCL_TRY(parse_normalizer(tok, it, "normalizer.normalizers[]", depth + 1));
        return MCL_OK;
    }
    return fail(tok, MCL_ERR_UNSUPPORTED, "%s.type \"%s\" is not supported (supported: NFC, Sequence, null)", where, type);
}

static mcl_status add_pretok(mcl_tokenizer *tok, tok_pretok p)
{
    tok_pretok *v = realloc(tok->pre, (size_t)(tok->n_pre + 1) * sizeof *v);
    if (!v) {
        pcre2_code_free(p.re);
        return fail(tok, MCL_ERR_NOMEM, "reading pre_tokenizer");
    }
    tok->pre = v;
    tok->pre[tok->n_pre++] = p;
    return MCL_OK;
}

static mcl_status parse_behavior(const mcl_tokenizer *tok, const cJSON *o, const char *where, tok_split_behavior *out)
{
    static const char *names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"};
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "behavior");
    if (!cJSON_IsString(b)) return fail(tok, MCL_ERR_FORMAT, "%s.behavior is missing or not a string", where);
    for (int i = 0; i < 5; i++)
        if (strcmp(b->valuestring, names[i]) == 0) { *out = (tok_split_behavior)i; return MCL_OK; }
    return fail(tok, MCL_ERR_UNSUPPORTED, "%s.behavior \"%s\" is not supported", where, b->valuestring);
}

/* Split: pattern {"String": s} (literal) or {"Regex": r}. */
static mcl_status parse_split(mcl_tokenizer *tok, const cJSON *o, const char *where)
{
    tok_pretok p = {.type = TOK_PRE_SPLIT};
    MCL_TRY(parse_behavior(tok, o, where, &p.behavior));
    MCL_TRY(opt_bool(tok, o, where, "invert", false, &p.invert));
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(o, "pattern");
    const cJSON *str = cJSON_GetObjectItemCaseSensitive(pat, "String");
    const cJSON *re = cJSON_GetObjectItemCaseSensitive(pat, "Regex");
    if (cJSON_IsString(re)) {
        MCL_TRY(tok_compile_regex(tok, re->valuestring, strlen(re->valuestring), "pre_tokenizer Split.pattern.Regex", &p.re));
    } else if (cJSON_IsString(str)) {
        if (str->valuestring[0] == '\0') return fail(tok, MCL_ERR_FORMAT, "%s.pattern.String is empty", where);
        tok_buf q = {0};   /* \Q...\E quotes everything but "\E" itself */
        bool ok = tok_buf_append(&q, "\\Q", 2);
        for (const char *s = str->valuestring; ok && *s; s++)
            ok = (s[0] == '\\' && s[1] == 'E') ? (s++, tok_buf_append(&q, "\\E\\\\E\\Q", 7)) : tok_buf_append(&q, s, 1);
        ok = ok && tok_buf_append(&q, "\\E", 2);
        mcl_status st = ok ? tok_compile_regex(tok, q.p, q.len, "pre_tokenizer Split.pattern.String", &p.re)
                           : fail(tok, MCL_ERR_NOMEM, "reading %s", where);
        tok_buf_free(&q);
        MCL_TRY(st);
    } else {
        return fail(tok, MCL_ERR_FORMAT, "%s.pattern is not {\"String\": ...} or {\"Regex\": ...}", where);
    }
    return add_pretok(tok, p);
}

static mcl_status builtin_regex(mcl_tokenizer *tok, tok_pre_type type, const char *pattern, tok_split_behavior b,
                                bool invert)
{
    tok_pretok p = {.type = type, .behavior = b, .invert = invert};
    MCL_TRY(tok_compile_regex(tok, pattern, strlen(pattern), "built-in pre-tokenizer", &p.re));
    return add_pretok(tok, p);
}

static mcl_status parse_pretok(mcl_tokenizer *tok, const cJSON *o, const char *where, int depth)
{
    const char *type;
    if (!o || cJSON_IsNull(o)) return MCL_OK;
    if (depth > MAX_NESTING) return fail(tok, MCL_ERR_UNSUPPORTED, "%s: Sequence nested too deeply", where);
    MCL_TRY(type_of(tok, o, where, &type));
    if (strcmp(type, "ByteLevel") == 0) {
        tok_pretok p = {.type = TOK_PRE_BYTE_LEVEL, .behavior = TOK_SPLIT_ISOLATED};
        bool use_regex;
        MCL_TRY(opt_bool(tok, o, where, "add_prefix_space", true, &p.add_prefix_space));
        MCL_TRY(opt_bool(tok, o, where, "use_regex", true, &use_regex));
        if (use_regex) MCL_TRY(tok_compile_regex(tok, GPT2_PATTERN, strlen(GPT2_PATTERN), "ByteLevel regex", &p.re));
        return add_pretok(tok, p);
    }
    if (strcmp(type, "Whitespace") == 0)
        return builtin_regex(tok, TOK_PRE_WHITESPACE, WHITESPACE_PATTERN, TOK_SPLIT_REMOVED, true);
    if (strcmp(type, "WhitespaceSplit") == 0)
        return builtin_regex(tok, TOK_PRE_WHITESPACE_SPLIT, WHITESPACE_SPLIT_PATTERN, TOK_SPLIT_REMOVED, false);
    if (strcmp(type, "Split") == 0) return parse_split(tok, o, where);
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "pretokenizers");
        if (!cJSON_IsArray(list)) return fail(tok, MCL_ERR_FORMAT, "%s.pretokenizers is not an array", where);
        for (const cJSON *it = list->child; it; it = it->next)
            MCL_TRY(parse_pretok(tok, it, "pre_tokenizer.pretokenizers[]", depth + 1));
        return MCL_OK;
    }
    return fail(tok, MCL_ERR_UNSUPPORTED,
                "%s.type \"%s\" is not supported (supported: ByteLevel, Whitespace, WhitespaceSplit, Split, Sequence, null)",
                where, type);
}

static mcl_status parse_decoder(mcl_tokenizer *tok, const cJSON *o, const char *where, int depth)
{
    const char *type;
    if (!o || cJSON_IsNull(o)) return MCL_OK;
    if (depth > MAX_NESTING) return fail(tok, MCL_ERR_UNSUPPORTED, "%s: Sequence nested too deeply", where);
    MCL_TRY(type_of(tok, o, where, &type));
    tok->has_decoder = true;
    tok_decoder d = {0};
    if (strcmp(type, "ByteLevel") == 0) {
        d.type = TOK_DEC_BYTE_LEVEL;
    } else if (strcmp(type, "BPEDecoder") == 0) {
        d.type = TOK_DEC_BPE;
        MCL_TRY(opt_string(tok, o, where, "suffix", &d.suffix));
        if (!d.suffix && !(d.suffix = strdup("</w>"))) return fail(tok, MCL_ERR_NOMEM, "reading %s", where);
    } else if (strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "decoders");
        if (!cJSON_IsArray(list)) return fail(tok, MCL_ERR_FORMAT, "%s.decoders is not an array", where);
        for (const cJSON *it = list->child; it; it = it->next)
            MCL_TRY(parse_decoder(tok, it, "decoder.decoders[]", depth + 1));
        return MCL_OK;
    } else {
        return fail(tok, MCL_ERR_UNSUPPORTED,
                    "%s.type \"%s\" is not supported (supported: ByteLevel, BPEDecoder, Sequence, null)", where, type);
    }
    tok_decoder *v = realloc(tok->dec, (size_t)(tok->n_dec + 1) * sizeof *v);
    if (!v) {
        free(d.suffix);
        return fail(tok, MCL_ERR_NOMEM, "reading %s", where);
    }
    tok->dec = v;
    tok->dec[tok->n_dec++] = d;
    return MCL_OK;
}

/* Post-processors only add tokens around encodings; none that adds any is
 * supported, so that encode never silently differs from the library. */
static mcl_status check_post_processor(const mcl_tokenizer *tok, const cJSON *o)
{
    const char *type;
    if (!o || cJSON_IsNull(o)) return MCL_OK;
    MCL_TRY(type_of(tok, o, "post_processor", &type));
    if (strcmp(type, "ByteLevel") == 0) return MCL_OK;
    return fail(tok, MCL_ERR_UNSUPPORTED, "post_processor.type \"%s\" is not supported (supported: ByteLevel, null)",
                type);
}

/* ---- top level -------------------------------------------------------- */

static mcl_status alloc_tables(mcl_tokenizer *tok, int64_t max_id)
{
    tok->n_ids = (int32_t)(max_id + 1);
    size_t n = (size_t)(tok->n_ids ? tok->n_ids : 1);
    tok->model_tok = calloc(n, sizeof *tok->model_tok);
    tok->model_len = calloc(n, sizeof *tok->model_len);
    tok->added_of = malloc(n * sizeof *tok->added_of);
    if (!tok->model_tok || !tok->model_len || !tok->added_of) return fail(tok, MCL_ERR_NOMEM, "allocating the vocab");
    for (size_t i = 0; i < n; i++) tok->added_of[i] = -1;
    return MCL_OK;
}

static mcl_status parse_model(mcl_tokenizer *tok, const cJSON *root)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (!cJSON_IsObject(model)) return fail(tok, MCL_ERR_FORMAT, "\"model\" is missing or not an object");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    if (type && !cJSON_IsString(type)) return fail(tok, MCL_ERR_FORMAT, "model.type is not a string");
    if (type && strcmp(type->valuestring, "BPE") != 0)
        return fail(tok, MCL_ERR_UNSUPPORTED, "model.type \"%s\" is not supported (only BPE)", type->valuestring);
    MCL_TRY(parse_model_options(tok, model));
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    int64_t max_id = -1;
    MCL_TRY(parse_vocab_ids(tok, vocab, &max_id));
    MCL_TRY(parse_added_ids(tok, added, &max_id));
    MCL_TRY(alloc_tables(tok, max_id));
    MCL_TRY(fill_vocab(tok, vocab));
    MCL_TRY(fill_added(tok, added));
    MCL_TRY(parse_merges(tok, cJSON_GetObjectItemCaseSensitive(model, "merges")));
    return parse_unk(tok, model);
}

static mcl_status parse_root(mcl_tokenizer *tok, const cJSON *root)
{
    if (!cJSON_IsObject(root)) return fail(tok, MCL_ERR_FORMAT, "the top level is not a JSON object");
    MCL_TRY(parse_model(tok, root));
    MCL_TRY(parse_normalizer(tok, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), "normalizer", 0));
    MCL_TRY(parse_pretok(tok, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), "pre_tokenizer", 0));
    MCL_TRY(parse_decoder(tok, cJSON_GetObjectItemCaseSensitive(root, "decoder"), "decoder", 0));
    MCL_TRY(check_post_processor(tok, cJSON_GetObjectItemCaseSensitive(root, "post_processor")));
    MCL_TRY(index_added(tok));
    return tok_compile_regex(tok, WORD_CHAR_PATTERN, strlen(WORD_CHAR_PATTERN), "word-character regex", &tok->word_re);
}

mcl_status tok_parse_json(mcl_tokenizer *tok, const char *json, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        size_t at = end && end >= json ? (size_t)(end - json) : 0;
        return fail(tok, MCL_ERR_FORMAT, "not valid JSON (error near byte %zu of %zu)", at, len);
    }
    while (end < json + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')) end++;
    if (end < json + len) {
        cJSON_Delete(root);
        return fail(tok, MCL_ERR_FORMAT, "not valid JSON (trailing data at byte %zu of %zu)", (size_t)(end - json), len);
    }
    mcl_status st = parse_root(tok, root);
    cJSON_Delete(root);
    return st;
}
