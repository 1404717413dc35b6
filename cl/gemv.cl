/* gemv.cl: y[b, o] = sum_i W[o, i] * x[b, i] (+ y[b, o] when accumulate), the
 * decode projections and the LM head. W [O, I] in F32, F16 or BF16 (runtime
 * wdtype), x [B, I] and y [B, O] fp32. Three kernels share one body:
 *   gemv        plain or accumulating (out_proj: the residual add h += W.y);
 *   gemv_in     x = RMSNorm(h) * nw computed on the fly (the team that streams
 *               a row sees all of x, so it also sums x^2: no norm pass), and,
 *               for the first n_conv rows, the causal conv step of decode on
 *               the fresh value (in_proj: its x half feeds the conv, whose
 *               output xc and rolled state are written by the one work-item
 *               that produced that (b, channel)); n_conv = 0 is the LM head
 *               with the final norm;
 *   gemv_split  split-K: grid dimension 2 splits I into n_split ranges of
 *               whole vectors and writes partial sums to y + s * part_stride
 *               (x_proj: few rows, so few teams; the consumer, ssm_step_parts,
 *               adds the partials in a fixed order: deterministic).
 *
 * Algorithm: a work-group of GEMV_WG work-items owns
 *   (GEMV_WG / GEMV_LPR) * GEMV_RPL consecutive rows and a tile of up to
 *   GEMV_BT batch rows (grid dimension 1 walks the tiles). Its items form
 *   GEMV_WG / GEMV_LPR row teams of GEMV_LPR lanes; a team owns GEMV_RPL rows.
 *   Lane l strides over I in vectors of 8 elements (v = l, l + LPR, ...): it
 *   loads 8 weights of each of its RPL rows (16 bytes for F16/BF16, 32 for
 *   F32), then for each batch row of the tile loads 8 x values once and reuses
 *   them for all its RPL rows, so every weight read from memory serves the
 *   whole batch tile. The I % 8 tail is done element by element. The partial
 *   sums of a team are added in registers over groups of GEMV_SGW lanes
 *   (prims.cl mcl_sg_add: warp shuffles where MCL_CAP_PTX; GEMV_SGW 1
 *   without), then the GEMV_LPR / GEMV_SGW group sums of a team through
 *   local memory (a tree, log2 of that many barriers; none when one group
 *   is the team); the lanes write the RPL * BT results in parallel. Rows
 *   past O are computed on row O-1 and not written.
 * Each kernel has a batch-1 twin (gemv_1, gemv_in_1, gemv_split_1) compiled
 *   without the batch tile, so the decode of one sequence gets the registers
 *   (and occupancy) of a one-row body, not those of the tile's.
 * Traffic per element of W: 2 (F16/BF16) or 4 (F32) bytes read once per batch
 *   tile (ceil(B / GEMV_BT) times in all); x is re-read from cache by every
 *   team (4 * B * I bytes per team, L1/L2 hits; gemv_in also reads nw, 4 * I
 *   bytes per team); y: 4 bytes written (+4 read with accumulate) per (b, o);
 *   gemv_in's conv rows add the conv state 2 * 4 * (K-1), conv weights 4 * K
 *   and xc 4 bytes per (b, channel).
 * Tunables (src/tune/tune_kern.c derives defaults and declares the space):
 *   GEMV_WG  work-group size (power of two, <= device max);
 *   GEMV_LPR lanes per row team (power of two dividing GEMV_WG; the SIMD width
 *            on GPUs so a team is one warp/wavefront; 1 on CPUs: a work-item
 *            walks its row contiguously and no reduction is needed);
 *   GEMV_RPL rows per team (x reuse across rows);
 *   GEMV_RPL_IN rows per team of gemv_in_1 (the decode's in_proj and LM
 *            head at batch 1: there a team also loads nw and sums x . x per
 *            vector, work that more rows share);
 *   GEMV_BT  batch rows per tile held in registers;
 *   GEMV_UNR vectors per row loaded before their FMAs (loads in flight; a
 *            lane's last < UNR vectors are loaded together too);
 *   GEMV_VACC 1: float8 accumulators (vector FMAs, one horizontal sum at the
 *            end: what CPUs vectorize), 0: scalar accumulators (GPUs);
 *   GEMV_F16 how aligned F16 vectors are converted: 0 vload_half8 from global
 *            (element alignment; CPUs), 1 one uint4 load + prims.cl
 *            mcl_half8_to_float8 (cvt.f32.f16 where MCL_CAP_PTX, else bit
 *            manipulation; exact for every half), 2 half8 loads (cl_khr_fp16);
 *   local memory used: 4 * (rpl + 1) * btc * GEMV_WG / GEMV_SGW bytes (rpl:
 *   GEMV_RPL_IN for gemv_in_1, else GEMV_RPL)
 *   (btc: GEMV_BT, or 1 for the batch-1 twins), none when GEMV_SGW =
 *   GEMV_LPR (shuffles sum the whole team); the host reserves exactly that
 *   (mcl_kern_gemv_red_bytes), since the reservation limits how many
 *   work-groups a compute unit holds.
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
#ifndef GEMV_RPL_IN
#define GEMV_RPL_IN GEMV_RPL
#endif
#ifndef GEMV_BT
#define GEMV_BT 4
#endif
#ifndef GEMV_UNR
#define GEMV_UNR 4
#endif
#ifndef GEMV_VACC
#define GEMV_VACC 0
#endif
#ifndef GEMV_F16
#define GEMV_F16 1
#endif
#define GEMV_TEAMS (GEMV_WG / GEMV_LPR)
#define GEMV_RPLM (GEMV_RPL > GEMV_RPL_IN ? GEMV_RPL : GEMV_RPL_IN) /* array bound of both */
/* lanes summed in registers (a power of two dividing GEMV_LPR) and the group
 * sums per team left for local memory */
