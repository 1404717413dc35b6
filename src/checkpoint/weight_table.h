/* The table of an architecture's weights: what the checkpoint binds and
 * checks, what the host weights hold, what the model uploads and how many
 * device bytes it plans for. One row per weight; an architecture
 * (src/model/arch_*.c) owns one table. This header only defines the row and
 * the shape expressions, so that the checkpoint (below the model) can bind a
 * table without knowing any architecture. */
#ifndef MCL_WEIGHT_TABLE_H
#define MCL_WEIGHT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mambacl.h"

#define MCL_SHAPE_MAX_DIMS 4

typedef enum mcl_wscope {
    MCL_WSCOPE_GLOBAL, /* one tensor for the model */
    MCL_WSCOPE_LAYER   /* one tensor per layer ("%d" in the pattern is the layer) */
} mcl_wscope;

/* How a weight is kept on the device. */
typedef enum mcl_wstore {
    MCL_WSTORE_NATIVE, /* big: a matrix in the checkpoint's dtype (F32, F16 or BF16) */
    MCL_WSTORE_F32,    /* small: converted to fp32 on upload */
    MCL_WSTORE_NEG_EXP /* small: fp32 of -exp(v) (A = -exp(A_log)) */
} mcl_wstore;

/* When the config implies the weight (else it must be absent). */
typedef enum mcl_wwhen {
    MCL_WWHEN_ALWAYS,
    MCL_WWHEN_CONV_BIAS, /* cfg.conv_bias */
    MCL_WWHEN_UNTIED     /* !cfg.tie_embeddings (the LM head) */
} mcl_wwhen;

/* How mcl_weights_random draws a weight (value i of n). */
typedef enum mcl_winit {
    MCL_WINIT_UNIFORM, /* base + scale * U(-1, 1) */
    MCL_WINIT_DT_BIAS, /* softplus^-1 of a log-uniform dt in [1e-3, 1e-1] */
    MCL_WINIT_A_LOG    /* log(1 + i % last dim): A = -(1..N) */
} mcl_winit;

typedef struct mcl_weight_spec {
    const char *name;    /* short name for messages: "in_proj.weight" */
    const char *pattern; /* tensor name; %d = the layer: "backbone.layers.%d.mixer.in_proj.weight" */
    const char *alt;     /* the state-spaces spelling when it differs (either is accepted), else NULL */
    const char *shape;   /* in config terms, outermost first: "2*d_inner, d_model" (see below) */
    mcl_wscope scope;
    mcl_wstore store;
    mcl_wwhen when;
    bool split;          /* may span several buffers, split by rows (embedding, LM head) */
    mcl_winit init;
    float base, scale;   /* MCL_WINIT_UNIFORM parameters */
    bool fan_in;         /* scale / sqrt(last dim) */
} mcl_weight_spec;

/* Rows with scope GLOBAL first, then the per-layer rows. */
typedef struct mcl_weight_table {
    const mcl_weight_spec *w; /* [n] */
    int n;
    int n_global;             /* rows [0, n_global) are global */
} mcl_weight_table;

/* Evaluates a shape expression against the config: comma-separated
 * dimensions, each a sum/difference of products of integers and config
 * fields (d_model, n_layer, d_inner, d_state, d_conv, dt_rank, vocab_size).
 * Fills shape[0..ndim) and returns ndim, or -1 when the expression is
 * malformed or a dimension is not positive (a bug in a table). */
int mcl_shape_eval(const char *expr, const mcl_config *c, int64_t shape[MCL_SHAPE_MAX_DIMS]);

/* The product of the dimensions of `expr`, or 0 when it does not evaluate. */
uint64_t mcl_shape_elems(const char *expr, const mcl_config *c);

/* Whether the config implies row `s`. */
bool mcl_weight_wanted(const mcl_weight_spec *s, const mcl_config *c);

/* Slots of one model: globals, then n_layer blocks of the per-layer rows. */
static inline size_t mcl_weight_slots(const mcl_weight_table *t, int n_layer)
{
    return (size_t)t->n_global + (size_t)n_layer * (size_t)(t->n - t->n_global);
}

/* The slot of row `id` in `layer` (ignored for globals). */
static inline size_t mcl_weight_slot(const mcl_weight_table *t, int id, int layer)
{
    if (id < t->n_global) return (size_t)id;
    return (size_t)t->n_global + (size_t)layer * (size_t)(t->n - t->n_global) + (size_t)(id - t->n_global);
}

#endif
