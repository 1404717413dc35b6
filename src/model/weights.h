/* Host-side view of a model's weights: every tensor as (dtype, pointer,
 * element count), from a checkpoint (pointers into its mapping) or from a
 * seeded random generator (owned arrays). The device loader (model.c) and the
 * C reference model (tests/ref/ref_model.c) both read this one view, so a
 * random-weight model on the device and its reference see identical values. */
#ifndef MCL_WEIGHTS_H
#define MCL_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>
#include "mambacl.h"

typedef struct mcl_host_tensor {
    mcl_dtype dtype;
    const void *data; /* NULL when absent (conv bias off, tied head) */
    size_t n;         /* elements */
} mcl_host_tensor;

typedef struct mcl_host_layer {
    mcl_host_tensor norm;     // [d_model]
    mcl_host_tensor in_proj;  // [2*d_inner, d_model]
    mcl_host_tensor conv_w;   // [d_inner, d_conv] (HF [d_inner,1,d_conv])
    mcl_host_tensor conv_b;   // [d_inner] or absent
    mcl_host_tensor x_proj;   // [dt_rank + 2*d_state, d_inner]
    mcl_host_tensor dt_w;     // [d_inner, dt_rank]
    mcl_host_tensor dt_b;     // [d_inner]
    mcl_host_tensor a_log;    // [d_inner, d_state]
    mcl_host_tensor d;        // [d_inner]
    mcl_host_tensor out_proj; // [d_model, d_inner]
} mcl_host_layer;

typedef struct mcl_weights {
    mcl_config cfg;
    mcl_host_tensor embed;   // [vocab, d_model]
    mcl_host_tensor norm_f;  // [d_model]
    mcl_host_tensor lm_head; // [vocab, d_model]; absent when tied to embed
    mcl_host_layer *layers;  // [n_layer]
    void *arena;             /* owned storage of random weights */
    void *checkpoint;        /* owned mcl_checkpoint when opened from files */
} mcl_weights;

/* Opens the checkpoint in `dir` and checks every tensor's element count
 * against the config. On success *out owns the checkpoint (its tensors stay
 * mapped) and is released with mcl_weights_free. Errors: those of
 * mcl_checkpoint_open, MCL_ERR_FORMAT naming a tensor of the wrong size. */
mcl_status mcl_weights_open(const char *dir, mcl_weights **out);

/* Random weights of the given shape, every tensor stored in `dtype`, drawn
 * from a fixed generator seeded with `seed` (same seed, same weights) with
 * Mamba-like scales (A = -[1..N], dt in [1e-3, 1e-1], unit norms). Checks
 * the config (MCL_ERR_INVALID_ARG). Released with mcl_weights_free. */
mcl_status mcl_weights_random(const mcl_config *cfg, mcl_dtype dtype, uint64_t seed,
                              mcl_weights **out);

void mcl_weights_free(mcl_weights *w);

/* Checks that a config is one this runtime can run (positive sizes, no
 * projection bias). MCL_ERR_INVALID_ARG / MCL_ERR_UNSUPPORTED otherwise. */
mcl_status mcl_config_check(const mcl_config *cfg);

/* Element i of a host tensor as float. */
float mcl_host_tensor_get(const mcl_host_tensor *t, size_t i);

#endif
