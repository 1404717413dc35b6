/* The forward pass: prefill and decode launch sequences over a model's
 * device buffers (public API in include/mambacl.h, forward-pass section).
 *
 * Sizing: a prefill runs in passes of at most model->max_rows token rows
 * (from the memory plan in model.c: 4096, fewer when one activation buffer
 * would exceed the device's max allocation or a quarter of the memory the
 * weights leave); the logits asked for are computed and read back in blocks
 * of MCL_HEAD_BLOCK rows, so `--all` over long inputs needs no large buffer.
 * Scratch buffers (model->scratch) grow to the largest pass or batch seen
 * and are released with the model. */
#ifndef MCL_FORWARD_H
#define MCL_FORWARD_H

#include "model/model.h"

#define MCL_HEAD_BLOCK 256 /* rows of logits per LM-head launch and read-back */

/* ---- a decode step in pieces, for chain.c (the caller holds the runtime's
 * lock; errors as mcl_decode's) ---- */

/* mcl_decode without the lock. */
mcl_status mcl_forward_decode(mcl_model *m, mcl_state **states, const int32_t *tokens, int n_seqs, float *logits);

/* mcl_decode's checks of its arguments and the scratch of its step, before
 * anything is enqueued. */
mcl_status mcl_forward_decode_prepare(mcl_model *m, mcl_state **states, const int32_t *tokens, int n_seqs);

/* Whether a step of B sequences can be chained on the device (*ok): one
 * embedding buffer, the final norm fused into a head of one buffer, and
 * every state write haltable (arch->decode_haltable). */
mcl_status mcl_forward_decode_chainable(mcl_model *m, int B, bool *ok);

/* Enqueues the writes of the token ids (to scratch.ids) and the states'
 * slots without a wait: the host copies live in scratch.host_ints, which
 * must stay as they are until the queue has run them. */
mcl_status mcl_forward_decode_inputs(mcl_model *m, mcl_state **states, const int32_t *tokens, int n_seqs);

/* Enqueues one step from the ids and slots already on the device, nothing
 * read back: the embedding (with_embed; tokens: the host copy of the ids,
 * which only a split embedding reads; else scratch.h holds the rows
 * already), the layers, and the fused head into scratch.logits
 * (mcl_forward_decode_chainable said yes). */
mcl_status mcl_forward_decode_chained(mcl_model *m, const int32_t *tokens, int n_seqs, bool with_embed);

#endif
