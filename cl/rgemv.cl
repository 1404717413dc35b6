/* rgemv.cl: the batch-1 decode GEMVs for GPUs, streaming W at the read
 * bandwidth: y[o] = sum_i W[o, i] * x[i] (+ y[o] when accumulate), W [O, I]
 * in F32, F16 or BF16, x [I] and y [O] fp32. The contracts of gemv.cl's
 * gemv_1 and gemv_in_1 (the same arguments, bound by the same host code):
 *   rgemv_<dt>     plain or accumulating (out_proj: the residual add h += W.y);
 *   rgemv_in_<dt>  x = RMSNorm(x) * nw, and for the first n_conv rows the
 *                  causal conv step of decode on the fresh value (in_proj;
 *                  n_conv = 0: the LM head with the final norm);
 * <dt> = f32, f16, bf16: the weight dtype is a compile-time constant of each
 * kernel (one load form, no dtype branch in the loop); the wdtype argument
 * is ignored (the host picks the kernel by it).
 *
 * Algorithm. A work-group of RG_WG work-items is RG_WG / RG_LPR row teams of
 * RG_LPR lanes (on GPUs one warp/wavefront each). The group first issues the
 * loads of its teams' first chunk of weights, then stages x into local
 * memory (times nw with the norm, whose x . x is summed by the group while
 * those loads are in flight), then walks its rows grid-stride: team t of
 * group g owns rows g * teams + t + k * (groups * teams), k = 0, 1, ...
 * (every team of a group takes the same number of steps; rows past O are
 * loaded from row O-1 and not written, so barriers stay uniform). A row is
 * streamed in chunks of RG_LPR * RG_NL 16-byte vectors (8 halves or 4
 * floats): lane l holds the vectors l, l + LPR, ... of the chunk, RG_NL
 * loads issued together before their FMAs; with RG_PF the loads of the
 * team's next chunk (the next row's first chunk at a row's end) are issued
 * before the current chunk's FMAs, so a team always has a chunk in flight.
 * x comes from local memory (16-bit weights: the 8 x values of vector v as
 * two float4 planes, x[8v..8v+3] at v and x[8v+4..8v+7] at NV + v, so the
 * lanes' float4 reads do not conflict). A lane's partial sum (vectors in
 * order, then the I % 8 (4) tail elements lane, lane + LPR, ...) is summed
 * over the team by butterfly shuffles where MCL_CAP_PTX (prims.cl
 * mcl_sg_add), else by a tree in local memory; lane 0 writes the row.
 * The sums run in another order than gemv.cl's (fp32 rounding differs,
 * within the tests' tolerances of the C reference); for one shape and
 * configuration the result is deterministic.
 * Traffic per element of W: 2 (F16/BF16) or 4 (F32) bytes read once; x
 * (and nw) 4 bytes per element once per work-group (L2), then local memory;
 * y 4 bytes written (+4 read with accumulate) per row; the conv rows add the
 * conv state 2 * 4 * (K-1), conv weights 4 * K and xc 4 bytes per channel.
 * Tunables (src/tune/tune_rgemv.c): RG_WG work-group size, RG_LPR lanes per
 * row (powers of two, LPR <= WG), RG_NL 16-byte loads per lane and chunk,
 * RG_PF next chunk in flight (0/1), RG_F16 the F16 conversion (0 vload_half8
 * from registers, 1 prims.cl mcl_half8_to_float8, 2 half8 with
 * cl_khr_fp16); host-only RG_ON (the dispatch), RG_GPC (groups per compute
 * unit; 0: one row per team, no grid stride).
 * Local memory: 4 * (round_up(I, 4) + RG_WG) bytes (x, then the reduction
 * scratch), reserved by the host (mcl_kern_rgemv_local_bytes), as a
 * `__local float4 *` argument: its float4 reads need 16-byte alignment,
 * which a `__local float *` argument does not get on NVIDIA's OpenCL (H200,
 * 2026-12-02: with `__local float *` every launch failed, CL_OUT_OF_RESOURCES
 * at the next wait; with `__local float4 *`, the only change, the tests pass;
 * ssm_step.cl's lm4 does the same).
 */
#ifndef RG_WG
#define RG_WG 128
#endif
#ifndef RG_LPR
#define RG_LPR 32
#endif
#ifndef RG_NL
#define RG_NL 8
#endif
#ifndef RG_PF
#define RG_PF 1
#endif
#ifndef RG_F16
#define RG_F16 1
#endif
#define RG_TEAMS (RG_WG / RG_LPR)
/* shuffles sum a team in registers (the group's x . x: prims.cl's mcl_local_group_sum, which
 * takes shuffles by its own rule) */
