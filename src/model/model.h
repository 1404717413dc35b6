/* The model on the device: weight buffers (one per row of the
 * architecture's weight table), the per-sequence state pools and the
 * forward pass's scratch buffers. Files of src/model, each using only those
 * above it:
 *   arch.h           the architecture record (weights, states, activations, layer
 *                    sequences) and its sizes; model.h (this file): the device structs
 *   state.c          state pools, mcl_state_* (slots of buffers per group of layers), state views
 *   scratch.c        activation and staging buffers, grown on demand
 *   project.c        Y = X . W^T by gemv or GEMM (for the layer sequences)
 *   arch_mamba1.c    Mamba-1: weight table, states, activations, per-layer prefill/decode
 *   arch.c           the registry of architectures, mcl_checkpoint_open, mcl_config_check
 *   weights.c        host weights from a checkpoint or a seeded generator
 *   state_io.c       state files (mcl_state_save / mcl_state_load), the weights fingerprint
 *   model.c          memory plan, upload, release
 *   forward.c        mcl_prefill / mcl_decode: embedding, layers through the arch, LM head
 *   chain.c          mcl_decode_greedy: greedy steps chained on the device (forward.c's pieces) */
#ifndef MCL_MODEL_H
#define MCL_MODEL_H

#include <CL/cl.h>
#include "mambacl.h"
#include "runtime/runtime.h"
#include "ops/kern.h"
#include "model/arch.h"
#include "model/weights.h"

#define MCL_CHAIN_RING 16 /* chained greedy decode: ids kept on the device (two windows of chain.c) */
#define MCL_CHAIN_PIN (2 * (2 + MCL_CHAIN_RING / 2))

/* A weight on the device. A big one (MCL_WSTORE_NATIVE) keeps its checkpoint
 * dtype and is split by rows into parts when larger than one buffer may be
 * (only the embedding / LM head in practice; per-layer matrices always have
 * one part). A small one is fp32 in one part. Absent: n_parts == 0. */
typedef struct mcl_dmat {
    mcl_dtype dtype;
    int rows, cols;    /* big: the first dimension, the product of the others; small: elements, 1 */
    int n_parts;
    int rows_per_part; /* part p holds rows [p*rows_per_part, min(rows, (p+1)*rows_per_part)) */
    cl_mem *parts;     /* [n_parts] */
} mcl_dmat;

/* State pools (state.c): the layers in groups of `per` (every layer in one
 * group where the buffers fit the model's max_buffer); state i of the layers
 * of group g in one buffer buf[i][g] of [per][cap][slot_elems[i]]: slot s of
 * layer l at element ((l % per) * cap + s) * slot_elems[i] of buf[i][l / per]
 * (mcl_state_view). */
typedef struct mcl_pool {
    int cap;             /* slots allocated for every layer */
    int per, n_groups;   /* layers per buffer, buffers per state */
    unsigned char *busy; // [cap] 1 when a state owns the slot
    size_t slot_elems[MCL_ARCH_MAX_STATES]; /* elements of one slot of state i (arch->states) */
    cl_mem *buf[MCL_ARCH_MAX_STATES];       // [n_arch_states][n_groups] each [per, cap, slot_elems[i]]
} mcl_pool;

/* Scratch of the forward pass, grown on demand (never shrunk). */
typedef struct mcl_scratch {
    int cap_rows;        /* token rows of the activation buffers */
    cl_mem h;            // [cap_rows, d_model] residual stream
    cl_mem hn;           // [cap_rows, d_model] normed rows
    cl_mem act[MCL_ARCH_MAX_ACTS]; // [n_acts] each [cap_rows, row elems of arch->acts[i]]
    cl_mem ids;          // int [cap_rows]
    int cap_seqs;
    cl_mem seq_start;    // int [cap_seqs + 1]
    cl_mem slot;         // int [cap_seqs]
    int cap_sel;         /* rows of the LM head's input / output */
    cl_mem sel_rows;     // int [cap_sel] positions whose logits are asked for
    cl_mem hsel;         // [cap_sel, d_model] final-normed selected rows
    cl_mem logits;       // [cap_sel, vocab]
    cl_mem head_part;    // [cap_sel, rows_per_part] one LM-head part's output (split heads)
    int32_t *host_ints;  // host staging, [cap_host]
    size_t cap_host;
    cl_mem pick_ctl;     // int [MCL_PICK_CTL_INTS] the chained greedy decode's halt, count, stops (ops/kern.h)
    cl_mem pick_ring;    // int [MCL_CHAIN_RING] its chosen ids, by step modulo the ring
    cl_mem pick_pin;     // int [MCL_CHAIN_PIN] pinned host staging of its reads (CL_MEM_ALLOC_HOST_PTR), mapped:
    int32_t *pick_host;  //   its host view ([2][2 + MCL_CHAIN_RING / 2]: halt, count, a window's ids)
    bool halt_on;        /* the decode launches take pick_ctl's halt word (chain.c, while it enqueues) */
} mcl_scratch;

