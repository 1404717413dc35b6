/* scan.cl: selective scan for prefill, with the dt projection, the
 * discretization, the D skip and the SiLU(z) gate fused in.
 *
 * Algorithm. One work-group per (sequence b, block of SCAN_DCH channels) with
 * SCAN_DCH x SCAN_NSG x SCAN_TT work-items (channel dl fastest, then
 * state-thread sg, then time-thread tt). The sequence is walked in chunks of
 * SCAN_CHUNK = SCAN_TT * SCAN_ITEMS timesteps; per chunk:
 *  (1) stage: the chunk's B and C columns of dbc are copied into local memory
 *      with coalesced loads, and Δ_t = softplus(b_dt[d] + Σ_r W_dt[d,r]·δ_t[r])
 *      and Δ_t·x_t are computed once per (t, d) (W_dt tile in local memory)
 *      and kept in local memory for every state-thread;
 *  (2) reduce: work-item (dl, sg, tt) owns SCAN_ITEMS consecutive timesteps
 *      and SCAN_NG/SCAN_NSG states (n = s·NSG + sg); per state it forms
 *      a_t = exp(Δ_t A[d,n]), b_t = Δ_t x_t B_t[n] (a kept in registers) and
 *      reduces its items serially under (a1,b1)∘(a2,b2) = (a1·a2, a2·b1 + b2)
 *      (tt = 0 starts from the carried state, so its b is a true state);
 *  (3) a Blelloch exclusive scan (up-sweep, down-sweep; 2·log2(TT)-1
 *      barriers) over the TT partial pairs, for all NG·DCH (state, channel)
 *      lanes at once in local memory, gives each work-item its starting state;
 *  (4) replay: each work-item recomputes s_t over its items and sums
 *      C_t[n]·s_t over its states; the last time-thread leaves the chunk's
 *      final state in local memory as the next chunk's carry;
 *  (5) the NSG partial sums of y per (t, d) are added in local memory, then
 *      y = (Σ + D·x)·SiLU(z) is written with coalesced stores.
 * Work O(L·N) per channel (work-efficient); the state is read from global
 * memory at the start of the sequence and written at the end, never inside.
 * When N > SCAN_NG the states are handled in passes: y holds the partial sum
 * between passes and the gate is applied after the last one.
 *
 * Split sequences (nseg = SCAN_NSEG > 1, compiled in, chosen per shape class;
 * for batch 1, where the channel blocks alone leave most of a large GPU
 * idle; with SCAN_NSEG 1 none of the split's code is compiled: on the H200
 * the split's code made the unsplit default configuration 1.35-1.5x slower,
 * most likely by its register count). Each sequence is cut into nseg segments of
 * ceil(len/nseg) timesteps rounded up to a chunk, one work-group per
 * (sequence, segment, channel block), in two launches (one body, scan_run,
 * specialized for each entry point):
 *  scan_summary: every segment but the last runs (1)-(3) from a
 *      zero state and keeps, per (d, n), the segment's map s -> P·s + S
 *      (P = Π a_t: the chunk products from the scan's exclusive prefixes;
 *      S: the end state from zero), no replay, no y; segment 0 also copies
 *      the starting state, so that no work-group reads the state while the
 *      last segment writes it;
 *  scan_prefill: segment j starts from the copied state folded through
 *      the maps of segments 0..j-1 (j·2 loads per (d, n), in order), runs
 *      (1)-(5) over its own timesteps; the last segment writes the state.
 * Work O(L·N) still (the summary adds about half a pass); sums holds
 * n_seqs·(2·nseg+1)·d_inner·N floats [b][slab][d][n] (slab 0 the copy,
 * 1+2i P of segment i, 2+2i its S).
 *
 * Δ given (SCAN_DTIN 1, 2 or 3, chosen per shape class): the launcher first runs
 * the dt projection as a GEMM pre-pass writing dtin = δ·W_dtᵀ [T, d_inner]
 * (δ = dbc[:, :R]): with 1 scan_dt below (SIMT, register-blocked, any W_dt
 * dtype, δ read in place); with 3 scan_dt2 (the same sums bitwise, 16-byte
 * loads and stores, the next R slice in flight, up to 16 timesteps per work-item);
 * with 2 scan_dt_gather copies δ into a contiguous
 * [T, R] and ops/gemm.c's mcl_op_matmul multiplies (tensor cores for a
 * 16-bit W_dt where the mma capability is on, else CLBlast or gemm_simt by
 * its rules). The scan reads dtin[t, d] beside x and z (4 B more per (t, d)) and
 * applies Δ = softplus(dtin + b_dt): no dt tiles, no W_dt, one barrier per
 * chunk less per tile, RT·(CH+4+DCH) floats less local memory.
 * y as the mma GEMM's split A (scan_prefill_split, scan_prefill's own
 * specialization; the launcher runs it where out_proj takes the mma path,
 * src/ops/kern_scan.h, mcl_kern_scan_prefill_split): the last state group's
 * y goes into local memory and is stored as hi = round(y), lo = round(y -
 * hi) in F16 or BF16 into [T, ylda] ushort arrays (zeros for d >= d_inner),
 * 16 bytes per part and work-item, instead of fp32 y: bitwise what gemm.cl's
 * gemm_split_a writes from the fp32 y (scan_store_rows; scalar stores when
 * SCAN_DCH % 8 != 0). Partial sums between state groups still go through
 * fp32 y. scan_warp writes fp32 y only. A SCAN_YSPLIT 1 program has
 * scan_prefill_split's body (which writes fp32 y too, ysplit 0) instead of
 * scan_prefill's.
 * Prefetch (SCAN_PREF 1): the global inputs of the next chunk (this
 * work-item's B|C stage slots, x, z and dtin of its (t, d) pairs) are loaded
 * into registers right after this chunk's stage, so that their latency
 * overlaps this chunk's reduce, scan and replay (BCPT + 3·PJ registers).
 *
 * Memory traffic per (t, d): reads x (4 B), z (4 B), writes y (4 B; split:
 * 2·ysplit B); per t and
 * work-group 4·(R+2N) B of dbc (from cache: every channel block reads it);
 * per channel W_dt (R weights), b_dt, D, A (N) and the state (4·N B read and
 * written once). With N > SCAN_NG, 8 B more per (t, d) per extra pass (y
 * partial written and read back) and x, dbc re-read.
 *
 * Tunables (src/tune_scan.c): SCAN_DCH channels per work-group, SCAN_NSG
 * state-threads (divides SCAN_NG), SCAN_TT time-threads (power of two),
 * SCAN_ITEMS timesteps per work-item, SCAN_NG states per pass, SCAN_RT rows of
 * the W_dt tile (W_dt resident when R <= SCAN_RT, else streamed in tiles),
 * SCAN_KEEPB (keep Δ·x·B in registers between reduce and replay),
 * SCAN_FAST_EXP (native_exp2 for exp(Δ·A)), SCAN_NSEG (segments per
 * sequence, above; the launcher reads it too), SCAN_DTIN (Δ given, above;
 * the launcher reads it), SCAN_PREF (prefetch, above), SCAN_YSPLIT
 * (scan_prefill_split compiled, above; the launcher reads it). Local memory in floats,
 * RTL = 1 with SCAN_DTIN, else RT:
 * RTL·(DCH + CHUNK + 4) + max(CHUNK·(2NG+4), NSG·(CHUNK+1)·DCH) rounded up to 4
 * + 2·CHUNK·(DCH+1) + (2·TT + 1)·NG·DCH.
 */
#ifndef SCAN_DCH
#define SCAN_DCH 8
#endif
#ifndef SCAN_NSG
#define SCAN_NSG 4
#endif
#ifndef SCAN_TT
#define SCAN_TT 8
#endif
#ifndef SCAN_ITEMS
#define SCAN_ITEMS 16
#endif
#ifndef SCAN_NG
#define SCAN_NG 16
#endif
#ifndef SCAN_RT
#define SCAN_RT 64
#endif
#ifndef SCAN_KEEPB
#define SCAN_KEEPB 0
#endif
#ifndef SCAN_FAST_EXP
#define SCAN_FAST_EXP 0
#endif
#ifndef SCAN_NSEG
#define SCAN_NSEG 1
#endif
#ifndef SCAN_DTIN
#define SCAN_DTIN 0
#endif
#ifndef SCAN_PREF
#define SCAN_PREF 0
#endif
#ifndef SCAN_YSPLIT
#define SCAN_YSPLIT 0
#endif

/* Full unrolling keeps the per-item arrays in registers on GPUs; on CPUs
 * (PoCL) it only multiplies the compile time. */
#if defined(MCL_DEVICE_CPU) && MCL_DEVICE_CPU
#define SCAN_UNROLL
#else
#define SCAN_UNROLL _Pragma("unroll")
#endif

