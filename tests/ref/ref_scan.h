/* Plain C references of cl/scan.cl (scan_prefill) and cl/ssm_step.cl
 * (ssm_step): the sequential recurrence with double accumulation, on host
 * arrays with the kernels' argument semantics (see /contracts: layouts,
 * pooled states addressed by state_off + slot[b]*slot_stride + d*N + n). */
#ifndef REF_SCAN_H
#define REF_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* Element i of a weight array stored as dtype 0 F32, 1 F16, 2 BF16. */
float ref_load_w(const void *w, size_t i, int dtype);

/* fp32 -> F16 / BF16 bits (round to nearest even; for making test weights). */
uint16_t ref_f32_to_f16(float f);
uint16_t ref_f32_to_bf16(float f);

/* Selective scan over each sequence b (rows seq_start[b] .. seq_start[b+1]-1):
 *   Δ = softplus(b_dt[d] + Σ_r W_dt[d,r]·dbc[t,r])
 *   s[n] = exp(Δ·A[d,n])·s[n] + Δ·dbc[t,R+n]·xc[t,d]
 *   y[t,d] = (Σ_n dbc[t,R+N+n]·s[n] + D[d]·xc[t,d]) · SiLU(xz[t,d_inner+d])
 * starting from and writing back ssm_state (fp32 in memory, double inside).
 * xc [T,d_inner], dbc [T,R+2N], xz [T,2*d_inner], w_dt [d_inner,R] of
 * wdtype, b_dt [d_inner], A [d_inner,N], D [d_inner], y [T,d_inner]. */
void ref_scan_prefill(const float *xc, const float *dbc, const float *xz, const void *w_dt,
                      int wdtype, const float *b_dt, const float *A, const float *D,
                      float *ssm_state, uint64_t state_off, const int *slot, uint64_t slot_stride,
                      const int *seq_start, int n_seqs, int d_inner, int R, int N, float *y);

/* One token per sequence (rows b = 0..B-1), the same math, state in place. */
void ref_ssm_step(const float *xc, const float *dbc, const float *xz, const void *w_dt, int wdtype,
                  const float *b_dt, const float *A, const float *D, float *ssm_state,
                  uint64_t state_off, const int *slot, uint64_t slot_stride, int B, int d_inner,
                  int R, int N, float *y);

#endif
