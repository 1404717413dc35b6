/* A Mamba-1 checkpoint directory, validated: config.json plus
 * model.safetensors or model.safetensors.index.json and its shards. Every
 * tensor the config implies is present with its shape, nothing else is.
 * The public part (open/free/config/counts) is in include/mambacl.h. */
#ifndef MCL_CHECKPOINT_H
#define MCL_CHECKPOINT_H

#include "checkpoint/config.h"
#include "mambacl.h"
#include "checkpoint/safetensors.h"

/* Weight ids. Globals ignore the layer argument. */
typedef enum mcl_weight {
    MCL_W_EMBED,    /* [vocab, d_model]  backbone.embeddings.weight (HF) / embedding (state-spaces) */
    MCL_W_NORM_F,   /* [d_model]         backbone.norm_f.weight */
    MCL_W_LM_HEAD,  /* [vocab, d_model]  lm_head.weight, NULL when tied */
    MCL_W_NORM,     /* [d_model]         backbone.layers.L.norm.weight */
    MCL_W_IN_PROJ,  /* [2*d_inner, d_model] mixer.in_proj.weight */
    MCL_W_CONV_W,   /* [d_inner, 1, d_conv] mixer.conv1d.weight */
    MCL_W_CONV_B,   /* [d_inner]         mixer.conv1d.bias, NULL without use_conv_bias */
    MCL_W_X_PROJ,   /* [R + 2N, d_inner] mixer.x_proj.weight */
    MCL_W_DT_W,     /* [d_inner, R]      mixer.dt_proj.weight */
    MCL_W_DT_B,     /* [d_inner]         mixer.dt_proj.bias */
    MCL_W_A_LOG,    /* [d_inner, N]      mixer.A_log */
    MCL_W_D,        /* [d_inner]         mixer.D */
    MCL_W_OUT_PROJ, /* [d_model, d_inner] mixer.out_proj.weight */
    MCL_W_COUNT
} mcl_weight;

#define MCL_W_FIRST_LAYER MCL_W_NORM /* ids from here on are per layer */

/* The tensor of weight `id` in `layer` (0..n_layer-1, ignored for globals),
 * or NULL when the model has none (LM head when tied, conv bias when absent)
 * or the arguments are out of range. Owned by ck. */
const mcl_tensor *mcl_checkpoint_weight(const mcl_checkpoint *ck, mcl_weight id, int layer);

/* True when weight `id` is kept in fp32 on the device (the small per-channel
 * tensors: norms, conv weight/bias, dt bias, A, D); false for the matrices
 * that keep their checkpoint dtype. */
bool mcl_weight_is_small(mcl_weight id);

/* The weight name used in messages ("in_proj.weight"). */
const char *mcl_weight_name(mcl_weight id);

/* What config.json said (form, declared vocab, padding). Owned by ck. */
const mcl_config_source *mcl_checkpoint_source(const mcl_checkpoint *ck);

/* Number of safetensors files (1, or the shards of the index). */
int mcl_checkpoint_file_count(const mcl_checkpoint *ck);

#endif
