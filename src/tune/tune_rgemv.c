/* The family rgemv.cl: the batch-1 decode GEMVs for GPUs (cl/rgemv.cl).
 *
 * Rules (docs/kernels.md):
 *  - RG_ON (host, the dispatch): 1 on GPUs and accelerators, 0 on CPUs
 *    (cgemv.cl serves the CPUs' decode; there a team of lanes per row only
 *    adds a reduction).
 *  - RG_LPR: the SIMD width (CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
 *    32 if unknown or not a power of two) on GPUs, so a row team is one warp
 *    or wavefront and its sum stays in registers where shuffles exist; 4 on
 *    CPUs (only the tests run it there: the local tree is exercised).
 *  - RG_WG: 4 teams (128 work-items of 32 lanes) on GPUs (256: in_proj 21.3,
 *    out_proj 11.3, LM head 62.3 us), 8 on CPUs; capped
 *    by the largest power of two within the device's work-group limit, LPR
 *    shrinking to fit.
 *  - RG_NL: 8 loads of 16 bytes per lane and chunk: a 2048-wide F16/BF16 row
 *    is one chunk of a warp (8 uint4 per lane, all issued before the FMAs),
 *    a 4096-wide row two. On the H200 (gemv_timing, F16, one call,
 *    docs/perf/gemv-h200-s8-gemv.log) NL 4 / 8 / 16: in_proj 8192 x 2048
 *    19.8 / 18.0 / 21.4 us, out_proj 2048 x 4096 11.1 / 11.9 / 15.1 us, LM
 *    head 50280 x 2048 69.7 / 61.1 / 67.1 us.
 *  - RG_PF: 1, the next chunk's loads in flight during a chunk's FMAs (PF 0:
 *    in_proj 19.6, out_proj 12.1, LM head 69.2 us).
 *  - RG_F16: as gemv.cl's GEMV_F16: 2 (half8) on GPUs with cl_khr_fp16, else
 *    1 (uint4 + prims.cl mcl_half8_to_float8: cvt.f32.f16 with ptx); 0 on
 *    CPUs (vload_half8).
 *  - RG_GPC (host): 8 groups per compute unit (grid stride over the rows,
 *    no tail wave); 0 launches one row per team (GPC 0 / 16: in_proj 20.9 /
 *    21.6, out_proj 11.3 / 11.5, LM head 79.6 / 62.9 us).
 * The dispatch (src/ops/kern_rgemv.c) also asks that x and the reduction
 * scratch, 4 * (round_up(I, 4) + RG_WG) bytes, fit in the local memory.
 * No candidate space: the tuner leaves the family at its defaults (the
 * variants are timed by tools/gemv_timing --rgemv --set). */
#include "tune/tune_rgemv.h"

static long rg_wg(const mcl_params *p) { return mcl_params_get(p, MCL_T_RG_WG, 0); }

static void rg_defaults(const mcl_device_info *dev, mcl_params *out)
{
    bool cpu = dev->type == MCL_DEVICE_TYPE_CPU;
    long max = mcl_pow2_floor(mcl_tune_max_wg(dev));
    long simd = (long)dev->preferred_wg_multiple;
    long lpr = cpu ? 4 : (simd > 0 && mcl_is_pow2(simd) ? simd : 32);
    long wg = cpu ? 8 : 4 * lpr;
    if (wg > max) wg = max;
    if (lpr > wg) lpr = wg;
    mcl_params_set(out, MCL_T_RG_WG, wg);
    mcl_params_set(out, MCL_T_RG_LPR, lpr);
    mcl_params_set(out, MCL_T_RG_NL, 8);
    mcl_params_set(out, MCL_T_RG_PF, 1);
    mcl_params_set(out, MCL_T_RG_F16, cpu ? 0 : dev->has_fp16 ? 2 : 1);
    mcl_params_set(out, MCL_T_RG_ON, cpu ? 0 : 1);
    mcl_params_set(out, MCL_T_RG_GPC, 8);
}

static bool rg_fits(const mcl_device_info *dev, const mcl_params *p)
{
    long wg = rg_wg(p), lpr = mcl_params_get(p, MCL_T_RG_LPR, 0);
    if (!mcl_is_pow2(wg) || !mcl_is_pow2(lpr) || lpr > wg) return false;
    return mcl_params_get(p, MCL_T_RG_F16, 0) != 2 || dev->has_fp16; /* half8 needs cl_khr_fp16 */
}

static const mcl_tunable rg_tunables[] = {
    {MCL_T_RG_WG, 1, 1L << 20}, {MCL_T_RG_LPR, 1, 1L << 20}, {MCL_T_RG_NL, 1, 32}, {MCL_T_RG_PF, 0, 1},
    {MCL_T_RG_F16, 0, 2},       {MCL_T_RG_ON, 0, 1},         {MCL_T_RG_GPC, 0, 64},
};

/* Read by src/ops/kern_rgemv.c, not by rgemv.cl. */
static const char *const rg_host_tunables[] = {MCL_T_RG_ON, MCL_T_RG_GPC, NULL};

/* The kernels run only where the dispatch rule is on (GPUs). */
static bool rg_used(const mcl_params *p) { return mcl_params_get(p, MCL_T_RG_ON, 0) == 1; }

const mcl_family mcl_family_rgemv = {
    .id = MCL_FAM_RGEMV,
    .name = MCL_F_RGEMV,
    .n_tunables = MCL_N_OF(rg_tunables),
    .tunables = rg_tunables,
    .host_tunables = rg_host_tunables,
    .defaults = rg_defaults,
    .fits = rg_fits,
    .rule = "RG_WG and RG_LPR powers of two, RG_LPR <= RG_WG, RG_F16 2 only with cl_khr_fp16",
    .work_group = rg_wg,
    .used = rg_used,
};
