/* .safetensors reader: map, parse the JSON header with cJSON, validate every
 * entry (dtype, shape, byte range inside the data section, no overlap, no
 * duplicate name) before any tensor is used. */
#include "checkpoint/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/error.h"
#include "base/dtype.h"
#include "base/file.h"

#define NAME_SHOWN 96 /* characters of a tensor name quoted in messages */

const char *mcl_printable(const char *s, char *buf, size_t cap)
{
    size_t n = 0, len = strlen(s);
    for (; n + 1 < cap && s[n]; n++) buf[n] = ((unsigned char)s[n] < 0x20 || s[n] == 0x7f) ? '?' : s[n];
    buf[n] = '\0';
    if (n < len && cap > 4) memcpy(buf + cap - 4, "...", 4);
    return buf;
}

/* A JSON number that is a whole value in [0, 2^53]; false otherwise. */
static bool json_uint(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!isfinite(d) || d < 0 || d > 9007199254740992.0 || d != floor(d)) return false;
    *out = (uint64_t)d;
    return true;
}

static mcl_status parse_dtype(const char *path, const char *name, const cJSON *v, mcl_dtype *out)
{
    char nb[NAME_SHOWN], db[32];
    if (!cJSON_IsString(v))
        return mcl_error_set(MCL_ERR_FORMAT, "%s: tensor '%s': \"dtype\" is not a string", path,
                             mcl_printable(name, nb, sizeof nb));
    const char *s = v->valuestring;
    if (strcmp(s, "F32") == 0) *out = MCL_DTYPE_F32;
    else if (strcmp(s, "F16") == 0) *out = MCL_DTYPE_F16;
    else if (strcmp(s, "BF16") == 0) *out = MCL_DTYPE_BF16;
    else
        return mcl_error_set(MCL_ERR_UNSUPPORTED,
                             "%s: tensor '%s': dtype '%s' is not supported (F32, F16, BF16 only)", path,
                             mcl_printable(name, nb, sizeof nb), mcl_printable(s, db, sizeof db));
    return MCL_OK;
}

/* shape: an array of at most MCL_TENSOR_MAX_DIMS whole numbers; *count gets
 * the element count (overflow refused). */
static mcl_status parse_shape(const char *path, const char *name, const cJSON *v, mcl_tensor *t,
                              uint64_t *count)
{
    char nb[NAME_SHOWN];
    mcl_printable(name, nb, sizeof nb);
    if (!cJSON_IsArray(v))
        return mcl_error_set(MCL_ERR_FORMAT, "%s: tensor '%s': \"shape\" is not an array", path, nb);
    int n = cJSON_GetArraySize(v);
    if (n > MCL_TENSOR_MAX_DIMS)
        return mcl_error_set(MCL_ERR_UNSUPPORTED, "%s: tensor '%s' has %d dimensions (at most %d)", path,
                             nb, n, MCL_TENSOR_MAX_DIMS);
    uint64_t c = 1;
    t->ndim = n;
    for (int i = 0; i < MCL_TENSOR_MAX_DIMS; i++) t->shape[i] = 1;
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        uint64_t d;
        if (!json_uint(e, &d))
            return mcl_error_set(MCL_ERR_FORMAT,
                                 "%s: tensor '%s': shape entry %d is not a non-negative integer", path, nb, i);
        if (__builtin_mul_overflow(c, d, &c) || c > ((uint64_t)1 << 53))
            return mcl_error_set(MCL_ERR_FORMAT, "%s: tensor '%s': shape element count overflows", path, nb);
        t->shape[i] = (int64_t)d;
    }
    *count = c;
    return MCL_OK;
}

