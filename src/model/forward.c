/* The prefill and decode passes, generic over the architecture: the
 * per-layer sequences are m->arch->prefill_layer / decode_layer
 * (src/model/arch_mamba1.c for Mamba-1).
 *
 * Prefill (T tokens of n_seqs sequences, in passes of at most m->max_rows
 * token rows; a sequence longer than a pass continues in the next one from
 * its state):
 *   h = embed[ids]                                     embed_gather
 *   per layer: the architecture's prefill_layer        (updates h and the states)
 *   hsel = rmsnorm_f(h[rows asked for])                rmsnorm_residual(rows)
 *   logits = hsel . W_head^T                           mcl_op_matmul (gemv up to 16 rows)
 * Decode (one token per sequence) is the same chain with decode_layer (which
 * may run several layers per call: Mamba-1's persistent launch); when
 * it runs fused (mcl_kern_decode_fused) the final norm is fused into the LM
 * head (gemv_in) for a head of one buffer.
 */
#include "model/forward.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "ops/gemm.h"
#include "ops/kern.h"
#include "ops/kern_cgemv.h"
#include "ops/kern_decode.h"
#include "ops/kern_dlayer.h"

static mcl_status write_ints(mcl_model *m, cl_mem buf, const int32_t *v, size_t n, const char *what)
{
    MCL_CL_CHECK(clEnqueueWriteBuffer(m->rt->queue, buf, CL_TRUE, 0, n * 4, v, 0, NULL, NULL),
                 "clEnqueueWriteBuffer(%s, %zu ints)", what, n);
    return MCL_OK;
}

/* ---- input checks ---------------------------------------------------------- */

static mcl_status check_states(const mcl_model *m, mcl_state *const *states, int n)
{
    if (!states) return mcl_error_set(MCL_ERR_INVALID_ARG, "states is NULL");
    for (int b = 0; b < n; b++) {
        if (!states[b] || states[b]->model != m)
            return mcl_error_set(MCL_ERR_INVALID_ARG, "state %d is NULL or of another model", b);
        for (int j = 0; j < b; j++)
            if (states[j] == states[b])
                return mcl_error_set(MCL_ERR_INVALID_ARG, "state %d appears twice in the batch (%d, %d)",
                                     b, j, b);
    }
    return MCL_OK;
}

static mcl_status check_ids(const mcl_model *m, const int32_t *ids, int n, int seq)
{
    for (int t = 0; t < n; t++)
        if (ids[t] < 0 || ids[t] >= m->cfg.vocab_size)
            return mcl_error_set(MCL_ERR_INVALID_ARG,
                                 "token id %d at position %d of sequence %d is outside [0, %d)",
                                 (int)ids[t], t, seq, m->cfg.vocab_size);
    return MCL_OK;
}

static mcl_status check_prefill(const mcl_model *m, mcl_state *const *states,
                                const int32_t *const *tokens, const int *lengths, int n_seqs,
                                long long *total)
{
    if (!m || !tokens || !lengths || n_seqs < 1)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "prefill: NULL argument or n_seqs %d < 1", n_seqs);
    MCL_TRY(check_states(m, states, n_seqs));
    *total = 0;
    for (int b = 0; b < n_seqs; b++) {
        if (lengths[b] < 1 || !tokens[b])
            return mcl_error_set(MCL_ERR_INVALID_ARG, "sequence %d has no tokens (length %d)", b,
                                 lengths[b]);
        MCL_TRY(check_ids(m, tokens[b], lengths[b], b));
        *total += lengths[b];
    }
    if (*total > INT_MAX)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "prefill of %lld tokens is too long", *total);
    return MCL_OK;
}

/* ---- building blocks --------------------------------------------------------- */

/* h[0..T) = embedding rows of ids (host copy `ids`, already on the device).
 * A split embedding gathers part by part into hn, then copies each run of
 * positions that fall in the part into h. */
