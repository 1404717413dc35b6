/* Defaults and candidate spaces of scan.cl and ssm_step.cl.
 *
 * Rules (documented in docs/kernels.md):
 *  scan.cl
 *  - SCAN_DCH (channels per work-group): 8 on GPUs, so that a time row of
 *    x, z or y read by a work-group is one 32-byte sector of fp32; 16 on CPUs
 *    (one SIMD vector of channels).
 *  - SCAN_NSG (state-threads): GPUs 4 (4 states per work-item), CPUs 1
 *    (the states are a serial loop, no reduction in local memory). Until
 *    session 4 GPUs had 8 with ITEMS 16 (measured on the H100 against 2 and
 *    4 with that kernel); on the H200 the kernel of session 4 (split
 *    support, W_dt kept across chunks) ran that configuration 1.3-1.5x
 *    slower at all 7 bench shapes, NSG 4 TT 8 ITEMS 8 within 3-8% of its old
 *    time at every shape (docs/perf/scan-h200-s4-final-sweep.log; H100 not
 *    measured).
 *  - SCAN_TT (time-threads, power of two): GPUs fill a work-group of
 *    min(256, CL_DEVICE_MAX_WORK_GROUP_SIZE, MAX_WORK_ITEM_SIZES[0]) work-items,
 *    TT = that / (DCH*NSG) (8 on the H100 and H200); CPUs 4 (few barrier levels: PoCL
 *    runs a work-group as loops split at barriers).
 *  - SCAN_ITEMS (timesteps per work-item): 8 (GPUs: chunk TT*ITEMS = 64 with
 *    TT 8; CPUs: chunk 32).
 *  - SCAN_NG (states per pass): 16, the d_state of every released Mamba-1
 *    checkpoint, so N = 16 takes one pass.
 *  - SCAN_RT (rows of the W_dt tile): the largest power of two <= 64 such that
 *    mcl_tune_scan_local_bytes fits CL_DEVICE_LOCAL_MEM_SIZE (H100/H200
 *    default: RT 64, 41 KiB of their 48 KiB: one dt tile for R <= 64). If even RT = 8 does not fit, ITEMS, then TT,
 *    then NG (and NSG with it) are halved until it does.
 *  - SCAN_KEEPB: 1 on GPUs (Δ·x·B held in registers for the replay: with
 *    4 states and 8 items per work-item that is 32 more registers and saves
 *    a local load per (t, n)); 0 on CPUs.
 *  - SCAN_FAST_EXP: 1 on GPUs (native_exp2, within the tests' tolerances),
 *    0 on CPUs.
 *  - SCAN_NSEG (segments per sequence; compiled in, and the launcher's
 *    grid and second launch follow it): 1 by default (one launch, no
 *    workspace, none of the split's code); the built-in table sets more only
 *    where the H200 measured it faster. Not in the tuning spaces: `mambacl
 *    tune` measures one batch-1 prefill per model class, and a split chosen
 *    there would also apply at large batches (the classes have no batch).
 *  - SCAN_DTIN (Δ given: the dt projection as a GEMM pre-pass, cl/scan.cl's
 *    header; 1: scan_dt, SIMT; 2: ops/gemm.c's mcl_op_matmul): 0 by default
 *    (the fused projection, one launch); the built-in table sets more where
 *    the H200 measured pre-pass + scan faster. With it the dt tiles are gone
 *    from the local memory (SCAN_RT is not used).
 *  - SCAN_DTW (scan_dt's work-group is SCAN_DTW² work-items, tiles of
 *    4·SCAN_DTW square): derived, the largest power of two <= 16 whose square
 *    fits the device's work-group. SCAN_DTV (each scan_dt work-item's block
 *    is DTV x DTV, 4 or 8): 4 by default; 8 where measured faster.
 *    SCAN_DTIN 3 runs scan_dt2 instead (the same sums bitwise; DTV
 *    timesteps x 4 channels per work-item, DTV 4, 8 or 16; session 7),
 *    where the H200 measured it faster.
 *  - SCAN_PREF (the next chunk's global inputs prefetched into registers):
 *    0 by default, 1 where measured faster.
 *  - SCAN_DTIN16 (the pre-pass for a 16-bit W_dt whose dt product
 *    mcl_op_matmul runs on the tensor cores; src/ops/kern_scan.h,
 *    mcl_kern_scan_dt_mode): 0 (SCAN_DTIN's, the F32 W_dt's choice: rows are
 *    keyed by shape, not dtype) or 2 (scan_dt_gather + the mma GEMM); 0 by
 *    default, 2 in the H200's rows where measured faster with F16 W_dt
 *    (SCAN_DTIN 2 3-7% faster than 3 with 16-bit W_dt, 29-32% slower with
 *    F32 W_dt on CLBlast). Read by the launcher only.
 *  - SCAN_YSPLIT (scan_prefill_split: the scan writes y as the next
 *    GEMM's split A where that GEMM takes the mma path; src/ops/kern_scan.h,
 *    mcl_kern_scan_prefill_split): 0 by default and in every row. Its first
 *    form (the parts' stores inside scan_prefill) made scan_prefill 1.38x
 *    slower on the H200 (9.6 -> 13.2 ms of 1.4b's L = 2048 prefill) while
 *    removing 1.2 ms of gemm_split_a; the specialized kernel of session 9
 *    has not run there. Compiled in (scan_prefill_split's body only with
 *    SCAN_YSPLIT 1: no second set of local arrays, which Oclgrind sums over
 *    a program's kernels) and read by the launcher.
 *  - SCAN_WARP (scan_warp instead of scan_prefill where N <= SCAN_NG: a
 *    warp of 32 time-lanes per channel, the lanes' scan by shuffles;
 *    cl/scan.cl): 0 by default, set by built-in rows where the H200
 *    measured it faster. Needs SCAN_DTIN; not in the tuning spaces.
 *    SCAN_WL (its time-lanes per channel: 32, 16 or 8; a warp holds 32/WL
 *    channels): 32 by default. SCAN_SUNR (states per step of its state
 *    loop; at least NG: unrolled, A and the carries in registers; fewer,
 *    dividing NG: rolled, those in local memory, fewer registers live):
 *    16 by default (unrolled at NG 16, as before session 18).
 *  ssm_step.cl
 *  - STEP_LPC (lanes per channel): 1 on CPUs (a work-item per channel, no
 *    barriers), 8 on GPUs (2 states per lane at N = 16; d_inner*B*8
 *    work-items keep a batch-1 step on many compute units).
 *  - STEP_WG: 64 on CPUs, 256 on GPUs, capped by the device. STEP_WG and
 *    STEP_LPC are powers of two (the team tree), STEP_LPC <= STEP_WG.
 *  - STEP_SB (most sequences per work-group; the host lowers it per launch,
 *    mcl_kern_ssm_step_sb): 1 on CPUs, 4 on GPUs (a group reads its
 *    channels' W_dt rows once for 4 sequences instead of once per
 *    sequence). Not in the tuning space: `mambacl tune` measures a batch-1
 *    step, where sb is 1 whatever STEP_SB.
 *  - STEP_FAST_EXP (native_exp for the state decay): 0 everywhere.
 *  - STEP_TILE (batches of at least this many sequences go to ssm_step_tile,
 *    one work-item per (channel, sequence); 0: never): 0 on CPUs (not
 *    measured there), 32 on GPUs. STEP_TWG (its work-group), STEP_TSQ
 *    (sequences side by side per channel), STEP_TJ (sequences per
 *    work-item): CPUs 64 / 1 / 1, GPUs 128 / 4 / 1. STEP_TSQ divides
 *    STEP_TWG. Measured on the H200 (tools/step_timing, session 6, 10
 *    configurations at B 8, 32, 64 x d_inner 1536, 4096, 5120;
 *    docs/perf/step-h200-s6.txt): 128 / 4 / 1 had the least sum (145 us over
 *    the six shapes; 128 / 4 / 2 153, ssm_step 183); at batch 8 it was no
 *    faster than ssm_step (15.97 against 15.94 us at d_inner 4096), at 32
 *    and 64 faster (26.6 / 34.9 us against 29.2 / 47.5 at d_inner 4096).
 *    STEP_TPRE (the tile kernel's staging loads all issued before its local
 *    stores): 0 everywhere; written after that call, not measured on a GPU.
 *  GPU values measured on the H200 (tools/step_timing, session 5, 9
 *  configurations at batch 1, 8, 64 x d_inner 1536, 4096; the least sum):
 *  WG 256 / LPC 8 / SB 4 per layer 9.95 / 15.81 / 48.64 us at d_inner 4096
 *  against 10.91 / 25.98 / 77.63 for the previous 128 / 16 / (SB 8); SB 8
 *  and FAST_EXP 1 were no better (docs/perf/step-h200-s5.txt).
 */
