/* The architecture seam: everything that differs between Mamba variants is
 * one mcl_arch record, defined in one file per architecture
 * (src/model/arch_mamba1.c) and found through mcl_config.arch. The rest of
 * the model (checkpoint binding, host weights, upload, memory plan, state
 * pools, scratch, the prefill/decode passes) is generic over it:
 *   - weights: the table of weights (checkpoint/weight_table.h), which the
 *     checkpoint binds, mcl_weights holds, the model uploads and plans for;
 *   - states: the recurrent state tensors kept per layer per sequence;
 *   - acts: the per-token fp32 activation buffers of one layer's sequence;
 *   - prefill_layer / decode_layer: one layer's launch sequence (decode:
 *     or several layers').
 * docs/architecture.md, "How to add an architecture", lists the steps. */
#ifndef MCL_ARCH_H
#define MCL_ARCH_H

#include "mambacl.h"
#include "checkpoint/checkpoint.h"
#include "checkpoint/weight_table.h"

#define MCL_ARCH_MAX_STATES 4 /* state tensors per layer */
#define MCL_ARCH_MAX_ACTS 8   /* activation buffers per token row */

/* A per-layer state tensor (elements of one sequence's slot) or a per-row
 * activation (elements of one token row), fp32, shape in config terms. */
typedef struct mcl_arch_tensor {
    const char *name;  /* in messages: "conv state" */
    const char *shape; /* "d_inner, d_conv - 1" */
} mcl_arch_tensor;

typedef struct mcl_arch {
    mcl_arch_id id;
    const char *name;              /* "Mamba-1" */
    mcl_weight_table weights;
    int w_embed, w_norm_f, w_head; /* global rows the generic passes use; the head, when
                                    * absent (tied), is the embedding */
    const mcl_arch_tensor *states; /* [n_states] */
    int n_states;
    const mcl_arch_tensor *acts;   /* [n_acts] */
    int n_acts;
    /* The config is one this architecture can run (positive sizes, no
     * unsupported options): MCL_ERR_INVALID_ARG / MCL_ERR_UNSUPPORTED. */
    mcl_status (*check)(const mcl_config *c);
    /* One layer over T token rows of n_seqs sequences: the residual stream
     * m->scratch.h [T, d_model] is updated in place, the layer's states in
     * the slots m->scratch.slot, sequences starting at m->scratch.seq_start.
     * Enqueue only. */
    mcl_status (*prefill_layer)(mcl_model *m, int layer, int T, int n_seqs);
    /* One token of each of B sequences (rows of h, slots m->scratch.slot)
     * through layers [layer, layer + *n_run): the architecture may run
     * several layers at once (*n_run >= 1, set on success). */
    mcl_status (*decode_layer)(mcl_model *m, int layer, int B, int *n_run);
    /* Whether every state write of a B-sequence decode step can be halted
     * on the device (*ok): then, while m->scratch.halt_on, the step's
     * launches do nothing once m->scratch.pick_ctl's halt word is set
     * (src/model/chain.c). NULL: never. Errors: those of a first probe. */
    mcl_status (*decode_haltable)(mcl_model *m, int B, bool *ok);
} mcl_arch;

/* ---- arch.c: the registry (above every architecture file) ---- */

/* The architecture of `c`, or MCL_ERR_UNSUPPORTED naming c->arch. */
mcl_status mcl_arch_get(const mcl_config *c, const mcl_arch **out);

/* Checks that a config is one this runtime can run: a known architecture
 * whose check accepts it. MCL_ERR_INVALID_ARG / MCL_ERR_UNSUPPORTED. */
mcl_status mcl_config_check(const mcl_config *c);

/* Device bytes of one sequence's recurrent state over all layers (fp32);
 * 0 for an unknown architecture. */
uint64_t mcl_arch_state_bytes(const mcl_config *c);

/* Elements of state tensor `i` in one slot of one layer. */
static inline uint64_t mcl_arch_state_elems(const mcl_arch *a, const mcl_config *c, int i)
{
    return mcl_shape_elems(a->states[i].shape, c);
}

/* Elements of activation `i` in one token row. */
static inline uint64_t mcl_arch_act_elems(const mcl_arch *a, const mcl_config *c, int i)
{
    return mcl_shape_elems(a->acts[i].shape, c);
}

#endif
