/* Defaults and candidate spaces of scan.cl and ssm_step.cl.
 *
 * Rules (documented in docs/kernels.md):
 *  scan.cl
 *  - SCAN_DCH (channels per work-group): 8 on GPUs, so that a time row of
 *    x, z or y read by a work-group is one 32-byte sector of fp32 and batch 1
 *    still gives d_inner/8 work-groups (192 for d_inner 1536 on 132 CUs);
 *    16 on CPUs (one SIMD vector of channels).
 *  - SCAN_TT (time-threads, power of two): GPUs fill a work-group of
 *    min(256, CL_DEVICE_MAX_WORK_GROUP_SIZE, MAX_WORK_ITEM_SIZES[0]) work-items,
 *    TT = that / DCH; CPUs 4 (few barrier levels: PoCL runs a work-group as
 *    loops split at barriers).
 *  - SCAN_ITEMS (timesteps per work-item): 4 on GPUs, 8 on CPUs; the chunk is
 *    TT*ITEMS timesteps (128 on a GPU, 32 on a CPU).
 *  - SCAN_NG (states per pass): 16, the d_state of every released Mamba-1
 *    checkpoint, so N = 16 takes one pass; a work-item keeps NG*ITEMS values
 *    of exp(Δ·A) in registers.
 *  - SCAN_RT (rows of the W_dt tile): the largest power of two <= 64 such that
 *    the local memory 4*(2*NG*TT + RT + NG)*DCH bytes fits
 *    CL_DEVICE_LOCAL_MEM_SIZE (with the GPU default: 32 KiB of scan pairs +
 *    2 KiB tile + 0.5 KiB carry = 34.5 KiB of the H100's 48 KiB). If even
 *    RT = 8 does not fit, TT and then NG are halved until it does.
 *  - SCAN_FAST_EXP: 1 on GPUs (native_exp2, within the tests' tolerances),
 *    0 on CPUs.
 *  ssm_step.cl
 *  - STEP_LPC (lanes per channel): 1 on CPUs (a work-item per channel, no
 *    barriers), 16 on GPUs (a lane per state for N = 16: d_inner*B*16
 *    work-items keep a batch-1 step on many compute units).
 *  - STEP_WG: 64 on CPUs, 128 on GPUs, capped by the device.
 */
#include "tune_scan.h"

#include <string.h>

#define SCAN_MAX_VALUES 8

typedef struct scan_axis {
    const char *name;
    int n;
    long values[SCAN_MAX_VALUES];
} scan_axis;

/* Candidate spaces: GPUs and accelerators, and a smaller one for CPUs. */
static const scan_axis scan_space_gpu[] = {
    {"SCAN_DCH", 3, {8, 16, 32}},
    {"SCAN_TT", 4, {8, 16, 32, 64}},
    {"SCAN_ITEMS", 3, {2, 4, 8}},
    {"SCAN_NG", 2, {8, 16}},
};
static const scan_axis scan_space_cpu[] = {
    {"SCAN_DCH", 2, {8, 16}},
    {"SCAN_TT", 3, {1, 4, 16}},
    {"SCAN_ITEMS", 1, {8}},
    {"SCAN_NG", 1, {16}},
};
static const scan_axis step_space[] = {
    {"STEP_WG", 4, {32, 64, 128, 256}},
    {"STEP_LPC", 4, {1, 4, 8, 16}},
};

#define N_AXES(a) ((int)(sizeof(a) / sizeof((a)[0])))

static bool is_cpu(const mcl_device_info *dev) { return dev->type == MCL_DEVICE_TYPE_CPU; }

static bool is_pow2(long v) { return v > 0 && (v & (v - 1)) == 0; }

/* Largest work-group the device takes in dimension 0. */
static long max_wg(const mcl_device_info *dev)
{
    long m = (long)(dev->max_work_group_size ? dev->max_work_group_size : 1);
    long m0 = (long)dev->max_work_item_sizes[0];
    if (m0 > 0 && m0 < m) m = m0;
    return m;
}

long mcl_tune_scan_local_bytes(const mcl_params *p)
{
    long dch = mcl_params_get(p, "SCAN_DCH", 1), tt = mcl_params_get(p, "SCAN_TT", 1);
    long ng = mcl_params_get(p, "SCAN_NG", 1), rt = mcl_params_get(p, "SCAN_RT", 1);
    return 4 * (2 * ng * tt + rt + ng) * dch;
}

bool mcl_tune_scan_fits(const mcl_device_info *dev, const mcl_params *p)
{
    long dch = mcl_params_get(p, "SCAN_DCH", 0), tt = mcl_params_get(p, "SCAN_TT", 0);
    long items = mcl_params_get(p, "SCAN_ITEMS", 0), ng = mcl_params_get(p, "SCAN_NG", 0);
    long rt = mcl_params_get(p, "SCAN_RT", 0);
    if (dch < 1 || !is_pow2(tt) || items < 1 || ng < 1 || rt < 1) return false;
    if (dch * tt > max_wg(dev) || ng * items > 128) return false;
    return mcl_tune_scan_local_bytes(p) <= (long)dev->local_mem_bytes;
}