#include "tune/tune_scan.h"

#include <string.h>

#define MAX_VALUE (1L << 20)
static bool is_cpu(const mcl_device_info *dev) { return dev->type == MCL_DEVICE_TYPE_CPU; }

long mcl_tune_scan_local_bytes(const mcl_params *p)
{
    long dch = mcl_params_get(p, MCL_T_SCAN_DCH, 1), tt = mcl_params_get(p, MCL_T_SCAN_TT, 1);
    long ng = mcl_params_get(p, MCL_T_SCAN_NG, 1), rt = mcl_params_get(p, MCL_T_SCAN_RT, 1);
    if (mcl_params_get(p, MCL_T_SCAN_DTIN, 0)) rt = 1; /* no dt tiles: scan.cl's SCAN_RTL */
    long nsg = mcl_params_get(p, MCL_T_SCAN_NSG, 1), ch = tt * mcl_params_get(p, MCL_T_SCAN_ITEMS, 1);
    long bc = ch * (2 * ng + 4), ys = nsg * (ch + 1) * dch, stage = ((bc > ys ? bc : ys) + 3) / 4 * 4;
    return 4 * (stage + rt * (ch + 4) + rt * dch + 2 * ch * (dch + 1) + (2 * tt + 1) * ng * dch);
}

long mcl_tune_scan_wg(const mcl_params *p)
{
    return mcl_params_get(p, MCL_T_SCAN_DCH, 8) * mcl_params_get(p, MCL_T_SCAN_NSG, 1) *
           mcl_params_get(p, MCL_T_SCAN_TT, 32);
}

