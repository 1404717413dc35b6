/* Sharded checkpoints: model.safetensors.index.json's weight_map names, for
 * every tensor, the shard file that holds it. The shards are opened and
 * checked against the map both ways, in O(n log n) for n tensors. */
#include "checkpoint/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/error.h"
#include "base/file.h"
#include "base/file.h"

#define MAX_SHARDS 4096
#define NAME_SHOWN 96

/* One weight_map entry: tensor name, shard file name, shard number. */
typedef struct entry {
    const char *tensor;
    const char *shard;
    int file;
} entry;

typedef struct index_state {
    const char *dir, *path;  /* the directory, the index file (for messages) */
    entry *e;                /* [n] sorted by tensor name */
    int n;
    mcl_st_file **files;     /* [n_files] */
    int n_files;
} index_state;

static int cmp_tensor(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->tensor, ((const entry *)b)->tensor);
}

static int cmp_shard(const void *a, const void *b)
{
    return strcmp((*(const entry *const *)a)->shard, (*(const entry *const *)b)->shard);
}

/* A shard name must be a plain file name inside the directory. */
static bool shard_name_ok(const char *s)
{
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) return false;
    return s[0] != '\0' && strchr(s, '/') == NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* weight_map → entries, every value a plain file name. */
static mcl_status collect(index_state *x, const cJSON *wm)
{
    char nb[NAME_SHOWN], sb[NAME_SHOWN];
    int n = cJSON_GetArraySize(wm);
    x->e = calloc((size_t)n + 1, sizeof *x->e);
    if (!x->e) return mcl_error_set(MCL_ERR_NOMEM, "%s: out of memory", x->path);
    for (const cJSON *v = wm->child; v; v = v->next) {
        if (!cJSON_IsString(v))
            return mcl_error_set(MCL_ERR_FORMAT, "%s: weight_map entry '%s' is not a file name string", x->path,
                                 mcl_printable(v->string, nb, sizeof nb));
        if (!shard_name_ok(v->valuestring))
            return mcl_error_set(MCL_ERR_FORMAT, "%s: shard name '%s' is not a plain file name", x->path,
                                 mcl_printable(v->valuestring, sb, sizeof sb));
        x->e[x->n++] = (entry){v->string, v->valuestring, -1};
    }
    return MCL_OK;
}

static mcl_status open_one(index_state *x, const char *shard)
{
    if (x->n_files >= MAX_SHARDS)
        return mcl_error_set(MCL_ERR_FORMAT, "%s: more than %d shards", x->path, MAX_SHARDS);
    mcl_st_file **p = realloc(x->files, (size_t)(x->n_files + 1) * sizeof *p);
    if (!p) return mcl_error_set(MCL_ERR_NOMEM, "%s: out of memory", x->path);
    x->files = p;
    size_t len = strlen(x->dir) + strlen(shard) + 2;
    char *path = malloc(len);
    if (!path) return mcl_error_set(MCL_ERR_NOMEM, "%s: out of memory", x->path);
    snprintf(path, len, "%s/%s", x->dir, shard);
    mcl_st_file *f = NULL;
    mcl_status st = mcl_st_open(path, &f);
    free(path);
    if (st != MCL_OK) return mcl_error_wrap(st, "%s: shard", x->path);
    x->files[x->n_files++] = f;
    return MCL_OK;
}

/* Opens each distinct shard once (in name order) and numbers the entries. */
static mcl_status open_shards(index_state *x)
{
    entry **by_shard = malloc(((size_t)x->n + 1) * sizeof *by_shard);
    if (!by_shard) return mcl_error_set(MCL_ERR_NOMEM, "%s: out of memory", x->path);
    for (int i = 0; i < x->n; i++) by_shard[i] = &x->e[i];
    qsort(by_shard, (size_t)x->n, sizeof *by_shard, cmp_shard);
    mcl_status st = MCL_OK;
    for (int i = 0; i < x->n && st == MCL_OK; i++) {
        if (i == 0 || strcmp(by_shard[i]->shard, by_shard[i - 1]->shard) != 0) st = open_one(x, by_shard[i]->shard);
        by_shard[i]->file = x->n_files - 1;
    }
    free(by_shard);
    return st;
}

