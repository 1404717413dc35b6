/* Host-side view of a model's weights: every row of the architecture's
 * weight table, per layer, as (dtype, pointer, element count), from a
 * checkpoint (pointers into its mapping) or from a seeded random generator
 * (owned arrays). The device loader (model.c) and the C reference model
 * (tests/ref/ref_model.c) both read this one view, so a random-weight model
 * on the device and its reference see identical values. */
#ifndef MCL_WEIGHTS_H
#define MCL_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>
#include "mambacl.h"
#include "model/arch.h"

typedef struct mcl_host_tensor {
    mcl_dtype dtype;
    const void *data; /* NULL when absent (conv bias off, tied head) */
    size_t n;         /* elements */
} mcl_host_tensor;

typedef struct mcl_weights {
    mcl_config cfg;
    const mcl_arch *arch;
    mcl_host_tensor *t;      // [mcl_weight_slots(&arch->weights, n_layer)]; see mcl_weights_at
    void *arena;             /* owned storage of random weights */
    void *checkpoint;        /* owned mcl_checkpoint when opened from files */
} mcl_weights;

/* The tensor of table row `id` in `layer` (ignored for globals). */
static inline const mcl_host_tensor *mcl_weights_at(const mcl_weights *w, int id, int layer)
{
    return &w->t[mcl_weight_slot(&w->arch->weights, id, layer)];
}

/* Opens the checkpoint in `dir` and checks every tensor's element count
 * against the config. On success *out owns the checkpoint (its tensors stay
 * mapped) and is released with mcl_weights_free. Errors: those of
 * mcl_checkpoint_open and mcl_config_check, MCL_ERR_FORMAT naming a tensor
 * of the wrong size. */
mcl_status mcl_weights_open(const char *dir, mcl_weights **out);

/* Random weights of the given shape, every tensor stored in `dtype`, drawn
 * from a fixed generator seeded with `seed` (same seed, same weights) by
 * each table row's init rule (Mamba-like scales: A = -[1..N], dt in
 * [1e-3, 1e-1], unit norms). Checks the config (mcl_config_check). Released
 * with mcl_weights_free. */
mcl_status mcl_weights_random(const mcl_config *cfg, mcl_dtype dtype, uint64_t seed,
                              mcl_weights **out);

void mcl_weights_free(mcl_weights *w);

/* Element i of a host tensor as float. */
float mcl_host_tensor_get(const mcl_host_tensor *t, size_t i);

#endif
