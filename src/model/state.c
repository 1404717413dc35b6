/* Per-sequence states: slots in pool buffers owned by the model, one buffer
 * per state tensor of the architecture (arch->states) per group of layers
 * (model.h, mcl_pool: all layers in one group where the buffer fits the
 * model's max_buffer, so one persistent decode launch can run several
 * layers). Pools start empty and double when every slot is taken; growing
 * copies every layer's live slots into the new buffers. */
#include "model/model.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"

void mcl_pool_init(mcl_model *m)
{
    memset(&m->pool, 0, sizeof m->pool);
    for (int i = 0; i < m->arch->n_states; i++)
        m->pool.slot_elems[i] = (size_t)mcl_arch_state_elems(m->arch, &m->cfg, i);
}

void mcl_pool_release(mcl_model *m)
{
    mcl_pool *p = &m->pool;
    for (int i = 0; i < MCL_ARCH_MAX_STATES; i++) {
        for (int g = 0; p->buf[i] && g < p->n_groups; g++) mcl_buffer_release(&p->buf[i][g]);
        free(p->buf[i]);
        p->buf[i] = NULL;
    }
    free(p->busy);
    p->busy = NULL;
    p->cap = p->per = p->n_groups = 0;
}

/* Element offset of layer l's slot 0 of state i in its group's buffer, for
 * a pool of `cap` slots and `per` layers per group. */
static uint64_t layer_off(const mcl_pool *p, int i, int l, int cap, int per)
{
    return (uint64_t)(l % per) * (uint64_t)cap * p->slot_elems[i];
}

mcl_kern_state mcl_state_view(const mcl_model *m, int i, int layer)
{
    const mcl_pool *p = &m->pool;
    mcl_kern_state st = {p->buf[i][layer / p->per], layer_off(p, i, layer, p->cap, p->per), m->scratch.slot,
                         p->slot_elems[i]};
    return st;
}

/* Zeroes `count` slots from `slot` in every layer. */
static mcl_status zero_slots(mcl_model *m, int slot, int count)
{
    const float zero = 0.0f;
    const mcl_pool *p = &m->pool;
    for (int i = 0; i < m->arch->n_states; i++) {
        size_t b = p->slot_elems[i] * 4;
        for (int l = 0; l < m->cfg.n_layer; l++) {
            mcl_kern_state v = mcl_state_view(m, i, l);
            MCL_CL_CHECK(clEnqueueFillBuffer(m->rt->queue, v.buf, &zero, sizeof zero, v.off * 4 + (size_t)slot * b,
                                             (size_t)count * b, 0, NULL, NULL),
                         "clEnqueueFillBuffer(%s, layer %d)", m->arch->states[i].name, l);
        }
    }
    return MCL_OK;
}

/* Layers per group for `cap` slots: all where one buffer of every state fits
 * max_buffer, else as many as fit (at least one). */
static int layers_per_group(const mcl_model *m, int cap)
{
    int per = m->cfg.n_layer;
    for (int i = 0; i < m->arch->n_states; i++) {
        uint64_t layer = (uint64_t)cap * m->pool.slot_elems[i] * 4, n = layer ? m->max_buffer / layer : 0;
        if (n < 1) n = 1;
        if (n < (uint64_t)per) per = (int)n;
    }
    return per;
}

/* New buffers for `cap` slots, every layer's first p->cap slots copied from
 * the old ones; the old released. On failure the pool is as it was. */
