/* gemv.cl: y[b, o] = sum_i W[o, i] * x[b, i] (+ y[b, o] when accumulate), the
 * decode projections and the LM head. W [O, I] in F32, F16 or BF16 (runtime
 * wdtype), x [B, I] and y [B, O] fp32.
 *
 * Algorithm: a work-group of GEMV_WG work-items owns GEMV_ROWS =
 *   (GEMV_WG / GEMV_LPR) * GEMV_RPL consecutive rows and a tile of up to
 *   GEMV_BT batch rows (grid dimension 1 walks the tiles). Its items form
 *   GEMV_WG / GEMV_LPR row teams of GEMV_LPR lanes; a team owns GEMV_RPL rows.
 *   Lane l strides over I in vectors of 8 elements (v = l, l + LPR, ...): it
 *   loads 8 weights of each of its RPL rows (16 bytes for F16/BF16, 32 for
 *   F32: half8 / uint4 / float8 when I % 8 == 0, else vload_half8 / vload8),
 *   then for each batch row of the tile loads 8 x values once and reuses them
 *   for all its RPL rows, so every weight read from memory serves the whole
 *   batch tile. The I % 8 tail is done element by element. The RPL * BT
 *   partial sums of every lane go to local memory and a tree over the LPR
 *   lanes of each team (log2(LPR) barriers) gives the results, which lanes
 *   write in parallel.
 * Traffic per element of W: 2 (F16/BF16) or 4 (F32) bytes read once per batch
 *   tile (ceil(B / GEMV_BT) times in all); x is re-read from cache by every
 *   team (4 * B * I bytes per team, L1/L2 hits); y: 4 bytes written (+4 read
 *   with accumulate) per (b, o).
 * Tunables (src/tune_kern.c derives defaults and declares the tuner's space):
 *   GEMV_WG  work-group size (power of two, <= device max);
 *   GEMV_LPR lanes per row team (power of two dividing GEMV_WG; the SIMD width
 *            on GPUs so a team is one warp/wavefront);
 *   GEMV_RPL rows per team (x reuse across rows);
 *   GEMV_BT  batch rows per tile held in registers;
 *   local memory used: 4 * GEMV_RPL * GEMV_BT * GEMV_WG bytes.
 *   The main loop is unrolled by hand 4 times (4 vector loads per row issued
 *   before their FMAs) so each lane keeps several loads in flight when few
 *   groups cover long rows.
 */
#ifndef GEMV_WG
#define GEMV_WG 64
#endif
#ifndef GEMV_LPR
#define GEMV_LPR 8
#endif
#ifndef GEMV_RPL
#define GEMV_RPL 1
#endif
#ifndef GEMV_BT
#define GEMV_BT 4
#endif
#define GEMV_TEAMS (GEMV_WG / GEMV_LPR)
#define GEMV_ROWS (GEMV_TEAMS * GEMV_RPL)
#define GEMV_NV (GEMV_RPL * GEMV_BT)

#if MCL_HAS_FP16
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
#endif

/* 8 halves (in 4 uints) to floats by bit manipulation: the magnitude bits
 * shifted into an fp32 and rescaled by 2^112 give normals, subnormals and
 * zeros exactly; exponent 31 (inf/NaN) is patched to fp32's 255. Used for
 * aligned F16 rows on devices without cl_khr_fp16, where vload_half8 must
 * assume 2-byte alignment and becomes 8 narrow loads. */
inline float8 gemv_half8_bits(uint4 u)
{
    uint8 h = (uint8)(u.s0 & 0xffffu, u.s0 >> 16, u.s1 & 0xffffu, u.s1 >> 16, u.s2 & 0xffffu, u.s2 >> 16,
                      u.s3 & 0xffffu, u.s3 >> 16);
    uint8 mag = (h & 0x7fffu) << 13;
    float8 f = as_float8(mag) * 0x1.0p112f;
    uint8 bits = as_uint8(f) | ((h & 0x8000u) << 16);
    bits = select(bits, ((h & 0x8000u) << 16) | 0x7f800000u | ((h & 0x3ffu) << 13), (h & 0x7c00u) == 0x7c00u);
    return as_float8(bits);
}

/* 8 consecutive weights starting at element 8*v of `row`. `aligned` (uniform)
 * says the row starts on a 16-byte (16-bit dtypes) or 32-byte (F32) boundary. */
inline float8 gemv_load8(__global const void *row, int v, int dtype, int aligned)
{
    if (dtype == MCL_DTYPE_F16) {
#if MCL_HAS_FP16
        if (aligned) return convert_float8(((__global const half8 *)row)[v]);
#else
        if (aligned) return gemv_half8_bits(((__global const uint4 *)row)[v]);
#endif
        return vload_half8(v, (__global const half *)row);
    }
    if (dtype == MCL_DTYPE_BF16) {
        uint4 u = aligned ? ((__global const uint4 *)row)[v]
                          : as_uint4(vload8(v, (__global const ushort *)row));
        uint4 lo = u << 16, hi = u & (uint4)0xffff0000u;
        return as_float8((uint8)(lo.s0, hi.s0, lo.s1, hi.s1, lo.s2, hi.s2, lo.s3, hi.s3));
    }
    if (aligned) return ((__global const float8 *)row)[v];
    return vload8(v, (__global const float *)row);
}