#define SCAN_SPT (SCAN_NG / SCAN_NSG)                 /* states per work-item */
#define SCAN_WG (SCAN_DCH * SCAN_NSG * SCAN_TT)
#define SCAN_CHUNK (SCAN_TT * SCAN_ITEMS)
#define SCAN_NL (SCAN_NG * SCAN_DCH)                  /* scan lanes (state, channel) */
#define SCAN_PJ (SCAN_ITEMS / SCAN_NSG)               /* (t, d) pairs per work-item */
#define SCAN_BCW (2 * SCAN_NG + 4)                    /* padded row of the B|C stage */
#define SCAN_BCPT ((SCAN_CHUNK * 2 * SCAN_NG + SCAN_WG - 1) / SCAN_WG) /* B|C loads per item */
#define SCAN_DLW (SCAN_DCH + 1)                       /* padded row of (Δ, Δ·x) */
#define SCAN_DSW (SCAN_CHUNK + 4)                     /* padded row of the δ tile */
#define SCAN_YSW ((SCAN_CHUNK + 1) * SCAN_DCH)        /* padded y partials of one sg */
#define SCAN_BCN (SCAN_CHUNK * SCAN_BCW)
#define SCAN_YSN (SCAN_NSG * SCAN_YSW)
#define SCAN_STAGE4 (SCAN_BCN > SCAN_YSN ? SCAN_BCN : SCAN_YSN)
#define SCAN_STAGE ((SCAN_STAGE4 + 3) / 4 * 4)
#if SCAN_DTIN
#define SCAN_RTL 1 /* no dt tiles: one row keeps the arrays declared */
#else
#define SCAN_RTL SCAN_RT
#endif

#if SCAN_NG % SCAN_NSG != 0 || SCAN_ITEMS % SCAN_NSG != 0
#error "SCAN_NSG must divide SCAN_NG and SCAN_ITEMS"
#endif

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
    for (int k = lid; k < per * SCAN_NL; k += SCAN_WG) {
        const int lane = k % SCAN_NL, m = k / SCAN_NL;
        const int ir = ((m + 1) * 2 * off - 1) * SCAN_NL + lane, il = ir - off * SCAN_NL;
        const float ar = sa[ir];
        sb[ir] = ar * sb[il] + sb[ir];
        sa[ir] = sa[il] * ar;
    }
}

/* One level of the down-sweep: left <- prefix, right <- prefix ∘ old left. */
inline void scan_down_level(__local float *sa, __local float *sb, int off, int lid)
{
    const int per = SCAN_TT / (2 * off);
    for (int k = lid; k < per * SCAN_NL; k += SCAN_WG) {
        const int lane = k % SCAN_NL, m = k / SCAN_NL;
        const int ir = ((m + 1) * 2 * off - 1) * SCAN_NL + lane, il = ir - off * SCAN_NL;
        const float pa = sa[ir], pb = sb[ir], la = sa[il], lb = sb[il];
        sa[il] = pa;
        sb[il] = pb;
        sa[ir] = pa * la;
        sb[ir] = la * pb + lb;
    }
}

/* Blelloch exclusive scan over the TT partial pairs of every lane:
 * afterwards position p holds the combination of 0..p-1. The root step is
 * folded into the top level (the total is not needed). */