/* SCAN_RT: the largest power of two <= 64 that fits; 0 when none >= 8 does. */
static long derive_rt(const mcl_device_info *dev, mcl_params *p)
{
    for (long rt = 64; rt >= 8; rt /= 2) {
        mcl_params_set(p, "SCAN_RT", rt);
        if (mcl_tune_scan_local_bytes(p) <= (long)dev->local_mem_bytes) return rt;
    }
    mcl_params_set(p, "SCAN_RT", 0);
    return 0;
}

void mcl_tune_scan_defaults(const mcl_device_info *dev, mcl_params *out)
{
    bool cpu = is_cpu(dev);
    long wg = mcl_pow2_floor(max_wg(dev));
    long dch = cpu ? 16 : 8;
    if (dch > wg) dch = wg;
    long tt = cpu ? 4 : mcl_pow2_floor((wg < 256 ? wg : 256) / dch);
    if (tt * dch > wg) tt = mcl_pow2_floor(wg / dch);
    long ng = 16;
    mcl_params_set(out, "SCAN_DCH", dch);
    mcl_params_set(out, "SCAN_ITEMS", cpu ? 8 : 4);
    mcl_params_set(out, "SCAN_FAST_EXP", cpu ? 0 : 1);
    for (;;) {
        mcl_params_set(out, "SCAN_TT", tt);
        mcl_params_set(out, "SCAN_NG", ng);
        if (derive_rt(dev, out) > 0 || (tt == 1 && ng == 1)) break;
        if (tt > 1) tt /= 2;
        else ng /= 2;
    }
    if (mcl_params_get(out, "SCAN_RT", 0) == 0) mcl_params_set(out, "SCAN_RT", 1);
}

void mcl_tune_step_defaults(const mcl_device_info *dev, mcl_params *out)
{
    long wg = mcl_pow2_floor(max_wg(dev));
    if (is_cpu(dev)) { /* one work-item per channel: no barriers in the step */
        mcl_params_set(out, "STEP_WG", wg < 64 ? wg : 64);
        mcl_params_set(out, "STEP_LPC", 1);
        return;
    }
    /* GPUs: 16 lanes per channel (one per state of the usual N = 16), 128 per group */
    mcl_params_set(out, "STEP_WG", wg < 128 ? wg : 128);
    mcl_params_set(out, "STEP_LPC", wg < 16 ? wg : 16);
}

static int space_size(const scan_axis *axes, int n_axes)
{
    int size = 1;
    for (int a = 0; a < n_axes; a++) size *= axes[a].n;
    return size;
}

/* Sets configuration `index` of the product of the axes (last axis fastest). */
static void space_pick(const scan_axis *axes, int n_axes, int index, mcl_params *out)
{
    for (int a = n_axes - 1; a >= 0; a--) {
        mcl_params_set(out, axes[a].name, axes[a].values[index % axes[a].n]);
        index /= axes[a].n;
    }
}

int mcl_tune_scan_space_size(const mcl_device_info *dev)
{
    return is_cpu(dev) ? space_size(scan_space_cpu, N_AXES(scan_space_cpu))
                       : space_size(scan_space_gpu, N_AXES(scan_space_gpu));
}

bool mcl_tune_scan_space_config(const mcl_device_info *dev, int index, mcl_params *out)
{
    memset(out, 0, sizeof *out);
    if (index < 0 || index >= mcl_tune_scan_space_size(dev)) return false;
    if (is_cpu(dev)) space_pick(scan_space_cpu, N_AXES(scan_space_cpu), index, out);
    else space_pick(scan_space_gpu, N_AXES(scan_space_gpu), index, out);
    mcl_params_set(out, "SCAN_FAST_EXP", is_cpu(dev) ? 0 : 1);
    derive_rt(dev, out);
    return mcl_tune_scan_fits(dev, out);
}

int mcl_tune_step_space_size(const mcl_device_info *dev)
{
    (void)dev;
    return space_size(step_space, N_AXES(step_space));
}

bool mcl_tune_step_space_config(const mcl_device_info *dev, int index, mcl_params *out)
{
    memset(out, 0, sizeof *out);
    if (index < 0 || index >= mcl_tune_step_space_size(dev)) return false;
    space_pick(step_space, N_AXES(step_space), index, out);
    long wg = mcl_params_get(out, "STEP_WG", 0), lpc = mcl_params_get(out, "STEP_LPC", 1);
    return wg <= max_wg(dev) && lpc <= wg && wg % lpc == 0;
}
