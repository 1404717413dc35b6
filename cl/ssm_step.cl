/* ssm_step.cl: selective state update for decode (one token per sequence),
 * the same math as scan_prefill with the state updated in place.
 *
 * Algorithm. A team of STEP_LPC lanes per (sequence b, channel d); a
 * work-group holds STEP_WG / STEP_LPC teams, channel-major so neighbouring
 * teams read neighbouring rows. Lane l of a team:
 *   1. partial dt = Σ_{r ≡ l mod LPC} W_dt[d,r]·delta_b[r]   (coalesced row)
 *   2. sum over the team (register shuffles where MCL_SG_ADD_MAX covers
 *      STEP_LPC, cl/prims.cl; else a local-memory tree) -> Δ = softplus(b_dt[d] + dt)
 *   3. for n ≡ l mod LPC: s[n] = exp(Δ·A[d,n])·s[n] + Δ·B_b[n]·x;
 *      partial y += C_b[n]·s[n]                      (state row coalesced)
 *   4. sum over the team -> lane 0 writes y = (y + D[d]·x)·SiLU(z).
 * With LPC = 1 this is one work-item per channel (the CPU default); with
 * LPC = 16 and N = 16 each lane owns one state, which keeps a batch-1 step
 * of a few thousand channels from running on a few dozen work-groups.
 * No work-item returns early: every one reaches the barriers (PoCL requires
 * it); teams past the end compute on clamped indices, read no state (another
 * team updates it: that read would race with its write) and write nothing.
 * ssm_step_parts is the same with the dbc row given as n_parts partial sums
 * (dbc + p * part_stride, p = 0..n_parts-1, added in that order): the output
 * of gemv_split, so the x_proj of decode needs no reduction launch.
 * Staging (stage = 1, chosen by the host when R+2N floats fit the local
 * memory): when all teams of a work-group belong to one sequence b (uniform
 * test), the group first forms b's dbc row (the n_parts partials summed in
 * the same order) once into local memory, and every team reads it from
 * there: without it each of the d_inner channels re-reads (and re-sums)
 * R+2N values from the caches, which made a batch-1 step of 1.4b cost 16 us
 * per layer. Groups that straddle two sequences read global memory as
 * before (same sums, same order: identical results).
 * Memory traffic per (b, d): x, z, y 12 B; the state 8·N B (read and write);
 * W_dt row 2-4·R B (shared by the batch, from cache), A row 4·N B; per b a
 * dbc row 4·(R+2N) B shared by all channels (from cache; n_parts rows for
 * ssm_step_parts).
 * Tunables (src/tune_scan.c): STEP_WG work-group size, STEP_LPC lanes per
 * channel (power of two dividing STEP_WG). Local memory: 4·STEP_WG bytes
 * plus, when staging, 4·(R+2N) bytes (a kernel argument).
 */
#ifndef STEP_WG
#define STEP_WG 64
#endif
#ifndef STEP_LPC
#define STEP_LPC 1
#endif
#define STEP_TEAMS (STEP_WG / STEP_LPC)

/* Teams summed by register shuffles (cl/prims.cl) where the capability is
 * on and whole warps of the work-group call them; else a local tree. */
#if STEP_LPC > 1 && STEP_LPC <= MCL_SG_ADD_MAX && STEP_WG % MCL_SG_ADD_MAX == 0
#define STEP_SHUFFLE 1
#else
#define STEP_SHUFFLE 0
#endif

/* Sum of v over the lanes of each team; every lane gets its team's sum
 * (called by every work-item of the group). */
