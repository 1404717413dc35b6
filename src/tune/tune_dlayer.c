/* The family dlayer.cl: the persistent batch-1 decode layer (cl/dlayer.cl).
 *
 * Rules (docs/kernels.md):
 *  - DL_WG: 256 on GPUs (8 warps: a 1.4b in_proj row per warp in about one
 *    pass of the grid), 16 on CPUs (PoCL runs a group as loops on one
 *    thread: the grid is a group per core), capped by the device.
 *  - DL_LPR: the SIMD width on GPUs (a row team is one warp, summed by
 *    shuffles where ptx is on), 1 on CPUs (a work-item walks its row).
 *  - DL_UNR: 4 16-byte loads per lane and chunk in phases A and D (with
 *    the next chunk in flight: 8 loads of 16 bytes per lane), vectors of 8
 *    weights per round in phase B. Registers decide it: on the H200 (session
 *    9, 1.4b layer, bar_timing --layer) DL_UNR 8 let the probe prove only
 *    132 groups (1 per SM) and took 45.1 us per layer, 4 264 groups and
 *    36.5 us, 2 39.8 us.
 *  - DL_SKIP: 0 (the diagnostic mask, 0..63; any other value gives wrong results).
 *  - DL_MAX_DINNER (host, the dispatch threshold): 8192 on GPUs (every
 *    released d_inner up to 2.8b's 5120; the staging buffer of 8192 floats
 *    still fits 48 KiB of local memory, which mcl_kern_dlayer_ready checks),
 *    0 (never) on CPUs. Measured on the H200 (bench --decode-only --batch
 *    1, F16): 1.4b with phases A and D streaming 1.959 ms/step (DL_PF 1)
 *    against the chain's 2.142 in one call, 1.717 (these defaults) in the
 *    next (session 9); 130m persistent wins since session 4; 2.8b, all 64
 *    layers in one launch, 2.958 ms/step (338 tokens/s) against the
 *    chain's 3.542 (282) in one call (session 11, docs/perf/h200-s11a-*).
 *    790m is not measured. On CPUs the persistent layer is
 *    one work-group, i.e. one thread: the bundled model decoded at 851 vs
 *    861 tokens/s on 2 cores (PoCL), and a CPU with more cores would lose
 *    them all.
 *  - DL_LPC: 16 on GPUs (one lane per state at N = 16), 1 on CPUs.
 *  - DL_BAR: 1 on GPUs (the one-word barrier with PTX release/acquire; the
 *    kernel builds the counter tree of 0 where ptx is off), 0 on CPUs (one
 *    group: no barrier runs). 2 and 3 are variants for tools/bar_timing;
 *    4 (session 18) a word per group, stored with a release, all of them
 *    polled by the group's work-items (no atomic on one address): correct
 *    on the H200 but 3.4x slower per barrier (bar_timing at 264 groups:
 *    3.91 us against DL_BAR 1's 1.14; 1.4b 594 against 738 tokens/s).
 *  - DL_PF: 0 (PTX only: L2 prefetches of the next phase's weights before
 *    each device-wide barrier). With phases A and D streaming they cost: a
 *    1.4b layer took 32.5 us without them, 36.5 with (H200, session 9; with
 *    the older dl_dot loop they had saved ~1 us of a 130m layer). Bit 2
 *    (session 17): W_out's rows prefetched before the B -> C barrier, where
 *    DRAM is idle; DL_PFA: passes of the next layer's W_in rows before D.
 *    Both measured slower on the H200 (session 17, greedy tokens/s against
 *    the default in the same call): 1.4b DL_PF 2 700 vs 736, DL_PFA 1 624,
 *    both 619; 2.8b DL_PF 2 367 vs 384; 130m DL_PF 2 2,448 vs 2,435-2,456.
 *    So DL_PF and DL_PFA stay 0.
 *  - DL_SPEC: 1 on GPUs with dedicated local memory (phases A, D and C's
 *    W_dt loads compiled once per weight dtype, so no load waits on a dtype
 *    branch: rgemv.cl's finding, session 5's gemv_in_1 1.13-1.37x), else 0
 *    (one copy with the dtype a run-time value: the same code). PoCL's local
 *    memory is ordinary memory: under the GPU rules (MAMBACL_TEST_DEVICE_TYPE
 *    =gpu: test_leak, test_limits) its compiler spent over 10 minutes on the
 *    four copies where one took seconds; on CPUs one copy also compiles ~6 s
 *    faster.
 *  - DL_GPC (host): work-groups per compute unit the co-residency probe tries
 *    first (then halves down to 1): 4 on GPUs, 1 on CPUs.
 *  - DL_LPL (host): decode layers per persistent launch, 1..1024; a launch
 *    never spans two weight arenas or two state buffers (src/model/model.c,
 *    state.c), so a value above an arena's layers means all of them (the
 *    default, 1024, on every device: one launch per arena). 1 is the launch
 *    per layer of session 9.
 *  - DL_MULTI: 1 (dlayer.cl compiles its loop over a launch's layers) on
 *    CPUs and on GPUs with dedicated local memory, else 0: one layer per
 *    launch, the loop not compiled, and the host caps DL_LPL at 1
 *    (mcl_kern_dlayer_lpl). The case it keeps out is PoCL under the GPU
 *    rules (test_leak, test_limits; DL_SPEC's case too): there PoCL's LLVM
 *    15 spent over 5 minutes in loop unswitching on the layer loop (gdb,
 *    MemorySSAUpdater::updateExitBlocksForClonedLoop; session 10) where
 *    one layer compiles in seconds. A GPU that reports its local memory as
 *    global memory is unknown ground: it keeps session 9's launch per layer.
 * DL_WG, DL_LPR and DL_LPC are powers of two with DL_LPR, DL_LPC <= DL_WG.
 * No candidate space yet: the tuner leaves the family at its defaults. */
