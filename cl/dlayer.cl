/* dlayer.cl: whole Mamba-1 decode layers of one sequence (batch 1) in a
 * single persistent launch: the four phases of the fused decode chain
 * (gemv_in, gemv_split, ssm_step_parts, gemv: src/model/arch_mamba1.c) run
 * one after the other inside one kernel, separated by device-wide barriers,
 * for nl layers in a row (one more device-wide barrier between layers: the
 * next layer's phase A reads all of h). Layer j's weights are at byte
 * offset off + j * wstride of each weight argument (the model's arena of
 * layers: every layer laid out alike, src/model/model.c), its states at
 * element offset off + j * lstride of the state buffers (state.c); nl = 1,
 * strides 0 is one layer on buffers of its own.
 *
 * Why: a batch-1 decode step of 1.4b is 4 small launches per layer; each
 * streams 1-33 MB, i.e. a few microseconds at the read bandwidth, so launch
 * cost and each kernel's ramp-up and drain are a large part of the step (and
 * on PoCL the per-launch cost dominates). One launch per layer keeps every
 * compute unit busy from phase to phase.
 *
 * Co-residency. A device-wide barrier is only correct when every work-group
 * of the grid runs at the same time. OpenCL 1.2 does not promise that, so the
 * host (src/ops/kern_dlayer.c) proves it before use: this same kernel, in
 * probe mode (probe > 0: the same registers and local memory, hence the same
 * occupancy), exchanges known values between all work-groups across `probe`
 * barriers; only a grid that answers right is used (MAMBACL_DISABLE=persistent
 * turns the path off by hand). Every wait is bounded by spin_max polls: a
 * barrier that times out sets bar[DL_BAR_FLAG] (sticky) and goes on, so a broken
 * assumption gives an error the host reads after the step, never a hang.
 * Test hooks (arguments, 0 in use): bit 16 of probe makes the probe write
 * wrong values; bit 17 makes the launch run (probe & 0xffff) barriers and
 * nothing else (tools/bar_timing.c: what a barrier costs); phantom > 0
 * makes every barrier wait for groups that do not exist (each times out).
 * Halt (DL_MULTI 1): with has_halt, a launch that finds halt[0] != 0 runs its
 * layer loop zero times, in every group alike (nothing writes the word while
 * it runs): the chained greedy decode's stop (src/model/chain.c, norm.cl's
 * greedy_pick sets it), so steps enqueued after a stop leave the state alone.
 *
 * Phases (G work-groups of DL_WG work-items; a row team is DL_LPR lanes, a
 * channel team DL_LPC lanes; every loop walks whole work-groups so all work-
 * items reach the same barriers, items past the end compute on clamped
 * indices and write nothing):
 *   A  xl = h * nw staged in local memory (float4 planes, dl_stream),
 *      ss = h . h (mcl_local_group_sum); xz[o] = rsqrt(ss / d_model + eps) *
 *      W_in[o] . xl, o < 2*d_inner, streamed as rgemv.cl does; rows
 *      o < d_inner also run the causal conv step on that value (conv state
 *      rolled, xc[o] = SiLU(conv + bias)).                 grid barrier
 *   B  xl = xc staged; partial dbc: task (o, s), o < R+2N, s < P, is row o
 *      of W_x over the s-th of P slices of d_inner (vectors of 8; the last
 *      slice takes the d_inner % 8 tail) -> dbcp[s * (R+2N) + o].
 *                                                          grid barrier
 *   C  xl = dbc row (the P partials added in order p = 0..P-1, as
 *      ssm_step_parts); per channel d: dt = softplus(b_dt + W_dt[d] . xl[0:R]),
 *      s[n] = exp(dt A[d,n]) s[n] + dt x B[n], y[d] = (C . s + D x) SiLU(z).
 *                                                          grid barrier
 *   D  xl = y staged (planes); h[o] += W_out[o] . xl, o < d_model (the
 *      residual add), streamed as phase A.
 *      (the conv steps of a group's rows run after its GEMV rows, one
 *      work-item per row: their state loads wait one latency, not one per row)
 * Barriers: 4 per layer (phase A waits at one even in a launch's first
 * layer: a barrier under a condition made PoCL's work-group compiler 2.5x
 * slower). What a phase loads that does not depend on the barrier before
 * it is in flight across it: phases A and D issue their first weight chunk
 * before it, phase C its channels' states, A, D, b_dt, x, z and first W_dt
 * vector (dl_chan_load). Staging loads four elements per load and DL_STG
 * loads per work-item at once (dl_stage_x); the norm's group sum is by
 * shuffles where PTX is on (prims.cl, mcl_local_group_sum).
 * Traffic per layer: every weight once (2 B per element for F16/BF16, 4 for
 * F32), the states once read and written (conv 8 (K-1), ssm 8 N bytes per
 * channel); every work-group reads the small vectors it stages (h, xc, the
 * dbc partials, y: 4 B per element per group, from L2).
 * Tunables (src/tune/tune_kern.c, family dlayer.cl): DL_WG work-group size;
 * DL_LPR lanes per GEMV row team (a warp on GPUs, 1 on CPUs: a work-item
 * walks its row); DL_UNR 16-byte loads per lane and chunk in phases A and
 * D (the next chunk in flight too) and vectors of 8 weights a lane loads
 * before its FMAs in phase B; DL_SPEC 1: A's, D's and C's weight loops
 * compiled once per dtype (0: one copy, the dtype a run-time value);
 * DL_LPC lanes per channel of phase C (N = 16 states: one per lane on GPUs);
 * DL_SKIP (diagnostic only, 0 in use: wrong results) a mask of phases A 1,
 * B 2, C 4, D 8 left out, barriers kept, to time what each phase costs;
 * bit 16 leaves out the staging of the vectors (h, xc, the dbc partials,
 * y: dl_stage_x and C's sum) and bit 32 the device-wide barriers, to time
 * what the floor of DL_SKIP 15 is made of (session 18);
 * DL_GPC (host) work-groups per compute unit tried first by the probe;
 * DL_LPL (host) the most layers one launch runs (nl; at most an arena's);
 * DL_MULTI 1 compiles the loop over nl layers, 0 one layer (nl = 1: PoCL
 * under GPU rules spent minutes unswitching the loop; tune_dlayer.c);
 * DL_PF a mask of L2 prefetches (PTX only, else nothing; 0 by default since
 * session 9): bit 1, before each device-wide barrier (and at the start) the
 * group asks the L2 for the weights and states of its part of the next
 * phase (dl_prefetch), which do not depend on the barrier; bit 2, right
 * after C's first loads (before the B -> C barrier) the group's rows of
 * W_out, phase D's weights, so that DRAM, idle in B, C and two barriers,
 * fetches them while those run (D then streams from the L2);
 * DL_PFA (PTX only, 0 off) before phase D the group's first DL_PFA passes of
 * rows of the next layer's W_in (when the launch runs one), fetched while D
 * reads the L2 and the group waits at the D -> A barrier;
 * DL_BAR the device-wide barrier: 0 the two-level counter tree (any
 * device), 1-3 one self-resetting word (dl_grid_sync_one; 1 and 3 need
 * PTX and fall back to 0 without it; 2 is plain OpenCL atomics), 4 a word
 * per group polled by all work-items (dl_grid_sync_flags; PTX, else 0).
 * Local memory: 4 * max(d_model, d_inner, R + 2N) bytes rounded up to 16 (a
 * `__local float4 *` argument: 16-byte aligned, which rgemv.cl found a
 * `__local float *` is not on NVIDIA's OpenCL) plus 4 * DL_WG for the trees.
 */