static mcl_status embed(mcl_model *m, const int32_t *ids, int T)
{
    const mcl_dmat *E = mcl_model_w(m, m->arch->w_embed, 0);
    mcl_scratch *s = &m->scratch;
    int dm = m->cfg.d_model;
    if (E->n_parts == 1) return mcl_kern_embed(m->rt, s->ids, E->parts[0], E->dtype, s->h, T, dm);
    MCL_TRY(mcl_scratch_host_ints(m, (size_t)T));
    for (int p = 0; p < E->n_parts; p++) {
        int r0 = p * E->rows_per_part, r1 = r0 + E->rows_per_part;
        for (int t = 0; t < T; t++) s->host_ints[t] = ids[t] >= r0 && ids[t] < r1 ? ids[t] - r0 : 0;
        MCL_TRY(write_ints(m, s->ids, s->host_ints, (size_t)T, "token ids of an embedding part"));
        MCL_TRY(mcl_kern_embed(m->rt, s->ids, E->parts[p], E->dtype, s->hn, T, dm));
        for (int t = 0; t < T;) {
            if (ids[t] < r0 || ids[t] >= r1) { t++; continue; }
            int t1 = t + 1;
            while (t1 < T && ids[t1] >= r0 && ids[t1] < r1) t1++;
            size_t row = (size_t)dm * 4;
            MCL_CL_CHECK(clEnqueueCopyBuffer(m->rt->queue, s->hn, s->h, (size_t)t * row,
                                             (size_t)t * row, (size_t)(t1 - t) * row, 0, NULL, NULL),
                         "clEnqueueCopyBuffer(embedding rows)");
            t = t1;
        }
    }
    return MCL_OK;
}

/* logits[0..n) = hsel[0..n) . W_head^T, part by part when the head is split. */
static mcl_status head(mcl_model *m, int n)
{
    const mcl_dmat *H = mcl_model_w(m, m->arch->w_head, 0);
    mcl_scratch *s = &m->scratch;
    int dm = m->cfg.d_model, v = m->cfg.vocab_size;
    if (H->n_parts == 1)
        return mcl_op_matmul(m->rt, "lm_head", H->parts[0], H->dtype, v, dm, s->hsel, n, 0.0f, s->logits);
    for (int p = 0; p < H->n_parts; p++) {
        int r0 = p * H->rows_per_part, nr = v - r0 < H->rows_per_part ? v - r0 : H->rows_per_part;
        MCL_TRY(mcl_op_matmul(m->rt, "lm_head", H->parts[p], H->dtype, nr, dm, s->hsel, n, 0.0f, s->head_part));
        size_t src[3] = {0, 0, 0}, dst[3] = {(size_t)r0 * 4, 0, 0}, region[3] = {(size_t)nr * 4, (size_t)n, 1};
        MCL_CL_CHECK(clEnqueueCopyBufferRect(m->rt->queue, s->head_part, s->logits, src, dst, region,
                                             (size_t)nr * 4, 0, (size_t)v * 4, 0, 0, NULL, NULL),
                     "clEnqueueCopyBufferRect(LM head part %d)", p);
    }
    return MCL_OK;
}

/* For the n rows listed in `rows` (positions of h): out[i] = logits of row
 * rows[i], computed and read back in blocks of MCL_HEAD_BLOCK rows. */
static mcl_status logits_of_rows(mcl_model *m, const int32_t *rows, int n, float *out)
{
    size_t v = (size_t)m->cfg.vocab_size;
    for (int i0 = 0; i0 < n; i0 += MCL_HEAD_BLOCK) {
        int nb = n - i0 < MCL_HEAD_BLOCK ? n - i0 : MCL_HEAD_BLOCK;
        MCL_TRY(mcl_scratch_sel(m, nb));
        MCL_TRY(write_ints(m, m->scratch.sel_rows, rows + i0, (size_t)nb, "selected rows"));
        MCL_TRY(mcl_kern_rmsnorm(m->rt, m->scratch.h, NULL, mcl_model_buf(m, m->arch->w_norm_f, 0), m->cfg.norm_eps,
                                 m->scratch.hsel, m->scratch.sel_rows, nb, m->cfg.d_model));
        MCL_TRY(head(m, nb));
        MCL_CL_CHECK(clEnqueueReadBuffer(m->rt->queue, m->scratch.logits, CL_TRUE, 0,
                                         (size_t)nb * v * 4, out + (size_t)i0 * v, 0, NULL, NULL),
                     "clEnqueueReadBuffer(logits, %d rows)", nb);
    }
    return MCL_OK;
}

