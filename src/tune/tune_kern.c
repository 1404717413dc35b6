/* Families copy.cl, norm.cl, convert.cl, conv.cl, gemv.cl and gemm.cl.
 *
 * Rules (documented in docs/kernels.md and docs/tuning.md):
 *  - COPY_WG: 256, capped by the largest power of two <= the device's
 *    work-group limit.
 *  - NORM_WG, CONVERT_WG, CONV_WG: 256 on GPUs and accelerators, 64 on CPUs
 *    (PoCL runs a work-group as a loop; small groups spread rows over cores),
 *    capped the same way. NORM_WG must be a power of two (the rmsnorm tree);
 *    all of them are kept powers of two.
 *  - CONV_TT 8 (rows per conv_prefill4 work-item, 0 keeps conv_prefill):
 *    on the H200 1.4b's conv at L = 2048 3.41 -> 1.08 ms over 48 layers
 *    (docs/performance.md, pre8; only 8 was measured); the same on CPUs
 *    (not measured there).
 *  - GEMV_LPR: the SIMD width (CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
 *    32 if unknown or not a power of two) on GPUs, so a row team is one warp
 *    or wavefront and the reduction stays within it; 1 on CPUs (a work-item
 *    walks whole rows with float8 loads and FMAs: what PoCL vectorizes; no
 *    reduction).
 *  - GEMV_WG: 256 on GPUs (8 teams of 32), 4 on CPUs (PoCL runs a group as a
 *    loop; 64 rows per group keeps the per-group cost small), capped as above
 *    and never below GEMV_LPR (LPR shrinks to fit).
 *  - GEMV_RPL: 1 on GPUs (most parallelism at batch 1), 16 on CPUs.
 *  - GEMV_RPL_IN (rows per team of gemv_in_1, the batch-1 in_proj and LM
 *    head with the RMSNorm): 2 on GPUs (on the H200 at 8192 x 2048 F16
 *    27.6 -> 22.9 us, at 50280 x 2048 118 -> 105 us: two rows share the
 *    team's nw loads and x . x sums), 16 on CPUs (= GEMV_RPL).
 *  - GEMV_BT: 8 on GPUs, 1 on CPUs (a batch tile's registers slow the
 *    vectorized loop more than re-reading cached weights costs), halved
 *    until the reduction buffer 4*(RPL+1)*BT*WG bytes fits in half of
 *    CL_DEVICE_LOCAL_MEM_SIZE. WG and LPR powers of two, LPR <= WG (the
 *    team tree).
 *  - GEMV_UNR: 4 vectors per row in flight.
 *  - GEMV_VACC: 1 on CPUs (float8 accumulators: vector FMAs), 0 on GPUs.
 *  - GEMV_F16: CPUs 0 (vload_half8); GPUs 2 (half8) with cl_khr_fp16, else 1
 *    (uint4 load + prims.cl mcl_half8_to_float8: PTX cvt.f32.f16 where the
 *    ptx capability is on, else bit manipulation; on the H200 the gemv_1 of
 *    8192 x 2048 F16 takes 17.9 us with cvt, 21.2 us with the bits).
 *  - gemm.cl, tensor-core kernels: GEMM_BM 64, GEMM_BN 128, GEMM_BK 32,
 *    GEMM_WM 2 x GEMM_WN 2 warps, GEMM_STAGES 2, GEMM_SPLIT 2 (hi + lo),
 *    GEMM_SWZ 0 (padded local rows: on the H200 1.24x faster than the
 *    swizzled rows at 2048 x 8192 x 2048, and faster than every other
 *    configuration measured, docs/performance.md);
 *    GEMM_FAST 1 (unchecked stage loads in blocks inside the matrix, float2
 *    C stores: 1.10x / 1.08x at in_proj / out_proj on the H200, session 9),
 *    GEMM_LDF 0 (the per-m16-tile fragment order was 4-17% slower there);
 *    GEMM_BK halves (then GEMM_STAGES drops to 2, then GEMM_BM halves) until
 *    STAGES * (SPLIT * BM + BN) * BK * 2 bytes fit in the local memory.
 *    GEMM_SPLITK 8: at most 8 K slices, used when the blocks of C do not fill
 *    the device twice (src/ops/gemm.c; gemm_simt too, with GEMM_SBK steps);
 *    1 on CPUs (gemm_simt as before split-K existed: never measured there).
 *    GEMM_SKRED 0: the slabs added by a gemm_reduce launch (1: by the last
 *    slice of each C tile inside the GEMM, bitwise the same).
 *    GEMM_SKW 2 (host): split-K aims at 2 blocks per compute unit.
 *    GEMM_SKN (host): the split-K cap of products at most 2 blocks wide
 *    (x_proj: 160 columns; at decode batches 2 blocks of C in all, each
 *    slice a chain of K steps): GPUs 32, CPUs 1. NOT measured yet (bdec10
 *    got no device time; docs/performance.md "bdec10"): chosen so that
 *    x_proj's 4096-long K runs as 32 slices of 4 K steps (64 groups instead
 *    of 16 groups of 16 steps); GEMM_SKN <= GEMM_SPLITK (8) is main's rule. GEMM_FUSE 0: A split by its own
 *    gemm_split_a pass (1, 2: inside the GEMM, cl/gemm.cl; 1 keeps local A
 *    rows of fp32, BK + 8 floats, instead of SPLIT rows of halves).
 *  - gemm_simt: on GPUs GEMM_SW 16 (square work-group, capped so SW*SW <=
 *    the work-group limit), GEMM_ST 4 outputs per item and dimension,
 *    GEMM_SBK 16; on CPUs SW 4, ST 16, SBK 32 (PoCL runs a work-group as a
 *    loop: few items with more work each measured 4x faster than 8 x 8 x 4
 *    and 1.5x faster than CLBlast SGEMM at 64 x 1536 x 768 with ST 8,
 *    docs/performance.md; ST 16, 64 x 64 blocks, was 1.5-1.6x faster than ST
 *    8 at 130m's prefill shapes, M = 512, and 1.3-1.5x at M = 64 on a 2-core
 *    Xeon, session 19; SW 8 with ST 16 lost at M = 64).
 *  - GEMM_GEMV_MAX_ROWS 16 (the dispatch threshold, read on the host by
 *    mcl_op_matmul): up to 16 rows a projection runs as gemv (measured on the
 *    H100: at batch 64 the gemv re-reads the weights 16 times and a GEMM is
 *    several times faster; at 8 they are close);
 *  - GEMM_CLBLAST (host, where mma is off): 1 on GPUs (on the H200 CLBlast SGEMM
 *    measured 1.2-1.4x faster than gemm_simt at the 1.4b prefill shapes; it
 *    has tuned kernels for many AMD and Intel GPUs), 0 on CPUs (gemm_simt
 *    faster on PoCL).
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
    mcl_params_set(out, MCL_T_CONV_TT, 8);
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
static const mcl_tunable conv_tunables[] = {{MCL_T_CONV_WG, 1, MAX_VALUE}, {MCL_T_CONV_TT, 0, 64}};

const mcl_family mcl_family_copy = {
    .id = MCL_FAM_COPY,
    .name = MCL_F_COPY,
    .n_tunables = MCL_N_OF(copy_tunables),
    .tunables = copy_tunables,
    .defaults = copy_defaults,
    .fits = copy_fits,
    .rule = "COPY_WG a power of two",
    .work_group = copy_wg,
};
const mcl_family mcl_family_norm = {
    .id = MCL_FAM_NORM,
    .name = MCL_F_NORM,
    .n_tunables = MCL_N_OF(norm_tunables),
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
    .n_tunables = MCL_N_OF(convert_tunables),
    .tunables = convert_tunables,
    .defaults = convert_defaults,
    .fits = convert_fits,
    .rule = "CONVERT_WG a power of two",
    .work_group = convert_wg,
};
const mcl_family mcl_family_conv = {
    .id = MCL_FAM_CONV,
    .name = MCL_F_CONV,
    .n_tunables = MCL_N_OF(conv_tunables),
    .tunables = conv_tunables,
    .defaults = conv_defaults,
    .fits = conv_fits,
    .rule = "CONV_WG a power of two",
    .work_group = conv_wg,
};

/* ---- gemv ---- */