/* Listed tensors are in their shards; shards hold nothing unlisted. */
static mcl_status check_both_ways(index_state *x)
{
    char nb[NAME_SHOWN], sb[NAME_SHOWN];
    qsort(x->e, (size_t)x->n, sizeof *x->e, cmp_tensor);
    for (int i = 0; i < x->n; i++) {
        if (i > 0 && strcmp(x->e[i].tensor, x->e[i - 1].tensor) == 0)
            return mcl_error_set(MCL_ERR_FORMAT, "%s: tensor '%s' appears twice in weight_map", x->path,
                                 mcl_printable(x->e[i].tensor, nb, sizeof nb));
        if (!mcl_st_find(x->files[x->e[i].file], x->e[i].tensor))
            return mcl_error_set(MCL_ERR_FORMAT, "%s: tensor '%s' is not in its shard %s", x->path,
                                 mcl_printable(x->e[i].tensor, nb, sizeof nb),
                                 mcl_printable(x->e[i].shard, sb, sizeof sb));
    }
    for (int f = 0; f < x->n_files; f++)
        for (int t = 0; t < x->files[f]->n_tensors; t++) {
            entry key = {.tensor = x->files[f]->tensors[t].name};
            const entry *e = bsearch(&key, x->e, (size_t)x->n, sizeof key, cmp_tensor);
            if (!e || e->file != f)
                return mcl_error_set(MCL_ERR_FORMAT, "%s: tensor '%s' of %s is not listed for it in weight_map",
                                     x->path, mcl_printable(key.tensor, nb, sizeof nb), x->files[f]->path);
        }
    return MCL_OK;
}

static mcl_status parse_index(index_state *x, const char *text, size_t len)
{
    cJSON *root = len ? cJSON_ParseWithLength(text, len) : NULL;
    if (!root) return mcl_error_set(MCL_ERR_FORMAT, "%s: not valid JSON", x->path);
    mcl_status st = MCL_OK;
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(root)) st = mcl_error_set(MCL_ERR_FORMAT, "%s: not a JSON object", x->path);
    else if (!wm) st = mcl_error_set(MCL_ERR_FORMAT, "%s: \"weight_map\" is missing", x->path);
    else if (!cJSON_IsObject(wm)) st = mcl_error_set(MCL_ERR_FORMAT, "%s: \"weight_map\" is not an object", x->path);
    else if (!wm->child) st = mcl_error_set(MCL_ERR_FORMAT, "%s: \"weight_map\" is empty", x->path);
    else if (mcl_json_has_nul(text, len))
        st = mcl_error_set(MCL_ERR_FORMAT, "%s: holds a NUL character (\\u0000 or a 0 byte) in a string", x->path);
    if (st == MCL_OK) st = collect(x, wm);
    if (st == MCL_OK) st = open_shards(x);
    if (st == MCL_OK) st = check_both_ways(x);
    cJSON_Delete(root);
    return st;
}

mcl_status mcl_st_open_index(const char *dir, const char *index_path, size_t cap, mcl_st_file ***files,
                             int *n_files)
{
    index_state x = {.dir = dir, .path = index_path};
    char *text = NULL;
    size_t len = 0;
    *files = NULL;
    *n_files = 0;
    MCL_TRY(mcl_read_text_file(index_path, cap, &text, &len));
    mcl_status st = parse_index(&x, text, len);
    free(text);
    free(x.e);
    if (st != MCL_OK) {
        for (int i = 0; i < x.n_files; i++) mcl_st_free(x.files[i]);
        free(x.files);
        return st;
    }
    *files = x.files;
    *n_files = x.n_files;
    return MCL_OK;
}
