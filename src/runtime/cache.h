/* The on-disk cache of compiled program binaries.
 *
 * File <dir>/<tag>-<key>.bin, where key is the 128-bit hex hash of the kernel
 * source, compile options, device name, driver and platform versions:
 *   magic "MCLBIN01" | key (32 hex chars) | payload length (u64 LE)
 *   | payload FNV-1a 64 (u64 LE) | payload
 * A file whose magic, key, length or checksum disagree is deleted and reported
 * as a miss, never used. Writes go to a temporary file renamed into place. */
#ifndef MCL_CACHE_H
#define MCL_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include "mambacl.h"

#define MCL_CACHE_KEY_LEN 32

/* 64-bit FNV-1a of `len` bytes continuing from `h` (start with MCL_FNV_OFFSET). */
#define MCL_FNV_OFFSET 0xcbf29ce484222325ULL
uint64_t mcl_fnv1a(uint64_t h, const void *data, size_t len);

/* The hex key of a NULL-terminated list of strings (each hashed with its
 * length, so ("ab","c") and ("a","bc") differ). out has MCL_CACHE_KEY_LEN+1. */
void mcl_cache_key(const char *const *parts, char *out);

/* Resolves the cache directory: `override`, else $MAMBACL_CACHE_DIR, else
 * $XDG_CACHE_HOME/mambacl, else $HOME/.cache/mambacl; creates it. */
mcl_status mcl_cache_dir(const char *override, char *out, size_t cap);

/* Looks up tag+key. Returns 1 and a malloc'ed payload on a hit, 0 on a miss
 * (absent, or invalid and now deleted). Never fails otherwise. */
int mcl_cache_load(const char *dir, const char *tag, const char *key, unsigned char **data,
                   size_t *len);

/* Stores the payload atomically. MCL_ERR_IO when the directory is not writable. */
mcl_status mcl_cache_store(const char *dir, const char *tag, const char *key,
                           const unsigned char *data, size_t len);

/* The path of the cache file for tag+key (for tests). */
void mcl_cache_path(const char *dir, const char *tag, const char *key, char *out, size_t cap);

#endif
