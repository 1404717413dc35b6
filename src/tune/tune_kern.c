/* Families copy.cl, norm.cl, convert.cl, conv.cl, gemv.cl and "dispatch".
 *
 * Rules (documented in docs/kernels.md and docs/tuning.md):
 *  - COPY_WG: 256, capped by the largest power of two <= the device's
 *    work-group limit.
 *  - NORM_WG, CONVERT_WG, CONV_WG: 256 on GPUs and accelerators, 64 on CPUs
 *    (PoCL runs a work-group as a loop; small groups spread rows over cores),
 *    capped the same way. NORM_WG must be a power of two (the rmsnorm tree);
 *    all of them are kept powers of two.
 *  - GEMV_LPR: the SIMD width (CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
 *    32 if unknown or not a power of two) on GPUs, so a row team is one warp
 *    or wavefront and the reduction stays within it; 8 on CPUs.
 *  - GEMV_WG: 256 on GPUs (8 teams of 32), 64 on CPUs, capped as above and
 *    never below GEMV_LPR (LPR shrinks to fit). WG and LPR powers of two,
 *    LPR <= WG (the team tree).
 *  - GEMV_RPL: 1 (each lane streams one row; most parallelism at batch 1).
 *  - GEMV_BT: 8, halved until the reduction buffer 4*RPL*BT*WG bytes fits in
 *    half of CL_DEVICE_LOCAL_MEM_SIZE.
 *  - GEMV_MAX_ROWS (dispatch): 16: projections of up to 16 rows run as gemv,
 *    more as a CLBlast GEMM (measured on the H100, docs/performance.md: at
 *    batch 64 the gemv re-reads the weights 16 times and the GEMM is several
 *    times faster; at 8 they are close).
 */
#include "tune/tune_kern.h"

#define MAX_VALUE (1L << 20)

static long cap_wg(const mcl_device_info *dev, long wg)
{
    long max = mcl_pow2_floor(mcl_tune_max_wg(dev));
    return wg < max ? wg : max;
}

static long simple_wg(const mcl_device_info *dev)
{
    return cap_wg(dev, dev->type == MCL_DEVICE_TYPE_CPU ? 64 : 256);
}

/* ---- element-wise families: one work-group size each ---- */

static void copy_defaults(const mcl_device_info *dev, mcl_params *out)
{
    mcl_params_set(out, MCL_T_COPY_WG, cap_wg(dev, 256));
}
static void norm_defaults(const mcl_device_info *dev, mcl_params *out)
{
    mcl_params_set(out, MCL_T_NORM_WG, simple_wg(dev));
}
static void convert_defaults(const mcl_device_info *dev, mcl_params *out)
{
    mcl_params_set(out, MCL_T_CONVERT_WG, simple_wg(dev));
}
static void conv_defaults(const mcl_device_info *dev, mcl_params *out)
{
    mcl_params_set(out, MCL_T_CONV_WG, simple_wg(dev));
}

static long copy_wg(const mcl_params *p) { return mcl_params_get(p, MCL_T_COPY_WG, 0); }
static long norm_wg(const mcl_params *p) { return mcl_params_get(p, MCL_T_NORM_WG, 0); }
static long convert_wg(const mcl_params *p) { return mcl_params_get(p, MCL_T_CONVERT_WG, 0); }
static long conv_wg(const mcl_params *p) { return mcl_params_get(p, MCL_T_CONV_WG, 0); }

static bool copy_fits(const mcl_device_info *dev, const mcl_params *p) { (void)dev; return mcl_is_pow2(copy_wg(p)); }
static bool norm_fits(const mcl_device_info *dev, const mcl_params *p) { (void)dev; return mcl_is_pow2(norm_wg(p)); }
static bool convert_fits(const mcl_device_info *dev, const mcl_params *p) { (void)dev; return mcl_is_pow2(convert_wg(p)); }
static bool conv_fits(const mcl_device_info *dev, const mcl_params *p) { (void)dev; return mcl_is_pow2(conv_wg(p)); }

/* rmsnorm_residual's reduction buffer: 4 bytes per work-item */
static long norm_local(const mcl_params *p) { return 4 * norm_wg(p); }

static const mcl_tunable copy_tunables[] = {{MCL_T_COPY_WG, 1, MAX_VALUE}};
static const mcl_tunable norm_tunables[] = {{MCL_T_NORM_WG, 1, MAX_VALUE}};
static const mcl_tunable convert_tunables[] = {{MCL_T_CONVERT_WG, 1, MAX_VALUE}};
static const mcl_tunable conv_tunables[] = {{MCL_T_CONV_WG, 1, MAX_VALUE}};

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

