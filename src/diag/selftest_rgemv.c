/* The tiny checked launches of rgemv and rgemv_in (selftest_rgemv.h). */
#include "diag/selftest_rgemv.h"

#include <math.h>

#include "base/half.h"
#include "diag/selftest_bufs.h"
#include "ops/kern_rgemv.h"

enum { RG_ST_O = 13, RG_ST_I = 40, RG_ST_MAXW = RG_ST_O * RG_ST_I };

/* n weights w (fp32 values) stored in dtype dt at out (4 bytes per element
 * for F32, 2 otherwise); vals gets the stored values back as floats. */
static void to_dtype(const float *w, int n, mcl_dtype dt, void *out, float *vals)
{
    for (int i = 0; i < n; i++) {
        if (dt == MCL_DTYPE_F32) ((float *)out)[i] = vals[i] = w[i];
        else if (dt == MCL_DTYPE_F16) vals[i] = mcl_half_to_float(((uint16_t *)out)[i] = mcl_half_from_float(w[i]));
        else vals[i] = mcl_bf16_to_float(((uint16_t *)out)[i] = mcl_bf16_from_float(w[i]));
    }
}

/* y += W . x over O x I weights of dt, once with aligned rows (I = 40) and
 * once with I = 21 (rows off the 16-byte grid, a tail of elements). */
static mcl_status rgemv_check(mcl_runtime *rt, mcl_dtype dt, bool *ok)
{
    static const int Is[2] = {RG_ST_I, 21};
    float w[RG_ST_MAXW], wv[RG_ST_MAXW], x[RG_ST_I], y0[RG_ST_O], want[RG_ST_O], got[RG_ST_O];
    float store[RG_ST_MAXW]; /* room for F32 */
    mcl_status st = MCL_OK;
    *ok = true;
    for (int c = 0; c < 2 && st == MCL_OK && *ok; c++) {
        int O = RG_ST_O, I = Is[c];
        for (int i = 0; i < O * I; i++) w[i] = mcl_st_val(i) / 2.0f;
        for (int i = 0; i < I; i++) x[i] = mcl_st_val(i + 3);
        to_dtype(w, O * I, dt, store, wv);
        for (int o = 0; o < O; o++) {
            y0[o] = mcl_st_val(o + 7);
            double s = y0[o];
            for (int i = 0; i < I; i++) s += (double)wv[o * I + i] * x[i];
            want[o] = (float)s;
        }
        mcl_st_bufs b = {0};
        cl_mem bW = NULL, bx = NULL, by = NULL;
        st = mcl_st_put(rt, &b, store, (size_t)O * I * mcl_half_dtype_size(dt), &bW);
        if (st == MCL_OK) st = mcl_st_put(rt, &b, x, sizeof x, &bx);
        if (st == MCL_OK) st = mcl_st_put(rt, &b, y0, sizeof y0, &by);
        if (st == MCL_OK) st = mcl_kern_rgemv(rt, bW, dt, bx, by, O, I, true);
        if (st == MCL_OK) st = mcl_st_get(rt, by, got, sizeof got);
        if (st == MCL_OK) *ok = mcl_st_close(got, want, O, 1e-4f);
        st = mcl_st_done(&b, st);
    }
    return st;
}

/* rgemv_in of one row (slot 1 of 2): the norm, and the conv step (K 3, with
 * bias) of the first NC rows; weights of dt, I = 24 (aligned rows). */
