/* Public tokenizer API: load, encode, decode, lookups (see tokenizer.h for
 * the pipeline). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "tokenizer/tokenizer.h"
#include "base/file.h"

static mcl_status oom(void) { return mcl_error_set(MCL_ERR_NOMEM, "tokenizer: out of memory"); }

/* The string of id as the model or the added vocabulary knows it, or NULL. */
static const char *token_string(const mcl_tokenizer *tok, int32_t id, size_t *len)
{
    if (tok->added_of[id] >= 0) {
        *len = tok->added[tok->added_of[id]].len;
        return tok->added[tok->added_of[id]].content;
    }
    *len = tok->model_len[id];
    return tok->model_tok[id];
}

/* ---- decoding --------------------------------------------------------- */

/* BPEDecoder: every suffix becomes a space, or nothing in the last token of
 * a full decode. */
static bool dec_bpe(const tok_decoder *d, const tok_buf *a, const tok_pieces *in, bool final, tok_buf *na,
                    tok_pieces *out)
{
    size_t sl = strlen(d->suffix);
    for (size_t i = 0; i < in->n; i++) {
        const char *s = a->p + in->v[i].off, *e = s + in->v[i].len;
        const char *rep = final && i + 1 == in->n ? "" : " ";
        size_t off = na->len;
        while (s < e) {
            const char *hit = sl ? memmem(s, (size_t)(e - s), d->suffix, sl) : NULL;
            size_t run = hit ? (size_t)(hit - s) : (size_t)(e - s);
            if (!tok_buf_append(na, s, run) || (hit && !tok_buf_append(na, rep, strlen(rep)))) return false;
            s += run + (hit ? sl : 0);
        }
        if (!tok_pieces_push(out, off, na->len - off)) return false;
    }
    return true;
}

/* ByteLevel: characters back to bytes (a token with a character outside the
 * mapping is kept as its UTF-8 bytes), all tokens joined; a full decode then
 * replaces invalid UTF-8 by U+FFFD. */
static bool dec_byte_level(const tok_buf *a, const tok_pieces *in, bool final, tok_buf *na, tok_pieces *out)
{
    tok_buf raw = {0};
    bool ok = tok_buf_reserve(&raw, 1);
    for (size_t i = 0; i < in->n && ok; i++) {
        const unsigned char *s = (const unsigned char *)a->p + in->v[i].off;
        size_t n = in->v[i].len, start = raw.len;
        for (size_t j = 0; j < n && ok;) {
            uint32_t cp;
            size_t k = tok_utf8_decode(s + j, n - j, &cp);
            int b = k ? tok_byte_level_unmap(cp) : -1;
            if (b < 0) {
                raw.len = start;
                ok = tok_buf_append(&raw, s, n);
                break;
            }
            unsigned char byte = (unsigned char)b;
            ok = tok_buf_append(&raw, &byte, 1);
            j += k;
        }
    }
    size_t off = na->len;
    ok = ok && (final ? tok_utf8_repair(raw.p, raw.len, na) : tok_buf_append(na, raw.p, raw.len));
    tok_buf_free(&raw);
    return ok && tok_pieces_push(out, off, na->len - off);
}

/* Runs the decoders over the tokens (ranges of *a) and writes the joined
 * text to out. final: a full decode rather than one token's text. */
static mcl_status run_decoders(const mcl_tokenizer *tok, tok_buf *a, tok_pieces *toks, bool final, tok_buf *out)
{
    bool ok = true;
    for (int i = 0; i < tok->n_dec && ok; i++) {
        tok_buf na = {0};
        tok_pieces np = {0};
        ok = tok->dec[i].type == TOK_DEC_BPE ? dec_bpe(&tok->dec[i], a, toks, final, &na, &np)
                                             : dec_byte_level(a, toks, final, &na, &np);
        tok_buf_free(a);
        free(toks->v);
        *a = na;
        *toks = np;
    }
    ok = ok && tok_buf_reserve(out, 1);
    for (size_t i = 0; i < toks->n && ok; i++) {
        if (i > 0 && !tok->has_decoder) ok = tok_buf_append(out, " ", 1);
        /* a->p is NULL when every piece is empty: no pointer arithmetic on it */
        if (toks->v[i].len) ok = ok && tok_buf_append(out, a->p + toks->v[i].off, toks->v[i].len);
    }
    return ok ? MCL_OK : oom();
}

/* Decodes ids that the caller checked; appends to out. */
static mcl_status decode_ids(const mcl_tokenizer *tok, const int32_t *ids, size_t n, bool final, tok_buf *out)
{
    tok_buf a = {0};
    tok_pieces toks = {0};
    mcl_status st = MCL_OK;
    for (size_t i = 0; i < n && st == MCL_OK; i++) {
        size_t len;
        const char *s = token_string(tok, ids[i], &len);
        size_t off = a.len;
        if (!tok_buf_append(&a, s, len) || !tok_pieces_push(&toks, off, len)) st = oom();
    }
    if (st == MCL_OK) st = run_decoders(tok, &a, &toks, final, out);
    tok_buf_free(&a);
    free(toks.v);
    return st;
}

