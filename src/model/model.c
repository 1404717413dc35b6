/* The model on the device: memory plan, weight upload, release, all driven
 * by the architecture's weight table. */
#include "model/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "base/error.h"
#include "base/half.h"
#include "model/state_io.h"

#define MCL_MAX_PREFILL_ROWS 4096 /* tokens per prefill pass (more only costs memory) */

/* ---- memory plan ------------------------------------------------------- */

static uint64_t tensor_bytes(const mcl_host_tensor *t, const mcl_weight_spec *sp)
{
    if (!t->data) return 0;
    return (uint64_t)t->n * (sp->store != MCL_WSTORE_NATIVE ? 4u : mcl_half_dtype_size(t->dtype));
}

/* Byte alignment of a tensor in an arena: 256, or the device's base address
 * alignment where larger (what clCreateSubBuffer needs). */
static uint64_t arena_align(const mcl_device_info *dev)
{
    uint64_t a = dev->mem_base_addr_align / 8;
    return a > 256 ? a : 256;
}

/* Whether MAMBACL_DISABLE names "arenas": every weight in a buffer of its
 * own (session 9's layout; the persistent decode layer then runs one layer
 * per launch). */
static bool arenas_disabled(void) { return mcl_env_lists("MAMBACL_DISABLE", "arenas"); }

/* The arena layout of the per-layer weights (model.h): off[id] for each
 * layer row (NULL: not wanted) and the layer stride (returned); *per: the
 * layers one arena holds under max_buffer (0: no arenas, where the layers do
 * not all have the same tensor sizes or one layer does not fit, or
 * MAMBACL_DISABLE=arenas), *pad: the
 * bytes the alignment adds over all layers. */
static uint64_t arena_layout(const mcl_weights *w, uint64_t align, uint64_t max_buffer, uint64_t *off, int *per,
                             uint64_t *pad)
{
    const mcl_weight_table *wt = &w->arch->weights;
    int n_layer = w->cfg.n_layer;
    uint64_t cur = 0, raw = 0;
    bool same = true;
    for (int id = wt->n_global; id < wt->n; id++) {
        uint64_t b = tensor_bytes(mcl_weights_at(w, id, 0), &wt->w[id]);
        for (int l = 1; l < n_layer; l++) same = same && tensor_bytes(mcl_weights_at(w, id, l), &wt->w[id]) == b;
        if (off) off[id] = b ? cur : 0;
        cur += (b + align - 1) / align * align;
        raw += b;
    }
    uint64_t n = same && cur && !arenas_disabled() ? max_buffer / cur : 0;
    *per = n > (uint64_t)n_layer ? n_layer : (int)n;
    *pad = *per ? (cur - raw) * (uint64_t)n_layer : 0;
    return cur;
}

/* Device bytes of every weight, and the fp32 copy the largest 16-bit layer
 * matrix needs for the prefill GEMMs (*wf32). */
static uint64_t weight_bytes(const mcl_weights *w, uint64_t *wf32)
{
    const mcl_weight_table *wt = &w->arch->weights;
    uint64_t b = 0;
    *wf32 = 0;
    for (int l = 0; l < w->cfg.n_layer; l++)
        for (int id = 0; id < wt->n; id++) {
            if (id < wt->n_global && l > 0) continue;
            const mcl_host_tensor *t = mcl_weights_at(w, id, l);
            b += tensor_bytes(t, &wt->w[id]);
            bool layer_matrix = wt->w[id].scope == MCL_WSCOPE_LAYER && wt->w[id].store == MCL_WSTORE_NATIVE;
            if (layer_matrix && t->data && t->dtype != MCL_DTYPE_F32 && 4u * t->n > *wf32) *wf32 = 4u * t->n;
        }
    return b;
}

/* Bytes of one token row across the activation buffers (h, hn, the
 * architecture's activations, the token id); *widest: the widest row. */
static uint64_t row_bytes(const mcl_arch *a, const mcl_config *c, uint64_t *widest)
{
    uint64_t elems = 2u * (uint64_t)c->d_model + 1;
    *widest = 4u * (uint64_t)c->d_model;
    for (int i = 0; i < a->n_acts; i++) {
        uint64_t e = mcl_arch_act_elems(a, c, i);
        elems += e;
        if (4u * e > *widest) *widest = 4u * e;
    }
    return 4u * elems;
}

