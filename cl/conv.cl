/* conv.cl: causal depthwise conv1d of width K (any K >= 2) + bias + SiLU,
 * over whole sequences (prefill) or one token per sequence (decode).
 *
 * Input x [T, d_inner] read through a strided view: x(t, d) =
 * x[x_off + t*x_ld + d] (Mamba-1: the first half of each in_proj row, x_off 0,
 * x_ld 2*d_inner); conv weight w [d_inner, K];
 * xc[t, d] = SiLU(bias[d] + sum_k w[d,k] * x(t-(K-1)+k, d)),
 * where positions before a sequence's first token come from its conv state
 * (tap j = 0..K-2, oldest first; zeros for a fresh state).
 *
 * conv_prefill: grid (round_up(d_inner, CONV_WG), T); work-item (d, t) finds
 *   its sequence b by binary search in seq_start. Items whose position in the
 *   sequence is >= K-1 read only x. The item at position 0 of each sequence
 *   does the first min(L, K-1) outputs (they need the old state) and then
 *   writes the new state, x at positions L-(K-1)..L-1, taking old taps when
 *   L < K-1 (in place in increasing j: tap j reads old tap j+L > j). So the old
 *   state is read and written by one work-item and no barrier is needed.
 *   Traffic per element: x read K times (cached; 4 bytes from memory),
 *   w K*4 bytes (cached), xc 4 written; state 4*(K-1) per (sequence, channel).
 * conv_prefill4 (K = 4, every released Mamba; d_inner, x_ld and x_off
 *   multiples of 4; CONV_TT > 0; the host checks): grid
 *   (round_up(d_inner/4, CONV_WG), ceil(T / CONV_TT)); work-item (g, tile)
 *   does channels 4g..4g+3 (channels fastest: a warp reads 512 contiguous
 *   bytes of a row) at the CONV_TT rows of its tile, with the taps of its 4
 *   channels as 4 float4 (transposed from their rows). A whole tile inside
 *   one sequence at positions >= K-1 loads the K-1 rows before it and each of
 *   its rows once, all 16-byte loads issued first (unrolled into registers),
 *   then writes 16 bytes per row; the same mad order per channel as
 *   conv_out, so the same values. Any other tile (a sequence's first K-1
 *   positions, a boundary, the last short tile) goes row by row: rows at
 *   positions >= K-1 from 4 float4 loads, and at position 0 the sequence's
 *   first K-1 outputs and its new state for the 4 channels (conv_head4: the
 *   old taps gathered into float4, all loads first; by this item alone, as
 *   conv_prefill's item at position 0); positions 1..K-2 are done by that.
 *   Traffic per element: x 4 bytes read (+ (K-1)/CONV_TT for the window,
 *   mostly from cache), xc 4 written; w 16 bytes per channel per tile.
 * conv_step: one token per sequence, work-item (d, b): reads the K-1 taps,
 *   writes xc and the rolled state (taps shift left, x enters at K-2).
 *   Traffic per element: state 2*4*(K-1), x 4, w 4*K, xc 4.
 * conv_step_parts: conv_step fused with the reduction of the in_proj GEMM's
 *   split-K slabs (src/ops/gemm.h, mcl_op_matmul_slabs): work-item (c, b)
 *   for the ld = 2*d_inner columns of xz sums slab z = 0..S-1 of element
 *   (b, c) in that order (gemm_reduce's additions, so bitwise its xz) and
 *   writes xz (the z half is read later by ssm_step); items c < d_inner
 *   then do conv_step on that value (the same expressions). One launch
 *   instead of gemm_reduce + conv_step. Traffic per element of xz: 4*S read,
 *   4 written; per x element conv_step's, less x's read.
 * Tunables: CONV_WG (work-items per group along d_inner; 256 on GPUs, 64 on
 *   CPUs, capped by the device; src/tune/tune_kern.c); CONV_TT (rows per
 *   conv_prefill4 item; 0: always conv_prefill; default 8).
 */
#ifndef CONV_WG
#define CONV_WG 64
#endif
#ifndef CONV_TT
#define CONV_TT 8
#endif
#define CONV_VK 4 /* conv_prefill4's conv width */

