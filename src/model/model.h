/* The model on the device: weight buffers, the per-sequence state pools and
 * the forward pass's scratch buffers. Internal layout shared by model.c
 * (weights), state.c (pools) and forward.c (launch sequences). */
#ifndef MCL_MODEL_H
#define MCL_MODEL_H

#include <CL/cl.h>
#include "mambacl.h"
#include "runtime/runtime.h"
#include "model/weights.h"

/* A weight matrix in its checkpoint dtype, split by rows into parts when it
 * is larger than one buffer may be (only the embedding / LM head in
 * practice; per-layer matrices always have one part). */
typedef struct mcl_dmat {
    mcl_dtype dtype;
    int rows, cols;
    int n_parts;
    int rows_per_part; /* part p holds rows [p*rows_per_part, min(rows, (p+1)*rows_per_part)) */
    cl_mem *parts;     /* [n_parts] */
} mcl_dmat;

typedef struct mcl_dev_layer {
    cl_mem norm;       // [d_model] fp32
    mcl_dmat in_proj;  // [2*d_inner, d_model]
    cl_mem conv_w;     // [d_inner, d_conv] fp32
    cl_mem conv_b;     // [d_inner] fp32, NULL when the model has none
    mcl_dmat x_proj;   // [dt_rank + 2*d_state, d_inner]
    mcl_dmat dt_w;     // [d_inner, dt_rank]
    cl_mem dt_b;       // [d_inner] fp32
    cl_mem a;          // [d_inner, d_state] fp32, A = -exp(A_log)
    cl_mem d;          // [d_inner] fp32
    mcl_dmat out_proj; // [d_model, d_inner]
} mcl_dev_layer;

/* Per-layer state pools: slot s of layer l is at s*stride in conv[l] / ssm[l]. */
typedef struct mcl_pool {
    int cap;             /* slots allocated in every layer's buffers */
    unsigned char *busy; // [cap] 1 when a state owns the slot
    cl_mem *conv;        // [n_layer] each [cap, d_inner, d_conv-1]
    cl_mem *ssm;         // [n_layer] each [cap, d_inner, d_state]
} mcl_pool;

/* Scratch of the forward pass, grown on demand (never shrunk). */
typedef struct mcl_scratch {
    int cap_rows;        /* token rows of the activation buffers */
    cl_mem h;            // [cap_rows, d_model] residual stream
    cl_mem hn;           // [cap_rows, d_model] normed rows
    cl_mem xz;           // [cap_rows, 2*d_inner]
    cl_mem xc;           // [cap_rows, d_inner]
    cl_mem dbc;          // [cap_rows, dt_rank + 2*d_state]
    cl_mem dbc_parts;    // [cap_parts] decode x_proj split-K partials [n_split][B, dt_rank + 2*d_state]
    size_t cap_parts;    /* floats */
    cl_mem y;            // [cap_rows, d_inner]
    cl_mem ids;          // int [cap_rows]
    int cap_seqs;
    cl_mem seq_start;    // int [cap_seqs + 1]
    cl_mem slot;         // int [cap_seqs]
    int cap_sel;         /* rows of the LM head's input / output */
    cl_mem sel_rows;     // int [cap_sel] positions whose logits are asked for
    cl_mem hsel;         // [cap_sel, d_model] final-normed selected rows
    cl_mem logits;       // [cap_sel, vocab]
    cl_mem head_part;    // [cap_sel, rows_per_part] one LM-head part's output (split heads)
    cl_mem wf32;         // fp32 copy of the largest 16-bit layer matrix (prefill GEMMs)
    int32_t *host_ints;  // host staging, [cap_host]
    size_t cap_host;
} mcl_scratch;

struct mcl_model {
    mcl_runtime *rt;     /* not owned */
    mcl_config cfg;
    uint64_t max_buffer; /* bytes one buffer may hold (device limit or forced) */
    uint64_t weight_bytes;
    mcl_dmat embed;      // [vocab, d_model]
    mcl_dmat lm_head;    // [vocab, d_model]; parts alias embed's when tied
    bool head_tied;
    cl_mem norm_f;       // [d_model] fp32
    cl_mem dummy;        // 16 bytes, bound where an optional buffer is absent
    mcl_dev_layer *layers; // [n_layer]
    mcl_pool pool;
    mcl_scratch scratch;
    int max_rows;        /* token rows one prefill pass processes */
};

struct mcl_state {
    mcl_model *model;
    int slot;
};

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
void mcl_model_plan_make(const mcl_config *c, const mcl_weights *w, const mcl_device_info *dev,
                         uint64_t max_buffer, mcl_model_plan *plan);

/* Pools and scratch (state.c, forward.c). */
void mcl_pool_release(mcl_model *m);
void mcl_scratch_release(mcl_model *m);

/* Elements of one slot of one layer. */
static inline size_t mcl_conv_slot_elems(const mcl_config *c)
{
    return (size_t)c->d_inner * (size_t)(c->d_conv - 1);
}
static inline size_t mcl_ssm_slot_elems(const mcl_config *c)
{
    return (size_t)c->d_inner * (size_t)c->d_state;
}

#endif
