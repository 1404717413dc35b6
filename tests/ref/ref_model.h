/* Plain C reference of the whole Mamba-1 model: one token at a time, double
 * accumulation and double states, over the host weights of mcl_weights (a
 * checkpoint or random weights, rows named by model/arch_mamba1.h). The
 * tests compare the OpenCL path against it; it is test code, not a CPU
 * fallback of the library (there is none). */
#ifndef REF_MODEL_H
#define REF_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include "model/arch_mamba1.h"
#include "model/weights.h"

typedef struct ref_model ref_model;
typedef struct ref_state ref_state;

/* Copies the weights into fp32 arrays (values exactly as stored). The model
 * does not keep `w`. Returns NULL when out of memory. */
ref_model *ref_model_create(const mcl_weights *w);
void ref_model_free(ref_model *m);
const mcl_config *ref_model_config(const ref_model *m);

/* A zeroed state (conv and SSM state of every layer); NULL when out of memory. */
ref_state *ref_state_create(const ref_model *m);
void ref_state_free(ref_state *s);
void ref_state_reset(const ref_model *m, ref_state *s);
void ref_state_copy(const ref_model *m, ref_state *dst, const ref_state *src);

/* Runs one token through every layer, updating the state; writes the
 * logits [vocab] when `logits` is not NULL. The token must be in range. */
void ref_model_step(const ref_model *m, ref_state *s, int32_t token, double *logits);

/* Runs n tokens from the state. With all, logits is [n, vocab] (every
 * position), else [vocab] (the last position). */
void ref_model_forward(const ref_model *m, ref_state *s, const int32_t *tokens, int n,
                       double *logits, bool all);

#endif
