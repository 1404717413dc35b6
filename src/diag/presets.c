/* Shapes of the released Mamba-1 checkpoints (shared/README.md). */
#include "diag/presets.h"

#include <strings.h>

#define MAMBA(name, dm, nl, di, r) \
    {name, {.d_model = dm, .n_layer = nl, .d_inner = di, .d_state = 16, .d_conv = 4, .dt_rank = r, \
            .vocab_size = 50280, .norm_eps = 1e-5f, .tie_embeddings = true, .conv_bias = true, \
            .residual_in_fp32 = true}}

static const mcl_preset presets[] = {
    MAMBA("130m", 768, 24, 1536, 48),
    MAMBA("370m", 1024, 48, 2048, 64),
    MAMBA("790m", 1536, 48, 3072, 96),
    MAMBA("1.4b", 2048, 48, 4096, 128),
    MAMBA("2.8b", 2560, 64, 5120, 160),
    {"tiny", {.d_model = 64, .n_layer = 2, .d_inner = 128, .d_state = 16, .d_conv = 4, .dt_rank = 4,
              .vocab_size = 1000, .norm_eps = 1e-5f, .tie_embeddings = true, .conv_bias = true,
              .residual_in_fp32 = true}},
};

const mcl_preset *mcl_preset_find(const char *name)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (strcasecmp(presets[i].name, name) == 0) return &presets[i];
    return NULL;
}