#include "tune/tune_dlayer.h"

#define MCL_DL_LPL_MAX 1024 /* "all the layers of an arena" (no Mamba checkpoint has more) */

static long dl_wg(const mcl_params *p) { return mcl_params_get(p, MCL_T_DL_WG, 0); }
static long dl_local(const mcl_params *p) { return 4 * dl_wg(p); } /* the trees; the staging buffer is an argument */

static void dl_defaults(const mcl_device_info *dev, mcl_params *out)
{
    bool cpu = dev->type == MCL_DEVICE_TYPE_CPU;
    long max = mcl_pow2_floor(mcl_tune_max_wg(dev));
    long wg = cpu ? 16 : 256, simd = (long)dev->preferred_wg_multiple;
    if (wg > max) wg = max;
    long lpr = cpu ? 1 : (mcl_is_pow2(simd) && simd >= 4 && simd <= 128 ? simd : 32);
    long lpc = cpu ? 1 : 16;
    mcl_params_set(out, MCL_T_DL_WG, wg);
    mcl_params_set(out, MCL_T_DL_LPR, lpr < wg ? lpr : wg);
    mcl_params_set(out, MCL_T_DL_UNR, 4);
    mcl_params_set(out, MCL_T_DL_SKIP, 0);
    mcl_params_set(out, MCL_T_DL_MAX_DINNER, cpu ? 0 : 8192);
    mcl_params_set(out, MCL_T_DL_LPC, lpc < wg ? lpc : wg);
    mcl_params_set(out, MCL_T_DL_GPC, cpu ? 1 : 4);
    mcl_params_set(out, MCL_T_DL_LPL, MCL_DL_LPL_MAX);
    mcl_params_set(out, MCL_T_DL_BAR, cpu ? 0 : 1);
    mcl_params_set(out, MCL_T_DL_PF, 0);
    mcl_params_set(out, MCL_T_DL_PFA, 0);
    mcl_params_set(out, MCL_T_DL_SPEC, !cpu && dev->local_mem_is_local ? 1 : 0);
    mcl_params_set(out, MCL_T_DL_MULTI, cpu || dev->local_mem_is_local ? 1 : 0);
}

static bool dl_fits(const mcl_device_info *dev, const mcl_params *p)
{
    (void)dev;
    long wg = dl_wg(p), lpr = mcl_params_get(p, MCL_T_DL_LPR, 0), lpc = mcl_params_get(p, MCL_T_DL_LPC, 0);
    return mcl_is_pow2(wg) && mcl_is_pow2(lpr) && mcl_is_pow2(lpc) && lpr <= wg && lpc <= wg;
}

static const mcl_tunable dl_tunables[] = {
    {MCL_T_DL_WG, 1, 1L << 20}, {MCL_T_DL_LPR, 1, 1L << 20}, {MCL_T_DL_UNR, 1, 16},
    {MCL_T_DL_LPC, 1, 1L << 20}, {MCL_T_DL_GPC, 1, 64}, {MCL_T_DL_SKIP, 0, 63},
    {MCL_T_DL_MAX_DINNER, 0, 1L << 20}, {MCL_T_DL_BAR, 0, 4}, {MCL_T_DL_PF, 0, 3}, {MCL_T_DL_PFA, 0, 16},
    {MCL_T_DL_SPEC, 0, 1}, {MCL_T_DL_LPL, 1, MCL_DL_LPL_MAX}, {MCL_T_DL_MULTI, 0, 1},
};

/* Read by src/ops/kern_dlayer.c, not by dlayer.cl. */
static const char *const dl_host_tunables[] = {MCL_T_DL_GPC, MCL_T_DL_MAX_DINNER, MCL_T_DL_LPL, NULL};

const mcl_family mcl_family_dlayer = {
    .id = MCL_FAM_DLAYER,
    .name = MCL_F_DLAYER,
    .n_tunables = MCL_N_OF(dl_tunables),
    .tunables = dl_tunables,
    .host_tunables = dl_host_tunables,
    .defaults = dl_defaults,
    .fits = dl_fits,
    .rule = "DL_WG, DL_LPR and DL_LPC powers of two, DL_LPR and DL_LPC <= DL_WG",
    .work_group = dl_wg,
    .local_bytes = dl_local,
};