#if MCL_SG_ADD_MAX > 1 && GEMV_WG % MCL_SG_ADD_MAX == 0
#define GEMV_SGW (GEMV_LPR < MCL_SG_ADD_MAX ? GEMV_LPR : MCL_SG_ADD_MAX)
#else
#define GEMV_SGW 1
#endif
#define GEMV_PARTS (GEMV_LPR / GEMV_SGW)
#define GEMV_RED_W (GEMV_WG / GEMV_SGW)

#if GEMV_F16 == 2
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
#endif

#if GEMV_VACC
typedef float8 gemv_acc;
#define GEMV_ZERO ((float8)0.0f)
#define GEMV_UPD(a, w, x) ((a) = mad((w), (x), (a)))
#define GEMV_HSUM(a) (dot((a).lo, (float4)1.0f) + dot((a).hi, (float4)1.0f))
#else
typedef float gemv_acc;
#define GEMV_ZERO 0.0f
#define GEMV_UPD(a, w, x) ((a) += dot((w).lo, (x).lo) + dot((w).hi, (x).hi))
#define GEMV_HSUM(a) (a)
#endif

/* 8 aligned halves at vector v of row. */
inline float8 gemv_f16_aligned(__global const void *row, int v)
{
#if GEMV_F16 == 0
    return vload_half8(v, (__global const half *)row);
#elif GEMV_F16 == 1
    return mcl_half8_to_float8(((__global const uint4 *)row)[v]);
#else
    return convert_float8(((__global const half8 *)row)[v]);
#endif
}

/* 8 consecutive weights starting at element 8*v of `row`. `aligned` (uniform)
 * says the row starts on a 16-byte (16-bit dtypes) or 32-byte (F32) boundary. */
inline float8 gemv_load8(__global const void *row, int v, int dtype, int aligned)
{
    if (dtype == MCL_DTYPE_F16) {
        if (aligned) return gemv_f16_aligned(row, v);
        return vload_half8(v, (__global const half *)row);
    }
    if (dtype == MCL_DTYPE_BF16) {
        uint4 u = aligned ? ((__global const uint4 *)row)[v]
                          : as_uint4(vload8(v, (__global const ushort *)row));
        return mcl_bf16x8_to_float8(u);
    }
    if (aligned) return ((__global const float8 *)row)[v];
    return vload8(v, (__global const float *)row);
}

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

