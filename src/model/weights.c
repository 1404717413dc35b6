/* Host-side weights: from a checkpoint or from a seeded random generator. */
#include "model/weights.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint/checkpoint.h"
#include "base/error.h"
#include "base/half.h"

static size_t mcl_round8(size_t n) { return (n + 7) / 8 * 8; }

/* Element i, read with memcpy: a checkpoint's data offsets need not be
 * aligned (safetensors allows any offset), and a cast load would be UB. */
float mcl_host_tensor_get(const mcl_host_tensor *t, size_t i)
{
    const unsigned char *p = t->data;
    uint16_t h;
    float f;
    switch (t->dtype) {
    case MCL_DTYPE_F16: memcpy(&h, p + 2 * i, 2); return mcl_half_to_float(h);
    case MCL_DTYPE_BF16: memcpy(&h, p + 2 * i, 2); return mcl_bf16_to_float(h);
    default: memcpy(&f, p + 4 * i, 4); return f;
    }
}

/* ---- from a checkpoint -------------------------------------------------- */

/* Slot `slot` of w from row `id` of the checkpoint in `layer`. */
static mcl_status take(mcl_weights *w, mcl_checkpoint *ck, int id, int layer)
{
    const mcl_weight_spec *sp = &w->arch->weights.w[id];
    mcl_host_tensor *out = &w->t[mcl_weight_slot(&w->arch->weights, id, layer)];
    const mcl_tensor *t = mcl_checkpoint_weight(ck, id, layer);
    memset(out, 0, sizeof *out);
    if (!t) {
        if (!mcl_weight_wanted(sp, &w->cfg)) return MCL_OK;
        return mcl_error_set(MCL_ERR_FORMAT, "checkpoint has no %s for layer %d", sp->name, layer);
    }
    size_t n = t->nbytes / mcl_half_dtype_size(t->dtype), want = mcl_shape_elems(sp->shape, &w->cfg);
    if (n != want)
        return mcl_error_set(MCL_ERR_FORMAT, "tensor %s has %zu elements, the config implies %zu",
                             t->name, n, want);
    out->dtype = t->dtype;
    out->data = t->data;
    out->n = n;
    return MCL_OK;
}

static mcl_status weights_from_checkpoint(mcl_weights *w, mcl_checkpoint *ck)
{
    const mcl_config *c = mcl_checkpoint_config(ck);
    w->cfg = *c;
    MCL_TRY(mcl_config_check(c));
    MCL_TRY(mcl_arch_get(c, &w->arch));
    const mcl_weight_table *wt = &w->arch->weights;
    MCL_ASSERT(mcl_checkpoint_table(ck) == wt, "the checkpoint is bound to its architecture's table");
    w->t = calloc(mcl_weight_slots(wt, c->n_layer), sizeof *w->t);
    if (!w->t) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    for (int id = 0; id < wt->n_global; id++) MCL_TRY(take(w, ck, id, 0));
    for (int l = 0; l < c->n_layer; l++)
        for (int id = wt->n_global; id < wt->n; id++) MCL_TRY(take(w, ck, id, l));
    return MCL_OK;
}

mcl_status mcl_weights_open(const char *dir, mcl_weights **out)
{
    *out = NULL;
    mcl_checkpoint *ck = NULL;
    MCL_TRY(mcl_checkpoint_open(dir, &ck));
    mcl_weights *w = calloc(1, sizeof *w);
    if (!w) {
        mcl_checkpoint_free(ck);
        return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    }
    w->checkpoint = ck;
    mcl_status st = weights_from_checkpoint(w, ck);
    if (st != MCL_OK) {
        mcl_weights_free(w);
        return st;
    }
    *out = w;
    return MCL_OK;
}

void mcl_weights_free(mcl_weights *w)
{
    if (!w) return;
    if (w->checkpoint) mcl_checkpoint_free(w->checkpoint);
    free(w->t);
    free(w->arena);
    free(w);
}

/* ---- random --------------------------------------------------------------- */

typedef struct rng_fill {
    uint64_t s;       /* splitmix64 state */
    char *arena;      /* next free byte */
    mcl_dtype dtype;
} rng_fill;

