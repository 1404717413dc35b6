/* Plain C references of the non-scan kernels (norm.cl, convert.cl, conv.cl,
 * gemv.cl) on host arrays, with double accumulation and the same semantics
 * and layouts as the kernels (docs/contracts.md). Weights of `dtype` are raw
 * host arrays (F16/BF16 as uint16_t bits). */
#ifndef MCL_REF_KERNELS_H
#define MCL_REF_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include "mambacl.h"

/* out[t, :] = emb[ids[t], :] as fp32. emb [vocab, D]. */
void ref_embed_gather(const int *ids, const void *emb, mcl_dtype dtype, float *out, int T, int D);

/* The first index of the largest of v[V], NaN counting as -inf (0 when every
 * value is -inf or NaN): greedy_pick's and the host sampler's greedy id. */
int ref_greedy_pick(const float *v, int V);

/* For r < T: src = rows ? rows[r] : r; if delta: resid[src] += delta[src];
 * out[r] = resid[src] / sqrt(mean(resid[src]^2) + eps) * w. */
void ref_rmsnorm_residual(float *resid, const float *delta, const float *w, float eps, float *out,
                          const int *rows, int T, int D);

/* out[0..n) = w as fp32. */
void ref_weights_to_f32(const void *w, mcl_dtype dtype, float *out, size_t n);

/* Conv over n_seqs sequences (seq_start [n_seqs+1]) of the input x(t, d) =
 * x[t*x_ld + d]; bias may be NULL; updates
 * conv_state[state_off + slot[b]*slot_stride + d*(K-1) + j]. */
void ref_conv_prefill(const float *x, int x_ld, const float *w, const float *bias, float *conv_state,
                      size_t state_off, const int *slot, size_t slot_stride,
                      const int *seq_start, int n_seqs, int d_inner, int K, float *xc);

/* One token per sequence (B rows of x), rolling the state. */
void ref_conv_step(const float *x, int x_ld, const float *w, const float *bias, float *conv_state,
                   size_t state_off, const int *slot, size_t slot_stride, int B, int d_inner,
                   int K, float *xc);

/* y[b, o] = sum_i W[o, i] x[b, i] (+ y[b, o] when accumulate). */
void ref_gemv(const void *W, mcl_dtype dtype, const float *x, float *y, int O, int I, int B,
              int accumulate);

#endif