/* The text of every id alone, for mcl_tokenizer_token_text. */
static mcl_status build_texts(mcl_tokenizer *tok)
{
    size_t n = (size_t)(tok->n_ids ? tok->n_ids : 1);
    tok->text = calloc(n, sizeof *tok->text);
    tok->text_len = calloc(n, sizeof *tok->text_len);
    if (!tok->text || !tok->text_len) return oom();
    for (int32_t id = 0; id < tok->n_ids; id++) {
        size_t len;
        if (!token_string(tok, id, &len)) continue;
        tok_buf out = {0};
        mcl_status st = decode_ids(tok, &id, 1, false, &out);
        if (st != MCL_OK) return st;
        tok->text[id] = out.p;
        tok->text_len[id] = (uint32_t)out.len;
    }
    return MCL_OK;
}

/* ---- special tokens --------------------------------------------------- */

int32_t mcl_tokenizer_token_id(const mcl_tokenizer *tok, const char *token)
{
    if (!tok || !token) return -1;
    size_t len = strlen(token);
    for (int i = 0; i < tok->n_added; i++)
        if (tok->added[i].len == len && memcmp(tok->added[i].content, token, len) == 0) return tok->added[i].id;
    return tok_map_get(&tok->vocab, token, len);
}

static int32_t first_present(const mcl_tokenizer *tok, const char *const *names)
{
    for (; *names; names++) {
        int32_t id = mcl_tokenizer_token_id(tok, *names);
        if (id >= 0) return id;
    }
    return -1;
}

static void find_specials(mcl_tokenizer *tok)
{
    static const char *const eos[] = {"<|endoftext|>", "</s>", "<|end_of_text|>", "<eos>", NULL};
    static const char *const bos[] = {"<|startoftext|>", "<s>", "<|begin_of_text|>", "<bos>", "<|endoftext|>", NULL};
    tok->eos_id = first_present(tok, eos);
    tok->bos_id = first_present(tok, bos);
}

/* ---- loading ---------------------------------------------------------- */

void mcl_tokenizer_free(mcl_tokenizer *tok)
{
    if (!tok) return;
    for (int32_t i = 0; i < tok->n_ids; i++) {
        if (tok->model_tok) free(tok->model_tok[i]);
        if (tok->text) free(tok->text[i]);
    }
    free(tok->model_tok);
    free(tok->model_len);
    free(tok->added_of);
    free(tok->text);
    free(tok->text_len);
    tok_map_free(&tok->vocab);
    tok_merge_free(&tok->merges);
    free(tok->prefix);
    free(tok->suffix);
    for (int i = 0; i < tok->n_pre; i++) pcre2_code_free(tok->pre[i].re);
    free(tok->pre);
    for (int i = 0; i < tok->n_dec; i++) free(tok->dec[i].suffix);
    free(tok->dec);
    for (int i = 0; tok->added && i < tok->n_added; i++) {
        free(tok->added[i].content);
        free(tok->added[i].match);
    }
    free(tok->added);
    free(tok->added_order);
    pcre2_code_free(tok->word_re);
    tok_cache_free(tok->cache);
    free(tok->path);
    free(tok);
}

mcl_status tok_load_mem(const char *json, size_t len, const char *name, mcl_tokenizer **out)
{
    *out = NULL;
    mcl_tokenizer *tok = calloc(1, sizeof *tok);
    if (!tok) return oom();
    tok->path = strdup(name ? name : "tokenizer.json");
    tok->cache = tok_cache_create();
    tok->unk_id = -1;
    mcl_status st = tok->path && tok->cache ? tok_parse_json(tok, json, len) : oom();
    if (st == MCL_OK) st = build_texts(tok);
    if (st != MCL_OK) {
        mcl_tokenizer_free(tok);
        return st;
    }
    find_specials(tok);
    *out = tok;
    return MCL_OK;
}

mcl_status mcl_tokenizer_load(const char *path, mcl_tokenizer **out)
{
    if (!out) return mcl_error_set(MCL_ERR_INVALID_ARG, "mcl_tokenizer_load: out is NULL");
    *out = NULL;
    if (!path) return mcl_error_set(MCL_ERR_INVALID_ARG, "mcl_tokenizer_load: path is NULL");
    char *data = NULL;
    size_t len = 0;
    MCL_TRY(mcl_read_text_file(path, TOK_MAX_FILE, &data, &len));
    mcl_status st = tok_load_mem(data, len, path, out);
    free(data);
    return st;
}

/* ---- encoding --------------------------------------------------------- */

typedef struct enc_ctx {
    const mcl_tokenizer *tok;
    tok_buf ids, norm, arena;
    tok_pieces pre;
} enc_ctx;

static mcl_status push_id(enc_ctx *c, int32_t id)
{
    return tok_buf_append(&c->ids, &id, sizeof id) ? MCL_OK : oom();
}

