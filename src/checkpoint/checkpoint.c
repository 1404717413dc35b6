/* A checkpoint directory: config.json, then the weights (one file or the
 * shards of an index), then the binding of every weight the config implies
 * to its tensor, with shapes checked and strays refused. */
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
    const mcl_tensor **table;  /* [3 + n_layer * per-layer ids], NULL = absent */
    uint64_t params;
    mcl_dtype dtype;
};

static const char *const weight_names[MCL_W_COUNT] = {
    "embeddings.weight", "norm_f.weight", "lm_head.weight", "norm.weight", "in_proj.weight",
    "conv1d.weight", "conv1d.bias", "x_proj.weight", "dt_proj.weight", "dt_proj.bias", "A_log", "D",
    "out_proj.weight",
};

const char *mcl_weight_name(mcl_weight id) { return id < MCL_W_COUNT ? weight_names[id] : "?"; }

bool mcl_weight_is_small(mcl_weight id)
{
    return id == MCL_W_NORM_F || id == MCL_W_NORM || id == MCL_W_CONV_W || id == MCL_W_CONV_B ||
           id == MCL_W_DT_B || id == MCL_W_A_LOG || id == MCL_W_D;
}

#define PER_LAYER (MCL_W_COUNT - MCL_W_FIRST_LAYER)

static size_t table_slot(mcl_weight id, int layer)
{
    return id < MCL_W_FIRST_LAYER ? (size_t)id
                                  : MCL_W_FIRST_LAYER + (size_t)layer * PER_LAYER + (id - MCL_W_FIRST_LAYER);
}

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

/* The file name and shape the config implies for one weight. */
static int expected_shape(const mcl_checkpoint *ck, mcl_weight id, int64_t shape[MCL_TENSOR_MAX_DIMS])
{
    const mcl_config *c = &ck->cfg;
    int64_t D = c->d_model, E = c->d_inner, N = c->d_state, R = c->dt_rank, V = c->vocab_size;
    switch (id) {
    case MCL_W_EMBED: case MCL_W_LM_HEAD: shape[0] = V, shape[1] = D; return 2;
    case MCL_W_NORM_F: case MCL_W_NORM: shape[0] = D; return 1;
    case MCL_W_IN_PROJ: shape[0] = 2 * E, shape[1] = D; return 2;
    case MCL_W_CONV_W: shape[0] = E, shape[1] = 1, shape[2] = c->d_conv; return 3;
    case MCL_W_CONV_B: case MCL_W_DT_B: case MCL_W_D: shape[0] = E; return 1;
    case MCL_W_X_PROJ: shape[0] = R + 2 * N, shape[1] = E; return 2;
    case MCL_W_DT_W: shape[0] = E, shape[1] = R; return 2;
    case MCL_W_A_LOG: shape[0] = E, shape[1] = N; return 2;
    case MCL_W_OUT_PROJ: shape[0] = D, shape[1] = E; return 2;
    case MCL_W_COUNT: break;
    }
    return 0;
}