long mcl_tune_scan_warp_wg(const mcl_params *p)
{
    return mcl_params_get(p, MCL_T_SCAN_WL, 32) * mcl_params_get(p, MCL_T_SCAN_DCH, 8);
}

long mcl_tune_scan_warp_local_bytes(const mcl_params *p)
{
    long dch = mcl_params_get(p, MCL_T_SCAN_DCH, 1), ng = mcl_params_get(p, MCL_T_SCAN_NG, 1);
    long wl = mcl_params_get(p, MCL_T_SCAN_WL, 32), ch = wl * mcl_params_get(p, MCL_T_SCAN_ITEMS, 1);
    long rolled = mcl_params_get(p, MCL_T_SCAN_SUNR, ng) < ng ? 3 * dch * ng : 0; /* A, the carries x 2 */
    return 4 * (2 * ng * (ch + 1) + 2 * dch * (ch + wl + 1) + 2 * wl * dch + rolled);
}

/* scan_warp beside scan_prefill (SCAN_WARP 1): the Δ pre-pass, no split,
 * SCAN_WL a power of two from 4 to 32, WL*DCH work-items whole warps of 32
 * and at least scan_prefill's (the program's kernels are checked against
 * one work-group size), its local memory within the device,
 * (3 + 2*NG/DCH) * ITEMS <= 128 registers of loads, SCAN_SUNR >= 1 and
 * dividing NG where below it. */
static bool warp_fits(const mcl_device_info *dev, const mcl_params *p)
{
    long dch = mcl_params_get(p, MCL_T_SCAN_DCH, 0), items = mcl_params_get(p, MCL_T_SCAN_ITEMS, 0);
    long ng = mcl_params_get(p, MCL_T_SCAN_NG, 0);
    long wl = mcl_params_get(p, MCL_T_SCAN_WL, 32);
    if (mcl_params_get(p, MCL_T_SCAN_DTIN, 0) == 0 || mcl_params_get(p, MCL_T_SCAN_NSEG, 1) != 1) return false;
    if (wl < 4 || wl > 32 || !mcl_is_pow2(wl) || (wl * dch) % 32 != 0) return false;
    if (mcl_tune_scan_warp_wg(p) > mcl_tune_max_wg(dev) || mcl_tune_scan_warp_wg(p) < mcl_tune_scan_wg(p))
        return false;
    if ((3 + (2 * ng + dch - 1) / dch) * items > 128) return false;
    long sunr = mcl_params_get(p, MCL_T_SCAN_SUNR, ng);
    if (sunr < 1 || (sunr < ng && ng % sunr != 0)) return false;
    return mcl_tune_scan_warp_local_bytes(p) <= (long)dev->local_mem_bytes;
}