long mcl_tune_gemv_local_bytes(const mcl_params *p)
{
    long rpl = mcl_params_get(p, MCL_T_GEMV_RPL, 1), rpl_in = mcl_params_get(p, MCL_T_GEMV_RPL_IN, rpl);
    long tile = 4 * (rpl + 1) * mcl_params_get(p, MCL_T_GEMV_BT, 1), one = 4 * (rpl_in + 1);
    return (tile > one ? tile : one) * mcl_params_get(p, MCL_T_GEMV_WG, 1);
}

static long gemv_wg(const mcl_params *p) { return mcl_params_get(p, MCL_T_GEMV_WG, 0); }

static void gemv_defaults(const mcl_device_info *dev, mcl_params *out)
{
    bool cpu = dev->type == MCL_DEVICE_TYPE_CPU;
    long simd = (long)dev->preferred_wg_multiple;
    long lpr = cpu ? 1 : (mcl_is_pow2(simd) && simd >= 4 && simd <= 128 ? simd : 32);
    long wg = cap_wg(dev, cpu ? 4 : 256);
    if (lpr > wg) lpr = wg;
    mcl_params_set(out, MCL_T_GEMV_WG, wg);
    mcl_params_set(out, MCL_T_GEMV_LPR, lpr);
    mcl_params_set(out, MCL_T_GEMV_RPL, cpu ? 16 : 1);
    mcl_params_set(out, MCL_T_GEMV_RPL_IN, cpu ? 16 : 2);
    mcl_params_set(out, MCL_T_GEMV_UNR, 4);
    mcl_params_set(out, MCL_T_GEMV_VACC, cpu ? 1 : 0);
    mcl_params_set(out, MCL_T_GEMV_F16, cpu ? 0 : dev->has_fp16 ? 2 : 1);
    long bt = cpu ? 1 : 8;
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
    if (mcl_params_get(p, MCL_T_GEMV_F16, 0) == 2 && !dev->has_fp16) return false; /* half8 loads */
    return (uint64_t)mcl_tune_gemv_local_bytes(p) <= dev->local_mem_bytes / 2;
}

