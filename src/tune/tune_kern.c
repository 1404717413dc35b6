/* Defaults and candidate spaces of norm.cl, convert.cl, conv.cl and gemv.cl.
 *
 * Rules (documented in docs/kernels.md):
 *  - NORM_WG, CONVERT_WG, CONV_WG: 256 on GPUs and accelerators, 64 on CPUs
 *    (PoCL runs a work-group as a loop; small groups spread rows over cores),
 *    capped by the largest power of two <= CL_DEVICE_MAX_WORK_GROUP_SIZE.
 *  - GEMV_LPR: the SIMD width (CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
 *    32 if unknown or not a power of two) on GPUs, so a row team is one warp
 *    or wavefront and the reduction stays within it; 1 on CPUs (a work-item
 *    walks whole rows with float8 loads and FMAs: what PoCL vectorizes; no
 *    reduction).
 *  - GEMV_WG: 256 on GPUs (8 teams of 32), 4 on CPUs (PoCL runs a group as a
 *    loop; 64 rows per group keeps the per-group cost small), capped as above
 *    and never below GEMV_LPR (LPR shrinks to fit).
 *  - GEMV_RPL: 1 on GPUs (most parallelism at batch 1), 16 on CPUs.
 *  - GEMV_BT: 8 on GPUs, 1 on CPUs (a batch tile's registers slow the
 *    vectorized loop more than re-reading cached weights costs), halved
 *    until the reduction buffer 4*(RPL+1)*BT*WG bytes fits in half of
 *    CL_DEVICE_LOCAL_MEM_SIZE.
 *  - GEMV_UNR: 4 vectors per row in flight.
 *  - GEMV_VACC: 1 on CPUs (float8 accumulators: vector FMAs), 0 on GPUs.
 *  - GEMV_F16: CPUs 0 (vload_half8); GPUs 2 (half8) with cl_khr_fp16, else 1
 *    (uint4 load + bit manipulation: on the H200 946 GB/s at 8192 x 2048
 *    against 830 for a uint4 load + vload_half8 of a private copy, which
 *    was dropped).
 *  - gemm.cl, tensor-core kernels: GEMM_BM 64, GEMM_BN 128, GEMM_BK 32,
 *    GEMM_WM 2 x GEMM_WN 2 warps, GEMM_STAGES 2, GEMM_SPLIT 2 (hi + lo),
 *    GEMM_SWZ 0 (padded local rows: on the H200 1.24x faster than the
 *    swizzled rows at 2048 x 8192 x 2048, and faster than every other
 *    configuration measured, docs/performance.md);
 *    GEMM_BK halves (then GEMM_STAGES drops to 2, then GEMM_BM halves) until
 *    STAGES * (SPLIT * BM + BN) * BK * 2 bytes fit in the local memory.
 *    GEMM_SPLITK 8: at most 8 K slices, used when the blocks of C do not fill
 *    the device twice (src/ops/gemm.c).
 *  - gemm_simt: on GPUs GEMM_SW 16 (square work-group, capped so SW*SW <=
 *    the work-group limit), GEMM_ST 4 outputs per item and dimension,
 *    GEMM_SBK 16; on CPUs SW 4, ST 8, SBK 32 (PoCL runs a work-group as a
 *    loop: few items with more work each measured 4x faster than 8 x 8 x 4
 *    and 1.5x faster than CLBlast SGEMM at 64 x 1536 x 768, docs/performance.md).
 *  - GEMM_GEMV_MAX_ROWS 16: up to 16 rows a projection runs as gemv;
 *  - GEMM_CLBLAST (where mma is off): 1 on GPUs (on the H200 CLBlast SGEMM
 *    measured 1.2-1.4x faster than gemm_simt at the 1.4b prefill shapes; it
 *    has tuned kernels for many AMD and Intel GPUs), 0 on CPUs (gemm_simt
 *    faster on PoCL).
 */
#include "tune/tune_kern.h"

#include <string.h>

static bool is_pow2(long v) { return v > 0 && (v & (v - 1)) == 0; }