/* ---- prefill ------------------------------------------------------------------- */

/* One pass over the token rows [g0, g0 + T) of the concatenated batch. */
typedef struct prefill_pass {
    int g0, T;        /* first global row, rows */
    int b0, n_seqs;   /* sequences that have rows in the pass */
    int n_sel;        /* rows whose logits are wanted */
    int out0;         /* their first row in the caller's logits */
} prefill_pass;

typedef struct prefill_job {
    mcl_state **states;
    const int32_t *const *tokens;
    const long long *starts; /* [n_seqs + 1] global row of each sequence */
    int n_seqs;
    bool all;
    float *logits;
    long long total;         /* rows of the whole call, for progress reports */
} prefill_job;

/* Fills the pass's host arrays: ids [T], seq_start [n+1], slot [n], rows [n_sel]. */
static void plan_pass(mcl_model *m, const prefill_job *j, prefill_pass *p, int32_t *ids,
                      int32_t *seq_start, int32_t *slot, int32_t *rows)
{
    int g1 = p->g0 + p->T;
    p->b0 = 0;
    while (j->starts[p->b0 + 1] <= p->g0) p->b0++;
    p->n_seqs = 0;
    p->n_sel = 0;
    p->out0 = -1;
    for (int b = p->b0; b < j->n_seqs && j->starts[b] < g1; b++) {
        int lo = (int)(j->starts[b] > p->g0 ? j->starts[b] : p->g0);
        int hi = (int)(j->starts[b + 1] < g1 ? j->starts[b + 1] : g1);
        seq_start[p->n_seqs] = lo - p->g0;
        slot[p->n_seqs] = j->states[b]->slot;
        p->n_seqs++;
        memcpy(ids + (lo - p->g0), j->tokens[b] + (lo - j->starts[b]), (size_t)(hi - lo) * 4);
        if (j->all) {
            for (int g = lo; g < hi; g++) rows[p->n_sel++] = g - p->g0;
            if (p->out0 < 0) p->out0 = lo;
        } else if (hi == j->starts[b + 1]) {
            rows[p->n_sel++] = hi - 1 - p->g0;
            if (p->out0 < 0) p->out0 = b;
        }
    }
    seq_start[p->n_seqs] = p->T;
    (void)m;
}

#define MCL_PROGRESS_ROWS 1024 /* tokens per pass while a prefill callback is installed */

void mcl_model_set_prefill_progress(mcl_model *m, mcl_prefill_progress_fn fn, void *user)
{
    if (!m) return;
    m->prefill_progress = fn;
    m->prefill_user = user;
}

/* Tells the caller's callback (if any) how far the prefill is, once the
 * device has done that much; MCL_ERR_INTERRUPTED when it says stop. */
static mcl_status report_progress(mcl_model *m, const prefill_job *j, long long done)
{
    if (!m->prefill_progress) return MCL_OK;
    MCL_TRY(mcl_runtime_finish(m->rt));
    if (m->prefill_progress((uint64_t)done, (uint64_t)j->total, m->prefill_user)) return MCL_OK;
    return mcl_error_set(MCL_ERR_INTERRUPTED, "prefill stopped by the caller after %lld of %lld tokens", done,
                         j->total);
}