void mcl_model_plan_make(const mcl_weights *w, const mcl_device_info *dev, uint64_t max_buffer,
                         mcl_model_plan *plan)
{
    const mcl_config *c = &w->cfg;
    uint64_t wf32 = 0, widest = 0, row = row_bytes(w->arch, c, &widest);
    plan->weights = weight_bytes(w, &wf32);
    int per = 0;
    uint64_t pad = 0;
    arena_layout(w, arena_align(dev), max_buffer, NULL, &per, &pad);
    plan->weights += pad; /* the arenas' alignment */
    plan->states = mcl_arch_state_bytes(c);
    uint64_t free_mem = dev->global_mem_bytes > plan->weights ? dev->global_mem_bytes - plan->weights : 0;
    uint64_t rows = MCL_MAX_PREFILL_ROWS;
    uint64_t by_buffer = max_buffer / widest; /* the widest activation buffer fits one allocation */
    uint64_t by_memory = free_mem / 4u / row;  /* a quarter of what is left */
    if (by_buffer < rows) rows = by_buffer;
    if (by_memory < rows) rows = by_memory;
    if (rows < 1) rows = 1;
    plan->max_rows = (int)rows;
    /* GEMM workspace (ops/gemm.c): the fp32 copy of a layer matrix (CLBlast
     * path) or the two 16-bit parts of an activation row of K <= widest / 4
     * elements (mma path: 4 K bytes per row) */
    uint64_t a_parts = rows * widest, ws = a_parts > wf32 ? a_parts : wf32;
    plan->scratch = rows * row + ws + 4u * (uint64_t)c->vocab_size + 8u * (uint64_t)c->d_model;
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

/* Where a layer weight goes: a sub-buffer at byte `off` of arena buffer
 * `arena` (NULL: a buffer of its own). */
typedef struct place {
    cl_mem arena;
    uint64_t off;
} place;

/* A buffer of `bytes` for `what`: its own, or the sub-buffer of *at. */
static mcl_status place_buffer(mcl_model *m, const place *at, size_t bytes, const char *what, cl_mem *out)
{
    if (!at || !at->arena) return mcl_buffer_create(m->rt, CL_MEM_READ_ONLY, bytes, what, out);
    cl_buffer_region r = {(size_t)at->off, bytes};
    cl_int err;
    *out = clCreateSubBuffer(at->arena, 0, CL_BUFFER_CREATE_TYPE_REGION, &r, &err);
    if (err != CL_SUCCESS) {
        *out = NULL;
        return mcl_error_cl(err, "clCreateSubBuffer(%s, %zu bytes at %llu)", what, bytes,
                            (unsigned long long)at->off);
    }
    return MCL_OK;
}

/* A big matrix in its dtype, split by rows when above m->max_buffer unless
 * `one_part` (then too large is MCL_ERR_UNSUPPORTED); in an arena at `at`
 * (one part). */
static mcl_status upload_matrix(upload_ctx *u, const mcl_host_tensor *t, int rows, int cols,
                                bool one_part, const place *at, const char *what, mcl_dmat *out)
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
        MCL_TRY(place_buffer(m, out->n_parts == 1 ? at : NULL, bytes, what, &out->parts[p]));
        MCL_TRY(write_buffer(m, out->parts[p], 0, bytes, (const char *)t->data + (size_t)r0 * row, what));
        progress(u, bytes);
    }
    return MCL_OK;
}

/* A small tensor as fp32; with negexp, A = -exp(A_log). Absent -> NULL buffer. */
static mcl_status upload_small(upload_ctx *u, const mcl_host_tensor *t, bool negexp, const place *at,
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
    mcl_status st = place_buffer(u->m, at, t->n * 4, what, out);
    if (st == MCL_OK) st = write_buffer(u->m, *out, 0, t->n * 4, tmp, what);
    free(tmp);
    if (st == MCL_OK) progress(u, t->n * 4);
    return st;
}

/* Row `id` in `layer`: a big one by upload_matrix (rows = the first
 * dimension), a small one by upload_small; the tied head aliases the
 * embedding. */
static mcl_status upload_row(upload_ctx *u, const mcl_weights *w, int id, int layer, const place *at)
{
    mcl_model *m = u->m;
    const mcl_weight_spec *sp = &m->arch->weights.w[id];
    const mcl_host_tensor *t = mcl_weights_at(w, id, layer);
    mcl_dmat *d = &m->w[mcl_weight_slot(&m->arch->weights, id, layer)];
    if (id == m->arch->w_head && !t->data) {
        m->head_tied = true;
        *d = *mcl_model_w(m, m->arch->w_embed, 0); /* parts shared, freed once */
        return MCL_OK;
    }
    if (!t->data) return MCL_OK;
    if (sp->store != MCL_WSTORE_NATIVE) {
        memset(d, 0, sizeof *d);
        d->parts = calloc(1, sizeof *d->parts);
        if (!d->parts) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
        d->dtype = MCL_DTYPE_F32;
        d->rows = (int)t->n;
        d->cols = 1;
        d->n_parts = d->rows_per_part = 1;
        return upload_small(u, t, sp->store == MCL_WSTORE_NEG_EXP, at, sp->name, &d->parts[0]);
    }
    int64_t shape[MCL_SHAPE_MAX_DIMS];
    int nd = mcl_shape_eval(sp->shape, &m->cfg, shape);
    MCL_ASSERT(nd > 0, "a weight's shape expression evaluates");
    return upload_matrix(u, t, (int)shape[0], (int)(t->n / (size_t)shape[0]), !sp->split, at, sp->name, d);
}

