/* Splitting of the text before BPE: added tokens (leftmost-longest, with
 * the single_word / lstrip / rstrip rules of the `tokenizers` library), the
 * pre-tokenizers (ByteLevel, Whitespace, WhitespaceSplit, Split) through
 * PCRE2, and the GPT-2 byte-to-character mapping of ByteLevel. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

bool tok_pieces_push(tok_pieces *p, size_t off, size_t len)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        tok_piece *v = realloc(p->v, cap * sizeof *v);
        if (!v) return false;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = (tok_piece){off, len};
    return true;
}

/* ---- ByteLevel mapping (GPT-2 bytes_to_unicode) ----------------------- */

static uint32_t byte_to_cp(unsigned b)
{
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE) return b;
    if (b <= 0x20) return 256 + b;
    if (b == 0xAD) return 256 + 67;
    return 256 + 33 + (b - 0x7F);   /* 0x7F..0xA0 */
}

int tok_byte_level_unmap(uint32_t cp)
{
    if ((cp >= 0x21 && cp <= 0x7E) || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF)) return (int)cp;
    if (cp >= 256 && cp <= 256 + 32) return (int)(cp - 256);
    if (cp >= 256 + 33 && cp <= 256 + 66) return (int)(cp - 256 - 33 + 0x7F);
    if (cp == 256 + 67) return 0xAD;
    return -1;
}

bool tok_byte_level_map(const char *s, size_t n, tok_buf *out)
{
    if (!tok_buf_reserve(out, 2 * n + 1)) return false;
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = byte_to_cp((unsigned char)s[i]);
        out->len += tok_utf8_encode(cp, out->p + out->len);
    }
    out->p[out->len] = '\0';
    return true;
}

/* ---- added tokens ----------------------------------------------------- */

static bool is_word_char(const mcl_tokenizer *tok, const unsigned char *s, size_t n)
{
    if (s[0] < 0x80) return s[0] == '_' || (s[0] >= '0' && s[0] <= '9') || ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z');
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    if (!md) return false;
    int rc = pcre2_match(tok->word_re, s, n, 0, PCRE2_ANCHORED | PCRE2_NO_UTF_CHECK, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

/* Start of the last character of s[0..n), n > 0. */
static size_t last_char(const char *s, size_t n)
{
    size_t i = n - 1;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
    return i;
}

/* The offset where the white space that ends s[0..n) begins. */
static size_t trailing_space_start(const char *s, size_t n)
{
    while (n > 0) {
        size_t i = last_char(s, n);
        uint32_t cp;
        if (!tok_utf8_decode((const unsigned char *)s + i, n - i, &cp) || !tok_is_white_space(cp)) break;
        n = i;
    }
    return n;
}

/* The byte length of the white space that starts s[0..n). */
static size_t leading_space_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = tok_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (!k || !tok_is_white_space(cp)) break;
        i += k;
    }
    return i;
}

/* The longest added token of the given kind at s[pos..n), or -1. */
static int added_at(const mcl_tokenizer *tok, int norm, const char *s, size_t n, size_t pos)
{
    unsigned c = (unsigned char)s[pos];
    for (int k = tok->added_start[norm][c]; k < tok->added_start[norm][c + 1]; k++) {
        const tok_added *a = &tok->added[tok->added_order[k]];
        if (a->match_len <= n - pos && memcmp(a->match, s + pos, a->match_len) == 0) return tok->added_order[k];
    }
    return -1;
}

bool tok_find_added(const mcl_tokenizer *tok, bool normalized, const char *s, size_t n, size_t from,
                    size_t floor, int *index, size_t *start, size_t *end)
{
    int norm = normalized ? 1 : 0;
    if (tok->added_start[norm][256] == tok->added_start[norm][0]) return false;
    for (size_t pos = from; pos < n;) {
        int k = added_at(tok, norm, s, n, pos);
        if (k < 0) { pos++; continue; }
        const tok_added *a = &tok->added[k];
        size_t b = pos, e = pos + a->match_len;
        if (a->single_word) {
            bool left = b == 0 || !is_word_char(tok, (const unsigned char *)s + last_char(s, b), b - last_char(s, b));
            bool right = e == n || !is_word_char(tok, (const unsigned char *)s + e, n - e);
            if (!left || !right) { pos = e; continue; }   /* matches never overlap: go on after it */
        }
        if (a->lstrip) {
            size_t ns = trailing_space_start(s, b);
            b = ns > floor ? ns : floor;
        }
        if (a->rstrip) e += leading_space_len(s + e, n - e);
        *index = k;
        *start = b;
        *end = e;
        return true;
    }
    return false;
}

