/* Tiny checked launches of the non-scan kernels. */
#include "diag/selftest_kern.h"

#include <math.h>
#include <string.h>

#include "base/error.h"
#include "base/half.h"
#include "diag/selftest_bufs.h"
#include "ops/kern.h"


mcl_status mcl_selftest_embed(mcl_runtime *rt, bool *ok)
{
    enum { V = 3, D = 5, T = 2 };
    uint16_t emb[V * D];
    int ids[T] = {2, 0};
    float got[T * D], want[T * D];
    for (int i = 0; i < V * D; i++) emb[i] = mcl_half_from_float(mcl_st_val(i));
    for (int t = 0; t < T; t++)
        for (int i = 0; i < D; i++) want[t * D + i] = mcl_half_to_float(emb[ids[t] * D + i]);
    mcl_st_bufs b = {0};
    cl_mem bi, be, bo;
    mcl_status st = mcl_st_put(rt, &b, ids, sizeof ids, &bi);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, emb, sizeof emb, &be);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, NULL, sizeof got, &bo);
    if (st == MCL_OK) st = mcl_kern_embed(rt, bi, be, MCL_DTYPE_F16, bo, T, D);
    if (st == MCL_OK) st = mcl_st_get(rt, bo, got, sizeof got);
    if (st == MCL_OK) *ok = memcmp(got, want, sizeof got) == 0;
    return mcl_st_done(&b, st);
}

/* greedy_pick over 7 logits with a tie at the largest (the lower index, 2,
 * wins) and a NaN: the id, its ring entry, the count, the halt from the stop
 * id, and the id's F16 embedding row gathered. */
mcl_status mcl_selftest_greedy_pick(mcl_runtime *rt, bool *ok)
{
    enum { V = 7, D = 3 };
    float logits[V] = {0.5f, -1.0f, 2.0f, NAN, 2.0f, 1.0f, -3.0f}, row[D], want[D];
    int32_t ctl[MCL_PICK_CTL_INTS] = {0}, id = -1, ring[2] = {-1, -1};
    uint16_t emb[V * D];
    for (int i = 0; i < V * D; i++) emb[i] = mcl_half_from_float(mcl_st_val(i));
    for (int i = 0; i < D; i++) want[i] = mcl_half_to_float(emb[2 * D + i]);
    ctl[MCL_PICK_CTL_STOP] = 2;
    ctl[MCL_PICK_CTL_N_STOP] = 1;
    mcl_st_bufs b = {0};
    cl_mem bl, bi, br, bc, be, bo;
    mcl_status st = mcl_st_put(rt, &b, logits, sizeof logits, &bl);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, &id, sizeof id, &bi);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, ring, sizeof ring, &br);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, ctl, sizeof ctl, &bc);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, emb, sizeof emb, &be);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, NULL, sizeof row, &bo);
    if (st == MCL_OK) st = mcl_kern_greedy_pick(rt, bl, V, bi, br, 1, 4, bc, be, MCL_DTYPE_F16, bo, D);
    if (st == MCL_OK) st = mcl_st_get(rt, bi, &id, sizeof id);
    if (st == MCL_OK) st = mcl_st_get(rt, br, ring, sizeof ring);
    if (st == MCL_OK) st = mcl_st_get(rt, bc, ctl, sizeof ctl);
    if (st == MCL_OK) st = mcl_st_get(rt, bo, row, sizeof row);
    if (st == MCL_OK)
        *ok = id == 2 && ring[1] == 2 && ring[0] == -1 && ctl[MCL_PICK_CTL_COUNT] == 5 && ctl[MCL_PICK_CTL_HALT] == 1 &&
              memcmp(row, want, sizeof row) == 0;
    return mcl_st_done(&b, st);
}