static mcl_status upload_all(upload_ctx *u, const mcl_weights *w)
{
    mcl_model *m = u->m;
    const mcl_weight_table *wt = &m->arch->weights;
    int n_layer = m->cfg.n_layer;
    m->w = calloc(mcl_weight_slots(wt, n_layer), sizeof *m->w);
    if (!m->w) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    MCL_TRY(mcl_buffer_create(m->rt, CL_MEM_READ_WRITE, 16, "dummy", &m->dummy));
    for (int id = 0; id < wt->n_global; id++) MCL_TRY(upload_row(u, w, id, 0, NULL));
    m->arena_off = calloc((size_t)wt->n, sizeof *m->arena_off);
    if (!m->arena_off) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    uint64_t pad = 0;
    m->arena_stride = arena_layout(w, arena_align(mcl_runtime_device(m->rt)), m->max_buffer, m->arena_off,
                                   &m->arena_per, &pad);
    if (m->arena_per > 0) {
        int n = (n_layer + m->arena_per - 1) / m->arena_per;
        m->arena = calloc((size_t)n, sizeof *m->arena);
        if (!m->arena) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
        m->n_arena = n;
    }
    for (int l = 0; l < n_layer; l++) {
        place at = {NULL, 0};
        int a = mcl_model_arena_of(m, l);
        if (a >= 0 && !m->arena[a]) {
            int nl = n_layer - a * m->arena_per < m->arena_per ? n_layer - a * m->arena_per : m->arena_per;
            MCL_TRY(mcl_buffer_create(m->rt, CL_MEM_READ_ONLY, (size_t)nl * m->arena_stride, "layer weights",
                                      &m->arena[a]));
            progress(u, pad / (uint64_t)n_layer * (uint64_t)nl); /* the alignment's bytes, in the plan */
        }
        for (int id = wt->n_global; id < wt->n; id++) {
            if (a >= 0) at = (place){m->arena[a], m->arena_off[id] + (uint64_t)(l % m->arena_per) * m->arena_stride};
            MCL_TRY(upload_row(u, w, id, l, a >= 0 ? &at : NULL));
        }
    }
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
    mcl_model_plan_make(w, dev, max_buffer, &plan);
    if (opts && opts->progress) opts->progress(0, plan.weights, opts->user);
    MCL_TRY(check_plan(dev, &plan));
    mcl_model *m = calloc(1, sizeof *m);
    if (!m) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    m->rt = rt;
    m->cfg = w->cfg;
    m->arch = w->arch;
    mcl_pool_init(m);
    m->max_buffer = max_buffer;
    m->weight_bytes = plan.weights;
    m->max_rows = plan.max_rows;
    upload_ctx u = {m, opts, 0, plan.weights};
    mcl_status st = upload_all(&u, w);
    if (st != MCL_OK) {
        mcl_model_free(m);
        return mcl_error_wrap(st, "loading the model onto %s", dev->name);
    }
    m->fingerprint = mcl_weights_fingerprint(w);
    m->fingerprint_dtype = mcl_weights_main_dtype(w);
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
    const mcl_arch *a = NULL;
    MCL_TRY(mcl_config_check(c));
    MCL_TRY(mcl_arch_get(c, &a));
    double es = dtype == MCL_DTYPE_F32 ? 4.0 : 2.0, need = 0.0;
    for (int id = 0; id < a->weights.n; id++) {
        const mcl_weight_spec *sp = &a->weights.w[id];
        if (!mcl_weight_wanted(sp, c)) continue;
        double n = (double)mcl_shape_elems(sp->shape, c) * (sp->scope == MCL_WSCOPE_LAYER ? c->n_layer : 1);
        need += n * (sp->store == MCL_WSTORE_NATIVE ? es : 4.0);
    }
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

void mcl_model_free(mcl_model *m)
{
    if (!m) return;
    mcl_runtime *rt = m->rt;
    mcl_runtime_lock(rt);
    if (m->rt->queue) clFinish(m->rt->queue);
    mcl_scratch_release(m);
    mcl_pool_release(m);
    size_t slots = m->w ? mcl_weight_slots(&m->arch->weights, m->cfg.n_layer) : 0;
    for (size_t i = 0; i < slots; i++)
        if (!(m->head_tied && i == mcl_weight_slot(&m->arch->weights, m->arch->w_head, 0))) dmat_release(&m->w[i]);
    free(m->w);
    for (int a = 0; a < m->n_arena; a++) mcl_buffer_release(&m->arena[a]); /* after their sub-buffers */
    free(m->arena);
    free(m->arena_off);
    mcl_buffer_release(&m->dummy);
    free(m);
    mcl_runtime_unlock(rt);
}

const mcl_config *mcl_model_config(const mcl_model *m) { return &m->cfg; }

int mcl_model_vocab(const mcl_model *m) { return m->cfg.vocab_size; }

uint64_t mcl_model_weight_bytes(const mcl_model *m) { return m->weight_bytes; }
