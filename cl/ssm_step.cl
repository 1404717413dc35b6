/* ssm_step.cl: selective state update for decode (one token per sequence),
 * the same math as scan_prefill with the state updated in place.
 *
 * Algorithm. A work-group of STEP_WG work-items covers STEP_TEAMS =
 * STEP_WG / STEP_LPC consecutive channels (grid dimension 0) and sb <=
 * STEP_SB consecutive sequences b0.. (grid dimension 1; sb a kernel
 * argument, the host's choice). A team of STEP_LPC lanes owns one channel d
 * for all sb sequences. Lane l of a team:
 *   0. before any wait, issues every load that does not depend on the dbc
 *      row: its W_dt[d, r] for r = l + k*LPC (k < STEP_WR, registers), A[d, n]
 *      for its states n = l + k*LPC (k < STEP_NR), b_dt[d], D[d], and per
 *      sequence x, z and its states s[n] (the chain of dependent latencies
 *      of a batch-1 step is then one memory latency, not four);
 *   1. the group stages the sb dbc rows (each element the sum of its n_parts
 *      partial rows, dbc + p * part_stride, p = 0, 1, ... in order: the
 *      output of gemv_split) once into local memory; one barrier;
 *   2. stage by stage over the group's sequences (each stage for all sb
 *      before the next, so their latencies overlap): partial dt =
 *      Σ_{r ≡ l mod LPC} W_dt[d,r]·δ_b[r]; the team sums (register shuffles
 *      where MCL_SG_ADD_MAX covers STEP_LPC, cl/prims.cl, level by level over
 *      the sequences; else a local tree per sequence) -> Δ = softplus(b_dt[d]
 *      + dt); s[n] = exp(Δ·A[d,n])·s[n] + Δ·B_b[n]·x; partial y +=
 *      C_b[n]·s[n]; team sums; lane 0 writes y = (y + D[d]·x)·SiLU(z).
 * W_dt is thus read once per (channel, group of sb sequences), not once per
 * (channel, sequence), and the dbc rows once per group. Ranks beyond
 * STEP_WR*LPC and states beyond STEP_NR*LPC are handled by loops that read
 * global memory after the barrier (same order of additions).
 * Every (b, d) is computed by the same operations in the same order whatever
 * sb, the group or the batch: a sequence's result does not depend on the
 * others in the batch.
 * With LPC = 1 it is one work-item per channel (the CPU default; nothing is
 * hoisted: STEP_WR 0); with LPC = 16 and N = 16 each lane owns one state.
 * No work-item returns early: every one reaches the barriers (PoCL requires
 * it); teams past d_inner compute on a clamped channel, read no state
 * (another team updates it) and write nothing; sequences past B are skipped
 * by a test uniform in the group.
 * Memory traffic per (b, d): x, z, y 12 B; the state 8·N B (read and write);
 * per (channel, group) the W_dt row w·R B (w = 2 for F16/BF16, 4 for F32;
 * from cache when several groups share it), A row 4·N, b_dt, D 8 B; per group
 * sb·n_parts dbc rows of 4·(R+2N) B (from cache).
 * Tunables (src/tune/tune_scan.c): STEP_WG work-group size, STEP_LPC lanes
 * per channel (power of two dividing STEP_WG), STEP_SB most sequences per
 * group (registers: (STEP_NR + 4) per sequence; the H200 ran 8 slower than
 * 4), STEP_FAST_EXP native_exp for the decay. Local memory: 4·STEP_WG bytes
 * (team tree) plus 4·sb·(R+2N) bytes (the kernel argument dbc_l).
 */
#ifndef STEP_WG
#define STEP_WG 64
#endif
#ifndef STEP_LPC
#define STEP_LPC 1
#endif
#ifndef STEP_SB
#define STEP_SB 1
#endif
#ifndef STEP_FAST_EXP
#define STEP_FAST_EXP 0
#endif
#define STEP_TEAMS (STEP_WG / STEP_LPC)
/* W_dt values a lane keeps in registers (ranks up to 160: every released
 * Mamba-1); none with fewer than 4 lanes per channel (a CPU work-item walks
 * the row from cache after the barrier). */
