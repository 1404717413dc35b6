/* norm.cl: embedding gather and RMSNorm fused with the residual add (and
 * with the mma GEMM's activation split).
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
 * rmsnorm_split: rmsnorm_residual (rows in order, no row list) whose pass 2
 *   writes the output already split into the 16-bit parts the mma GEMM
 *   reads (src/ops/gemm.h, mcl_op_matmul_parts): hi = round(out),
 *   lo = round(out - hi) in F16 (f16) or BF16, [T, lda] each, zeros for
 *   k >= D, lo only when split == 2; each item does 8 consecutive k and
 *   stores 16 bytes per part. The same values bit for bit as
 *   rmsnorm_residual followed by gemm.cl's gemm_split_a (the same
 *   expressions, common.cl's rounding). Traffic per element: as
 *   rmsnorm_residual, but 2 * split bytes written instead of out's 4 (and no
 *   split pass reading them again).
 * rmsnorm_parts: rmsnorm_residual (rows in order, no row list) whose delta
 *   is a GEMM product still in split-K slabs (src/ops/gemm.h,
 *   mcl_op_matmul_slabs: out_proj accumulating into the residual): pass 1
 *   forms v = (slab 0 + .. + slab S-1) + resid, gemm_reduce's additions
 *   with beta 1 in its order, writes it back and sums squares; pass 2 as
 *   rmsnorm_residual. Bitwise gemm_reduce (beta 1) + rmsnorm_residual; one
 *   launch instead of two (the decode's out_proj of layer l with the norm of
 *   layer l + 1). Traffic per element: slabs 4*S, resid 4 read + 4 written +
 *   4 re-read, w 4 (cached), out 4.
 * greedy_pick: one work-group of NORM_WG items: the first index of the
 *   largest of logits[V] (NaN counts as -inf; all -inf gives 0: the host
 *   sampler's greedy choice, src/generate/sample.c) goes to ids[0] (the next
 *   step's embed_gather input) and ring[slot]; ctl[1] = step + 1 and, when
 *   the id is one of ctl[2 .. 2 + ctl[2 + MCL_PICK_MAX_STOP]), ctl[0] = 1
 *   (halt: this kernel and dlayer.cl do nothing while ctl[0] is set, so
 *   steps enqueued after a stop leave the state as it was; src/model/chain.c).
 *   Each item reads float4 vectors lid, lid + NORM_WG, ... (PICK_UNR loads
 *   issued before their compares: at 50280 logits one item's scalar loop
 *   waited on one load at a time, 13.5 us on the H200) and the V % 4 tail
 *   element lid, keeps the first largest of them, then a local-memory tree
 *   (larger value, on ties the lower index). With D > 0
 *   the group then gathers the id's embedding row into out (embed_gather's
 *   values: the next step needs no embed_gather launch). Traffic: 4 bytes
 *   read per logit, 3 ints written, D weights read and D floats written.
 * Tunables: NORM_WG (power of two; default 256 on GPUs, 64 on CPUs, capped by
 *   the device's max work-group size; src/tune_kern.c).
 */
#ifndef NORM_WG
#define NORM_WG 64
#endif
#define PICK_UNR 8 /* greedy_pick: float4 loads in flight per item */

__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void embed_gather(__global const int *ids, __global const void *emb, int wdtype,
                  __global float *out, int T, int D)
{
    int i = get_global_id(0), t = get_global_id(1);
    if (i >= D || t >= T) return;
    size_t id = (size_t)ids[t];
    out[(size_t)t * D + i] = mcl_load_w(emb, id * (size_t)D + i, wdtype);
}