inline float gemv_dot8(float8 a, float8 b) { return dot(a.lo, b.lo) + dot(a.hi, b.hi); }

/* Address of row o of W (elements of the dtype's size). */
inline __global const void *gemv_row(__global const void *W, int o, int I, int dtype)
{
    size_t off = (size_t)o * (size_t)I;
    if (dtype == MCL_DTYPE_F32) return (__global const float *)W + off;
    return (__global const ushort *)W + off;
}

/* x vector v of a row: two 16-byte loads when the row is 32-byte aligned
 * (vload8 may only assume 4 bytes and can become 8 narrow loads). */
inline float8 gemv_x8(__global const float *xrow, int v, int aligned)
{
    if (aligned) {
        __global const float4 *p = (__global const float4 *)xrow;
        return (float8)(p[2 * v], p[2 * v + 1]);
    }
    return vload8(v, xrow);
}

/* acc[r][bb] += W vector v of row r . x vector v of batch row bb (bb < nb). */
inline void gemv_fma(float acc[GEMV_RPL][GEMV_BT], const float8 *wv, __global const float *xt,
                     int v, int I, int nb, int aligned)
{
    for (int bb = 0; bb < GEMV_BT; bb++) {
        if (bb < nb) {
            float8 xv = gemv_x8(xt + (size_t)bb * I, v, aligned);
            for (int r = 0; r < GEMV_RPL; r++) acc[r][bb] += gemv_dot8(wv[r], xv);
        }
    }
}

__kernel __attribute__((reqd_work_group_size(GEMV_WG, 1, 1)))
void gemv(__global const void *W, int wdtype, __global const float *x, __global float *y,
          int O, int I, int B, int accumulate)
{
    __local float red[GEMV_NV][GEMV_WG];
    int lid = get_local_id(0), lane = lid % GEMV_LPR, team = lid / GEMV_LPR;
    int row0 = get_group_id(0) * GEMV_ROWS + team * GEMV_RPL;
    int b0 = get_group_id(1) * GEMV_BT, nb = min(GEMV_BT, B - b0);
    int nv = I / 8, aligned = (I % 8) == 0;
    float acc[GEMV_RPL][GEMV_BT];
    __global const void *rowp[GEMV_RPL];
    for (int r = 0; r < GEMV_RPL; r++) {
        rowp[r] = gemv_row(W, min(row0 + r, O - 1), I, wdtype); /* rows past O: computed, not written */
        for (int bb = 0; bb < GEMV_BT; bb++) acc[r][bb] = 0.0f;
    }
    __global const float *xt = x + (size_t)b0 * I;
    int v = lane;
    for (; v + 3 * GEMV_LPR < nv; v += 4 * GEMV_LPR) { /* 4 vectors per row in flight */
        float8 w4[4][GEMV_RPL];
        for (int u = 0; u < 4; u++)
            for (int r = 0; r < GEMV_RPL; r++)
                w4[u][r] = gemv_load8(rowp[r], v + u * GEMV_LPR, wdtype, aligned);
        for (int u = 0; u < 4; u++) gemv_fma(acc, w4[u], xt, v + u * GEMV_LPR, I, nb, aligned);
    }
    for (; v < nv; v += GEMV_LPR) {
        float8 wv[GEMV_RPL];
        for (int r = 0; r < GEMV_RPL; r++) wv[r] = gemv_load8(rowp[r], v, wdtype, aligned);
        gemv_fma(acc, wv, xt, v, I, nb, aligned);
    }
    for (int i = nv * 8 + lane; i < I; i += GEMV_LPR) {
        for (int r = 0; r < GEMV_RPL; r++) {
            float wi = mcl_load_w(rowp[r], i, wdtype);
            for (int bb = 0; bb < GEMV_BT; bb++)
                if (bb < nb) acc[r][bb] = mad(wi, xt[(size_t)bb * I + i], acc[r][bb]);
        }
    }
    for (int r = 0; r < GEMV_RPL; r++)
        for (int bb = 0; bb < GEMV_BT; bb++) red[r * GEMV_BT + bb][lid] = acc[r][bb];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = GEMV_LPR / 2; s > 0; s >>= 1) {
        if (lane < s)
            for (int k = 0; k < GEMV_NV; k++)
                if (k % GEMV_BT < nb) red[k][lid] += red[k][lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int k = lane; k < GEMV_NV; k += GEMV_LPR) {
        int o = row0 + k / GEMV_BT, bb = k % GEMV_BT;
        if (o < O && bb < nb) {
            size_t yi = (size_t)(b0 + bb) * O + o;
            float s = red[k][team * GEMV_LPR];
            y[yi] = accumulate ? y[yi] + s : s;
        }
    }
}