bool mcl_tune_scan_fits(const mcl_device_info *dev, const mcl_params *p)
{
    long dch = mcl_params_get(p, MCL_T_SCAN_DCH, 0), tt = mcl_params_get(p, MCL_T_SCAN_TT, 0);
    long items = mcl_params_get(p, MCL_T_SCAN_ITEMS, 0), ng = mcl_params_get(p, MCL_T_SCAN_NG, 0);
    long rt = mcl_params_get(p, MCL_T_SCAN_RT, 0), nsg = mcl_params_get(p, MCL_T_SCAN_NSG, 0);
    long keepb = mcl_params_get(p, MCL_T_SCAN_KEEPB, 0);
    if (dch < 1 || !mcl_is_pow2(tt) || items < 1 || ng < 1 || rt < 1 || nsg < 1 || ng % nsg != 0 ||
        items % nsg != 0)
        return false;
    if (dch * nsg * tt > mcl_tune_max_wg(dev) || (ng / nsg) * items * (keepb ? 2 : 1) > 128) return false;
    long dtw = mcl_params_get(p, MCL_T_SCAN_DTW, 0);
    long dtv = mcl_params_get(p, MCL_T_SCAN_DTV, 4), dtin = mcl_params_get(p, MCL_T_SCAN_DTIN, 0);
    if ((dtin == 1 || dtin == 3) && (!mcl_is_pow2(dtw) || dtw * dtw > mcl_tune_max_wg(dev)))
        return false;
    if (dtin == 1 && dtv != 4 && dtv != 8) return false;          /* scan_dt's blocks */
    if (dtin == 3 && dtv != 4 && dtv != 8 && dtv != 16) return false; /* scan_dt2's */
    if (dtin == 3 && 2L * 16 * (dtv * dtw + 4 * dtw + 8) * 4 > (long)dev->local_mem_bytes) return false;
    if (mcl_params_get(p, MCL_T_SCAN_DTIN16, 0) == 1) return false; /* 0 or 2 (the GEMM pre-pass) */
    if (mcl_params_get(p, MCL_T_SCAN_WARP, 0) && !warp_fits(dev, p)) return false;
    return mcl_tune_scan_local_bytes(p) <= (long)dev->local_mem_bytes;
}

/* SCAN_RT: the largest power of two <= 64 that fits; 0 when none >= 8 does. */
static long derive_rt(const mcl_device_info *dev, mcl_params *p)
{
    for (long rt = 64; rt >= 8; rt /= 2) {
        mcl_params_set(p, MCL_T_SCAN_RT, rt);
        if (mcl_tune_scan_local_bytes(p) <= (long)dev->local_mem_bytes) return rt;
    }
    mcl_params_set(p, MCL_T_SCAN_RT, 0);
    return 0;
}

/* SCAN_DTW: the largest power of two <= 16 whose square fits a work-group. */
static void derive_dtw(const mcl_device_info *dev, mcl_params *p)
{
    long dtw = 16;
    while (dtw > 1 && dtw * dtw > mcl_tune_max_wg(dev)) dtw /= 2;
    mcl_params_set(p, MCL_T_SCAN_DTW, dtw);
}

static void scan_complete(const mcl_device_info *dev, mcl_params *p)
{
    derive_rt(dev, p);
    derive_dtw(dev, p);
}

