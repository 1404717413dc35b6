/* Hash maps of the tokenizer: vocab (string -> id), merges ((id, id) ->
 * rank, id), and the pre-token -> ids cache. Open addressing with linear
 * probing, load factor at most 1/2. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer.h"

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return (uint32_t)(h ^ (h >> 32));
}

static size_t pow2_at_least(size_t n)
{
    size_t c = 16;
    while (c < n) c *= 2;
    return c;
}

bool tok_map_init(tok_map *m, size_t expected)
{
    m->cap = pow2_at_least(expected * 2 + 1);
    m->n = 0;
    m->slots = calloc(m->cap, sizeof *m->slots);
    return m->slots != NULL;
}

void tok_map_free(tok_map *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

static tok_map_slot *map_find(const tok_map *m, const char *key, size_t len, uint32_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        tok_map_slot *s = &m->slots[i];
        if (!s->key) return s;
        if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0) return s;
    }
}

static bool map_grow(tok_map *m)
{
    tok_map old = *m;
    m->cap *= 2;
    m->slots = calloc(m->cap, sizeof *m->slots);
    if (!m->slots) { *m = old; return false; }
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].key) *map_find(m, old.slots[i].key, old.slots[i].len, old.slots[i].hash) = old.slots[i];
    free(old.slots);
    return true;
}

bool tok_map_put(tok_map *m, const char *key, size_t len, int32_t val, int32_t *old)
{
    if ((m->n + 1) * 2 > m->cap && !map_grow(m)) return false;
    uint32_t h = hash_bytes(key, len);
    tok_map_slot *s = map_find(m, key, len, h);
    *old = s->key ? s->val : -1;
    if (!s->key) m->n++;
    *s = (tok_map_slot){key, (uint32_t)len, h, val};
    return true;
}

int32_t tok_map_get(const tok_map *m, const char *key, size_t len)
{
    if (!m->slots) return -1;
    const tok_map_slot *s = map_find(m, key, len, hash_bytes(key, len));
    return s->key ? s->val : -1;
}

/* ---- merges ---------------------------------------------------------- */

static uint64_t pair_key(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b; }

static size_t pair_hash(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (size_t)k;
}

/* Empty slots have id -1. */
static tok_merge_slot *merge_find(const tok_merge_map *m, uint64_t key)
{
    size_t mask = m->cap - 1;
    for (size_t i = pair_hash(key) & mask;; i = (i + 1) & mask) {
        tok_merge_slot *s = &m->slots[i];
        if (s->id < 0 || s->key == key) return s;
    }
}

bool tok_merge_init(tok_merge_map *m, size_t expected)
{
    m->cap = pow2_at_least(expected * 2 + 1);
    m->n = 0;
    m->slots = malloc(m->cap * sizeof *m->slots);
    if (!m->slots) return false;
    for (size_t i = 0; i < m->cap; i++) m->slots[i].id = -1;
    return true;
}

void tok_merge_free(tok_merge_map *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

bool tok_merge_put(tok_merge_map *m, int32_t a, int32_t b, uint32_t rank, int32_t id)
{
    if ((m->n + 1) * 2 > m->cap) return false; /* sized by tok_merge_init */
    uint64_t key = pair_key(a, b);
    tok_merge_slot *s = merge_find(m, key);
    if (s->id < 0) m->n++;
    *s = (tok_merge_slot){key, rank, id};
    return true;
}

const tok_merge_slot *tok_merge_get(const tok_merge_map *m, int32_t a, int32_t b)
{
    if (!m->slots) return NULL;
    const tok_merge_slot *s = merge_find(m, pair_key(a, b));
    return s->id < 0 ? NULL : s;
}

/* ---- pre-token cache ------------------------------------------------- */

/* One allocation per entry: the ids, then the key bytes. */
typedef struct cache_entry { uint32_t hash, klen, n; int32_t ids[]; } cache_entry;

#define CACHE_START 256 /* slots of a fresh cache */

struct tok_cache {
    pthread_mutex_t lock;
    cache_entry **slots;   /* [cap], NULL = empty */
    size_t cap, n;
};

static const char *entry_key(const cache_entry *e) { return (const char *)(e->ids + e->n); }

tok_cache *tok_cache_create(void)
{
    tok_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->cap = CACHE_START; /* grows to pow2_at_least(TOK_CACHE_MAX * 2) as entries come */
    c->slots = calloc(c->cap, sizeof *c->slots);
    if (!c->slots || pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c->slots);
        free(c);
        return NULL;
    }
    return c;
}