static const mcl_tunable gemv_tunables[] = {
    {MCL_T_GEMV_WG, 1, MAX_VALUE},
    {MCL_T_GEMV_LPR, 1, MAX_VALUE},
    {MCL_T_GEMV_RPL, 1, 64},
    {MCL_T_GEMV_RPL_IN, 1, 64},
    {MCL_T_GEMV_BT, 1, 64},
    {MCL_T_GEMV_UNR, 1, 16},
    {MCL_T_GEMV_VACC, 0, 1},
    {MCL_T_GEMV_F16, 0, 2},
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
    .n_tunables = MCL_N_OF(gemv_tunables),
    .tunables = gemv_tunables,
    .n_axes = MCL_N_OF(gemv_axes),
    .axes = gemv_axes,
    .defaults = gemv_defaults,
    .fits = gemv_fits,
    .rule = "GEMV_WG and GEMV_LPR powers of two, GEMV_LPR <= GEMV_WG, GEMV_F16 2 only with cl_khr_fp16, 4*max((RPL+1)*BT, RPL_IN+1)*WG bytes within half the local memory",
    .work_group = gemv_wg,
    .local_bytes = mcl_tune_gemv_local_bytes,
};

/* ---- gemm ---- */

long mcl_tune_gemm_mma_local_bytes(const mcl_params *p)
{
    long bm = mcl_params_get(p, MCL_T_GEMM_BM, 0), bn = mcl_params_get(p, MCL_T_GEMM_BN, 0);
    long bk = mcl_params_get(p, MCL_T_GEMM_BK, 0), st = mcl_params_get(p, MCL_T_GEMM_STAGES, 0);
    long row = mcl_params_get(p, MCL_T_GEMM_SWZ, 1) ? bk : bk + 8;
    long a = mcl_params_get(p, MCL_T_GEMM_FUSE, 0) == 1 ? bm * (bk + 8) * 4 : mcl_params_get(p, MCL_T_GEMM_SPLIT, 1) * bm * row * 2;
    return st * (a + bn * row * 2) + 16 * mcl_params_get(p, MCL_T_GEMM_SKRED, 0); /* gemm_skred's word */
}

long mcl_tune_gemm_simt_local_bytes(const mcl_params *p)
{
    long b = mcl_params_get(p, MCL_T_GEMM_SW, 0) * mcl_params_get(p, MCL_T_GEMM_ST, 0);
    return 2 * mcl_params_get(p, MCL_T_GEMM_SBK, 0) * (b + 1) * 4 + 16 * mcl_params_get(p, MCL_T_GEMM_SKRED, 0);
}