mcl_status mcl_selftest_rmsnorm(mcl_runtime *rt, bool *ok)
{
    enum { T = 2, D = 5 };
    float resid[T * D], delta[T * D], w[D], got[T * D], want[T * D];
    int rows[T] = {1, 0};
    for (int i = 0; i < T * D; i++) resid[i] = mcl_st_val(i), delta[i] = mcl_st_val(i + 3);
    for (int i = 0; i < D; i++) w[i] = mcl_st_val(i + 7);
    for (int r = 0; r < T; r++) {
        const int s = rows[r];
        double ss = 0.0;
        for (int i = 0; i < D; i++) ss += (double)(resid[s * D + i] + delta[s * D + i]) * (resid[s * D + i] + delta[s * D + i]);
        for (int i = 0; i < D; i++)
            want[r * D + i] = (float)((resid[s * D + i] + delta[s * D + i]) / sqrt(ss / D + 1e-5) * w[i]);
    }
    mcl_st_bufs b = {0};
    cl_mem br, bd, bw, bo, brows;
    mcl_status st = mcl_st_put(rt, &b, resid, sizeof resid, &br);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, delta, sizeof delta, &bd);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, w, sizeof w, &bw);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, rows, sizeof rows, &brows);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, NULL, sizeof got, &bo);
    if (st == MCL_OK) st = mcl_kern_rmsnorm(rt, br, bd, bw, 1e-5f, bo, brows, T, D);
    if (st == MCL_OK) st = mcl_st_get(rt, bo, got, sizeof got);
    if (st == MCL_OK) *ok = mcl_st_close(got, want, T * D, 1e-5f);
    return mcl_st_done(&b, st);
}

/* rmsnorm_parts: 2 slabs of [T, D] plus the residual, then the norm. */
mcl_status mcl_selftest_rmsnorm_parts(mcl_runtime *rt, bool *ok)
{
    enum { T = 2, D = 5, S = 2 };
    float resid[T * D], ws[S * T * D], w[D], got[T * D], want[T * D], got_r[T * D], want_r[T * D];
    for (int i = 0; i < T * D; i++) resid[i] = mcl_st_val(i);
    for (int i = 0; i < S * T * D; i++) ws[i] = mcl_st_val(i + 3);
    for (int i = 0; i < D; i++) w[i] = mcl_st_val(i + 7);
    for (int r = 0; r < T; r++) {
        double ss = 0.0;
        for (int i = 0; i < D; i++) {
            want_r[r * D + i] = (ws[r * D + i] + ws[T * D + r * D + i]) + resid[r * D + i];
            ss += (double)want_r[r * D + i] * want_r[r * D + i];
        }
        for (int i = 0; i < D; i++) want[r * D + i] = (float)(want_r[r * D + i] / sqrt(ss / D + 1e-5) * w[i]);
    }
    mcl_st_bufs b = {0};
    cl_mem br, bws, bw, bo;
    mcl_status st = mcl_st_put(rt, &b, resid, sizeof resid, &br);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, ws, sizeof ws, &bws);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, w, sizeof w, &bw);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, NULL, sizeof got, &bo);
    if (st == MCL_OK) st = mcl_kern_rmsnorm_parts(rt, br, bws, S, T * D, bw, 1e-5f, bo, T, D);
    if (st == MCL_OK) st = mcl_st_get(rt, bo, got, sizeof got);
    if (st == MCL_OK) st = mcl_st_get(rt, br, got_r, sizeof got_r);
    if (st == MCL_OK) *ok = mcl_st_close(got, want, T * D, 1e-5f) && memcmp(got_r, want_r, sizeof got_r) == 0;
    return mcl_st_done(&b, st);
}

mcl_status mcl_selftest_convert(mcl_runtime *rt, bool *ok)
{
    enum { N = 7 };
    uint16_t w[N];
    float got[N], want[N];
    for (int i = 0; i < N; i++) w[i] = mcl_bf16_from_float(mcl_st_val(i) * 3.3f), want[i] = mcl_bf16_to_float(w[i]);
    mcl_st_bufs b = {0};
    cl_mem bw, bo;
    mcl_status st = mcl_st_put(rt, &b, w, sizeof w, &bw);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, NULL, sizeof got, &bo);
    if (st == MCL_OK) st = mcl_kern_convert(rt, bw, MCL_DTYPE_BF16, bo, N);
    if (st == MCL_OK) st = mcl_st_get(rt, bo, got, sizeof got);
    if (st == MCL_OK) *ok = memcmp(got, want, sizeof got) == 0;
    return mcl_st_done(&b, st);
}

static float silu(float v) { return v / (1.0f + expf(-v)); }

/* Host conv of channel d at position p of a sequence (rows x0.., history h). */
static float host_conv(const float *xz, int t0, int p, int d, int DI, int K, const float *w,
                       const float *bias, const float *h)
{
    float acc = bias[d];
    for (int k = 0; k < K; k++) {
        int q = p - (K - 1) + k;
        acc += w[d * K + k] * (q >= 0 ? xz[(t0 + q) * 2 * DI + d] : h[K - 1 + q]);
    }
    return silu(acc);
}

