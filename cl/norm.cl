/* norm.cl: embedding gather and RMSNorm fused with the residual add.
 *
 * embed_gather: out[t, :] = emb[ids[t], :] converted to fp32. Grid
 *   (round_up(D, NORM_WG), T); one element per work-item. Traffic per element:
 *   2 or 4 bytes read (weight dtype), 4 written, plus one id per work-item.
 *   Token ids must lie in [0, vocab): the host checks them (the kernel has no
 *   vocab size).
 * rmsnorm_residual: one work-group of NORM_WG work-items per output row r.
 *   src = has_rows ? rows[r] : r; pass 1 strides over the row adding delta
 *   into the fp32 residual (written back) and summing squares; a local-memory
 *   tree gives mean(v^2); pass 2 writes out = v * rsqrt(mean + eps) * w.
 *   With has_delta and has_rows, rows must be distinct (each residual row is
 *   updated once). Traffic per element: resid 4 read + 4 written (only with
 *   delta) + 4 re-read (cache), delta 4, w 4 (cached across rows), out 4.
 * Tunables: NORM_WG (power of two; default 256 on GPUs, 64 on CPUs, capped by
 *   the device's max work-group size; src/tune_kern.c).
 */
#ifndef NORM_WG
#define NORM_WG 64
#endif

__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void embed_gather(__global const int *ids, __global const void *emb, int wdtype,
                  __global float *out, int T, int D)
{
    int i = get_global_id(0), t = get_global_id(1);
    if (i >= D || t >= T) return;
    size_t id = (size_t)ids[t];
    out[(size_t)t * D + i] = mcl_load_w(emb, id * (size_t)D + i, wdtype);
}

__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void rmsnorm_residual(__global float *resid, __global const float *delta, int has_delta,
                      __global const float *w, float eps, __global float *out,
                      __global const int *rows, int has_rows, int T, int D)
{
    __local float red[NORM_WG];
    int r = get_group_id(0), lid = get_local_id(0);
    /* the host launches exactly T groups (no early return before barriers) */
    size_t src = (size_t)(has_rows ? rows[r] : r) * (size_t)D;
    float ss = 0.0f;
    for (int i = lid; i < D; i += NORM_WG) {
        float v = resid[src + i];
        if (has_delta) {
            v += delta[src + i];
            resid[src + i] = v;
        }
        ss = mad(v, v, ss);
    }
    red[lid] = ss;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = NORM_WG / 2; s > 0; s >>= 1) {
        if (lid < s) red[lid] += red[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float scale = rsqrt(red[0] / (float)D + eps);
    size_t dst = (size_t)r * (size_t)D;
    for (int i = lid; i < D; i += NORM_WG) out[dst + i] = resid[src + i] * scale * w[i];
}
