/* config.json of a Mamba-1 model: the Hugging Face MambaConfig form or the
 * original state-spaces (mamba_ssm) form, validated into an mcl_config. */
#ifndef MCL_CONFIG_H
#define MCL_CONFIG_H

#include <stddef.h>

#include "mambacl.h"

/* Caps on every dimension (absurd sizes are refused by name). */
#define MCL_CFG_MAX_D_MODEL 65536
#define MCL_CFG_MAX_D_INNER (4 * 65536)
#define MCL_CFG_MAX_D_STATE 1024
#define MCL_CFG_MAX_D_CONV 64
/* conv_kernel 1 would leave the conv state [d_inner, d_conv - 1] empty; the
 * conv kernels and the model's checks need 2 or more: refused here, by name,
 * so that `info` and `run` agree. */
#define MCL_CFG_MIN_D_CONV 2
#define MCL_CFG_MAX_N_LAYER 1024
#define MCL_CFG_MAX_VOCAB (1 << 22)

typedef enum mcl_config_form {
    MCL_CONFIG_FORM_HF,          /* transformers MambaConfig: hidden_size, ... */
    MCL_CONFIG_FORM_STATE_SPACES /* mamba_ssm MambaConfig: d_model, n_layer, ssm_cfg */
} mcl_config_form;

/* What config.json said beyond mcl_config. */
typedef struct mcl_config_source {
    mcl_config_form form;
    int vocab_declared;    /* vocab_size as written */
    int vocab_expected;    /* rows the embedding must have (padded for state-spaces) */
    int pad_multiple;      /* pad_vocab_size_multiple (state-spaces), else 1 */
} mcl_config_source;

/* Parses `len` bytes of JSON text. `path` names the file in messages
 * ("DIR/config.json: \"hidden_size\" must be an integer"). On success fills
 * *cfg (vocab_size = the expected embedding rows) and *src (may be NULL).
 * Errors: MCL_ERR_FORMAT (not JSON, wrong types, bad sizes),
 * MCL_ERR_UNSUPPORTED (valid but not runnable: model_type, use_bias, ...). */
mcl_status mcl_config_parse(const char *text, size_t len, const char *path, mcl_config *cfg,
                            mcl_config_source *src);

#endif