static mcl_status run_pass(mcl_model *m, const prefill_job *j, prefill_pass *p)
{
    mcl_scratch *s = &m->scratch;
    int n_in = j->n_seqs;
    MCL_TRY(mcl_scratch_rows(m, p->T));
    MCL_TRY(mcl_scratch_seqs(m, n_in));
    /* host_ints[0, T) is the split embedding's scratch (see embed) */
    MCL_TRY(mcl_scratch_host_ints(m, (size_t)p->T * 3 + 2 * (size_t)n_in + 1));
    int32_t *ids = s->host_ints + p->T, *rows = ids + p->T, *seq_start = rows + p->T;
    int32_t *slot = seq_start + n_in + 1;
    plan_pass(m, j, p, ids, seq_start, slot, rows);
    MCL_TRY(write_ints(m, s->ids, ids, (size_t)p->T, "token ids"));
    MCL_TRY(write_ints(m, s->seq_start, seq_start, (size_t)p->n_seqs + 1, "seq_start"));
    MCL_TRY(write_ints(m, s->slot, slot, (size_t)p->n_seqs, "slots"));
    MCL_TRY(embed(m, ids, p->T));
    for (int l = 0; l < m->cfg.n_layer; l++) {
        MCL_TRY(m->arch->prefill_layer(m, l, p->T, p->n_seqs));
        MCL_TRY(report_progress(m, j, p->g0 + (long long)p->T * (l + 1) / m->cfg.n_layer));
    }
    if (!j->logits || p->n_sel == 0) return MCL_OK;
    return logits_of_rows(m, rows, p->n_sel, j->logits + (size_t)p->out0 * (size_t)m->cfg.vocab_size);
}

static mcl_status prefill(mcl_model *m, mcl_state **states, const int32_t *const *tokens,
                          const int *lengths, int n_seqs, float *logits, bool all)
{
    long long total = 0;
    MCL_TRY(check_prefill(m, states, tokens, lengths, n_seqs, &total));
    mcl_runtime_set_model_shape(m->rt, m->cfg.d_inner, m->cfg.d_model); /* configurations picked by shape */
    if (all && !logits) return mcl_error_set(MCL_ERR_INVALID_ARG, "prefill_all: logits is NULL");
    long long *starts = malloc(((size_t)n_seqs + 1) * sizeof *starts);
    if (!starts) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    starts[0] = 0;
    for (int b = 0; b < n_seqs; b++) starts[b + 1] = starts[b] + lengths[b];
    prefill_job job = {states, tokens, starts, n_seqs, all, logits, total};
    mcl_status st = MCL_OK;
    /* With a progress callback, shorter passes: it then hears from each layer
     * of at most MCL_PROGRESS_ROWS tokens (a stop request is honoured sooner). */
    int rows = m->prefill_progress && m->max_rows > MCL_PROGRESS_ROWS ? MCL_PROGRESS_ROWS : m->max_rows;
    for (long long g0 = 0; st == MCL_OK && g0 < total; g0 += rows) {
        prefill_pass p = {(int)g0, (int)(total - g0 < rows ? total - g0 : rows), 0, 0, 0, 0};
        st = run_pass(m, &job, &p);
    }
    free(starts);
    if (st == MCL_OK) st = mcl_runtime_finish(m->rt);
    return st;
}

/* The public entry points hold the runtime's lock for the whole call (the
 * kernels' arguments, the scratch and the pools are shared). */
static mcl_status prefill_locked(mcl_model *m, mcl_state **states, const int32_t *const *tokens,
                                 const int *lengths, int n_seqs, float *logits, bool all)
{
    if (!m) return mcl_error_set(MCL_ERR_INVALID_ARG, "prefill: NULL model");
    mcl_runtime_lock(m->rt);
    mcl_status st = prefill(m, states, tokens, lengths, n_seqs, logits, all);
    mcl_runtime_unlock(m->rt);
    return st;
}

mcl_status mcl_prefill(mcl_model *m, mcl_state **states, const int32_t *const *tokens,
                       const int *lengths, int n_seqs, float *logits)
{
    return prefill_locked(m, states, tokens, lengths, n_seqs, logits, false);
}

