/* Internal structure of the Hugging Face tokenizer.json BPE tokenizer.
 *
 * Encoding, as the Hugging Face `tokenizers` library does it:
 *   text -> (invalid UTF-8 replaced by U+FFFD)
 *        -> split out added tokens whose `normalized` is false (raw text)
 *        -> each remaining piece: normalizer (NFC or none)
 *        -> split out added tokens whose `normalized` is true
 *        -> each remaining piece: pre-tokenizers (ByteLevel, Whitespace,
 *           WhitespaceSplit, Split, Sequence) -> pre-tokens
 *        -> each pre-token: BPE merges (cached) -> ids
 * Decoding: ids -> token strings -> decoders (ByteLevel, BPEDecoder,
 * Sequence; none = join with spaces) -> bytes (ByteLevel repairs invalid
 * UTF-8 with U+FFFD, as the library does).
 *
 * Files: tokenizer.c (public API, encode/decode driver), tok_json.c
 * (tokenizer.json parsing and validation), tok_map.c (hash maps and the
 * pre-token cache), tok_bpe.c (the merge loop), tok_pretok.c (added-token
 * splitting and pre-tokenizers), tok_unicode.c (UTF-8, NFC).
 */
#ifndef MCL_TOKENIZER_H
#define MCL_TOKENIZER_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "mambacl.h"
#include "tokenizer/tok_unicode.h"

#define TOK_MAX_IDS (1 << 24)           /* ids at or above this are refused as format errors */
#define TOK_MAX_FILE (1024u << 20)      /* tokenizer.json larger than 1 GiB is refused */
#define TOK_CACHE_MAX 65536             /* pre-token cache entries before it is emptied */
#define TOK_CACHE_MAX_KEY 256           /* longer pre-tokens are not cached */

/* String -> int32 open-addressing map. Keys are not owned. */
typedef struct tok_map_slot { const char *key; uint32_t len; uint32_t hash; int32_t val; } tok_map_slot;
typedef struct tok_map { tok_map_slot *slots; size_t cap, n; } tok_map;

bool tok_map_init(tok_map *m, size_t expected);
void tok_map_free(tok_map *m);
/* Inserts or overwrites; *old receives the previous value or -1. false on OOM. */
bool tok_map_put(tok_map *m, const char *key, size_t len, int32_t val, int32_t *old);
/* The value of key, or -1. */
int32_t tok_map_get(const tok_map *m, const char *key, size_t len);

/* (left id, right id) -> (rank, merged id). */
typedef struct tok_merge_slot { uint64_t key; uint32_t rank; int32_t id; } tok_merge_slot;
typedef struct tok_merge_map { tok_merge_slot *slots; size_t cap, n; } tok_merge_map;

bool tok_merge_init(tok_merge_map *m, size_t expected);
void tok_merge_free(tok_merge_map *m);
bool tok_merge_put(tok_merge_map *m, int32_t a, int32_t b, uint32_t rank, int32_t id);
/* The merge of (a, b), or NULL. */
const tok_merge_slot *tok_merge_get(const tok_merge_map *m, int32_t a, int32_t b);

/* Pre-token -> ids cache, guarded by its own mutex (encode is thread-safe). */
typedef struct tok_cache tok_cache;
tok_cache *tok_cache_create(void);
void tok_cache_free(tok_cache *c);
/* Drops every entry (the slot table is kept). For fuzz_tokenizer: each input
 * starts from an empty cache, so a run does not depend on the ones before it
 * and frees what it allocated (libFuzzer's leak check re-runs any input that
 * leaves memory behind, and a growing cache made every new word do that). */
void tok_cache_clear(tok_cache *c);
/* Appends the cached ids of key to out and returns true, or false on a miss. */
bool tok_cache_get(tok_cache *c, const char *key, size_t len, tok_buf *out);
void tok_cache_put(tok_cache *c, const char *key, size_t len, const int32_t *ids, size_t n);

typedef enum tok_pre_type {
    TOK_PRE_BYTE_LEVEL,
    TOK_PRE_WHITESPACE,        /* \w+|[^\w\s]+ kept, the rest removed */
    TOK_PRE_WHITESPACE_SPLIT,  /* split on white space, removed */
    TOK_PRE_SPLIT,
} tok_pre_type;

typedef enum tok_split_behavior {
    TOK_SPLIT_REMOVED,
    TOK_SPLIT_ISOLATED,
    TOK_SPLIT_MERGED_WITH_PREVIOUS,
    TOK_SPLIT_MERGED_WITH_NEXT,
    TOK_SPLIT_CONTIGUOUS,
} tok_split_behavior;

