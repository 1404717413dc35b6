/* Mamba-1 (the architecture of state-spaces/mamba-*, model_type "mamba"):
 * the names of its weight table rows, states and activations, for the code
 * that addresses them (its layer sequences, the C reference model, tests).
 * Everything else about Mamba-1 is in arch_mamba1.c. */
#ifndef MCL_ARCH_MAMBA1_H
#define MCL_ARCH_MAMBA1_H

#include "model/arch.h"

/* Rows of the weight table, in table order (globals first). */
typedef enum mcl_mamba1_weight {
    MCL_W_EMBED,    /* [vocab, d_model]  backbone.embeddings.weight (HF) / embedding (state-spaces) */
    MCL_W_NORM_F,   /* [d_model]         backbone.norm_f.weight */
    MCL_W_LM_HEAD,  /* [vocab, d_model]  lm_head.weight, absent when tied */
    MCL_W_NORM,     /* [d_model]         backbone.layers.L.norm.weight */
    MCL_W_IN_PROJ,  /* [2*d_inner, d_model] mixer.in_proj.weight */
    MCL_W_CONV_W,   /* [d_inner, 1, d_conv] mixer.conv1d.weight */
    MCL_W_CONV_B,   /* [d_inner]         mixer.conv1d.bias, absent without use_conv_bias */
    MCL_W_X_PROJ,   /* [R + 2N, d_inner] mixer.x_proj.weight */
    MCL_W_DT_W,     /* [d_inner, R]      mixer.dt_proj.weight */
    MCL_W_DT_B,     /* [d_inner]         mixer.dt_proj.bias */
    MCL_W_A_LOG,    /* [d_inner, N]      mixer.A_log (A = -exp(A_log) on the device) */
    MCL_W_D,        /* [d_inner]         mixer.D */
    MCL_W_OUT_PROJ, /* [d_model, d_inner] mixer.out_proj.weight */
    MCL_W_COUNT
} mcl_mamba1_weight;

#define MCL_W_FIRST_LAYER MCL_W_NORM /* rows from here on are per layer */

/* State tensors per layer and sequence. */
enum { MCL_M1_CONV_STATE, /* [d_inner, d_conv-1] the last K-1 conv inputs, oldest first */
       MCL_M1_SSM_STATE   /* [d_inner, d_state] */ };

/* Activation buffers per token row. */
enum { MCL_M1_XZ,  /* [2*d_inner] in_proj output: x = cols [0, d_inner), z = [d_inner, 2*d_inner) */
       MCL_M1_XC,  /* [d_inner] conv + SiLU output */
       MCL_M1_DBC, /* [dt_rank + 2*d_state] x_proj output: delta, B, C */
       MCL_M1_Y    /* [d_inner] scan output */ };

extern const mcl_arch mcl_arch_mamba1;

#endif
