/* Sequential references of the selective scan (prefill and decode step). */
#include "ref_scan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float f16_to_f32(uint16_t h)
{
    int sign = (h >> 15) & 1, e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 0) v = ldexp((double)m, -24);
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexp((double)(m | 1024), e - 25);
    return (float)(sign ? -v : v);
}

float ref_load_w(const void *w, size_t i, int dtype)
{
    if (dtype == 1) return f16_to_f32(((const uint16_t *)w)[i]);
    if (dtype == 2) {
        uint32_t u = (uint32_t)((const uint16_t *)w)[i] << 16;
        float f;
        memcpy(&f, &u, sizeof f);
        return f;
    }
    return ((const float *)w)[i];
}

uint16_t ref_f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

uint16_t ref_f32_to_f16(float f)
{
    /* Finite values in the half range only (test weights are small). */
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    double a = fabs((double)f);
    if (a < ldexp(1.0, -24) / 2) return sign;
    int e;
    frexp(a, &e); /* a = m * 2^e, m in [0.5, 1) */
    int ex = e - 1 + 15;
    if (ex <= 0) return (uint16_t)(sign | (uint16_t)nearbyint(ldexp(a, 24)));
    double m = ldexp(a, -(e - 1)) - 1.0; /* [0, 1) */
    long mm = lrint(m * 1024.0);
    if (mm == 1024) {
        mm = 0;
        ex++;
    }
    if (ex >= 31) return (uint16_t)(sign | 0x7c00);
    return (uint16_t)(sign | (uint16_t)(ex << 10) | (uint16_t)mm);
}

static double softplus(double x) { return x > 20.0 ? x : log1p(exp(x)); }

static double silu(double x) { return x / (1.0 + exp(-x)); }

/* Runs the recurrence for channel d of one sequence over rows t0..t0+len-1,
 * state s[N] in double. */
static void channel_scan(const float *xc, const float *dbc, const float *xz, const void *w_dt,
                         int wdtype, const float *b_dt, const float *A, const float *D, double *s,
                         int t0, int len, int d_inner, int R, int N, int d, float *y)
{
    const int ldb = R + 2 * N;
    for (int t = t0; t < t0 + len; t++) {
        const float *row = dbc + (size_t)t * ldb;
        double dt = b_dt[d];
        for (int r = 0; r < R; r++) dt += (double)ref_load_w(w_dt, (size_t)d * R + r, wdtype) * row[r];
        double delta = softplus(dt), x = xc[(size_t)t * d_inner + d], acc = 0.0;
        for (int n = 0; n < N; n++) {
            s[n] = exp(delta * A[(size_t)d * N + n]) * s[n] + delta * row[R + n] * x;
            acc += (double)row[R + N + n] * s[n];
        }
        double z = xz[(size_t)t * 2 * d_inner + d_inner + d];
        y[(size_t)t * d_inner + d] = (float)((acc + (double)D[d] * x) * silu(z));
    }
}

void ref_scan_prefill(const float *xc, const float *dbc, const float *xz, const void *w_dt,
                      int wdtype, const float *b_dt, const float *A, const float *D,
                      float *ssm_state, uint64_t state_off, const int *slot, uint64_t slot_stride,
                      const int *seq_start, int n_seqs, int d_inner, int R, int N, float *y)
{
    double *s = malloc((size_t)(N > 0 ? N : 1) * sizeof *s);
    if (!s) return;
    for (int b = 0; b < n_seqs; b++) {
        for (int d = 0; d < d_inner; d++) {
            float *st = ssm_state + state_off + (uint64_t)slot[b] * slot_stride + (uint64_t)d * N;
            for (int n = 0; n < N; n++) s[n] = st[n];
            channel_scan(xc, dbc, xz, w_dt, wdtype, b_dt, A, D, s, seq_start[b],
                         seq_start[b + 1] - seq_start[b], d_inner, R, N, d, y);
            for (int n = 0; n < N; n++) st[n] = (float)s[n];
        }
    }
    free(s);
}

void ref_ssm_step(const float *xc, const float *dbc, const float *xz, const void *w_dt, int wdtype,
                  const float *b_dt, const float *A, const float *D, float *ssm_state,
                  uint64_t state_off, const int *slot, uint64_t slot_stride, int B, int d_inner,
                  int R, int N, float *y)
{
    int *starts = malloc((size_t)(B + 1) * sizeof *starts);
    if (!starts) return;
    for (int b = 0; b <= B; b++) starts[b] = b;
    ref_scan_prefill(xc, dbc, xz, w_dt, wdtype, b_dt, A, D, ssm_state, state_off, slot, slot_stride,
                     starts, B, d_inner, R, N, y);
    free(starts);
}