/* Halves ITEMS, then TT, then NG and NSG; false when nothing is left to halve. */
static bool shrink(mcl_params *p)
{
    const char *order[] = {MCL_T_SCAN_ITEMS, MCL_T_SCAN_TT, MCL_T_SCAN_NG};
    for (int i = 0; i < 3; i++) {
        long v = mcl_params_get(p, order[i], 1);
        if (v <= 1 || (i == 0 && v <= 4)) continue;
        mcl_params_set(p, order[i], v / 2);
        if (i == 2 && mcl_params_get(p, MCL_T_SCAN_NSG, 1) > 1)
            mcl_params_set(p, MCL_T_SCAN_NSG, mcl_params_get(p, MCL_T_SCAN_NSG, 1) / 2);
        return true;
    }
    return false;
}

void mcl_tune_scan_defaults(const mcl_device_info *dev, mcl_params *out)
{
    bool cpu = is_cpu(dev);
    long wg = mcl_pow2_floor(mcl_tune_max_wg(dev));
    long dch = cpu ? 16 : 8, nsg = cpu ? 1 : 4;
    if (dch > wg) dch = wg;
    if (dch * nsg > wg) nsg = wg / dch;
    long tt = cpu ? 4 : mcl_pow2_floor((wg < 256 ? wg : 256) / (dch * nsg));
    if (dch * nsg * tt > wg) tt = wg / (dch * nsg); /* CPUs' 4 within a small work-group limit */
    if (tt < 1) tt = 1;
    mcl_params_set(out, MCL_T_SCAN_DCH, dch);
    mcl_params_set(out, MCL_T_SCAN_NSG, nsg);
    mcl_params_set(out, MCL_T_SCAN_TT, tt);
    mcl_params_set(out, MCL_T_SCAN_ITEMS, 8);
    mcl_params_set(out, MCL_T_SCAN_NG, 16);
    mcl_params_set(out, MCL_T_SCAN_KEEPB, cpu ? 0 : 1);
    mcl_params_set(out, MCL_T_SCAN_FAST_EXP, cpu ? 0 : 1);
    mcl_params_set(out, MCL_T_SCAN_NSEG, 1);
    mcl_params_set(out, MCL_T_SCAN_DTIN, 0);
    mcl_params_set(out, MCL_T_SCAN_PREF, 0);
    mcl_params_set(out, MCL_T_SCAN_DTIN16, 0);
    mcl_params_set(out, MCL_T_SCAN_YSPLIT, 0);
    mcl_params_set(out, MCL_T_SCAN_WARP, 0);
    mcl_params_set(out, MCL_T_SCAN_WL, 32);
    mcl_params_set(out, MCL_T_SCAN_SUNR, 16);
    derive_dtw(dev, out);
    mcl_params_set(out, MCL_T_SCAN_DTV, 4);
    /* registers: (NG/NSG)*ITEMS*(1+KEEPB) <= 128 also when a small work-group left NSG low */
    long items = 8, keepb = cpu ? 0 : 1;
    while ((16 / nsg) * items * (keepb ? 2 : 1) > 128) {
        if (keepb) keepb = 0;
        else items /= 2;
    }
    mcl_params_set(out, MCL_T_SCAN_ITEMS, items);
    mcl_params_set(out, MCL_T_SCAN_KEEPB, keepb);
    while (derive_rt(dev, out) == 0 && shrink(out)) {
    }
    if (mcl_params_get(out, MCL_T_SCAN_RT, 0) == 0) mcl_params_set(out, MCL_T_SCAN_RT, 1);
}