/* ---- regex splitting ------------------------------------------------- */

typedef struct span { size_t s, e; bool flag; } span;
typedef struct spans { span *v; size_t n, cap; } spans;

static bool spans_push(spans *p, size_t s, size_t e, bool flag)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        span *v = realloc(p->v, cap * sizeof *v);
        if (!v) return false;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = (span){s, e, flag};
    return true;
}

/* The matches and the gaps between them over s[0..n) (flag = is a match),
 * as the library's Pattern::find_matches. Empty matches are skipped. */
static mcl_status find_matches(const mcl_tokenizer *tok, const pcre2_code *re, pcre2_match_data *md,
                               const char *s, size_t n, spans *out)
{
    size_t prev = 0, pos = 0;
    out->n = 0;
    if (n == 0) return spans_push(out, 0, 0, false) ? MCL_OK : MCL_ERR_NOMEM;
    while (pos < n) {
        int rc = pcre2_match(re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(rc, msg, sizeof msg);
            return mcl_error_set(MCL_ERR_UNSUPPORTED, "%s: pre-tokenizer regex failed on the text: %s",
                                 tok->path, (const char *)msg);
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1];
        if (me == ms) {   /* empty match: step over one character */
            pos = ms + 1;
            while (pos < n && ((unsigned char)s[pos] & 0xC0) == 0x80) pos++;
            continue;
        }
        if ((prev != ms && !spans_push(out, prev, ms, false)) || !spans_push(out, ms, me, true))
            return MCL_ERR_NOMEM;
        prev = pos = me;
    }
    if (prev != n && !spans_push(out, prev, n, false)) return MCL_ERR_NOMEM;
    return MCL_OK;
}

/* Applies the split behavior: afterwards flag = remove. In place. */
static void apply_behavior(spans *m, tok_split_behavior behavior, bool invert)
{
    if (invert)
        for (size_t i = 0; i < m->n; i++) m->v[i].flag = !m->v[i].flag;
    size_t out = 0;
    bool prev = false;
    switch (behavior) {
    case TOK_SPLIT_REMOVED: return;
    case TOK_SPLIT_ISOLATED:
        for (size_t i = 0; i < m->n; i++) m->v[i].flag = false;
        return;
    case TOK_SPLIT_CONTIGUOUS:
        for (size_t i = 0; i < m->n; i++) {
            bool is_match = m->v[i].flag;
            if (is_match == prev && out > 0) m->v[out - 1].e = m->v[i].e;
            else m->v[out++] = (span){m->v[i].s, m->v[i].e, false};
            prev = is_match;
        }
        break;
    case TOK_SPLIT_MERGED_WITH_PREVIOUS:
        for (size_t i = 0; i < m->n; i++) {
            bool is_match = m->v[i].flag;
            if (is_match && !prev && out > 0) m->v[out - 1].e = m->v[i].e;
            else m->v[out++] = (span){m->v[i].s, m->v[i].e, false};
            prev = is_match;
        }
        break;
    case TOK_SPLIT_MERGED_WITH_NEXT:
        /* Walk backwards, merging a match into the piece that follows it. */
        out = m->n;
        for (size_t i = m->n; i-- > 0;) {
            bool is_match = m->v[i].flag;
            if (is_match && !prev && out < m->n) m->v[out].s = m->v[i].s;
            else m->v[--out] = (span){m->v[i].s, m->v[i].e, false};
            prev = is_match;
        }
        memmove(m->v, m->v + out, (m->n - out) * sizeof *m->v);
        out = m->n - out;
        break;
    }
    m->n = out;
}

/* Splits each input piece of arena by re; appends the kept, non-empty
 * parts to out. */
