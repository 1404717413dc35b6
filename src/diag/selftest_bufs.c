/* Buffers and checks shared by the kernels' selftests. */
#include "diag/selftest_bufs.h"

#include <math.h>

#include "base/error.h"
#include "base/half.h"

mcl_status mcl_st_put(mcl_runtime *rt, mcl_st_bufs *b, const void *host, size_t bytes, cl_mem *out)
{
    *out = NULL;
    MCL_ASSERT(b->n < MCL_ST_MAX_BUFS, "selftest: too many buffers");
    MCL_TRY(mcl_buffer_create(rt, CL_MEM_READ_WRITE, bytes, "selftest", out));
    b->m[b->n++] = *out;
    if (host)
        MCL_CL_CHECK(clEnqueueWriteBuffer(rt->queue, *out, CL_TRUE, 0, bytes, host, 0, NULL, NULL),
                     "clEnqueueWriteBuffer(selftest)");
    return MCL_OK;
}

mcl_status mcl_st_get(mcl_runtime *rt, cl_mem m, void *host, size_t bytes)
{
    MCL_CL_CHECK(clEnqueueReadBuffer(rt->queue, m, CL_TRUE, 0, bytes, host, 0, NULL, NULL),
                 "clEnqueueReadBuffer(selftest)");
    return MCL_OK;
}

mcl_status mcl_st_done(mcl_st_bufs *b, mcl_status st)
{
    for (int i = 0; i < b->n; i++) mcl_buffer_release(&b->m[i]);
    return st;
}

bool mcl_st_close(const float *got, const float *want, int n, float tol)
{
    for (int i = 0; i < n; i++)
        if (!(fabsf(got[i] - want[i]) <= tol * (1.0f + fabsf(want[i])))) return false;
    return true;
}

float mcl_st_val(int i) { return (float)((i * 37) % 23 - 11) / 8.0f; }

mcl_status mcl_st_gemv_case(mcl_runtime *rt, mcl_st_gemv_fn gemv, int O, int I, int nb, float tol, bool *ok)
{
    enum { B = 2, MAX = 32 };
    MCL_ASSERT(O > 0 && I > 0 && O <= MAX && I <= MAX && O * I <= MCL_ST_GEMV_MAX_W && nb >= 1 && nb <= B,
               "gemv selftest shape");
    uint16_t W[MCL_ST_GEMV_MAX_W];
    float x[B * MAX], y[B * MAX], got[B * MAX], want[B * MAX];
    for (int i = 0; i < O * I; i++) W[i] = mcl_half_from_float(mcl_st_val(i));
    for (int i = 0; i < B * I; i++) x[i] = mcl_st_val(i + 3);
    for (int i = 0; i < B * O; i++) y[i] = mcl_st_val(i + 6);
    for (int bb = 0; bb < nb; bb++)
        for (int o = 0; o < O; o++) {
            double s = y[bb * O + o];
            for (int i = 0; i < I; i++) s += (double)mcl_half_to_float(W[o * I + i]) * x[bb * I + i];
            want[bb * O + o] = (float)s;
        }
    mcl_st_bufs b = {0};
    cl_mem bW, bx, by;
    mcl_status st = mcl_st_put(rt, &b, W, (size_t)O * I * sizeof W[0], &bW);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, x, (size_t)B * I * sizeof x[0], &bx);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, y, (size_t)B * O * sizeof y[0], &by);
    if (st == MCL_OK) st = gemv(rt, bW, MCL_DTYPE_F16, bx, by, O, I, nb, true);
    if (st == MCL_OK) st = mcl_st_get(rt, by, got, (size_t)nb * O * sizeof got[0]);
    if (st == MCL_OK) *ok = mcl_st_close(got, want, nb * O, tol);
    return mcl_st_done(&b, st);
}

void mcl_st_to_dtype(const float *w, int n, mcl_dtype dt, void *out, float *vals)
{
    for (int i = 0; i < n; i++) {
        if (dt == MCL_DTYPE_F32) ((float *)out)[i] = vals[i] = w[i];
        else if (dt == MCL_DTYPE_F16) vals[i] = mcl_half_to_float(((uint16_t *)out)[i] = mcl_half_from_float(w[i]));
        else vals[i] = mcl_bf16_to_float(((uint16_t *)out)[i] = mcl_bf16_from_float(w[i]));
    }
}

