/* xstep.cl: the middle of a Mamba-1 decode layer in one launch, for CPUs:
 * x_proj, the dt projection, softplus, the state update, D and the gate,
 * between gemv_in (RMSNorm + in_proj + conv step) and out_proj. A decode
 * layer is then 3 launches instead of 4 (gemv_in, xstep, gemv).
 *
 * Algorithm. Grid (G, B) of work-groups of ONE work-item: PoCL runs a group
 * as one call on one of its threads, and what it vectorizes there are the
 * explicit vectors of XS_VW lanes written below (its implicit vectorization
 * across the work-items of a group did not apply to ssm_step.cl's loops: the
 * profile showed scalar code and a scalar log1p per channel). Group (g, b):
 *   1. dbc = W_x . xc[b] for all R + 2N rows, XS_RB rows at a time (vectors
 *      of XS_VW along d_inner, each x vector used by the XS_RB rows, one
 *      horizontal sum per row, the d_inner % XS_VW tail element by element)
 *      into local memory. Every group of sequence b forms the
 *      same row (G x_proj products of one sequence: on a CPU cheaper than
 *      the launch and the partials round trip it replaces);
 *   2. its channels d in [g * chunk, min((g + 1) * chunk, d_inner)), XS_VW
 *      at a time: Δ = softplus(b_dt[d] + W_dt[d] . dbc[0, R)) and SiLU(z[b, d])
 *      as vectors over the XS_VW channels (channels past the chunk computed on the
 *      chunk's last one, not written); then for each channel the states in
 *      vectors of XS_VW (the N % XS_VW tail element by element):
 *        s[n] = exp(Δ·A[d,n])·s[n] + Δ·x·B[n],  y += C[n]·s[n];
 *      y[b, d] = (y + D[d]·x)·SiLU(z[b, d]).
 * The chunks of one sequence are disjoint, so each state row has one
 * writer. The sums run in another order than ssm_step.cl / gemv.cl's (fp32
 * rounding differs, within the tests' tolerances of the C reference).
 * Memory traffic per sequence and group: W_x (R+2N)·d_inner·(2|4) B (from
 * cache after the first group), xc 4·d_inner B; per (b, d): the state 8·N B
 * (read and write), A 4·N B, W_dt row (2|4)·R B, x, z, y 12 B.
 * Tunables (src/tune/tune_xstep.c): XS_VW the vector width (4, 8 or 16),
 * XS_RB x_proj rows per block (1..16);
 * host-only XS_ON (whether decode uses this kernel) and XS_GPC (groups per
 * compute unit over the batch). Local memory: 4·(R + 2N) bytes, an argument.
 */
#ifndef XS_VW
#define XS_VW 8
#endif
#ifndef XS_RB
#define XS_RB 8
#endif

#define XS_CAT_(a, b) a##b
#define XS_CAT(a, b) XS_CAT_(a, b)
#define floatV XS_CAT(float, XS_VW)
#define intV XS_CAT(int, XS_VW)
#define uintV XS_CAT(uint, XS_VW)
#define vloadV XS_CAT(vload, XS_VW)
#define vstoreV XS_CAT(vstore, XS_VW)
#define vload_halfV XS_CAT(vload_half, XS_VW)
#define convert_uintV XS_CAT(convert_uint, XS_VW)
#define as_floatV XS_CAT(as_float, XS_VW)

#define xs_hsum XS_CAT(mcl_hsum, XS_VW) /* prims.cl */

/* The loop of xs_rows and xs_dt: NR independent accumulators acc[k] of rows
 * w + row[k] share each x vector (one row at a time is a chain of dependent
 * FMAs); the dtype is tested once per block, not per vector. */
#define XS_ROWS_LOOP(NR, LOADW)                                                                      \
    for (; i + XS_VW <= n; i += XS_VW) {                                                             \
        floatV xv = vloadV(0, x + i);                                                                \
        for (int k = 0; k < (NR); k++) acc[k] = fma(LOADW, xv, acc[k]);                              \
    }
#define XS_ROWS_DTYPES(NR)                                                                           \
    if (dt == MCL_DTYPE_F16) {                                                                       \
        XS_ROWS_LOOP(NR, vload_halfV(0, (const __global half *)w + row[k] + i))                      \
    } else if (dt == MCL_DTYPE_BF16) {                                                               \
        XS_ROWS_LOOP(NR, as_floatV(convert_uintV(vloadV(0, (const __global ushort *)w + row[k] + i)) << 16)) \
    } else {                                                                                         \
        XS_ROWS_LOOP(NR, vloadV(0, (const __global float *)w + row[k] + i))                          \
    }
/* out[j0 + k] = W_x[j0 + k] . x for k < XS_RB (rows past nx computed on
 * row nx - 1, not stored). */
