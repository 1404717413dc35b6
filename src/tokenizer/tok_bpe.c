/* BPE on one pre-token, as the Hugging Face `tokenizers` BPE model does it:
 * the pre-token's characters (with continuing_subword_prefix on all but the
 * first and end_of_word_suffix on the last) become symbols (unknown ones:
 * byte_fallback <0xXX> tokens, else unk_token, else dropped); then the pair
 * of adjacent symbols with the lowest merge rank (leftmost on ties) is merged
 * until no pair has a merge. A binary heap of candidate pairs, re-checked
 * when popped, makes this O(n log n) per pre-token. Results are cached. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

typedef struct symbol { int32_t id; int prev, next; bool gone; } symbol;
typedef struct cand { uint32_t rank; int pos; int32_t id; } cand;   /* merge symbols[pos] with its next */

typedef struct word {
    symbol *sym;
    int n, cap;
    cand *heap;
    int nh, caph;
} word;

static bool word_add(word *w, int32_t id)
{
    if (w->n == w->cap) {
        int cap = w->cap ? w->cap * 2 : 32;
        symbol *s = realloc(w->sym, (size_t)cap * sizeof *s);
        if (!s) return false;
        w->sym = s;
        w->cap = cap;
    }
    w->sym[w->n] = (symbol){id, w->n - 1, -1, false};
    if (w->n > 0) w->sym[w->n - 1].next = w->n;
    w->n++;
    return true;
}