static long cap_wg(const mcl_device_info *dev, long wg)
{
    long max = mcl_pow2_floor((long)(dev->max_work_group_size ? dev->max_work_group_size : 1));
    return wg < max ? wg : max;
}

static long simple_wg(const mcl_device_info *dev)
{
    return cap_wg(dev, dev->type == MCL_DEVICE_TYPE_CPU ? 64 : 256);
}

void mcl_tune_norm_defaults(const mcl_device_info *dev, mcl_params *out)
{
    mcl_params_set(out, "NORM_WG", simple_wg(dev));
}

void mcl_tune_convert_defaults(const mcl_device_info *dev, mcl_params *out)
{
    mcl_params_set(out, "CONVERT_WG", simple_wg(dev));
}

void mcl_tune_conv_defaults(const mcl_device_info *dev, mcl_params *out)
{
    mcl_params_set(out, "CONV_WG", simple_wg(dev));
}

long mcl_tune_gemv_local_bytes(const mcl_params *p)
{
    return 4 * (mcl_params_get(p, "GEMV_RPL", 1) + 1) * mcl_params_get(p, "GEMV_BT", 1) *
           mcl_params_get(p, "GEMV_WG", 1);
}

void mcl_tune_gemv_defaults(const mcl_device_info *dev, mcl_params *out)
{
    bool cpu = dev->type == MCL_DEVICE_TYPE_CPU;
    long simd = (long)dev->preferred_wg_multiple;
    long lpr = cpu ? 1 : (is_pow2(simd) && simd >= 4 && simd <= 128 ? simd : 32);
    long wg = cap_wg(dev, cpu ? 4 : 256);
    if (lpr > wg) lpr = wg;
    mcl_params_set(out, "GEMV_WG", wg);
    mcl_params_set(out, "GEMV_LPR", lpr);
    mcl_params_set(out, "GEMV_RPL", cpu ? 16 : 1);
    mcl_params_set(out, "GEMV_UNR", 4);
    mcl_params_set(out, "GEMV_VACC", cpu ? 1 : 0);
    mcl_params_set(out, "GEMV_F16", cpu ? 0 : dev->has_fp16 ? 2 : 1);
    long bt = cpu ? 1 : 8;
    mcl_params_set(out, "GEMV_BT", bt);
    while (bt > 1 && (uint64_t)mcl_tune_gemv_local_bytes(out) > dev->local_mem_bytes / 2) {
        bt /= 2;
        mcl_params_set(out, "GEMV_BT", bt);
    }
}

long mcl_tune_gemm_mma_local_bytes(const mcl_params *p)
{
    long bm = mcl_params_get(p, "GEMM_BM", 0), bn = mcl_params_get(p, "GEMM_BN", 0);
    long bk = mcl_params_get(p, "GEMM_BK", 0), st = mcl_params_get(p, "GEMM_STAGES", 0);
    long row = mcl_params_get(p, "GEMM_SWZ", 1) ? bk : bk + 8;
    return st * (mcl_params_get(p, "GEMM_SPLIT", 1) * bm + bn) * row * 2;
}

long mcl_tune_gemm_simt_local_bytes(const mcl_params *p)
{
    long b = mcl_params_get(p, "GEMM_SW", 0) * mcl_params_get(p, "GEMM_ST", 0);
    return 2 * mcl_params_get(p, "GEMM_SBK", 0) * (b + 1) * 4;
}

bool mcl_tune_gemm_fits(const mcl_device_info *dev, const mcl_params *p)
{
    long bm = mcl_params_get(p, "GEMM_BM", 0), bn = mcl_params_get(p, "GEMM_BN", 0);
    long bk = mcl_params_get(p, "GEMM_BK", 0), wm = mcl_params_get(p, "GEMM_WM", 0);
    long wn = mcl_params_get(p, "GEMM_WN", 0), st = mcl_params_get(p, "GEMM_STAGES", 0);
    long sp = mcl_params_get(p, "GEMM_SPLIT", 0), sw = mcl_params_get(p, "GEMM_SW", 0);
    if ((bk != 16 && bk != 32 && bk != 64) || (bk == 64 && !mcl_params_get(p, "GEMM_SWZ", 1)) || wm < 1 || wn < 1 || bm % (16 * wm) || bn % (16 * wn)) return false;
    if (st < 2 || st > 4 || sp < 1 || sp > 2 || sw < 1 || mcl_params_get(p, "GEMM_ST", 0) < 1) return false;
    if ((size_t)(32 * wm * wn) > dev->max_work_group_size || (size_t)(sw * sw) > dev->max_work_group_size)
        return false;
    return (uint64_t)mcl_tune_gemm_mma_local_bytes(p) <= dev->local_mem_bytes &&
           (uint64_t)mcl_tune_gemm_simt_local_bytes(p) <= dev->local_mem_bytes;
}