#ifndef DL_WG
#define DL_WG 256
#endif
#ifndef DL_LPR
#define DL_LPR 32
#endif
#ifndef DL_UNR
#define DL_UNR 4
#endif
#ifndef DL_LPC
#define DL_LPC 16
#endif
#ifndef DL_SKIP
#define DL_SKIP 0
#endif
#ifndef DL_BAR
#define DL_BAR 0
#endif
#ifndef DL_PF
#define DL_PF 0
#endif
#ifndef DL_PFA
#define DL_PFA 0
#endif
#ifndef DL_SPEC
#define DL_SPEC 1
#endif
#ifndef DL_MULTI
#define DL_MULTI 1
#endif
#define DL_TEAMS (DL_WG / DL_LPR)
#define DL_CTEAMS (DL_WG / DL_LPC)

/* Team sums by shuffles where they cover the team, else a local tree. */
#if DL_LPR > 1 && DL_LPR <= MCL_SG_ADD_MAX && DL_WG % MCL_SG_ADD_MAX == 0
#define DL_SHUF_R 1
#else
#define DL_SHUF_R 0
#endif
#if DL_LPC > 1 && DL_LPC <= MCL_SG_ADD_MAX && DL_WG % MCL_SG_ADD_MAX == 0
#define DL_SHUF_C 1
#else
#define DL_SHUF_C 0
#endif

/* Team sums of a GEMV row team (DL_LPR lanes) and of a channel team
 * (DL_LPC lanes): shuffles where they cover the team, else the tree. */
inline float dl_row_sum(__local float *red, float v)
{
#if DL_SHUF_R
    (void)red;
    return mcl_sg_add(v, DL_LPR);
#else
    return mcl_local_team_sum(red, v, DL_LPR);
#endif
}

inline float dl_chan_sum(__local float *red, float v)
{
#if DL_SHUF_C
    (void)red;
    return mcl_sg_add(v, DL_LPC);
#else
    return mcl_local_team_sum(red, v, DL_LPC);
#endif
}

/* The barrier's words, each on its own 128-byte line so that the groups
 * polling the generation do not queue behind the arrivals' atomics: 8
 * arrival counters (group g arrives on counter g % 8, so at most ceil(G/8)
 * atomics queue on one address), the counter of finished counters, the
 * generation and the timeout flag. */
#define DL_BAR_SUBS 8
#define DL_BAR_SUB(k) ((k) * 32)
#define DL_BAR_TOP 256
#define DL_BAR_GEN 288
#define DL_BAR_FLAG 320

/* A pause between polls of a waiting group (fewer requests on the line the
 * last arrival must write): nanosleep (sm_70+, implied by the mma
 * capability, sm_80+) where PTX is on, else none. */
inline void dl_pause(void)
{
#if MCL_CAP_PTX && MCL_CAP_MMA
    asm volatile("nanosleep.u32 32;");
#endif
}

/* A read of a barrier word: a volatile load where PTX is on (what the H200
 * figures were measured with), else an atomic read, so that a simulator sees
 * no race with the atomics that write the word. */
inline uint dl_read(volatile __global uint *p)
{
#if MCL_CAP_PTX
    return *p;
#else
    return atomic_or(p, 0u);
#endif
}

/* Device-wide barrier, DL_BAR 0 (the fallback, any device): over `groups`
 * work-groups (called by every work-item of every group): the last arrival
 * on a counter arrives on the top counter, the last arrival there resets it
 * and advances the generation, which the others poll. */
inline void dl_grid_sync_tree(volatile __global uint *bar, uint groups, uint spin_max)
{
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
    if (get_local_id(0) == 0 && groups > 1) {
        uint g = get_group_id(0), k = g % DL_BAR_SUBS, subs = min(groups, (uint)DL_BAR_SUBS);
        uint on_k = (groups - k + DL_BAR_SUBS - 1) / DL_BAR_SUBS; /* groups arriving on counter k */
        uint gen = dl_read(&bar[DL_BAR_GEN]);
        mem_fence(CLK_GLOBAL_MEM_FENCE); /* this group's writes before its arrival */
        bool last = false;
        if (atomic_inc(&bar[DL_BAR_SUB(k)]) == on_k - 1) {
            atomic_xchg(&bar[DL_BAR_SUB(k)], 0u);
            last = atomic_inc(&bar[DL_BAR_TOP]) == subs - 1;
        }
        if (last) {
            atomic_xchg(&bar[DL_BAR_TOP], 0u);
            mem_fence(CLK_GLOBAL_MEM_FENCE);
            atomic_inc(&bar[DL_BAR_GEN]);
        } else {
            uint n = 0;
            while (dl_read(&bar[DL_BAR_GEN]) == gen) {
                if (++n >= spin_max) {
                    atomic_or(&bar[DL_BAR_FLAG], 1u);
                    break;
                }
                dl_pause();
            }
        }
        mem_fence(CLK_GLOBAL_MEM_FENCE);
    }
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
}