#define STEP_WR (STEP_LPC >= 4 ? (160 + STEP_LPC - 1) / STEP_LPC : 0)
/* states per lane and sequence kept in registers (N up to 16) */
#define STEP_NR ((16 + STEP_LPC - 1) / STEP_LPC)
#define STEP_WRA (STEP_WR > 0 ? STEP_WR : 1)

/* Teams summed by register shuffles (cl/prims.cl) where the capability is
 * on and whole warps of the work-group call them; else a local tree. */
#if STEP_LPC > 1 && STEP_LPC <= MCL_SG_ADD_MAX && STEP_WG % MCL_SG_ADD_MAX == 0
#define STEP_SHUFFLE 1
#else
#define STEP_SHUFFLE 0
#endif

/* The loop over a group's first nb sequences, unrolled (the arrays stay in
 * registers) with a skip uniform in the group; no barrier inside. */
#define STEP_FOR_SEQ(j) for (int j = 0; j < STEP_SB; j++) if (j < nb)

/* v[j] = its team's sum for j < nb (every work-item calls it). Shuffles:
 * level by level over all sequences (the inline PTX is volatile, so this
 * order is what lets the sequences' shuffles be in flight together; each
 * sum adds in mcl_sg_add's order); else one local tree per sequence. */
inline void step_team_sums(__local float *red, float *v, int nb, int lid, int lane)
{
#if STEP_LPC == 1
    (void)red, (void)v, (void)nb, (void)lid, (void)lane;
#elif STEP_SHUFFLE
    (void)red, (void)lid, (void)lane;
    for (int m = STEP_LPC / 2; m > 0; m >>= 1) {
#pragma unroll
        STEP_FOR_SEQ(j) v[j] += mcl_sg_xor(v[j], (uint)m);
    }
#else
    (void)lid, (void)lane;
    for (int j = 0; j < nb; j++) v[j] = mcl_local_team_sum(red, v[j], STEP_LPC); /* prims.cl */
#endif
}

/* exp of the state decay: native_exp with STEP_FAST_EXP (GPUs' fast unit; within the tests'
 * tolerances), else the correctly rounded-ish exp. */
#if STEP_FAST_EXP
#define STEP_EXP(x) native_exp(x)
#else
#define STEP_EXP(x) exp(x)
#endif