void mcl_tune_gemm_defaults(const mcl_device_info *dev, mcl_params *out)
{
    static const char *const names[] = {"GEMM_BM", "GEMM_BN", "GEMM_BK", "GEMM_WM", "GEMM_WN",
                                        "GEMM_STAGES", "GEMM_SPLIT", "GEMM_SPLITK", "GEMM_SWZ"};
    static const long values[] = {64, 128, 32, 2, 2, 2, 2, 8, 0};
    for (int i = 0; i < 9; i++) mcl_params_set(out, names[i], values[i]);
    bool cpu = dev->type == MCL_DEVICE_TYPE_CPU;
    long sw = cpu ? 4 : 16;
    while (sw > 1 && (size_t)(sw * sw) > dev->max_work_group_size) sw /= 2;
    mcl_params_set(out, "GEMM_SW", sw);
    mcl_params_set(out, "GEMM_ST", cpu ? 8 : 4);
    mcl_params_set(out, "GEMM_SBK", cpu ? 32 : 16);
    mcl_params_set(out, "GEMM_GEMV_MAX_ROWS", 16);
    mcl_params_set(out, "GEMM_CLBLAST", cpu ? 0 : 1);
    while ((uint64_t)mcl_tune_gemm_mma_local_bytes(out) > dev->local_mem_bytes) {
        if (mcl_params_get(out, "GEMM_BK", 16) > 16) mcl_params_set(out, "GEMM_BK", 16);
        else if (mcl_params_get(out, "GEMM_STAGES", 2) > 2) mcl_params_set(out, "GEMM_STAGES", 2);
        else if (mcl_params_get(out, "GEMM_BM", 32) > 32) mcl_params_set(out, "GEMM_BM", 32);
        else break;
    }
}

static bool gemv_fits(const mcl_device_info *dev, const mcl_params *p)
{
    long wg = mcl_params_get(p, "GEMV_WG", 0), lpr = mcl_params_get(p, "GEMV_LPR", 0);
    if (!is_pow2(wg) || !is_pow2(lpr) || lpr > wg) return false;
    if ((size_t)wg > dev->max_work_group_size || (size_t)wg > dev->max_work_item_sizes[0])
        return false;
    return (uint64_t)mcl_tune_gemv_local_bytes(p) <= dev->local_mem_bytes / 2;
}

/* Small on purpose: every fitting point is compiled and checked by the tests. */
const mcl_tune_space mcl_tune_gemv_space = {
    "gemv.cl",
    4,
    {
        {"GEMV_WG", 3, {64, 128, 256}},
        {"GEMV_LPR", 3, {8, 32, 64}},
        {"GEMV_RPL", 2, {1, 2}},
        {"GEMV_BT", 2, {4, 8}},
    },
    gemv_fits,
};

int mcl_tune_space_size(const mcl_tune_space *space)
{
    int n = 1;
    for (int a = 0; a < space->n_axes; a++) n *= space->axes[a].n;
    return n;
}

bool mcl_tune_space_config(const mcl_tune_space *space, int index, const mcl_device_info *dev,
                           mcl_params *out)
{
    memset(out, 0, sizeof *out);
    for (int a = space->n_axes - 1; a >= 0; a--) {
        const mcl_tune_axis *ax = &space->axes[a];
        mcl_params_set(out, ax->name, ax->values[index % ax->n]);
        index /= ax->n;
    }
    return space->fits(dev, out);
}
