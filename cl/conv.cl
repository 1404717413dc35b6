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
 * conv_step: one token per sequence, work-item (d, b): reads the K-1 taps,
 *   writes xc and the rolled state (taps shift left, x enters at K-2).
 *   Traffic per element: state 2*4*(K-1), x 4, w 4*K, xc 4.
 * Tunables: CONV_WG (work-items per group along d_inner; 256 on GPUs, 64 on
 *   CPUs, capped by the device; src/tune/tune_kern.c).
 */
#ifndef CONV_WG
#define CONV_WG 64
#endif

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

__kernel __attribute__((reqd_work_group_size(CONV_WG, 1, 1)))
void conv_prefill(__global const float *x, ulong x_off, int x_ld, __global const float *w,
                  __global const float *bias, int has_bias, __global float *conv_state, ulong state_off,
                  __global const int *slot, ulong slot_stride, __global const int *seq_start,
                  int n_seqs, int d_inner, int K, __global float *xc)
{
    int d = get_global_id(0), t = get_global_id(1);
    if (d >= d_inner) return;
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
void conv_step(__global const float *x, ulong x_off, int x_ld, __global const float *w,
               __global const float *bias, int has_bias, __global float *conv_state, ulong state_off,
               __global const int *slot, ulong slot_stride, int B, int d_inner, int K,
               __global float *xc)
{
    int d = get_global_id(0), b = get_global_id(1);
    if (d >= d_inner || b >= B) return;
    __global const float *wd = w + (size_t)d * K;
    __global float *st = conv_state + state_off + (size_t)slot[b] * slot_stride + (size_t)d * (K - 1);
    float xv = x[x_off + (size_t)b * (size_t)x_ld + d];
    float acc = has_bias ? bias[d] : 0.0f;
    for (int j = 0; j < K - 1; j++) {
        float s = st[j];
        acc = mad(wd[j], s, acc);
        if (j > 0) st[j - 1] = s;
    }
    st[K - 2] = xv;
    acc = mad(wd[K - 1], xv, acc);
    xc[(size_t)b * d_inner + d] = mcl_silu(acc);
}