inline void step_body(__global const float *restrict xc, __global const float *restrict dbc, int n_parts,
                      ulong part_stride, __global const float *restrict xz, __global const void *restrict w_dt,
                      int wdtype, __global const float *restrict b_dt, __global const float *restrict A,
                      __global const float *restrict D, __global float *restrict ssm_state, ulong state_off,
                      __global const int *restrict slot, ulong slot_stride, int B, int d_inner, int R, int N,
                      __global float *restrict y, ulong z_off, int z_ld, __local float *dbc_l, int sb,
                      __local float *red)
{
    const int lid = (int)get_local_id(0), lane = lid % STEP_LPC, row = R + 2 * N;
    const int team = (int)get_group_id(0) * STEP_TEAMS + lid / STEP_LPC;
    const bool valid = team < d_inner;
    const int d = valid ? team : d_inner - 1; /* clamped: computed, not written */
    const int b0 = (int)get_group_id(1) * sb, nb = min(sb, B - b0);

    /* 0. the loads that need no dbc row */
    float w[STEP_WRA], a[STEP_NR], xs[STEP_SB], zs[STEP_SB], st[STEP_SB][STEP_NR];
#pragma unroll
    for (int k = 0; k < STEP_WRA; k++) {
        const int r = lane + k * STEP_LPC;
        w[k] = STEP_WR > 0 && r < R ? mcl_load_w(w_dt, (size_t)d * R + r, wdtype) : 0.0f;
    }
#pragma unroll
    for (int k = 0; k < STEP_NR; k++) {
        const int n = lane + k * STEP_LPC;
        a[k] = n < N ? A[(size_t)d * N + n] : 0.0f;
    }
    const float bias = b_dt[d], dd = D[d];
#pragma unroll
    for (int j = 0; j < STEP_SB; j++) {
        const int b = b0 + min(j, nb - 1);
        xs[j] = xc[(size_t)b * d_inner + d];
        zs[j] = xz[z_off + (size_t)b * (size_t)z_ld + d];
        __global const float *s = ssm_state + state_off + (ulong)slot[b] * slot_stride + (ulong)d * N;
#pragma unroll
        for (int k = 0; k < STEP_NR; k++) {
            const int n = lane + k * STEP_LPC;
            st[j][k] = valid && j < nb && n < N ? s[n] : 0.0f;
        }
    }

    /* 1. the group's dbc rows, partials summed in order */
    for (int j = 0; j < nb; j++)
        for (int i = lid; i < row; i += STEP_WG) {
            const size_t at = (size_t)(b0 + j) * row + i;
            float v = dbc[at];
            for (int p = 1; p < n_parts; p++) v += dbc[(size_t)p * part_stride + at];
            dbc_l[j * row + i] = v;
        }
    barrier(CLK_LOCAL_MEM_FENCE);

    /* 2. the sequences' dt partials, their team sums, Δ and the states,
     * the y partials and their sums: each stage over all sequences of the
     * group before the next, so their latencies overlap (j < nb is uniform) */
    float part[STEP_SB], acc[STEP_SB];
#pragma unroll
    STEP_FOR_SEQ(j) {
        __local const float *dl = dbc_l + j * row;
        float v = 0.0f;
#pragma unroll
        for (int k = 0; k < STEP_WRA; k++) {
            const int r = lane + k * STEP_LPC;
            if (STEP_WR > 0 && r < R) v = fma(w[k], dl[r], v);
        }
        for (int r = lane + STEP_WR * STEP_LPC; r < R; r += STEP_LPC)
            v = fma(mcl_load_w(w_dt, (size_t)d * R + r, wdtype), dl[r], v);
        part[j] = v;
    }
    step_team_sums(red, part, nb, lid, lane);
#pragma unroll
    STEP_FOR_SEQ(j) {
        __local const float *dl = dbc_l + j * row;
        const float delta = mcl_softplus(bias + part[j]), dx = delta * xs[j];
        __global float *s = ssm_state + state_off + (ulong)slot[b0 + j] * slot_stride + (ulong)d * N;
        float v = 0.0f;
#pragma unroll
        for (int k = 0; k < STEP_NR; k++) {
            const int n = lane + k * STEP_LPC;
            if (n < N) {
                const float u = fma(STEP_EXP(delta * a[k]), st[j][k], dx * dl[R + n]);
                if (valid) s[n] = u;
                v = fma(dl[R + N + n], u, v);
            }
        }
        for (int n = lane + STEP_NR * STEP_LPC; n < N; n += STEP_LPC) {
            const float old = valid ? s[n] : 0.0f;
            const float u = fma(STEP_EXP(delta * A[(size_t)d * N + n]), old, dx * dl[R + n]);
            if (valid) s[n] = u;
            v = fma(dl[R + N + n], u, v);
        }
        acc[j] = v;
    }
    step_team_sums(red, acc, nb, lid, lane);
#pragma unroll
    STEP_FOR_SEQ(j) {
        if (valid && lane == 0)
            y[(size_t)(b0 + j) * d_inner + d] = fma(dd, xs[j], acc[j]) * mcl_silu(zs[j]);
    }
}

/* The dbc row of sequence b is the sum of n_parts partial rows [n_parts][B, R+2N]
 * at dbc + p * part_stride (n_parts 1: dbc itself). Grid {ceil(d_inner /
 * STEP_TEAMS) * STEP_WG, ceil(B / sb)}, local {STEP_WG, 1}. */
