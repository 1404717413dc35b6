/* The registry of architectures, and what needs it: mcl_checkpoint_open
 * (binding the architecture's weight table: the checkpoint module below
 * cannot name an architecture), mcl_config_check and the state size. Above
 * every arch_*.c file; used by weights.c, model.c and the CLI's info. */
#include "model/arch.h"

#include "base/error.h"
#include "model/arch_mamba1.h"

/* Indexed by mcl_arch_id. A new architecture adds its record here. */
static const mcl_arch *const archs[] = {
    [MCL_ARCH_MAMBA1] = &mcl_arch_mamba1,
};

mcl_status mcl_arch_get(const mcl_config *c, const mcl_arch **out)
{
    *out = NULL;
    int id = (int)c->arch;
    if (id < 0 || id >= (int)(sizeof archs / sizeof archs[0]) || !archs[id])
        return mcl_error_set(MCL_ERR_UNSUPPORTED, "architecture %d is not supported (mambacl runs Mamba-1)", id);
    *out = archs[id];
    return MCL_OK;
}

mcl_status mcl_config_check(const mcl_config *c)
{
    const mcl_arch *a = NULL;
    MCL_TRY(mcl_arch_get(c, &a));
    return a->check(c);
}

uint64_t mcl_arch_state_bytes(const mcl_config *c)
{
    const mcl_arch *a = NULL;
    if (mcl_arch_get(c, &a) != MCL_OK) return 0;
    uint64_t per_layer = 0;
    for (int i = 0; i < a->n_states; i++) per_layer += mcl_arch_state_elems(a, c, i);
    return 4u * (uint64_t)c->n_layer * per_layer;
}

mcl_status mcl_checkpoint_open(const char *dir, mcl_checkpoint **out)
{
    if (!out) return mcl_error_set(MCL_ERR_INVALID_ARG, "mcl_checkpoint_open: NULL argument");
    *out = NULL;
    mcl_checkpoint *ck = NULL;
    MCL_TRY(mcl_checkpoint_read(dir, &ck));
    const mcl_arch *a = NULL;
    mcl_status st = mcl_arch_get(mcl_checkpoint_config(ck), &a);
    if (st == MCL_OK) st = mcl_checkpoint_bind(ck, &a->weights);
    if (st != MCL_OK) {
        mcl_checkpoint_free(ck);
        return st;
    }
    *out = ck;
    return MCL_OK;
}
