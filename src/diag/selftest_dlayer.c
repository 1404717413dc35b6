/* Selftest of the persistent decode layer (cl/dlayer.cl): one layer of a
 * tiny model (d_model 12, d_inner 24, R 2, N 4, K 3, F16 weights) against a
 * host computation in double, on one work-group (any device) and, where the
 * co-residency probe passed, on the proven grid too. */
#include "diag/selftest_dlayer.h"

#include <math.h>
#include <string.h>

#include "base/error.h"
#include "base/half.h"
#include "diag/selftest_bufs.h"
#include "ops/kern_dlayer.h"

enum { DM = 12, DI = 24, R = 2, N = 4, K = 3, NX = R + 2 * N };

typedef struct tiny_layer {
    uint16_t w_in[2 * DI * DM], w_x[NX * DI], w_dt[DI * R], w_out[DM * DI];
    float nw[DM], cw[DI * K], cb[DI], b_dt[DI], A[DI * N], D[DI], h[DM], cst[DI * (K - 1)], sst[DI * N];
} tiny_layer;

static double wv(const uint16_t *w, int i) { return mcl_half_to_float(w[i]); }
static double silu_d(double v) { return v / (1.0 + exp(-v)); }

static void tiny_fill(tiny_layer *t)
{
    for (int i = 0; i < 2 * DI * DM; i++) t->w_in[i] = mcl_half_from_float(mcl_st_val(i) / 3.0f);
    for (int i = 0; i < NX * DI; i++) t->w_x[i] = mcl_half_from_float(mcl_st_val(i + 1) / 3.0f);
    for (int i = 0; i < DI * R; i++) t->w_dt[i] = mcl_half_from_float(mcl_st_val(i + 2) / 2.0f);
    for (int i = 0; i < DM * DI; i++) t->w_out[i] = mcl_half_from_float(mcl_st_val(i + 3) / 3.0f);
    for (int i = 0; i < DM; i++) t->nw[i] = 1.0f + mcl_st_val(i + 4) / 4.0f, t->h[i] = mcl_st_val(i + 5);
    for (int i = 0; i < DI * K; i++) t->cw[i] = mcl_st_val(i + 6) / 2.0f;
    for (int i = 0; i < DI; i++) {
        t->cb[i] = mcl_st_val(i + 7) / 4.0f;
        t->b_dt[i] = -3.0f + mcl_st_val(i + 8) / 4.0f;
        t->D[i] = 1.0f + mcl_st_val(i + 9) / 4.0f;
    }
    for (int i = 0; i < DI * N; i++) t->A[i] = -1.0f - 3.0f * (mcl_st_val(i + 10) + 1.0f), t->sst[i] = mcl_st_val(i + 11);
    for (int i = 0; i < DI * (K - 1); i++) t->cst[i] = mcl_st_val(i + 12);
}

/* One step in double: h, cst and sst updated in place. */
static void tiny_step(tiny_layer *t)
{
    double ss = 0, xz[2 * DI], xc[DI], dbc[NX], y[DI];
    for (int i = 0; i < DM; i++) ss += (double)t->h[i] * t->h[i];
    double sc = 1.0 / sqrt(ss / DM + 1e-5);
    for (int o = 0; o < 2 * DI; o++) {
        double s = 0;
        for (int i = 0; i < DM; i++) s += wv(t->w_in, o * DM + i) * t->h[i] * t->nw[i];
        xz[o] = s * sc;
    }
    for (int d = 0; d < DI; d++) {
        float *st = t->cst + d * (K - 1);
        double acc = t->cb[d] + t->cw[d * K + K - 1] * xz[d];
        for (int j = 0; j < K - 1; j++) acc += t->cw[d * K + j] * st[j];
        st[0] = st[1], st[1] = (float)xz[d];
        xc[d] = silu_d(acc);
    }
    for (int o = 0; o < NX; o++) {
        dbc[o] = 0;
        for (int i = 0; i < DI; i++) dbc[o] += wv(t->w_x, o * DI + i) * xc[i];
    }
    for (int d = 0; d < DI; d++) {
        double dt = t->b_dt[d], acc = 0;
        for (int r = 0; r < R; r++) dt += wv(t->w_dt, d * R + r) * dbc[r];
        dt = dt > 20 ? dt : log1p(exp(dt));
        for (int n = 0; n < N; n++) {
            double s = exp(dt * t->A[d * N + n]) * t->sst[d * N + n] + dt * xc[d] * dbc[R + n];
            t->sst[d * N + n] = (float)s;
            acc += dbc[R + N + n] * s;
        }
        y[d] = (acc + t->D[d] * xc[d]) * silu_d(xz[DI + d]);
    }
    for (int o = 0; o < DM; o++) {
        double s = t->h[o];
        for (int i = 0; i < DI; i++) s += wv(t->w_out, o * DI + i) * y[i];
        t->h[o] = (float)s;
    }
}