/* data_offsets: [begin, end], begin <= end <= data_size. */
static mcl_status parse_offsets(const char *path, const char *name, const cJSON *v, uint64_t data_size,
                                uint64_t *begin, uint64_t *end)
{
    char nb[NAME_SHOWN];
    mcl_printable(name, nb, sizeof nb);
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2 || !json_uint(v->child, begin) ||
        !json_uint(v->child->next, end))
        return mcl_error_set(MCL_ERR_FORMAT,
                             "%s: tensor '%s': \"data_offsets\" is not a pair of non-negative integers",
                             path, nb);
    if (*begin > *end)
        return mcl_error_set(MCL_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] are reversed",
                             path, nb, (unsigned long long)*begin, (unsigned long long)*end);
    if (*end > data_size)
        return mcl_error_set(MCL_ERR_FORMAT,
                             "%s: tensor '%s': data_offsets [%llu, %llu] reach past the data section "
                             "(%llu bytes; truncated file?)",
                             path, nb, (unsigned long long)*begin, (unsigned long long)*end,
                             (unsigned long long)data_size);
    return MCL_OK;
}

/* Fills t from one header entry; data points at data + begin. */
static mcl_status parse_entry(const char *path, const cJSON *e, const uint8_t *data, uint64_t data_size,
                              mcl_tensor *t, uint64_t *begin)
{
    char nb[NAME_SHOWN];
    const char *name = e->string;
    if (!cJSON_IsObject(e))
        return mcl_error_set(MCL_ERR_FORMAT, "%s: tensor '%s': entry is not an object", path,
                             mcl_printable(name, nb, sizeof nb));
    uint64_t count = 0, end = 0;
    MCL_TRY(parse_dtype(path, name, cJSON_GetObjectItemCaseSensitive(e, "dtype"), &t->dtype));
    MCL_TRY(parse_shape(path, name, cJSON_GetObjectItemCaseSensitive(e, "shape"), t, &count));
    MCL_TRY(parse_offsets(path, name, cJSON_GetObjectItemCaseSensitive(e, "data_offsets"), data_size,
                          begin, &end));
    if (count * mcl_dtype_size(t->dtype) != end - *begin)
        return mcl_error_set(MCL_ERR_FORMAT,
                             "%s: tensor '%s': shape x %s size is %llu bytes but data_offsets span %llu",
                             path, mcl_printable(name, nb, sizeof nb), mcl_dtype_name(t->dtype),
                             (unsigned long long)(count * mcl_dtype_size(t->dtype)),
                             (unsigned long long)(end - *begin));
    t->data = data + *begin;
    t->nbytes = (size_t)(end - *begin);
    return MCL_OK;
}

typedef struct range {
    uint64_t begin, end;
    const char *name;
} range;

static int cmp_range(const void *a, const void *b)
{
    const range *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

static int cmp_tensor(const void *a, const void *b)
{
    return strcmp(((const mcl_tensor *)a)->name, ((const mcl_tensor *)b)->name);
}

/* No two non-empty ranges share a byte. */
static mcl_status check_overlap(const char *path, range *rs, int n)
{
    char na[NAME_SHOWN], nb[NAME_SHOWN];
    qsort(rs, (size_t)n, sizeof *rs, cmp_range);
    uint64_t reach = 0;
    const char *owner = NULL;
    for (int i = 0; i < n; i++) {
        if (rs[i].begin == rs[i].end) continue;
        if (owner && rs[i].begin < reach)
            return mcl_error_set(MCL_ERR_FORMAT, "%s: tensors '%s' and '%s' have overlapping data ranges",
                                 path, mcl_printable(owner, na, sizeof na), mcl_printable(rs[i].name, nb, sizeof nb));
        reach = rs[i].end;
        owner = rs[i].name;
    }
    return MCL_OK;
}

/* Names sorted, then duplicates refused (cJSON keeps repeated keys). */
static mcl_status check_names(const char *path, mcl_tensor *ts, int n)
{
    char nb[NAME_SHOWN];
    qsort(ts, (size_t)n, sizeof *ts, cmp_tensor);
    for (int i = 1; i < n; i++)
        if (strcmp(ts[i - 1].name, ts[i].name) == 0)
            return mcl_error_set(MCL_ERR_FORMAT, "%s: tensor '%s' appears twice in the header", path,
                                 mcl_printable(ts[i].name, nb, sizeof nb));
    return MCL_OK;
}

/* Counts the entries and the bytes of their names; checks __metadata__. */
static mcl_status scan_header(const char *path, const cJSON *root, int *n, size_t *name_bytes)
{
    *n = 0;
    *name_bytes = 0;
    for (const cJSON *e = root->child; e; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (!cJSON_IsObject(e) && !cJSON_IsNull(e))
                return mcl_error_set(MCL_ERR_FORMAT, "%s: \"__metadata__\" is not an object", path);
            continue;
        }
        if (++*n > MCL_ST_MAX_TENSORS)
            return mcl_error_set(MCL_ERR_FORMAT, "%s: more than %d tensors", path, MCL_ST_MAX_TENSORS);
        *name_bytes += strlen(e->string) + 1;
    }
    return MCL_OK;
}

