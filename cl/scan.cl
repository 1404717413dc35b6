/* scan.cl: selective scan for prefill, with the dt projection, the
 * discretization, the D skip and the SiLU(z) gate fused in.
 *
 * Algorithm. One work-group per (sequence b, block of SCAN_DCH channels); its
 * SCAN_TT x SCAN_DCH work-items are (time-thread tt, channel dl), channel
 * fastest so that a row of x, z, y is one coalesced access. The sequence is
 * walked in chunks of SCAN_CHUNK = SCAN_TT * SCAN_ITEMS timesteps; work-item
 * tt owns SCAN_ITEMS consecutive timesteps of the chunk, held in registers:
 *   dt_t  = b_dt[d] + sum_r W_dt[d,r] * delta_t[r]   (W_dt tile in local memory)
 *   Δ_t   = softplus(dt_t);  a_t,n = exp(Δ_t A[d,n]);  b_t,n = Δ_t x_t B_t[n]
 * The recurrence s_t = a_t s_{t-1} + b_t is the scan of the pairs (a,b) under
 * (a1,b1)∘(a2,b2) = (a1·a2, a2·b1 + b2). Per chunk and per group of SCAN_NG
 * states: (1) each work-item reduces its items serially (tt = 0 starts from
 * the carried state, so its b is a true state); (2) a Blelloch exclusive scan
 * (up-sweep, down-sweep; 2·log2(TT)-1 barriers for all NG·DCH scans at once)
 * over the TT partial pairs in local memory gives each work-item the state
 * before its first item; (3) each work-item replays its items (a kept in
 * registers) to get s_t and y_t += Σ_n C_t[n]·s_t[n]; the last time-thread
 * leaves the chunk's final state in local memory as the next chunk's carry.
 * Total work O(L·N) per channel (work-efficient); the state goes to global
 * memory only at the start and the end of the sequence. When N > SCAN_NG the
 * states are handled in groups (outer loop): y holds the partial sum between
 * groups and the gate is applied after the last group.
 *
 * Memory traffic per (t, d): reads x (4 B), z (4 B), writes y (4 B); per t and
 * work-group a row of dbc (4·(R+2N) B, shared by the SCAN_DCH channels, from
 * cache); per channel W_dt (R weights), b_dt, D, A (N), and the state (N
 * floats read and written once). With N > SCAN_NG add 8 B per (t,d) per extra
 * group (y partial written and read back) and x re-read.
 *
 * Tunables (src/tune.c "scan.cl"): SCAN_DCH channels per work-group, SCAN_TT
 * time-threads (power of two), SCAN_ITEMS timesteps per work-item, SCAN_NG
 * states per pass, SCAN_RT rows of the W_dt tile in local memory (W_dt stays
 * resident when R <= SCAN_RT, else it is streamed in tiles), SCAN_FAST_EXP
 * (native_exp2 for exp(Δ·A)). Local memory: (2·NG·TT + RT + NG)·DCH floats.
 */
#ifndef SCAN_DCH
#define SCAN_DCH 8
#endif
#ifndef SCAN_TT
#define SCAN_TT 32
#endif
#ifndef SCAN_ITEMS
#define SCAN_ITEMS 4
#endif
#ifndef SCAN_NG
#define SCAN_NG 16
#endif
#ifndef SCAN_RT
#define SCAN_RT 64
#endif
#ifndef SCAN_FAST_EXP
#define SCAN_FAST_EXP 0
#endif

/* Full unrolling keeps the per-item arrays in registers on GPUs; on CPUs
 * (PoCL) it only multiplies the compile time. */
#if defined(MCL_DEVICE_CPU) && MCL_DEVICE_CPU
#define SCAN_UNROLL
#else
#define SCAN_UNROLL _Pragma("unroll")
#endif

