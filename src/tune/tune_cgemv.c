/* The family cgemv.cl: the decode projections (in_proj with RMSNorm and the
 * conv step, out_proj with the residual add, the LM head with the final
 * norm) for CPUs (cl/cgemv.cl).
 *
 * Rules (docs/kernels.md):
 *  - CG_ON (host, the dispatch): 1 on CPUs, 0 elsewhere. On PoCL (2-core
 *    Xeon, profiled kernel time, best of 5 x 100, F16) gemv.cl's CPU
 *    configuration (WG 4, LPR 1, RPL 16) took 34 us for the bundled model's
 *    in_proj (1024 x 256, 15.7 GB/s: bound by its loops, the matrix sits in
 *    L2), 128 us for its LM head (4096 x 256) and 14 us for out_proj
 *    (256 x 512); cgemv_in / cgemv took 14.5, 82 and 7.5 us. GPUs keep
 *    gemv.cl: a group of one work-item would leave a GPU's lanes idle.
 *  - CG_VW: 16 (one AVX-512 register of fp32; 8 took 20 us for that in_proj,
 *    and an AVX2 CPU splits 16 lanes into two registers).
 *  - CG_RB: 8 rows per block (8 accumulators and the x vector in registers;
 *    4 took 16 us for that in_proj, 12 the same as 8).
 *  - CG_GPC (host): 4 groups per compute unit (PoCL hands a launch's groups
 *    to its threads in chunks: a few per thread balance the two cores; 1 and
 *    4 measured within 5% of each other).
 * No candidate space: the tuner leaves the family at its defaults. */
#include "tune/tune_cgemv.h"

static void cg_defaults(const mcl_device_info *dev, mcl_params *out)
{
    bool cpu = dev->type == MCL_DEVICE_TYPE_CPU;
    mcl_params_set(out, MCL_T_CG_VW, 16);
    mcl_params_set(out, MCL_T_CG_RB, 8);
    mcl_params_set(out, MCL_T_CG_ON, cpu ? 1 : 0);
    mcl_params_set(out, MCL_T_CG_GPC, 4);
}

static bool cg_fits(const mcl_device_info *dev, const mcl_params *p)
{
    (void)dev;
    long vw = mcl_params_get(p, MCL_T_CG_VW, 0);
    return vw == 8 || vw == 16;
}

static const mcl_tunable cg_tunables[] = {
    {MCL_T_CG_VW, 8, 16},
    {MCL_T_CG_RB, 1, 16},
    {MCL_T_CG_ON, 0, 1},
    {MCL_T_CG_GPC, 1, 64},
};

/* Read by src/ops/kern_cgemv.c, not by cgemv.cl. */
static const char *const cg_host_tunables[] = {MCL_T_CG_ON, MCL_T_CG_GPC, NULL};

/* The kernels run only where the dispatch rule is on (CPUs). */
static bool cg_used(const mcl_params *p) { return mcl_params_get(p, MCL_T_CG_ON, 0) == 1; }

const mcl_family mcl_family_cgemv = {
    .id = MCL_FAM_CGEMV,
    .name = MCL_F_CGEMV,
    .n_tunables = MCL_N_OF(cg_tunables),
    .tunables = cg_tunables,
    .host_tunables = cg_host_tunables,
    .defaults = cg_defaults,
    .fits = cg_fits,
    .rule = "CG_VW 8 or 16",
    .work_group = mcl_tune_wg_one,
    .used = cg_used,
};