/* Builds the tensor table of a parsed header. */
static mcl_status build_table(mcl_st_file *f, const cJSON *root, const uint8_t *data, uint64_t data_size)
{
    int n = 0;
    size_t name_bytes = 0;
    MCL_TRY(scan_header(f->path, root, &n, &name_bytes));
    f->tensors = calloc((size_t)n + 1, sizeof *f->tensors);
    f->names = malloc(name_bytes + 1);
    range *rs = calloc((size_t)n + 1, sizeof *rs);
    if (!f->tensors || !f->names || !rs) {
        free(rs);
        return mcl_error_set(MCL_ERR_NOMEM, "%s: out of memory for %d tensor records", f->path, n);
    }
    char *np = f->names;
    mcl_status st = MCL_OK;
    for (const cJSON *e = root->child; e && st == MCL_OK; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) continue;
        mcl_tensor *t = &f->tensors[f->n_tensors];
        size_t len = strlen(e->string) + 1;
        memcpy(np, e->string, len);
        t->name = np;
        np += len;
        st = parse_entry(f->path, e, data, data_size, t, &rs[f->n_tensors].begin);
        rs[f->n_tensors].end = rs[f->n_tensors].begin + t->nbytes;
        rs[f->n_tensors].name = t->name;
        f->n_tensors++;
    }
    if (st == MCL_OK) st = check_names(f->path, f->tensors, f->n_tensors);
    if (st == MCL_OK) st = check_overlap(f->path, rs, f->n_tensors);
    free(rs);
    return st;
}