static mcl_status pool_grow(mcl_model *m)
{
    mcl_pool *p = &m->pool;
    int n_layer = m->cfg.n_layer, cap = p->cap ? 2 * p->cap : 1, per = layers_per_group(m, cap);
    int n_groups = (n_layer + per - 1) / per;
    unsigned char *busy = realloc(p->busy, (size_t)cap);
    if (!busy) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    p->busy = busy;
    memset(busy + p->cap, 0, (size_t)(cap - p->cap));
    cl_mem *fresh[MCL_ARCH_MAX_STATES] = {0};
    mcl_status st = MCL_OK;
    for (int i = 0; i < m->arch->n_states && st == MCL_OK; i++) {
        fresh[i] = calloc((size_t)n_groups, sizeof *fresh[i]);
        if (!fresh[i]) st = mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
        size_t lb = (size_t)cap * p->slot_elems[i] * 4, keep = (size_t)p->cap * p->slot_elems[i] * 4;
        for (int g = 0; g < n_groups && st == MCL_OK; g++) {
            int nl = n_layer - g * per < per ? n_layer - g * per : per;
            st = mcl_buffer_create(m->rt, CL_MEM_READ_WRITE, (size_t)nl * lb, m->arch->states[i].name, &fresh[i][g]);
        }
        for (int l = 0; l < n_layer && st == MCL_OK && keep; l++) {
            cl_int err = clEnqueueCopyBuffer(m->rt->queue, p->buf[i][l / p->per], fresh[i][l / per],
                                             layer_off(p, i, l, p->cap, p->per) * 4, layer_off(p, i, l, cap, per) * 4,
                                             keep, 0, NULL, NULL);
            if (err != CL_SUCCESS) st = mcl_error_cl(err, "clEnqueueCopyBuffer(%s, layer %d)", m->arch->states[i].name, l);
        }
    }
    if (st != MCL_OK) {
        for (int i = 0; i < m->arch->n_states; i++) {
            for (int g = 0; fresh[i] && g < n_groups; g++) mcl_buffer_release(&fresh[i][g]);
            free(fresh[i]);
        }
        return st;
    }
    for (int i = 0; i < m->arch->n_states; i++) {
        for (int g = 0; p->buf[i] && g < p->n_groups; g++) mcl_buffer_release(&p->buf[i][g]);
        free(p->buf[i]);
        p->buf[i] = fresh[i];
    }
    p->cap = cap;
    p->per = per;
    p->n_groups = n_groups;
    return MCL_OK;
}

static mcl_status state_create(mcl_model *m, mcl_state **out)
{
    mcl_pool *p = &m->pool;
    int slot = 0;
    while (slot < p->cap && p->busy[slot]) slot++;
    if (slot == p->cap) MCL_TRY(pool_grow(m));
    mcl_state *s = calloc(1, sizeof *s);
    if (!s) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    s->model = m;
    s->slot = slot;
    mcl_status st = zero_slots(m, slot, 1);
    if (st != MCL_OK) {
        free(s);
        return st;
    }
    p->busy[slot] = 1;
    *out = s;
    return MCL_OK;
}

/* The public functions below hold the runtime's lock: the pools and the
 * queue are shared by every state of the runtime's models. */
mcl_status mcl_state_create(mcl_model *m, mcl_state **out)
{
    *out = NULL;
    if (!m) return mcl_error_set(MCL_ERR_INVALID_ARG, "mcl_state_create: NULL model");
    mcl_runtime_lock(m->rt);
    mcl_status st = state_create(m, out);
    mcl_runtime_unlock(m->rt);
    return st;
}

mcl_status mcl_state_reset(mcl_state *s)
{
    if (!s) return mcl_error_set(MCL_ERR_INVALID_ARG, "mcl_state_reset: NULL state");
    mcl_runtime_lock(s->model->rt);
    mcl_status st = zero_slots(s->model, s->slot, 1);
    mcl_runtime_unlock(s->model->rt);
    return st;
}

static mcl_status state_copy(mcl_state *dst, const mcl_state *src)
{
    mcl_model *m = dst->model;
    for (int i = 0; i < m->arch->n_states; i++) {
        size_t b = m->pool.slot_elems[i] * 4;
        for (int l = 0; l < m->cfg.n_layer; l++) {
            mcl_kern_state v = mcl_state_view(m, i, l);
            MCL_CL_CHECK(clEnqueueCopyBuffer(m->rt->queue, v.buf, v.buf, v.off * 4 + (size_t)src->slot * b,
                                             v.off * 4 + (size_t)dst->slot * b, b, 0, NULL, NULL),
                         "clEnqueueCopyBuffer(%s, layer %d)", m->arch->states[i].name, l);
        }
    }
    return MCL_OK;
}

mcl_status mcl_state_copy(mcl_state *dst, const mcl_state *src)
{
    if (!dst || !src) return mcl_error_set(MCL_ERR_INVALID_ARG, "mcl_state_copy: NULL state");
    if (dst->model != src->model)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "mcl_state_copy: the states belong to different models");
    if (dst == src) return MCL_OK;
    mcl_runtime_lock(dst->model->rt);
    mcl_status st = state_copy(dst, src);
    mcl_runtime_unlock(dst->model->rt);
    return st;
}

void mcl_state_free(mcl_state *s)
{
    if (!s) return;
    mcl_runtime *rt = s->model->rt;
    mcl_runtime_lock(rt);
    if (s->slot >= 0 && s->slot < s->model->pool.cap) s->model->pool.busy[s->slot] = 0;
    mcl_runtime_unlock(rt);
    free(s);
}