#define STEP_PARAMS                                                                                           \
    __global const float *restrict xc,   /* [B, d_inner] */                                                  \
    __global const float *restrict dbc,  /* [n_parts][B, R+2N] */                                            \
    int n_parts, ulong part_stride,                                                                           \
    __global const float *restrict xz,   /* [B, 2*d_inner], z = cols d_inner.. */                            \
    __global const void *restrict w_dt,  /* [d_inner, R] in wdtype */                                        \
    int wdtype,                                                                                               \
    __global const float *restrict b_dt, /* [d_inner] */                                                     \
    __global const float *restrict A,    /* [d_inner, N] */                                                  \
    __global const float *restrict D,    /* [d_inner] */                                                     \
    __global float *restrict ssm_state,  /* pool, see contracts */                                           \
    ulong state_off, __global const int *restrict slot, /* [B] */                                            \
    ulong slot_stride, int B, int d_inner, int R, int N,                                                      \
    __global float *restrict y,          /* [B, d_inner] */                                                  \
    ulong z_off, int z_ld,               /* z's view (Mamba-1: d_inner, 2*d_inner) */                        \
    __local float *dbc_l,                /* [sb, R+2N] */                                                    \
    int sb
#define STEP_ARGS                                                                                             \
    xc, dbc, n_parts, part_stride, xz, w_dt, wdtype, b_dt, A, D, ssm_state, state_off, slot, slot_stride, B,  \
        d_inner, R, N, y, z_off, z_ld, dbc_l, sb

__kernel __attribute__((reqd_work_group_size(STEP_WG, 1, 1))) void ssm_step(STEP_PARAMS)
{
    __local float red[STEP_WG];
    step_body(STEP_ARGS, red);
}

/* The same kernel under the name of the fused decode's launch (its own
 * entry in profiles). */
__kernel __attribute__((reqd_work_group_size(STEP_WG, 1, 1))) void ssm_step_parts(STEP_PARAMS)
{
    __local float red[STEP_WG];
    step_body(STEP_ARGS, red);
}

/* ---- ssm_step_tile: the same update, one work-item per (channel, sequence) ----
 *
 * For batches of at least STEP_TILE sequences (the host's choice, see
 * kern_scan.c). A group of STEP_TWG work-items covers STEP_TCH = STEP_TWG /
 * STEP_TSQ consecutive channels and sb <= STEP_TSQ * STEP_TJ sequences;
 * work-item (c, l) (l = lid % STEP_TSQ fastest) owns the pairs (channel
 * d0 + c, sequence b0 + l + STEP_TSQ * i), i < STEP_TJ, whole: its dt dot
 * product, one softplus, all N states and y. Nothing is exchanged between
 * work-items after the staging; no shuffles.
 *   0. the group stages its W_dt rows (converted to fp32, 16-byte loads
 *      where R % 8 == 0) and A rows into local memory, and its sb dbc rows
 *      (partials summed in order) as δ | B | C segments padded to multiples
 *      of 4 floats (rows an odd number of float4 apart: the float4 reads of
 *      the 4..8 different rows a warp touches fall in different banks);
 *      before that each work-item issues its x, z and state loads (16-byte
 *      loads where N, the pool offset and the slot stride are multiples of 4);
 *      one barrier;
 *   1. dt = Σ_r W_dt[d, r]·δ[r] in STEP_LPC interleaved partial sums added
 *      in the team-sum order of ssm_step (level m = LPC/2 .. 1: s[l] +=
 *      s[l+m]), the W_dt float4 shared by the work-item's STEP_TJ sequences;
 *   2. Δ, the states and y with the same expressions as ssm_step, y's
 *      partials again in ssm_step's STEP_LPC-way order.
 * So every (b, d) gets bitwise the result ssm_step (the same program's
 * STEP_LPC) gives it, whatever sb, the group or the batch: a batch served by
 * this kernel equals its sequences stepped alone by ssm_step.
 * Memory traffic per (b, d): the state 8·N B (read and write), x, z, y 12
 * B; per (group, channel) the W_dt row w·R B and A row 4·N B (from cache
 * when several groups share it), per group sb·n_parts dbc rows.
 * Local memory (floats, the host's mcl_kern_ssm_step_tile_local):
 * STEP_TCH·(WROW + AROW) + sb·DROW, WROW = odd4(RP), AROW = odd4(N4), DROW
 * = odd4(RP + 2·N4), RP = R rounded up to 4·STEP_TU, N4 = N rounded up to 4,
 * odd4(x): x rounded up to 4, plus 4 when x/4 is even.
 * Tunables: STEP_TWG, STEP_TSQ (sequences side by side per channel), STEP_TJ
 * (sequences per work-item: W_dt reuse vs registers), STEP_TILE (the host's
 * batch threshold, 0: never), STEP_TPRE (the staging's loads all issued
 * before its stores; not measured on a GPU yet, 0 by default), and
 * ssm_step's STEP_LPC and STEP_FAST_EXP.
 */