/* Sequence b with seq_start[b] <= t < seq_start[b+1] (empty sequences skipped). */
inline int conv_find_seq(__global const int *seq_start, int n_seqs, int t)
{
    int lo = 0, hi = n_seqs - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (seq_start[mid] <= t) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/* Output at position p (0-based) of a sequence starting at row `t0`; `x`
 * points at column d of row 0 (rows x_ld apart). Taps before the sequence
 * come from `st` (K-1 floats, oldest first). */
inline float conv_out(__global const float *x, int x_ld, int t0, int p, int K,
                      __global const float *wd, __global const float *st, float b)
{
    float acc = b;
    for (int k = 0; k < K; k++) {
        int q = p - (K - 1) + k;
        float xv = q >= 0 ? x[(size_t)(t0 + q) * (size_t)x_ld] : st[K - 1 + q];
        acc = mad(wd[k], xv, acc);
    }
    return mcl_silu(acc);
}

/* The arguments of conv_prefill and conv_prefill4, in their order. */
#define CONV_PREFILL_PARAMS                                                                             \
    __global const float *x, ulong x_off, int x_ld, __global const float *w, __global const float *bias, \
        int has_bias, __global float *conv_state, ulong state_off, __global const int *slot,            \
        ulong slot_stride, __global const int *seq_start, int n_seqs, int d_inner, int K, __global float *xc

/* conv_prefill's work for channel d at row t (see the file comment): the
 * output when its position is >= K-1; at position 0 the sequence's first
 * min(L, K-1) outputs and the new state. */
inline void conv_point(__global const float *x, ulong x_off, int x_ld, __global const float *w,
                       __global const float *bias, int has_bias, __global float *conv_state, ulong state_off,
                       __global const int *slot, ulong slot_stride, __global const int *seq_start, int n_seqs,
                       int d_inner, int K, __global float *xc, int d, int t)
{
    __global const float *xd = x + x_off + d; /* column d */
    int b = conv_find_seq(seq_start, n_seqs, t);
    int t0 = seq_start[b], L = seq_start[b + 1] - t0, p = t - t0;
    __global const float *wd = w + (size_t)d * K;
    __global float *st = conv_state + state_off + (size_t)slot[b] * slot_stride + (size_t)d * (K - 1);
    float bv = has_bias ? bias[d] : 0.0f;
    if (p >= K - 1) {
        xc[(size_t)t * d_inner + d] = conv_out(xd, x_ld, t0, p, K, wd, st, bv);
        return;
    }
    if (p != 0) return; /* positions 1..K-2 are done by the item at position 0 */
    int head = min(L, K - 1);
    for (int q = 0; q < head; q++)
        xc[(size_t)(t0 + q) * d_inner + d] = conv_out(xd, x_ld, t0, q, K, wd, st, bv);
    for (int j = 0; j < K - 1; j++) {
        int q = L - (K - 1) + j; /* position whose x becomes tap j */
        st[j] = q >= 0 ? xd[(size_t)(t0 + q) * (size_t)x_ld] : st[j + L];
    }
}

__kernel __attribute__((reqd_work_group_size(CONV_WG, 1, 1)))
void conv_prefill(CONV_PREFILL_PARAMS)
{
    int d = get_global_id(0), t = get_global_id(1);
    if (d >= d_inner) return;
    conv_point(x, x_off, x_ld, w, bias, has_bias, conv_state, state_off, slot, slot_stride, seq_start, n_seqs,
               d_inner, K, xc, d, t);
}

/* 16 aligned bytes at p. */
inline float4 conv_ld4(__global const float *p) { return *(__global const float4 *)p; }

/* SiLU of each component (the scalar mcl_silu: the same values as conv_out). */
inline float4 conv_silu4(float4 a) { return (float4)(mcl_silu(a.x), mcl_silu(a.y), mcl_silu(a.z), mcl_silu(a.w)); }

/* SiLU(bv + w0 a0 + w1 a1 + w2 a2 + w3 a3) per channel (a0 the oldest row). */
inline float4 conv_row4(float4 w0, float4 w1, float4 w2, float4 w3, float4 bv, float4 a0, float4 a1, float4 a2,
                        float4 a3)
{
    float4 acc = mad(w0, a0, bv);
    acc = mad(w1, a1, acc);
    acc = mad(w2, a2, acc);
    acc = mad(w3, a3, acc);
    return conv_silu4(acc);
}

/* The first min(L, 3) outputs of a sequence of L rows starting at row t0
 * for channels d..d+3 (xd: x at column d; out: xc at row t0, column d; rows
 * d_inner apart), then its new state, K = 4: st holds the 4 channels' taps
 * (3 each, oldest first, 12 floats in a row). Every load is issued before the
 * outputs; per channel the sums of conv_out, and the state of conv_point. */
inline void conv_head4(__global const float *xd, int x_ld, __global float *st, int t0, int L, float4 w0, float4 w1,
                       float4 w2, float4 w3, float4 bv, __global float *out, int d_inner)
{
    float4 s0 = (float4)(st[0], st[3], st[6], st[9]), s1 = (float4)(st[1], st[4], st[7], st[10]);
    float4 s2 = (float4)(st[2], st[5], st[8], st[11]);
    __global const float *x0p = xd + (size_t)t0 * (size_t)x_ld;
    float4 x0 = conv_ld4(x0p), x1 = L > 1 ? conv_ld4(x0p + x_ld) : x0, x2 = L > 2 ? conv_ld4(x0p + 2 * (size_t)x_ld) : x0;
    float4 n0 = L == 1 ? s1 : s2, n1 = L == 1 ? s2 : x0, n2 = L == 1 ? x0 : x1; /* the new taps for L = 1, 2 */
    if (L >= 3) {
        __global const float *e = x0p + (size_t)(L - 3) * (size_t)x_ld;
        n0 = conv_ld4(e), n1 = conv_ld4(e + x_ld), n2 = conv_ld4(e + 2 * (size_t)x_ld);
    }
    *(__global float4 *)out = conv_row4(w0, w1, w2, w3, bv, s0, s1, s2, x0);
    if (L > 1) *(__global float4 *)(out + d_inner) = conv_row4(w0, w1, w2, w3, bv, s1, s2, x0, x1);
    if (L > 2) *(__global float4 *)(out + 2 * (size_t)d_inner) = conv_row4(w0, w1, w2, w3, bv, s2, x0, x1, x2);
    st[0] = n0.x, st[1] = n1.x, st[2] = n2.x, st[3] = n0.y, st[4] = n1.y, st[5] = n2.y;
    st[6] = n0.z, st[7] = n1.z, st[8] = n2.z, st[9] = n0.w, st[10] = n1.w, st[11] = n2.w;
}

__kernel __attribute__((reqd_work_group_size(CONV_WG, 1, 1)))
void conv_prefill4(CONV_PREFILL_PARAMS, int T)
{
    int d = 4 * (int)get_global_id(0), ta = (int)get_global_id(1) * CONV_TT;
    if (d >= d_inner) return;
    int tb = min(ta + CONV_TT, T);
    float4 r0 = conv_ld4(w + (size_t)d * CONV_VK), r1 = conv_ld4(w + (size_t)(d + 1) * CONV_VK);
    float4 r2 = conv_ld4(w + (size_t)(d + 2) * CONV_VK), r3 = conv_ld4(w + (size_t)(d + 3) * CONV_VK);
    float4 w0 = (float4)(r0.x, r1.x, r2.x, r3.x), w1 = (float4)(r0.y, r1.y, r2.y, r3.y);
    float4 w2 = (float4)(r0.z, r1.z, r2.z, r3.z), w3 = (float4)(r0.w, r1.w, r2.w, r3.w);
    float4 bv = has_bias ? conv_ld4(bias + d) : (float4)(0.0f);
    __global const float *xd = x + x_off + d;
    int b = conv_find_seq(seq_start, n_seqs, ta);
    if (ta - seq_start[b] >= CONV_VK - 1 && ta + CONV_TT <= seq_start[b + 1]) {
        /* a whole tile inside one sequence: every row loaded once, all loads first */
        __global const float *xp = xd + (size_t)(ta - (CONV_VK - 1)) * (size_t)x_ld;
        float4 xs[CONV_TT + CONV_VK - 1];
#pragma unroll
        for (int i = 0; i < CONV_TT + CONV_VK - 1; i++) xs[i] = conv_ld4(xp + (size_t)i * (size_t)x_ld);
#pragma unroll
        for (int j = 0; j < CONV_TT; j++)
            *(__global float4 *)(xc + (size_t)(ta + j) * d_inner + d) =
                conv_row4(w0, w1, w2, w3, bv, xs[j], xs[j + 1], xs[j + 2], xs[j + 3]);
        return;
    }
    /* a head, a boundary or the last, short tile: row by row */
    for (int t = ta; t < tb; t++) {
        int s = conv_find_seq(seq_start, n_seqs, t), p = t - seq_start[s];
        if (p >= CONV_VK - 1) {
            __global const float *xp = xd + (size_t)(t - (CONV_VK - 1)) * (size_t)x_ld;
            float4 a0 = conv_ld4(xp), a1 = conv_ld4(xp + x_ld), a2 = conv_ld4(xp + 2 * (size_t)x_ld);
            float4 a3 = conv_ld4(xp + 3 * (size_t)x_ld);
            *(__global float4 *)(xc + (size_t)t * d_inner + d) = conv_row4(w0, w1, w2, w3, bv, a0, a1, a2, a3);
        } else if (p == 0) { /* the sequence's first K-1 outputs and its new state */
            __global float *st = conv_state + state_off + (size_t)slot[s] * slot_stride + (size_t)d * (CONV_VK - 1);
            conv_head4(xd, x_ld, st, t, seq_start[s + 1] - t, w0, w1, w2, w3, bv, xc + (size_t)t * d_inner + d,
                       d_inner);
        }
    }
}

/* The conv step of channel d of sequence b on input xv (conv_step's expressions). */
inline float conv_step_one(float xv, __global const float *w, __global const float *bias, int has_bias,
                           __global float *conv_state, ulong state_off, __global const int *slot, ulong slot_stride,
                           int b, int d, int K)
{
    __global const float *wd = w + (size_t)d * K;
    __global float *st = conv_state + state_off + (size_t)slot[b] * slot_stride + (size_t)d * (K - 1);
    float acc = has_bias ? bias[d] : 0.0f;
    for (int j = 0; j < K - 1; j++) {
        float s = st[j];
        acc = mad(wd[j], s, acc);
        if (j > 0) st[j - 1] = s;
    }
    st[K - 2] = xv;
    acc = mad(wd[K - 1], xv, acc);
    return mcl_silu(acc);
}

__kernel __attribute__((reqd_work_group_size(CONV_WG, 1, 1)))
void conv_step_parts(__global const float *ws, int S, ulong MN, __global float *xz, int ld,
                     __global const float *w, __global const float *bias, int has_bias,
                     __global float *conv_state, ulong state_off, __global const int *slot, ulong slot_stride,
                     int B, int d_inner, int K, __global float *xc)
{
    int c = get_global_id(0), b = get_global_id(1);
    if (c >= ld || b >= B) return;
    size_t i = (size_t)b * (size_t)ld + c;
    float s = 0.0f;
    for (int z = 0; z < S; z++) s += ws[(size_t)z * MN + i];
    xz[i] = s;
    if (c < d_inner)
        xc[(size_t)b * d_inner + c] = conv_step_one(s, w, bias, has_bias, conv_state, state_off, slot, slot_stride, b,
                                                    c, K);
}

__kernel __attribute__((reqd_work_group_size(CONV_WG, 1, 1)))
void conv_step(__global const float *x, ulong x_off, int x_ld, __global const float *w,
               __global const float *bias, int has_bias, __global float *conv_state, ulong state_off,
               __global const int *slot, ulong slot_stride, int B, int d_inner, int K,
               __global float *xc)
{
    int d = get_global_id(0), b = get_global_id(1);
    if (d >= d_inner || b >= B) return;
    float xv = x[x_off + (size_t)b * (size_t)x_ld + d];
    xc[(size_t)b * d_inner + d] = conv_step_one(xv, w, bias, has_bias, conv_state, state_off, slot, slot_stride, b, d, K);
}