inline void scan_block(__local float *sa, __local float *sb, int lid)
{
    for (int off = 1; off < SCAN_TT / 2; off *= 2) {
        scan_up_level(sa, sb, off, lid);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (SCAN_TT >= 2) {
        for (int k = lid; k < SCAN_NL; k += SCAN_WG) {
            const int il = (SCAN_TT / 2 - 1) * SCAN_NL + k, ir = (SCAN_TT - 1) * SCAN_NL + k;
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

/* Loads the dt tile r0 .. r0+RT-1: W_dt[d0+dl, r] into wl[r][dl] (when
 * load_w) and δ_t[r] of the chunk's rows into ds[r][t] (zeros outside). */
inline void scan_load_tile(__local float *wl, __local float *ds, const __global void *w_dt,
                           int wdtype, const __global float *dbc, size_t row0, int nt, int ldb,
                           int d0, int d_inner, int R, int r0, int lid, bool load_w)
{
    for (int k = lid; load_w && k < SCAN_RT * SCAN_DCH; k += SCAN_WG) {
        const int r = k % SCAN_RT, dl = k / SCAN_RT;
        const int d = d0 + dl, rr = r0 + r;
        wl[r * SCAN_DCH + dl] =
            (d < d_inner && rr < R) ? mcl_load_w(w_dt, (size_t)d * R + rr, wdtype) : 0.0f;
    }
    for (int k = lid; k < SCAN_RT * SCAN_CHUNK; k += SCAN_WG) {
        const int r = k % SCAN_RT, t = k / SCAN_RT, rr = r0 + r;
        ds[r * SCAN_DSW + t] = (t < nt && rr < R) ? dbc[(row0 + (size_t)t) * ldb + rr] : 0.0f;
    }
}

/* acc[j] += Σ_r wl[r][dl]·ds[r][t0+j] over the tile (t0 = tq·PJ). */
inline void scan_dt_tile(float *acc, const __local float *wl, const __local float *ds, int tq,
                         int nr, int dl)
{
    for (int r = 0; r < nr; r++) {
        const float w = wl[r * SCAN_DCH + dl];
#if SCAN_PJ % 4 == 0
        const __local float4 *d4 = (const __local float4 *)(ds + r * SCAN_DSW + tq * SCAN_PJ);
SCAN_UNROLL
        for (int q = 0; q < SCAN_PJ / 4; q++) {
            const float4 v = d4[q];
            acc[4 * q] = fma(w, v.x, acc[4 * q]);
            acc[4 * q + 1] = fma(w, v.y, acc[4 * q + 1]);
            acc[4 * q + 2] = fma(w, v.z, acc[4 * q + 2]);
            acc[4 * q + 3] = fma(w, v.w, acc[4 * q + 3]);
        }
#else
SCAN_UNROLL
        for (int j = 0; j < SCAN_PJ; j++)
            acc[j] = fma(w, ds[r * SCAN_DSW + tq * SCAN_PJ + j], acc[j]);
#endif
    }
}

/* v[s] = bcs[o + s] for the work-item's SPT states (vector loads when they
 * are 16-byte aligned groups of four). */
inline void scan_load_states(float *v, const __local float *bcs, int o)
{
#if SCAN_SPT % 4 == 0
    const __local float4 *b4 = (const __local float4 *)(bcs + o);
SCAN_UNROLL
    for (int q = 0; q < SCAN_SPT / 4; q++) {
        const float4 x = b4[q];
        v[4 * q] = x.x;
        v[4 * q + 1] = x.y;
        v[4 * q + 2] = x.z;
        v[4 * q + 3] = x.w;
    }
#else
SCAN_UNROLL
    for (int s = 0; s < SCAN_SPT; s++) v[s] = bcs[o + s];
#endif
}

/* y as the mma GEMM's A parts (scan_prefill_split; src/ops/gemm.h,
 * mcl_gemm_parts): hi = round(y), lo = round(y - hi) in F16 (f16) or BF16
 * ([T, lda] ushort, lo only with split 2, zeros for d >= d_inner), by
 * common.cl's gemm_round4 / gemm_pack8, so the bits are gemm_split_a's on
 * the fp32 y. With SCAN_DCH % 8 == 0 the gated y of the chunk goes into
 * local memory yl [t][YLW] (the (Δ, Δ·x) stage's space, free after the
 * reduce) and scan_store_rows writes 8 channels per work-item with 16-byte
 * stores, as gemm_split_a does; else each work-item stores its own
 * elements (2-byte stores; the row's last channel also writes the
 * padding's zeros). */
#define SCAN_YLW (SCAN_DCH + 1) /* padded row of yl */

inline float scan_round1(float v, int f16) { return f16 ? gemm_round_f16(v) : as_float(gemm_bf16_bits(v) << 16); }

inline void scan_gated_out(__local float *yl, __global ushort *hi, __global ushort *lo, int lda, int f16, int split,
                           size_t row, int t, int dl, int d, int d_inner, float v)
{
#if SCAN_DCH % 8 == 0
    (void)hi, (void)lo, (void)lda, (void)f16, (void)split, (void)row, (void)d, (void)d_inner;
    yl[t * SCAN_YLW + dl] = v;
#else
    (void)yl, (void)t, (void)dl;
    const float h = scan_round1(v, f16);
    const size_t o = row * (size_t)lda + (size_t)d;
    hi[o] = (ushort)gemm_bits1(h, f16);
    if (split == 2) lo[o] = (ushort)gemm_bits1(scan_round1(v - h, f16), f16);
    if (d == d_inner - 1)
        for (int k = d_inner; k < lda; k++) {
            hi[row * (size_t)lda + k] = 0;
            if (split == 2) lo[row * (size_t)lda + k] = 0;
        }
#endif
}

#if SCAN_DCH % 8 == 0
/* The chunk's rows row0 .. row0+nt-1 of the block's channels d0 .. from yl
 * (zeros past d_inner), 8 consecutive channels per item, up to lda. */
inline void scan_store_rows(const __local float *yl, __global ushort *hi, __global ushort *lo, int lda, int f16,
                            int split, size_t row0, int nt, int d0, int lid)
{
    for (int e = lid; e < SCAN_CHUNK * (SCAN_DCH / 8); e += SCAN_WG) {
        const int t = e / (SCAN_DCH / 8), c = (e % (SCAN_DCH / 8)) * 8, k = d0 + c;
        if (t >= nt || k >= lda) continue;
        const __local float *r = yl + t * SCAN_YLW + c;
        const float4 a0 = (float4)(r[0], r[1], r[2], r[3]), a1 = (float4)(r[4], r[5], r[6], r[7]);
        const float4 h0 = gemm_round4(a0, f16), h1 = gemm_round4(a1, f16);
        const size_t o = ((row0 + (size_t)t) * (size_t)lda + (size_t)k) / 8;
        ((__global uint4 *)hi)[o] = gemm_pack8(h0, h1, f16);
        if (split == 2) ((__global uint4 *)lo)[o] = gemm_pack8(gemm_round4(a0 - h0, f16), gemm_round4(a1 - h1, f16), f16);
    }
}
#endif

/* The global inputs of the chunk at row0 (nt >= 1 rows): this work-item's
 * B|C stage slots into bcr, and x, z (want_z) and, with SCAN_DTIN, dtin of
 * its PJ (t, d) pairs (rows past the chunk clamped to its last). */
inline void scan_load_chunk(float *bcr, float *xr, float *zr, float *dr, const __global float *dbc,
                            const __global float *xc, const __global float *xz, const __global float *dtin,
                            size_t row0, int nt, int ldb, int R, int N, int n0, int d_inner, int dc,
                            ulong z_off, int z_ld, bool want_z, int lid, int tq)
{
SCAN_UNROLL
    for (int j = 0; j < SCAN_BCPT; j++) {
        const int k = lid + j * SCAN_WG;
        const int t = k / (2 * SCAN_NG), c = k % (2 * SCAN_NG);
        const int isc = c >= SCAN_NG, n = n0 + c - isc * SCAN_NG;
        bcr[j] = (k < SCAN_CHUNK * 2 * SCAN_NG && t < nt && n < N)
                     ? dbc[(row0 + (size_t)t) * ldb + R + isc * N + n] : 0.0f;
    }
SCAN_UNROLL
    for (int j = 0; j < SCAN_PJ; j++) {
        const size_t row = row0 + (size_t)min(tq * SCAN_PJ + j, nt - 1);
        xr[j] = xc[row * d_inner + dc];
        zr[j] = want_z ? xz[z_off + row * (size_t)z_ld + dc] : 0.0f;
#if SCAN_DTIN
        dr[j] = dtin[row * d_inner + dc];
#else
        dr[j] = 0.0f;
#endif
    }
}

/* The body of both entry points (inlined into each, specialized by summary). */
inline void scan_run(__global const float *restrict xc,   // [T, d_inner]
                  __global const float *restrict dbc,  // [T, R+2N]
                  __global const float *restrict xz,   // z(t, d) = xz[z_off + t*z_ld + d]
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
                  __global float *restrict y,          // [T, d_inner]
                  ulong z_off, int z_ld,               // z's view (Mamba-1: d_inner, 2*d_inner)
                  __global float *restrict sums,       // [n_seqs, 2*nseg+1, d_inner, N] when nseg > 1
                  __global const float *restrict dtin, // [T, d_inner] δ·W_dtᵀ when SCAN_DTIN
                  __global ushort *restrict yhi,       // [T, ylda] y's hi part when ysplit
                  __global ushort *restrict ylo,       // [T, ylda] y's lo part when ysplit == 2
                  int ylda, int yf16, int ysplit,      // ysplit 0: fp32 y
                  __local float4 *bcs4, __local float4 *ds4, __local float *wl, __local float2 *ddx,
                  __local float *sa, __local float *sb, __local float *cl,
                  const int summary,                   // 1: the segments' maps (scan_summary)
                  const int parts)                     // 1: y as the GEMM's parts (scan_prefill_split)
{
    __local float *bcs = (__local float *)bcs4;
    __local float *yl = (__local float *)ddx; /* parts: the gated y [t][YLW] */
    __local float *ds = (__local float *)ds4;

    const int lid = (int)get_local_id(0);
    const int dl = lid % SCAN_DCH, sg = (lid / SCAN_DCH) % SCAN_NSG;
    const int tt = lid / (SCAN_DCH * SCAN_NSG), tq = lid / SCAN_DCH;
    const int nseg = SCAN_NSEG;
    const int ndg = (d_inner + SCAN_DCH - 1) / SCAN_DCH;
    const int seg = ((int)get_group_id(0) / ndg) % nseg;
    const int b = (int)get_group_id(0) / ndg / nseg;
    const int d0 = ((int)get_group_id(0) % ndg) * SCAN_DCH;
    if (b >= n_seqs) return; /* uniform over the work-group */
    const int d = d0 + dl;
    const bool dv = d < d_inner;
    const int dc = dv ? d : d_inner - 1; /* clamped for loads */
#if SCAN_NSEG == 1 /* the unsplit kernel carries nothing of the split through its loop */
    const int t0 = seq_start[b], len = seq_start[b + 1] - t0;
    const bool last_seg = true;
#else
    const int q0 = seq_start[b], qlen = seq_start[b + 1] - q0;
    const int seglen = ((qlen + nseg - 1) / nseg + SCAN_CHUNK - 1) / SCAN_CHUNK * SCAN_CHUNK;
    const int sg0 = seg * seglen;
    if (seg > 0 && sg0 >= qlen) return; /* an empty segment: nothing to do */
    const int t0 = q0 + sg0, len = min(qlen - sg0, seglen > 0 ? seglen : qlen);
    const bool last_seg = sg0 + len >= qlen;
#endif
    const int ldb = R + 2 * N;
    const ulong sbase = state_off + (ulong)slot[b] * slot_stride;
    const ulong slab = (ulong)d_inner * (ulong)N;                 /* one [d_inner, N] slab of sums */
    const ulong sumb = (ulong)b * (ulong)(2 * nseg + 1) * slab; /* this sequence's slabs */
    if (summary) {
        if (seg == 0) /* the starting state, for the main launch's every segment */
            for (int k = lid; k < SCAN_DCH * N; k += SCAN_WG) {
                const int dd = d0 + k / N, n = k % N;
                if (dd < d_inner) sums[sumb + (ulong)dd * N + n] = ssm_state[sbase + (ulong)dd * N + n];
            }
        if (last_seg) return; /* its map is never used */
    }
    const float bias = b_dt[dc], dskip = D[dc];
    const int nb = sg * SCAN_SPT; /* first state of this work-item in the pass */

    const int n_groups = (N + SCAN_NG - 1) / SCAN_NG;
    for (int g = 0; g < n_groups; g++) {
        const int n0 = g * SCAN_NG;
        const bool last_group = g == n_groups - 1;
        for (int k = lid; k < SCAN_NL; k += SCAN_WG) { /* lane k = (s·NSG + sg')·DCH + dl' */
            const int q = k / SCAN_DCH, dd = d0 + k % SCAN_DCH;
            const int n = n0 + (q % SCAN_NSG) * SCAN_SPT + q / SCAN_NSG;
            float v = 0.0f;
            if (n < N && dd < d_inner && !summary) {
                const ulong o = (ulong)dd * N + n;
                if (nseg == 1) {
                    v = ssm_state[sbase + o];
                } else { /* the copy, through the maps of the segments before */
                    v = sums[sumb + o];
                    for (int i = 0; i < seg; i++)
                        v = fma(sums[sumb + (ulong)(1 + 2 * i) * slab + o], v, sums[sumb + (ulong)(2 + 2 * i) * slab + o]);
                }
            }
            cl[k] = v;
        }
        float segp[SCAN_SPT]; /* summary: Π a over the segment so far (tt = TT-1's lanes) */
SCAN_UNROLL
        for (int s = 0; s < SCAN_SPT; s++) segp[s] = 1.0f;
        float a2[SCAN_SPT]; /* A[d,n]·ASCALE of this work-item's states, 0 past N */
SCAN_UNROLL
        for (int s = 0; s < SCAN_SPT; s++) {
            const int n = n0 + nb + s;
            a2[s] = n < N ? A[(size_t)dc * N + n] * SCAN_ASCALE : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        const bool want_z = last_group && !summary;
        float bcr[SCAN_BCPT], xr[SCAN_PJ], zr[SCAN_PJ], dr[SCAN_PJ]; /* the chunk's global inputs */
#if SCAN_PREF
        if (len > 0)
            scan_load_chunk(bcr, xr, zr, dr, dbc, xc, xz, dtin, (size_t)t0, min(SCAN_CHUNK, len), ldb, R, N, n0,
                            d_inner, dc, z_off, z_ld, want_z, lid, tq);
#endif
        for (int c0 = 0; c0 < len; c0 += SCAN_CHUNK) {
            const int nt = min(SCAN_CHUNK, len - c0);
            const size_t row0 = (size_t)(t0 + c0);
            /* (1) global loads of the chunk (with SCAN_PREF made during the
             * previous chunk): B|C (kept in registers until the stage is
             * free), x, z; then Δ and Δ·x per (t, d) */
#if !SCAN_PREF
            scan_load_chunk(bcr, xr, zr, dr, dbc, xc, xz, dtin, row0, nt, ldb, R, N, n0, d_inner, dc, z_off, z_ld,
                            want_z, lid, tq);
#endif
            float dt[SCAN_PJ];
SCAN_UNROLL
            for (int j = 0; j < SCAN_PJ; j++) dt[j] = bias + dr[j];
#if SCAN_DTIN
            barrier(CLK_LOCAL_MEM_FENCE); /* the previous chunk's y partials in bcs */
#else
            for (int r0 = 0; r0 < R; r0 += SCAN_RT) {
                barrier(CLK_LOCAL_MEM_FENCE); /* previous tile, previous chunk's y partials */
                /* one tile (R <= RT): W_dt stays in wl from the pass's first chunk */
                scan_load_tile(wl, ds, w_dt, wdtype, dbc, row0, nt, ldb, d0, d_inner, R, r0, lid,
                               c0 == 0 || R > SCAN_RT);
                barrier(CLK_LOCAL_MEM_FENCE);
                scan_dt_tile(dt, wl, ds, tq, min(SCAN_RT, R - r0), dl);
            }
            if (R == 0) barrier(CLK_LOCAL_MEM_FENCE); /* the previous chunk's y partials in bcs */
#endif
SCAN_UNROLL
            for (int j = 0; j < SCAN_PJ; j++) {
                const int t = tq * SCAN_PJ + j;
                const float delta = t < nt ? mcl_softplus(dt[j]) : 0.0f;
                ddx[t * SCAN_DLW + dl] = (float2)(delta, delta * xr[j]);
            }
SCAN_UNROLL
            for (int j = 0; j < SCAN_BCPT; j++) {
                const int k = lid + j * SCAN_WG;
                if (k < SCAN_CHUNK * 2 * SCAN_NG)
                    bcs[(k / (2 * SCAN_NG)) * SCAN_BCW + k % (2 * SCAN_NG)] = bcr[j];
            }
            barrier(CLK_LOCAL_MEM_FENCE);
#if SCAN_PREF
            /* the next chunk's inputs; x and z of this one stay for (5) */
            float xn[SCAN_PJ], zn[SCAN_PJ];
            if (c0 + SCAN_CHUNK < len)
                scan_load_chunk(bcr, xn, zn, dr, dbc, xc, xz, dtin, row0 + SCAN_CHUNK,
                                min(SCAN_CHUNK, len - c0 - SCAN_CHUNK), ldb, R, N, n0, d_inner, dc, z_off, z_ld,
                                want_z, lid, tq);
#endif

            /* (2) serial reduction of this work-item's items, per state */
            float dxv[SCAN_ITEMS], ea[SCAN_SPT][SCAN_ITEMS], creg[SCAN_SPT];
            float pa[SCAN_SPT], pb[SCAN_SPT];
#if SCAN_KEEPB
            float bx[SCAN_SPT][SCAN_ITEMS];
#endif
SCAN_UNROLL
            for (int s = 0; s < SCAN_SPT; s++) {
                creg[s] = cl[(s * SCAN_NSG + sg) * SCAN_DCH + dl];
                pa[s] = 1.0f;
                pb[s] = tt == 0 ? creg[s] : 0.0f;
            }
SCAN_UNROLL
            for (int i = 0; i < SCAN_ITEMS; i++) {
                const int t = tt * SCAN_ITEMS + i;
                const float2 v = ddx[t * SCAN_DLW + dl];
                float bq[SCAN_SPT];
                dxv[i] = v.y;
                scan_load_states(bq, bcs, t * SCAN_BCW + nb);
SCAN_UNROLL
                for (int s = 0; s < SCAN_SPT; s++) {
                    const float a = SCAN_EXPA(v.x * a2[s]);
                    const float bv = v.y * bq[s];
                    ea[s][i] = a;
#if SCAN_KEEPB
                    bx[s][i] = bv;
#endif
                    pb[s] = fma(a, pb[s], bv);
                    pa[s] *= a;
                }
            }
SCAN_UNROLL
            for (int s = 0; s < SCAN_SPT; s++) {
                const int lane = (s * SCAN_NSG + sg) * SCAN_DCH + dl;
                sa[tt * SCAN_NL + lane] = pa[s];
                sb[tt * SCAN_NL + lane] = pb[s];
            }
            barrier(CLK_LOCAL_MEM_FENCE);

            /* (3) exclusive scan over the time-threads */
            scan_block(sa, sb, lid);

            if (summary) { /* the chunk's end state and product: no replay, no y */
                if (tt == SCAN_TT - 1) {
SCAN_UNROLL
                    for (int s = 0; s < SCAN_SPT; s++) {
                        const int lane = (s * SCAN_NSG + sg) * SCAN_DCH + dl;
                        const float ea0 = SCAN_TT > 1 ? sa[tt * SCAN_NL + lane] : 1.0f;
                        const float eb0 = SCAN_TT > 1 ? sb[tt * SCAN_NL + lane] : 0.0f;
                        cl[lane] = fma(pa[s], eb0, pb[s]);
                        segp[s] *= ea0 * pa[s];
                    }
                }
                barrier(CLK_LOCAL_MEM_FENCE);
#if SCAN_PREF
                if (c0 + SCAN_CHUNK < len) {
SCAN_UNROLL
                    for (int j = 0; j < SCAN_PJ; j++) xr[j] = xn[j]; /* z is not read by the summary */
                }
#endif
                continue;
            }

            /* (4) replay with the true starting state */
            float st[SCAN_SPT], yv[SCAN_ITEMS];
SCAN_UNROLL
            for (int s = 0; s < SCAN_SPT; s++)
                st[s] = tt == 0 ? creg[s] : sb[tt * SCAN_NL + (s * SCAN_NSG + sg) * SCAN_DCH + dl];
SCAN_UNROLL
            for (int i = 0; i < SCAN_ITEMS; i++) {
                const int t = tt * SCAN_ITEMS + i;
                float cq[SCAN_SPT];
                scan_load_states(cq, bcs, t * SCAN_BCW + SCAN_NG + nb);
#if !SCAN_KEEPB
                float bq[SCAN_SPT];
                scan_load_states(bq, bcs, t * SCAN_BCW + nb);
#endif
                float acc = 0.0f;
SCAN_UNROLL
                for (int s = 0; s < SCAN_SPT; s++) {
#if SCAN_KEEPB
                    const float bv = bx[s][i];
#else
                    const float bv = dxv[i] * bq[s];
#endif
                    st[s] = fma(ea[s][i], st[s], bv);
                    acc = fma(cq[s], st[s], acc);
                }
                yv[i] = acc;
            }
            if (tt == SCAN_TT - 1) {
SCAN_UNROLL
                for (int s = 0; s < SCAN_SPT; s++) cl[(s * SCAN_NSG + sg) * SCAN_DCH + dl] = st[s];
            }
            barrier(CLK_LOCAL_MEM_FENCE); /* bcs is reused for the y partials */
SCAN_UNROLL
            for (int i = 0; i < SCAN_ITEMS; i++)
                bcs[sg * SCAN_YSW + (tt * SCAN_ITEMS + i) * SCAN_DCH + dl] = yv[i];
            barrier(CLK_LOCAL_MEM_FENCE);

            /* (5) sum over the state-threads, skip, gate, store; the next
             * chunk overwrites bcs only after its first dt-tile barrier */
SCAN_UNROLL
            for (int j = 0; j < SCAN_PJ; j++) {
                const int t = tq * SCAN_PJ + j;
                if (t >= nt || !dv) continue;
                const size_t o = (row0 + (size_t)t) * d_inner + d;
                float out = g > 0 ? y[o] : 0.0f;
SCAN_UNROLL
                for (int q = 0; q < SCAN_NSG; q++) out += bcs[q * SCAN_YSW + t * SCAN_DCH + dl];
                if (last_group) out = fma(dskip, xr[j], out) * mcl_silu(zr[j]);
                if (parts && last_group && ysplit) /* scan_prefill_split with parts */
                    scan_gated_out(yl, yhi, ylo, ylda, yf16, ysplit, row0 + (size_t)t, t, dl, d, d_inner, out);
                else
                    y[o] = out;
            }
#if SCAN_DCH % 8 == 0
            if (parts && last_group && ysplit) { /* the rows' parts from yl, 8 channels per item */
                if (!dv) { /* the padding's zeros */
SCAN_UNROLL
                    for (int j = 0; j < SCAN_PJ; j++) yl[(tq * SCAN_PJ + j) * SCAN_YLW + dl] = 0.0f;
                }
                barrier(CLK_LOCAL_MEM_FENCE);
                scan_store_rows(yl, yhi, ylo, ylda, yf16, ysplit, row0, nt, d0, lid);
            }
#endif
#if SCAN_PREF
            if (c0 + SCAN_CHUNK < len) {
SCAN_UNROLL
                for (int j = 0; j < SCAN_PJ; j++) {
                    xr[j] = xn[j];
                    zr[j] = zn[j];
                }
            }
#endif
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        if (summary) { /* this segment's map: P from the registers, S from the carry */
            if (tt == SCAN_TT - 1 && dv) {
SCAN_UNROLL
                for (int s = 0; s < SCAN_SPT; s++) {
                    const int n = n0 + nb + s;
                    const ulong o = (ulong)d * N + n;
                    if (n < N) {
                        sums[sumb + (ulong)(1 + 2 * seg) * slab + o] = segp[s];
                        sums[sumb + (ulong)(2 + 2 * seg) * slab + o] = cl[(s * SCAN_NSG + sg) * SCAN_DCH + dl];
                    }
                }
            }
        } else if (last_seg) {
            for (int k = lid; k < SCAN_NL; k += SCAN_WG) {
                const int q = k / SCAN_DCH, dd = d0 + k % SCAN_DCH;
                const int n = n0 + (q % SCAN_NSG) * SCAN_SPT + q / SCAN_NSG;
                if (n < N && dd < d_inner) ssm_state[sbase + (ulong)dd * N + n] = cl[k];
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

/* The two entry points' parameters and local arrays: each entry point is
 * its own specialization of scan_run (the main one keeps no summary
 * registers). Plain macros: OpenCL C has no variadic ones.
 *   xc [T, d_inner]; dbc [T, R+2N]; z(t, d) = xz[z_off + t*z_ld + d];
 *   w_dt [d_inner, R] in wdtype; b_dt [d_inner]; A [d_inner, N]; D [d_inner];
 *   ssm_state the pool (docs/contracts.md) at state_off + slot[b] * slot_stride;
 *   seq_start [n_seqs+1]; y [T, d_inner]; z's view (Mamba-1: d_inner,
 *   2*d_inner); sums [n_seqs, 2*nseg+1, d_inner, N] when nseg > 1; dtin
 *   [T, d_inner] = δ·W_dtᵀ when SCAN_DTIN (else not read).
 * Local: bcs4 B|C [t][BCW], then y partials [sg][t][dl]; ds4 the δ tile
 * [r][t]; wl the W_dt tile [r][dl]; ddx (Δ, Δ·x) [t][dl]; sa, sb the scan
 * pairs [tt][lane]; cl the carried state [lane]. */
#define SCAN_ENTRY_PARAMS                                                                                      \
    __global const float *restrict xc, __global const float *restrict dbc, __global const float *restrict xz, \
        __global const void *restrict w_dt, int wdtype, __global const float *restrict b_dt,                   \
        __global const float *restrict A, __global const float *restrict D, __global float *restrict ssm_state, \
        ulong state_off, __global const int *restrict slot, ulong slot_stride,                                 \
        __global const int *restrict seq_start, int n_seqs, int d_inner, int R, int N,                         \
        __global float *restrict y, ulong z_off, int z_ld, __global float *restrict sums,                      \
        __global const float *restrict dtin, __global ushort *restrict yhi, __global ushort *restrict ylo,    \
        int ylda, int yf16, int ysplit
#define SCAN_ENTRY_LOCALS                              \
    __local float4 bcs4[SCAN_STAGE / 4];               \
    __local float4 ds4[SCAN_RTL * SCAN_DSW / 4];       \
    __local float wl[SCAN_RTL * SCAN_DCH];             \
    __local float2 ddx[SCAN_CHUNK * SCAN_DLW];         \
    __local float sa[SCAN_TT * SCAN_NL];               \
    __local float sb[SCAN_TT * SCAN_NL];               \
    __local float cl[SCAN_NL];
#define SCAN_ENTRY_RUN(summary, parts)                                                                            \
    scan_run(xc, dbc, xz, w_dt, wdtype, b_dt, A, D, ssm_state, state_off, slot, slot_stride, seq_start, n_seqs, \
             d_inner, R, N, y, z_off, z_ld, sums, dtin, yhi, ylo, ylda, yf16, ysplit, bcs4, ds4, wl, ddx, sa, sb, \
             cl, summary, parts)

/* The scan (y and the final state); with nseg > 1 after scan_summary.
 * Empty (never launched) in a SCAN_YSPLIT program, whose scan_prefill_split
 * serves both forms of y: one set of local arrays per program (Oclgrind
 * sums them over a program's kernels). */
__kernel __attribute__((reqd_work_group_size(SCAN_WG, 1, 1)))
void scan_prefill(SCAN_ENTRY_PARAMS)
{
#if !SCAN_YSPLIT
    SCAN_ENTRY_LOCALS
    SCAN_ENTRY_RUN(0, 0);
#endif
}

/* scan_prefill writing y as the mma GEMM's split A (yhi, ylo [T, ylda],
 * ysplit 1 or 2, yf16) instead of fp32 y, or fp32 y with ysplit 0: its own
 * specialization, so that scan_prefill keeps none of the parts' code;
 * empty (never launched) without SCAN_YSPLIT. */
__kernel __attribute__((reqd_work_group_size(SCAN_WG, 1, 1)))
void scan_prefill_split(SCAN_ENTRY_PARAMS)
{
#if SCAN_YSPLIT
    SCAN_ENTRY_LOCALS
    SCAN_ENTRY_RUN(0, 1);
#endif
}

/* The segments' maps (SCAN_NSEG > 1), before scan_prefill; empty (never
 * launched) in an unsplit program. */
__kernel __attribute__((reqd_work_group_size(SCAN_WG, 1, 1)))
void scan_summary(SCAN_ENTRY_PARAMS)
{
#if SCAN_NSEG > 1
    SCAN_ENTRY_LOCALS
    SCAN_ENTRY_RUN(1, 0);
#endif
}

/* ---- scan_warp (SCAN_WARP 1): one warp of time-lanes per channel --------
 * Algorithm. One work-group per (sequence b, block of SCAN_DCH channels) of
 * WL·SCAN_DCH work-items (WL = SCAN_WL time-lanes per channel, 32, 16 or 8:
 * a warp holds 32/WL channels): work-items WL·w .. WL·w+WL-1 own channel
 * d0 + w, lane l of them SCAN_ITEMS consecutive timesteps of each chunk of
 * SW_CH = WL·SCAN_ITEMS. Per chunk:
 *  (1) stage: x, Δ = softplus(dtin + b_dt) of the block's (t, d) pairs and
 *      the chunk's B|C columns are loaded with coalesced loads (with
 *      SCAN_PREF during the previous chunk) and stored in local memory
 *      transposed, timestep t at column (t mod ITEMS)·WL + t/ITEMS of a
 *      row padded by WL + 1 (x, Δ: at most 2-way bank conflicts for the
 *      lanes' reads and the cooperative stores) or one (B|C: none);
 *  (2) per state n (unrolled: the states are independent chains): a_i =
 *      exp(Δ_i A[d,n]), b_i = Δ_i x_i B_i[n] in registers, the lane's
 *      composition (Π a, folded b) serially, then an inclusive scan of
 *      the WL lanes' pairs under (a1,b1)∘(a2,b2) = (a1·a2, a2·b1 + b2) by
 *      register shuffles (MCL_CAP_PTX: shfl.sync.up, log2 WL levels, no
 *      barrier; else through local memory, two barriers per state), the lane's
 *      starting state from the exclusive prefix and the carried state, a
 *      replay s_i = a_i s_{i-1} + b_i with y_i += C_i[n]·s_i; the carry
 *      of the next chunk is the channel's last lane's last state (a
 *      shuffle; the fallback folds all WL pairs);
 *  (3) y_i + D·x_i go through local memory back to the (t, d) layout and
 *      are stored with coalesced stores, times SiLU(z) (z loaded at the
 *      start of the chunk, or the previous one with SCAN_PREF).
 * Rows past a sequence's end are staged as Δ = 0, x = 0 (the identity
 * pair), so the last chunk needs no branch. Work O(L·N) per channel, one
 * exp per (t, d, n); the carried state stays in registers for the whole
 * sequence (read and written once). Needs SCAN_DTIN (the Δ pre-pass),
 * N <= SCAN_NG (the launcher uses scan_prefill otherwise) and SCAN_NSEG 1.
 * Memory traffic per (t, d): x, dtin, z read, y written (16 B); per t and
 * work-group 8·N B of B|C (from cache: every channel block reads them).
 * Local memory in floats: 2·NG·(SW_CH + 1) + 2·DCH·(SW_CH + WL + 1), and
 * 2·WL·DCH for the fallback's scan. Tunables: SCAN_DCH (channels per
 * group), SCAN_WL (WL·DCH a multiple of 32), SCAN_ITEMS,
 * SCAN_NG, SCAN_FAST_EXP, SCAN_PREF, SCAN_SUNR (states per step of the state
 * loop: NG or more, the loop fully unrolled with A and the carried states in
 * registers; fewer (dividing NG, session 18), the loop rolled with A and the
 * carries in local memory, 4·DCH·NG·3 bytes, the carries double-buffered by
 * chunk parity so that no barrier is needed inside a chunk: fewer live
 * registers, so that larger SCAN_ITEMS fit without spills) (SCAN_NSG/TT/KEEPB/RT
 * are the fallback scan_prefill's). x is read back from its local row for
 * D·x instead of kept in registers. */
#ifndef SCAN_WARP
#define SCAN_WARP 0
#endif
#if SCAN_WARP
#if !SCAN_DTIN || SCAN_NSEG != 1
#error "SCAN_WARP needs SCAN_DTIN and SCAN_NSEG 1"
#endif
#ifndef SCAN_WL
#define SCAN_WL 32
#endif
#if SCAN_WL > 32 || 32 % SCAN_WL != 0 || (SCAN_WL * SCAN_DCH) % 32 != 0
#error "SCAN_WL must divide 32 and SCAN_WL * SCAN_DCH be whole warps"
#endif
#ifndef SCAN_SUNR
#define SCAN_SUNR SCAN_NG
#endif
#define SW_SUNR (SCAN_SUNR < SCAN_NG ? SCAN_SUNR : SCAN_NG)
#define SW_ROLL (SW_SUNR < SCAN_NG)
#if SCAN_NG % SW_SUNR != 0
#error "SCAN_SUNR must divide SCAN_NG"
#endif
#define SW_CH (SCAN_WL * SCAN_ITEMS)
#define SW_WG (SCAN_WL * SCAN_DCH)
#define SW_ROW (SW_CH + SCAN_WL + 1)             /* x, Δ rows: at most 2-way bank conflicts both ways */
#define SW_BROW (SW_CH + 1)                      /* B|C rows */
#define SW_BCJ ((SW_CH * 2 * SCAN_NG + SW_WG - 1) / SW_WG) /* B|C loads per work-item */
#define SW_PERM(t) (((t) % SCAN_ITEMS) * SCAN_WL + (t) / SCAN_ITEMS)

#if MCL_CAP_PTX
inline float sw_up(float v, uint off)
{
    uint r;
    asm("shfl.sync.up.b32 %0, %1, %2, 0x0, 0xffffffff;" : "=r"(r) : "r"(as_uint(v)), "r"(off));
    return as_float(r);
}

inline float sw_idx(float v, uint lane)
{
    uint r;
    asm("shfl.sync.idx.b32 %0, %1, %2, 0x1f, 0xffffffff;" : "=r"(r) : "r"(as_uint(v)), "r"(lane));
    return as_float(r);
}
#endif

/* The chunk at row0 (nt >= 1 rows) of this work-item's cooperative share:
 * x, raw dtin and z of its ITEMS (t, d) pairs (t = lid/DCH + WL·j, channel
 * lid mod DCH; zeros past the chunk or d_inner) and its SW_BCJ B|C slots
 * (slot k = lid + j·WG: column k mod 2NG, timestep k / 2NG). */
inline void sw_load(float *xr, float *dr, float *zr, float *bcr, const __global float *xc,
                    const __global float *dtin, const __global float *xz, const __global float *dbc, size_t row0,
                    int nt, int d_inner, int cd, bool cv, ulong z_off, int z_ld, int ldb, int R, int N, int lid)
{
SCAN_UNROLL
    for (int j = 0; j < SCAN_ITEMS; j++) {
        const int t = lid / SCAN_DCH + SCAN_WL * j;
        const bool ok = cv && t < nt;
        const size_t row = row0 + (size_t)(ok ? t : 0);
        xr[j] = ok ? xc[row * d_inner + cd] : 0.0f;
        dr[j] = ok ? dtin[row * d_inner + cd] : 0.0f;
        zr[j] = ok ? xz[z_off + row * (size_t)z_ld + cd] : 0.0f;
    }
SCAN_UNROLL
    for (int j = 0; j < SW_BCJ; j++) {
        const int k = lid + j * SW_WG, t = k / (2 * SCAN_NG), c = k % (2 * SCAN_NG);
        const int isc = c >= SCAN_NG, n = c - isc * SCAN_NG;
        bcr[j] = (k < SW_CH * 2 * SCAN_NG && t < nt && n < N) ? dbc[(row0 + (size_t)t) * ldb + R + isc * N + n]
                                                              : 0.0f;
    }
}

/* The lane's exclusive prefix (*ea, *eb) and the channel's total (*ta, *tb)
 * of the pairs (pa, pb) over its SCAN_WL lanes (lane: the index among them;
 * the fallback: through sc, two barriers). With MCL_CAP_PTX the total is
 * not formed (*ta = *tb = 0); the shuffles' sources below a channel's first
 * lane are discarded. */
inline void sw_scan(float pa, float pb, int lane, __local float2 *sc, float *ea, float *eb, float *ta, float *tb)
{
#if MCL_CAP_PTX
    (void)sc;
SCAN_UNROLL
    for (uint off = 1; off < SCAN_WL; off *= 2) {
        const float ua = sw_up(pa, off), ub = sw_up(pb, off);
        if (lane >= (int)off) {
            pb = fma(pa, ub, pb);
            pa *= ua;
        }
    }
    const float xa = sw_up(pa, 1), xb = sw_up(pb, 1);
    *ea = lane ? xa : 1.0f;
    *eb = lane ? xb : 0.0f;
    *ta = *tb = 0.0f;
#else
    sc[lane] = (float2)(pa, pb);
    barrier(CLK_LOCAL_MEM_FENCE);
    float a = 1.0f, b = 0.0f;
    for (int m = 0; m < SCAN_WL; m++) {
        if (m == lane) *ea = a, *eb = b;
        const float2 v = sc[m];
        b = fma(v.x, b, v.y);
        a *= v.x;
    }
    *ta = a;
    *tb = b;
    barrier(CLK_LOCAL_MEM_FENCE);
#endif
}

/* State n of the lane's items (an = A[d,n]·ascale, cn its carried state):
 * the pairs (exp(Δ_i·an), Δ_i·x_i·B_i[n]), their composition, the pair scan
 * over the channel's lanes, the replay adding C_i[n]·s_i into yv; returns
 * the channel's state after the chunk (every lane alike). */
inline float sw_state(float an, float cn, int n, const float *dv, const float *dx, float *yv,
                      __local const float *bcs, int lane, __local float2 *sc, uint last)
{
    float av[SCAN_ITEMS], bv[SCAN_ITEMS];
    float pa = 1.0f, pb = 0.0f;
SCAN_UNROLL
    for (int i = 0; i < SCAN_ITEMS; i++) {
        av[i] = SCAN_EXPA(dv[i] * an);
        bv[i] = dx[i] * bcs[n * SW_BROW + i * SCAN_WL + lane];
        pb = fma(av[i], pb, bv[i]);
        pa *= av[i];
    }
    float ea, eb, ta, tb;
    sw_scan(pa, pb, lane, sc, &ea, &eb, &ta, &tb);
    float s = fma(ea, cn, eb);
SCAN_UNROLL
    for (int i = 0; i < SCAN_ITEMS; i++) {
        s = fma(av[i], s, bv[i]);
        yv[i] = fma(bcs[(SCAN_NG + n) * SW_BROW + i * SCAN_WL + lane], s, yv[i]);
    }
#if MCL_CAP_PTX
    (void)ta, (void)tb;
    return sw_idx(s, last);
#else
    (void)last;
    return fma(ta, cn, tb);
#endif
}

/* Scan arguments as SCAN_ENTRY_PARAMS (dtin required; sums not read). */
__kernel __attribute__((reqd_work_group_size(SW_WG, 1, 1)))
void scan_warp(SCAN_ENTRY_PARAMS)
{
    __local float bcs[2 * SCAN_NG * SW_BROW]; /* B|C [c][perm t] */
    __local float xs[SCAN_DCH * SW_ROW];     /* x, then y + D·x [dl][perm t] */
    __local float ds[SCAN_DCH * SW_ROW];     /* Δ [dl][perm t] */
#if !MCL_CAP_PTX
    __local float2 scr[SW_WG];               /* the fallback's lane pairs [w][lane] */
#else
    __local float2 *scr = 0;
#endif
    (void)w_dt, (void)wdtype, (void)sums, (void)yhi, (void)ylo, (void)ylda, (void)yf16, (void)ysplit;
    const int lid = (int)get_local_id(0), lane = lid % SCAN_WL, w = lid / SCAN_WL;
#if MCL_CAP_PTX
    const uint last = (uint)(lid % 32 - lane + SCAN_WL - 1); /* the channel's last lane in the warp */
#else
    const uint last = 0;
#endif
    const int ndg = (d_inner + SCAN_DCH - 1) / SCAN_DCH;
    const int b = (int)get_group_id(0) / ndg, d0 = ((int)get_group_id(0) % ndg) * SCAN_DCH;
    if (b >= n_seqs) return; /* uniform over the work-group */
    const int d = d0 + w, dc = d < d_inner ? d : d_inner - 1;
    const int cdl = lid % SCAN_DCH, cd = min(d0 + cdl, d_inner - 1); /* the cooperative channel */
    const bool cv = d0 + cdl < d_inner;
    const int t0 = seq_start[b], len = seq_start[b + 1] - t0, ldb = R + 2 * N;
    const ulong sbase = state_off + (ulong)slot[b] * slot_stride;
    const float bias = b_dt[cd], dskip = D[dc];
#if SW_ROLL
    __local float swa[SCAN_DCH * SCAN_NG];     /* A·ascale [w][n] */
    __local float swc[2 * SCAN_DCH * SCAN_NG]; /* carried states [chunk parity][w][n] */
    for (int k = lid; k < SCAN_DCH * SCAN_NG; k += SW_WG) {
        const int kw = k / SCAN_NG, n = k % SCAN_NG, kd = min(d0 + kw, d_inner - 1);
        swa[k] = n < N ? A[(size_t)kd * N + n] * SCAN_ASCALE : 0.0f;
        swc[k] = n < N ? ssm_state[sbase + (ulong)kd * N + n] : 0.0f;
    }
    int par = 0; /* the chunk's carries are in swc[par], its results go to swc[1 - par] */
#else
    float a2[SCAN_NG], carry[SCAN_NG];
SCAN_UNROLL
    for (int n = 0; n < SCAN_NG; n++) {
        a2[n] = n < N ? A[(size_t)dc * N + n] * SCAN_ASCALE : 0.0f;
        carry[n] = n < N ? ssm_state[sbase + (ulong)dc * N + n] : 0.0f;
    }
#endif
    float xr[SCAN_ITEMS], dr[SCAN_ITEMS], zr[SCAN_ITEMS], bcr[SW_BCJ];
#if SCAN_PREF
    if (len > 0)
        sw_load(xr, dr, zr, bcr, xc, dtin, xz, dbc, (size_t)t0, min(SW_CH, len), d_inner, cd, cv, z_off, z_ld, ldb,
                R, N, lid);
#endif
    for (int c0 = 0; c0 < len; c0 += SW_CH) {
        const int nt = min(SW_CH, len - c0);
        const size_t row0 = (size_t)(t0 + c0);
#if !SCAN_PREF
        sw_load(xr, dr, zr, bcr, xc, dtin, xz, dbc, row0, nt, d_inner, cd, cv, z_off, z_ld, ldb, R, N, lid);
#endif
        barrier(CLK_LOCAL_MEM_FENCE); /* the previous chunk's y is stored */
        /* (1) stage */
SCAN_UNROLL
        for (int j = 0; j < SCAN_ITEMS; j++) {
            const int t = lid / SCAN_DCH + SCAN_WL * j, o = cdl * SW_ROW + SW_PERM(t);
            xs[o] = xr[j];
            ds[o] = cv && t < nt ? mcl_softplus(dr[j] + bias) : 0.0f;
        }
SCAN_UNROLL
        for (int j = 0; j < SW_BCJ; j++) {
            const int k = lid + j * SW_WG, t = k / (2 * SCAN_NG), c = k % (2 * SCAN_NG);
            if (k < SW_CH * 2 * SCAN_NG) bcs[c * SW_BROW + SW_PERM(t)] = bcr[j];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
#if SCAN_PREF
        float zn[SCAN_ITEMS];
        if (c0 + SW_CH < len)
            sw_load(xr, dr, zn, bcr, xc, dtin, xz, dbc, row0 + SW_CH, min(SW_CH, len - c0 - SW_CH), d_inner, cd, cv,
                    z_off, z_ld, ldb, R, N, lid);
#endif
        /* (2) the lane's items, state by state */
        float dv[SCAN_ITEMS], dx[SCAN_ITEMS], yv[SCAN_ITEMS];
SCAN_UNROLL
        for (int i = 0; i < SCAN_ITEMS; i++) {
            dv[i] = ds[w * SW_ROW + i * SCAN_WL + lane];
            dx[i] = dv[i] * xs[w * SW_ROW + i * SCAN_WL + lane];
            yv[i] = 0.0f;
        }
#if SW_ROLL
        {
            __local const float *cin = swc + par * SCAN_DCH * SCAN_NG + w * SCAN_NG;
            __local float *cout = swc + (1 - par) * SCAN_DCH * SCAN_NG + w * SCAN_NG;
            for (int n0 = 0; n0 < SCAN_NG; n0 += SW_SUNR) {
SCAN_UNROLL
                for (int u = 0; u < SW_SUNR; u++) {
                    const int n = n0 + u;
                    const float c = sw_state(swa[w * SCAN_NG + n], cin[n], n, dv, dx, yv, bcs, lane,
                                             scr + w * SCAN_WL, last);
                    if (lane == 0) cout[n] = c;
                }
            }
            par = 1 - par;
        }
#else
SCAN_UNROLL
        for (int n = 0; n < SCAN_NG; n++)
            carry[n] = sw_state(a2[n], carry[n], n, dv, dx, yv, bcs, lane, scr + w * SCAN_WL, last);
#endif
        barrier(CLK_LOCAL_MEM_FENCE); /* xs, ds and bcs are read */
        /* (3) y + D·x back to (t, d), gated and stored (each lane rewrites its own x slots) */
SCAN_UNROLL
        for (int i = 0; i < SCAN_ITEMS; i++) {
            const int o = w * SW_ROW + i * SCAN_WL + lane;
            xs[o] = fma(dskip, xs[o], yv[i]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
SCAN_UNROLL
        for (int j = 0; j < SCAN_ITEMS; j++) {
            const int t = lid / SCAN_DCH + SCAN_WL * j;
            if (cv && t < nt) y[(row0 + (size_t)t) * d_inner + d0 + cdl] = xs[cdl * SW_ROW + SW_PERM(t)] * mcl_silu(zr[j]);
        }
#if SCAN_PREF
SCAN_UNROLL
        for (int j = 0; j < SCAN_ITEMS; j++) zr[j] = zn[j];
#endif
    }
#if SW_ROLL
    /* the final carries (swc[par]) back, cooperatively; the loads above were all done before the loop's barriers */
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
    for (int k = lid; k < SCAN_DCH * SCAN_NG; k += SW_WG) {
        const int kw = k / SCAN_NG, n = k % SCAN_NG;
        if (d0 + kw < d_inner && n < N) ssm_state[sbase + (ulong)(d0 + kw) * N + n] = swc[par * SCAN_DCH * SCAN_NG + k];
    }
#else
    /* every lane read the starting state; lane 0 overwrites it */
    barrier(CLK_GLOBAL_MEM_FENCE);
    if (lane == 0 && d < d_inner)
        for (int n = 0; n < N && n < SCAN_NG; n++) ssm_state[sbase + (ulong)d * N + n] = carry[n];
#endif
}
#endif

/* δ = dbc[:, :R] as a contiguous [T, R] (the dt GEMM's A under SCAN_DTIN 2):
 * one work-item per element. */
__kernel void scan_dt_gather(__global const float *restrict dbc, // [T, ldb]
                             int ldb, int R, int T,
                             __global float *restrict delta)     // [T, R]
{
    const size_t i = get_global_id(0);
    if (i >= (size_t)T * (size_t)R) return;
    delta[i] = dbc[(i / (size_t)R) * (size_t)ldb + i % (size_t)R];
}

/* The dt projection of SCAN_DTIN 1 as a register-blocked SIMT GEMM:
 * dtin[t, d] = Σ_r W_dt[d, r]·δ_t[r] (δ_t = dbc[t, :R], read in place; no
 * bias, no softplus: the scan adds them). One work-group of SCAN_DTW² work-items
 * per tile of DT_TILE = SCAN_DTV·SCAN_DTW timesteps × DT_TILE channels;
 * work-item (tx, ty) owns SCAN_DTV timesteps × SCAN_DTV channels in groups of
 * 4 (channels 4tx + 4·DTW·q.., timesteps 4ty + 4·DTW·p..); R in slices of
 * DT_KB = 64/SCAN_DTV through local memory (δ [k][t] and W [k][d], rows
 * padded by 4): per slice column 2·DTV/4 float4 loads feed DTV² FMAs. Traffic:
 * dbc and W_dt once per tile (from cache), dtin written once (4 B per (t, d)).
 * Tunables: SCAN_DTW (derived from the device's work-group limit), SCAN_DTV
 * (4 or 8). */
#ifndef SCAN_DTW
#define SCAN_DTW 16
#endif
#ifndef SCAN_DTV
#define SCAN_DTV 4
#endif
#if SCAN_DTV != 4 && SCAN_DTV != 8 && SCAN_DTV != 16
#error "SCAN_DTV must be 4, 8 or 16 (scan_dt: 4 or 8)"
#endif
#if SCAN_DTV == 4 || SCAN_DTV == 8 /* scan_dt's blocks; scan_dt2 below takes any */
#define DT_Q (SCAN_DTV / 4)          /* float4 groups per side */
#define DT_TILE (SCAN_DTV * SCAN_DTW)
#define DT_KB (64 / SCAN_DTV)
#define DT_ROW (DT_TILE + 4)
__kernel __attribute__((reqd_work_group_size(SCAN_DTW * SCAN_DTW, 1, 1)))
void scan_dt(__global const float *restrict dbc, // [T, ldb], δ in columns 0..R-1
             int ldb, int R, int T,
             __global const void *restrict w_dt, // [d_inner, R] in wdtype
             int wdtype, int d_inner,
             __global float *restrict dtin)      // [T, d_inner]
{
    __local float4 ds4[DT_KB * DT_ROW / 4];
    __local float4 ws4[DT_KB * DT_ROW / 4];
    __local float *ds = (__local float *)ds4, *ws = (__local float *)ws4;
    const int lid = (int)get_local_id(0), tx = lid % SCAN_DTW, ty = lid / SCAN_DTW;
    const int ntd = (d_inner + DT_TILE - 1) / DT_TILE;
    const int d0 = ((int)get_group_id(0) % ntd) * DT_TILE, t0 = ((int)get_group_id(0) / ntd) * DT_TILE;
    float acc[SCAN_DTV][SCAN_DTV];
SCAN_UNROLL
    for (int i = 0; i < SCAN_DTV; i++)
SCAN_UNROLL
        for (int j = 0; j < SCAN_DTV; j++) acc[i][j] = 0.0f;
    for (int k0 = 0; k0 < R; k0 += DT_KB) {
        barrier(CLK_LOCAL_MEM_FENCE); /* the previous slice is read */
        for (int e = lid; e < DT_KB * DT_TILE; e += SCAN_DTW * SCAN_DTW) {
            const int k = e % DT_KB, i = e / DT_KB; /* k fastest: a row's columns are contiguous */
            const int t = t0 + i, d = d0 + i, kk = k0 + k;
            ds[k * DT_ROW + i] = (t < T && kk < R) ? dbc[(size_t)t * ldb + kk] : 0.0f;
            ws[k * DT_ROW + i] = (d < d_inner && kk < R) ? mcl_load_w(w_dt, (size_t)d * R + kk, wdtype) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        const int nk = min(DT_KB, R - k0);
        for (int k = 0; k < nk; k++) {
            float av[SCAN_DTV], bv[SCAN_DTV];
SCAN_UNROLL
            for (int q = 0; q < DT_Q; q++) {
                const float4 a = ds4[k * (DT_ROW / 4) + ty + q * SCAN_DTW];
                const float4 b = ws4[k * (DT_ROW / 4) + tx + q * SCAN_DTW];
                av[4 * q] = a.x, av[4 * q + 1] = a.y, av[4 * q + 2] = a.z, av[4 * q + 3] = a.w;
                bv[4 * q] = b.x, bv[4 * q + 1] = b.y, bv[4 * q + 2] = b.z, bv[4 * q + 3] = b.w;
            }
SCAN_UNROLL
            for (int i = 0; i < SCAN_DTV; i++)
SCAN_UNROLL
                for (int j = 0; j < SCAN_DTV; j++) acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
    }
SCAN_UNROLL
    for (int i = 0; i < SCAN_DTV; i++) {
        const int t = t0 + 4 * ty + (i / 4) * 4 * SCAN_DTW + i % 4;
        if (t >= T) continue;
SCAN_UNROLL
        for (int j = 0; j < SCAN_DTV; j++) {
            const int d = d0 + 4 * tx + (j / 4) * 4 * SCAN_DTW + j % 4;
            if (d < d_inner) dtin[(size_t)t * d_inner + d] = acc[i][j];
        }
    }
}
#endif

/* scan_dt2 (SCAN_DTIN 3): the same product as scan_dt, bitwise (each output
 * is fma(δ_t[r], W[d, r], acc) over r ascending from 0, as there), with
 * 16-byte traffic and the next slice's global loads in flight during this
 * slice's FMAs.
 * Algorithm. One work-group of SCAN_DTW² work-items per tile of DT2_TT =
 * SCAN_DTV·SCAN_DTW timesteps × DT2_TD = 4·SCAN_DTW channels, channel tiles
 * fastest (neighbouring groups share δ rows in L2); work-item (tx, ty) owns
 * the SCAN_DTV consecutive timesteps ty·DTV.. and the 4 consecutive channels
 * 4·tx..: per r one float4 of W (16 distinct per warp) and DTV values of δ
 * (2 distinct addresses per warp: broadcasts) feed 4·DTV FMAs. R in slices of
 * DT2_KB = 16 columns through two local buffers (one barrier per slice): the
 * slice s+1 is loaded into registers (float4 loads of 4 consecutive columns
 * where the row stride allows, else scalars) right after slice s is stored,
 * and stored after slice s's FMAs. Outputs leave as float4 rows of 4
 * channels (coalesced, 256 B per warp row) where d_inner % 4 == 0.
 * Traffic: as scan_dt (dbc and W_dt from cache, dtin written once).
 * Local memory: 2·DT2_KB·(DT2_TT + DT2_TD + 8)·4 B (25 KiB at DTW 16, DTV 8,
 * 41 KiB at DTV 16). Tunables: SCAN_DTW, SCAN_DTV (4, 8 or 16). */
#define DT2_KB 16
#define DT2_WG (SCAN_DTW * SCAN_DTW)
#define DT2_TT (SCAN_DTV * SCAN_DTW)
#define DT2_TD (4 * SCAN_DTW)
#define DT2_RT (DT2_TT + 4) /* padded rows of the δ slice [k][t] */
#define DT2_RD (DT2_TD + 4) /* and of the W slice [k][d] */
#define DT2_DJ ((DT2_TT * DT2_KB / 4 + DT2_WG - 1) / DT2_WG) /* δ float4 slots per work-item */
#define DT2_WJ ((DT2_TD * DT2_KB / 4 + DT2_WG - 1) / DT2_WG) /* W float4 slots per work-item */

/* 4 consecutive weights W[i..i+3] in any dtype (n of them valid, the rest 0). */
inline float4 dt2_load_w4(const __global void *w, size_t i, int n, int wdtype)
{
    if (n >= 4) {
        if (wdtype == MCL_DTYPE_F32) return vload4(0, (const __global float *)w + i);
        if (wdtype == MCL_DTYPE_F16) return vload_half4(0, (const __global half *)w + i);
    }
    float4 v = (float4)(0.0f);
    if (n > 0) v.x = mcl_load_w(w, i, wdtype);
    if (n > 1) v.y = mcl_load_w(w, i + 1, wdtype);
    if (n > 2) v.z = mcl_load_w(w, i + 2, wdtype);
    if (n > 3) v.w = mcl_load_w(w, i + 3, wdtype);
    return v;
}

/* 4 consecutive δ values of row t from column kk (n valid; a float4 load when
 * the whole group is valid and 16-byte aligned). */
inline float4 dt2_load_d4(const __global float *dbc, size_t o, int n)
{
    if (n >= 4 && o % 4 == 0) return *(const __global float4 *)(dbc + o);
    float4 v = (float4)(0.0f);
    if (n > 0) v.x = dbc[o];
    if (n > 1) v.y = dbc[o + 1];
    if (n > 2) v.z = dbc[o + 2];
    if (n > 3) v.w = dbc[o + 3];
    return v;
}

/* This work-item's slots of the slice at column k0 into registers: slot e
 * (lid + j·WG) is row e/4 of the tile, columns k0 + 4·(e%4) ..+3. Rows past
 * T or d_inner load nothing, and their addresses are clamped to the last
 * row all the same: PoCL's compiler was seen to issue the W_dt load of such
 * a row before the select (a fault under ASan, test_prefill_dt2, session 18). */
inline void dt2_load(float4 *dr, float4 *wr, const __global float *dbc, int ldb, int R, int T,
                     const __global void *w_dt, int wdtype, int d_inner, int t0, int d0, int k0, int lid)
{
SCAN_UNROLL
    for (int j = 0; j < DT2_DJ; j++) {
        const int e = lid + j * DT2_WG, row = e / 4, kk = k0 + 4 * (e % 4);
        const bool ok = e < DT2_TT * DT2_KB / 4 && t0 + row < T;
        dr[j] = ok ? dt2_load_d4(dbc, (size_t)min(t0 + row, T - 1) * ldb + kk, R - kk) : (float4)(0.0f);
    }
SCAN_UNROLL
    for (int j = 0; j < DT2_WJ; j++) {
        const int e = lid + j * DT2_WG, row = e / 4, kk = k0 + 4 * (e % 4);
        const bool ok = e < DT2_TD * DT2_KB / 4 && d0 + row < d_inner;
        wr[j] = ok ? dt2_load_w4(w_dt, (size_t)min(d0 + row, d_inner - 1) * R + kk, R - kk, wdtype) : (float4)(0.0f);
    }
}

/* The registers of dt2_load into the slice buffers ds [k][t], ws [k][d]. */
inline void dt2_store(__local float *ds, __local float *ws, const float4 *dr, const float4 *wr, int lid)
{
SCAN_UNROLL
    for (int j = 0; j < DT2_DJ; j++) {
        const int e = lid + j * DT2_WG, row = e / 4, k = 4 * (e % 4);
        if (e < DT2_TT * DT2_KB / 4) {
            ds[k * DT2_RT + row] = dr[j].x;
            ds[(k + 1) * DT2_RT + row] = dr[j].y;
            ds[(k + 2) * DT2_RT + row] = dr[j].z;
            ds[(k + 3) * DT2_RT + row] = dr[j].w;
        }
    }
SCAN_UNROLL
    for (int j = 0; j < DT2_WJ; j++) {
        const int e = lid + j * DT2_WG, row = e / 4, k = 4 * (e % 4);
        if (e < DT2_TD * DT2_KB / 4) {
            ws[k * DT2_RD + row] = wr[j].x;
            ws[(k + 1) * DT2_RD + row] = wr[j].y;
            ws[(k + 2) * DT2_RD + row] = wr[j].z;
            ws[(k + 3) * DT2_RD + row] = wr[j].w;
        }
    }
}

__kernel __attribute__((reqd_work_group_size(DT2_WG, 1, 1)))
void scan_dt2(__global const float *restrict dbc, // [T, ldb], δ in columns 0..R-1
              int ldb, int R, int T,
              __global const void *restrict w_dt, // [d_inner, R] in wdtype
              int wdtype, int d_inner,
              __global float *restrict dtin)      // [T, d_inner]
{
    __local float4 ds4[2 * DT2_KB * DT2_RT / 4];
    __local float4 ws4[2 * DT2_KB * DT2_RD / 4];
    const int lid = (int)get_local_id(0), tx = lid % SCAN_DTW, ty = lid / SCAN_DTW;
    const int ntd = (d_inner + DT2_TD - 1) / DT2_TD;
    const int d0 = ((int)get_group_id(0) % ntd) * DT2_TD, t0 = ((int)get_group_id(0) / ntd) * DT2_TT;
    float4 acc[SCAN_DTV], dr[DT2_DJ], wr[DT2_WJ];
SCAN_UNROLL
    for (int i = 0; i < SCAN_DTV; i++) acc[i] = (float4)(0.0f);
    const int ns = (R + DT2_KB - 1) / DT2_KB;
    if (ns > 0) dt2_load(dr, wr, dbc, ldb, R, T, w_dt, wdtype, d_inner, t0, d0, 0, lid);
    for (int s = 0; s < ns; s++) {
        /* buffer s%2 was last read in slice s-2, before the barrier of slice s-1 */
        __local float *ds = (__local float *)ds4 + (s % 2) * DT2_KB * DT2_RT;
        __local float *ws = (__local float *)ws4 + (s % 2) * DT2_KB * DT2_RD;
        dt2_store(ds, ws, dr, wr, lid);
        barrier(CLK_LOCAL_MEM_FENCE);
        if (s + 1 < ns) dt2_load(dr, wr, dbc, ldb, R, T, w_dt, wdtype, d_inner, t0, d0, (s + 1) * DT2_KB, lid);
        const int nk = min(DT2_KB, R - s * DT2_KB);
        for (int k = 0; k < nk; k++) {
            const float4 b = *(const __local float4 *)(ws + k * DT2_RD + 4 * tx);
            float av[SCAN_DTV];
SCAN_UNROLL
            for (int q = 0; q < SCAN_DTV / 4; q++) {
                const float4 a = *(const __local float4 *)(ds + k * DT2_RT + ty * SCAN_DTV + 4 * q);
                av[4 * q] = a.x, av[4 * q + 1] = a.y, av[4 * q + 2] = a.z, av[4 * q + 3] = a.w;
            }
SCAN_UNROLL
            for (int i = 0; i < SCAN_DTV; i++) acc[i] = fma((float4)(av[i]), b, acc[i]);
        }
    }
    const int d = d0 + 4 * tx;
    const bool vec = d_inner % 4 == 0 && d + 3 < d_inner;
SCAN_UNROLL
    for (int i = 0; i < SCAN_DTV; i++) {
        const int t = t0 + ty * SCAN_DTV + i;
        if (t >= T) continue;
        __global float *o = dtin + (size_t)t * d_inner + d;
        if (vec) {
            *(__global float4 *)o = acc[i];
        } else {
            if (d < d_inner) o[0] = acc[i].x;
            if (d + 1 < d_inner) o[1] = acc[i].y;
            if (d + 2 < d_inner) o[2] = acc[i].z;
            if (d + 3 < d_inner) o[3] = acc[i].w;
        }
    }
}
