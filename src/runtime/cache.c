/* The on-disk cache of compiled program binaries (format in cache.h). */
#include "runtime/cache.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/env.h"
#include "base/error.h"
#include "base/file.h"

#define MAGIC "MCLBIN01"
#define HEADER_LEN (8 + MCL_CACHE_KEY_LEN + 8 + 8)
#define MAX_PAYLOAD (512u << 20)

uint64_t mcl_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

void mcl_cache_key(const char *const *parts, char *out)
{
    /* Two FNV-1a streams with different offsets give 128 bits. */
    uint64_t a = MCL_FNV_OFFSET, b = 0x84222325cbf29ce4ULL;
    for (; *parts; parts++) {
        uint64_t n = strlen(*parts);
        a = mcl_fnv1a(mcl_fnv1a(a, &n, sizeof n), *parts, n);
        b = mcl_fnv1a(mcl_fnv1a(b, *parts, n), &n, sizeof n);
    }
    snprintf(out, MCL_CACHE_KEY_LEN + 1, "%016llx%016llx", (unsigned long long)a,
             (unsigned long long)b);
}

static mcl_status mkdir_p(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return mcl_error_set(MCL_ERR_IO, "cannot create directory %s: %s", path, strerror(errno));
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return mcl_error_set(MCL_ERR_IO, "cannot create directory %s: %s", path, strerror(errno));
    return MCL_OK;
}

mcl_status mcl_cache_dir(const char *override, char *out, size_t cap)
{
    const char *env;
    int n;
    if (override && *override) n = snprintf(out, cap, "%s", override);
    else if ((env = mcl_env_str("MAMBACL_CACHE_DIR"))) n = snprintf(out, cap, "%s", env);
    else if ((env = mcl_env_str("XDG_CACHE_HOME"))) n = snprintf(out, cap, "%s/mambacl", env);
    else if ((env = mcl_env_str("HOME"))) n = snprintf(out, cap, "%s/.cache/mambacl", env);
    else return mcl_error_set(MCL_ERR_IO, "no cache directory: set MAMBACL_CACHE_DIR or HOME");
    if (n < 0 || (size_t)n >= cap) return mcl_error_set(MCL_ERR_IO, "cache directory path too long");
    MCL_TRY(mkdir_p(out));
    struct stat sb;
    if (stat(out, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return mcl_error_set(MCL_ERR_IO, "cache directory %s is not a directory", out);
    return MCL_OK;
}

void mcl_cache_path(const char *dir, const char *tag, const char *key, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s-%s.bin", dir, tag, key);
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Reads a whole cache file (up to MAX_PAYLOAD + header). NULL on any failure:
 * a missing or bad cache file is a miss, not an error. */
static unsigned char *read_file(const char *path, size_t *len)
{
    char *buf = NULL;
    *len = 0;
    if (mcl_read_text_file(path, MAX_PAYLOAD + HEADER_LEN, &buf, len) != MCL_OK) return NULL;
    if (*len < HEADER_LEN) {
        free(buf);
        *len = 0;
        return NULL;
    }
    return (unsigned char *)buf;
}

int mcl_cache_load(const char *dir, const char *tag, const char *key, unsigned char **data,
                   size_t *len)
{
    char path[4096];
    size_t flen = 0;
    mcl_cache_path(dir, tag, key, path, sizeof path);
    *data = NULL;
    *len = 0;
    unsigned char *buf = read_file(path, &flen);
    if (!buf) {
        if (access(path, F_OK) == 0) unlink(path); /* unreadable or absurd size */
        return 0;
    }
    uint64_t plen = get_u64(buf + 8 + MCL_CACHE_KEY_LEN);
    uint64_t sum = get_u64(buf + 16 + MCL_CACHE_KEY_LEN);
    bool ok = memcmp(buf, MAGIC, 8) == 0 && memcmp(buf + 8, key, MCL_CACHE_KEY_LEN) == 0 &&
              plen == flen - HEADER_LEN && plen > 0 &&
              mcl_fnv1a(MCL_FNV_OFFSET, buf + HEADER_LEN, plen) == sum;
    if (!ok) {
        free(buf);
        unlink(path);
        return 0;
    }
    memmove(buf, buf + HEADER_LEN, plen);
    *data = buf;
    *len = plen;
    return 1;
}

mcl_status mcl_cache_store(const char *dir, const char *tag, const char *key,
                           const unsigned char *data, size_t len)
{
    char path[4096], tmp[4200];
    unsigned char header[HEADER_LEN];
    mcl_cache_path(dir, tag, key, path, sizeof path);
    /* Unique per process and per call: threads and processes storing the
     * same entry at once each write their own file; the last rename wins. */
    static atomic_uint serial;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&serial, 1));
    memcpy(header, MAGIC, 8);
    memcpy(header + 8, key, MCL_CACHE_KEY_LEN);
    put_u64(header + 8 + MCL_CACHE_KEY_LEN, len);
    put_u64(header + 16 + MCL_CACHE_KEY_LEN, mcl_fnv1a(MCL_FNV_OFFSET, data, len));
    FILE *f = fopen(tmp, "wbx");
    if (!f) return mcl_error_set(MCL_ERR_IO, "cannot write cache file %s: %s", tmp, strerror(errno));
    bool ok = fwrite(header, 1, sizeof header, f) == sizeof header && fwrite(data, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return mcl_error_set(MCL_ERR_IO, "cannot write cache file %s", path);
    }
    return MCL_OK;
}
