/* Per-sequence states: slots in per-layer pool buffers owned by the model,
 * one pool buffer per state tensor of the architecture (arch->states) per
 * layer. Pools start empty and double when every slot is taken; growing
 * copies the live slots into the new buffers. */
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
        for (int l = 0; p->buf[i] && l < m->cfg.n_layer; l++) mcl_buffer_release(&p->buf[i][l]);
        free(p->buf[i]);
        p->buf[i] = NULL;
    }
    free(p->busy);
    p->busy = NULL;
    p->cap = 0;
}

mcl_kern_state mcl_state_view(const mcl_model *m, int i, int layer)
{
    mcl_kern_state st = {m->pool.buf[i][layer], 0, m->scratch.slot, m->pool.slot_elems[i]};
    return st;
}

/* Zeroes `count` slots from `slot` in every layer. */
static mcl_status zero_slots(mcl_model *m, int slot, int count)
{
    const float zero = 0.0f;
    for (int i = 0; i < m->arch->n_states; i++) {
        size_t b = m->pool.slot_elems[i] * 4;
        for (int l = 0; l < m->cfg.n_layer; l++)
            MCL_CL_CHECK(clEnqueueFillBuffer(m->rt->queue, m->pool.buf[i][l], &zero, sizeof zero,
                                             (size_t)slot * b, (size_t)count * b, 0, NULL, NULL),
                         "clEnqueueFillBuffer(%s, layer %d)", m->arch->states[i].name, l);
    }
    return MCL_OK;
}

/* New buffers of `bytes`, the first `keep` bytes copied from `old` (if any). */
static mcl_status regrow(mcl_model *m, cl_mem *buf, size_t bytes, size_t keep, const char *what)
{
    cl_mem fresh = NULL;
    MCL_TRY(mcl_buffer_create(m->rt, CL_MEM_READ_WRITE, bytes, what, &fresh));
    if (*buf && keep) {
        cl_int err = clEnqueueCopyBuffer(m->rt->queue, *buf, fresh, 0, 0, keep, 0, NULL, NULL);
        if (err != CL_SUCCESS) {
            mcl_buffer_release(&fresh);
            return mcl_error_cl(err, "clEnqueueCopyBuffer(%s)", what);
        }
    }
    mcl_buffer_release(buf);
    *buf = fresh;
    return MCL_OK;
}

static mcl_status pool_grow(mcl_model *m)
{
    mcl_pool *p = &m->pool;
    int n_layer = m->cfg.n_layer, cap = p->cap ? 2 * p->cap : 1;
    for (int i = 0; i < m->arch->n_states; i++) {
        if (!p->buf[i]) p->buf[i] = calloc((size_t)n_layer, sizeof *p->buf[i]);
        if (!p->buf[i]) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    }
    unsigned char *busy = realloc(p->busy, (size_t)cap);
    if (!busy) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    p->busy = busy;
    memset(busy + p->cap, 0, (size_t)(cap - p->cap));
    for (int l = 0; l < n_layer; l++)
        for (int i = 0; i < m->arch->n_states; i++) {
            size_t b = p->slot_elems[i] * 4;
            MCL_TRY(regrow(m, &p->buf[i][l], (size_t)cap * b, (size_t)p->cap * b, m->arch->states[i].name));
        }
    p->cap = cap;
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
        for (int l = 0; l < m->cfg.n_layer; l++)
            MCL_CL_CHECK(clEnqueueCopyBuffer(m->rt->queue, m->pool.buf[i][l], m->pool.buf[i][l],
                                             (size_t)src->slot * b, (size_t)dst->slot * b, b, 0, NULL, NULL),
                         "clEnqueueCopyBuffer(%s, layer %d)", m->arch->states[i].name, l);
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
