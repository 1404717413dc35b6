/* A checkpoint directory: config.json, then the weights (one file or the
 * shards of an index), then the binding of every row of an architecture's
 * weight table that the config implies to its tensor, with shapes checked
 * and strays refused. Nothing here knows an architecture: the table comes
 * from src/model/arch_*.c through mcl_checkpoint_bind. */
#include "checkpoint/checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/dtype.h"
#include "base/file.h"

#define CONFIG_MAX_BYTES (1u << 20)   /* config.json */
#define INDEX_MAX_BYTES (64u << 20)   /* model.safetensors.index.json */
#define NAME_SHOWN 96

struct mcl_checkpoint {
    char *dir;                 /* without trailing '/' */
    char *weights_path;        /* model.safetensors or the index, for messages */
    mcl_config cfg;
    mcl_config_source src;
    mcl_st_file **files;       /* [n_files] */
    int n_files;
    const mcl_weight_table *wt; /* the bound table (not owned), NULL before binding */
    const mcl_tensor **table;  /* [mcl_weight_slots(wt, n_layer)], NULL = absent */
    uint64_t params;
    mcl_dtype dtype;
};

/* "DIR/name" in a new string. */
static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static mcl_status load_config(mcl_checkpoint *ck)
{
    char *path = join(ck->dir, "config.json"), *text = NULL;
    size_t len = 0;
    if (!path) return mcl_error_set(MCL_ERR_NOMEM, "out of memory");
    mcl_status st = mcl_read_text_file(path, CONFIG_MAX_BYTES, &text, &len);
    if (st == MCL_OK) st = mcl_config_parse(text, len, path, &ck->cfg, &ck->src);
    free(text);
    free(path);
    return st;
}

static mcl_status add_file(mcl_checkpoint *ck, mcl_st_file *f)
{
    mcl_st_file **p = realloc(ck->files, (size_t)(ck->n_files + 1) * sizeof *p);
    if (!p) {
        mcl_st_free(f);
        return mcl_error_set(MCL_ERR_NOMEM, "out of memory");
    }
    ck->files = p;
    ck->files[ck->n_files++] = f;
    return MCL_OK;
}

/* model.safetensors, else model.safetensors.index.json and its shards. */
static mcl_status load_weights(mcl_checkpoint *ck)
{
    struct stat sb;
    ck->weights_path = join(ck->dir, "model.safetensors");
    if (!ck->weights_path) return mcl_error_set(MCL_ERR_NOMEM, "out of memory");
    if (stat(ck->weights_path, &sb) == 0) {
        mcl_st_file *f = NULL;
        MCL_TRY(mcl_st_open(ck->weights_path, &f));
        return add_file(ck, f);
    }
    free(ck->weights_path);
    ck->weights_path = join(ck->dir, "model.safetensors.index.json");
    if (!ck->weights_path) return mcl_error_set(MCL_ERR_NOMEM, "out of memory");
    if (stat(ck->weights_path, &sb) != 0)
        return mcl_error_set(MCL_ERR_IO, "%s: neither model.safetensors nor model.safetensors.index.json is there",
                             ck->dir);
    return mcl_st_open_index(ck->dir, ck->weights_path, INDEX_MAX_BYTES, &ck->files, &ck->n_files);
}

/* The tensor name of row `sp` in `layer`: the form's own spelling, or the
 * other one when `other`. */
static void tensor_name(const mcl_checkpoint *ck, const mcl_weight_spec *sp, int layer, bool other,
                        char *buf, size_t cap)
{
    bool ss = ck->src.form == MCL_CONFIG_FORM_STATE_SPACES && sp->alt;
    const char *pat = (ss != other) && sp->alt ? sp->alt : sp->pattern;
    if (sp->scope == MCL_WSCOPE_LAYER) snprintf(buf, cap, pat, layer);
    else snprintf(buf, cap, "%s", pat);
}