void mcl_tune_step_defaults(const mcl_device_info *dev, mcl_params *out)
{
    long wg = mcl_pow2_floor(mcl_tune_max_wg(dev));
    if (is_cpu(dev)) { /* one work-item per channel: no barriers in the step */
        mcl_params_set(out, MCL_T_STEP_WG, wg < 64 ? wg : 64);
        mcl_params_set(out, MCL_T_STEP_LPC, 1);
        mcl_params_set(out, MCL_T_STEP_SB, 1);
        mcl_params_set(out, MCL_T_STEP_FAST_EXP, 0);
        mcl_params_set(out, MCL_T_STEP_TILE, 0);
        mcl_params_set(out, MCL_T_STEP_TWG, wg < 64 ? wg : 64);
        mcl_params_set(out, MCL_T_STEP_TSQ, 1);
        mcl_params_set(out, MCL_T_STEP_TJ, 1);
        mcl_params_set(out, MCL_T_STEP_TPRE, 0);
        return;
    }
    /* GPUs: 8 lanes per channel (2 states each at N = 16), 256 per group, up to 4 sequences */
    mcl_params_set(out, MCL_T_STEP_WG, wg < 256 ? wg : 256);
    mcl_params_set(out, MCL_T_STEP_LPC, wg < 8 ? wg : 8);
    mcl_params_set(out, MCL_T_STEP_SB, 4);
    mcl_params_set(out, MCL_T_STEP_FAST_EXP, 0);
    /* batches of 32 and more: ssm_step_tile, 128 work-items of 32 channels x 4 sequences, one each */
    mcl_params_set(out, MCL_T_STEP_TILE, 32);
    mcl_params_set(out, MCL_T_STEP_TWG, wg < 128 ? wg : 128);
    mcl_params_set(out, MCL_T_STEP_TSQ, wg < 4 ? wg : 4);
    mcl_params_set(out, MCL_T_STEP_TJ, 1);
    mcl_params_set(out, MCL_T_STEP_TPRE, 0); /* not measured yet */
}

/* STEP_WG and STEP_LPC powers of two (the team tree), LPC <= WG; STEP_SB >= 1;
 * STEP_TSQ dividing STEP_TWG, which the device allows (tunables absent: the
 * kernel's defaults, 128 / 4). */
static bool step_fits(const mcl_device_info *dev, const mcl_params *p)
{
    long wg = mcl_params_get(p, MCL_T_STEP_WG, 0), lpc = mcl_params_get(p, MCL_T_STEP_LPC, 0);
    long twg = mcl_params_get(p, MCL_T_STEP_TWG, 128), tsq = mcl_params_get(p, MCL_T_STEP_TSQ, 4);
    return mcl_is_pow2(wg) && mcl_is_pow2(lpc) && lpc <= wg && mcl_params_get(p, MCL_T_STEP_SB, 1) >= 1 &&
           tsq >= 1 && twg % tsq == 0 && twg <= mcl_tune_max_wg(dev);
}

static long step_wg(const mcl_params *p) { return mcl_params_get(p, MCL_T_STEP_WG, 0); }
static long step_local(const mcl_params *p) { return 4 * step_wg(p); }

static const mcl_tunable scan_tunables[] = {
    {MCL_T_SCAN_DCH, 1, 256},      {MCL_T_SCAN_NSG, 1, 256},  {MCL_T_SCAN_TT, 1, 1024},
    {MCL_T_SCAN_ITEMS, 1, 128},    {MCL_T_SCAN_NG, 1, 256},   {MCL_T_SCAN_RT, 1, 1024},
    {MCL_T_SCAN_KEEPB, 0, 1},      {MCL_T_SCAN_FAST_EXP, 0, 1},  {MCL_T_SCAN_NSEG, 1, 64},
    {MCL_T_SCAN_DTIN, 0, 3},       {MCL_T_SCAN_PREF, 0, 1},      {MCL_T_SCAN_DTW, 1, 16},
    {MCL_T_SCAN_DTV, 4, 16},       {MCL_T_SCAN_WARP, 0, 1},      {MCL_T_SCAN_WL, 1, 32},
    {MCL_T_SCAN_DTIN16, 0, 2},     {MCL_T_SCAN_YSPLIT, 0, 1},    {MCL_T_SCAN_SUNR, 1, 256},
};

/* Candidate spaces: GPUs and accelerators, and a smaller one for CPUs.
 * SCAN_RT is derived for each point (scan_complete). */
static const mcl_tune_axis scan_axes_gpu[] = {
    {MCL_T_SCAN_DCH, 2, {8, 16}},
    {MCL_T_SCAN_NSG, 3, {2, 4, 8}},
    {MCL_T_SCAN_TT, 3, {4, 8, 16}},
    {MCL_T_SCAN_ITEMS, 2, {8, 16}},
    {MCL_T_SCAN_KEEPB, 2, {0, 1}},
    {MCL_T_SCAN_NG, 1, {16}},
    {MCL_T_SCAN_FAST_EXP, 1, {1}},
};
static const mcl_tune_axis scan_axes_cpu[] = {
    {MCL_T_SCAN_DCH, 2, {8, 16}},
    {MCL_T_SCAN_NSG, 2, {1, 2}},
    {MCL_T_SCAN_TT, 2, {1, 4}},
    {MCL_T_SCAN_ITEMS, 1, {8}},
    {MCL_T_SCAN_KEEPB, 1, {0}},
    {MCL_T_SCAN_NG, 1, {16}},
    {MCL_T_SCAN_FAST_EXP, 1, {0}},
};

