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

#endif