mcl_status mcl_prefill_all(mcl_model *m, mcl_state **states, const int32_t *const *tokens,
                           const int *lengths, int n_seqs, float *logits)
{
    return prefill_locked(m, states, tokens, lengths, n_seqs, logits, true);
}

/* ---- decode ---------------------------------------------------------------------- */

/* Whether the final norm fuses into the LM head (one launch, gemv_in) for a
 * B-sequence step: decode runs fused and the head is one buffer. */
static bool head_fuses(const mcl_model *m, int B)
{
    const mcl_dmat *H = mcl_model_w(m, m->arch->w_head, 0);
    return mcl_kern_decode_fused(m->rt, B, H->dtype) && H->n_parts == 1;
}

/* Enqueues scratch.logits [B, vocab] = head(rmsnorm_f(h)), fused (head_fuses). */
static mcl_status decode_head(mcl_model *m, int B)
{
    const mcl_dmat *H = mcl_model_w(m, m->arch->w_head, 0);
    MCL_ASSERT(head_fuses(m, B), "decode_head on a head that does not fuse");
    MCL_TRY(mcl_scratch_sel(m, B));
    bool cg = mcl_kern_cgemv_wanted(m->rt, B); /* CPUs: cgemv.cl's projections */
    return (cg ? mcl_kern_cgemv_in : mcl_kern_gemv_in)(m->rt, H->parts[0], H->dtype, m->scratch.h,
                                                       m->scratch.logits, m->cfg.vocab_size, m->cfg.d_model, B,
                                                       mcl_model_buf(m, m->arch->w_norm_f, 0), m->cfg.norm_eps,
                                                       NULL);
}

/* Logits of the B decoded rows: decode_head when the head fuses, else
 * through logits_of_rows. */
static mcl_status decode_logits(mcl_model *m, const int32_t *rows, int B, float *out)
{
    if (!head_fuses(m, B)) return logits_of_rows(m, rows, B, out);
    MCL_TRY(decode_head(m, B));
    MCL_CL_CHECK(clEnqueueReadBuffer(m->rt->queue, m->scratch.logits, CL_TRUE, 0,
                                     (size_t)B * (size_t)m->cfg.vocab_size * 4, out, 0, NULL, NULL),
                 "clEnqueueReadBuffer(logits, %d rows)", B);
    return MCL_OK;
}

/* Enqueues the write of n ints without waiting: host must stay unchanged
 * until the queue has run it (decode: host_ints, until the step's last wait).
 * A blocking write costs a round trip to the driver's threads before any
 * kernel is enqueued (on PoCL about as much as a launch or more). */
static mcl_status write_ints_async(mcl_model *m, cl_mem buf, const int32_t *host, size_t n, const char *what)
{
    MCL_CL_CHECK(clEnqueueWriteBuffer(m->rt->queue, buf, CL_FALSE, 0, n * 4, host, 0, NULL, NULL),
                 "clEnqueueWriteBuffer(%s, %zu ints)", what, n);
    return MCL_OK;
}

/* h = embed[scratch.ids] (tokens: their host copy; with_embed false: h
 * holds them already), then every layer; the host's time here is added to
 * rt->host_layers_ms. */
static mcl_status decode_layers(mcl_model *m, const int32_t *tokens, int n_seqs, bool with_embed)
{
    double t0 = mcl_now_ms();
    if (with_embed) MCL_TRY(embed(m, tokens, n_seqs));
    for (int l = 0, n = 1; l < m->cfg.n_layer; l += n) {
        n = 1;
        MCL_TRY(m->arch->decode_layer(m, l, n_seqs, &n));
        MCL_ASSERT(n >= 1 && l + n <= m->cfg.n_layer, "decode_layer ran 1 to n_layer - l layers");
    }
    m->rt->host_layers_ms += mcl_now_ms() - t0;
    return MCL_OK;
}