#if MCL_SG_ADD_MAX > 1 && RG_LPR <= MCL_SG_ADD_MAX && RG_WG % MCL_SG_ADD_MAX == 0
#define RG_SHFL 1
#else
#define RG_SHFL 0
#endif

#if RG_F16 == 2
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
#endif

/* Elements per 16-byte vector of a dtype. */
#define RG_VE(dt) ((dt) == MCL_DTYPE_F32 ? 4 : 8)

/* 8 halves packed in u as floats (RG_F16 picks how). */
inline float8 rg_half8(uint4 u)
{
#if RG_F16 == 0
    return vload_half8(0, (__private const half *)&u);
#elif RG_F16 == 1
    return mcl_half8_to_float8(u);
#else
    return convert_float8(as_half8(u));
#endif
}

/* The 16 bytes of vector v of row (16-byte aligned rows: one load). */
inline uint4 rg_load(__global const void *row, int v, int dt, int aligned)
{
    if (aligned) return ((__global const uint4 *)row)[v];
    if (dt == MCL_DTYPE_F32) return as_uint4(vload4(v, (__global const float *)row));
    return as_uint4(vload8(v, (__global const ushort *)row));
}

/* w vector u (dtype dt) . the staged x of vector v (NV vectors in all). */
inline float rg_dot(uint4 u, __local const float4 *xs4, int v, int NV, int dt)
{
    if (dt == MCL_DTYPE_F32) return dot(as_float4(u), xs4[v]);
    float8 w = dt == MCL_DTYPE_F16 ? rg_half8(u) : mcl_bf16x8_to_float8(u);
    return dot(w.lo, xs4[v]) + dot(w.hi, xs4[NV + v]);
}

/* Local-memory position of x element i (the planes of rg_dot; the tail
 * elements past VE * NV at their own index). */
inline int rg_pos(int i, int NV, int dt)
{
    if (dt == MCL_DTYPE_F32 || i >= 8 * NV) return i;
    int v = i >> 3, e = i & 7;
    return e < 4 ? 4 * v + e : 4 * (NV + v) + e - 4;
}

/* The sum of v over the team of RG_LPR lanes (valid in lane 0; all lanes
 * with shuffles). Called by every work-item of the group. */
inline float rg_team_sum(float v, __local float *red)
{
#if RG_SHFL
    (void)red;
    return mcl_sg_add(v, RG_LPR);
#else
    return mcl_local_team_sum(red, v, RG_LPR);
#endif
}

/* Issues this lane's loads of chunk c of row o (vectors past NV: zero). */
inline void rg_issue(uint4 *buf, __global const void *W, int o, int c, int I, int NV, int lane, int dt,
                     int aligned)
{
    __global const void *row = dt == MCL_DTYPE_F32 ? (__global const void *)((__global const float *)W + (size_t)o * I)
                                                   : (__global const void *)((__global const ushort *)W + (size_t)o * I);
    int v0 = c * (RG_LPR * RG_NL) + lane;
#pragma unroll
    for (int j = 0; j < RG_NL; j++) {
        int v = v0 + j * RG_LPR;
        buf[j] = v < NV ? rg_load(row, v, dt, aligned) : (uint4)(0u);
    }
}

/* The FMAs of a chunk issued by rg_issue. */
inline float rg_chunk(const uint4 *buf, __local const float4 *xs4, int c, int NV, int lane, int dt)
{
    int v0 = c * (RG_LPR * RG_NL) + lane;
    float acc = 0.0f;
#pragma unroll
    for (int j = 0; j < RG_NL; j++) {
        int v = v0 + j * RG_LPR;
        if (v < NV) acc += rg_dot(buf[j], xs4, v, NV, dt);
    }
    return acc;
}

/* The whole kernel for one dtype dt and alignment (constants after
 * inlining). */