/* acc[r][bb] += W vector v of row r . x vector v of batch row bb (bb < nb);
 * with `norm`, x is multiplied by nw first and ss[bb] += x . x. */
inline void gemv_fma(gemv_acc acc[GEMV_RPLM][GEMV_BT], gemv_acc ss[GEMV_BT], const float8 *wv,
                     __global const float *xt, __global const float *nw, int norm, int v, int I, int nb,
                     int aligned, int btc, int rpl)
{
    float8 nv8 = norm ? gemv_x8(nw, v, aligned) : (float8)1.0f;
    for (int bb = 0; bb < btc; bb++) {
        if (bb < nb) {
            float8 xv = gemv_x8(xt + (size_t)bb * I, v, aligned);
            if (norm) {
                GEMV_UPD(ss[bb], xv, xv);
                xv *= nv8;
            }
            for (int r = 0; r < rpl; r++) GEMV_UPD(acc[r][bb], wv[r], xv);
        }
    }
}

/* The team sums of sacc (and of sss with norm) into every lane of the team:
 * registers over GEMV_SGW lanes, then local memory over the GEMV_PARTS group
 * sums (red[k][lid / GEMV_SGW], k < (RPL + 1) * btc: what the host reserves,
 * mcl_kern_gemv_red_bytes; a tree in a fixed order). Called by every
 * work-item of the group (barriers). */
inline void gemv_team_sum(float sacc[GEMV_RPLM][GEMV_BT], float sss[GEMV_BT], int norm, int nb, int btc,
                          int rpl, __local float (*red)[GEMV_RED_W])
{
#if GEMV_SGW > 1
    for (int bb = 0; bb < btc; bb++) {
        if (norm) sss[bb] = mcl_sg_add(sss[bb], GEMV_SGW);
        for (int r = 0; r < rpl; r++) sacc[r][bb] = mcl_sg_add(sacc[r][bb], GEMV_SGW);
    }
#endif
#if GEMV_PARTS == 1 && MCL_DEVICE_CPU
    /* no local stage; but PoCL runs a kernel without barriers as one loop
     * over the work-items that it vectorizes across them, which measured ~7%
     * slower than with this barrier (gemv_timing 4096 256 1 f16, 2-core Xeon) */
    barrier(CLK_LOCAL_MEM_FENCE);
#endif
#if GEMV_PARTS > 1
    int lid = get_local_id(0), part = (lid % GEMV_LPR) / GEMV_SGW, j = lid / GEMV_SGW, j0 = j - part;
    int first = lid % GEMV_SGW == 0;
    if (first)
        for (int bb = 0; bb < btc; bb++) {
            for (int r = 0; r < rpl; r++) red[r * btc + bb][j] = sacc[r][bb];
            if (norm) red[rpl * btc + bb][j] = sss[bb];
        }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = GEMV_PARTS / 2; s > 0; s >>= 1) {
        if (first && part < s)
            for (int bb = 0; bb < btc; bb++) {
                if (bb >= nb) continue;
                for (int r = 0; r < rpl; r++) red[r * btc + bb][j] += red[r * btc + bb][j + s];
                if (norm) red[rpl * btc + bb][j] += red[rpl * btc + bb][j + s];
            }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int bb = 0; bb < btc; bb++) {
        for (int r = 0; r < rpl; r++) sacc[r][bb] = red[r * btc + bb][j0];
        if (norm) sss[bb] = red[rpl * btc + bb][j0];
    }
#endif
}

/* acc (and ss) += the vectors [v0, v1) of this lane (v = v0 + lane, + LPR,
 * ...) of the team's rows, GEMV_UNR vectors per row loaded before their FMAs.
 * No barrier inside (gemv_accum_as calls it in uniform branches). */