#define SCAN_WG (SCAN_TT * SCAN_DCH)
#define SCAN_CHUNK (SCAN_TT * SCAN_ITEMS)
/* Element (state j, time-thread p, channel dl) of the scan arrays. */
#define SCAN_IX(j, p, dl) (((j) * SCAN_TT + (p)) * SCAN_DCH + (dl))

#if SCAN_FAST_EXP
#define SCAN_ASCALE 1.4426950408889634f
#define SCAN_EXPA(v) native_exp2(v)
#else
#define SCAN_ASCALE 1.0f
#define SCAN_EXPA(v) exp(v)
#endif

/* One level of the up-sweep (stride off): x[right] = x[left] ∘ x[right]. */
inline void scan_up_level(__local float *sa, __local float *sb, int off, int lid)
{
    const int per = SCAN_TT / (2 * off);
    for (int k = lid; k < SCAN_NG * per * SCAN_DCH; k += SCAN_WG) {
        const int dl = k % SCAN_DCH, r = k / SCAN_DCH;
        const int m = r % per, j = r / per;
        const int ir = SCAN_IX(j, (m + 1) * 2 * off - 1, dl), il = ir - off * SCAN_DCH;
        const float ar = sa[ir];
        sb[ir] = ar * sb[il] + sb[ir];
        sa[ir] = sa[il] * ar;
    }
}

/* One level of the down-sweep: left <- prefix, right <- prefix ∘ old left. */
inline void scan_down_level(__local float *sa, __local float *sb, int off, int lid)
{
    const int per = SCAN_TT / (2 * off);
    for (int k = lid; k < SCAN_NG * per * SCAN_DCH; k += SCAN_WG) {
        const int dl = k % SCAN_DCH, r = k / SCAN_DCH;
        const int m = r % per, j = r / per;
        const int ir = SCAN_IX(j, (m + 1) * 2 * off - 1, dl), il = ir - off * SCAN_DCH;
        const float pa = sa[ir], pb = sb[ir], la = sa[il], lb = sb[il];
        sa[il] = pa;
        sb[il] = pb;
        sa[ir] = pa * la;
        sb[ir] = la * pb + lb;
    }
}

/* Blelloch exclusive scan over the TT partial pairs of every (state j,
 * channel dl): afterwards position p holds the combination of 0..p-1. The
 * root step is folded into the top level (the total is not needed). */