/* Pre-tokenizes and BPE-encodes text that holds no added token. */
static mcl_status encode_plain(enc_ctx *c, const char *s, size_t n)
{
    if (n == 0) return MCL_OK;
    MCL_TRY(tok_pretokenize(c->tok, s, n, &c->arena, &c->pre));
    for (size_t i = 0; i < c->pre.n; i++)
        MCL_TRY(tok_bpe_encode(c->tok, c->arena.p + c->pre.v[i].off, c->pre.v[i].len, &c->ids));
    return MCL_OK;
}

/* Splits s on the added tokens of one kind; the rest goes to `rest`. */
static mcl_status split_added(enc_ctx *c, bool normalized, const char *s, size_t n,
                              mcl_status (*rest)(enc_ctx *, const char *, size_t))
{
    size_t done = 0;
    int k;
    size_t b, e;
    while (tok_find_added(c->tok, normalized, s, n, done, done, &k, &b, &e)) {
        MCL_TRY(rest(c, s + done, b - done));
        MCL_TRY(push_id(c, c->tok->added[k].id));
        done = e;
    }
    return rest(c, s + done, n - done);
}

/* A piece between non-normalized added tokens: normalize, then split on the
 * normalized added tokens. */
static mcl_status encode_piece(enc_ctx *c, const char *s, size_t n)
{
    if (n == 0) return MCL_OK;
    if (!c->tok->nfc) return split_added(c, true, s, n, encode_plain);
    c->norm.len = 0;
    if (!tok_nfc(s, n, &c->norm)) return oom();
    /* split_added does not touch c->norm, so it may be read while splitting */
    return split_added(c, true, c->norm.p, c->norm.len, encode_plain);
}

mcl_status mcl_tokenizer_encode(const mcl_tokenizer *tok, const char *text, size_t len, int32_t **ids, size_t *n_ids)
{
    if (!tok || !ids || !n_ids || (!text && len))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "mcl_tokenizer_encode: NULL argument");
    *ids = NULL;
    *n_ids = 0;
    enc_ctx c = {.tok = tok};
    tok_buf fixed = {0};
    mcl_status st = MCL_OK;
    if (len && !tok_utf8_valid(text, len)) {
        if (!tok_utf8_repair(text, len, &fixed)) st = oom();
        text = fixed.p;
        len = fixed.len;
    }
    if (st == MCL_OK && !tok_buf_reserve(&c.ids, 4)) st = oom();
    if (st == MCL_OK && len) st = split_added(&c, false, text, len, encode_piece);
    tok_buf_free(&fixed);
    tok_buf_free(&c.norm);
    tok_buf_free(&c.arena);
    free(c.pre.v);
    if (st != MCL_OK) {
        tok_buf_free(&c.ids);
        return st;
    }
    *ids = (int32_t *)c.ids.p;
    *n_ids = c.ids.len / sizeof(int32_t);
    return MCL_OK;
}

/* ---- decoding and lookups --------------------------------------------- */

static mcl_status check_id(const mcl_tokenizer *tok, int32_t id, size_t at)
{
    size_t len;
    if (id < 0 || id >= tok->n_ids)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "token id %d (position %zu) is outside the vocabulary [0, %d)",
                             (int)id, at, (int)tok->n_ids);
    if (!token_string(tok, id, &len))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "token id %d (position %zu) has no token in %s", (int)id, at, tok->path);
    return MCL_OK;
}

mcl_status mcl_tokenizer_decode(const mcl_tokenizer *tok, const int32_t *ids, size_t n, char **text, size_t *len)
{
    if (!tok || !text || (!ids && n)) return mcl_error_set(MCL_ERR_INVALID_ARG, "mcl_tokenizer_decode: NULL argument");
    *text = NULL;
    if (len) *len = 0;
    for (size_t i = 0; i < n; i++) MCL_TRY(check_id(tok, ids[i], i));
    tok_buf out = {0};
    mcl_status st = tok_buf_reserve(&out, 1) ? decode_ids(tok, ids, n, true, &out) : oom();
    if (st != MCL_OK) {
        tok_buf_free(&out);
        return st;
    }
    out.p[out.len] = '\0';
    *text = out.p;
    if (len) *len = out.len;
    return MCL_OK;
}

mcl_status mcl_tokenizer_token_text(const mcl_tokenizer *tok, int32_t id, const char **bytes, size_t *len)
{
    if (!tok || !bytes || !len) return mcl_error_set(MCL_ERR_INVALID_ARG, "mcl_tokenizer_token_text: NULL argument");
    MCL_TRY(check_id(tok, id, 0));
    *bytes = tok->text[id];
    *len = tok->text_len[id];
    return MCL_OK;
}

int32_t mcl_tokenizer_vocab_size(const mcl_tokenizer *tok) { return tok ? tok->n_ids : 0; }

int32_t mcl_tokenizer_eos_id(const mcl_tokenizer *tok) { return tok ? tok->eos_id : -1; }

int32_t mcl_tokenizer_bos_id(const mcl_tokenizer *tok) { return tok ? tok->bos_id : -1; }

bool mcl_tokenizer_is_special(const mcl_tokenizer *tok, int32_t id)
{
    return tok && id >= 0 && id < tok->n_ids && tok->added_of[id] >= 0 && tok->added[tok->added_of[id]].special;
}