inline void gemv_accum(gemv_acc acc[GEMV_RPLM][GEMV_BT], gemv_acc ss[GEMV_BT], __global const void **rowp,
                       __global const float *xt, __global const float *nw, int norm, int v0, int v1, int lane,
                       int I, int nb, int btc, int rpl, int wdtype, int aligned)
{
    int v = v0 + lane;
    for (; v + (GEMV_UNR - 1) * GEMV_LPR < v1; v += GEMV_UNR * GEMV_LPR) { /* UNR vectors per row in flight */
        float8 wu[GEMV_UNR][GEMV_RPLM];
        for (int u = 0; u < GEMV_UNR; u++)
            for (int r = 0; r < rpl; r++)
                wu[u][r] = gemv_load8(rowp[r], v + u * GEMV_LPR, wdtype, aligned);
        for (int u = 0; u < GEMV_UNR; u++) gemv_fma(acc, ss, wu[u], xt, nw, norm, v + u * GEMV_LPR, I, nb, aligned, btc, rpl);
    }
    if (v < v1) { /* the last < UNR vectors of this lane: loaded together, one memory latency */
        float8 wu[GEMV_UNR - 1 > 0 ? GEMV_UNR - 1 : 1][GEMV_RPLM];
        for (int u = 0; u < GEMV_UNR - 1; u++)
            for (int r = 0; r < rpl; r++)
                wu[u][r] = v + u * GEMV_LPR < v1 ? gemv_load8(rowp[r], v + u * GEMV_LPR, wdtype, aligned) : (float8)0.0f;
        for (int u = 0; u < GEMV_UNR - 1; u++)
            if (v + u * GEMV_LPR < v1) gemv_fma(acc, ss, wu[u], xt, nw, norm, v + u * GEMV_LPR, I, nb, aligned, btc, rpl);
    }
}

/* gemv_accum with the dtype as a constant for gemv_in_1 (norm at batch 1:
 * the decode's in_proj and LM head) when rows start on a vector boundary:
 * three specialised loops after inlining, one taken per launch (uniform), so
 * the loop has one load form (no branch per load). On the H200 (gemv_timing,
 * 2026-12-01, against the one loop in the same call): in_proj 8192 x 2048
 * F16 22.6 -> 20.0 us, BF16 27.3 -> 19.9 us, LM head 50280 x 2048 F16 105.4
 * -> 85.5 us. The other kernels keep one loop with the runtime dtype:
 * specialising them too (the batch tiles) gave in_proj 17.4 us but raised
 * `gemv` from 90 to 198 registers, and some configurations no longer
 * compiled on NVIDIA's OpenCL (CL -9999). */
inline void gemv_accum_as(gemv_acc acc[GEMV_RPLM][GEMV_BT], gemv_acc ss[GEMV_BT], __global const void **rowp,
                          __global const float *xt, __global const float *nw, int norm, int v0, int v1,
                          int lane, int I, int nb, int btc, int rpl, int wdtype)
{
    int aligned = (I % 8) == 0;
#define GEMV_ACCUM_AS(dt) gemv_accum(acc, ss, rowp, xt, nw, norm, v0, v1, lane, I, nb, btc, rpl, dt, aligned)
    if (!(norm && btc == 1 && aligned)) GEMV_ACCUM_AS(wdtype);
    else if (wdtype == MCL_DTYPE_F16) GEMV_ACCUM_AS(MCL_DTYPE_F16);
    else if (wdtype == MCL_DTYPE_BF16) GEMV_ACCUM_AS(MCL_DTYPE_BF16);
    else GEMV_ACCUM_AS(MCL_DTYPE_F32);
#undef GEMV_ACCUM_AS
}

/* The shared body: partial dot products over the vectors [v0, v1) (plus the
 * element tail when `tail`), reduced over each team, written by the lanes. */