static mcl_status split_pieces(const mcl_tokenizer *tok, const tok_pretok *p, pcre2_match_data *md,
                               const tok_buf *arena, const tok_pieces *in, tok_pieces *out)
{
    spans m = {0};
    mcl_status st = MCL_OK;
    for (size_t k = 0; k < in->n && st == MCL_OK; k++) {
        const tok_piece pc = in->v[k];
        st = find_matches(tok, p->re, md, arena->p + pc.off, pc.len, &m);
        if (st != MCL_OK) break;
        apply_behavior(&m, p->behavior, p->invert);
        for (size_t i = 0; i < m.n && st == MCL_OK; i++)
            if (!m.v[i].flag && m.v[i].e > m.v[i].s && !tok_pieces_push(out, pc.off + m.v[i].s, m.v[i].e - m.v[i].s))
                st = MCL_ERR_NOMEM;
    }
    free(m.v);
    return st;
}

/* ByteLevel: prefix space, GPT-2 regex split (Isolated), byte mapping. */
static mcl_status byte_level(const mcl_tokenizer *tok, const tok_pretok *p, pcre2_match_data *md,
                             tok_buf *arena, const tok_pieces *in, tok_pieces *out)
{
    tok_pieces one = {0}, parts = {0};
    mcl_status st = MCL_OK;
    for (size_t k = 0; k < in->n && st == MCL_OK; k++) {
        tok_piece pc = in->v[k];
        if (p->add_prefix_space && (pc.len == 0 || arena->p[pc.off] != ' ')) {
            size_t off = arena->len;
            if (!tok_buf_append(arena, " ", 1) || !tok_buf_reserve(arena, pc.len + 1)) { st = MCL_ERR_NOMEM; break; }
            tok_buf_append(arena, arena->p + pc.off, pc.len);
            pc = (tok_piece){off, pc.len + 1};
        }
        one.n = parts.n = 0;
        if (!tok_pieces_push(&one, pc.off, pc.len)) { st = MCL_ERR_NOMEM; break; }
        if (p->re) st = split_pieces(tok, p, md, arena, &one, &parts);
        else if (pc.len > 0 && !tok_pieces_push(&parts, pc.off, pc.len)) st = MCL_ERR_NOMEM;
        for (size_t i = 0; i < parts.n && st == MCL_OK; i++) {
            size_t off = arena->len;
            if (!tok_buf_reserve(arena, 2 * parts.v[i].len + 1)) { st = MCL_ERR_NOMEM; break; }
            tok_byte_level_map(arena->p + parts.v[i].off, parts.v[i].len, arena);
            if (!tok_pieces_push(out, off, arena->len - off)) st = MCL_ERR_NOMEM;
        }
    }
    free(one.v);
    free(parts.v);
    return st;
}

mcl_status tok_pretokenize(const mcl_tokenizer *tok, const char *s, size_t n, tok_buf *arena, tok_pieces *out)
{
    tok_pieces cur = {0}, next = {0};
    arena->len = 0;
    out->n = 0;
    if (!tok_buf_append(arena, s, n) || !tok_pieces_push(&cur, 0, n)) {
        free(cur.v);
        return mcl_error_set(MCL_ERR_NOMEM, "tokenizer: out of memory");
    }
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    mcl_status st = md ? MCL_OK : MCL_ERR_NOMEM;
    for (int i = 0; i < tok->n_pre && st == MCL_OK; i++) {
        const tok_pretok *p = &tok->pre[i];
        next.n = 0;
        st = p->type == TOK_PRE_BYTE_LEVEL ? byte_level(tok, p, md, arena, &cur, &next)
                                           : split_pieces(tok, p, md, arena, &cur, &next);
        tok_pieces t = cur;
        cur = next;
        next = t;
    }
    pcre2_match_data_free(md);
    free(next.v);
    if (st == MCL_OK) {
        /* Without pre-tokenizers the whole (non-empty) text is one pre-token. */
        for (size_t i = 0; i < cur.n && st == MCL_OK; i++)
            if (cur.v[i].len > 0 && !tok_pieces_push(out, cur.v[i].off, cur.v[i].len)) st = MCL_ERR_NOMEM;
    }
    free(cur.v);
    if (st == MCL_ERR_NOMEM) return mcl_error_set(MCL_ERR_NOMEM, "tokenizer: out of memory");
    return st;
}
