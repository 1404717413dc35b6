/* Tiny checked launches of gemv_in, gemv_split (and their gemv_mma.cl forms), ssm_step_parts, read_f4. */
#include "diag/selftest_decode.h"

#include <math.h>
#include <string.h>

#include "base/error.h"
#include "base/half.h"
#include "diag/selftest_bufs.h"
#include "ops/kern_decode.h"

static float silu(float v) { return v / (1.0f + expf(-v)); }

mcl_status mcl_selftest_read(mcl_runtime *rt, bool *ok)
{
    enum { N4 = 4096, OUT = 256 }; /* OUT >= COPY_WG (at most 256) */
    static float src[4 * N4];
    float out[OUT], got[OUT];
    for (int i = 0; i < OUT; i++) out[i] = 7.0f;
    mcl_st_bufs b = {0};
    cl_mem bs, bo;
    cl_kernel k;
    const mcl_params *cp;
    long wgl;
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_COPY, NULL, "read_f4", &k, &cp));
    MCL_TRY(mcl_tune_get(cp, MCL_T_COPY_WG, &wgl));
    size_t wg = (size_t)wgl;
    MCL_ASSERT(wg <= OUT, "read_f4 selftest: COPY_WG above 256");
    mcl_status st = mcl_st_put(rt, &b, src, sizeof src, &bs);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, out, sizeof out, &bo);
    if (st == MCL_OK) {
        cl_uint n4 = N4;
        cl_int e = clSetKernelArg(k, 0, sizeof bs, &bs) | clSetKernelArg(k, 1, sizeof n4, &n4) |
                   clSetKernelArg(k, 2, sizeof bo, &bo);
        st = e ? mcl_error_cl(CL_INVALID_KERNEL_ARGS, "clSetKernelArg(read_f4)")
               : mcl_launch(rt, k, "read_f4", 1, &wg, &wg);
    }
    if (st == MCL_OK) st = mcl_st_get(rt, bo, got, sizeof got);
    if (st == MCL_OK) *ok = memcmp(got, out, sizeof got) == 0; /* a zero source writes nothing */
    return mcl_st_done(&b, st);
}

/* gemv_in of nb (1: gemv_in_1, 2: the tile kernel) batch rows. */
static mcl_status gemv_in_check(mcl_runtime *rt, int nb, bool *ok)
{
    enum { O = 6, I = 11, B = 2, NC = 3, K = 3 };
    uint16_t W[O * I];
    float x[B * I], nw[I], cw[NC * K], cb[NC], cst[B * NC * (K - 1)], want_st[B * NC * (K - 1)];
    float want[B * O], want_xc[B * NC], got[B * O], got_xc[B * NC], got_st[B * NC * (K - 1)];
    int slot[B] = {1, 0};
    for (int i = 0; i < O * I; i++) W[i] = mcl_half_from_float(mcl_st_val(i));
    for (int i = 0; i < B * I; i++) x[i] = mcl_st_val(i + 3);
    for (int i = 0; i < I; i++) nw[i] = 1.0f + mcl_st_val(i + 5) / 4.0f;
    for (int i = 0; i < NC * K; i++) cw[i] = mcl_st_val(i + 7) / 2.0f;
    for (int i = 0; i < NC; i++) cb[i] = mcl_st_val(i + 9) / 4.0f;
    for (int i = 0; i < B * NC * (K - 1); i++) cst[i] = want_st[i] = mcl_st_val(i + 11);
    for (int bb = 0; bb < nb; bb++) {
        double ss = 0;
        for (int i = 0; i < I; i++) ss += (double)x[bb * I + i] * x[bb * I + i];
        double sc = 1.0 / sqrt(ss / I + 1e-5);
        for (int o = 0; o < O; o++) {
            double s = 0;
            for (int i = 0; i < I; i++) s += (double)mcl_half_to_float(W[o * I + i]) * x[bb * I + i] * nw[i];
            want[bb * O + o] = (float)(s * sc);
        }
        for (int d = 0; d < NC; d++) {
            float *st = want_st + (slot[bb] * NC + d) * (K - 1), acc = cb[d];
            for (int j = 0; j < K - 1; j++) acc += cw[d * K + j] * st[j];
            acc += cw[d * K + K - 1] * want[bb * O + d];
            want_xc[bb * NC + d] = silu(acc);
            st[0] = st[1];
            st[1] = want[bb * O + d];
        }
    }
    mcl_st_bufs b = {0};
    cl_mem bW = NULL, bx = NULL, by = NULL, bnw = NULL, bcw = NULL, bcb = NULL, bst = NULL, bslot = NULL, bxc = NULL;
    mcl_status st = mcl_st_put(rt, &b, W, sizeof W, &bW);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, x, sizeof x, &bx);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, NULL, sizeof got, &by);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, nw, sizeof nw, &bnw);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, cw, sizeof cw, &bcw);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, cb, sizeof cb, &bcb);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, cst, sizeof cst, &bst);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, slot, sizeof slot, &bslot);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, NULL, sizeof got_xc, &bxc);
    mcl_kern_conv cv = {bcw, bcb, {bst, 0, bslot, NC * (K - 1)}, K, NC, bxc};
    if (st == MCL_OK) st = mcl_kern_gemv_in(rt, bW, MCL_DTYPE_F16, bx, by, O, I, nb, bnw, 1e-5f, &cv);
    if (st == MCL_OK) st = mcl_st_get(rt, by, got, sizeof got);
    if (st == MCL_OK) st = mcl_st_get(rt, bxc, got_xc, sizeof got_xc);
    if (st == MCL_OK) st = mcl_st_get(rt, bst, got_st, sizeof got_st);
    if (st == MCL_OK)
        *ok = mcl_st_close(got, want, nb * O, 1e-4f) && mcl_st_close(got_xc, want_xc, nb * NC, 1e-4f) &&
              mcl_st_close(got_st, want_st, B * NC * (K - 1), 1e-4f);
    return mcl_st_done(&b, st);
}