/* Header length and JSON, then the table. */
static mcl_status parse_image(mcl_st_file *f, const uint8_t *buf, size_t size)
{
    if (size < 8)
        return mcl_error_set(MCL_ERR_FORMAT, "%s: file is %zu bytes, too short for the 8-byte header length",
                             f->path, size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | buf[i];
    if (hlen == 0) return mcl_error_set(MCL_ERR_FORMAT, "%s: header length is 0", f->path);
    if (hlen > size - 8)
        return mcl_error_set(MCL_ERR_FORMAT, "%s: header length %llu reaches past the end of the file (%zu bytes)",
                             f->path, (unsigned long long)hlen, size);
    if (hlen > MCL_ST_MAX_HEADER)
        return mcl_error_set(MCL_ERR_FORMAT, "%s: header length %llu is above the %u-byte limit", f->path,
                             (unsigned long long)hlen, MCL_ST_MAX_HEADER);
    const char *json = (const char *)buf + 8, *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, (size_t)hlen, &end, 0);
    if (!root) return mcl_error_set(MCL_ERR_FORMAT, "%s: header is not valid JSON", f->path);
    while (end && end < json + hlen && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t')) end++;
    if (end != json + hlen) {
        cJSON_Delete(root);
        return mcl_error_set(MCL_ERR_FORMAT, "%s: header has bytes after its JSON value", f->path);
    }
    mcl_status st = MCL_OK;
    if (!cJSON_IsObject(root))
        st = mcl_error_set(MCL_ERR_FORMAT, "%s: header JSON is not an object", f->path);
    else if (mcl_json_has_nul(json, (size_t)hlen))
        st = mcl_error_set(MCL_ERR_FORMAT, "%s: header holds a NUL character (\\u0000 or a 0 byte) in a string: "
                           "names and values may not contain one", f->path);
    else
        st = build_table(f, root, buf + 8 + hlen, (uint64_t)(size - 8 - hlen));
    cJSON_Delete(root);
    return st;
}

static mcl_status file_new(const char *label, mcl_st_file **out)
{
    *out = calloc(1, sizeof **out);
    if (*out) (*out)->path = strdup(label);
    if (!*out || !(*out)->path) {
        mcl_st_free(*out);
        *out = NULL;
        return mcl_error_set(MCL_ERR_NOMEM, "out of memory");
    }
    return MCL_OK;
}

mcl_status mcl_st_parse(const void *buf, size_t size, const char *label, mcl_st_file **out)
{
    mcl_st_file *f = NULL;
    *out = NULL;
    MCL_TRY(file_new(label, &f));
    mcl_status st = parse_image(f, buf, size);
    if (st != MCL_OK) mcl_st_free(f);
    else *out = f;
    return st;
}

/* Reads a regular file of at least 8 bytes into an anonymous mapping (not a
 * mapping of the file: a file truncated or rewritten by another process
 * while we hold it would kill the process with SIGBUS on the next access;
 * a copy cannot change under us, and a file that shrinks while it is read
 * is a clean error). */
static mcl_status map_file(mcl_st_file *f)
{
    int fd = -1;
    struct stat sb;
    MCL_TRY(mcl_open_regular(f->path, &fd, &sb));
    mcl_status st = MCL_OK;
    if (sb.st_size < 8)
        st = mcl_error_set(MCL_ERR_FORMAT, "%s: file is %lld bytes, too short for the 8-byte header length",
                           f->path, (long long)sb.st_size);
    else if ((uint64_t)sb.st_size > SIZE_MAX / 2)
        st = mcl_error_set(MCL_ERR_FORMAT, "%s: %lld bytes is too large", f->path, (long long)sb.st_size);
    size_t size = st == MCL_OK ? (size_t)sb.st_size : 0, got = 0;
    void *p = MAP_FAILED;
    if (st == MCL_OK) {
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            st = mcl_error_set(MCL_ERR_NOMEM, "%s: no host memory for its %zu bytes: %s", f->path, size,
                               strerror(errno));
    }
    while (st == MCL_OK && got < size) {
        size_t want = size - got < (1u << 30) ? size - got : (1u << 30);
        ssize_t r = pread(fd, (char *)p + got, want, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) st = mcl_error_set(MCL_ERR_IO, "%s: read failed: %s", f->path, strerror(errno));
        else if (r == 0)
            st = mcl_error_set(MCL_ERR_IO, "%s: the file shrank from %zu to %zu bytes while it was read "
                               "(truncated or replaced by another process?)", f->path, size, got);
        else got += (size_t)r;
    }
    close(fd);
    if (st != MCL_OK) {
        if (p != MAP_FAILED) munmap(p, size);
        return st;
    }
    mprotect(p, size, PROT_READ); /* the tensors are read-only from here on */
    f->map = p;
    f->map_size = size;
    return MCL_OK;
}

mcl_status mcl_st_open(const char *path, mcl_st_file **out)
{
    mcl_st_file *f = NULL;
    *out = NULL;
    MCL_TRY(file_new(path, &f));
    mcl_status st = map_file(f);
    if (st == MCL_OK) st = parse_image(f, f->map, f->map_size);
    if (st != MCL_OK) mcl_st_free(f);
    else *out = f;
    return st;
}

void mcl_st_free(mcl_st_file *f)
{
    if (!f) return;
    if (f->map) munmap(f->map, f->map_size);
    free(f->tensors);
    free(f->names);
    free(f->path);
    free(f);
}

const mcl_tensor *mcl_st_find(const mcl_st_file *f, const char *name)
{
    if (!f || f->n_tensors == 0) return NULL;
    mcl_tensor key = {.name = name};
    return bsearch(&key, f->tensors, (size_t)f->n_tensors, sizeof key, cmp_tensor);
}