static void cache_clear(tok_cache *c)
{
    for (size_t i = 0; i < c->cap && c->n > 0; i++) {
        if (!c->slots[i]) continue;
        free(c->slots[i]);
        c->slots[i] = NULL;
        c->n--;
    }
    c->n = 0;
}

void tok_cache_clear(tok_cache *c)
{
    pthread_mutex_lock(&c->lock);
    cache_clear(c);
    pthread_mutex_unlock(&c->lock);
}

void tok_cache_free(tok_cache *c)
{
    if (!c) return;
    cache_clear(c);
    pthread_mutex_destroy(&c->lock);
    free(c->slots);
    free(c);
}

static cache_entry **cache_find(tok_cache *c, const char *key, size_t len, uint32_t h)
{
    size_t mask = c->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        cache_entry *e = c->slots[i];
        if (!e || (e->hash == h && e->klen == len && memcmp(entry_key(e), key, len) == 0))
            return &c->slots[i];
    }
}

bool tok_cache_get(tok_cache *c, const char *key, size_t len, tok_buf *out)
{
    if (len > TOK_CACHE_MAX_KEY) return false;
    uint32_t h = hash_bytes(key, len);
    bool hit = false;
    pthread_mutex_lock(&c->lock);
    cache_entry *e = *cache_find(c, key, len, h);
    if (e) hit = tok_buf_append(out, e->ids, e->n * sizeof(int32_t));
    pthread_mutex_unlock(&c->lock);
    return hit;
}

/* Doubles the slot table (entries rehashed); false (table kept) on OOM. */
static bool cache_grow(tok_cache *c)
{
    size_t cap = c->cap * 2, mask = cap - 1;
    cache_entry **slots = calloc(cap, sizeof *slots);
    if (!slots) return false;
    for (size_t i = 0; i < c->cap; i++) {
        cache_entry *e = c->slots[i];
        if (!e) continue;
        size_t j = e->hash & mask;
        while (slots[j]) j = (j + 1) & mask;
        slots[j] = e;
    }
    free(c->slots);
    c->slots = slots;
    c->cap = cap;
    return true;
}

void tok_cache_put(tok_cache *c, const char *key, size_t len, const int32_t *ids, size_t n)
{
    if (len > TOK_CACHE_MAX_KEY) return;
    cache_entry *e = malloc(sizeof *e + n * sizeof(int32_t) + len);
    if (!e) return; /* the cache is an optimization: skip it */
    *e = (cache_entry){hash_bytes(key, len), (uint32_t)len, (uint32_t)n};
    memcpy(e->ids, ids, n * sizeof(int32_t));
    memcpy((char *)(e->ids + n), key, len);
    pthread_mutex_lock(&c->lock);
    if (c->n >= TOK_CACHE_MAX) cache_clear(c);
    /* Load factor at most 1/2: grow while below the final size; on OOM the
     * cache is emptied rather than overfilled. */
    if (2 * (c->n + 1) > c->cap && (c->cap >= pow2_at_least(TOK_CACHE_MAX * 2) || !cache_grow(c)))
        cache_clear(c);
    cache_entry **slot = cache_find(c, key, len, e->hash);
    if (*slot) free(e);
    else { *slot = e; c->n++; }
    pthread_mutex_unlock(&c->lock);
}