/* gemv_in_check with gemv_mma.cl on (mode 1) or off (-1) for the batch of 2. */
static mcl_status gemv_in_mode(mcl_runtime *rt, int mode, bool *ok)
{
    rt->gmma_mode = mode;
    mcl_status st = gemv_in_check(rt, 2, ok);
    rt->gmma_mode = 0;
    return st;
}

mcl_status mcl_selftest_gemv_in(mcl_runtime *rt, bool *ok) { return gemv_in_mode(rt, -1, ok); }
mcl_status mcl_selftest_gmma_in(mcl_runtime *rt, bool *ok) { return gemv_in_mode(rt, 1, ok); }
mcl_status mcl_selftest_gemv_in_1(mcl_runtime *rt, bool *ok)
{
    rt->rgemv_mode = -1; /* gemv.cl's gemv_in_1 even where batch 1 goes to rgemv.cl */
    mcl_status st = gemv_in_check(rt, 1, ok);
    rt->rgemv_mode = 0;
    return st;
}

/* gemv_split of nb (1: gemv_split_1, 2: the tile kernel) batch rows with
 * F32 weights, or with F16 weights on gemv_mma.cl (f16: nb 2). */
static mcl_status gemv_split_check(mcl_runtime *rt, int nb, bool f16, bool *ok)
{
    enum { O = 5, I = 43, B = 2, S = 3 };
    float W[O * I], x[B * I], want[B * O], parts[S * B * O], got[B * O];
    uint16_t Wh[O * I];
    for (int i = 0; i < O * I; i++) {
        Wh[i] = mcl_half_from_float(mcl_st_val(i));
        W[i] = f16 ? mcl_half_to_float(Wh[i]) : mcl_st_val(i);
    }
    for (int i = 0; i < B * I; i++) x[i] = mcl_st_val(i + 3);
    for (int bb = 0; bb < nb; bb++)
        for (int o = 0; o < O; o++) {
            double s = 0;
            for (int i = 0; i < I; i++) s += (double)W[o * I + i] * x[bb * I + i];
            want[bb * O + o] = (float)s;
        }
    mcl_st_bufs b = {0};
    cl_mem bW, bx, by;
    mcl_status st = f16 ? mcl_st_put(rt, &b, Wh, sizeof Wh, &bW) : mcl_st_put(rt, &b, W, sizeof W, &bW);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, x, sizeof x, &bx);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, NULL, sizeof parts, &by);
    rt->gmma_mode = f16 ? 1 : 0;
    if (st == MCL_OK) st = mcl_kern_gemv_split(rt, bW, f16 ? MCL_DTYPE_F16 : MCL_DTYPE_F32, bx, by, O, I, nb, S, B * O);
    rt->gmma_mode = 0;
    if (st == MCL_OK) st = mcl_st_get(rt, by, parts, sizeof parts);
    if (st == MCL_OK) {
        for (int i = 0; i < nb * O; i++) got[i] = parts[i] + parts[B * O + i] + parts[2 * B * O + i];
        *ok = mcl_st_close(got, want, nb * O, 1e-5f);
    }
    return mcl_st_done(&b, st);
}

