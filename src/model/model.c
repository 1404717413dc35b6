/* The model on the device: memory plan, weight upload, release. */
#include "model/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/half.h"

#define MCL_MAX_PREFILL_ROWS 4096 /* tokens per prefill pass (more only costs memory) */

/* ---- memory plan ------------------------------------------------------- */

static uint64_t tensor_bytes(const mcl_host_tensor *t, bool small)
{
    if (!t->data) return 0;
    return (uint64_t)t->n * (small ? 4u : mcl_half_dtype_size(t->dtype));
}

static uint64_t weight_bytes(const mcl_weights *w)
{
    uint64_t b = tensor_bytes(&w->embed, false) + tensor_bytes(&w->lm_head, false) +
                 tensor_bytes(&w->norm_f, true);
    for (int l = 0; l < w->cfg.n_layer; l++) {
        const mcl_host_layer *L = &w->layers[l];
        b += tensor_bytes(&L->norm, true) + tensor_bytes(&L->in_proj, false) +
             tensor_bytes(&L->conv_w, true) + tensor_bytes(&L->conv_b, true) +
             tensor_bytes(&L->x_proj, false) + tensor_bytes(&L->dt_w, false) +
             tensor_bytes(&L->dt_b, true) + tensor_bytes(&L->a_log, true) +
             tensor_bytes(&L->d, true) + tensor_bytes(&L->out_proj, false);
    }
    return b;
}

/* Bytes of one token row across the activation buffers. */
static uint64_t row_bytes(const mcl_config *c)
{
    return 4u * (uint64_t)(2 * c->d_model + 4 * c->d_inner + c->dt_rank + 2 * c->d_state + 1);
}

/* The fp32 copy a 16-bit layer matrix needs for the prefill GEMMs. */
static uint64_t wf32_bytes(const mcl_weights *w)
{
    uint64_t most = 0;
    for (int l = 0; l < w->cfg.n_layer; l++) {
        const mcl_host_tensor *ts[] = {&w->layers[l].in_proj, &w->layers[l].x_proj,
                                       &w->layers[l].out_proj};
        for (int i = 0; i < 3; i++)
            if (ts[i]->dtype != MCL_DTYPE_F32 && 4u * ts[i]->n > most) most = 4u * ts[i]->n;
    }
    return most;
}

void mcl_model_plan_make(const mcl_config *c, const mcl_weights *w, const mcl_device_info *dev,
                         uint64_t max_buffer, mcl_model_plan *plan)
{
    plan->weights = weight_bytes(w);
    plan->states = 4u * (uint64_t)c->n_layer * (mcl_conv_slot_elems(c) + mcl_ssm_slot_elems(c));
    uint64_t free_mem = dev->global_mem_bytes > plan->weights ? dev->global_mem_bytes - plan->weights : 0;
    uint64_t rows = MCL_MAX_PREFILL_ROWS;
    uint64_t by_buffer = max_buffer / (8u * (uint64_t)c->d_inner); /* xz is the widest row */
    uint64_t by_memory = free_mem / 4u / row_bytes(c);            /* a quarter of what is left */
    if (by_buffer < rows) rows = by_buffer;
    if (by_memory < rows) rows = by_memory;
    if (rows < 1) rows = 1;
    plan->max_rows = (int)rows;
    plan->scratch = rows * row_bytes(c) + wf32_bytes(w) + 4u * (uint64_t)c->vocab_size +
                    8u * (uint64_t)c->d_model;
}

static mcl_status check_plan(const mcl_device_info *dev, const mcl_model_plan *p)
{
    uint64_t need = p->weights + p->states + p->scratch;
    if (need <= dev->global_mem_bytes) return MCL_OK;
    const double mib = 1024.0 * 1024.0;
    return mcl_error_set(MCL_ERR_DEVICE_MEM,
                         "the model needs %.1f MiB of device memory (weights %.1f, state %.1f, "
                         "scratch %.1f MiB) but %s has %.1f MiB",
                         (double)need / mib, (double)p->weights / mib, (double)p->states / mib,
                         (double)p->scratch / mib, dev->name, (double)dev->global_mem_bytes / mib);
}

