/* libFuzzer target: config.json text through mcl_config_parse. An accepted
 * config must respect every cap the loader relies on; a refused one leaves a
 * one-line message. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint/config.h"

static void check(const mcl_config *c, const mcl_config_source *s)
{
    if (c->d_model < 1 || c->d_model > MCL_CFG_MAX_D_MODEL) abort();
    if (c->n_layer < 1 || c->n_layer > MCL_CFG_MAX_N_LAYER) abort();
    if (c->d_inner < 1 || c->d_inner > MCL_CFG_MAX_D_INNER) abort();
    if (c->d_state < 1 || c->d_state > MCL_CFG_MAX_D_STATE) abort();
    if (c->d_conv < 1 || c->d_conv > MCL_CFG_MAX_D_CONV) abort();
    if (c->dt_rank < 1 || c->dt_rank > MCL_CFG_MAX_D_MODEL) abort();
    if (c->vocab_size < 1 || c->vocab_size > MCL_CFG_MAX_VOCAB || c->vocab_size < s->vocab_declared) abort();
    if (!(c->norm_eps > 0) || !isfinite(c->norm_eps) || c->proj_bias) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mcl_config c;
    mcl_config_source s;
    if (mcl_config_parse((const char *)data, size, "config.json", &c, &s) == MCL_OK) check(&c, &s);
    else if (strchr(mcl_last_error(), '\n') != NULL) abort();
    return 0;
}
