/* C references of embed_gather, rmsnorm_residual, weights_to_f32,
 * conv_prefill, conv_step and gemv (double accumulation). */
#include "ref_kernels.h"

#include <math.h>
#include <stdlib.h>

#include "base/half.h"

static double ref_w(const void *w, size_t i, mcl_dtype dtype)
{
    if (dtype == MCL_DTYPE_F16) return mcl_half_to_float(((const uint16_t *)w)[i]);
    if (dtype == MCL_DTYPE_BF16) return mcl_bf16_to_float(((const uint16_t *)w)[i]);
    return ((const float *)w)[i];
}

static double silu(double v) { return v / (1.0 + exp(-v)); }

int ref_greedy_pick(const float *v, int V)
{
    int best = 0;
    float top = -INFINITY;
    for (int i = 0; i < V; i++) {
        float x = isnan(v[i]) ? -INFINITY : v[i];
        if (x > top) {
            top = x;
            best = i;
        }
    }
    return best;
}

void ref_embed_gather(const int *ids, const void *emb, mcl_dtype dtype, float *out, int T, int D)
{
    for (int t = 0; t < T; t++)
        for (int i = 0; i < D; i++)
            out[(size_t)t * D + i] = (float)ref_w(emb, (size_t)ids[t] * D + i, dtype);
}

void ref_rmsnorm_residual(float *resid, const float *delta, const float *w, float eps, float *out,
                          const int *rows, int T, int D)
{
    for (int r = 0; r < T; r++) {
        float *v = resid + (size_t)(rows ? rows[r] : r) * D;
        double ss = 0.0;
        for (int i = 0; i < D; i++) {
            if (delta) v[i] += delta[(v - resid) + i];
            ss += (double)v[i] * v[i];
        }
        double scale = 1.0 / sqrt(ss / D + eps);
        for (int i = 0; i < D; i++) out[(size_t)r * D + i] = (float)(v[i] * scale * w[i]);
    }
}

void ref_weights_to_f32(const void *w, mcl_dtype dtype, float *out, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = (float)ref_w(w, i, dtype);
}

/* Conv output at position p of a sequence whose inputs are hist (K-1 taps
 * before it) then the rows of x (x_ld apart) starting at row t0. */
static float conv_at(const float *x, int x_ld, int t0, int p, int d, int K, const float *w,
                     const float *bias, const float *hist)
{
    double acc = bias ? bias[d] : 0.0;
    for (int k = 0; k < K; k++) {
        int q = p - (K - 1) + k;
        double xv = q >= 0 ? x[(size_t)(t0 + q) * x_ld + d] : hist[K - 1 + q];
        acc += (double)w[(size_t)d * K + k] * xv;
    }
    return (float)silu(acc);
}

void ref_conv_prefill(const float *x, int x_ld, const float *w, const float *bias, float *conv_state,
                      size_t state_off, const int *slot, size_t slot_stride,
                      const int *seq_start, int n_seqs, int d_inner, int K, float *xc)
{
    float *hist = malloc((size_t)(K > 1 ? K - 1 : 1) * sizeof *hist);
    if (!hist) return;
    for (int b = 0; b < n_seqs; b++) {
        int t0 = seq_start[b], L = seq_start[b + 1] - t0;
        for (int d = 0; d < d_inner; d++) {
            float *st = conv_state + state_off + (size_t)slot[b] * slot_stride + (size_t)d * (K - 1);
            for (int j = 0; j < K - 1; j++) hist[j] = st[j];
            for (int p = 0; p < L; p++)
                xc[(size_t)(t0 + p) * d_inner + d] = conv_at(x, x_ld, t0, p, d, K, w, bias, hist);
            /* the new taps: the last K-1 inputs of history followed by the sequence */
            for (int j = 0; j < K - 1; j++) {
                int q = L - (K - 1) + j;
                st[j] = q >= 0 ? x[(size_t)(t0 + q) * x_ld + d] : hist[K - 1 + q];
            }
        }
    }
    free(hist);
}

void ref_conv_step(const float *x, int x_ld, const float *w, const float *bias, float *conv_state,
                   size_t state_off, const int *slot, size_t slot_stride, int B, int d_inner,
                   int K, float *xc)
{
    for (int b = 0; b < B; b++) {
        int start[2] = {b, b + 1};
        int one_slot = slot[b];
        ref_conv_prefill(x, x_ld, w, bias, conv_state, state_off, &one_slot, slot_stride, start, 1,
                         d_inner, K, xc);
    }
}

void ref_gemv(const void *W, mcl_dtype dtype, const float *x, float *y, int O, int I, int B,
              int accumulate)
{
    for (int b = 0; b < B; b++) {
        for (int o = 0; o < O; o++) {
            double s = 0.0;
            for (int i = 0; i < I; i++) s += ref_w(W, (size_t)o * I + i, dtype) * x[(size_t)b * I + i];
            size_t yi = (size_t)b * O + o;
            y[yi] = (float)(accumulate ? y[yi] + s : s);
        }
    }
}