/* conv_prefill on DI channels, width K, sequences of lengths seq 0 = 1 and
 * seq 1 = T - 1 (slots 1, 0) against host_conv (DI <= 8, K <= 4, T <= 13). */
static mcl_status conv_prefill_case(mcl_runtime *rt, int DI, int K, int T, bool *ok)
{
    enum { NS = 2, MDI = 8, MK = 4, MT = 13, MPOOL = 2 * MDI * (MK - 1) };
    int TAPS = DI * (K - 1), POOL = 2 * TAPS;
    float xz[MT * 2 * MDI], w[MDI * MK], bias[MDI], state[MPOOL], want[MT * MDI], got[MT * MDI];
    float want_state[MPOOL], got_state[MPOOL];
    int seq_start[NS + 1] = {0, 1, T}, slot[NS] = {1, 0};
    if (DI > MDI || K > MK || T > MT || T < 2) return mcl_error_set(MCL_ERR_INTERNAL, "conv selftest: bad case");
    for (int i = 0; i < T * 2 * DI; i++) xz[i] = mcl_st_val(i);
    for (int i = 0; i < DI * K; i++) w[i] = mcl_st_val(i + 5);
    for (int i = 0; i < DI; i++) bias[i] = mcl_st_val(i + 2);
    for (int i = 0; i < POOL; i++) state[i] = mcl_st_val(i + 11);
    memcpy(want_state, state, sizeof state);
    for (int s = 0; s < NS; s++) {
        int t0 = seq_start[s], L = seq_start[s + 1] - t0;
        for (int d = 0; d < DI; d++) {
            float *h = want_state + slot[s] * TAPS + d * (K - 1), old[MK - 1];
            memcpy(old, h, sizeof(float) * (size_t)(K - 1));
            for (int p = 0; p < L; p++) want[(t0 + p) * DI + d] = host_conv(xz, t0, p, d, DI, K, w, bias, old);
            for (int j = 0; j < K - 1; j++) {
                int q = L - (K - 1) + j;
                h[j] = q >= 0 ? xz[(t0 + q) * 2 * DI + d] : old[K - 1 + q];
            }
        }
    }
    size_t nx = sizeof(float) * (size_t)(T * 2 * DI), no = sizeof(float) * (size_t)(T * DI);
    size_t ns = sizeof(float) * (size_t)POOL;
    mcl_st_bufs b = {0};
    cl_mem bx = NULL, bw = NULL, bb = NULL, bs = NULL, bslot = NULL, bss = NULL, bo = NULL;
    mcl_status st = mcl_st_put(rt, &b, xz, nx, &bx);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, w, sizeof(float) * (size_t)(DI * K), &bw);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, bias, sizeof(float) * (size_t)DI, &bb);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, state, ns, &bs);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, slot, sizeof slot, &bslot);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, seq_start, sizeof seq_start, &bss);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, NULL, no, &bo);
    mcl_kern_state ks = {bs, 0, bslot, (uint64_t)TAPS};
    mcl_kern_view x = {bx, 0, 2 * DI};
    if (st == MCL_OK) st = mcl_kern_conv_prefill(rt, &x, bw, bb, &ks, bss, NS, T, DI, K, bo);
    if (st == MCL_OK) st = mcl_st_get(rt, bo, got, no);
    if (st == MCL_OK) st = mcl_st_get(rt, bs, got_state, ns);
    if (st == MCL_OK) *ok = mcl_st_close(got, want, T * DI, 1e-5f) && memcmp(got_state, want_state, ns) == 0;
    return mcl_st_done(&b, st);
}

mcl_status mcl_selftest_conv_prefill(mcl_runtime *rt, bool *ok) { return conv_prefill_case(rt, 3, 3, 4, ok); }

/* Width 4, 8 channels, 13 rows: with CONV_TT 8 one tile at the sequences'
 * heads and one on the 16-byte path. */
mcl_status mcl_selftest_conv_prefill4(mcl_runtime *rt, bool *ok) { return conv_prefill_case(rt, 8, 4, 13, ok); }

