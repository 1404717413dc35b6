/* The family gemv_mma.cl: batched decode GEMVs on the matrix units
 * (cl/gemv_mma.cl).
 *
 * Rules (docs/kernels.md):
 *  - GMMA_MAX_B (host, the dispatch): the largest batch whose projections
 *    run here; 16 on a device with a proven matrix path (has_matrix_path:
 *    NVIDIA mma.sync), 0 (never) elsewhere, where the kernels compile with
 *    an emulated mma (tests only). F32 weights never come here.
 *  - GMMA_WARPS: 8 warps per group splitting K, so that even out_proj of
 *    1.4b (2048 rows: 128 groups of 16 rows) keeps enough loads in flight
 *    on a GPU of 132 compute units (H200, B 8: 4 warps in_proj 36.5 us and
 *    out_proj 22.3 us against 30.9 and 14.3 with 8; 16 needs 32 KiB of
 *    local memory, above the rule's half of 48 KiB, and was refused);
 *    fewer where the device's groups are smaller; 1 without a matrix path
 *    (only the tests' emulation runs there).
 *  - GMMA_NT: 2 n8 tiles (16 sequences per tile): batches above 16 take
 *    several tiles, each re-reading W (from L2 when it fits).
 *  - GMMA_UNR: 1 chunk of 32 weights per row loaded before its products
 *    (H200, gemv_timing 8192 2048 8 f16 --kernel in: UNR 1 20.1 us, 2 30.9,
 *    4 33.6; out_proj 2048 x 4096: 14.8, 14.3, 16.3 us: more chunks in
 *    flight cost registers and occupancy, and 8 warps per group already
 *    keep enough loads in flight).
 *  - GMMA_MT: 1 m16 row tile per group (2 or more reuse each x fragment for
 *    more rows: less x traffic at large batches, more registers).
 * No candidate space yet: the tuner leaves the family at its defaults. */
#include "tune/tune_gmma.h"

long mcl_tune_gmma_local_bytes(const mcl_params *p)
{
    long w = mcl_params_get(p, MCL_T_GMMA_WARPS, 0), nt = mcl_params_get(p, MCL_T_GMMA_NT, 0);
    long mt = mcl_params_get(p, MCL_T_GMMA_MT, 1);
    return 4 * w * nt * (128 * mt + 32) + 4 * 6 * 32 * w;
}

static void gmma_defaults(const mcl_device_info *dev, mcl_params *out)
{
    long warps = mcl_tune_max_wg(dev) / 32; /* 8, fewer where groups are smaller */
    if (!dev->has_matrix_path) warps = 1;   /* only the emulation runs: its selftests stay cheap */
    mcl_params_set(out, MCL_T_GMMA_WARPS, warps >= 8 ? 8 : warps >= 4 ? 4 : warps >= 2 ? 2 : 1);
    mcl_params_set(out, MCL_T_GMMA_NT, 2);
    mcl_params_set(out, MCL_T_GMMA_UNR, 1);
    mcl_params_set(out, MCL_T_GMMA_MT, 1);
    mcl_params_set(out, MCL_T_GMMA_MAX_B, dev->has_matrix_path ? 16 : 0);
}

static long gmma_wg(const mcl_params *p) { return 32 * mcl_params_get(p, MCL_T_GMMA_WARPS, 0); }

static bool gmma_fits(const mcl_device_info *dev, const mcl_params *p)
{
    long w = mcl_params_get(p, MCL_T_GMMA_WARPS, 0);
    if (!mcl_is_pow2(w)) return false;
    return (uint64_t)mcl_tune_gmma_local_bytes(p) <= dev->local_mem_bytes / 2;
}

static const mcl_tunable gmma_tunables[] = {
    {MCL_T_GMMA_WARPS, 1, 32},
    {MCL_T_GMMA_NT, 1, 8},
    {MCL_T_GMMA_UNR, 1, 8},
    {MCL_T_GMMA_MT, 1, 8},
    {MCL_T_GMMA_MAX_B, 0, 64},
};

/* Read by src/ops/kern_gmma.c, not by gemv_mma.cl. */
static const char *const gmma_host_tunables[] = {MCL_T_GMMA_MAX_B, NULL};

/* The kernels run only where the dispatch rule sends batches. */
static bool gmma_used(const mcl_params *p) { return mcl_params_get(p, MCL_T_GMMA_MAX_B, 0) >= 2; }

const mcl_family mcl_family_gmma = {
    .id = MCL_FAM_GMMA,
    .name = MCL_F_GMMA,
    .n_tunables = MCL_N_OF(gmma_tunables),
    .tunables = gmma_tunables,
    .host_tunables = gmma_host_tunables,
    .defaults = gmma_defaults,
    .fits = gmma_fits,
    .rule = "GMMA_WARPS a power of two, 4*WARPS*(NT*(128*MT+32)+192) bytes within half the local memory",
    .work_group = gmma_wg,
    .local_bytes = mcl_tune_gmma_local_bytes,
    .used = gmma_used,
};
