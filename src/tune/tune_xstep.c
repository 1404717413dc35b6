/* The family xstep.cl: the middle of a decode layer (x_proj, dt, state
 * update, gate) in one launch of one-work-item groups (cl/xstep.cl).
 *
 * Rules (docs/kernels.md):
 *  - XS_ON (host, the dispatch): 1 on CPUs, 0 elsewhere. On PoCL (2-core
 *    Xeon, the bundled model) the fused chain's ssm_step_parts ran as scalar
 *    code, 0.28 ms of a 1.1 ms step for 6 layers, and each launch costs a
 *    wake-up of the driver's threads; xstep vectorizes and saves the
 *    gemv_split launch. GPUs keep gemv_split + ssm_step_parts: a group of
 *    one work-item would leave a GPU's lanes idle.
 *  - XS_GPC (host): groups per compute unit over the batch: 1 (a group per
 *    core; each group forms its sequence's whole x_proj row, so more groups
 *    repeat more of it).
 *  - XS_VW: 8 (one AVX2 register of fp32, half an AVX-512 one; N = 16 in
 *    two vectors); 16 measured the same on the bundled model (PoCL, Xeon).
 *  - XS_RB: 8 x_proj rows per block (independent accumulators: one row at a
 *    time was a chain of dependent FMAs, the hottest loop of the kernel).
 * No candidate space: the tuner leaves the family at its defaults. */
#include "tune/tune_xstep.h"

static void xs_defaults(const mcl_device_info *dev, mcl_params *out)
{
    bool cpu = dev->type == MCL_DEVICE_TYPE_CPU;
    mcl_params_set(out, MCL_T_XS_VW, 8);
    mcl_params_set(out, MCL_T_XS_RB, 8);
    mcl_params_set(out, MCL_T_XS_ON, cpu ? 1 : 0);
    mcl_params_set(out, MCL_T_XS_GPC, 1);
}

static bool xs_fits(const mcl_device_info *dev, const mcl_params *p)
{
    (void)dev;
    long vw = mcl_params_get(p, MCL_T_XS_VW, 0);
    return vw == 4 || vw == 8 || vw == 16;
}

static const mcl_tunable xs_tunables[] = {
    {MCL_T_XS_VW, 4, 16},
    {MCL_T_XS_RB, 1, 16},
    {MCL_T_XS_ON, 0, 1},
    {MCL_T_XS_GPC, 1, 64},
};

/* Read by src/ops/kern_xstep.c, not by xstep.cl. */
static const char *const xs_host_tunables[] = {MCL_T_XS_ON, MCL_T_XS_GPC, NULL};

/* The kernels run only where the dispatch rule is on (CPUs). */
static bool xs_used(const mcl_params *p) { return mcl_params_get(p, MCL_T_XS_ON, 0) == 1; }

const mcl_family mcl_family_xstep = {
    .id = MCL_FAM_XSTEP,
    .name = MCL_F_XSTEP,
    .n_tunables = MCL_N_OF(xs_tunables),
    .tunables = xs_tunables,
    .host_tunables = xs_host_tunables,
    .defaults = xs_defaults,
    .fits = xs_fits,
    .rule = "XS_VW 4, 8 or 16",
    .work_group = mcl_tune_wg_one,
    .used = xs_used,
};