/* rmsnorm_split (BF16, hi + lo, D 5 in rows of 8) against the host's norm:
 * hi + lo within 1e-5 of it, lo below half of hi's last place, zero padding. */
mcl_status mcl_selftest_rmsnorm_split(mcl_runtime *rt, bool *ok)
{
    enum { T = 2, D = 5, LDA = 8 };
    float resid[T * D], w[D], want[T * D];
    uint16_t hi[T * LDA], lo[T * LDA];
    for (int i = 0; i < T * D; i++) resid[i] = mcl_st_val(i);
    for (int i = 0; i < D; i++) w[i] = mcl_st_val(i + 7);
    for (int r = 0; r < T; r++) {
        double ss = 0.0;
        for (int i = 0; i < D; i++) ss += (double)resid[r * D + i] * resid[r * D + i];
        for (int i = 0; i < D; i++) want[r * D + i] = (float)(resid[r * D + i] / sqrt(ss / D + 1e-5) * w[i]);
    }
    mcl_st_bufs b = {0};
    cl_mem br, bw, bh, bl;
    mcl_status st = mcl_st_put(rt, &b, resid, sizeof resid, &br);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, w, sizeof w, &bw);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, NULL, sizeof hi, &bh);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, NULL, sizeof lo, &bl);
    if (st == MCL_OK) st = mcl_kern_rmsnorm_split(rt, br, NULL, bw, 1e-5f, bh, bl, LDA, MCL_DTYPE_BF16, 2, T, D);
    if (st == MCL_OK) st = mcl_st_get(rt, bh, hi, sizeof hi);
    if (st == MCL_OK) st = mcl_st_get(rt, bl, lo, sizeof lo);
    *ok = st == MCL_OK;
    for (int r = 0; r < T && *ok; r++)
        for (int c = 0; c < LDA; c++) {
            float h = mcl_bf16_to_float(hi[r * LDA + c]), l = mcl_bf16_to_float(lo[r * LDA + c]);
            float v = c < D ? want[r * D + c] : 0.0f;
            if (!(fabsf(h + l - v) <= 1e-5f * fabsf(v) + 1e-7f) || !(fabsf(l) <= fabsf(h) * 0x1.0p-8f)) *ok = false;
        }
    return mcl_st_done(&b, st);
}

/* The conv step's reference: out[d] = silu(bias + w[d] . (state[d], x[d])),
 * the state shifted by one with x[d] appended (xz's first di values). */
static void conv_step_want(const float *xz, const float *w, const float *bias, const float *state, int di, int k,
                           float *want, float *want_state)
{
    for (int d = 0; d < di; d++) {
        const float *h = state + d * (k - 1);
        float acc = bias[d] + w[d * k + k - 1] * xz[d];
        for (int j = 0; j < k - 1; j++) acc += w[d * k + j] * h[j];
        want[d] = silu(acc);
        for (int j = 0; j < k - 2; j++) want_state[d * (k - 1) + j] = h[j + 1];
        want_state[d * (k - 1) + k - 2] = xz[d];
    }
}

mcl_status mcl_selftest_conv_step(mcl_runtime *rt, bool *ok)
{
    enum { DI = 3, K = 4, TAPS = DI * (K - 1) };
    float xz[2 * DI], w[DI * K], bias[DI], state[TAPS], want[DI], got[DI];
    float want_state[TAPS], got_state[TAPS];
    int slot = 0;
    for (int i = 0; i < 2 * DI; i++) xz[i] = mcl_st_val(i + 1);
    for (int i = 0; i < DI * K; i++) w[i] = mcl_st_val(i + 4);
    for (int i = 0; i < DI; i++) bias[i] = mcl_st_val(i + 9);
    for (int i = 0; i < TAPS; i++) state[i] = mcl_st_val(i + 13);
    conv_step_want(xz, w, bias, state, DI, K, want, want_state);
    mcl_st_bufs b = {0};
    cl_mem bx = NULL, bw = NULL, bb = NULL, bs = NULL, bslot = NULL, bo = NULL;
    mcl_status st = mcl_st_put(rt, &b, xz, sizeof xz, &bx);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, w, sizeof w, &bw);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, bias, sizeof bias, &bb);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, state, sizeof state, &bs);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, &slot, sizeof slot, &bslot);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, NULL, sizeof got, &bo);
    mcl_kern_state ks = {bs, 0, bslot, TAPS};
    mcl_kern_view x = {bx, 0, 2 * DI};
    if (st == MCL_OK) st = mcl_kern_conv_step(rt, &x, bw, bb, &ks, 1, DI, K, bo);
    if (st == MCL_OK) st = mcl_st_get(rt, bo, got, sizeof got);
    if (st == MCL_OK) st = mcl_st_get(rt, bs, got_state, sizeof got_state);
    if (st == MCL_OK)
        *ok = mcl_st_close(got, want, DI, 1e-5f) && memcmp(got_state, want_state, sizeof want_state) == 0;
    return mcl_st_done(&b, st);
}