/* ---- upload ------------------------------------------------------------- */

typedef struct upload_ctx {
    mcl_model *m;
    const mcl_model_options *opts;
    uint64_t done, total;
} upload_ctx;

static mcl_status write_buffer(mcl_model *m, cl_mem buf, size_t off, size_t bytes,
                               const void *src, const char *what)
{
    MCL_CL_CHECK(clEnqueueWriteBuffer(m->rt->queue, buf, CL_TRUE, off, bytes, src, 0, NULL, NULL),
                 "clEnqueueWriteBuffer(%s, %zu bytes)", what, bytes);
    return MCL_OK;
}

static void progress(upload_ctx *u, uint64_t bytes)
{
    u->done += bytes;
    if (u->opts && u->opts->progress) u->opts->progress(u->done, u->total, u->opts->user);
}

/* A big matrix in its dtype, split by rows when above m->max_buffer unless
 * `one_part` (then too large is MCL_ERR_UNSUPPORTED). */
static mcl_status upload_matrix(upload_ctx *u, const mcl_host_tensor *t, int rows, int cols,
                                bool one_part, const char *what, mcl_dmat *out)
{
    mcl_model *m = u->m;
    size_t es = mcl_half_dtype_size(t->dtype), row = (size_t)cols * es;
    memset(out, 0, sizeof *out);
    out->dtype = t->dtype;
    out->rows = rows;
    out->cols = cols;
    uint64_t per = m->max_buffer / row;
    if (per < 1 || (one_part && per < (uint64_t)rows))
        return mcl_error_set(MCL_ERR_UNSUPPORTED, "%s (%zu bytes) is larger than one device buffer "
                             "may be (%llu bytes)", what, (size_t)rows * row,
                             (unsigned long long)m->max_buffer);
    out->rows_per_part = per >= (uint64_t)rows ? rows : (int)per;
    out->n_parts = (rows + out->rows_per_part - 1) / out->rows_per_part;
    out->parts = calloc((size_t)out->n_parts, sizeof *out->parts);
    if (!out->parts) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    for (int p = 0; p < out->n_parts; p++) {
        int r0 = p * out->rows_per_part;
        int nr = rows - r0 < out->rows_per_part ? rows - r0 : out->rows_per_part;
        size_t bytes = (size_t)nr * row;
        MCL_TRY(mcl_buffer_create(m->rt, CL_MEM_READ_ONLY, bytes, what, &out->parts[p]));
        MCL_TRY(write_buffer(m, out->parts[p], 0, bytes, (const char *)t->data + (size_t)r0 * row, what));
        progress(u, bytes);
    }
    return MCL_OK;
}

/* A small tensor as fp32; with negexp, A = -exp(A_log). Absent -> NULL buffer. */
static mcl_status upload_small(upload_ctx *u, const mcl_host_tensor *t, bool negexp,
                               const char *what, cl_mem *out)
{
    *out = NULL;
    if (!t->data) return MCL_OK;
    float *tmp = malloc(t->n * sizeof *tmp);
    if (!tmp) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    for (size_t i = 0; i < t->n; i++) {
        float v = mcl_host_tensor_get(t, i);
        tmp[i] = negexp ? -expf(v) : v;
    }
    mcl_status st = mcl_buffer_create(u->m->rt, CL_MEM_READ_ONLY, t->n * 4, what, out);
    if (st == MCL_OK) st = write_buffer(u->m, *out, 0, t->n * 4, tmp, what);
    free(tmp);
    if (st == MCL_OK) progress(u, t->n * 4);
    return st;
}