enum { B_H, B_NW, B_WIN, B_CW, B_CB, B_CST, B_SLOT, B_XZ, B_XC, B_WX, B_PARTS, B_WDT, B_BDT, B_A, B_D, B_SST, B_Y,
       B_WOUT, B_N };

static mcl_status tiny_upload(mcl_runtime *rt, mcl_st_bufs *b, const tiny_layer *t, cl_mem *m)
{
    static const int zero = 0;
    const void *src[B_N] = {t->h, t->nw, t->w_in, t->cw, t->cb, t->cst, &zero, NULL, NULL, t->w_x, NULL, t->w_dt,
                            t->b_dt, t->A, t->D, t->sst, NULL, t->w_out};
    const size_t bytes[B_N] = {sizeof t->h, sizeof t->nw, sizeof t->w_in, sizeof t->cw, sizeof t->cb, sizeof t->cst,
                               sizeof zero, 8 * DI, 4 * DI, sizeof t->w_x, 4 * 8 * NX, sizeof t->w_dt,
                               sizeof t->b_dt, sizeof t->A, sizeof t->D, sizeof t->sst, 4 * DI, sizeof t->w_out};
    for (int i = 0; i < B_N; i++) MCL_TRY(mcl_st_put(rt, b, src[i], bytes[i], &m[i]));
    return MCL_OK;
}

/* One step on `groups` groups, compared with tiny_step. */
static mcl_status tiny_check(mcl_runtime *rt, int groups, bool *ok)
{
    tiny_layer t, want;
    tiny_fill(&t);
    want = t;
    tiny_step(&want);
    mcl_st_bufs b = {0};
    cl_mem m[B_N] = {0};
    mcl_status st = tiny_upload(rt, &b, &t, m);
    mcl_kern_dlayer_args a = {
        .h = m[B_H], .nw = m[B_NW], .eps = 1e-5f, .w_in = m[B_WIN], .dt_in = MCL_DTYPE_F16,
        .conv = {m[B_CW], m[B_CB], {m[B_CST], 0, m[B_SLOT], DI * (K - 1)}, K, DI, m[B_XC]},
        .w_x = m[B_WX], .dt_x = MCL_DTYPE_F16, .parts = m[B_PARTS], .n_parts = 2,
        .scan = {m[B_XC], m[B_PARTS], m[B_XZ], m[B_WDT], m[B_BDT], m[B_A], m[B_D], m[B_Y], MCL_DTYPE_F16, DI, R, N,
                 DI, 2 * DI},
        .ssm = {m[B_SST], 0, m[B_SLOT], DI * N},
        .w_out = m[B_WOUT], .dt_out = MCL_DTYPE_F16, .d_model = DM,
    };
    if (st == MCL_OK) st = mcl_kern_dlayer_with(rt, &a, groups);
    if (st == MCL_OK) st = mcl_st_get(rt, m[B_H], t.h, sizeof t.h);
    if (st == MCL_OK) st = mcl_st_get(rt, m[B_CST], t.cst, sizeof t.cst);
    if (st == MCL_OK) st = mcl_st_get(rt, m[B_SST], t.sst, sizeof t.sst);
    if (st == MCL_OK)
        *ok = mcl_st_close(t.h, want.h, DM, 1e-4f) && mcl_st_close(t.cst, want.cst, DI * (K - 1), 1e-4f) &&
              mcl_st_close(t.sst, want.sst, DI * N, 1e-4f);
    return mcl_st_done(&b, st);
}

mcl_status mcl_selftest_dlayer(mcl_runtime *rt, bool *ok)
{
    MCL_TRY(tiny_check(rt, 1, ok));
    bool ready = false;
    if (!*ok) return MCL_OK;
    MCL_TRY(mcl_kern_dlayer_ready(rt, 1, DM, DI, NX, &ready));
    if (ready && rt->dlayer.groups > 1) MCL_TRY(tiny_check(rt, rt->dlayer.groups, ok));
    return MCL_OK;
}