mcl_status mcl_selftest_gemv_split(mcl_runtime *rt, bool *ok) { return gemv_split_check(rt, 2, false, ok); }
mcl_status mcl_selftest_gemv_split_1(mcl_runtime *rt, bool *ok) { return gemv_split_check(rt, 1, false, ok); }
mcl_status mcl_selftest_gmma_split(mcl_runtime *rt, bool *ok) { return gemv_split_check(rt, 2, true, ok); }

mcl_status mcl_selftest_ssm_step_parts(mcl_runtime *rt, bool *ok)
{
    enum { DI = 3, R = 2, N = 4, NX = R + 2 * N, S = 2 };
    float xc[DI], parts[S * NX], xz[2 * DI], w[DI * R], bdt[DI], A[DI * N], D[DI], s0[DI * N];
    float want[DI], want_s[DI * N], got[DI], got_s[DI * N];
    int slot[1] = {0};
    for (int i = 0; i < DI; i++) xc[i] = mcl_st_val(i), bdt[i] = mcl_st_val(i + 1) / 4.0f, D[i] = 1.0f + mcl_st_val(i + 2) / 8.0f;
    for (int i = 0; i < S * NX; i++) parts[i] = mcl_st_val(i + 4) / 2.0f;
    for (int i = 0; i < 2 * DI; i++) xz[i] = mcl_st_val(i + 5);
    for (int i = 0; i < DI * R; i++) w[i] = mcl_st_val(i + 6) / 2.0f;
    for (int i = 0; i < DI * N; i++) A[i] = -1.0f - (float)(i % 5), s0[i] = mcl_st_val(i + 8);
    for (int d = 0; d < DI; d++) {
        double dt = bdt[d], acc = 0;
        for (int r = 0; r < R; r++) dt += (double)w[d * R + r] * (parts[r] + parts[NX + r]);
        double delta = dt > 20.0 ? dt : log1p(exp(dt));
        for (int n = 0; n < N; n++) {
            double Bn = parts[R + n] + parts[NX + R + n], Cn = parts[R + N + n] + parts[NX + R + N + n];
            double sn = exp(delta * A[d * N + n]) * s0[d * N + n] + delta * Bn * xc[d];
            want_s[d * N + n] = (float)sn;
            acc += Cn * sn;
        }
        want[d] = (float)((acc + D[d] * xc[d]) * silu(xz[DI + d]));
    }
    mcl_st_bufs b = {0};
    cl_mem m[11];
    const void *host[11] = {xc, parts, xz, w, bdt, A, D, s0, slot, NULL};
    size_t bytes[11] = {sizeof xc, sizeof parts, sizeof xz, sizeof w, sizeof bdt, sizeof A, sizeof D, sizeof s0,
                        sizeof slot, sizeof got};
    mcl_status st = MCL_OK;
    for (int i = 0; i < 10 && st == MCL_OK; i++) st = mcl_st_put(rt, &b, host[i], bytes[i], &m[i]);
    mcl_scan_args a = {m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[9], MCL_DTYPE_F32, DI, R, N, DI, 2 * DI, 0};
    mcl_kern_state ks = {m[7], 0, m[8], DI * N};
    if (st == MCL_OK) st = mcl_kern_ssm_step_parts(rt, &a, &ks, 1, S, NX);
    if (st == MCL_OK) st = mcl_st_get(rt, m[9], got, sizeof got);
    if (st == MCL_OK) st = mcl_st_get(rt, m[7], got_s, sizeof got_s);
    if (st == MCL_OK) *ok = mcl_st_close(got, want, DI, 1e-4f) && mcl_st_close(got_s, want_s, DI * N, 1e-4f);
    return mcl_st_done(&b, st);
}
