/* mcl_decode_greedy (include/mambacl.h): greedy decode steps of one
 * sequence, chained on the device where it can be.
 *
 * Chained (mcl_forward_decode_chainable: batch 1 through the persistent
 * layer, one embedding buffer, the final norm fused into the head): the host
 * writes the first id and the slot once, then enqueues step after step
 *   [embed_gather(ids[0]), first step only] -> dlayer (all layers)
 *   -> gemv_in (norm_f + head) -> greedy_pick (ids[0] = argmax,
 *      ring[i % MCL_CHAIN_RING] = it, count; a stop id sets the halt word;
 *      h = the embedding row of the id: the next step's input)
 * without reading logits, so the GPU never waits for the host between steps
 * (the host's ~0.2 ms per step at 1.4b on the H200, session 12, overlaps the
 * kernels). Every CHAIN_WINDOW steps it enqueues non-blocking reads of the
 * halt and count words and of that window's ids into pinned host memory
 * (scratch.pick_pin), flushes, then waits for the previous window's reads:
 * the host runs at most two windows ahead. (The first version read into
 * pageable memory, flushed nothing and read the timeout flag every step: on
 * the H200 it ran no faster than the host loop; which of the three mattered
 * is not measured: docs/performance.md, session 13.) The persistent
 * layer's timeout flag is read once, after the last step. Steps enqueued after a
 * stop run as no-ops (dlayer's loop runs no layer while the halt word is
 * set, greedy_pick writes nothing; the head only writes scratch),
 * so the state is exactly what the host loop leaves.
 * Otherwise, or with MAMBACL_DISABLE=chain: the host loop, mcl_decode's step
 * and the greedy sampler. */
#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "base/error.h"
#include "model/forward.h"
#include "ops/kern.h"
#include "ops/kern_dlayer.h"

#define CHAIN_WINDOW (MCL_CHAIN_RING / 2)
#define PIN_ROW (2 + CHAIN_WINDOW) /* a window's row of the pinned staging: halt, count, ids */

typedef struct chain {
    mcl_model *m;
    int32_t *ids;      // [max_steps] the ids read back, window by window
    int first[2], n[2]; /* per window parity: the steps whose reads are in flight */
    cl_event ev[2];    /* those reads' events */
    bool halted;       /* a window read back had the halt word set */
    int last;          /* the parity of the last window read: after the last step, its count is the final one */
} chain;

/* Waits for the reads of window parity k (if any), copies its ids out of
 * the pinned staging and notes a halt. */
static mcl_status window_wait(chain *c, int k)
{
    if (!c->ev[k]) return MCL_OK;
    cl_int err = clWaitForEvents(1, &c->ev[k]);
    clReleaseEvent(c->ev[k]);
    c->ev[k] = NULL;
    if (err != CL_SUCCESS) return mcl_error_cl(err, "clWaitForEvents(chained decode window)");
    const int32_t *row = c->m->scratch.pick_host + k * PIN_ROW;
    memcpy(c->ids + c->first[k], row + 2, (size_t)c->n[k] * sizeof *c->ids);
    c->halted = c->halted || row[MCL_PICK_CTL_HALT] != 0;
    return MCL_OK;
}

/* Enqueues the reads of window w (steps [w * W, end)) into its row of the
 * pinned staging: the halt and count words, then its ids from the ring,
 * with an event. */
static mcl_status window_read(chain *c, int w, int end)
{
    mcl_scratch *s = &c->m->scratch;
    cl_command_queue q = c->m->rt->queue;
    int k = w % 2, first = w * CHAIN_WINDOW, n = end - first;
    int32_t *row = s->pick_host + k * PIN_ROW;
    size_t at = (size_t)(first % MCL_CHAIN_RING) * 4;
    MCL_ASSERT(n >= 1 && n <= CHAIN_WINDOW && !c->ev[k], "a chained window of 1..W steps, its row free");
    MCL_CL_CHECK(clEnqueueReadBuffer(q, s->pick_ctl, CL_FALSE, 0, 2 * 4, row, 0, NULL, NULL),
                 "clEnqueueReadBuffer(chained decode halt word)");
    MCL_CL_CHECK(clEnqueueReadBuffer(q, s->pick_ring, CL_FALSE, at, (size_t)n * 4, row + 2, 0, NULL, &c->ev[k]),
                 "clEnqueueReadBuffer(chained decode ids %d..%d)", first, end);
    c->first[k] = first;
    c->n[k] = n;
    c->last = k;
    return MCL_OK;
}

/* The control words at the start: not halted, no ids yet, the stop ids. */
static mcl_status ctl_write(mcl_model *m, const int32_t *stop, int n_stop)
{
    int32_t ctl[MCL_PICK_CTL_INTS] = {0};
    for (int k = 0; k < n_stop; k++) ctl[MCL_PICK_CTL_STOP + k] = stop[k];
    ctl[MCL_PICK_CTL_N_STOP] = n_stop;
    MCL_CL_CHECK(clEnqueueWriteBuffer(m->rt->queue, m->scratch.pick_ctl, CL_TRUE, 0, sizeof ctl, ctl, 0, NULL, NULL),
                 "clEnqueueWriteBuffer(chained decode control)");
    return MCL_OK;
}

/* Enqueues the steps (see the header); returns once they have all run,
 * with *n_out the ids chosen. */
