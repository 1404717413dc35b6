/* The tiny checked launch of xstep (selftest_cpu.h). */
#include "diag/selftest_cpu.h"

#include <math.h>

#include "diag/selftest_bufs.h"
#include "base/half.h"
#include "ops/kern_cgemv.h"
#include "ops/kern_xstep.h"

/* The host's x_proj + state update + gate of one channel-row set (double). */
static void host_xstep(int DI, int R, int N, const float *wx, const float *xc, const float *xz, const float *w,
                       const float *bdt, const float *A, const float *D, float *s, float *y)
{
    int nx = R + 2 * N;
    double dbc[32];
    for (int j = 0; j < nx; j++) {
        dbc[j] = 0;
        for (int i = 0; i < DI; i++) dbc[j] += (double)wx[j * DI + i] * xc[i];
    }
    for (int d = 0; d < DI; d++) {
        double dt = bdt[d], acc = 0;
        for (int r = 0; r < R; r++) dt += (double)w[d * R + r] * dbc[r];
        double delta = dt > 20.0 ? dt : log1p(exp(dt));
        for (int n = 0; n < N; n++) {
            double sn = exp(delta * A[d * N + n]) * s[d * N + n] + delta * dbc[R + n] * xc[d];
            s[d * N + n] = (float)sn;
            acc += dbc[R + N + n] * sn;
        }
        double z = xz[DI + d];
        y[d] = (float)((acc + D[d] * xc[d]) * (z / (1.0 + exp(-z))));
    }
}

mcl_status mcl_selftest_xstep(mcl_runtime *rt, bool *ok)
{
    enum { DI = 11, R = 3, N = 5, NX = R + 2 * N };
    float xc[DI], wx[NX * DI], xz[2 * DI], w[DI * R], bdt[DI], A[DI * N], D[DI], s0[DI * N];
    float want[DI], want_s[DI * N], got[DI], got_s[DI * N];
    int slot[1] = {0};
    for (int i = 0; i < DI; i++) xc[i] = mcl_st_val(i), bdt[i] = mcl_st_val(i + 1) / 4.0f, D[i] = 1.0f + mcl_st_val(i + 2) / 8.0f;
    for (int i = 0; i < NX * DI; i++) wx[i] = mcl_st_val(i + 4) / 4.0f;
    for (int i = 0; i < 2 * DI; i++) xz[i] = mcl_st_val(i + 5);
    for (int i = 0; i < DI * R; i++) w[i] = mcl_st_val(i + 6) / 2.0f;
    for (int i = 0; i < DI * N; i++) A[i] = -1.0f - (float)(i % 5), s0[i] = want_s[i] = mcl_st_val(i + 8);
    host_xstep(DI, R, N, wx, xc, xz, w, bdt, A, D, want_s, want);
    mcl_st_bufs b = {0};
    cl_mem m[11];
    const void *host[11] = {xc, wx, xz, w, bdt, A, D, s0, slot, NULL};
    size_t bytes[11] = {sizeof xc, sizeof wx, sizeof xz, sizeof w, sizeof bdt, sizeof A, sizeof D, sizeof s0,
                        sizeof slot, sizeof got};
    mcl_status st = MCL_OK;
    for (int i = 0; i < 10 && st == MCL_OK; i++) st = mcl_st_put(rt, &b, host[i], bytes[i], &m[i]);
    mcl_scan_args a = {m[0], NULL, m[2], m[3], m[4], m[5], m[6], m[9], MCL_DTYPE_F32, DI, R, N, DI, 2 * DI, 0};
    mcl_kern_state ks = {m[7], 0, m[8], DI * N};
    if (st == MCL_OK) st = mcl_kern_xstep(rt, &a, m[1], MCL_DTYPE_F32, &ks, 1);
    if (st == MCL_OK) st = mcl_st_get(rt, m[9], got, sizeof got);
    if (st == MCL_OK) st = mcl_st_get(rt, m[7], got_s, sizeof got_s);
    if (st == MCL_OK) *ok = mcl_st_close(got, want, DI, 1e-4f) && mcl_st_close(got_s, want_s, DI * N, 1e-4f);
    return mcl_st_done(&b, st);
}

/* cgemv (accumulating) of 2 batch rows: O rows not a multiple of CG_RB, I
 * not of CG_VW, F16 weights. */
mcl_status mcl_selftest_cgemv(mcl_runtime *rt, bool *ok)
{
    return mcl_st_gemv_case(rt, mcl_kern_cgemv, 11, 19, 2, 1e-4f, ok);
}

/* cgemv_in of one batch row (slot 1 of 2): the norm, and the conv step of
 * the first 4 rows (K 3, with bias); F32 weights, I = 21. */
mcl_status mcl_selftest_cgemv_in(mcl_runtime *rt, bool *ok)
{
    return mcl_st_gemv_in_case(rt, mcl_kern_cgemv_in, MCL_DTYPE_F32, 21, 1e-4f, ok);
}