const mcl_family mcl_family_copy = {
    .id = MCL_FAM_COPY,
    .name = MCL_F_COPY,
    .has_program = true,
    .n_tunables = N_OF(copy_tunables),
    .tunables = copy_tunables,
    .defaults = copy_defaults,
    .fits = copy_fits,
    .rule = "COPY_WG a power of two",
    .work_group = copy_wg,
};
const mcl_family mcl_family_norm = {
    .id = MCL_FAM_NORM,
    .name = MCL_F_NORM,
    .has_program = true,
    .n_tunables = N_OF(norm_tunables),
    .tunables = norm_tunables,
    .defaults = norm_defaults,
    .fits = norm_fits,
    .rule = "NORM_WG a power of two (the rmsnorm tree)",
    .work_group = norm_wg,
    .local_bytes = norm_local,
};
const mcl_family mcl_family_convert = {
    .id = MCL_FAM_CONVERT,
    .name = MCL_F_CONVERT,
    .has_program = true,
    .n_tunables = N_OF(convert_tunables),
    .tunables = convert_tunables,
    .defaults = convert_defaults,
    .fits = convert_fits,
    .rule = "CONVERT_WG a power of two",
    .work_group = convert_wg,
};
const mcl_family mcl_family_conv = {
    .id = MCL_FAM_CONV,
    .name = MCL_F_CONV,
    .has_program = true,
    .n_tunables = N_OF(conv_tunables),
    .tunables = conv_tunables,
    .defaults = conv_defaults,
    .fits = conv_fits,
    .rule = "CONV_WG a power of two",
    .work_group = conv_wg,
};

/* ---- gemv ---- */

long mcl_tune_gemv_local_bytes(const mcl_params *p)
{
    return 4 * mcl_params_get(p, MCL_T_GEMV_RPL, 1) * mcl_params_get(p, MCL_T_GEMV_BT, 1) *
           mcl_params_get(p, MCL_T_GEMV_WG, 1);
}

static long gemv_wg(const mcl_params *p) { return mcl_params_get(p, MCL_T_GEMV_WG, 0); }

static void gemv_defaults(const mcl_device_info *dev, mcl_params *out)
{
    bool cpu = dev->type == MCL_DEVICE_TYPE_CPU;
    long simd = (long)dev->preferred_wg_multiple;
    long lpr = cpu ? 8 : (mcl_is_pow2(simd) && simd >= 4 && simd <= 128 ? simd : 32);
    long wg = cap_wg(dev, cpu ? 64 : 256);
    if (lpr > wg) lpr = wg;
    mcl_params_set(out, MCL_T_GEMV_WG, wg);
    mcl_params_set(out, MCL_T_GEMV_LPR, lpr);
    mcl_params_set(out, MCL_T_GEMV_RPL, 1);
    long bt = 8;
    mcl_params_set(out, MCL_T_GEMV_BT, bt);
    while (bt > 1 && (uint64_t)mcl_tune_gemv_local_bytes(out) > dev->local_mem_bytes / 2) {
        bt /= 2;
        mcl_params_set(out, MCL_T_GEMV_BT, bt);
    }
}

static bool gemv_fits(const mcl_device_info *dev, const mcl_params *p)
{
    long wg = gemv_wg(p), lpr = mcl_params_get(p, MCL_T_GEMV_LPR, 0);
    if (!mcl_is_pow2(wg) || !mcl_is_pow2(lpr) || lpr > wg) return false;
    return (uint64_t)mcl_tune_gemv_local_bytes(p) <= dev->local_mem_bytes / 2;
}

static const mcl_tunable gemv_tunables[] = {
    {MCL_T_GEMV_WG, 1, MAX_VALUE},
    {MCL_T_GEMV_LPR, 1, MAX_VALUE},
    {MCL_T_GEMV_RPL, 1, 64},
    {MCL_T_GEMV_BT, 1, 64},
};

/* Small on purpose: every fitting point is compiled and checked by the tests. */
static const mcl_tune_axis gemv_axes[] = {
    {MCL_T_GEMV_WG, 3, {64, 128, 256}},
    {MCL_T_GEMV_LPR, 3, {8, 32, 64}},
    {MCL_T_GEMV_RPL, 2, {1, 2}},
    {MCL_T_GEMV_BT, 2, {4, 8}},
};

const mcl_family mcl_family_gemv = {
    .id = MCL_FAM_GEMV,
    .name = MCL_F_GEMV,
    .has_program = true,
    .n_tunables = N_OF(gemv_tunables),
    .tunables = gemv_tunables,
    .n_axes = N_OF(gemv_axes),
    .axes = gemv_axes,
    .defaults = gemv_defaults,
    .fits = gemv_fits,
    .rule = "GEMV_WG and GEMV_LPR powers of two, GEMV_LPR <= GEMV_WG, 4*RPL*BT*WG bytes within half the local memory",
    .work_group = gemv_wg,
    .local_bytes = mcl_tune_gemv_local_bytes,
};

/* ---- dispatch: host-only thresholds ---- */

static void dispatch_defaults(const mcl_device_info *dev, mcl_params *out)
{
    (void)dev;
    mcl_params_set(out, MCL_T_GEMV_MAX_ROWS, 16);
}

static const mcl_tunable dispatch_tunables[] = {
    {MCL_T_GEMV_MAX_ROWS, 0, 1L << 16},
};

const mcl_family mcl_family_dispatch = {
    .id = MCL_FAM_DISPATCH,
    .name = MCL_F_DISPATCH,
    .has_program = false,
    .n_tunables = N_OF(dispatch_tunables),
    .tunables = dispatch_tunables,
    .defaults = dispatch_defaults,
};