static void shape_text(const int64_t *shape, int ndim, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

/* Finds `name` in the files; *file gets its file's index. */
static const mcl_tensor *find(const mcl_checkpoint *ck, const char *name, int *file)
{
    for (int i = 0; i < ck->n_files; i++) {
        const mcl_tensor *t = mcl_st_find(ck->files[i], name);
        if (t) return *file = i, t;
    }
    return NULL;
}

/* Binds one weight: present (when the config has it) with the implied shape. */
static mcl_status bind_one(mcl_checkpoint *ck, int id, int layer, unsigned char **claimed)
{
    const mcl_weight_spec *sp = &ck->wt->w[id];
    char name[128], want[96], got[96];
    int fi = 0;
    tensor_name(ck, sp, layer, false, name, sizeof name);
    const mcl_tensor *t = find(ck, name, &fi);
    if (!t && sp->alt) {
        tensor_name(ck, sp, layer, true, name, sizeof name);
        t = find(ck, name, &fi);
    }
    if (!mcl_weight_wanted(sp, &ck->cfg)) return MCL_OK; /* a present one stays unclaimed: reported as unexpected */
    if (!t) {
        tensor_name(ck, sp, layer, false, name, sizeof name);
        return mcl_error_set(MCL_ERR_FORMAT, "%s: tensor '%s' is missing", ck->weights_path, name);
    }
    int64_t shape[MCL_TENSOR_MAX_DIMS] = {1, 1, 1, 1};
    int nd = mcl_shape_eval(sp->shape, &ck->cfg, shape);
    MCL_ASSERT(nd > 0, "the shape expression of a weight table row evaluates");
    bool same = nd == t->ndim;
    for (int i = 0; i < nd && same; i++) same = shape[i] == t->shape[i];
    if (!same) {
        shape_text(shape, nd, want, sizeof want);
        shape_text(t->shape, t->ndim, got, sizeof got);
        return mcl_error_set(MCL_ERR_FORMAT, "%s: tensor '%s' has shape %s but config.json implies %s",
                             ck->files[fi]->path, name, got, want);
    }
    claimed[fi][t - ck->files[fi]->tensors] = 1;
    ck->table[mcl_weight_slot(ck->wt, id, layer)] = t;
    return MCL_OK;
}

/* Every tensor of every file was bound to a weight. */
static mcl_status check_unclaimed(const mcl_checkpoint *ck, unsigned char **claimed)
{
    char nb[NAME_SHOWN];
    for (int i = 0; i < ck->n_files; i++)
        for (int t = 0; t < ck->files[i]->n_tensors; t++)
            if (!claimed[i][t])
                return mcl_error_set(MCL_ERR_FORMAT,
                                     "%s: unexpected tensor '%s' (not part of the model config.json describes)",
                                     ck->files[i]->path, mcl_printable(ck->files[i]->tensors[t].name, nb, sizeof nb));
    return MCL_OK;
}

static mcl_status bind_all(mcl_checkpoint *ck, unsigned char **claimed)
{
    const mcl_weight_table *wt = ck->wt;
    for (int id = 0; id < wt->n_global; id++) MCL_TRY(bind_one(ck, id, 0, claimed));
    for (int l = 0; l < ck->cfg.n_layer; l++)
        for (int id = wt->n_global; id < wt->n; id++) MCL_TRY(bind_one(ck, id, l, claimed));
    return check_unclaimed(ck, claimed);
}

static mcl_status bind_weights(mcl_checkpoint *ck)
{
    size_t slots = mcl_weight_slots(ck->wt, ck->cfg.n_layer);
    ck->table = calloc(slots, sizeof *ck->table);
    unsigned char **claimed = calloc((size_t)ck->n_files, sizeof *claimed);
    mcl_status st = ck->table && claimed ? MCL_OK : mcl_error_set(MCL_ERR_NOMEM, "out of memory");
    for (int i = 0; i < ck->n_files && st == MCL_OK; i++)
        if (!(claimed[i] = calloc((size_t)ck->files[i]->n_tensors + 1, 1)))
            st = mcl_error_set(MCL_ERR_NOMEM, "out of memory");
    if (st == MCL_OK) st = bind_all(ck, claimed);
    for (int i = 0; claimed && i < ck->n_files; i++) free(claimed[i]);
    free(claimed);
    return st;
}

static uint64_t elements(const mcl_tensor *t) { return t->nbytes / mcl_dtype_size(t->dtype); }

/* Parameter count and the dtype holding most of them. */
static void summarize(mcl_checkpoint *ck)
{
    uint64_t by_dtype[3] = {0, 0, 0};
    size_t slots = mcl_weight_slots(ck->wt, ck->cfg.n_layer);
    for (size_t i = 0; i < slots; i++) {
        if (!ck->table[i]) continue;
        ck->params += elements(ck->table[i]);
        by_dtype[ck->table[i]->dtype] += elements(ck->table[i]);
    }
    ck->dtype = MCL_DTYPE_F32;
    for (int d = 1; d < 3; d++)
        if (by_dtype[d] > by_dtype[ck->dtype]) ck->dtype = (mcl_dtype)d;
}

static mcl_status check_dir(const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) != 0) return mcl_error_set(MCL_ERR_IO, "%s: cannot open model directory: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode)) return mcl_error_set(MCL_ERR_IO, "%s: not a directory", dir);
    return MCL_OK;
}