static mcl_status upload_layer(upload_ctx *u, const mcl_host_layer *h, mcl_dev_layer *L)
{
    const mcl_config *c = &u->m->cfg;
    int di = c->d_inner, dm = c->d_model, r = c->dt_rank, n = c->d_state;
    MCL_TRY(upload_small(u, &h->norm, false, "norm.weight", &L->norm));
    MCL_TRY(upload_matrix(u, &h->in_proj, 2 * di, dm, true, "in_proj.weight", &L->in_proj));
    MCL_TRY(upload_small(u, &h->conv_w, false, "conv1d.weight", &L->conv_w));
    MCL_TRY(upload_small(u, &h->conv_b, false, "conv1d.bias", &L->conv_b));
    MCL_TRY(upload_matrix(u, &h->x_proj, r + 2 * n, di, true, "x_proj.weight", &L->x_proj));
    MCL_TRY(upload_matrix(u, &h->dt_w, di, r, true, "dt_proj.weight", &L->dt_w));
    MCL_TRY(upload_small(u, &h->dt_b, false, "dt_proj.bias", &L->dt_b));
    MCL_TRY(upload_small(u, &h->a_log, true, "A_log", &L->a));
    MCL_TRY(upload_small(u, &h->d, false, "D", &L->d));
    return upload_matrix(u, &h->out_proj, dm, di, true, "out_proj.weight", &L->out_proj);
}

static mcl_status upload_all(upload_ctx *u, const mcl_weights *w)
{
    mcl_model *m = u->m;
    const mcl_config *c = &m->cfg;
    m->layers = calloc((size_t)c->n_layer, sizeof *m->layers);
    if (!m->layers) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    MCL_TRY(mcl_buffer_create(m->rt, CL_MEM_READ_WRITE, 16, "dummy", &m->dummy));
    MCL_TRY(upload_matrix(u, &w->embed, c->vocab_size, c->d_model, false, "embeddings", &m->embed));
    MCL_TRY(upload_small(u, &w->norm_f, false, "norm_f.weight", &m->norm_f));
    m->head_tied = w->lm_head.data == NULL;
    if (m->head_tied) m->lm_head = m->embed; /* parts shared, freed once */
    else MCL_TRY(upload_matrix(u, &w->lm_head, c->vocab_size, c->d_model, false, "lm_head.weight",
                               &m->lm_head));
    for (int l = 0; l < c->n_layer; l++) MCL_TRY(upload_layer(u, &w->layers[l], &m->layers[l]));
    return mcl_runtime_finish(m->rt);
}

mcl_status mcl_model_upload(mcl_runtime *rt, const mcl_weights *w, const mcl_model_options *opts,
                            mcl_model **out)
{
    *out = NULL;
    MCL_TRY(mcl_config_check(&w->cfg));
    const mcl_device_info *dev = mcl_runtime_device(rt);
    uint64_t max_buffer = dev->max_alloc_bytes;
    if (opts && opts->max_buffer_bytes && opts->max_buffer_bytes < max_buffer)
        max_buffer = opts->max_buffer_bytes;
    mcl_model_plan plan;
    mcl_model_plan_make(&w->cfg, w, dev, max_buffer, &plan);
    if (opts && opts->progress) opts->progress(0, plan.weights, opts->user);
    MCL_TRY(check_plan(dev, &plan));
    mcl_model *m = calloc(1, sizeof *m);
    if (!m) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    m->rt = rt;
    m->cfg = w->cfg;
    m->max_buffer = max_buffer;
    m->weight_bytes = plan.weights;
    m->max_rows = plan.max_rows;
    upload_ctx u = {m, opts, 0, plan.weights};
    mcl_status st = upload_all(&u, w);
    if (st != MCL_OK) {
        mcl_model_free(m);
        return mcl_error_wrap(st, "loading the model onto %s", dev->name);
    }
    *out = m;
    return MCL_OK;
}

mcl_status mcl_model_load_ex(mcl_runtime *rt, const char *dir, const mcl_model_options *opts,
                             mcl_model **out)
{
    mcl_weights *w = NULL;
    *out = NULL;
    if (!rt || !dir) return mcl_error_set(MCL_ERR_INVALID_ARG, "mcl_model_load: NULL argument");
    MCL_TRY(mcl_weights_open(dir, &w)); /* host work: no lock needed */
    mcl_runtime_lock(rt);
    mcl_status st = mcl_model_upload(rt, w, opts, out);
    mcl_runtime_unlock(rt);
    mcl_weights_free(w);
    return st;
}