inline void rg_run(__global const void *W, __global const float *x, __global float *y, int O, int I,
                   int accumulate, __global const float *nw, float eps, int norm, const mcl_conv_args *cv,
                   __local float4 *lmem4, int dt, int aligned)
{
    int lid = get_local_id(0), lane = lid % RG_LPR, team = lid / RG_LPR;
    int NV = I / RG_VE(dt), nch = max(1, (NV + RG_LPR * RG_NL - 1) / (RG_LPR * RG_NL));
    int stride = get_num_groups(0) * RG_TEAMS, first = get_group_id(0) * RG_TEAMS;
    int nit = first < O ? (O - first + stride - 1) / stride : 0; /* uniform in the group */
    __local float *xs = (__local float *)lmem4, *red = xs + ((I + 3) & ~3);
    __local const float4 *xs4 = lmem4;
    uint4 cur[RG_NL], nxt[RG_NL];
    int o = min(first + team, O - 1);
    if (nit > 0) rg_issue(cur, W, o, 0, I, NV, lane, dt, aligned); /* in flight during the staging */
    float ss = 0.0f;
    for (int i = lid; i < I; i += RG_WG) {
        float xi = x[i];
        if (norm) {
            ss = mad(xi, xi, ss);
            xi *= nw[i];
        }
        xs[rg_pos(i, NV, dt)] = xi;
    }
    float scale = norm ? rsqrt(mcl_local_group_sum(red, ss, RG_WG) / (float)I + eps) : 1.0f; /* its barriers publish xs */
    if (!norm) barrier(CLK_LOCAL_MEM_FENCE);
    /* rows k = 0 .. nit-1 of this team (nit uniform in the group: the team
     * sum's barriers are in no branch), chunks c of a row without barriers.
     * One flat loop over (row, chunk) with the team sum in a branch of it
     * (uniform, but not provably so) was miscompiled by PoCL 3.1: every lane
     * wrote the row, and with the lane recomputed, a crash. */
    for (int k = 0; k < nit; k++) {
        int row = first + team + k * stride;
        float acc = 0.0f;
        for (int c = 0; c < nch; c++) {
            int last = c + 1 == nch, c1 = last ? 0 : c + 1, row1 = last ? row + stride : row;
#if RG_PF
            if (!last || k + 1 < nit) rg_issue(nxt, W, min(row1, O - 1), c1, I, NV, lane, dt, aligned);
#else
            if (k > 0 || c > 0) rg_issue(cur, W, min(row, O - 1), c, I, NV, lane, dt, aligned);
#endif
            acc += rg_chunk(cur, xs4, c, NV, lane, dt);
#if RG_PF
#pragma unroll
            for (int j = 0; j < RG_NL; j++) cur[j] = nxt[j];
#endif
        }
        o = min(row, O - 1);
        __global const void *wrow = dt == MCL_DTYPE_F32 ? (__global const void *)((__global const float *)W + (size_t)o * I)
                                                        : (__global const void *)((__global const ushort *)W + (size_t)o * I);
        for (int i = NV * RG_VE(dt) + lane; i < I; i += RG_LPR) acc = mad(mcl_load_w(wrow, i, dt), xs[i], acc);
        float s = rg_team_sum(acc, red) * scale;
        if (lane == 0 && row < O) {
            y[row] = accumulate ? y[row] + s : s;
            if (cv && row < cv->n_conv) mcl_conv_write(cv, 0, row, s);
        }
    }
}

/* rg_run with the row alignment as a constant (one load form per loop). */
inline void rg_body(__global const void *W, __global const float *x, __global float *y, int O, int I,
                    int accumulate, __global const float *nw, float eps, int norm, const mcl_conv_args *cv,
                    __local float4 *lmem4, int dt)
{
    if (I % RG_VE(dt) == 0) rg_run(W, x, y, O, I, accumulate, nw, eps, norm, cv, lmem4, dt, 1);
    else rg_run(W, x, y, O, I, accumulate, nw, eps, norm, cv, lmem4, dt, 0);
}

/* The two kernels of one dtype; the arguments of gemv_1 and gemv_in_1
 * (B must be 1; wdtype unused). No variadic macros: OpenCL C has none. */
#define RG_KERNELS(sfx, DT)                                                                                        \
    __kernel __attribute__((reqd_work_group_size(RG_WG, 1, 1))) void rgemv_##sfx(                                \
        __global const void *W, int wdtype, __global const float *x, __global float *y, int O, int I, int B,     \
        int accumulate, __local float4 *lmem4)                                                                      \
    {                                                                                                             \
        rg_body(W, x, y, O, I, accumulate, x, 0.0f, 0, 0, lmem4, DT);                                             \
    }                                                                                                             \
    __kernel __attribute__((reqd_work_group_size(RG_WG, 1, 1))) void rgemv_in_##sfx(                             \
        __global const void *W, int wdtype, __global const float *x, __global float *y, int O, int I, int B,     \
        __global const float *nw, float eps, MCL_CONV_PARAMS, __local float4 *lmem4)                               \
    {                                                                                                             \
        mcl_conv_args cv = MCL_CONV_ARGS_INIT;                                                                    \
        rg_body(W, x, y, O, I, 0, nw, eps, 1, n_conv > 0 ? &cv : 0, lmem4, DT);                                   \
    }

RG_KERNELS(f32, MCL_DTYPE_F32)
RG_KERNELS(f16, MCL_DTYPE_F16)
RG_KERNELS(bf16, MCL_DTYPE_BF16)