#ifndef STEP_TWG
#define STEP_TWG 128
#endif
#ifndef STEP_TSQ
#define STEP_TSQ 4
#endif
#ifndef STEP_TJ
#define STEP_TJ 2
#endif
#define STEP_TCH (STEP_TWG / STEP_TSQ)
/* float4 chunks per round of the STEP_LPC partial sums */
#define STEP_TU (STEP_LPC >= 4 ? STEP_LPC / 4 : 1)
/* states per pair kept in registers */
#define STEP_TN 16
/* STEP_TPRE 1: the staging's global loads all issued first (registers: STEP_KW W_dt chunks of 8 up to
 * R 160, STEP_KA A values up to N 16, STEP_KD dbc elements up to rows of 192 floats per work-item),
 * then the local stores; 0: one loop per array, a load and a store per trip */
#ifndef STEP_TPRE
#define STEP_TPRE 0
#endif
#if STEP_TPRE
#define STEP_KW ((STEP_TCH * 20 + STEP_TWG - 1) / STEP_TWG)
#define STEP_KA ((STEP_TCH * 16 + STEP_TWG - 1) / STEP_TWG)
#define STEP_KD ((STEP_TSQ * STEP_TJ * 192 + STEP_TWG - 1) / STEP_TWG)
#else /* the staging loops start at each work-item's first element */
#define STEP_KW 0
#define STEP_KA 0
#define STEP_KD 0
#endif

inline int step_odd4(int x)
{
    x = (x + 3) & ~3;
    return (x / 4) % 2 == 0 ? x + 4 : x;
}

/* ssm_step's team-sum order over STEP_LPC partials (step_team_sums). */
inline float step_tree(float *a)
{
#pragma unroll
    for (int m = STEP_LPC / 2; m > 0; m >>= 1) {
#pragma unroll
        for (int l = 0; l < m; l++) a[l] += a[l + m];
    }
    return a[0];
}

/* Weights i .. i+7 (i a multiple of 8, the array's rows 16-byte aligned). */
inline float8 step_load_w8(const __global void *w, size_t i, int dtype)
{
    if (dtype == MCL_DTYPE_F16) return mcl_half8_to_float8(((const __global uint4 *)w)[i / 8]);
    if (dtype == MCL_DTYPE_BF16) return mcl_bf16x8_to_float8(((const __global uint4 *)w)[i / 8]);
    const __global float4 *f = (const __global float4 *)w + i / 4;
    return (float8)(f[0], f[1]);
}

#define STEP_FOR_TJ(i) for (int i = 0; i < STEP_TJ; i++)

