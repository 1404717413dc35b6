/* Scratch of the forward pass (model.h, mcl_scratch): activation buffers of
 * one prefill pass or decode batch, sequence tables, the LM head's rows,
 * the chained greedy decode's control words and the fp32 weight staging, each grown to the largest request seen and
 * released with the model. */
#include "model/model.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"

void mcl_scratch_release(mcl_model *m)
{
    mcl_scratch *s = &m->scratch;
    if (s->pick_host) { /* unmapped before its buffer goes */
        clEnqueueUnmapMemObject(m->rt->queue, s->pick_pin, s->pick_host, 0, NULL, NULL);
        clFinish(m->rt->queue);
    }
    cl_mem *bufs[] = {&s->h, &s->hn, &s->ids, &s->seq_start, &s->slot, &s->sel_rows, &s->hsel,
                      &s->logits, &s->head_part, &s->pick_ctl, &s->pick_ring, &s->pick_pin};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) mcl_buffer_release(bufs[i]);
    for (int i = 0; i < MCL_ARCH_MAX_ACTS; i++) mcl_buffer_release(&s->act[i]);
    free(s->host_ints);
    memset(s, 0, sizeof *s);
}

static mcl_status grow(mcl_model *m, cl_mem *buf, size_t bytes, const char *what)
{
    mcl_buffer_release(buf);
    return mcl_buffer_create(m->rt, CL_MEM_READ_WRITE, bytes, what, buf);
}

mcl_status mcl_scratch_rows(mcl_model *m, int rows)
{
    mcl_scratch *s = &m->scratch;
    if (rows <= s->cap_rows) return MCL_OK;
    const mcl_config *c = &m->cfg;
    size_t r = (size_t)rows, dm = (size_t)c->d_model;
    s->cap_rows = 0;
    MCL_TRY(grow(m, &s->h, r * dm * 4, "residual h"));
    MCL_TRY(grow(m, &s->hn, r * dm * 4, "normed hn"));
    for (int i = 0; i < m->arch->n_acts; i++)
        MCL_TRY(grow(m, &s->act[i], r * (size_t)mcl_arch_act_elems(m->arch, c, i) * 4, m->arch->acts[i].name));
    MCL_TRY(grow(m, &s->ids, r * 4, "token ids"));
    s->cap_rows = rows;
    return MCL_OK;
}

mcl_status mcl_scratch_seqs(mcl_model *m, int n)
{
    mcl_scratch *s = &m->scratch;
    if (n <= s->cap_seqs) return MCL_OK;
    s->cap_seqs = 0;
    MCL_TRY(grow(m, &s->seq_start, ((size_t)n + 1) * 4, "seq_start"));
    MCL_TRY(grow(m, &s->slot, (size_t)n * 4, "slots"));
    s->cap_seqs = n;
    return MCL_OK;
}

mcl_status mcl_scratch_sel(mcl_model *m, int n)
{
    mcl_scratch *s = &m->scratch;
    if (n <= s->cap_sel) return MCL_OK;
    const mcl_config *c = &m->cfg;
    const mcl_dmat *head = mcl_model_w(m, m->arch->w_head, 0);
    s->cap_sel = 0;
    MCL_TRY(grow(m, &s->sel_rows, (size_t)n * 4, "selected rows"));
    MCL_TRY(grow(m, &s->hsel, (size_t)n * (size_t)c->d_model * 4, "final-normed rows"));
    MCL_TRY(grow(m, &s->logits, (size_t)n * (size_t)c->vocab_size * 4, "logits"));
    if (head->n_parts > 1)
        MCL_TRY(grow(m, &s->head_part, (size_t)n * (size_t)head->rows_per_part * 4, "LM head part output"));
    s->cap_sel = n;
    return MCL_OK;
}

mcl_status mcl_scratch_host_ints(mcl_model *m, size_t n)
{
    mcl_scratch *s = &m->scratch;
    if (n <= s->cap_host) return MCL_OK;
    int32_t *p = realloc(s->host_ints, n * sizeof *p);
    if (!p) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    s->host_ints = p;
    s->cap_host = n;
    return MCL_OK;
}

mcl_status mcl_scratch_pick(mcl_model *m)
{
    mcl_scratch *s = &m->scratch;
    if (!s->pick_ctl) MCL_TRY(grow(m, &s->pick_ctl, MCL_PICK_CTL_INTS * 4, "chained decode control"));
    if (!s->pick_ring) MCL_TRY(grow(m, &s->pick_ring, MCL_CHAIN_RING * 4, "chained decode ids"));
    if (s->pick_host) return MCL_OK;
    /* pinned host memory (CL_MEM_ALLOC_HOST_PTR, mapped once), the kind NVIDIA documents for reads that overlap
     * the kernels; chain.c's first version, reading into pageable memory, did not run ahead (session 13) */
    if (!s->pick_pin)
        MCL_TRY(mcl_buffer_create(m->rt, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, MCL_CHAIN_PIN * 4,
                                  "chained decode staging", &s->pick_pin));
    cl_int err = CL_SUCCESS;
    void *p = clEnqueueMapBuffer(m->rt->queue, s->pick_pin, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0, MCL_CHAIN_PIN * 4,
                                 0, NULL, NULL, &err);
    if (err != CL_SUCCESS || !p) return mcl_error_cl(err, "clEnqueueMapBuffer(chained decode staging)");
    s->pick_host = p;
    return MCL_OK;
}