static bool cand_less(const cand *a, const cand *b)
{
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static bool heap_push(word *w, cand c)
{
    if (w->nh == w->caph) {
        int cap = w->caph ? w->caph * 2 : 32;
        cand *h = realloc(w->heap, (size_t)cap * sizeof *h);
        if (!h) return false;
        w->heap = h;
        w->caph = cap;
    }
    int i = w->nh++;
    while (i > 0 && cand_less(&c, &w->heap[(i - 1) / 2])) {
        w->heap[i] = w->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    w->heap[i] = c;
    return true;
}

static cand heap_pop(word *w)
{
    cand top = w->heap[0], last = w->heap[--w->nh];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= w->nh) break;
        if (c + 1 < w->nh && cand_less(&w->heap[c + 1], &w->heap[c])) c++;
        if (!cand_less(&w->heap[c], &last)) break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (w->nh > 0) w->heap[i] = last;
    return top;
}

/* Queues the pair (pos, its next) when the merges know it. */
static bool queue_pair(const mcl_tokenizer *tok, word *w, int pos)
{
    if (pos < 0 || w->sym[pos].next < 0) return true;
    const tok_merge_slot *m = tok_merge_get(&tok->merges, w->sym[pos].id, w->sym[w->sym[pos].next].id);
    return !m || heap_push(w, (cand){m->rank, pos, m->id});
}

static bool merge_all(const mcl_tokenizer *tok, word *w)
{
    for (int i = 0; i + 1 < w->n; i++)
        if (!queue_pair(tok, w, i)) return false;
    while (w->nh > 0) {
        cand c = heap_pop(w);
        symbol *s = &w->sym[c.pos];
        if (s->gone || s->next < 0) continue;
        const tok_merge_slot *m = tok_merge_get(&tok->merges, s->id, w->sym[s->next].id);
        if (!m || m->id != c.id || m->rank != c.rank) continue;  /* stale candidate */
        symbol *r = &w->sym[s->next];
        s->id = c.id;
        r->gone = true;
        s->next = r->next;
        if (r->next >= 0) w->sym[r->next].prev = c.pos;
        if (!queue_pair(tok, w, s->prev) || !queue_pair(tok, w, c.pos)) return false;
    }
    return true;
}

/* The vocab id of prefix? + s[0..n) + suffix?, or -1. */
static int32_t lookup_affixed(const mcl_tokenizer *tok, const char *s, size_t n, bool pre, bool suf,
                              tok_buf *tmp)
{
    if (!pre && !suf) return tok_map_get(&tok->vocab, s, n);
    tmp->len = 0;
    if ((pre && !tok_buf_append(tmp, tok->prefix, strlen(tok->prefix))) || !tok_buf_append(tmp, s, n) ||
        (suf && !tok_buf_append(tmp, tok->suffix, strlen(tok->suffix))))
        return -2;
    return tok_map_get(&tok->vocab, tmp->p, tmp->len);
}

/* byte_fallback: the <0xXX> ids of every byte of the (affixed) character. */
static bool add_byte_fallback(const mcl_tokenizer *tok, word *w, const char *s, size_t n, bool pre, bool suf)
{
    tok_buf b = {0};
    int32_t ids[64];
    size_t k = 0;
    bool ok = (!pre || tok_buf_append(&b, tok->prefix, strlen(tok->prefix))) && tok_buf_append(&b, s, n) &&
              (!suf || tok_buf_append(&b, tok->suffix, strlen(tok->suffix)));
    for (size_t i = 0; ok && i < b.len; i++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", (unsigned char)b.p[i]);
        int32_t id = tok_map_get(&tok->vocab, name, strlen(name));
        if (id < 0 || k == 64) ok = false;
        else ids[k++] = id;
    }
    tok_buf_free(&b);
    for (size_t i = 0; ok && i < k; i++) ok = word_add(w, ids[i]);
    return ok;
}

/* Splits s into symbols. Returns MCL_ERR_NOMEM on allocation failure. */
static mcl_status word_init(const mcl_tokenizer *tok, word *w, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    tok_buf tmp = {0};
    bool pending_unk = false, ok = true;
    for (size_t i = 0; i < n && ok;) {
        uint32_t cp;
        size_t k = tok_utf8_decode(u + i, n - i, &cp);
        if (!k) k = 1;   /* cannot happen: pre-tokens are valid UTF-8 */
        bool pre = tok->prefix && i > 0, suf = tok->suffix && i + k == n;
        int32_t id = lookup_affixed(tok, s + i, k, pre, suf, &tmp);
        if (id == -2) ok = false;
        else if (id >= 0) {
            if (pending_unk) ok = word_add(w, tok->unk_id);
            pending_unk = false;
            ok = ok && word_add(w, id);
        } else if (tok->byte_fallback && add_byte_fallback(tok, w, s + i, k, pre, suf)) {
            /* added */
        } else if (tok->unk_id >= 0) {
            if (pending_unk && !tok->fuse_unk) ok = word_add(w, tok->unk_id);
            pending_unk = true;
        }
        i += k;
    }
    if (ok && pending_unk) ok = word_add(w, tok->unk_id);
    tok_buf_free(&tmp);
    return ok ? MCL_OK : mcl_error_set(MCL_ERR_NOMEM, "tokenizer: out of memory in BPE");
}

mcl_status tok_bpe_encode(const mcl_tokenizer *tok, const char *s, size_t n, tok_buf *ids)
{
    if (n == 0) return MCL_OK;
    if (tok->ignore_merges) {
        int32_t id = tok_map_get(&tok->vocab, s, n);
        if (id >= 0)
            return tok_buf_append(ids, &id, sizeof id) ? MCL_OK
                                                       : mcl_error_set(MCL_ERR_NOMEM, "tokenizer: out of memory");
    }
    if (tok_cache_get(tok->cache, s, n, ids)) return MCL_OK;
    word w = {0};
    mcl_status st = word_init(tok, &w, s, n);
    if (st == MCL_OK && !merge_all(tok, &w)) st = mcl_error_set(MCL_ERR_NOMEM, "tokenizer: out of memory in BPE");
    size_t start = ids->len;
    for (int i = 0; st == MCL_OK && w.n > 0 && i >= 0; i = w.sym[i].next)
        if (!tok_buf_append(ids, &w.sym[i].id, sizeof(int32_t)))
            st = mcl_error_set(MCL_ERR_NOMEM, "tokenizer: out of memory");
    if (st == MCL_OK)
        tok_cache_put(tok->cache, s, n, (const int32_t *)(ids->p + start), (ids->len - start) / sizeof(int32_t));
    free(w.sym);
    free(w.heap);
    return st;
}