/* Grid {ceil(d_inner / STEP_TCH) * STEP_TWG, ceil(B / sb)}, local {STEP_TWG, 1}. */
__kernel __attribute__((reqd_work_group_size(STEP_TWG, 1, 1))) void ssm_step_tile(
    __global const float *restrict xc, __global const float *restrict dbc, int n_parts, ulong part_stride,
    __global const float *restrict xz, __global const void *restrict w_dt, int wdtype,
    __global const float *restrict b_dt, __global const float *restrict A, __global const float *restrict D,
    __global float *restrict ssm_state, ulong state_off, __global const int *restrict slot, ulong slot_stride,
    int B, int d_inner, int R, int N, __global float *restrict y, ulong z_off, int z_ld,
    __local float4 *lm4, /* STEP_TCH*(WROW+AROW) + sb*DROW floats */
    int sb)
{
    const int lid = (int)get_local_id(0), l = lid % STEP_TSQ, c = lid / STEP_TSQ;
    const int d0 = (int)get_group_id(0) * STEP_TCH, b0 = (int)get_group_id(1) * sb, nb = min(sb, B - b0);
    const int d = min(d0 + c, d_inner - 1), row = R + 2 * N;
    const bool valid = d0 + c < d_inner;
    const int RP = (R + 4 * STEP_TU - 1) / (4 * STEP_TU) * (4 * STEP_TU), N4 = (N + 3) & ~3;
    const int WROW = step_odd4(RP), AROW = step_odd4(N4), DROW = step_odd4(RP + 2 * N4);
    __local float *lm = (__local float *)lm4;
    __local float *wl = lm, *al = lm + STEP_TCH * WROW, *dl = al + STEP_TCH * AROW;
    const bool vec = N % 4 == 0 && state_off % 4 == 0 && slot_stride % 4 == 0;

    /* 0. this work-item's x, z and states (registers), then the staging */
    float xs[STEP_TJ], zs[STEP_TJ], st[STEP_TJ][STEP_TN];
#pragma unroll
    STEP_FOR_TJ(i) {
        const int j = min(l + STEP_TSQ * i, nb - 1), b = b0 + j;
        /* an item past B or d_inner (clamped) reads nothing global: the owner of that
         * state writes it at the end, and the barrier below orders local memory only */
        if (!valid || l + STEP_TSQ * i >= nb) {
            xs[i] = zs[i] = 0.0f;
#pragma unroll
            for (int n = 0; n < STEP_TN; n++) st[i][n] = 0.0f;
            continue;
        }
        xs[i] = xc[(size_t)b * d_inner + d];
        zs[i] = xz[z_off + (size_t)b * (size_t)z_ld + d];
        const ulong at = state_off + (ulong)slot[b] * slot_stride + (ulong)d * N;
        if (vec) {
            __global const float4 *s4 = (__global const float4 *)(ssm_state + at);
#pragma unroll
            for (int q = 0; q < STEP_TN / 4; q++) {
                const float4 v = 4 * q < N ? s4[q] : (float4)(0.0f);
                st[i][4 * q] = v.x, st[i][4 * q + 1] = v.y, st[i][4 * q + 2] = v.z, st[i][4 * q + 3] = v.w;
            }
        } else {
#pragma unroll
            for (int n = 0; n < STEP_TN; n++) st[i][n] = n < N ? ssm_state[at + n] : 0.0f;
        }
    }
    const float bias = b_dt[d], dd = D[d];
    /* the staging into local memory: W_dt rows (16-byte chunks where R % 8 == 0; with STEP_TPRE
     * 16-bit W_dt only), A rows and the dbc rows (parts summed), each zero-padded */
#if STEP_TPRE
    /* STEP_TPRE: the first STEP_KW W_dt chunks, STEP_KA A values and STEP_KD dbc elements per
     * work-item loaded first, all in flight together, then stored; the loops below do the rest
     * (R > 160, N > 16, rows of more than 192 floats; F32 W_dt) */
    {
        const bool wvec = R % 8 == 0 && wdtype != MCL_DTYPE_F32;
        const int r8 = R / 8, nw = wvec ? STEP_TCH * r8 : 0, na = STEP_TCH * N4, nd = nb * row;
        const size_t dbase = (size_t)b0 * row;
        uint4 wv[STEP_KW];
        float av[STEP_KA], dv[STEP_KD];
#pragma unroll
        for (int k = 0; k < STEP_KW; k++) {
            const int e = lid + k * STEP_TWG, cc = e / max(r8, 1), dc = min(d0 + cc, d_inner - 1);
            if (e < nw) wv[k] = ((const __global uint4 *)w_dt)[((size_t)dc * R + 8 * (e % r8)) / 8];
        }
#pragma unroll
        for (int k = 0; k < STEP_KA; k++) {
            const int e = lid + k * STEP_TWG, n = e % N4, dc = min(d0 + e / N4, d_inner - 1);
            if (e < na) av[k] = n < N ? A[(size_t)dc * N + n] : 0.0f;
        }
#pragma unroll
        for (int k = 0; k < STEP_KD; k++) {
            const int e = lid + k * STEP_TWG;
            if (e < nd) dv[k] = dbc[dbase + e];
        }
        for (int p = 1; p < n_parts; p++) {
#pragma unroll
            for (int k = 0; k < STEP_KD; k++) {
                const int e = lid + k * STEP_TWG;
                if (e < nd) dv[k] += dbc[(size_t)p * part_stride + dbase + e];
            }
        }
#pragma unroll
        for (int k = 0; k < STEP_KW; k++) {
            const int e = lid + k * STEP_TWG;
            if (e < nw) {
                const float8 v = wdtype == MCL_DTYPE_F16 ? mcl_half8_to_float8(wv[k]) : mcl_bf16x8_to_float8(wv[k]);
                __local float4 *dst = (__local float4 *)(wl + (e / r8) * WROW + 8 * (e % r8));
                dst[0] = v.lo, dst[1] = v.hi;
            }
        }
#pragma unroll
        for (int k = 0; k < STEP_KA; k++) {
            const int e = lid + k * STEP_TWG;
            if (e < na) al[(e / N4) * AROW + e % N4] = av[k];
        }
#pragma unroll
        for (int k = 0; k < STEP_KD; k++) {
            const int e = lid + k * STEP_TWG, j = e / row, i = e % row;
            if (e < nd) dl[j * DROW + (i < R ? i : i < R + N ? RP + i - R : RP + N4 + i - R - N)] = dv[k];
        }
    }
#endif
    if (R % 8 == 0 && (!STEP_TPRE || wdtype != MCL_DTYPE_F32)) {
        const int r8 = R / 8;
        for (int e = lid + STEP_KW * STEP_TWG; e < STEP_TCH * r8; e += STEP_TWG) {
            const int cc = e / r8, q = e % r8, dc = min(d0 + cc, d_inner - 1);
            const float8 v = step_load_w8(w_dt, (size_t)dc * R + 8 * q, wdtype);
            __local float4 *dst = (__local float4 *)(wl + cc * WROW + 8 * q);
            dst[0] = v.lo, dst[1] = v.hi;
        }
        for (int e = lid; e < STEP_TCH * (RP - R); e += STEP_TWG)
            wl[(e / (RP - R)) * WROW + R + e % (RP - R)] = 0.0f;
    } else {
        for (int e = lid; e < STEP_TCH * RP; e += STEP_TWG) {
            const int cc = e / RP, r = e % RP, dc = min(d0 + cc, d_inner - 1);
            wl[cc * WROW + r] = r < R ? mcl_load_w(w_dt, (size_t)dc * R + r, wdtype) : 0.0f;
        }
    }
    for (int e = lid + STEP_KA * STEP_TWG; e < STEP_TCH * N4; e += STEP_TWG) {
        const int cc = e / N4, n = e % N4, dc = min(d0 + cc, d_inner - 1);
        al[cc * AROW + n] = n < N ? A[(size_t)dc * N + n] : 0.0f;
    }
    for (int j = 0; j < nb; j++) {
        for (int i = lid; i < row; i += STEP_TWG) {
            if (STEP_KD > 0 && j * row + i < STEP_KD * STEP_TWG) continue; /* staged above */
            const size_t at = (size_t)(b0 + j) * row + i;
            float v = dbc[at];
            for (int p = 1; p < n_parts; p++) v += dbc[(size_t)p * part_stride + at];
            dl[j * DROW + (i < R ? i : i < R + N ? RP + i - R : RP + N4 + i - R - N)] = v;
        }
        for (int i = lid; i < RP - R; i += STEP_TWG) dl[j * DROW + R + i] = 0.0f;
        for (int i = lid; i < N4 - N; i += STEP_TWG) {
            dl[j * DROW + RP + N + i] = 0.0f;
            dl[j * DROW + RP + N4 + N + i] = 0.0f;
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    /* 1. dt in ssm_step's order, the W_dt float4 shared by the sequences */
    float acc[STEP_TJ][STEP_LPC];
#pragma unroll
    STEP_FOR_TJ(i) {
#pragma unroll
        for (int k = 0; k < STEP_LPC; k++) acc[i][k] = 0.0f;
    }
    __local const float4 *w4 = (__local const float4 *)(wl + c * WROW);
    for (int r4 = 0; r4 < RP / 4; r4 += STEP_TU) {
#pragma unroll
        for (int u = 0; u < STEP_TU; u++) {
            const float4 w = w4[r4 + u];
#pragma unroll
            STEP_FOR_TJ(i) {
                const int j = min(l + STEP_TSQ * i, nb - 1);
                const float4 x = ((__local const float4 *)(dl + j * DROW))[r4 + u];
                acc[i][(4 * u) % STEP_LPC] = fma(w.x, x.x, acc[i][(4 * u) % STEP_LPC]);
                acc[i][(4 * u + 1) % STEP_LPC] = fma(w.y, x.y, acc[i][(4 * u + 1) % STEP_LPC]);
                acc[i][(4 * u + 2) % STEP_LPC] = fma(w.z, x.z, acc[i][(4 * u + 2) % STEP_LPC]);
                acc[i][(4 * u + 3) % STEP_LPC] = fma(w.w, x.w, acc[i][(4 * u + 3) % STEP_LPC]);
            }
        }
    }

    /* 2. Δ, the states and y */
    __local const float4 *a4 = (__local const float4 *)(al + c * AROW);
#pragma unroll
    STEP_FOR_TJ(i) {
        const int j = l + STEP_TSQ * i;
        if (j < nb) {
            const int b = b0 + j;
            __local const float *drow = dl + j * DROW;
            __local const float4 *B4 = (__local const float4 *)(drow + RP), *C4 = (__local const float4 *)(drow + RP + N4);
            const float delta = mcl_softplus(bias + step_tree(acc[i])), dx = delta * xs[i];
            float p[STEP_LPC];
#pragma unroll
            for (int k = 0; k < STEP_LPC; k++) p[k] = 0.0f;
            float u[STEP_TN];
#pragma unroll
            for (int q = 0; q < STEP_TN / 4; q++) {
                if (4 * q < N) {
                    const float4 a = a4[q], bb = B4[q], cv = C4[q];
                    const float av[4] = {a.x, a.y, a.z, a.w}, bv[4] = {bb.x, bb.y, bb.z, bb.w};
                    const float cw[4] = {cv.x, cv.y, cv.z, cv.w};
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        const int n = 4 * q + e;
                        if (n < N) {
                            u[n] = fma(STEP_EXP(delta * av[e]), st[i][n], dx * bv[e]);
                            p[n % STEP_LPC] = fma(cw[e], u[n], p[n % STEP_LPC]);
                        }
                    }
                }
            }
            const ulong at = state_off + (ulong)slot[b] * slot_stride + (ulong)d * N;
            if (valid) {
                if (vec) {
                    __global float4 *s4 = (__global float4 *)(ssm_state + at);
#pragma unroll
                    for (int q = 0; q < STEP_TN / 4; q++)
                        if (4 * q < N) s4[q] = (float4)(u[4 * q], u[4 * q + 1], u[4 * q + 2], u[4 * q + 3]);
                } else {
#pragma unroll
                    for (int n = 0; n < STEP_TN; n++)
                        if (n < N) ssm_state[at + n] = u[n];
                }
            }
            /* states beyond the registers, STEP_LPC at a time (n0 % LPC fixed); only a valid
             * channel's item: a clamped one (d = d_inner - 1) would read the state its owner
             * writes here, with no barrier between (a race Oclgrind reports) */
            for (int n0 = STEP_TN; valid && n0 < N; n0 += STEP_LPC) {
#pragma unroll
                for (int k = 0; k < STEP_LPC; k++) {
                    const int n = n0 + k;
                    if (n < N) {
                        const float old = ssm_state[at + n];
                        const float v = fma(STEP_EXP(delta * al[c * AROW + n]), old, dx * drow[RP + n]);
                        ssm_state[at + n] = v;
                        p[(STEP_TN + k) % STEP_LPC] = fma(drow[RP + N4 + n], v, p[(STEP_TN + k) % STEP_LPC]);
                    }
                }
            }
            if (valid) y[(size_t)b * d_inner + d] = fma(dd, xs[i], step_tree(p)) * mcl_silu(zs[i]);
        }
    }
}