bool mcl_tune_gemm_fits(const mcl_device_info *dev, const mcl_params *p)
{
    long bm = mcl_params_get(p, MCL_T_GEMM_BM, 0), bn = mcl_params_get(p, MCL_T_GEMM_BN, 0);
    long bk = mcl_params_get(p, MCL_T_GEMM_BK, 0), wm = mcl_params_get(p, MCL_T_GEMM_WM, 0);
    long wn = mcl_params_get(p, MCL_T_GEMM_WN, 0), st = mcl_params_get(p, MCL_T_GEMM_STAGES, 0);
    long sp = mcl_params_get(p, MCL_T_GEMM_SPLIT, 0), sw = mcl_params_get(p, MCL_T_GEMM_SW, 0);
    if ((bk != 16 && bk != 32 && bk != 64) || (bk == 64 && !mcl_params_get(p, MCL_T_GEMM_SWZ, 1)) || wm < 1 || wn < 1 || bm % (16 * wm) || bn % (16 * wn)) return false;
    if (st < 2 || st > 4 || sp < 1 || sp > 2 || sw < 1 || mcl_params_get(p, MCL_T_GEMM_ST, 0) < 1) return false;
    if (mcl_params_get(p, MCL_T_GEMM_FUSE, 0) < 0 || mcl_params_get(p, MCL_T_GEMM_FUSE, 0) > 2) return false;
    if (mcl_params_get(p, MCL_T_GEMM_SKRED, 0) < 0 || mcl_params_get(p, MCL_T_GEMM_SKRED, 0) > 1) return false;
    if (mcl_params_get(p, MCL_T_GEMM_SKW, 2) < 1 || mcl_params_get(p, MCL_T_GEMM_SKN, 1) < 1) return false;
    long cvw = mcl_params_get(p, MCL_T_GEMM_CVW, 16);
    if ((cvw != 8 && cvw != 16) || (mcl_params_get(p, MCL_T_GEMM_CPUK, 0) && dev->type != MCL_DEVICE_TYPE_CPU))
        return false;
    if ((size_t)(32 * wm * wn) > dev->max_work_group_size || (size_t)(sw * sw) > dev->max_work_group_size)
        return false;
    return (uint64_t)mcl_tune_gemm_mma_local_bytes(p) <= dev->local_mem_bytes &&
           (uint64_t)mcl_tune_gemm_simt_local_bytes(p) <= dev->local_mem_bytes;
}

void mcl_tune_gemm_defaults(const mcl_device_info *dev, mcl_params *out)
{
    static const char *const names[] = {MCL_T_GEMM_BM,     MCL_T_GEMM_BN,    MCL_T_GEMM_BK,
                                        MCL_T_GEMM_WM,     MCL_T_GEMM_WN,    MCL_T_GEMM_STAGES,
                                        MCL_T_GEMM_SPLIT,  MCL_T_GEMM_SPLITK, MCL_T_GEMM_SWZ,
                                        MCL_T_GEMM_FUSE,   MCL_T_GEMM_SKRED};
    static const long values[] = {64, 128, 32, 2, 2, 2, 2, 8, 0, 0, 0};
    for (int i = 0; i < 11; i++) mcl_params_set(out, names[i], values[i]);
    bool cpu = dev->type == MCL_DEVICE_TYPE_CPU;
    if (cpu) mcl_params_set(out, MCL_T_GEMM_SPLITK, 1);
    mcl_params_set(out, MCL_T_GEMM_SKW, 2);
    mcl_params_set(out, MCL_T_GEMM_SKN, cpu ? 1 : 32);
    mcl_params_set(out, MCL_T_GEMM_LDF, 0);
    mcl_params_set(out, MCL_T_GEMM_FAST, 1);
    mcl_params_set(out, MCL_T_GEMM_CPUK, cpu ? 1 : 0);
    mcl_params_set(out, MCL_T_GEMM_CVW, 16);
    long sw = cpu ? 4 : 16;
    while (sw > 1 && (size_t)(sw * sw) > dev->max_work_group_size) sw /= 2;
    mcl_params_set(out, MCL_T_GEMM_SW, sw);
    mcl_params_set(out, MCL_T_GEMM_ST, cpu ? 16 : 4);
    mcl_params_set(out, MCL_T_GEMM_SBK, cpu ? 32 : 16);
    mcl_params_set(out, MCL_T_GEMM_GEMV_MAX_ROWS, 16);
    mcl_params_set(out, MCL_T_GEMM_CLBLAST, cpu ? 0 : 1);
    while ((uint64_t)mcl_tune_gemm_mma_local_bytes(out) > dev->local_mem_bytes) {
        if (mcl_params_get(out, MCL_T_GEMM_BK, 16) > 16) mcl_params_set(out, MCL_T_GEMM_BK, 16);
        else if (mcl_params_get(out, MCL_T_GEMM_STAGES, 2) > 2) mcl_params_set(out, MCL_T_GEMM_STAGES, 2);
        else if (mcl_params_get(out, MCL_T_GEMM_BM, 32) > 32) mcl_params_set(out, MCL_T_GEMM_BM, 32);
        else break;
    }
}