inline float step_team_sum(__local float *red, float v, int lid, int lane)
{
#if STEP_SHUFFLE
    (void)red, (void)lid, (void)lane;
    return mcl_sg_add(v, STEP_LPC);
#else
    red[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = STEP_LPC / 2; s > 0; s >>= 1) {
        if (lane < s) red[lid] += red[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float total = red[lid - lane];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
#endif
}

/* Element j of batch row b of dbc, the sum of its n_parts partial rows. */
inline float step_dbc(__global const float *dbc, size_t rowoff, int j, int n_parts, ulong part_stride)
{
    float v = dbc[rowoff + j];
    for (int p = 1; p < n_parts; p++) v += dbc[(size_t)p * part_stride + rowoff + j];
    return v;
}

inline void step_body(__global const float *restrict xc, __global const float *restrict dbc,
                      int n_parts, ulong part_stride, __global const float *restrict xz,
                      __global const void *restrict w_dt, int wdtype, __global const float *restrict b_dt,
                      __global const float *restrict A, __global const float *restrict D,
                      __global float *restrict ssm_state, ulong state_off, __global const int *restrict slot,
                      ulong slot_stride, int B, int d_inner, int R, int N, __global float *restrict y,
                      ulong z_off, int z_ld, __local float *red, __local float *dbc_l, int stage)
{
    const int lid = (int)get_local_id(0), lane = lid % STEP_LPC;
    const size_t first = get_group_id(0) * STEP_TEAMS;
    const size_t team = first + (size_t)(lid / STEP_LPC);
    const size_t total = (size_t)B * (size_t)d_inner;
    const bool valid = team < total;
    const size_t gid = valid ? team : total - 1; /* clamped: computed, not written */
    const int b = (int)(gid / (size_t)d_inner), d = (int)(gid % (size_t)d_inner);
    const size_t row = (size_t)b * (R + 2 * N);
    const size_t last = min(first + STEP_TEAMS, total) - 1;
    const int staged = stage && first / (size_t)d_inner == last / (size_t)d_inner; /* uniform in the group */
    if (staged)
        for (int j = lid; j < R + 2 * N; j += STEP_WG) dbc_l[j] = step_dbc(dbc, row, j, n_parts, part_stride);
    barrier(CLK_LOCAL_MEM_FENCE);

    float part = 0.0f;
    for (int r = lane; r < R; r += STEP_LPC)
        part = fma(mcl_load_w(w_dt, (size_t)d * R + r, wdtype),
                   staged ? dbc_l[r] : step_dbc(dbc, row, r, n_parts, part_stride), part);
    const float delta = mcl_softplus(b_dt[d] + step_team_sum(red, part, lid, lane));
    const float x = xc[gid];
    const float dx = delta * x;

    __global float *s = ssm_state + state_off + (ulong)slot[b] * slot_stride + (ulong)d * N;
    const __global float *a = A + (size_t)d * N;
    float acc = 0.0f;
    for (int n = lane; n < N; n += STEP_LPC) {
        const float old = valid ? s[n] : 0.0f;
        const float bn = staged ? dbc_l[R + n] : step_dbc(dbc, row, R + n, n_parts, part_stride);
        const float cn = staged ? dbc_l[R + N + n] : step_dbc(dbc, row, R + N + n, n_parts, part_stride);
        const float v = fma(exp(delta * a[n]), old, dx * bn);
        if (valid) s[n] = v;
        acc = fma(cn, v, acc);
    }
    acc = step_team_sum(red, acc, lid, lane);
    if (valid && lane == 0) {
        const float z = xz[z_off + (size_t)b * (size_t)z_ld + d];
        y[gid] = fma(D[d], x, acc) * mcl_silu(z);
    }
}

__kernel __attribute__((reqd_work_group_size(STEP_WG, 1, 1)))
void ssm_step(__global const float *restrict xc,   // [B, d_inner]
              __global const float *restrict dbc,  // [B, R+2N]
              __global const float *restrict xz,   // [B, 2*d_inner], z = cols d_inner..
              __global const void *restrict w_dt,  // [d_inner, R] in wdtype
              int wdtype,
              __global const float *restrict b_dt, // [d_inner]
              __global const float *restrict A,    // [d_inner, N]
              __global const float *restrict D,    // [d_inner]
              __global float *restrict ssm_state,  // pool, see contracts
              ulong state_off,
              __global const int *restrict slot,   // [B]
              ulong slot_stride,
              int B, int d_inner, int R, int N,
              __global float *restrict y,          // [B, d_inner]
              ulong z_off, int z_ld,               // z's view (Mamba-1: d_inner, 2*d_inner)
              __local float *dbc_l,                // [R+2N] when stage, else unused
              int stage)
{
    __local float red[STEP_WG];
    step_body(xc, dbc, 1, 0, xz, w_dt, wdtype, b_dt, A, D, ssm_state, state_off, slot, slot_stride, B, d_inner,
              R, N, y, z_off, z_ld, red, dbc_l, stage);
}

/* As ssm_step, with dbc = n_parts partial sums [n_parts][B, R+2N], part p at
 * dbc + p * part_stride. */
__kernel __attribute__((reqd_work_group_size(STEP_WG, 1, 1)))
void ssm_step_parts(__global const float *restrict xc, __global const float *restrict dbc, int n_parts,
                    ulong part_stride, __global const float *restrict xz, __global const void *restrict w_dt,
                    int wdtype, __global const float *restrict b_dt, __global const float *restrict A,
                    __global const float *restrict D, __global float *restrict ssm_state, ulong state_off,
                    __global const int *restrict slot, ulong slot_stride, int B, int d_inner, int R, int N,
                    __global float *restrict y, ulong z_off, int z_ld, __local float *dbc_l, int stage)
{
    __local float red[STEP_WG];
    step_body(xc, dbc, n_parts, part_stride, xz, w_dt, wdtype, b_dt, A, D, ssm_state, state_off, slot,
              slot_stride, B, d_inner, R, N, y, z_off, z_ld, red, dbc_l, stage);
}