inline void xs_rows(const __global void *w, int dt, const __global float *x, int n, int nx, int j0,
                    __local float *out)
{
    floatV acc[XS_RB];
    size_t row[XS_RB];
    for (int k = 0; k < XS_RB; k++) {
        acc[k] = (floatV)(0.0f);
        row[k] = (size_t)min(j0 + k, nx - 1) * (size_t)n;
    }
    int i = 0;
    XS_ROWS_DTYPES(XS_RB)
    float s[XS_RB];
    for (int k = 0; k < XS_RB; k++) s[k] = xs_hsum(acc[k]);
    for (; i < n; i++)
        for (int k = 0; k < XS_RB; k++) s[k] = fma(mcl_load_w(w, row[k] + i, dt), x[i], s[k]);
    for (int k = 0; k < XS_RB && j0 + k < nx; k++) out[j0 + k] = s[k];
}

/* t[k] = W_dt[min(d0 + k, dlast)] . x[0, n) for k < XS_VW, x (the dbc row's
 * first R values) in local memory: the XS_VW channels' dot products side by
 * side, as xs_rows. */
inline void xs_dt(const __global void *w, int dt, const __local float *x, int n, int d0, int dlast,
                  float t[XS_VW])
{
    floatV acc[XS_VW];
    size_t row[XS_VW];
    for (int k = 0; k < XS_VW; k++) {
        acc[k] = (floatV)(0.0f);
        row[k] = (size_t)min(d0 + k, dlast) * (size_t)n;
    }
    int i = 0;
    XS_ROWS_DTYPES(XS_VW)
    for (int k = 0; k < XS_VW; k++) t[k] = xs_hsum(acc[k]);
    for (; i < n; i++)
        for (int k = 0; k < XS_VW; k++) t[k] = fma(mcl_load_w(w, row[k] + i, dt), x[i], t[k]);
}

/* One channel's state update and output; returns C . s_new. */
inline float xs_states(__global float *restrict s, const __global float *restrict a, const __local float *bc,
                       int N, float delta, float dx)
{
    floatV acc = (floatV)(0.0f);
    int n = 0;
    for (; n + XS_VW <= N; n += XS_VW) {
        floatV v = fma(exp(delta * vloadV(0, a + n)), vloadV(0, s + n), dx * vloadV(0, bc + n));
        vstoreV(v, 0, s + n);
        acc = fma(vloadV(0, bc + N + n), v, acc);
    }
    float y = xs_hsum(acc);
    for (; n < N; n++) {
        float v = fma(exp(delta * a[n]), s[n], dx * bc[n]);
        s[n] = v;
        y = fma(bc[N + n], v, y);
    }
    return y;
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void xstep(__global const float *restrict xc,   // [B, d_inner]
           __global const void *restrict w_x,   // [R+2N, d_inner] in xdtype
           int xdtype,
           __global const float *restrict xz,   // z at xz[z_off + b*z_ld + d]
           ulong z_off, int z_ld,
           __global const void *restrict w_dt,  // [d_inner, R] in wdtype
           int wdtype,
           __global const float *restrict b_dt, // [d_inner]
           __global const float *restrict A,    // [d_inner, N]
           __global const float *restrict D,    // [d_inner]
           __global float *restrict ssm_state,  // pool, see contracts
           ulong state_off,
           __global const int *restrict slot,   // [B]
           ulong slot_stride,
           int d_inner, int R, int N,
           int chunk,                           // channels per group, a multiple of XS_VW
           __global float *restrict y,          // [B, d_inner]
           __local float *dbc_l)                // [R+2N]
{
    const int g = (int)get_group_id(0), b = (int)get_group_id(1), nx = R + 2 * N;
    const __global float *x = xc + (size_t)b * d_inner;
    for (int j = 0; j < nx; j += XS_RB) xs_rows(w_x, xdtype, x, d_inner, nx, j, dbc_l);

    const int c0 = g * chunk, c1 = min(c0 + chunk, d_inner);
    __global float *st = ssm_state + state_off + (ulong)slot[b] * slot_stride;
    for (int d0 = c0; d0 < c1; d0 += XS_VW) {
        float t[XS_VW], g[XS_VW];
        xs_dt(w_dt, wdtype, dbc_l, R, d0, c1 - 1, t);
        for (int k = 0; k < XS_VW; k++) {
            const int d = min(d0 + k, c1 - 1);
            t[k] = b_dt[d] + t[k];
            g[k] = xz[z_off + (size_t)b * (size_t)z_ld + d];
        }
        const floatV raw = vloadV(0, t), z = vloadV(0, g);
        vstoreV(select(log1p(exp(raw)), raw, raw > 20.0f), 0, t); /* mcl_softplus */
        vstoreV(z / (1.0f + exp(-z)), 0, g);                      /* mcl_silu */
        for (int k = 0; k < XS_VW && d0 + k < c1; k++) {
            const int d = d0 + k;
            const float xv = x[d], acc = xs_states(st + (size_t)d * N, A + (size_t)d * N, dbc_l + R, N, t[k],
                                                   t[k] * xv);
            y[(size_t)b * d_inner + d] = fma(D[d], xv, acc) * g[k];
        }
    }
}