mcl_status mcl_forward_decode_inputs(mcl_model *m, mcl_state **states, const int32_t *tokens, int n_seqs)
{
    mcl_scratch *s = &m->scratch;
    int32_t *slot = s->host_ints + n_seqs, *ids = s->host_ints + 3 * n_seqs;
    for (int b = 0; b < n_seqs; b++) {
        slot[b] = states[b]->slot;
        ids[b] = tokens[b];
    }
    MCL_TRY(write_ints_async(m, s->ids, ids, (size_t)n_seqs, "token ids"));
    return write_ints_async(m, s->slot, slot, (size_t)n_seqs, "slots");
}

/* The step's commands after the checks; the token ids and slots go to the
 * device from copies in host_ints without a wait. Returns with the queue
 * drained when logits were read (a blocking read on the in-order queue
 * ends after every earlier command), else with work in flight. */
static mcl_status decode_enqueue(mcl_model *m, mcl_state **states, const int32_t *tokens, int n_seqs,
                                 float *logits)
{
    int32_t *rows = m->scratch.host_ints + 2 * n_seqs;
    for (int b = 0; b < n_seqs; b++) rows[b] = b;
    MCL_TRY(mcl_forward_decode_inputs(m, states, tokens, n_seqs));
    MCL_TRY(decode_layers(m, tokens, n_seqs, true));
    if (logits) MCL_TRY(decode_logits(m, rows, n_seqs, logits));
    return MCL_OK;
}

mcl_status mcl_forward_decode_prepare(mcl_model *m, mcl_state **states, const int32_t *tokens, int n_seqs)
{
    if (!m || !tokens || n_seqs < 1)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "decode: NULL argument or n_seqs %d < 1", n_seqs);
    MCL_TRY(check_states(m, states, n_seqs));
    for (int b = 0; b < n_seqs; b++) MCL_TRY(check_ids(m, tokens + b, 1, b));
    mcl_runtime_set_model_shape(m->rt, m->cfg.d_inner, m->cfg.d_model); /* configurations picked by shape */
    MCL_TRY(mcl_scratch_rows(m, n_seqs));
    MCL_TRY(mcl_scratch_seqs(m, n_seqs));
    /* host_ints: [0, n) the split embedding's scratch (see embed), then
     * slots, rows and a copy of the token ids */
    return mcl_scratch_host_ints(m, 4 * (size_t)n_seqs);
}

mcl_status mcl_forward_decode_chainable(mcl_model *m, int B, bool *ok)
{
    *ok = false;
    if (mcl_model_w(m, m->arch->w_embed, 0)->n_parts != 1 || !head_fuses(m, B) || !m->arch->decode_haltable)
        return MCL_OK;
    return m->arch->decode_haltable(m, B, ok);
}

mcl_status mcl_forward_decode_chained(mcl_model *m, const int32_t *tokens, int n_seqs, bool with_embed)
{
    MCL_TRY(decode_layers(m, tokens, n_seqs, with_embed));
    return decode_head(m, n_seqs);
}

mcl_status mcl_forward_decode(mcl_model *m, mcl_state **states, const int32_t *tokens, int n_seqs, float *logits)
{
    MCL_TRY(mcl_forward_decode_prepare(m, states, tokens, n_seqs));
    mcl_status st = decode_enqueue(m, states, tokens, n_seqs, logits);
    if (st != MCL_OK) {
        clFinish(m->rt->queue); /* the writes may still read host_ints; the first error is the one reported */
        return st;
    }
    if (!logits) MCL_TRY(mcl_runtime_finish(m->rt));
    return mcl_kern_dlayer_flag_check(m->rt); /* a persistent layer's barrier that timed out */
}

mcl_status mcl_decode(mcl_model *m, mcl_state **states, const int32_t *tokens, int n_seqs,
                      float *logits)
{
    if (!m) return mcl_error_set(MCL_ERR_INVALID_ARG, "decode: NULL model");
    mcl_runtime_lock(m->rt);
    mcl_status st = mcl_forward_decode(m, states, tokens, n_seqs, logits);
    mcl_runtime_unlock(m->rt);
    return st;
}
