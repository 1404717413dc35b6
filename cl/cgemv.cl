/* cgemv.cl: the decode projections for CPUs, y[b, o] = W[o] . x[b] in
 * work-groups of ONE work-item with explicit vectors:
 *   cgemv     plain or accumulating (out_proj: the residual add h += W.y);
 *   cgemv_in  x = RMSNorm(x) * nw on the fly, and for the first n_conv rows
 *             the causal conv step of decode on the fresh value (in_proj; the
 *             LM head with the final norm when n_conv = 0): the contract of
 *             gemv.cl's gemv_in.
 * Algorithm. Grid (G, B): group (g, b) owns rows [g*rows, min((g+1)*rows, O))
 * of batch row b, in blocks of CG_RB rows: CG_RB accumulators of CG_VW
 * lanes, one x vector loaded per step and used by the CG_RB rows, the
 * I % CG_VW tail element by element, one horizontal sum per row. cgemv_in
 * first sums x . x over the row (every group; I floats from cache) and
 * scales each result by rsqrt(x.x / I + eps) as gemv.cl does.
 * Why: PoCL runs gemv.cl's work-groups (4 work-items) as loops whose weight
 * vectors go through the stack; on a 2-core Xeon cgemv_in ran the bundled
 * model's 1024 x 256 F16 in_proj in 14.5 us against gemv_in_1's 34 us.
 * The sums run in another order than gemv.cl's (fp32 rounding differs,
 * within the tests' tolerances of the C reference).
 * Traffic per element of W: 2 (F16/BF16) or 4 (F32) bytes, once per batch
 * row (B > 1 re-reads W, from cache); x 4 * I bytes per row block (cache);
 * y 4 bytes written (+4 read with accumulate) per (b, o); cgemv_in's conv
 * rows add the conv state 2 * 4 * (K-1), conv weights 4 * K and xc 4 bytes.
 * Tunables (src/tune/tune_cgemv.c): CG_VW vector width (8 or 16), CG_RB rows
 * per block (1..16); host-only CG_ON (whether decode uses these kernels) and
 * CG_GPC (groups per compute unit).
 */
#ifndef CG_VW
#define CG_VW 16
#endif
#ifndef CG_RB
#define CG_RB 8
#endif

#define CG_CAT_(a, b) a##b
#define CG_CAT(a, b) CG_CAT_(a, b)
#define cg_floatV CG_CAT(float, CG_VW)
#define cg_uintV CG_CAT(uint, CG_VW)
#define cg_vloadV CG_CAT(vload, CG_VW)
#define cg_vload_halfV CG_CAT(vload_half, CG_VW)
#define cg_convert_uintV CG_CAT(convert_uint, CG_VW)
#define cg_as_floatV CG_CAT(as_float, CG_VW)

#define cg_hsum CG_CAT(mcl_hsum, CG_VW) /* prims.cl */

/* CG_VW weights from element e on (any element alignment). */
inline cg_floatV cg_load_wv(const __global void *w, size_t e, int dt)
{
    if (dt == MCL_DTYPE_F16) return cg_vload_halfV(0, (const __global half *)w + e);
    if (dt == MCL_DTYPE_BF16)
        return cg_as_floatV(cg_convert_uintV(cg_vloadV(0, (const __global ushort *)w + e)) << 16);
    return cg_vloadV(0, (const __global float *)w + e);
}

/* s[k] = W[r + k] . (x * nw) for k < CG_RB (rows past O computed on row
 * O - 1, not used); nw NULL: x itself. */
inline void cg_block(const __global void *W, int dt, const __global float *x, const __global float *nw, int O,
                     int I, int r, float s[CG_RB])
{
    cg_floatV acc[CG_RB];
    size_t row[CG_RB];
    for (int k = 0; k < CG_RB; k++) {
        acc[k] = (cg_floatV)(0.0f);
        row[k] = (size_t)min(r + k, O - 1) * (size_t)I;
    }
    int i = 0;
    for (; i + CG_VW <= I; i += CG_VW) {
        cg_floatV xv = cg_vloadV(0, x + i);
        if (nw) xv *= cg_vloadV(0, nw + i);
        for (int k = 0; k < CG_RB; k++) acc[k] = fma(cg_load_wv(W, row[k] + i, dt), xv, acc[k]);
    }
    for (int k = 0; k < CG_RB; k++) s[k] = cg_hsum(acc[k]);
    for (; i < I; i++) {
        float xi = nw ? x[i] * nw[i] : x[i];
        for (int k = 0; k < CG_RB; k++) s[k] = fma(mcl_load_w(W, row[k] + i, dt), xi, s[k]);
    }
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void cgemv(__global const void *W, int wdtype, // [O, I]
           __global const float *x,           // [B, I]
           __global float *y,                 // [B, O]
           int O, int I, int accumulate,
           int rows)                          // rows per group
{
    const int b = (int)get_group_id(1), r0 = (int)get_group_id(0) * rows, r1 = min(r0 + rows, O);
    const __global float *xb = x + (size_t)b * I;
    __global float *yb = y + (size_t)b * O;
    for (int r = r0; r < r1; r += CG_RB) {
        float s[CG_RB];
        cg_block(W, wdtype, xb, 0, O, I, r, s);
        for (int k = 0; k < CG_RB && r + k < r1; k++) yb[r + k] = accumulate ? yb[r + k] + s[k] : s[k];
    }
}

/* y = (RMSNorm(x) * nw) . W^T; rows o < n_conv also run the decode conv step
 * (conv_w [n_conv, K], conv_b [n_conv] when has_bias, the pooled conv state
 * at state_off + slot[b] * slot_stride + o * (K-1); xc [B, n_conv]). */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void cgemv_in(__global const void *W, int wdtype, __global const float *x, __global float *y,
              int O, int I, __global const float *nw, float eps,
              __global const float *conv_w, __global const float *conv_b, int has_bias,
              __global float *conv_state, ulong state_off, __global const int *slot, ulong slot_stride,
              int K, int n_conv, __global float *xc, int rows)
{
    const int b = (int)get_group_id(1), r0 = (int)get_group_id(0) * rows, r1 = min(r0 + rows, O);
    const __global float *xb = x + (size_t)b * I;
    __global float *yb = y + (size_t)b * O;
    cg_floatV sv = (cg_floatV)(0.0f);
    int i = 0;
    for (; i + CG_VW <= I; i += CG_VW) {
        cg_floatV v = cg_vloadV(0, xb + i);
        sv = fma(v, v, sv);
    }
    float ss = cg_hsum(sv);
    for (; i < I; i++) ss = fma(xb[i], xb[i], ss);
    const float scale = rsqrt(ss / (float)I + eps);
    for (int r = r0; r < r1; r += CG_RB) {
        float s[CG_RB];
        cg_block(W, wdtype, xb, nw, O, I, r, s);
        for (int k = 0; k < CG_RB && r + k < r1; k++) {
            const int o = r + k;
            const float v = s[k] * scale;
            yb[o] = v;
            if (o < n_conv) {
                __global float *st = conv_state + state_off + (ulong)slot[b] * slot_stride + (ulong)o * (K - 1);
                xc[(size_t)b * n_conv + o] = mcl_conv_step(conv_w + (size_t)o * K, conv_b + o, has_bias, st, K, v);
            }
        }
    }
}