/* Work-items of gemm.cl's largest work-group: the mma kernels' 32*WM*WN or
 * gemm_simt's SW*SW. */
static long gemm_wg(const mcl_params *p)
{
    long mma = 32 * mcl_params_get(p, MCL_T_GEMM_WM, 0) * mcl_params_get(p, MCL_T_GEMM_WN, 0);
    long simt = mcl_params_get(p, MCL_T_GEMM_SW, 0) * mcl_params_get(p, MCL_T_GEMM_SW, 0);
    return mma > simt ? mma : simt;
}

static long gemm_local(const mcl_params *p)
{
    long mma = mcl_tune_gemm_mma_local_bytes(p), simt = mcl_tune_gemm_simt_local_bytes(p);
    return mma > simt ? mma : simt;
}

static void gemm_defaults(const mcl_device_info *dev, mcl_params *out) { mcl_tune_gemm_defaults(dev, out); }

static const mcl_tunable gemm_tunables[] = {
    {MCL_T_GEMM_BM, 16, 512},      {MCL_T_GEMM_BN, 16, 512},     {MCL_T_GEMM_BK, 16, 64},
    {MCL_T_GEMM_WM, 1, 8},         {MCL_T_GEMM_WN, 1, 8},        {MCL_T_GEMM_STAGES, 2, 4},
    {MCL_T_GEMM_SPLIT, 1, 2},      {MCL_T_GEMM_SPLITK, 1, 64},   {MCL_T_GEMM_SWZ, 0, 1},
    {MCL_T_GEMM_FUSE, 0, 2},       {MCL_T_GEMM_SKRED, 0, 1},     {MCL_T_GEMM_SKW, 1, 64},
    {MCL_T_GEMM_SW, 1, 64},        {MCL_T_GEMM_ST, 1, 16},       {MCL_T_GEMM_SBK, 1, 128},
    {MCL_T_GEMM_GEMV_MAX_ROWS, 0, 1L << 16}, {MCL_T_GEMM_CLBLAST, 0, 1},
    {MCL_T_GEMM_LDF, 0, 1},        {MCL_T_GEMM_FAST, 0, 1},      {MCL_T_GEMM_SKN, 1, 64},
    {MCL_T_GEMM_CPUK, 0, 1},       {MCL_T_GEMM_CVW, 8, 16},
};

/* The tuner's space (docs/kernels.md "gemm.cl tuning space"), searched
 * stage by stage over the winner of the stages before. With a proven
 * matrix path (the mma kernels):
 *   0: block and warp shape, with the swizzle (128-row blocks fit the 48 KiB
 *      only with unpadded rows): 108 points, 16 in the space (below);
 *   1: K step, pipeline depth, swizzle and GEMM_FUSE (A split inside the
 *      GEMM, two ways) over the winner: 54 points, at most 36 fit;
 *   2: the split-K cap;
 *   3: the gemv / GEMM dispatch threshold, timed on the decode batches of
 *      tune_batches.
 * CPUs (PoCL): gemm_simt's tunables, then the threshold. Other GPUs (CLBlast
 * is their path; its profiling events cover only part of its work, so
 * GEMM_CLBLAST is not searched): the threshold only. GEMM_SPLIT (1 drops the
 * activations' low part: a precision choice, not a speed one) is never
 * searched. */