static void tensor_name(const mcl_checkpoint *ck, mcl_weight id, int layer, bool alt, char *buf, size_t cap)
{
    if (id == MCL_W_EMBED) {
        bool ss = (ck->src.form == MCL_CONFIG_FORM_STATE_SPACES) != alt;
        snprintf(buf, cap, "backbone.%s.weight", ss ? "embedding" : "embeddings");
    } else if (id == MCL_W_NORM_F) snprintf(buf, cap, "backbone.norm_f.weight");
    else if (id == MCL_W_LM_HEAD) snprintf(buf, cap, "lm_head.weight");
    else if (id == MCL_W_NORM) snprintf(buf, cap, "backbone.layers.%d.norm.weight", layer);
    else snprintf(buf, cap, "backbone.layers.%d.mixer.%s", layer, weight_names[id]);
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
static mcl_status bind_one(mcl_checkpoint *ck, mcl_weight id, int layer, unsigned char **claimed)
{
    char name[128], want[96], got[96];
    int fi = 0;
    tensor_name(ck, id, layer, false, name, sizeof name);
    const mcl_tensor *t = find(ck, name, &fi);
    if (!t && id == MCL_W_EMBED) {
        tensor_name(ck, id, layer, true, name, sizeof name);
        t = find(ck, name, &fi);
    }
    bool wanted = !(id == MCL_W_LM_HEAD && ck->cfg.tie_embeddings) && !(id == MCL_W_CONV_B && !ck->cfg.conv_bias);
    if (!wanted) return MCL_OK; /* a present one stays unclaimed: reported as unexpected */
    if (!t) {
        if (id == MCL_W_EMBED) tensor_name(ck, id, layer, false, name, sizeof name);
        return mcl_error_set(MCL_ERR_FORMAT, "%s: tensor '%s' is missing", ck->weights_path, name);
    }
    int64_t shape[MCL_TENSOR_MAX_DIMS] = {1, 1, 1, 1};
    int nd = expected_shape(ck, id, shape);
    bool same = nd == t->ndim;
    for (int i = 0; i < nd && same; i++) same = shape[i] == t->shape[i];
    if (!same) {
        shape_text(shape, nd, want, sizeof want);
        shape_text(t->shape, t->ndim, got, sizeof got);
        return mcl_error_set(MCL_ERR_FORMAT, "%s: tensor '%s' has shape %s but config.json implies %s",
                             ck->files[fi]->path, name, got, want);
    }
    claimed[fi][t - ck->files[fi]->tensors] = 1;
    ck->table[table_slot(id, layer)] = t;
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
    for (int id = 0; id < MCL_W_FIRST_LAYER; id++) MCL_TRY(bind_one(ck, (mcl_weight)id, 0, claimed));
    for (int l = 0; l < ck->cfg.n_layer; l++)
        for (int id = MCL_W_FIRST_LAYER; id < MCL_W_COUNT; id++) MCL_TRY(bind_one(ck, (mcl_weight)id, l, claimed));
    return check_unclaimed(ck, claimed);
}

static mcl_status bind_weights(mcl_checkpoint *ck)
{
    size_t slots = MCL_W_FIRST_LAYER + (size_t)ck->cfg.n_layer * PER_LAYER;
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
    size_t slots = MCL_W_FIRST_LAYER + (size_t)ck->cfg.n_layer * PER_LAYER;
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

mcl_status mcl_checkpoint_open(const char *dir, mcl_checkpoint **out)
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
    if (st == MCL_OK) st = bind_weights(ck);
    if (st != MCL_OK) {
        mcl_checkpoint_free(ck);
        return st;
    }
    summarize(ck);
    *out = ck;
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

const mcl_tensor *mcl_checkpoint_weight(const mcl_checkpoint *ck, mcl_weight id, int layer)
{
    if (!ck || (int)id < 0 || id >= MCL_W_COUNT) return NULL;
    if (id >= MCL_W_FIRST_LAYER && (layer < 0 || layer >= ck->cfg.n_layer)) return NULL;
    return ck->table[table_slot(id, id >= MCL_W_FIRST_LAYER ? layer : 0)];
}

uint64_t mcl_checkpoint_device_bytes(const mcl_checkpoint *ck, uint64_t *largest)
{
    uint64_t total = 0, big = 0;
    for (int l = 0; l < ck->cfg.n_layer; l++)
        for (int id = 0; id < MCL_W_COUNT; id++) {
            if (id < MCL_W_FIRST_LAYER && l > 0) continue;
            const mcl_tensor *t = mcl_checkpoint_weight(ck, (mcl_weight)id, l);
            if (!t) continue;
            uint64_t b = mcl_weight_is_small((mcl_weight)id) ? elements(t) * 4 : t->nbytes;
            total += b;
            if (b > big) big = b;
        }
    if (largest) *largest = big;
    return total;
}