mcl_status mcl_model_load(mcl_runtime *rt, const char *dir, mcl_model **out)
{
    return mcl_model_load_ex(rt, dir, NULL, out);
}

/* Refuses a random model too large for the device before generating it. */
static mcl_status check_random_fits(mcl_runtime *rt, const mcl_config *c, mcl_dtype dtype)
{
    MCL_TRY(mcl_config_check(c));
    double es = dtype == MCL_DTYPE_F32 ? 4.0 : 2.0;
    double dm = c->d_model, di = c->d_inner, n = c->d_state, r = c->dt_rank, L = c->n_layer;
    double big = (double)c->vocab_size * dm * (c->tie_embeddings ? 1 : 2) +
                 L * (2 * di * dm + (r + 2 * n) * di + di * r + dm * di);
    double small = dm + L * (dm + di * c->d_conv + 3 * di + di * n);
    double need = big * es + small * 4.0;
    const mcl_device_info *dev = mcl_runtime_device(rt);
    if (need > (double)dev->global_mem_bytes)
        return mcl_error_set(MCL_ERR_DEVICE_MEM,
                             "the model's weights need %.1f MiB of device memory but %s has %.1f MiB",
                             need / 1048576.0, dev->name, (double)dev->global_mem_bytes / 1048576.0);
    return MCL_OK;
}

mcl_status mcl_model_create_random(mcl_runtime *rt, const mcl_config *cfg, mcl_dtype dtype,
                                   uint64_t seed, mcl_model **out)
{
    mcl_weights *w = NULL;
    *out = NULL;
    if (!rt || !cfg) return mcl_error_set(MCL_ERR_INVALID_ARG, "mcl_model_create_random: NULL argument");
    MCL_TRY(check_random_fits(rt, cfg, dtype));
    MCL_TRY(mcl_weights_random(cfg, dtype, seed, &w));
    mcl_runtime_lock(rt);
    mcl_status st = mcl_model_upload(rt, w, NULL, out);
    mcl_runtime_unlock(rt);
    mcl_weights_free(w);
    return st;
}

static void dmat_release(mcl_dmat *d)
{
    for (int p = 0; d->parts && p < d->n_parts; p++) mcl_buffer_release(&d->parts[p]);
    free(d->parts);
    memset(d, 0, sizeof *d);
}

static void layer_release(mcl_dev_layer *L)
{
    mcl_buffer_release(&L->norm);
    dmat_release(&L->in_proj);
    mcl_buffer_release(&L->conv_w);
    mcl_buffer_release(&L->conv_b);
    dmat_release(&L->x_proj);
    dmat_release(&L->dt_w);
    mcl_buffer_release(&L->dt_b);
    mcl_buffer_release(&L->a);
    mcl_buffer_release(&L->d);
    dmat_release(&L->out_proj);
}

void mcl_model_free(mcl_model *m)
{
    if (!m) return;
    mcl_runtime *rt = m->rt;
    mcl_runtime_lock(rt);
    if (m->rt->queue) clFinish(m->rt->queue);
    mcl_scratch_release(m);
    mcl_pool_release(m);
    for (int l = 0; m->layers && l < m->cfg.n_layer; l++) layer_release(&m->layers[l]);
    free(m->layers);
    if (!m->head_tied) dmat_release(&m->lm_head);
    dmat_release(&m->embed);
    mcl_buffer_release(&m->norm_f);
    mcl_buffer_release(&m->dummy);
    free(m);
    mcl_runtime_unlock(rt);
}

const mcl_config *mcl_model_config(const mcl_model *m) { return &m->cfg; }

int mcl_model_vocab(const mcl_model *m) { return m->cfg.vocab_size; }

uint64_t mcl_model_weight_bytes(const mcl_model *m) { return m->weight_bytes; }