typedef struct tok_pretok {
    tok_pre_type type;
    pcre2_code *re;              /* NULL for ByteLevel with use_regex false */
    tok_split_behavior behavior;
    bool invert;
    bool add_prefix_space;       /* ByteLevel */
} tok_pretok;

typedef enum tok_dec_type { TOK_DEC_BYTE_LEVEL, TOK_DEC_BPE } tok_dec_type;
typedef struct tok_decoder { tok_dec_type type; char *suffix; } tok_decoder;

typedef struct tok_added {
    char *content;               /* as in the file */
    size_t len;
    char *match;                 /* what is searched: content, NFC-normalized when `normalized` */
    size_t match_len;
    int32_t id;
    bool special, single_word, lstrip, rstrip, normalized;
} tok_added;

struct mcl_tokenizer {
    char *path;                  /* for messages */
    int32_t n_ids;               /* 1 + the largest id of the vocab and the added tokens */
    char **model_tok;            /* [n_ids] model vocab string of each id, or NULL */
    uint32_t *model_len;         /* [n_ids] */
    int32_t *added_of;           /* [n_ids] index into added[], or -1 */
    char **text;                 /* [n_ids] decoded bytes of each id alone (token_text) */
    uint32_t *text_len;          /* [n_ids] */
    tok_map vocab;               /* model vocab: string -> id */
    tok_merge_map merges;
    int32_t unk_id;              /* -1 when none */
    bool fuse_unk, byte_fallback, ignore_merges;
    char *prefix, *suffix;       /* continuing_subword_prefix, end_of_word_suffix (or NULL) */
    bool nfc;                    /* normalizer NFC */
    tok_pretok *pre;             /* pre-tokenizers, applied in order */
    int n_pre;
    tok_decoder *dec;            /* decoders, applied in order */
    int n_dec;
    bool has_decoder;            /* false: decode joins tokens with spaces */
    tok_added *added;
    int n_added;
    int *added_order;            /* [n_added] by (normalized, first byte, longest first) */
    int added_start[2][257];     /* added_order[added_start[norm][c] .. [c+1]): candidates */
    int32_t bos_id, eos_id;      /* -1 when none */
    pcre2_code *word_re;         /* one word character, for single_word */
    tok_cache *cache;
};

/* tok_json.c: fills tok (zeroed, path set) from the JSON text. On failure
 * returns MCL_ERR_FORMAT / MCL_ERR_UNSUPPORTED / MCL_ERR_NOMEM with a message
 * naming tok->path; the caller frees tok. */
mcl_status tok_parse_json(mcl_tokenizer *tok, const char *json, size_t len);

/* tok_json.c: compiles a regex with PCRE2_UTF | PCRE2_UCP (and JIT when
 * available); what names the field for the error message. */
mcl_status tok_compile_regex(const mcl_tokenizer *tok, const char *pattern, size_t len,
                             const char *what, pcre2_code **out);

/* Loads a tokenizer from JSON in memory; `name` stands for the file in
 * messages. For tests and the fuzzer. */
mcl_status tok_load_mem(const char *json, size_t len, const char *name, mcl_tokenizer **out);

/* A list of byte ranges into an arena. */
typedef struct tok_piece { size_t off, len; } tok_piece;
typedef struct tok_pieces { tok_piece *v; size_t n, cap; } tok_pieces;
bool tok_pieces_push(tok_pieces *p, size_t off, size_t len);

/* tok_pretok.c: runs the pre-tokenizers over s[0..n); the pre-tokens are
 * ranges of *arena (reset first). */
mcl_status tok_pretokenize(const mcl_tokenizer *tok, const char *s, size_t n, tok_buf *arena,
                           tok_pieces *out);

/* tok_pretok.c: finds the first added token (of the `normalized` kind) in
 * s[from..n) as the library does (leftmost-longest, then single_word,
 * lstrip, rstrip). Returns false when none; else the token's index and its
 * range, extended by lstrip / rstrip (never before `floor`). */
bool tok_find_added(const mcl_tokenizer *tok, bool normalized, const char *s, size_t n, size_t from,
                    size_t floor, int *index, size_t *start, size_t *end);

/* tok_pretok.c: appends the ByteLevel mapping of bytes s[0..n) to out. */
bool tok_byte_level_map(const char *s, size_t n, tok_buf *out);
/* tok_pretok.c: the byte of a ByteLevel character, or -1. */
int tok_byte_level_unmap(uint32_t cp);

/* tok_bpe.c: appends the ids of one pre-token to ids (a buffer of int32). */
mcl_status tok_bpe_encode(const mcl_tokenizer *tok, const char *s, size_t n, tok_buf *ids);

#endif