mcl_status mcl_checkpoint_read(const char *dir, mcl_checkpoint **out)
{
    if (!dir || !out) return mcl_error_set(MCL_ERR_INVALID_ARG, "mcl_checkpoint_open: NULL argument");
    *out = NULL;
    MCL_TRY(check_dir(dir));
    mcl_checkpoint *ck = calloc(1, sizeof *ck);
    if (!ck || !(ck->dir = strdup(dir))) {
        free(ck);
        return mcl_error_set(MCL_ERR_NOMEM, "out of memory");
    }
    for (size_t n = strlen(ck->dir); n > 1 && ck->dir[n - 1] == '/'; n--) ck->dir[n - 1] = '\0';
    mcl_status st = load_config(ck);
    if (st == MCL_OK) st = load_weights(ck);
    if (st != MCL_OK) {
        mcl_checkpoint_free(ck);
        return st;
    }
    *out = ck;
    return MCL_OK;
}

/* A table the binder can walk: globals first, every row's shape evaluates. */
static mcl_status check_table(const mcl_weight_table *t, const mcl_config *c)
{
    MCL_ASSERT(t && t->n > 0 && t->n_global >= 0 && t->n_global <= t->n, "a weight table with rows");
    for (int i = 0; i < t->n; i++) {
        int64_t shape[MCL_SHAPE_MAX_DIMS];
        MCL_ASSERT((t->w[i].scope == MCL_WSCOPE_GLOBAL) == (i < t->n_global), "global rows come first");
        MCL_ASSERT(mcl_shape_eval(t->w[i].shape, c, shape) > 0, "a weight's shape expression evaluates");
    }
    return MCL_OK;
}

mcl_status mcl_checkpoint_bind(mcl_checkpoint *ck, const mcl_weight_table *table)
{
    MCL_ASSERT(ck && !ck->wt, "a read checkpoint that is not bound yet");
    MCL_TRY(check_table(table, &ck->cfg));
    ck->wt = table;
    MCL_TRY(bind_weights(ck));
    summarize(ck);
    return MCL_OK;
}

void mcl_checkpoint_free(mcl_checkpoint *ck)
{
    if (!ck) return;
    for (int i = 0; i < ck->n_files; i++) mcl_st_free(ck->files[i]);
    free(ck->files);
    free(ck->table);
    free(ck->weights_path);
    free(ck->dir);
    free(ck);
}

const mcl_config *mcl_checkpoint_config(const mcl_checkpoint *ck) { return &ck->cfg; }

const mcl_config_source *mcl_checkpoint_source(const mcl_checkpoint *ck) { return &ck->src; }

int mcl_checkpoint_file_count(const mcl_checkpoint *ck) { return ck->n_files; }

uint64_t mcl_checkpoint_param_count(const mcl_checkpoint *ck) { return ck->params; }

mcl_dtype mcl_checkpoint_dtype(const mcl_checkpoint *ck) { return ck->dtype; }

const mcl_weight_table *mcl_checkpoint_table(const mcl_checkpoint *ck) { return ck->wt; }

const mcl_tensor *mcl_checkpoint_weight(const mcl_checkpoint *ck, int id, int layer)
{
    if (!ck || !ck->wt || !ck->table || id < 0 || id >= ck->wt->n) return NULL;
    if (id >= ck->wt->n_global && (layer < 0 || layer >= ck->cfg.n_layer)) return NULL;
    return ck->table[mcl_weight_slot(ck->wt, id, layer)];
}

uint64_t mcl_checkpoint_device_bytes(const mcl_checkpoint *ck, uint64_t *largest)
{
    uint64_t total = 0, big = 0;
    for (int l = 0; ck->wt && l < ck->cfg.n_layer; l++)
        for (int id = 0; id < ck->wt->n; id++) {
            if (id < ck->wt->n_global && l > 0) continue;
            const mcl_tensor *t = mcl_checkpoint_weight(ck, id, l);
            if (!t) continue;
            uint64_t b = ck->wt->w[id].store != MCL_WSTORE_NATIVE ? elements(t) * 4 : t->nbytes;
            total += b;
            if (b > big) big = b;
        }
    if (largest) *largest = big;
    return total;
}