static const mcl_tune_axis gemm_axes_matrix[] = {
    {MCL_T_GEMM_BM, 2, {64, 128}},       {MCL_T_GEMM_BN, 3, {64, 128, 256}},
    {MCL_T_GEMM_WM, 3, {1, 2, 4}},       {MCL_T_GEMM_WN, 3, {1, 2, 4}},
    {MCL_T_GEMM_SWZ, 2, {0, 1}},         {MCL_T_GEMM_BK, 3, {16, 32, 64}},
    {MCL_T_GEMM_STAGES, 3, {2, 3, 4}},   {MCL_T_GEMM_SWZ, 2, {0, 1}},
    {MCL_T_GEMM_FUSE, 3, {0, 1, 2}},     {MCL_T_GEMM_SPLITK, 4, {1, 4, 8, 16}},
    {MCL_T_GEMM_GEMV_MAX_ROWS, 4, {4, 8, 16, 32}},
};
static const unsigned char gemm_stages_matrix[] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 3};
static const mcl_tune_axis gemm_axes_cpu[] = {
    {MCL_T_GEMM_SW, 2, {4, 8}},
    {MCL_T_GEMM_ST, 2, {8, 16}},
    {MCL_T_GEMM_SBK, 2, {16, 32}},
    {MCL_T_GEMM_GEMV_MAX_ROWS, 4, {4, 8, 16, 32}},
};
static const unsigned char gemm_stages_cpu[] = {0, 0, 0, 1};
static const mcl_tune_axis gemm_axes[] = {
    {MCL_T_GEMM_GEMV_MAX_ROWS, 4, {4, 8, 16, 32}},
};

/* Read by src/ops/gemm.c, not by gemm.cl. */
static const char *const gemm_host_tunables[] = {MCL_T_GEMM_GEMV_MAX_ROWS, MCL_T_GEMM_CLBLAST, MCL_T_GEMM_SKW,
                                                 MCL_T_GEMM_SKN, MCL_T_GEMM_CPUK, NULL};

/* The mma space keeps warp tiles of 32 or 64 rows and columns (2 to 4 m16
 * tiles by 4 to 8 n8 tiles: at most 128 fp32 accumulators per lane) and 4
 * or 8 warps per group, the shapes that fill the tensor cores without
 * spilling; other devices keep every point. */
static bool gemm_in_space(const mcl_device_info *dev, const mcl_params *p)
{
    if (!dev->has_matrix_path) return true;
    long wm = mcl_params_get(p, MCL_T_GEMM_WM, 1), wn = mcl_params_get(p, MCL_T_GEMM_WN, 1);
    long wtm = mcl_params_get(p, MCL_T_GEMM_BM, 0) / wm, wtn = mcl_params_get(p, MCL_T_GEMM_BN, 0) / wn;
    return (wtm == 32 || wtm == 64) && (wtn == 32 || wtn == 64) && (wm * wn == 4 || wm * wn == 8);
}

const mcl_family mcl_family_gemm = {
    .id = MCL_FAM_GEMM,
    .name = MCL_F_GEMM,
    .n_tunables = MCL_N_OF(gemm_tunables),
    .tunables = gemm_tunables,
    .n_axes = MCL_N_OF(gemm_axes),
    .axes = gemm_axes,
    .n_axes_cpu = MCL_N_OF(gemm_axes_cpu),
    .axes_cpu = gemm_axes_cpu,
    .stages_cpu = gemm_stages_cpu,
    .n_axes_matrix = MCL_N_OF(gemm_axes_matrix),
    .axes_matrix = gemm_axes_matrix,
    .stages_matrix = gemm_stages_matrix,
    .host_tunables = gemm_host_tunables,
    .in_space = gemm_in_space,
    .time_all = true,
    .tune_batches = {8, 16, 32},
    .defaults = gemm_defaults,
    .fits = mcl_tune_gemm_fits,
    .rule = "GEMM_BK 16, 32 or 64 (64 only with GEMM_SWZ), GEMM_BM a multiple of 16*WM and GEMM_BN of 16*WN, "
            "2 <= STAGES <= 4, SPLIT 1 or 2, 32*WM*WN and SW*SW work-items and both kernels' local memory "
            "within the device, GEMM_CVW 8 or 16, GEMM_CPUK 1 only on CPU devices",
    .work_group = gemm_wg,
    .local_bytes = gemm_local,
};
