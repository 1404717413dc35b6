/* ssm_step.cl: selective state update for decode (one token per sequence),
 * the same math as scan_prefill with the state updated in place.
 *
 * Algorithm. One work-item per (sequence b, channel d), channel fastest so
 * that x, z and y are coalesced:
 *   Δ = softplus(b_dt[d] + Σ_r W_dt[d,r]·delta_b[r])
 *   for n: s[n] = exp(Δ·A[d,n])·s[n] + Δ·B_b[n]·x;  y += C_b[n]·s[n]
 *   y = (y + D[d]·x)·SiLU(z)
 * Memory traffic per (b, d): x, z, y 12 B; the state 8·N B (read and write);
 * W_dt row R weights (shared by the batch, from cache), A row 4·N B; per b a
 * dbc row 4·(R+2N) B shared by all channels (from cache).
 * Tunables (src/tune.c "ssm_step.cl"): STEP_WG work-group size.
 */
#ifndef STEP_WG
#define STEP_WG 64
#endif

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
              __global float *restrict y)          // [B, d_inner]
{
    const size_t gid = get_global_id(0);
    if (gid >= (size_t)B * (size_t)d_inner) return;
    const int b = (int)(gid / (size_t)d_inner), d = (int)(gid % (size_t)d_inner);
    const __global float *row = dbc + (size_t)b * (R + 2 * N);

    float dt = b_dt[d];
    for (int r = 0; r < R; r++) dt = fma(mcl_load_w(w_dt, (size_t)d * R + r, wdtype), row[r], dt);
    const float delta = mcl_softplus(dt);
    const float x = xc[gid];
    const float dx = delta * x;

    __global float *s = ssm_state + state_off + (ulong)slot[b] * slot_stride + (ulong)d * N;
    const __global float *a = A + (size_t)d * N;
    float acc = 0.0f;
    for (int n = 0; n < N; n++) {
        const float v = fma(exp(delta * a[n]), s[n], dx * row[R + n]);
        s[n] = v;
        acc = fma(row[R + N + n], v, acc);
    }
    const float z = xz[(size_t)b * (2 * (size_t)d_inner) + d_inner + d];
    y[gid] = fma(D[d], x, acc) * mcl_silu(z);
}