inline void gemv_body(__global const void *W, int wdtype, __global const float *x, __global float *y,
                      int O, int I, int B, int accumulate, __global const float *nw, float eps, int norm,
                      const mcl_conv_args *cv, int v0, int v1, int tail, __local float (*red)[GEMV_RED_W],
                      int btc, int rpl)
{
    int lid = get_local_id(0), lane = lid % GEMV_LPR, team = lid / GEMV_LPR;
    int row0 = get_group_id(0) * GEMV_TEAMS * rpl + team * rpl;
    int b0 = get_group_id(1) * GEMV_BT, nb = min(btc, B - b0);
    gemv_acc acc[GEMV_RPLM][GEMV_BT], ss[GEMV_BT];
    __global const void *rowp[GEMV_RPLM];
    for (int bb = 0; bb < btc; bb++) ss[bb] = GEMV_ZERO;
    for (int r = 0; r < rpl; r++) {
        rowp[r] = gemv_row(W, min(row0 + r, O - 1), I, wdtype); /* rows past O: computed, not written */
        for (int bb = 0; bb < btc; bb++) acc[r][bb] = GEMV_ZERO;
    }
    __global const float *xt = x + (size_t)b0 * I;
    gemv_accum_as(acc, ss, rowp, xt, nw, norm, v0, v1, lane, I, nb, btc, rpl, wdtype);
    float sacc[GEMV_RPLM][GEMV_BT], sss[GEMV_BT];
    for (int bb = 0; bb < btc; bb++) {
        sss[bb] = GEMV_HSUM(ss[bb]);
        for (int r = 0; r < rpl; r++) sacc[r][bb] = GEMV_HSUM(acc[r][bb]);
    }
    for (int i = (tail ? (I / 8) * 8 : I) + lane; i < I; i += GEMV_LPR) {
        float nwi = norm ? nw[i] : 1.0f;
        for (int bb = 0; bb < btc; bb++) {
            if (bb >= nb) continue;
            float xi = xt[(size_t)bb * I + i];
            if (norm) sss[bb] = mad(xi, xi, sss[bb]);
            for (int r = 0; r < rpl; r++)
                sacc[r][bb] = mad(mcl_load_w(rowp[r], i, wdtype), xi * nwi, sacc[r][bb]);
        }
    }
    gemv_team_sum(sacc, sss, norm, nb, btc, rpl, red);
    for (int r = 0; r < rpl; r++)
        for (int bb = 0; bb < btc; bb++) {
            int o = row0 + r; /* result (r, bb) is written by lane (r * btc + bb) % LPR */
            if ((r * btc + bb) % GEMV_LPR != lane || o >= O || bb >= nb) continue;
            int b = b0 + bb;
            size_t yi = (size_t)b * O + o;
            float s = sacc[r][bb];
            if (norm) s *= rsqrt(sss[bb] / (float)I + eps);
            y[yi] = accumulate ? y[yi] + s : s;
            if (cv && o < cv->n_conv) mcl_conv_write(cv, b, o, s);
        }
}

/* The reduction buffer red[(rpl + 1) * btc][GEMV_RED_W] comes as a
 * __local kernel argument (red_mem, sized by the host from the same tunables
 * and capabilities: mcl_kern_gemv_red_bytes): a __local array declared in each of the
 * kernels is counted once per kernel by compilers and simulators that size
 * local memory per program (Oclgrind: 3 x 16 KiB refused on a 32 KiB device). */
#define GEMV_RED ((__local float (*)[GEMV_RED_W])red_mem)

/* Each kernel comes twice: `name` for batch tiles of GEMV_BT rows (btc =
 * GEMV_BT) and `name_1` for one batch row (btc = 1: the tile's loops and
 * registers are gone after inlining). No variadic macros: OpenCL C has none. */

__kernel __attribute__((reqd_work_group_size(GEMV_WG, 1, 1)))
void gemv(__global const void *W, int wdtype, __global const float *x, __global float *y,
          int O, int I, int B, int accumulate, __local float *red_mem)
{
    gemv_body(W, wdtype, x, y, O, I, B, accumulate, x, 0.0f, 0, 0, 0, I / 8, 1, GEMV_RED, GEMV_BT, GEMV_RPL);
}