static mcl_status rgemv_in_check(mcl_runtime *rt, mcl_dtype dt, bool *ok)
{
    enum { O = 9, I = 24, NC = 4, K = 3, S = 2 };
    float w[O * I], wv[O * I], store[O * I], x[I], nw[I], cw[NC * K], cb[NC];
    float cst[S * NC * (K - 1)], want_st[S * NC * (K - 1)], want[O], want_xc[NC], got[O], got_xc[NC];
    float got_st[S * NC * (K - 1)];
    int slot[1] = {1};
    for (int i = 0; i < O * I; i++) w[i] = mcl_st_val(i) / 2.0f;
    to_dtype(w, O * I, dt, store, wv);
    for (int i = 0; i < I; i++) x[i] = mcl_st_val(i + 3), nw[i] = 1.0f + mcl_st_val(i + 5) / 4.0f;
    for (int i = 0; i < NC * K; i++) cw[i] = mcl_st_val(i + 7) / 2.0f;
    for (int i = 0; i < NC; i++) cb[i] = mcl_st_val(i + 9) / 4.0f;
    for (int i = 0; i < S * NC * (K - 1); i++) cst[i] = want_st[i] = mcl_st_val(i + 11);
    double ss = 0;
    for (int i = 0; i < I; i++) ss += (double)x[i] * x[i];
    double sc = 1.0 / sqrt(ss / I + 1e-5);
    for (int o = 0; o < O; o++) {
        double s = 0;
        for (int i = 0; i < I; i++) s += (double)wv[o * I + i] * x[i] * nw[i];
        want[o] = (float)(s * sc);
    }
    for (int o = 0; o < NC; o++) { /* the conv step on state row o of slot 1 */
        float *st = want_st + NC * (K - 1) + o * (K - 1);
        double acc = cb[o] + (double)cw[o * K + K - 1] * want[o];
        for (int j = 0; j < K - 1; j++) acc += (double)cw[o * K + j] * st[j];
        for (int j = 0; j < K - 2; j++) st[j] = st[j + 1];
        st[K - 2] = want[o];
        want_xc[o] = (float)(acc / (1.0 + exp(-acc)));
    }
    mcl_st_bufs bf = {0};
    cl_mem m[8], bxc = NULL;
    const void *host[8] = {store, x, nw, cw, cb, cst, slot, NULL};
    size_t bytes[8] = {(size_t)O * I * mcl_half_dtype_size(dt), sizeof x, sizeof nw, sizeof cw, sizeof cb,
                       sizeof cst, sizeof slot, sizeof got};
    mcl_status st = MCL_OK;
    for (int i = 0; i < 8 && st == MCL_OK; i++) st = mcl_st_put(rt, &bf, host[i], bytes[i], &m[i]);
    if (st == MCL_OK) st = mcl_st_put(rt, &bf, NULL, sizeof got_xc, &bxc);
    mcl_kern_conv cv = {m[3], m[4], {m[5], 0, m[6], NC * (K - 1)}, K, NC, bxc};
    if (st == MCL_OK) st = mcl_kern_rgemv_in(rt, m[0], dt, m[1], m[7], O, I, m[2], 1e-5f, &cv);
    if (st == MCL_OK) st = mcl_st_get(rt, m[7], got, sizeof got);
    if (st == MCL_OK) st = mcl_st_get(rt, bxc, got_xc, sizeof got_xc);
    if (st == MCL_OK) st = mcl_st_get(rt, m[5], got_st, sizeof got_st);
    if (st == MCL_OK)
        *ok = mcl_st_close(got, want, O, 1e-4f) && mcl_st_close(got_xc, want_xc, NC, 1e-4f) &&
              mcl_st_close(got_st, want_st, S * NC * (K - 1), 1e-4f);
    return mcl_st_done(&bf, st);
}

mcl_status mcl_selftest_rgemv_f32(mcl_runtime *rt, bool *ok) { return rgemv_check(rt, MCL_DTYPE_F32, ok); }
mcl_status mcl_selftest_rgemv_f16(mcl_runtime *rt, bool *ok) { return rgemv_check(rt, MCL_DTYPE_F16, ok); }
mcl_status mcl_selftest_rgemv_bf16(mcl_runtime *rt, bool *ok) { return rgemv_check(rt, MCL_DTYPE_BF16, ok); }
mcl_status mcl_selftest_rgemv_in_f32(mcl_runtime *rt, bool *ok) { return rgemv_in_check(rt, MCL_DTYPE_F32, ok); }
mcl_status mcl_selftest_rgemv_in_f16(mcl_runtime *rt, bool *ok) { return rgemv_in_check(rt, MCL_DTYPE_F16, ok); }
mcl_status mcl_selftest_rgemv_in_bf16(mcl_runtime *rt, bool *ok) { return rgemv_in_check(rt, MCL_DTYPE_BF16, ok); }