struct mcl_model {
    mcl_runtime *rt;     /* not owned */
    mcl_config cfg;
    const mcl_arch *arch;
    uint64_t max_buffer; /* bytes one buffer may hold (device limit or forced) */
    uint64_t weight_bytes;
    mcl_dmat *w;         // [mcl_weight_slots(&arch->weights, n_layer)]; see mcl_model_w
    bool head_tied;      /* w of the head shares the embedding's parts */
    /* Weight arenas (model.c): the per-layer weights of layers [a * arena_per,
     * min(n_layer, (a + 1) * arena_per)) in one buffer arena[a], every layer
     * laid out alike: row id of layer l at byte arena_off[id] + (l % arena_per)
     * * arena_stride (offsets aligned to 256 bytes and the device's base
     * address alignment); the layer weights' mcl_dmat parts are sub-buffers of
     * it. n_arena 0: every weight in a buffer of its own. */
    int n_arena, arena_per;
    cl_mem *arena;       // [n_arena]
    uint64_t arena_stride;
    uint64_t *arena_off; // [arch->weights.n] (layer rows only)
    cl_mem dummy;        // 16 bytes, bound where an optional buffer is absent
    mcl_pool pool;
    mcl_scratch scratch;
    int max_rows;        /* token rows one prefill pass processes */
    uint64_t fingerprint;        /* mcl_weights_fingerprint, for state files (state_io.c) */
    mcl_dtype fingerprint_dtype; /* mcl_weights_main_dtype, recorded in state files */
    mcl_prefill_progress_fn prefill_progress; /* mcl_model_set_prefill_progress; NULL = none */
    void *prefill_user;
};

struct mcl_state {
    mcl_model *model;
    int slot;
};

/* The device weight of table row `id` in `layer` (ignored for globals). */
static inline const mcl_dmat *mcl_model_w(const mcl_model *m, int id, int layer)
{
    return &m->w[mcl_weight_slot(&m->arch->weights, id, layer)];
}

/* The one buffer of a small weight, or NULL when the model has none. */
static inline cl_mem mcl_model_buf(const mcl_model *m, int id, int layer)
{
    const mcl_dmat *d = mcl_model_w(m, id, layer);
    return d->n_parts ? d->parts[0] : NULL;
}

/* The weight arena of `layer`, or -1 where the model has none. */
static inline int mcl_model_arena_of(const mcl_model *m, int layer)
{
    return m->n_arena ? layer / m->arena_per : -1;
}

/* Uploads host weights (the device side of mcl_model_load and
 * mcl_model_create_random). `w` stays owned by the caller. */
mcl_status mcl_model_upload(mcl_runtime *rt, const mcl_weights *w, const mcl_model_options *opts,
                            mcl_model **out);

/* Device bytes the model needs: weights, one state slot, and the scratch of
 * one prefill pass of max_rows tokens. */
typedef struct mcl_model_plan {
    uint64_t weights, states, scratch;
    int max_rows;
} mcl_model_plan;
void mcl_model_plan_make(const mcl_weights *w, const mcl_device_info *dev, uint64_t max_buffer,
                         mcl_model_plan *plan);

/* ---- state.c ---- */

/* Sets the slot sizes of the (empty) pool from the architecture. */
void mcl_pool_init(mcl_model *m);
void mcl_pool_release(mcl_model *m);

/* State tensor `i` of `layer` for the sequences of m->scratch.slot. */
mcl_kern_state mcl_state_view(const mcl_model *m, int i, int layer);

/* The pool's group of `layer` (layers of one group share their state buffers). */
static inline int mcl_pool_group_of(const mcl_model *m, int layer) { return layer / m->pool.per; }

/* Elements from a layer's state i to the next layer's in the same buffer. */
static inline uint64_t mcl_pool_layer_stride(const mcl_model *m, int i)
{
    return (uint64_t)m->pool.cap * m->pool.slot_elems[i];
}

/* ---- scratch.c ---- */

/* Each grows its buffers when the request is above the capacity; errors are
 * those of mcl_buffer_create (MCL_ERR_DEVICE_MEM naming the buffer). */
mcl_status mcl_scratch_rows(mcl_model *m, int rows);    /* h, hn, acts, ids */
mcl_status mcl_scratch_seqs(mcl_model *m, int n);       /* seq_start, slot */
mcl_status mcl_scratch_sel(mcl_model *m, int n);        /* sel_rows, hsel, logits, head_part */
mcl_status mcl_scratch_host_ints(mcl_model *m, size_t n);
mcl_status mcl_scratch_pick(mcl_model *m);              /* pick_ctl, pick_ring (once) */
void mcl_scratch_release(mcl_model *m);

/* ---- project.c ---- */

/* Y[rows, W.rows] = X . W^T (+ Y when accumulate), X [rows, W.cols]: by
 * mcl_op_matmul (gemv for few rows, else a GEMM on W as stored; its
 * workspaces live in the runtime). `what` names the projection in errors
 * and profiles. */
mcl_status mcl_project(mcl_model *m, const char *what, int rows, const mcl_dmat *W, cl_mem X,
                       bool accumulate, cl_mem Y);

/* Y[rows, W.rows] = (rmsnorm(h) * nw) . W^T, h [rows, W.cols] fp32 (not
 * changed): where the GEMM takes the mma path with a split pass
 * (mcl_op_matmul_presplit) the norm writes the split A itself
 * (rmsnorm_split, no gemm_split_a launch, bitwise the same Y); else
 * rmsnorm_residual into hn [rows, W.cols] and mcl_project. */
mcl_status mcl_project_norm(mcl_model *m, const char *what, int rows, const mcl_dmat *W, cl_mem h, cl_mem nw,
                            float eps, cl_mem hn, cl_mem Y);

#endif