/* gemv for B == 1 (the same arguments). */
__kernel __attribute__((reqd_work_group_size(GEMV_WG, 1, 1)))
void gemv_1(__global const void *W, int wdtype, __global const float *x, __global float *y,
            int O, int I, int B, int accumulate, __local float *red_mem)
{
    gemv_body(W, wdtype, x, y, O, I, 1, accumulate, x, 0.0f, 0, 0, 0, I / 8, 1, GEMV_RED, 1, GEMV_RPL);
}

/* y = (RMSNorm(x) * nw) . W^T; rows o < n_conv also run the decode conv step
 * (conv_w [n_conv, K], conv_b [n_conv] when has_bias, the pooled conv state
 * addressed by state_off + slot[b] * slot_stride + o * (K-1); xc [B, n_conv]).
 * n_conv = 0: no conv (the conv pointers are never read). */
__kernel __attribute__((reqd_work_group_size(GEMV_WG, 1, 1)))
void gemv_in(__global const void *W, int wdtype, __global const float *x, __global float *y,
             int O, int I, int B, __global const float *nw, float eps,
             MCL_CONV_PARAMS, __local float *red_mem)
{
    mcl_conv_args cv = MCL_CONV_ARGS_INIT;
    gemv_body(W, wdtype, x, y, O, I, B, 0, nw, eps, 1, n_conv > 0 ? &cv : 0, 0, I / 8, 1, GEMV_RED, GEMV_BT, GEMV_RPL);
}

/* gemv_in for B == 1 (the same arguments). */
__kernel __attribute__((reqd_work_group_size(GEMV_WG, 1, 1)))
void gemv_in_1(__global const void *W, int wdtype, __global const float *x, __global float *y,
               int O, int I, int B, __global const float *nw, float eps,
               MCL_CONV_PARAMS, __local float *red_mem)
{
    mcl_conv_args cv = MCL_CONV_ARGS_INIT;
    gemv_body(W, wdtype, x, y, O, I, 1, 0, nw, eps, 1, n_conv > 0 ? &cv : 0, 0, I / 8, 1, GEMV_RED, 1, GEMV_RPL_IN);
}

/* Partial y of split s = get_group_id(2) of get_num_groups(2) over the
 * vectors [s * per, (s + 1) * per) of each row (per = ceil((I/8) / n_split));
 * the last split also takes the I % 8 tail. Written to y + s * part_stride. */
inline void gemv_split_body(__global const void *W, int wdtype, __global const float *x, __global float *y,
                            int O, int I, int B, ulong part_stride, __local float *red_mem, int btc)
{
    int s = get_group_id(2), n = get_num_groups(2), nv = I / 8;
    int per = (nv + n - 1) / n, v0 = min(nv, s * per), v1 = min(nv, v0 + per);
    __global float *yp = y + (size_t)s * part_stride;
    gemv_body(W, wdtype, x, yp, O, I, B, 0, x, 0.0f, 0, 0, v0, v1, s == n - 1, GEMV_RED, btc, GEMV_RPL);
}

__kernel __attribute__((reqd_work_group_size(GEMV_WG, 1, 1)))
void gemv_split(__global const void *W, int wdtype, __global const float *x, __global float *y,
                int O, int I, int B, ulong part_stride, __local float *red_mem)
{
    gemv_split_body(W, wdtype, x, y, O, I, B, part_stride, red_mem, GEMV_BT);
}

/* gemv_split for B == 1 (the same arguments). */
__kernel __attribute__((reqd_work_group_size(GEMV_WG, 1, 1)))
void gemv_split_1(__global const void *W, int wdtype, __global const float *x, __global float *y,
                  int O, int I, int B, ulong part_stride, __local float *red_mem)
{
    gemv_split_body(W, wdtype, x, y, O, I, 1, part_stride, red_mem, 1);
}