/* The local-memory tree of the items' sums of squares ss: rsqrt(mean + eps). */
inline float norm_tree_scale(float ss, float eps, int D, __local float *red)
{
    int lid = get_local_id(0);
    red[lid] = ss;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = NORM_WG / 2; s > 0; s >>= 1) {
        if (lid < s) red[lid] += red[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return rsqrt(red[0] / (float)D + eps);
}

/* Pass 1 of rmsnorm_residual and rmsnorm_split on row `src` (an offset):
 * the residual add (with has_delta) and the local-memory tree of the sum of
 * squares; returns rsqrt(mean(v^2) + eps), the same value in every item. */
inline float norm_row_scale(__global float *resid, __global const float *delta, int has_delta, size_t src,
                            float eps, int D, __local float *red)
{
    int lid = get_local_id(0);
    float ss = 0.0f;
    for (int i = lid; i < D; i += NORM_WG) {
        float v = resid[src + i];
        if (has_delta) {
            v += delta[src + i];
            resid[src + i] = v;
        }
        ss = mad(v, v, ss);
    }
    return norm_tree_scale(ss, eps, D, red);
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
    float scale = norm_row_scale(resid, delta, has_delta, src, eps, D, red);
    size_t dst = (size_t)r * (size_t)D;
    for (int i = lid; i < D; i += NORM_WG) out[dst + i] = resid[src + i] * scale * w[i];
}

__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void rmsnorm_parts(__global float *resid, __global const float *ws, int S, ulong MN, __global const float *w,
                   float eps, __global float *out, int T, int D)
{
    __local float red[NORM_WG];
    int r = get_group_id(0), lid = get_local_id(0);
    /* the host launches exactly T groups (no early return before barriers) */
    size_t src = (size_t)r * (size_t)D;
    float ss = 0.0f;
    for (int i = lid; i < D; i += NORM_WG) {
        float s = 0.0f;
        for (int z = 0; z < S; z++) s += ws[(size_t)z * MN + src + i];
        float v = s + resid[src + i];
        resid[src + i] = v;
        ss = mad(v, v, ss);
    }
    float scale = norm_tree_scale(ss, eps, D, red);
    for (int i = lid; i < D; i += NORM_WG) out[src + i] = resid[src + i] * scale * w[i];
}

/* Normalized elements i..i+3 of the row at resid + src (zero at i >= D):
 * 16-byte loads where the row and w are 16-byte aligned (D % 4 == 0). */
inline float4 norm_out4(__global const float *resid, size_t src, __global const float *w, float scale, int i,
                        int D)
{
    if ((D & 3) == 0 && i + 3 < D)
        return *(__global const float4 *)(resid + src + i) * scale * *(__global const float4 *)(w + i);
    float4 o;
    o.x = i < D ? resid[src + i] * scale * w[i] : 0.0f;
    o.y = i + 1 < D ? resid[src + i + 1] * scale * w[i + 1] : 0.0f;
    o.z = i + 2 < D ? resid[src + i + 2] * scale * w[i + 2] : 0.0f;
    o.w = i + 3 < D ? resid[src + i + 3] * scale * w[i + 3] : 0.0f;
    return o;
}

__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void rmsnorm_split(__global float *resid, __global const float *delta, int has_delta,
                   __global const float *w, float eps, int lda, int f16, int split,
                   __global ushort *hi, __global ushort *lo, int T, int D)
{
    __local float red[NORM_WG];
    int r = get_group_id(0), lid = get_local_id(0);
    /* the host launches exactly T groups (no early return before barriers) */
    size_t src = (size_t)r * (size_t)D;
    float scale = norm_row_scale(resid, delta, has_delta, src, eps, D, red);
    if (has_delta) barrier(CLK_GLOBAL_MEM_FENCE); /* pass 2 reads other items' residual writes */
    for (int k = 8 * lid; k < lda; k += 8 * NORM_WG) {
        float4 a0 = norm_out4(resid, src, w, scale, k, D), a1 = norm_out4(resid, src, w, scale, k + 4, D);
        float4 h0 = gemm_round4(a0, f16), h1 = gemm_round4(a1, f16);
        size_t o = ((size_t)r * lda + k) / 8;
        ((__global uint4 *)hi)[o] = gemm_pack8(h0, h1, f16);
        if (split == 2)
            ((__global uint4 *)lo)[o] = gemm_pack8(gemm_round4(a0 - h0, f16), gemm_round4(a1 - h1, f16), f16);
    }
}

#define MCL_PICK_MAX_STOP 8

/* (v, i) of b when it beats a: larger, or equal at a lower index. */
inline void pick_merge(float *v, int *i, float bv, int bi)
{
    if (bv > *v || (bv == *v && bi < *i)) {
        *v = bv;
        *i = bi;
    }
}

/* Logit x (NaN as -inf) at index i into (best, at), by pick_merge's rule. */
inline void pick_take(float *best, int *at, float x, int i)
{
    pick_merge(best, at, isnan(x) ? -INFINITY : x, i);
}

__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void greedy_pick(__global const float *logits, int V,        // [V] the step's logits
                 __global int *ids, __global int *ring, int slot, int step, // ids [1]; ring [> slot]
                 __global int *ctl,                           // [2 + MCL_PICK_MAX_STOP + 1] halt, count, stops, n_stop
                 __global const void *emb, int wdtype, int D, // [V, D] the embedding (D 0: no gather)
                 __global float *out)                         // [D] = emb[id] in fp32 (embed_gather's value)
{
    __local float rv[NORM_WG];
    __local int ri[NORM_WG];
    const int halted = ctl[0] != 0; /* uniform; returning here, before the barriers, segfaulted in PoCL 3.1 */
    int lid = get_local_id(0);
    float best = -INFINITY;
    int at = INT_MAX; /* none yet: loses every tie to a real index (pick_merge) */
    const int nv = V / 4;
    for (int j0 = lid; j0 < nv; j0 += NORM_WG * PICK_UNR) { /* PICK_UNR 4-float loads in flight per item */
        float4 t[PICK_UNR];
#pragma unroll
        for (int u = 0; u < PICK_UNR; u++) {
            int j = j0 + u * NORM_WG;
            t[u] = j < nv ? vload4(j, logits) : (float4)(-INFINITY);
        }
#pragma unroll
        for (int u = 0; u < PICK_UNR; u++) { /* this item's elements in increasing index order */
            int j = 4 * (j0 + u * NORM_WG);
            pick_take(&best, &at, t[u].s0, j);
            pick_take(&best, &at, t[u].s1, j + 1);
            pick_take(&best, &at, t[u].s2, j + 2);
            pick_take(&best, &at, t[u].s3, j + 3);
        }
    }
    if (lid < V % 4) pick_take(&best, &at, logits[4 * nv + lid], 4 * nv + lid); /* the tail, past every vector */
    rv[lid] = best;
    ri[lid] = at;
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE); /* every item's read of ctl[0] before item 0 writes it */
    for (int s = NORM_WG / 2; s > 0; s >>= 1) {
        if (lid < s) {
            float v = rv[lid];
            int i = ri[lid];
            pick_merge(&v, &i, rv[lid + s], ri[lid + s]);
            rv[lid] = v;
            ri[lid] = i;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    int id = ri[0] < V ? ri[0] : 0;
    if (halted) return; /* after the last barrier */
    if (lid == 0) {
        int n_stop = min(ctl[2 + MCL_PICK_MAX_STOP], MCL_PICK_MAX_STOP), halt = 0;
        for (int k = 0; k < n_stop; k++) halt |= ctl[2 + k] == id;
        ids[0] = id;
        ring[slot] = id;
        ctl[1] = step + 1;
        if (halt) ctl[0] = 1;
    }
    for (int i = lid; i < D; i += NORM_WG) out[i] = mcl_load_w(emb, (size_t)id * (size_t)D + i, wdtype);
}