/* The one-word barrier (DL_BAR 1-3; the scheme of CUDA's cooperative
 * groups): group 0 adds 2^31 - (groups - 1), every other group 1, so the
 * word's top bit flips exactly when all have arrived and its low bits are
 * back where they were (no reset, no second word); each group's lane 0
 * waits for the flip of the value its own add returned. One atomic per
 * group on one address and one poll loop instead of the tree's chain of
 * atomics; on the H200 both cost ~1 us per barrier at 132-264 groups
 * (tools/bar_timing, docs/performance.md "bar8").
 *   DL_BAR 1: atom.release.gpu.add + ld.acquire.gpu polls (inline PTX);
 *             the group barriers around it order at CTA scope only
 *             (bar.sync), the release/acquire of lane 0 is cumulative;
 *   DL_BAR 2: the same scheme in OpenCL 1.2 atomics and fences (volatile
 *             polls where PTX is on);
 *   DL_BAR 3: as 1 but relaxed polls (ld.relaxed.gpu) and one
 *             fence.acq_rel.gpu after the flip.
 * A timeout (spin_max polls) sets the flag and goes on (the word is then
 * off: the host zeroes it after the probe and after a flagged step). */
#define DL_BAR_ONE 352
#define DL_TOPBIT 0x80000000u

inline uint dl_one_add(volatile __global uint *w, uint v)
{
#if MCL_CAP_PTX && (DL_BAR == 1 || DL_BAR == 3)
    uint old;
    ulong a = (ulong)w;
    asm volatile("atom.release.gpu.global.add.u32 %0, [%1], %2;" : "=r"(old) : "l"(a), "r"(v) : "memory");
    return old;
#else
    mem_fence(CLK_GLOBAL_MEM_FENCE);
    return atomic_add(w, v);
#endif
}

inline uint dl_one_poll(volatile __global uint *w)
{
#if MCL_CAP_PTX && DL_BAR == 1
    uint v;
    ulong a = (ulong)w;
    asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(a) : "memory");
    return v;
#elif MCL_CAP_PTX && DL_BAR == 3
    uint v;
    ulong a = (ulong)w;
    asm volatile("ld.relaxed.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(a) : "memory");
    return v;
#else
    return dl_read(w);
#endif
}

inline void dl_one_after(void)
{
#if MCL_CAP_PTX && DL_BAR == 3
    asm volatile("fence.acq_rel.gpu;" ::: "memory");
#elif !(MCL_CAP_PTX && DL_BAR == 1)
    mem_fence(CLK_GLOBAL_MEM_FENCE);
#endif
}

#if MCL_CAP_PTX && (DL_BAR == 1 || DL_BAR == 3)
#define DL_ONE_FENCE CLK_LOCAL_MEM_FENCE
#else
#define DL_ONE_FENCE (CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE)
#endif

inline void dl_grid_sync_one(volatile __global uint *bar, uint groups, uint spin_max)
{
    barrier(DL_ONE_FENCE);
    if (get_local_id(0) == 0 && groups > 1) {
        uint add = get_group_id(0) == 0 ? DL_TOPBIT - (groups - 1) : 1u;
        uint old = dl_one_add(&bar[DL_BAR_ONE], add), n = 0;
        while (((old ^ dl_one_poll(&bar[DL_BAR_ONE])) & DL_TOPBIT) == 0) {
            if (++n >= spin_max) {
                atomic_or(&bar[DL_BAR_FLAG], 1u);
                break;
            }
        }
        dl_one_after();
    }
    barrier(DL_ONE_FENCE);
}

/* The flag barrier (DL_BAR 4, PTX only; session 18): every group has a word
 * of its own (bar[DL_BAR_FLAGS + g]) holding the generation of the last
 * barrier it reached. Arriving, lane 0 stores the next generation with a
 * release (no atomic, so 264 groups do not queue on one address); the
 * group's work-items then poll every group's word at once, work-item t the
 * words t, t + DL_WG, ..., with acquire loads, until each holds at least
 * that generation (compared as a signed difference: wrap-safe). Every
 * work-item reads its group's word before the arrival (the previous
 * generation: written by its lane 0 before the previous barrier's last
 * work-group barrier), so no local memory carries it, and all groups pass
 * the same barriers, so their words agree whenever a launch starts (the host
 * zeroes them after the probe and after a timeout). A poll that runs out
 * sets the flag, as the other barriers do. Up to DL_BAR_MAXG groups (more:
 * the one-word barrier). */
#define DL_BAR_FLAGS 512
#define DL_BAR_MAXG 4096

#if MCL_CAP_PTX
inline void dl_flag_put(volatile __global uint *w, uint v)
{
    ulong a = (ulong)w;
    asm volatile("st.release.gpu.global.u32 [%0], %1;" ::"l"(a), "r"(v) : "memory");
}

inline uint dl_flag_get(volatile __global uint *w)
{
    uint v;
    ulong a = (ulong)w;
    asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(a) : "memory");
    return v;
}