inline void scan_block(__local float *sa, __local float *sb, int lid)
{
    for (int off = 1; off < SCAN_TT / 2; off *= 2) {
        scan_up_level(sa, sb, off, lid);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (SCAN_TT >= 2) {
        for (int k = lid; k < SCAN_NG * SCAN_DCH; k += SCAN_WG) {
            const int il = SCAN_IX(k / SCAN_DCH, SCAN_TT / 2 - 1, k % SCAN_DCH);
            const int ir = SCAN_IX(k / SCAN_DCH, SCAN_TT - 1, k % SCAN_DCH);
            sa[ir] = sa[il];
            sb[ir] = sb[il];
            sa[il] = 1.0f;
            sb[il] = 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int off = SCAN_TT / 4; off >= 1; off /= 2) {
        scan_down_level(sa, sb, off, lid);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

/* Loads rows r0 .. r0+SCAN_RT-1 of W_dt for channels d0 .. d0+DCH-1 into
 * wl[r][dl] (zeros outside the matrix). */
inline void scan_load_w(__local float *wl, const __global void *w_dt, int wdtype, int d0,
                        int d_inner, int R, int r0, int lid)
{
    for (int k = lid; k < SCAN_RT * SCAN_DCH; k += SCAN_WG) {
        const int r = k % SCAN_RT, dl = k / SCAN_RT;
        const int d = d0 + dl, rr = r0 + r;
        wl[r * SCAN_DCH + dl] =
            (d < d_inner && rr < R) ? mcl_load_w(w_dt, (size_t)d * R + rr, wdtype) : 0.0f;
    }
}

/* acc[i] += sum over rows r0.. of the resident tile of W_dt[d,r]·delta_t[r]. */
inline void scan_dt_tile(float *acc, const __local float *wl, const __global float *dbc,
                         const size_t *row, int ldb, int r0, int nr, int dl)
{
    for (int r = 0; r < nr; r++) {
        const float w = wl[r * SCAN_DCH + dl];
SCAN_UNROLL
        for (int i = 0; i < SCAN_ITEMS; i++) acc[i] = fma(w, dbc[row[i] * ldb + r0 + r], acc[i]);
    }
}

__kernel __attribute__((reqd_work_group_size(SCAN_WG, 1, 1)))
void scan_prefill(__global const float *restrict xc,   // [T, d_inner]
                  __global const float *restrict dbc,  // [T, R+2N]
                  __global const float *restrict xz,   // [T, 2*d_inner], z = cols d_inner..
                  __global const void *restrict w_dt,  // [d_inner, R] in wdtype
                  int wdtype,
                  __global const float *restrict b_dt, // [d_inner]
                  __global const float *restrict A,    // [d_inner, N]
                  __global const float *restrict D,    // [d_inner]
                  __global float *restrict ssm_state,  // pool, see contracts
                  ulong state_off,
                  __global const int *restrict slot,   // [n_seqs]
                  ulong slot_stride,
                  __global const int *restrict seq_start, // [n_seqs+1]
                  int n_seqs, int d_inner, int R, int N,
                  __global float *restrict y)          // [T, d_inner]
{
    __local float sa[SCAN_NG * SCAN_TT * SCAN_DCH]; // scan pairs, a part
    __local float sb[SCAN_NG * SCAN_TT * SCAN_DCH]; // scan pairs, b part
    __local float wl[SCAN_RT * SCAN_DCH];           // W_dt tile [r][dl]
    __local float cl[SCAN_NG * SCAN_DCH];           // carried state [j][dl]

    const int lid = (int)get_local_id(0);
    const int dl = lid % SCAN_DCH, tt = lid / SCAN_DCH;
    const int ndg = (d_inner + SCAN_DCH - 1) / SCAN_DCH;
    const int b = (int)get_group_id(0) / ndg;
    const int d0 = ((int)get_group_id(0) % ndg) * SCAN_DCH;
    if (b >= n_seqs) return; /* uniform over the work-group */
    const int d = d0 + dl;
    const bool dv = d < d_inner;
    const int dc = dv ? d : d_inner - 1; /* clamped for loads */
    const int t0 = seq_start[b], len = seq_start[b + 1] - t0;
    const int ldb = R + 2 * N;
    const ulong sbase = state_off + (ulong)slot[b] * slot_stride;
    const bool resident = R <= SCAN_RT;
    const float bias = b_dt[dc], dskip = D[dc];

    if (resident) {
        scan_load_w(wl, w_dt, wdtype, d0, d_inner, R, 0, lid);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const int n_groups = (N + SCAN_NG - 1) / SCAN_NG;
    for (int g = 0; g < n_groups; g++) {
        const int n0 = g * SCAN_NG;
        const bool last_group = g == n_groups - 1;
        for (int k = lid; k < SCAN_NG * SCAN_DCH; k += SCAN_WG) {
            const int j = k / SCAN_DCH, dd = d0 + k % SCAN_DCH;
            cl[k] = (n0 + j < N && dd < d_inner) ? ssm_state[sbase + (ulong)dd * N + n0 + j] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        for (int c0 = 0; c0 < len; c0 += SCAN_CHUNK) {
            const int tb = c0 + tt * SCAN_ITEMS; /* first timestep of this work-item */
            size_t row[SCAN_ITEMS];              /* dbc/xc row of each item (clamped) */
            bool tv[SCAN_ITEMS];
            float xv[SCAN_ITEMS], dlt[SCAN_ITEMS], dx[SCAN_ITEMS], yv[SCAN_ITEMS];
SCAN_UNROLL
            for (int i = 0; i < SCAN_ITEMS; i++) {
                tv[i] = tb + i < len;
                row[i] = (size_t)t0 + (size_t)min(tb + i, len - 1);
                xv[i] = xc[row[i] * d_inner + dc];
                dlt[i] = bias;
            }
            /* dt projection */
            if (resident) {
                scan_dt_tile(dlt, wl, dbc, row, ldb, 0, R, dl);
            } else {
                for (int r0 = 0; r0 < R; r0 += SCAN_RT) {
                    barrier(CLK_LOCAL_MEM_FENCE);
                    scan_load_w(wl, w_dt, wdtype, d0, d_inner, R, r0, lid);
                    barrier(CLK_LOCAL_MEM_FENCE);
                    scan_dt_tile(dlt, wl, dbc, row, ldb, r0, min(SCAN_RT, R - r0), dl);
                }
            }
SCAN_UNROLL
            for (int i = 0; i < SCAN_ITEMS; i++) {
                dlt[i] = mcl_softplus(dlt[i]);
                dx[i] = dlt[i] * xv[i];
                yv[i] = (g > 0 && tv[i] && dv) ? y[row[i] * d_inner + d] : 0.0f;
            }

            /* (1) serial reduction of this work-item's items, per state */
            float ea[SCAN_NG][SCAN_ITEMS];
            float creg[SCAN_NG];
SCAN_UNROLL
            for (int j = 0; j < SCAN_NG; j++) {
                const int n = n0 + j;
                const bool nv = n < N;
                const float an = nv ? A[(size_t)dc * N + n] * SCAN_ASCALE : 0.0f;
                creg[j] = cl[j * SCAN_DCH + dl];
                float pa = 1.0f, pb = tt == 0 ? creg[j] : 0.0f;
SCAN_UNROLL
                for (int i = 0; i < SCAN_ITEMS; i++) {
                    const bool on = nv && tv[i];
                    const float a = on ? SCAN_EXPA(dlt[i] * an) : 1.0f;
                    const float bx = on ? dx[i] * dbc[row[i] * ldb + R + n] : 0.0f;
                    ea[j][i] = a;
                    pb = fma(a, pb, bx);
                    pa *= a;
                }
                sa[SCAN_IX(j, tt, dl)] = pa;
                sb[SCAN_IX(j, tt, dl)] = pb;
            }
            barrier(CLK_LOCAL_MEM_FENCE);

            /* (2) exclusive scan over the time-threads */
            scan_block(sa, sb, lid);

            /* (3) replay with the true starting state */
SCAN_UNROLL
            for (int j = 0; j < SCAN_NG; j++) {
                const int n = n0 + j;
                if (n >= N) continue;
                float s = tt == 0 ? creg[j] : sb[SCAN_IX(j, tt, dl)];
SCAN_UNROLL
                for (int i = 0; i < SCAN_ITEMS; i++) {
                    if (!tv[i]) continue;
                    const size_t o = row[i] * ldb + R + n;
                    s = fma(ea[j][i], s, dx[i] * dbc[o]);
                    yv[i] = fma(dbc[o + N], s, yv[i]);
                }
                if (tt == SCAN_TT - 1) cl[j * SCAN_DCH + dl] = s;
            }
SCAN_UNROLL
            for (int i = 0; i < SCAN_ITEMS; i++) {
                if (!tv[i] || !dv) continue;
                float out = yv[i];
                if (last_group) {
                    const float z = xz[row[i] * (size_t)(2 * d_inner) + d_inner + d];
                    out = fma(dskip, xv[i], out) * mcl_silu(z);
                }
                y[row[i] * d_inner + d] = out;
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }

        for (int k = lid; k < SCAN_NG * SCAN_DCH; k += SCAN_WG) {
            const int j = k / SCAN_DCH, dd = d0 + k % SCAN_DCH;
            if (n0 + j < N && dd < d_inner) ssm_state[sbase + (ulong)dd * N + n0 + j] = cl[k];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}
