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

mcl_status mcl_config_check(const mcl_config *c)
{
    if (c->d_model <= 0 || c->n_layer <= 0 || c->d_inner <= 0 || c->d_state <= 0 ||
        c->d_conv < 2 || c->dt_rank <= 0 || c->vocab_size <= 0)
        return mcl_error_set(MCL_ERR_INVALID_ARG,
                             "bad model shape: d_model %d, n_layer %d, d_inner %d, d_state %d, "
                             "d_conv %d (>= 2), dt_rank %d, vocab %d",
                             c->d_model, c->n_layer, c->d_inner, c->d_state, c->d_conv, c->dt_rank,
                             c->vocab_size);
    if (c->proj_bias)
        return mcl_error_set(MCL_ERR_UNSUPPORTED, "in/out projection biases (use_bias) are not supported");
    if (!(c->norm_eps > 0.0f))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "norm epsilon must be positive");
    return MCL_OK;
}

/* ---- from a checkpoint -------------------------------------------------- */

static mcl_status take(mcl_checkpoint *ck, int id, int layer, size_t want, bool optional,
                       const char *what, mcl_host_tensor *out)
{
    const mcl_tensor *t = mcl_checkpoint_weight(ck, id, layer);
    memset(out, 0, sizeof *out);
    if (!t) {
        if (optional) return MCL_OK;
        return mcl_error_set(MCL_ERR_FORMAT, "checkpoint has no %s for layer %d", what, layer);
    }
    size_t n = t->nbytes / mcl_half_dtype_size(t->dtype);
    if (n != want)
        return mcl_error_set(MCL_ERR_FORMAT, "tensor %s has %zu elements, the config implies %zu",
                             t->name, n, want);
    out->dtype = t->dtype;
    out->data = t->data;
    out->n = n;
    return MCL_OK;
}

static mcl_status take_layer(mcl_checkpoint *ck, const mcl_config *c, int l, mcl_host_layer *L)
{
    size_t dm = (size_t)c->d_model, di = (size_t)c->d_inner, n = (size_t)c->d_state;
    size_t r = (size_t)c->dt_rank, k = (size_t)c->d_conv;
    MCL_TRY(take(ck, MCL_W_NORM, l, dm, false, "norm", &L->norm));
    MCL_TRY(take(ck, MCL_W_IN_PROJ, l, 2 * di * dm, false, "in_proj", &L->in_proj));
    MCL_TRY(take(ck, MCL_W_CONV_W, l, di * k, false, "conv1d.weight", &L->conv_w));
    MCL_TRY(take(ck, MCL_W_CONV_B, l, di, !c->conv_bias, "conv1d.bias", &L->conv_b));
    MCL_TRY(take(ck, MCL_W_X_PROJ, l, (r + 2 * n) * di, false, "x_proj", &L->x_proj));
    MCL_TRY(take(ck, MCL_W_DT_W, l, di * r, false, "dt_proj.weight", &L->dt_w));
    MCL_TRY(take(ck, MCL_W_DT_B, l, di, false, "dt_proj.bias", &L->dt_b));
    MCL_TRY(take(ck, MCL_W_A_LOG, l, di * n, false, "A_log", &L->a_log));
    MCL_TRY(take(ck, MCL_W_D, l, di, false, "D", &L->d));
    return take(ck, MCL_W_OUT_PROJ, l, dm * di, false, "out_proj", &L->out_proj);
}