inline void dl_grid_sync_flags(volatile __global uint *bar, uint groups, uint spin_max)
{
    volatile __global uint *f = bar + DL_BAR_FLAGS;
    const uint lid = get_local_id(0), gen = f[get_group_id(0)] + 1u;
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
    if (lid == 0) dl_flag_put(&f[get_group_id(0)], gen);
    for (uint t = lid; t < groups; t += DL_WG) {
        uint n = 0;
        while ((int)(dl_flag_get(&f[t]) - gen) < 0) {
            if (++n >= spin_max) {
                atomic_or(&bar[DL_BAR_FLAG], 1u);
                break;
            }
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
}
#endif

/* The device-wide barrier of the build: DL_BAR 1, 3 and 4 need PTX (without
 * it, or with MAMBACL_DISABLE=ptx, the tree of DL_BAR 0). */
inline void dl_grid_sync(volatile __global uint *bar, uint groups, uint spin_max)
{
#if DL_BAR == 0 || (DL_BAR != 2 && !MCL_CAP_PTX)
    dl_grid_sync_tree(bar, groups, spin_max);
#elif DL_BAR == 4
    if (groups <= DL_BAR_MAXG) dl_grid_sync_flags(bar, groups, spin_max);
    else dl_grid_sync_one(bar, groups, spin_max);
#else
    dl_grid_sync_one(bar, groups, spin_max);
#endif
}

/* A device-wide barrier between the phases of a layer (DL_SKIP bit 32 leaves
 * them out, for timing only; the probe keeps its own). */
inline void dl_phase_sync(volatile __global uint *bar, uint groups, uint spin_max)
{
#if !(DL_SKIP & 32)
    dl_grid_sync(bar, groups, spin_max);
#endif
}

/* 8 weights of row `row` from vector v (element 8v); `aligned`: the row
 * starts on a 16-byte (16-bit dtypes) or 32-byte (F32) boundary. */
inline float8 dl_load8(__global const void *row, int v, int dtype, int aligned)
{
    if (dtype == MCL_DTYPE_F16) {
#if MCL_CAP_PTX
        if (aligned) return mcl_half8_to_float8(((__global const uint4 *)row)[v]);
#endif
        return vload_half8(v, (__global const half *)row);
    }
    if (dtype == MCL_DTYPE_BF16) {
        uint4 u = aligned ? ((__global const uint4 *)row)[v]
                          : as_uint4(vload8(v, (__global const ushort *)row));
        return mcl_bf16x8_to_float8(u);
    }
    return vload8(v, (__global const float *)row);
}

inline __global const void *dl_row(__global const void *W, int o, int I, int dtype)
{
    size_t off = (size_t)o * (size_t)I;
    if (dtype == MCL_DTYPE_F32) return (__global const float *)W + off;
    return (__global const ushort *)W + off;
}

/* Phase B: this lane's part of W[o] . xl over the vectors of 8 [v0, v1)
 * and, when `tail`, the elements from 8 * (I / 8) on; lanes stride by
 * DL_LPR. A lane loads DL_UNR vectors before their FMAs, and its last
 * < DL_UNR vectors together too (one memory latency for them). */
inline float dl_dot(__global const void *W, int dtype, int o, int I, __local const float *xl, int v0, int v1,
                    int tail, int lane)
{
    __global const void *row = dl_row(W, o, I, dtype);
    float8 acc = (float8)0.0f;
    int aligned = I % 8 == 0;
    int v = v0 + lane;
    for (; v + (DL_UNR - 1) * DL_LPR < v1; v += DL_UNR * DL_LPR) {
        float8 w[DL_UNR];
        for (int u = 0; u < DL_UNR; u++) w[u] = dl_load8(row, v + u * DL_LPR, dtype, aligned);
        for (int u = 0; u < DL_UNR; u++) acc = mad(w[u], vload8(v + u * DL_LPR, xl), acc);
    }
    if (v < v1) {
        float8 w[DL_UNR > 1 ? DL_UNR - 1 : 1];
        for (int u = 0; u < DL_UNR - 1; u++)
            w[u] = v + u * DL_LPR < v1 ? dl_load8(row, v + u * DL_LPR, dtype, aligned) : (float8)0.0f;
        for (int u = 0; u < DL_UNR - 1; u++)
            if (v + u * DL_LPR < v1) acc = mad(w[u], vload8(v + u * DL_LPR, xl), acc);
    }
    float s = dot(acc.lo, (float4)1.0f) + dot(acc.hi, (float4)1.0f);
    if (tail)
        for (int i = (I / 8) * 8 + lane; i < I; i += DL_LPR) s = mad(mcl_load_w(row, i, dtype), xl[i], s);
    return s;
}

/* Phases A and D stream W as rgemv.cl does (the same scheme; its
 * header explains it): a row team is a warp, rows grid-stride over all
 * teams of the grid, a row is read in chunks of DL_LPR * DL_UNR 16-byte
 * vectors (8 halves or 4 floats), DL_UNR loads per lane issued together,
 * and the loads of the team's next chunk (the next row's first chunk at a
 * row's end) are issued before the current chunk's FMAs, so a team always
 * has a chunk in flight; the team's first chunk is in flight while x is
 * staged. x sits in local memory as two float4 planes for 16-bit weights
 * (x[8v..8v+3] at float4 v, x[8v+4..8v+7] at NV + v: a warp's float4 reads
 * hit every bank once) and plainly for F32 weights. The weight dtype and
 * the row alignment are constants of each copy of the loop (dl_stream). */
#define DL_VE(dt) ((dt) == MCL_DTYPE_F32 ? 4 : 8)

/* Local position of x element i for 16-byte vectors of dtype dt (NV of them). */
inline int dl_pos(int i, int NV, int dt)
{
    if (dt == MCL_DTYPE_F32 || i >= 8 * NV) return i;
    int v = i >> 3, e = i & 7;
    return e < 4 ? 4 * v + e : 4 * (NV + v) + e - 4;
}

/* The float4 slot of x elements 4k..4k+3 in the layout of dl_pos. */
inline int dl_slot(int k, int NV, int dt)
{
    if (dt == MCL_DTYPE_F32 || 4 * k >= 8 * NV) return k;
    return (k & 1) ? NV + (k >> 1) : k >> 1;
}

/* Stages x[0, I) (times nw when norm) into xs4 at dl_pos's positions and
 * returns this work-item's part of x . x (norm; else 0). Four elements per
 * load, DL_STG loads per work-item issued before any is used: the staging
 * waits about one L2 latency per DL_STG * 4 * DL_WG elements instead of one
 * per DL_WG (a load, then its store, then the next load). The elements past
 * 4 * (I / 4) one by one. No barrier: the caller's publishes xs4. */
#define DL_STG 4
inline float dl_stage_x(__local float4 *xs4, __global const float *x, __global const float *nw, int norm, int I,
                        int NV, int dt)
{
    const int lid = get_local_id(0), n4 = I / 4;
    float ss = 0.0f;
#if DL_SKIP & 16
    return ss; /* diagnostic: no staging */
#endif
    for (int k0 = lid; k0 < n4; k0 += DL_WG * DL_STG) {
        float4 v[DL_STG], w[DL_STG];
#pragma unroll
        for (int u = 0; u < DL_STG; u++) {
            int k = min(k0 + u * DL_WG, n4 - 1); /* past the end: a valid address, not stored */
            v[u] = vload4(k, x);
            w[u] = norm ? vload4(k, nw) : (float4)1.0f;
        }
#pragma unroll
        for (int u = 0; u < DL_STG; u++) {
            int k = k0 + u * DL_WG;
            if (k >= n4) continue;
            if (norm) ss += dot(v[u], v[u]);
            xs4[dl_slot(k, NV, dt)] = v[u] * w[u];
        }
    }
    __local float *xs = (__local float *)xs4;
    for (int i = 4 * n4 + lid; i < I; i += DL_WG) {
        float xi = x[i];
        if (norm) {
            ss = mad(xi, xi, ss);
            xi *= nw[i];
        }
        xs[dl_pos(i, NV, dt)] = xi;
    }
    return ss;
}

/* The 16 bytes of vector v of row (aligned: the row starts on 16 bytes). */
inline uint4 dl_ld16(__global const void *row, int v, int dt, int aligned)
{
    if (aligned) return ((__global const uint4 *)row)[v];
    if (dt == MCL_DTYPE_F32) return as_uint4(vload4(v, (__global const float *)row));
    return as_uint4(vload8(v, (__global const ushort *)row));
}

/* Weight vector u (dtype dt) . the staged x of vector v. */
inline float dl_dot16(uint4 u, __local const float4 *xs4, int v, int NV, int dt)
{
    if (dt == MCL_DTYPE_F32) return dot(as_float4(u), xs4[v]);
    float8 w = dt == MCL_DTYPE_F16 ? mcl_half8_to_float8(u) : mcl_bf16x8_to_float8(u);
    return dot(w.lo, xs4[v]) + dot(w.hi, xs4[NV + v]);
}

/* Issues this lane's loads of chunk c of row o (vectors past NV: zero). */
inline void dl_issue(uint4 *buf, __global const void *W, int o, int c, int I, int NV, int lane, int dt, int aligned)
{
    __global const void *row = dl_row(W, o, I, dt);
    int v0 = c * (DL_LPR * DL_UNR) + lane;
#pragma unroll
    for (int j = 0; j < DL_UNR; j++) {
        int v = v0 + j * DL_LPR;
        buf[j] = v < NV ? dl_ld16(row, v, dt, aligned) : (uint4)(0u);
    }
}

/* The FMAs of a chunk issued by dl_issue. */
inline float dl_chunk(const uint4 *buf, __local const float4 *xs4, int c, int NV, int lane, int dt)
{
    int v0 = c * (DL_LPR * DL_UNR) + lane;
    float acc = 0.0f;
#pragma unroll
    for (int j = 0; j < DL_UNR; j++) {
        int v = v0 + j * DL_LPR;
        if (v < NV) acc += dl_dot16(buf[j], xs4, v, NV, dt);
    }
    return acc;
}

/* The device-wide barrier a phase waits at before it reads x. */
typedef struct {
    volatile __global uint *bar;
    uint groups, spin_max;
} dl_sync_t;

/* One phase's GEMV, dtype dt and alignment constants: issues the loads of
 * its first chunk of W (which does not depend on x), waits at the
 * device-wide barrier `sb` that publishes x, stages x (times
 * nw, with the norm's scale, when norm) into xs4, then out[o] = scale * W[o]
 * . x (or out[o] += W[o] . x when accumulate) for the rows o < O_run of this
 * group's teams (O_run 0: staging only; DL_SKIP). Called by every work-item;
 * ends after a work-group barrier. */
inline void dl_stream_run(__global const void *W, int O, int O_run, int I, __global const float *x,
                          __global const float *nw, float eps, int norm, __global float *out, int accumulate,
                          __local float4 *xs4, __local float *red, dl_sync_t sb, int dt, int aligned)
{
    const int lid = get_local_id(0), lane = lid % DL_LPR, team = lid / DL_LPR;
    const int NV = I / DL_VE(dt), nch = max(1, (NV + DL_LPR * DL_UNR - 1) / (DL_LPR * DL_UNR));
    const int stride = get_num_groups(0) * DL_TEAMS, first = get_group_id(0) * DL_TEAMS;
    const int nit = first < O_run ? (O_run - first + stride - 1) / stride : 0; /* uniform in the group */
    __local float *xs = (__local float *)xs4;
    uint4 cur[DL_UNR], nxt[DL_UNR];
    if (nit > 0) dl_issue(cur, W, min(first + team, O - 1), 0, I, NV, lane, dt, aligned); /* during barrier and staging */
    dl_phase_sync(sb.bar, sb.groups, sb.spin_max);
    float ss = dl_stage_x(xs4, x, nw, norm, I, NV, dt);
    float scale = 1.0f;
    if (norm) scale = rsqrt(mcl_local_group_sum(red, ss, DL_WG) / (float)I + eps); /* its barriers publish xs */
    else barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = 0; k < nit; k++) {
        int row = first + team + k * stride;
        float acc = 0.0f;
        for (int c = 0; c < nch; c++) {
            int last = c + 1 == nch, c1 = last ? 0 : c + 1, row1 = last ? row + stride : row;
            if (!last || k + 1 < nit) dl_issue(nxt, W, min(row1, O - 1), c1, I, NV, lane, dt, aligned);
            acc += dl_chunk(cur, xs4, c, NV, lane, dt);
#pragma unroll
            for (int j = 0; j < DL_UNR; j++) cur[j] = nxt[j];
        }
        __global const void *wrow = dl_row(W, min(row, O - 1), I, dt);
        for (int i = NV * DL_VE(dt) + lane; i < I; i += DL_LPR) acc = mad(mcl_load_w(wrow, i, dt), xs[i], acc);
        float s = dl_row_sum(red, acc) * scale;
        if (lane == 0 && row < O) out[row] = accumulate ? out[row] + s : s;
    }
}

/* dl_stream_run with the dtype and the alignment as constants (DL_SPEC 1):
 * one copy per dtype for rows on 16-byte boundaries, one generic copy; with
 * DL_SPEC 0 the generic copy alone (the same code, a smaller program). */
inline void dl_stream(__global const void *W, int O, int O_run, int I, __global const float *x,
                      __global const float *nw, float eps, int norm, __global float *out, int accumulate,
                      __local float4 *xs4, __local float *red, dl_sync_t sb, int dt)
{
#if !DL_SPEC
    dl_stream_run(W, O, O_run, I, x, nw, eps, norm, out, accumulate, xs4, red, sb, dt, I % DL_VE(dt) == 0);
    return;
#endif
    if (I % DL_VE(dt) != 0) dl_stream_run(W, O, O_run, I, x, nw, eps, norm, out, accumulate, xs4, red, sb, dt, 0);
    else if (dt == MCL_DTYPE_F16)
        dl_stream_run(W, O, O_run, I, x, nw, eps, norm, out, accumulate, xs4, red, sb, MCL_DTYPE_F16, 1);
    else if (dt == MCL_DTYPE_BF16)
        dl_stream_run(W, O, O_run, I, x, nw, eps, norm, out, accumulate, xs4, red, sb, MCL_DTYPE_BF16, 1);
    else dl_stream_run(W, O, O_run, I, x, nw, eps, norm, out, accumulate, xs4, red, sb, MCL_DTYPE_F32, 1);
}

/* Phase C: this lane's part of W_dt[d] . dbc[0:R] (dbc staged plainly in
 * xs4): where rows start on 16 bytes, 16-byte loads of the dtype as a
 * constant (the lanes of a channel team take vectors clane, clane + DL_LPC,
 * ...; at R = 128 F16 one load each), else element by element. */
inline float dl_dt_dot_as(__global const void *w_dt, int d, int R, __local const float4 *xs4, int clane, uint4 u0,
                          int dt)
{
    __global const uint4 *row = (__global const uint4 *)dl_row(w_dt, d, R, dt);
    float part = 0.0f;
    for (int v = clane; v < R / DL_VE(dt); v += DL_LPC) {
        uint4 u = v == clane ? u0 : row[v]; /* the first: loaded ahead (dl_chan_load) */
        if (dt == MCL_DTYPE_F32) part += dot(as_float4(u), xs4[v]);
        else {
            float8 w = dt == MCL_DTYPE_F16 ? mcl_half8_to_float8(u) : mcl_bf16x8_to_float8(u);
            part += dot(w.lo, xs4[2 * v]) + dot(w.hi, xs4[2 * v + 1]);
        }
    }
    return part;
}

inline float dl_dt_dot(__global const void *w_dt, int d, int R, __local const float4 *xs4, int clane, uint4 u0,
                       int dt)
{
    if (R % DL_VE(dt) != 0) {
        __local const float *xs = (__local const float *)xs4;
        float part = 0.0f;
        for (int r = clane; r < R; r += DL_LPC) part = fma(mcl_load_w(w_dt, (size_t)d * R + r, dt), xs[r], part);
        return part;
    }
#if !DL_SPEC
    return dl_dt_dot_as(w_dt, d, R, xs4, clane, u0, dt);
#endif
    if (dt == MCL_DTYPE_F16) return dl_dt_dot_as(w_dt, d, R, xs4, clane, u0, MCL_DTYPE_F16);
    if (dt == MCL_DTYPE_BF16) return dl_dt_dot_as(w_dt, d, R, xs4, clane, u0, MCL_DTYPE_BF16);
    return dl_dt_dot_as(w_dt, d, R, xs4, clane, u0, MCL_DTYPE_F32);
}

/* What a channel team's lane of phase C reads that does not depend on the
 * dbc of phase B: loaded before the device-wide barrier B -> C (and for
 * later channels of the group at the top of their round), so that the
 * round after the barrier waits for the staged dbc and nothing else. */
typedef struct {
    float x, z, b, dd; /* xc[d], z[d], b_dt[d], D[d] */
    float s0, a0;      /* state and A at n = clane (when clane < N) */
    uint4 w0;          /* W_dt row d's 16-byte vector clane (when the rows are 16-byte vectors) */
} dl_chan_t;

inline dl_chan_t dl_chan_load(int d, bool valid, int clane, __global const float *xc, __global const float *z,
                              __global const float *b_dt, __global const float *D, __global const float *s,
                              __global const float *A, __global const void *w_dt, int R, int N, int dt)
{
    dl_chan_t c;
    c.x = xc[d];
    c.z = z[d];
    c.b = b_dt[d];
    c.dd = D[d];
    c.s0 = valid && clane < N ? s[(size_t)d * N + clane] : 0.0f;
    c.a0 = clane < N ? A[(size_t)d * N + clane] : 0.0f;
    int ve = DL_VE(dt);
    c.w0 = R % ve == 0 && clane < R / ve ? ((__global const uint4 *)dl_row(w_dt, d, R, dt))[clane] : (uint4)(0u);
    return c;
}

/* DL_PF, DL_PFA (PTX only, else nothing): the work-group asks the L2 for the
 * `bytes` bytes from p (prefetch.global.L2, one 128-byte line per work-item
 * and round) and goes on: issued before a device-wide barrier for the
 * weights and states of the group's part of the next phase, which do not
 * depend on the barrier, so that their first loads after it hit the L2. */
inline void dl_prefetch(__global const void *p, ulong bytes)
{
#if MCL_CAP_PTX && (DL_PF || DL_PFA)
    ulong a0 = (ulong)p & ~(ulong)127, end = (ulong)p + bytes;
    for (ulong a = a0 + (ulong)get_local_id(0) * 128; a < end; a += (ulong)DL_WG * 128)
        asm volatile("prefetch.global.L2 [%0];" ::"l"(a));
#else
    (void)p;
    (void)bytes;
#endif
}

/* DL_PF: rows [o0, o0 + n) of W [O, I] (clamped to O), all of each row. */
inline void dl_prefetch_rows(__global const void *W, int dtype, int o0, int n, int O, int I)
{
    if (o0 >= O) return;
    int o1 = min(o0 + n, O);
    ulong es = dtype == MCL_DTYPE_F32 ? 4 : 2;
    dl_prefetch(dl_row(W, o0, I, dtype), (ulong)(o1 - o0) * (ulong)I * es);
}

/* The probe: `rounds` exchanges of known values between all work-groups
 * through buf [G * DL_WG + 1]; buf[G * DL_WG] counts wrong reads. `wrong`
 * (tests only) writes off-by-one values, which the probe must catch. A
 * round whose barrier timed out ends the probe before any group reads
 * another's values (the groups did not run at once: on a simulator that
 * runs them one after the other, that read would be a data race). */
inline void dl_probe(__global int *buf, volatile __global uint *bar, uint groups, uint spin_max, int rounds,
                     int wrong_on_purpose, __local int *stop)
{
    int G = get_num_groups(0), g = get_group_id(0), lid = get_local_id(0);
    int wrong = 0;
    dl_grid_sync(bar, groups, spin_max); /* all there before any value is exchanged */
    for (int r = 0; r < rounds; r++) {
        if (lid == 0) *stop = dl_read(&bar[DL_BAR_FLAG]) != 0;
        barrier(CLK_LOCAL_MEM_FENCE);
        if (*stop) break; /* uniform in the group */
        buf[g * DL_WG + lid] = (r * G + g) * DL_WG + lid + 1 + wrong_on_purpose;
        dl_grid_sync(bar, groups, spin_max);
        int g2 = (g + 1 + r) % G;
        if (buf[g2 * DL_WG + lid] != (r * G + g2) * DL_WG + lid + 1) wrong++;
        dl_grid_sync(bar, groups, spin_max);
    }
    if (wrong) atomic_add(&buf[G * DL_WG], wrong);
}

/* One layer (phases A-D) on its tensors; called by every work-item of
 * every group, ends after phase D's stores (the caller's device-wide barrier
 * publishes h to the next layer). */
inline void dl_layer(__global float *h, __global const float *nw, float eps, __global const void *w_in, int dt_in,
                     __global const float *conv_w, __global const float *conv_b, int has_bias,
                     __global float *conv_state, ulong conv_off, __global const int *slot, ulong conv_stride, int K,
                     __global float *xz, __global float *xc, __global const void *w_x, int dt_x,
                     __global float *dbcp, int P, __global const void *w_dt, int dt_dt, __global const float *b_dt,
                     __global const float *A, __global const float *D, __global float *ssm_state, ulong ssm_off,
                     ulong ssm_stride, __global float *y, __global const void *w_out, int dt_out, int d_model,
                     int d_inner, int R, int N, volatile __global uint *bar, uint groups, uint spin_max,
                     __local float4 *xl4, __local float *red, ulong wstride, int has_next)
{
    __local float *xl = (__local float *)xl4;
    const int lid = get_local_id(0), g = get_group_id(0), G = get_num_groups(0);
    const int lane = lid % DL_LPR, team = lid / DL_LPR;
    const int nx = R + 2 * N, two = 2 * d_inner;

    const int rows_per = DL_TEAMS; /* rows of a group per pass (phases A and D) */
    const int nv = d_inner / 8, per = (nv + P - 1) / P;
#if MCL_CAP_PTX && (DL_PF & 1)
    for (int base = g * rows_per; base < two; base += G * rows_per)
        dl_prefetch_rows(w_in, dt_in, base, rows_per, two, d_model);
#endif

    /* A: norm + in_proj + conv step */
    __global float *cst = conv_state + conv_off + (ulong)slot[0] * conv_stride;
    dl_sync_t sb = {bar, groups, spin_max}; /* A: the previous layer's h (or the embedding), complete */
    dl_stream(w_in, two, (DL_SKIP & 1) ? 0 : two, d_model, h, nw, eps, 1, xz, 0, xl4, red, sb, dt_in);
#if !(DL_SKIP & 1)
    /* the conv step of this group's x rows, all at once (one latency) */
    barrier(CLK_GLOBAL_MEM_FENCE);
    int passes = g * rows_per < d_inner ? (d_inner - g * rows_per + G * rows_per - 1) / (G * rows_per) : 0;
    for (int j = lid; j < passes * rows_per; j += DL_WG) {
        int o = g * rows_per + (j / rows_per) * G * rows_per + j % rows_per;
        if (o < d_inner)
            xc[o] = mcl_conv_step(conv_w + (size_t)o * K, conv_b + o, has_bias, cst + (size_t)o * (K - 1), K, xz[o]);
    }
#endif
#if MCL_CAP_PTX && (DL_PF & 1)
    for (int base = g * DL_TEAMS; base < nx * P; base += G * DL_TEAMS) { /* phase B's slices of W_x */
        int t0 = base, t1 = min(base + DL_TEAMS, nx * P) - 1;
        size_t e0 = (size_t)(t0 / P) * d_inner + (size_t)min(d_inner, (t0 % P) * per * 8);
        size_t e1 = (size_t)(t1 / P) * d_inner + (size_t)min(d_inner, (t1 % P + 1) * per * 8);
        if (t1 % P == P - 1) e1 = (size_t)(t1 / P + 1) * d_inner;
        size_t es = dt_x == MCL_DTYPE_F32 ? 4 : 2;
        dl_prefetch((__global const uchar *)w_x + e0 * es, (e1 - e0) * es);
    }
#endif
    dl_phase_sync(bar, groups, spin_max);

    /* B: x_proj partials over P slices of d_inner */
    dl_stage_x(xl4, xc, xc, 0, d_inner, 0, MCL_DTYPE_F32);
    barrier(CLK_LOCAL_MEM_FENCE);
#if !(DL_SKIP & 2)
    for (int base = g * DL_TEAMS; base < nx * P; base += G * DL_TEAMS) {
        int t = min(base + team, nx * P - 1), o = t / P, sl = t % P;
        int v0 = min(nv, sl * per), v1 = min(nv, v0 + per);
        float s = dl_row_sum(red, dl_dot(w_x, dt_x, o, d_inner, xl, v0, v1, sl == P - 1, lane));
        if (lane == 0 && base + team < nx * P) dbcp[(size_t)sl * nx + o] = s;
    }
#endif
#if MCL_CAP_PTX && (DL_PF & 1)
    for (int base = g * DL_CTEAMS; base < d_inner; base += G * DL_CTEAMS) { /* phase C's channels */
        int n = min(DL_CTEAMS, d_inner - base);
        __global float *s0 = ssm_state + ssm_off + (ulong)slot[0] * ssm_stride + (size_t)base * N;
        dl_prefetch(s0, (ulong)n * N * 4);
        dl_prefetch(A + (size_t)base * N, (ulong)n * N * 4);
        dl_prefetch_rows(w_dt, dt_dt, base, n, d_inner, R);
    }
#endif
    /* C's first round of inputs that B does not write, in flight across the barrier */
    const int clane = lid % DL_LPC, cteam = lid / DL_LPC;
    __global float *sst = ssm_state + ssm_off + (ulong)slot[0] * ssm_stride;
    __global const float *zs = xz + d_inner;
    int base = g * DL_CTEAMS, d = min(base + cteam, d_inner - 1);
    dl_chan_t cin = dl_chan_load(d, base + cteam < d_inner, clane, xc, zs, b_dt, D, sst, A, w_dt, R, N, dt_dt);
#if MCL_CAP_PTX && (DL_PF & 2)
    for (int b = g * rows_per; b < d_model; b += G * rows_per) /* phase D's rows, DRAM being idle until D */
        dl_prefetch_rows(w_out, dt_out, b, rows_per, d_model, d_inner);
#endif
    dl_phase_sync(bar, groups, spin_max);

    /* C: the state update; dbc = the P partials added in order p = 0..P-1
     * (8 loads issued at a time) */
    for (int j = lid; j < ((DL_SKIP & 16) ? 0 : nx); j += DL_WG) {
        float v = 0.0f;
        for (int p0 = 0; p0 < P; p0 += 8) {
            float t[8];
#pragma unroll
            for (int u = 0; u < 8; u++) t[u] = dbcp[(size_t)min(p0 + u, P - 1) * nx + j];
#pragma unroll
            for (int u = 0; u < 8; u++)
                if (p0 + u < P) v += t[u];
        }
        xl[j] = v;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
#if !(DL_SKIP & 4)
    for (; base < d_inner; base += G * DL_CTEAMS) {
        bool valid = base + cteam < d_inner;
        if (base != g * DL_CTEAMS) {
            d = min(base + cteam, d_inner - 1);
            cin = dl_chan_load(d, valid, clane, xc, zs, b_dt, D, sst, A, w_dt, R, N, dt_dt);
        }
        float part = dl_dt_dot(w_dt, d, R, xl4, clane, cin.w0, dt_dt);
        float delta = mcl_softplus(cin.b + dl_chan_sum(red, part));
        float dx = delta * cin.x, acc = 0.0f;
        __global float *s = sst + (size_t)d * N;
        __global const float *a = A + (size_t)d * N;
        for (int n = clane; n < N; n += DL_LPC) {
            float old = n == clane ? cin.s0 : valid ? s[n] : 0.0f;
            float v = fma(exp(delta * (n == clane ? cin.a0 : a[n])), old, dx * xl[R + n]);
            if (valid) s[n] = v;
            acc = fma(xl[R + N + n], v, acc);
        }
        acc = dl_chan_sum(red, acc);
        if (valid && clane == 0) y[d] = fma(cin.dd, cin.x, acc) * mcl_silu(cin.z);
    }
#endif
#if MCL_CAP_PTX && (DL_PF & 1)
    for (int base = g * rows_per; base < d_model; base += G * rows_per)
        dl_prefetch_rows(w_out, dt_out, base, rows_per, d_model, d_inner);
#endif

#if MCL_CAP_PTX && DL_PFA
    if (has_next) { /* the next layer's first DL_PFA passes of W_in rows, while D reads the L2 */
        __global const uchar *w_next = (__global const uchar *)w_in + wstride;
        int b = g * rows_per;
        for (int p = 0; p < DL_PFA && b < two; p++, b += G * rows_per)
            dl_prefetch_rows(w_next, dt_in, b, rows_per, two, d_model);
    }
#else
    (void)wstride, (void)has_next;
#endif

    /* D: out_proj + residual (its first chunk of W_out in flight across the barrier C -> D) */
    dl_stream(w_out, d_model, (DL_SKIP & 8) ? 0 : d_model, d_inner, y, y, 0.0f, 0, h, 1, xl4, red, sb, dt_out);
}

/* Byte offset `off` from p (a weight of the arena). */
#define DL_AT(T, p, off) ((__global const T *)((__global const uchar *)(p) + (off)))

__kernel __attribute__((reqd_work_group_size(DL_WG, 1, 1)))
void dlayer(__global float *h,                      // [d_model] residual stream, updated
            __global const void *nw, ulong nw_off, float eps, // [d_model] RMSNorm weight (fp32)
            __global const void *w_in, ulong in_off, int dt_in, // [2*d_inner, d_model]
            __global const void *conv_w, ulong cw_off,  // [d_inner, K] fp32
            __global const void *conv_b, ulong cb_off, int has_bias, // [d_inner] fp32
            __global float *conv_state, ulong conv_off, __global const int *slot, ulong conv_stride, int K,
            __global float *xz,                     // [2*d_inner]
            __global float *xc,                     // [d_inner]
            __global const void *w_x, ulong x_off, int dt_x, // [R+2N, d_inner]
            __global float *dbcp, int P,            // [P][R+2N] partials
            __global const void *w_dt, ulong dt_off, int dt_dt, // [d_inner, R]
            __global const void *b_dt, ulong bdt_off, // [d_inner] fp32
            __global const void *A, ulong a_off,    // [d_inner, N] fp32
            __global const void *D, ulong d_off,    // [d_inner] fp32
            __global float *ssm_state, ulong ssm_off, ulong ssm_stride,
            __global float *y,                      // [d_inner]
            __global const void *w_out, ulong out_off, int dt_out, // [d_model, d_inner]
            int d_model, int d_inner, int R, int N,
            int nl,                                 // layers of this launch (>= 1)
            ulong wstride,                          // bytes from a weight of one layer to the next's
            ulong conv_lstride, ulong ssm_lstride,  // floats from a layer's state to the next's
            volatile __global uint *bar, uint spin_max,
            int probe,                              // 0: the layers; else probe rounds (low 16 bits), bit 16: answer wrong (tests), bit 17: barriers only (timing)
            __global int *probe_buf,                // [G * DL_WG + 1] for the probe
            int phantom,                            // 0; tests: groups the barriers wait for in vain
            __global const int *halt, int has_halt, // [1]: nonzero, no layer runs (DL_MULTI 1 only; src/model/chain.c)
            __local float4 *xl4)                    // [max(d_model, d_inner, R+2N) / 4, rounded up]
{
    __local float red[DL_WG];
    __local int stop;
    const uint groups = get_num_groups(0) + (uint)phantom; /* what each barrier waits for */
    if (probe & (1 << 17)) { /* tools/bar_timing: (probe & 0xffff) barriers, nothing else */
        for (int r = 0; r < (probe & 0xffff); r++) dl_grid_sync(bar, groups, spin_max);
        return;
    }
    if (probe != 0) {
        dl_probe(probe_buf, bar, groups, spin_max, probe & 0xffff, (probe >> 16) & 1, &stop); /* no abs(): Oclgrind 21.10 lacks llvm.abs */
        return;
    }
#if DL_MULTI
    /* halted: no layer, in every group (nothing writes halt while the launch
     * runs); the trip count from memory keeps the loop as it was: no branch
     * around the barriers (PoCL compiles those far slower) */
    const int n_run = has_halt && halt[0] != 0 ? 0 : nl;
    for (int j = 0; j < n_run; j++) { /* each layer's phase A waits for the previous one's h */
#else
    { /* one layer: the host passes nl = 1 (mcl_kern_dlayer_lpl) and no halt */
        const int j = 0;
        (void)nl, (void)halt, (void)has_halt;
#endif
        ulong wo = (ulong)j * wstride;
        dl_layer(h, DL_AT(float, nw, nw_off + wo), eps, DL_AT(uchar, w_in, in_off + wo), dt_in,
                 DL_AT(float, conv_w, cw_off + wo), DL_AT(float, conv_b, cb_off + wo), has_bias, conv_state,
                 conv_off + (ulong)j * conv_lstride, slot, conv_stride, K, xz, xc, DL_AT(uchar, w_x, x_off + wo),
                 dt_x, dbcp, P, DL_AT(uchar, w_dt, dt_off + wo), dt_dt, DL_AT(float, b_dt, bdt_off + wo),
                 DL_AT(float, A, a_off + wo), DL_AT(float, D, d_off + wo), ssm_state,
                 ssm_off + (ulong)j * ssm_lstride, ssm_stride, y, DL_AT(uchar, w_out, out_off + wo), dt_out,
                 d_model, d_inner, R, N, bar, groups, spin_max, xl4, red, wstride, DL_MULTI && j + 1 < nl);
    }
}