static double rng_uniform(rng_fill *g) /* [0, 1) */
{
    uint64_t z = (g->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

static void store(rng_fill *g, size_t i, float v)
{
    if (g->dtype == MCL_DTYPE_F16) ((uint16_t *)g->arena)[i] = mcl_half_from_float(v);
    else if (g->dtype == MCL_DTYPE_BF16) ((uint16_t *)g->arena)[i] = mcl_bf16_from_float(v);
    else ((float *)g->arena)[i] = v;
}

/* Places row `sp` (n elements, last dimension `last`) in the arena, by its
 * init rule (weight_table.h). */
static void fill(rng_fill *g, mcl_host_tensor *t, const mcl_weight_spec *sp, size_t n, size_t last)
{
    float scale = sp->fan_in ? sp->scale / sqrtf((float)last) : sp->scale;
    t->dtype = g->dtype;
    t->data = g->arena;
    t->n = n;
    for (size_t i = 0; i < n; i++) {
        double v;
        if (sp->init == MCL_WINIT_DT_BIAS) {
            double dt = exp(log(1e-3) + rng_uniform(g) * (log(1e-1) - log(1e-3)));
            v = dt + log(-expm1(-dt));
        } else if (sp->init == MCL_WINIT_A_LOG) {
            v = log(1.0 + (double)(i % last));
        } else {
            v = sp->base + scale * (2.0 * rng_uniform(g) - 1.0);
        }
        store(g, i, (float)v);
    }
    g->arena += mcl_round8(n * mcl_half_dtype_size(g->dtype));
}

/* Row `id` in `layer`, unless the config has none. */
static void fill_row(rng_fill *g, mcl_weights *w, int id, int layer)
{
    const mcl_weight_spec *sp = &w->arch->weights.w[id];
    if (!mcl_weight_wanted(sp, &w->cfg)) return;
    int64_t shape[MCL_SHAPE_MAX_DIMS];
    int nd = mcl_shape_eval(sp->shape, &w->cfg, shape);
    size_t n = (size_t)mcl_shape_elems(sp->shape, &w->cfg);
    fill(g, &w->t[mcl_weight_slot(&w->arch->weights, id, layer)], sp, n, (size_t)shape[nd - 1]);
}

/* Elements of every tensor the config implies, and their count. */
static size_t total_elems(const mcl_weights *w, size_t *tensors)
{
    const mcl_weight_table *wt = &w->arch->weights;
    size_t elems = 0;
    *tensors = 0;
    for (int id = 0; id < wt->n; id++) {
        if (!mcl_weight_wanted(&wt->w[id], &w->cfg)) continue;
        size_t copies = wt->w[id].scope == MCL_WSCOPE_LAYER ? (size_t)w->cfg.n_layer : 1;
        elems += copies * (size_t)mcl_shape_elems(wt->w[id].shape, &w->cfg);
        *tensors += copies;
    }
    return elems;
}

mcl_status mcl_weights_random(const mcl_config *cfg, mcl_dtype dtype, uint64_t seed,
                              mcl_weights **out)
{
    *out = NULL;
    MCL_TRY(mcl_config_check(cfg));
    if (dtype != MCL_DTYPE_F32 && dtype != MCL_DTYPE_F16 && dtype != MCL_DTYPE_BF16)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "unknown weight dtype %d", (int)dtype);
    const mcl_arch *arch = NULL;
    MCL_TRY(mcl_arch_get(cfg, &arch));
    const mcl_weight_table *wt = &arch->weights;
    size_t tensors = 0, elems = 0;
    mcl_weights *w = calloc(1, sizeof *w);
    if (w) {
        w->cfg = *cfg;
        w->arch = arch;
        elems = total_elems(w, &tensors);
        w->t = calloc(mcl_weight_slots(wt, cfg->n_layer), sizeof *w->t);
    }
    /* every tensor rounded up to 8 bytes */
    if (w && w->t) w->arena = malloc(elems * mcl_half_dtype_size(dtype) + tensors * 8);
    if (!w || !w->t || !w->arena) {
        mcl_weights_free(w);
        return mcl_error_set(MCL_ERR_NOMEM, "out of host memory for %zu random weights", elems);
    }
    rng_fill g = {seed * 0x2545F4914F6CDD1Dull + 1, w->arena, dtype};
    for (int id = 0; id < wt->n_global; id++) fill_row(&g, w, id, 0);
    for (int l = 0; l < cfg->n_layer; l++)
        for (int id = wt->n_global; id < wt->n; id++) fill_row(&g, w, id, l);
    *out = w;
    return MCL_OK;
}