/* The host side of mcl_st_gemv_in_case: want = RMSNorm(x) * nw . W^T (wv:
 * the stored weights as floats), then the conv step of the first nc rows on
 * state slot 1 (want_st rolled in place, want_xc = SiLU(conv + bias)). */
static void gemv_in_ref(const float *wv, const float *x, const float *nw, const float *cw, const float *cb, int O,
                        int I, int nc, int K, float *want, float *want_xc, float *want_st)
{
    double ss = 0;
    for (int i = 0; i < I; i++) ss += (double)x[i] * x[i];
    double sc = 1.0 / sqrt(ss / I + 1e-5);
    for (int o = 0; o < O; o++) {
        double s = 0;
        for (int i = 0; i < I; i++) s += (double)wv[o * I + i] * x[i] * nw[i];
        want[o] = (float)(s * sc);
    }
    for (int o = 0; o < nc; o++) {
        float *st = want_st + nc * (K - 1) + o * (K - 1);
        double acc = cb[o] + (double)cw[o * K + K - 1] * want[o];
        for (int j = 0; j < K - 1; j++) acc += (double)cw[o * K + j] * st[j];
        for (int j = 0; j < K - 2; j++) st[j] = st[j + 1];
        st[K - 2] = want[o];
        want_xc[o] = (float)(acc / (1.0 + exp(-acc)));
    }
}

mcl_status mcl_st_gemv_in_case(mcl_runtime *rt, mcl_st_gemv_in_fn gemv_in, mcl_dtype dt, int I, float tol,
                               bool *ok)
{
    enum { O = 9, MI = MCL_ST_GEMV_IN_MAX_I, NC = 4, K = 3, S = 2 };
    MCL_ASSERT(I > 0 && I <= MI, "gemv_in selftest shape");
    float w[O * MI], wv[O * MI], store[O * MI], x[MI], nw[MI], cw[NC * K], cb[NC];
    float cst[S * NC * (K - 1)], want_st[S * NC * (K - 1)], want[O], want_xc[NC], got[O], got_xc[NC];
    float got_st[S * NC * (K - 1)];
    int slot[1] = {1};
    for (int i = 0; i < O * I; i++) w[i] = mcl_st_val(i) / 2.0f;
    mcl_st_to_dtype(w, O * I, dt, store, wv);
    for (int i = 0; i < I; i++) x[i] = mcl_st_val(i + 3), nw[i] = 1.0f + mcl_st_val(i + 5) / 4.0f;
    for (int i = 0; i < NC * K; i++) cw[i] = mcl_st_val(i + 7) / 2.0f;
    for (int i = 0; i < NC; i++) cb[i] = mcl_st_val(i + 9) / 4.0f;
    for (int i = 0; i < S * NC * (K - 1); i++) cst[i] = want_st[i] = mcl_st_val(i + 11);
    gemv_in_ref(wv, x, nw, cw, cb, O, I, NC, K, want, want_xc, want_st);
    mcl_st_bufs bf = {0};
    cl_mem m[8], bxc = NULL;
    const void *host[8] = {store, x, nw, cw, cb, cst, slot, NULL};
    size_t bytes[8] = {(size_t)O * I * mcl_half_dtype_size(dt), (size_t)I * 4, (size_t)I * 4, sizeof cw, sizeof cb,
                       sizeof cst, sizeof slot, sizeof got};
    mcl_status st = MCL_OK;
    for (int i = 0; i < 8 && st == MCL_OK; i++) st = mcl_st_put(rt, &bf, host[i], bytes[i], &m[i]);
    if (st == MCL_OK) st = mcl_st_put(rt, &bf, NULL, sizeof got_xc, &bxc);
    mcl_kern_conv cv = {m[3], m[4], {m[5], 0, m[6], NC * (K - 1)}, K, NC, bxc};
    if (st == MCL_OK) st = gemv_in(rt, m[0], dt, m[1], m[7], O, I, 1, m[2], 1e-5f, &cv);
    if (st == MCL_OK) st = mcl_st_get(rt, m[7], got, sizeof got);
    if (st == MCL_OK) st = mcl_st_get(rt, bxc, got_xc, sizeof got_xc);
    if (st == MCL_OK) st = mcl_st_get(rt, m[5], got_st, sizeof got_st);
    if (st == MCL_OK)
        *ok = mcl_st_close(got, want, O, tol) && mcl_st_close(got_xc, want_xc, NC, tol) &&
              mcl_st_close(got_st, want_st, S * NC * (K - 1), tol);
    return mcl_st_done(&bf, st);
}
