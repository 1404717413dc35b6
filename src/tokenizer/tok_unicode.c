/* UTF-8 decoding and repair, White_Space, and NFC (UAX #15: full canonical
 * decomposition, canonical ordering, canonical composition; Hangul by
 * arithmetic). Tables: src/tok_nfc_tables.c. */
#include "tokenizer/tok_unicode.h"

#include <stdlib.h>
#include <string.h>

bool tok_buf_reserve(tok_buf *b, size_t extra)
{
    if (b->len + extra <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return false;
    b->p = p;
    b->cap = cap;
    return true;
}

bool tok_buf_append(tok_buf *b, const void *data, size_t n)
{
    if (!tok_buf_reserve(b, n + 1)) return false;
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return true;
}

void tok_buf_free(tok_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

size_t tok_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) { *cp = c; return 1; }
    size_t len;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; v = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; v = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; v = c & 0x07; min = 0x10000; }
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return len;
}

size_t tok_utf8_encode(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

bool tok_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    uint32_t cp;
    while (i < n) {
        if (u[i] < 0x80) { i++; continue; }
        size_t k = tok_utf8_decode(u + i, n - i, &cp);
        if (!k) return false;
        i += k;
    }
    return true;
}

/* Length of the longest prefix of s that could start a valid sequence
 * (at least 1): the "maximal subpart" that one U+FFFD replaces. */
static size_t invalid_prefix_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else return 1;
    size_t i = 1;
    if (i < n && s[i] >= lo && s[i] <= hi) {
        i++;
        while (i < len && i < n && (s[i] & 0xC0) == 0x80) i++;
    }
    return i;
}

bool tok_utf8_repair(const char *s, size_t n, tok_buf *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    uint32_t cp;
    if (!tok_buf_reserve(out, n + 1)) return false;
    while (i < n) {
        size_t k = u[i] < 0x80 ? 1 : tok_utf8_decode(u + i, n - i, &cp);
        if (k) { i += k; continue; }
        if (!tok_buf_append(out, s + run, i - run) || !tok_buf_append(out, "\xEF\xBF\xBD", 3)) return false;
        i += invalid_prefix_len(u + i, n - i);
        run = i;
    }
    return tok_buf_append(out, s + run, n - run);
}

bool tok_is_white_space(uint32_t cp)
{
    if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
    if (cp < 0x85) return false;
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* ---- NFC ------------------------------------------------------------- */

enum { HS0 = 0xAC00, HL0 = 0x1100, HV0 = 0x1161, HT0 = 0x11A7, HLN = 19, HVN = 21, HTN = 28,
       HNN = HVN * HTN, HSN = HLN * HNN };

static int ccc_of(uint32_t cp)
{
    if (cp < 0x300) return 0;
    int lo = 0, hi = tok_ccc_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (tok_ccc_table[mid].cp == cp) return tok_ccc_table[mid].ccc;
        if (tok_ccc_table[mid].cp < cp) lo = mid + 1; else hi = mid - 1;
    }
    return 0;
}

static const tok_decomp_entry *decomp_of(uint32_t cp)
{
    int lo = 0, hi = tok_decomp_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (tok_decomp_table[mid].cp == cp) return &tok_decomp_table[mid];
        if (tok_decomp_table[mid].cp < cp) lo = mid + 1; else hi = mid - 1;
    }
    return NULL;
}

static uint32_t compose_pair(uint32_t a, uint32_t b)
{
    if (a >= HL0 && a < HL0 + HLN && b >= HV0 && b < HV0 + HVN)
        return HS0 + ((a - HL0) * HVN + (b - HV0)) * HTN;
    if (a >= HS0 && a < HS0 + HSN && (a - HS0) % HTN == 0 && b > HT0 && b < HT0 + HTN)
        return a + (b - HT0);
    int lo = 0, hi = tok_comp_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const tok_comp_entry *e = &tok_comp_table[mid];
        if (e->a == a && e->b == b) return e->c;
        if (e->a < a || (e->a == a && e->b < b)) lo = mid + 1; else hi = mid - 1;
    }
    return 0;
}

typedef struct cp_vec { uint32_t *v; size_t n, cap; } cp_vec;

static bool cp_push(cp_vec *c, uint32_t cp)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        uint32_t *v = realloc(c->v, cap * sizeof *v);
        if (!v) return false;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = cp;
    return true;
}

/* Appends the full canonical decomposition of cp. */
static bool decompose(uint32_t cp, cp_vec *out)
{
    if (cp >= HS0 && cp < HS0 + HSN) {
        uint32_t s = cp - HS0, t = s % HTN;
        if (!cp_push(out, HL0 + s / HNN) || !cp_push(out, HV0 + (s % HNN) / HTN)) return false;
        return t == 0 || cp_push(out, HT0 + t);
    }
    const tok_decomp_entry *d = cp < 0xC0 ? NULL : decomp_of(cp);
    if (!d) return cp_push(out, cp);
    if (!decompose(d->a, out)) return false;
    return d->b == 0 || decompose(d->b, out);
}

/* Canonical ordering: stable insertion sort of each run of non-starters. */
static void reorder(cp_vec *c)
{
    for (size_t i = 1; i < c->n; i++) {
        int cc = ccc_of(c->v[i]);
        if (cc == 0) continue;
        size_t j = i;
        uint32_t x = c->v[i];
        while (j > 0 && ccc_of(c->v[j - 1]) > cc) { c->v[j] = c->v[j - 1]; j--; }
        c->v[j] = x;
    }
}

static void compose(cp_vec *c)
{
    if (c->n == 0) return;
    size_t starter = 0, out = 1;
    int last = ccc_of(c->v[0]) ? 256 : 0;
    for (size_t i = 1; i < c->n; i++) {
        uint32_t ch = c->v[i];
        int cc = ccc_of(ch);
        uint32_t comp = compose_pair(c->v[starter], ch);
        if (comp && (last < cc || last == 0)) {
            c->v[starter] = comp;
            continue;
        }
        if (cc == 0) starter = out;
        last = cc;
        c->v[out++] = ch;
    }
    c->n = out;
}

bool tok_nfc(const char *s, size_t n, tok_buf *out)
{
    const unsigned char *u = (const unsigned char *)s;
    bool simple = true; /* every code point below U+0300: already NFC */
    for (size_t i = 0; i < n && simple; i++) simple = u[i] < 0xCC;
    if (simple) return tok_buf_append(out, s, n);
    cp_vec c = {0};
    bool ok = true;
    for (size_t i = 0; i < n && ok;) {
        uint32_t cp;
        size_t k = tok_utf8_decode(u + i, n - i, &cp);
        if (!k) { cp = 0xFFFD; k = 1; }
        ok = decompose(cp, &c);
        i += k;
    }
    if (ok) {
        reorder(&c);
        compose(&c);
        ok = tok_buf_reserve(out, c.n * 4 + 1);
        for (size_t i = 0; i < c.n && ok; i++) {
            char tmp[4];
            ok = tok_buf_append(out, tmp, tok_utf8_encode(c.v[i], tmp));
        }
    }
    free(c.v);
    return ok;
}