static const mcl_tunable step_tunables[] = {
    {MCL_T_STEP_WG, 1, MAX_VALUE},
    {MCL_T_STEP_LPC, 1, MAX_VALUE},
    {MCL_T_STEP_SB, 1, 64},
    {MCL_T_STEP_FAST_EXP, 0, 1},
    {MCL_T_STEP_TILE, 0, MAX_VALUE},
    {MCL_T_STEP_TWG, 1, MAX_VALUE},
    {MCL_T_STEP_TSQ, 1, 64},
    {MCL_T_STEP_TJ, 1, 8},
    {MCL_T_STEP_TPRE, 0, 1},
};
static const mcl_tune_axis step_axes[] = {
    {MCL_T_STEP_WG, 4, {32, 64, 128, 256}},
    {MCL_T_STEP_LPC, 4, {1, 4, 8, 16}},
};

const mcl_family mcl_family_scan = {
    .id = MCL_FAM_SCAN,
    .name = MCL_F_SCAN,
    .n_tunables = MCL_N_OF(scan_tunables),
    .tunables = scan_tunables,
    .n_axes = MCL_N_OF(scan_axes_gpu),
    .axes = scan_axes_gpu,
    .n_axes_cpu = MCL_N_OF(scan_axes_cpu),
    .axes_cpu = scan_axes_cpu,
    .defaults = mcl_tune_scan_defaults,
    .complete = scan_complete,
    .fits = mcl_tune_scan_fits,
    .rule = "SCAN_TT a power of two, SCAN_NSG dividing SCAN_NG and SCAN_ITEMS, (NG/NSG)*ITEMS*(1+KEEPB) <= 128, DCH*NSG*TT work-items and the local memory within the device; SCAN_DTIN 1 SCAN_DTV 4 or 8, SCAN_DTIN 3 SCAN_DTV 4, 8 or 16 (and scan_dt2's local memory within the device); SCAN_DTIN16 0 or 2; SCAN_WARP 1 also SCAN_DTIN 1, 2 or 3, SCAN_NSEG 1, SCAN_WL a power of two 4..32 with WL*DCH a multiple of 32, DCH*NSG*TT <= WL*DCH within the device, (3+2NG/DCH)*ITEMS <= 128, SCAN_SUNR >= 1 dividing NG where below it, and scan_warp's local memory within the device",
    .work_group = mcl_tune_scan_wg,
    .local_bytes = mcl_tune_scan_local_bytes,
};

const mcl_family mcl_family_step = {
    .id = MCL_FAM_STEP,
    .name = MCL_F_STEP,
    .n_tunables = MCL_N_OF(step_tunables),
    .tunables = step_tunables,
    .n_axes = MCL_N_OF(step_axes),
    .axes = step_axes,
    .defaults = mcl_tune_step_defaults,
    .fits = step_fits,
    .rule = "STEP_WG and STEP_LPC powers of two, STEP_LPC <= STEP_WG (the team tree); STEP_TSQ divides STEP_TWG, within the device's work-group",
    .work_group = step_wg,
    .local_bytes = step_local,
};

int mcl_tune_scan_space_size(const mcl_device_info *dev) { return mcl_tune_space_size(&mcl_family_scan, dev); }

bool mcl_tune_scan_space_config(const mcl_device_info *dev, int index, mcl_params *out)
{
    return mcl_tune_space_config(&mcl_family_scan, dev, index, NULL, out);
}

int mcl_tune_step_space_size(const mcl_device_info *dev) { return mcl_tune_space_size(&mcl_family_step, dev); }

bool mcl_tune_step_space_config(const mcl_device_info *dev, int index, mcl_params *out)
{
    return mcl_tune_space_config(&mcl_family_step, dev, index, NULL, out);
}