static mcl_status weights_from_checkpoint(mcl_weights *w, mcl_checkpoint *ck)
{
    const mcl_config *c = mcl_checkpoint_config(ck);
    w->cfg = *c;
    MCL_TRY(mcl_config_check(c));
    size_t dm = (size_t)c->d_model, v = (size_t)c->vocab_size;
    w->layers = calloc((size_t)c->n_layer, sizeof *w->layers);
    if (!w->layers) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    MCL_TRY(take(ck, MCL_W_EMBED, 0, v * dm, false, "embeddings", &w->embed));
    MCL_TRY(take(ck, MCL_W_NORM_F, 0, dm, false, "norm_f", &w->norm_f));
    MCL_TRY(take(ck, MCL_W_LM_HEAD, 0, v * dm, c->tie_embeddings, "lm_head", &w->lm_head));
    if (!c->tie_embeddings && !w->lm_head.data)
        return mcl_error_set(MCL_ERR_FORMAT, "untied checkpoint without lm_head.weight");
    for (int l = 0; l < c->n_layer; l++) MCL_TRY(take_layer(ck, c, l, &w->layers[l]));
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
    free(w->layers);
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

enum { INIT_UNIFORM, INIT_DT_BIAS, INIT_A_LOG };

/* Places a tensor of n elements in the arena, value(i) by `kind`:
 * INIT_UNIFORM: base + scale * U(-1, 1); INIT_DT_BIAS: softplus^-1 of a
 * log-uniform dt in [1e-3, 1e-1]; INIT_A_LOG: log(1 + i % cols). */
static void fill(rng_fill *g, mcl_host_tensor *t, size_t n, int kind, float base, float scale,
                 size_t cols)
{
    t->dtype = g->dtype;
    t->data = g->arena;
    t->n = n;
    for (size_t i = 0; i < n; i++) {
        double v;
        if (kind == INIT_DT_BIAS) {
            double dt = exp(log(1e-3) + rng_uniform(g) * (log(1e-1) - log(1e-3)));
            v = dt + log(-expm1(-dt));
        } else if (kind == INIT_A_LOG) {
            v = log(1.0 + (double)(i % cols));
        } else {
            v = base + scale * (2.0 * rng_uniform(g) - 1.0);
        }
        store(g, i, (float)v);
    }
    g->arena += mcl_round8(n * mcl_half_dtype_size(g->dtype));
}

static size_t layer_elems(const mcl_config *c)
{
    size_t dm = (size_t)c->d_model, di = (size_t)c->d_inner, n = (size_t)c->d_state;
    size_t r = (size_t)c->dt_rank, k = (size_t)c->d_conv;
    return dm + 2 * di * dm + di * k + di + (r + 2 * n) * di + di * r + di + di * n + di + dm * di;
}

static void fill_layer(rng_fill *g, const mcl_config *c, mcl_host_layer *L)
{
    size_t dm = (size_t)c->d_model, di = (size_t)c->d_inner, n = (size_t)c->d_state;
    size_t r = (size_t)c->dt_rank, k = (size_t)c->d_conv;
    fill(g, &L->norm, dm, INIT_UNIFORM, 1.0f, 0.1f, 1);
    fill(g, &L->in_proj, 2 * di * dm, INIT_UNIFORM, 0.0f, 1.0f / sqrtf((float)dm), 1);
    fill(g, &L->conv_w, di * k, INIT_UNIFORM, 0.0f, 1.0f / sqrtf((float)k), 1);
    if (c->conv_bias) fill(g, &L->conv_b, di, INIT_UNIFORM, 0.0f, 0.1f, 1);
    fill(g, &L->x_proj, (r + 2 * n) * di, INIT_UNIFORM, 0.0f, 1.0f / sqrtf((float)di), 1);
    fill(g, &L->dt_w, di * r, INIT_UNIFORM, 0.0f, 0.5f / sqrtf((float)r), 1);
    fill(g, &L->dt_b, di, INIT_DT_BIAS, 0.0f, 0.0f, 1);
    fill(g, &L->a_log, di * n, INIT_A_LOG, 0.0f, 0.0f, n);
    fill(g, &L->d, di, INIT_UNIFORM, 1.0f, 0.1f, 1);
    fill(g, &L->out_proj, dm * di, INIT_UNIFORM, 0.0f, 1.0f / sqrtf((float)di), 1);
}

mcl_status mcl_weights_random(const mcl_config *cfg, mcl_dtype dtype, uint64_t seed,
                              mcl_weights **out)
{
    *out = NULL;
    MCL_TRY(mcl_config_check(cfg));
    if (dtype != MCL_DTYPE_F32 && dtype != MCL_DTYPE_F16 && dtype != MCL_DTYPE_BF16)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "unknown weight dtype %d", (int)dtype);
    const mcl_config *c = cfg;
    size_t dm = (size_t)c->d_model, v = (size_t)c->vocab_size;
    /* Upper bound: every tensor rounded up to 8 bytes, counted in elements of 4 bytes. */
    size_t tensors = 3 + 10 * (size_t)c->n_layer;
    size_t elems = v * dm * (c->tie_embeddings ? 1 : 2) + dm + (size_t)c->n_layer * layer_elems(c);
    mcl_weights *w = calloc(1, sizeof *w);
    if (w) w->layers = calloc((size_t)c->n_layer, sizeof *w->layers);
    if (w && w->layers) w->arena = malloc(elems * mcl_half_dtype_size(dtype) + tensors * 8);
    if (!w || !w->layers || !w->arena) {
        mcl_weights_free(w);
        return mcl_error_set(MCL_ERR_NOMEM, "out of host memory for %zu random weights", elems);
    }
    w->cfg = *c;
    rng_fill g = {seed * 0x2545F4914F6CDD1Dull + 1, w->arena, dtype};
    fill(&g, &w->embed, v * dm, INIT_UNIFORM, 0.0f, 0.5f, 1);
    fill(&g, &w->norm_f, dm, INIT_UNIFORM, 1.0f, 0.1f, 1);
    if (!c->tie_embeddings) fill(&g, &w->lm_head, v * dm, INIT_UNIFORM, 0.0f, 0.5f, 1);
    for (int l = 0; l < c->n_layer; l++) fill_layer(&g, c, &w->layers[l]);
    *out = w;
    return MCL_OK;
}