/* conv_step_parts: the xz row [2 * DI] as 2 slabs, reduced and conv-stepped. */
mcl_status mcl_selftest_conv_step_parts(mcl_runtime *rt, bool *ok)
{
    enum { DI = 3, K = 4, TAPS = DI * (K - 1), S = 2, LD = 2 * DI };
    float ws[S * LD], xz[LD], w[DI * K], bias[DI], state[TAPS], want[DI], got[DI], got_xz[LD];
    float want_state[TAPS], got_state[TAPS];
    int slot = 0;
    for (int i = 0; i < S * LD; i++) ws[i] = mcl_st_val(i + 1);
    for (int i = 0; i < LD; i++) xz[i] = ws[i] + ws[LD + i];
    for (int i = 0; i < DI * K; i++) w[i] = mcl_st_val(i + 4);
    for (int i = 0; i < DI; i++) bias[i] = mcl_st_val(i + 9);
    for (int i = 0; i < TAPS; i++) state[i] = mcl_st_val(i + 13);
    conv_step_want(xz, w, bias, state, DI, K, want, want_state);
    mcl_st_bufs b = {0};
    cl_mem bws = NULL, bx = NULL, bw = NULL, bb = NULL, bs = NULL, bslot = NULL, bo = NULL;
    mcl_status st = mcl_st_put(rt, &b, ws, sizeof ws, &bws);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, NULL, sizeof xz, &bx);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, w, sizeof w, &bw);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, bias, sizeof bias, &bb);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, state, sizeof state, &bs);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, &slot, sizeof slot, &bslot);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, NULL, sizeof got, &bo);
    mcl_kern_state ks = {bs, 0, bslot, TAPS};
    if (st == MCL_OK) st = mcl_kern_conv_step_parts(rt, bws, S, LD, bx, LD, bw, bb, &ks, 1, DI, K, bo);
    if (st == MCL_OK) st = mcl_st_get(rt, bo, got, sizeof got);
    if (st == MCL_OK) st = mcl_st_get(rt, bx, got_xz, sizeof got_xz);
    if (st == MCL_OK) st = mcl_st_get(rt, bs, got_state, sizeof got_state);
    if (st == MCL_OK)
        *ok = mcl_st_close(got, want, DI, 1e-5f) && memcmp(got_state, want_state, sizeof want_state) == 0 &&
              memcmp(got_xz, xz, sizeof xz) == 0;
    return mcl_st_done(&b, st);
}

/* gemv of nb (1 or 2) batch rows: gemv_1 or the tile kernel gemv. */
static mcl_status gemv_check(mcl_runtime *rt, int nb, bool *ok)
{
    rt->gmma_mode = -1; /* gemv.cl's kernel even where batches go to gemv_mma.cl */
    rt->rgemv_mode = -1; /* and where batch 1 goes to rgemv.cl */
    mcl_status st = mcl_st_gemv_case(rt, mcl_kern_gemv, 5, 11, nb, 1e-5f, ok);
    rt->gmma_mode = 0;
    rt->rgemv_mode = 0;
    return st;
}

/* gmma (gemv_mma.cl) at batch 2: two row tiles, the last partial, odd I. */
mcl_status mcl_selftest_gmma(mcl_runtime *rt, bool *ok)
{
    rt->gmma_mode = 1;
    mcl_status st = mcl_st_gemv_case(rt, mcl_kern_gemv, 20, 25, 2, 1e-5f, ok);
    rt->gmma_mode = 0;
    return st;
}

mcl_status mcl_selftest_gemv(mcl_runtime *rt, bool *ok) { return gemv_check(rt, 2, ok); }
mcl_status mcl_selftest_gemv_1(mcl_runtime *rt, bool *ok) { return gemv_check(rt, 1, ok); }