static mcl_status chain_steps(chain *c, mcl_state *state, int32_t token, int max_steps, int *n_out)
{
    mcl_model *m = c->m;
    mcl_scratch *s = &m->scratch;
    MCL_TRY(mcl_forward_decode_inputs(m, &state, &token, 1));
    const mcl_dmat *E = mcl_model_w(m, m->arch->w_embed, 0); /* one buffer: chainable */
    for (int i = 0; i < max_steps; i++) {
        MCL_TRY(mcl_forward_decode_chained(m, &token, 1, i == 0)); /* later steps: greedy_pick gathered h */
        MCL_TRY(mcl_kern_greedy_pick(m->rt, s->logits, m->cfg.vocab_size, s->ids, s->pick_ring, i % MCL_CHAIN_RING,
                                     i, s->pick_ctl, E->parts[0], E->dtype, s->h, m->cfg.d_model));
        if ((i + 1) % CHAIN_WINDOW != 0 && i + 1 != max_steps) continue;
        int w = i / CHAIN_WINDOW;
        MCL_TRY(window_read(c, w, i + 1));
        MCL_CL_CHECK(clFlush(m->rt->queue), "clFlush(chained decode window %d)", w); /* to the GPU now */
        if (w > 0) MCL_TRY(window_wait(c, (w - 1) % 2));
        if (c->halted) break; /* a stop: no more steps */
    }
    MCL_TRY(mcl_kern_dlayer_flag_read(m->rt)); /* the persistent layer's timeout flag, once */
    MCL_TRY(mcl_runtime_finish(m->rt));
    for (int k = 0; k < 2; k++) MCL_TRY(window_wait(c, k));
    int count = s->pick_host[c->last * PIN_ROW + MCL_PICK_CTL_COUNT]; /* read after the last step */
    MCL_ASSERT(count >= 1 && count <= max_steps, "chained decode chose 1..max_steps ids");
    *n_out = count;
    return mcl_kern_dlayer_flag_check(m->rt); /* a barrier of the persistent layer that timed out */
}

static mcl_status chained(mcl_model *m, mcl_state *state, int32_t token, int max_steps, const int32_t *stop,
                          int n_stop, int32_t *out, int *n_out)
{
    chain c = {.m = m, .ids = malloc((size_t)max_steps * sizeof *c.ids)};
    if (!c.ids) return mcl_error_set(MCL_ERR_NOMEM, "chained decode: %d ids", max_steps);
    mcl_status st = mcl_scratch_pick(m);
    if (st == MCL_OK) st = ctl_write(m, stop, n_stop);
    m->scratch.halt_on = true;
    if (st == MCL_OK) st = chain_steps(&c, state, token, max_steps, n_out);
    m->scratch.halt_on = false;
    if (st != MCL_OK) clFinish(m->rt->queue); /* reads into c.ids may be in flight */
    for (int k = 0; k < 2; k++)
        if (c.ev[k]) clReleaseEvent(c.ev[k]);
    if (st == MCL_OK) memcpy(out, c.ids, (size_t)*n_out * sizeof *out);
    free(c.ids);
    return st;
}

/* The host loop: mcl_decode's step, the logits read back, the greedy sampler. */
static mcl_status host_loop(mcl_model *m, mcl_state *state, int32_t token, int max_steps, const int32_t *stop,
                            int n_stop, int32_t *out, int *n_out)
{
    mcl_sampler_params sp = {0}; /* temperature 0: argmax, no penalty */
    mcl_sampler *smp = NULL;
    MCL_TRY(mcl_sampler_create(&sp, m->cfg.vocab_size, &smp));
    float *logits = malloc((size_t)m->cfg.vocab_size * sizeof *logits);
    mcl_status st = logits ? MCL_OK : mcl_error_set(MCL_ERR_NOMEM, "greedy decode: %d logits", m->cfg.vocab_size);
    int n = 0;
    for (bool stopped = false; st == MCL_OK && n < max_steps && !stopped;) {
        st = mcl_forward_decode(m, &state, &token, 1, logits);
        if (st != MCL_OK) break;
        token = out[n++] = mcl_sampler_sample(smp, logits, NULL, 0);
        for (int k = 0; k < n_stop; k++) stopped = stopped || token == stop[k];
    }
    *n_out = st == MCL_OK ? n : 0;
    free(logits);
    mcl_sampler_free(smp);
    return st;
}

static mcl_status greedy(mcl_model *m, mcl_state *state, int32_t token, int max_steps, const int32_t *stop,
                         int n_stop, int32_t *out, int *n_out)
{
    if (!out || !n_out || max_steps < 1 || n_stop < 0 || n_stop > MCL_GREEDY_MAX_STOP || (n_stop > 0 && !stop))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "greedy decode: NULL out or n_out, max_steps %d < 1, or %d stop "
                             "ids (NULL or outside [0, %d])", max_steps, n_stop, MCL_GREEDY_MAX_STOP);
    MCL_TRY(mcl_forward_decode_prepare(m, &state, &token, 1));
    bool ok = false;
    if (!mcl_env_lists("MAMBACL_DISABLE", "chain")) MCL_TRY(mcl_forward_decode_chainable(m, 1, &ok));
    return (ok ? chained : host_loop)(m, state, token, max_steps, stop, n_stop, out, n_out);
}

mcl_status mcl_decode_greedy(mcl_model *m, mcl_state *state, int32_t token, int max_steps, const int32_t *stop,
                             int n_stop, int32_t *out, int *n_out)
{
    if (n_out) *n_out = 0;
    if (!m) return mcl_error_set(MCL_ERR_INVALID_ARG, "greedy decode: NULL model");
    mcl_runtime_lock(m->rt);
    mcl_status st = greedy(m, state, token, max_steps, stop, n_stop, out, n_out);
    mcl_runtime_unlock(m->rt);
    return st;
}
