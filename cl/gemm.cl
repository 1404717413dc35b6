/* gemm.cl: C[M, N] = A[M, K] . W[N, K]^T + beta * C for the projections of
 * prefill and of large decode batches. A and C are fp32 row-major
 * activations; W is a weight matrix stored as F32, F16 or BF16 (read as
 * stored, no fp32 copy); accumulation is fp32. beta is 0 (C is not read) or
 * any other value (C is read).
 *
 * Two paths, chosen by the host (src/ops/gemm.c):
 *
 * gemm_mma_bf16 / gemm_mma_f16 (only compiled with MCL_CAP_MMA, the NVIDIA
 *   mma.sync capability proven at startup): tensor cores. A is first split
 *   by gemm_split_a into 16-bit parts of W's type: hi = round(a),
 *   lo = round(a - hi) (GEMM_SPLIT = 2; 1 keeps only hi), stored [M, lda]
 *   with lda = K rounded up to 8 and zero padding. Each work-group computes a
 *   GEMM_BM x GEMM_BN block of C with GEMM_WM x GEMM_WN warps (warp tile
 *   (BM/WM) x (BN/WN) of m16n8 mma tiles). K advances in GEMM_BK steps
 *   through GEMM_STAGES local-memory buffers filled by cp.async (16-byte
 *   chunks, zero-filled outside the matrix) while the previous stage is
 *   multiplied: ldmatrix.x4 loads the fragments (GEMM_SWZ = 1: rows of
 *   XOR-swizzled 16-byte chunks, so the 8 row addresses of one ldmatrix phase
 *   fall in distinct banks without padding; 0: rows padded by 8 halves) and
 *   each W
 *   fragment is used for the hi and the lo product:
 *   C = A_hi . W^T + A_lo . W^T. W rows that are not 16-byte aligned
 *   (K % 8 != 0) are loaded element by element instead of by cp.async.
 *   Split-K: grid dimension 2 cuts K into slices of k_len (a multiple of
 *   GEMM_BK); each slice writes its partial C into its own [M, N] slab of a
 *   workspace and gemm_reduce adds the slabs (and beta * C); with
 *   GEMM_SKRED = 1 the GEMM adds them itself (gemm_skred below: the last
 *   slice of a C tile to finish), so there is no gemm_reduce launch.
 *   GEMM_FUSE = 1 or 2: no gemm_split_a pass; the kernel reads A as fp32
 *   and splits it in registers (cvt.rn.{bf16,f16}x2.f32: the same
 *   round-to-nearest-even hi and lo as gemm_split_a), so the parts never
 *   reach global memory. 1: cp.async of fp32 A into local rows of GEMM_BK + 8
 *   floats (element by element where K % 4 != 0); each lane forms its A
 *   fragments from local memory (64-bit loads of the pairs the m16n8k16
 *   layout gives it) and splits them there (once per warp column). 2: each
 *   item loads its share of the next K step's fp32 A into registers (16-byte
 *   loads) before the current step's products, then splits it and stores hi
 *   and lo in the local layout of GEMM_FUSE 0 (split once per block; the
 *   fragments by ldmatrix as with 0).
 * gemm_simt (every device): a tiled fp32 kernel. A work-group of
 *   GEMM_SW x GEMM_SW items computes a (SW*ST) x (SW*ST) block, each item
 *   ST x ST outputs strided by SW (conflict-free local reads); K advances in
 *   GEMM_SBK steps through local tiles of A and of W widened to fp32.
 *   Split-K as the mma kernels (k_len a multiple of GEMM_SBK; slabs, then
 *   gemm_reduce or GEMM_SKRED).
 * gemm_skred (GEMM_SKRED = 1, both paths, only with more than one slice):
 *   after a work-group has written its slab it fences its global writes and
 *   takes a ticket from the counter of its C tile (atomic_inc on
 *   cnt[tile], a zeroed buffer the host keeps with the workspace); the
 *   group that draws ticket S - 1 arrives last: it resets the counter to 0
 *   for the next launch, fences, and writes C = sum of the S slabs in slice
 *   order 0..S-1 (+ beta * C): the additions of gemm_reduce in its order, so
 *   the result is bitwise the same. Its slab reads are volatile (not served
 *   from a non-coherent L1) where PTX is on, atomic elsewhere (what a
 *   simulator orders after the other groups' atomics; as dlayer.cl's
 *   barrier words). Extra traffic: none over gemm_reduce's (the slabs are
 *   read once, C written once), one launch less.
 *
 * Traffic: the mma path reads A (fp32) once and writes/reads its 16-bit
 * parts (2 * SPLIT bytes per element; none with GEMM_FUSE, whose blocks read
 * 4 bytes of fp32 A per element instead of 2 * SPLIT), then each block reads its A and W
 * tiles once per K step: A is re-read N/BN times and W M/BM times (mostly
 * from L2), C is written once (read once more when beta != 0; SPLITK slabs
 * add 2 * 4 bytes per element of C per slice). The SIMT path re-reads A
 * N/(SW*ST) times and W M/(SW*ST) times.
 *
 * Precision: the mma path with SPLIT = 2 represents each activation to about
 * 2^-17 (BF16) or 2^-22 (F16) of its magnitude; products are exact in the
 * tensor core and summed in fp32. F16 parts overflow above 65504: the host
 * uses the SIMT path for F32 weights, and F16 weights with such activations
 * would need the SIMT path too (Mamba's normalized activations stay far
 * below). docs/kernels.md gives the measured errors.
 *
 * Tunables (src/tune/tune_kern.c): GEMM_BM, GEMM_BN, GEMM_BK, GEMM_WM,
 * GEMM_WN, GEMM_STAGES (2..4), GEMM_SPLIT (1, 2), GEMM_SPLITK (most slices),
 * GEMM_SWZ (swizzled or padded local rows), GEMM_FUSE (A split inside the GEMM),
 * GEMM_SKRED (the split-K slabs added inside the GEMM), GEMM_FAST (1: blocks
 * inside M and N with K % 8 == 0 fill their stages with no per-chunk bounds
 * test, from per-block base addresses, and C is stored in float2 pairs where
 * N is even; bitwise the same C), GEMM_LDF (1: per m16 tile A fragments, see
 * mma_stage; bitwise the same, measured slower on the H200),
 * GEMM_SW, GEMM_ST, GEMM_SBK, GEMM_GEMV_MAX_ROWS (host: rows up to which gemv
 * runs instead), GEMM_CLBLAST (host: 1 = CLBlast SGEMM instead of gemm_simt).
 */
#ifndef GEMM_BM
#define GEMM_BM 64
#endif
#ifndef GEMM_BN
#define GEMM_BN 128
#endif
#ifndef GEMM_BK
#define GEMM_BK 32
#endif
#ifndef GEMM_WM
#define GEMM_WM 2
#endif
#ifndef GEMM_WN
#define GEMM_WN 2
#endif
#ifndef GEMM_STAGES
#define GEMM_STAGES 2
#endif
#ifndef GEMM_SPLIT
#define GEMM_SPLIT 2
#endif
#ifndef GEMM_SWZ
#define GEMM_SWZ 0
#endif
#ifndef GEMM_FUSE
#define GEMM_FUSE 0
#endif
#ifndef GEMM_SKRED
#define GEMM_SKRED 0
#endif
#ifndef GEMM_LDF
#define GEMM_LDF 0
#endif
#ifndef GEMM_FAST
#define GEMM_FAST 1
#endif
#ifndef GEMM_SW
#define GEMM_SW 8
#endif
#ifndef GEMM_ST
#define GEMM_ST 4
#endif
#ifndef GEMM_SBK
#define GEMM_SBK 16
#endif
#ifndef MCL_CAP_MMA
#define MCL_CAP_MMA 0
#endif
/* The local word of gemm_skred's ticket (only with GEMM_SKRED: a 48 KiB
 * configuration keeps its local memory without it). */
#if GEMM_SKRED
#define GEMM_FLAG_DECL __local uint flag
#define GEMM_FLAG (&flag)
#else
#define GEMM_FLAG_DECL
#define GEMM_FLAG ((__local uint *)0)
#endif

/* (The rounding helpers, gemm_round4 and gemm_pack8, are in common.cl: norm.cl's
 * rmsnorm_split writes the same parts.)
 * hi[r, k] = round(A[r, k]), lo[r, k] = round(A[r, k] - hi) in F16 (f16 != 0)
 * or BF16, for r < M, k < lda (zero for k >= K); lo only when split == 2.
 * lda is a multiple of 8; each item does 8 consecutive k of one row and
 * stores 16 bytes per part (the rows of hi and lo are 16-byte aligned).
 * Traffic per element: 4 bytes read, 2 * split written. */
__kernel void gemm_split_a(__global const float *A, int M, int K, int lda, int f16, int split,
                           __global ushort *hi, __global ushort *lo)
{
    int k = 8 * get_global_id(0), r = get_global_id(1);
    if (k >= lda || r >= M) return;
    __global const float *row = A + (size_t)r * K;
    float4 a0 = gemm_row4(row, k, K), a1 = gemm_row4(row, k + 4, K);
    float4 h0 = gemm_round4(a0, f16), h1 = gemm_round4(a1, f16);
    size_t o = ((size_t)r * lda + k) / 8;
    ((__global uint4 *)hi)[o] = gemm_pack8(h0, h1, f16);
    if (split == 2) ((__global uint4 *)lo)[o] = gemm_pack8(gemm_round4(a0 - h0, f16), gemm_round4(a1 - h1, f16), f16);
}

/* C[i] = sum over s < S of ws[s * MN + i] (+ beta * C[i] when beta != 0). */
__kernel void gemm_reduce(__global const float *ws, int S, ulong MN, float beta, __global float *C)
{
    size_t i = get_global_id(0);
    if (i >= MN) return;
    float s = 0.0f;
    for (int z = 0; z < S; z++) s += ws[(size_t)z * MN + i];
    C[i] = beta != 0.0f ? s + beta * C[i] : s;
}

/* One element of a slab as the last group of a tile reads it (see the
 * header: volatile where PTX is on, else an atomic read). */
inline float gemm_slab_read(__global float *ws, size_t i)
{
#if MCL_CAP_PTX
    return ((volatile __global float *)ws)[i];
#else
    return as_float(atomic_or((volatile __global uint *)ws + i, 0u));
#endif
}

/* Four of them (i a multiple of 4): one 16-byte volatile load with PTX. */
inline float4 gemm_slab_read4(__global float *ws, size_t i)
{
#if MCL_CAP_PTX
    return *(volatile __global float4 *)(ws + i);
#else
    return (float4)(gemm_slab_read(ws, i), gemm_slab_read(ws, i + 1), gemm_slab_read(ws, i + 2),
                    gemm_slab_read(ws, i + 3));
#endif
}

/* The last group's sums (gemm_skred), RV positions of an item at once and
 * RZ slabs of each loaded before they are added (RV * RZ loads in flight
 * per item, not one), in slice order; T float or float4 (W elements at
 * consecutive columns), READ the matching gemm_slab_read. */
#define GEMM_RV 4
#define GEMM_RZ 4
#define GEMM_SKRED_SUM(T, W, READ, STORE)                                                          \
    {                                                                                              \
        const int wv = w / (W), nv = h * wv;                                                       \
        for (int i0 = lid; i0 < nv; i0 += items * GEMM_RV) {                                       \
            size_t o[GEMM_RV];                                                                     \
            T s[GEMM_RV];                                                                          \
            _Pragma("unroll") for (int p = 0; p < GEMM_RV; p++) {                                  \
                int i = min(i0 + p * items, nv - 1); /* clamped: read again, not written */       \
                o[p] = (size_t)(m0 + i / wv) * N + n0 + (W) * (i % wv);                            \
                s[p] = (T)(0.0f);                                                                  \
            }                                                                                      \
            uint z0 = 0;                                                                           \
            for (; z0 + GEMM_RZ <= S; z0 += GEMM_RZ) {                                             \
                T v[GEMM_RZ][GEMM_RV];                                                             \
                _Pragma("unroll") for (int z = 0; z < GEMM_RZ; z++)                                \
                    _Pragma("unroll") for (int p = 0; p < GEMM_RV; p++)                            \
                        v[z][p] = READ(ws, (size_t)(z0 + z) * mn + o[p]);                          \
                _Pragma("unroll") for (int z = 0; z < GEMM_RZ; z++)                                \
                    _Pragma("unroll") for (int p = 0; p < GEMM_RV; p++) s[p] += v[z][p];           \
            }                                                                                      \
            for (; z0 < S; z0++) {                                                                 \
                T v[GEMM_RV];                                                                      \
                _Pragma("unroll") for (int p = 0; p < GEMM_RV; p++)                                \
                    v[p] = READ(ws, (size_t)z0 * mn + o[p]);                                       \
                _Pragma("unroll") for (int p = 0; p < GEMM_RV; p++) s[p] += v[p];                  \
            }                                                                                      \
            _Pragma("unroll") for (int p = 0; p < GEMM_RV; p++)                                    \
                if (i0 + p * items < nv) STORE;                                                    \
        }                                                                                          \
    }

/* out[o] = v; a slab element (sliced) with GEMM_SKRED where PTX is off by
 * an atomic exchange: Oclgrind does not see the fence + ticket as ordering
 * a plain store of one work-group before the last group's read of it and
 * reported each such pair as a data race (atomics on both sides it does
 * not). */
inline void gemm_put(__global float *out, size_t o, float v, bool sliced)
{
#if GEMM_SKRED && !MCL_CAP_PTX
    if (sliced) {
        atomic_xchg((volatile __global uint *)out + o, as_uint(v));
        return;
    }
#endif
    out[o] = v;
}

/* The split-K reduction inside the GEMM (GEMM_SKRED), called by every item
 * of a work-group (`items` of them, local id lid) after it wrote its part of
 * the slab of slice get_group_id(2) of ws [S, M, N]: the last of the S
 * groups of C tile (get_group_id(0), get_group_id(1)) - rows m0..m0+bm-1,
 * columns n0..n0+bn-1 - writes C = ws[0] + ... + ws[S-1] (+ beta * C) there
 * and resets cnt[tile] to 0; the others return. flag: one local uint. */
inline __attribute__((always_inline)) void gemm_skred(__global float *ws, __global float *C, volatile __global uint *cnt,
                                                    __local uint *flag, int M, int N, float beta, int m0,
                                                    int n0, int bm, int bn, int lid, int items)
{
    const uint S = get_num_groups(2);
    mem_fence(CLK_GLOBAL_MEM_FENCE); /* this item's slab writes before the ticket */
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
    if (lid == 0) {
        uint tile = get_group_id(1) * get_num_groups(0) + get_group_id(0);
        uint last = atomic_inc(&cnt[tile]) == S - 1;
        if (last) atomic_xchg(&cnt[tile], 0u); /* all S arrived: nobody else reads it in this launch */
        mem_fence(CLK_GLOBAL_MEM_FENCE);
        *flag = last;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (!*flag) return;
    mem_fence(CLK_GLOBAL_MEM_FENCE); /* the other slices' slabs after their tickets */
    const size_t mn = (size_t)M * N;
    const int h = min(bm, M - m0), w = min(bn, N - n0);
    if (N % 4 == 0) /* rows and the tile's columns 16-byte aligned (n0 a multiple of 16) */
        GEMM_SKRED_SUM(float4, 4, gemm_slab_read4, {
            __global float4 *c = (__global float4 *)(C + o[p]);
            *c = beta != 0.0f ? s[p] + beta * *c : s[p];
        })
    else
        GEMM_SKRED_SUM(float, 1, gemm_slab_read, C[o[p]] = beta != 0.0f ? s[p] + beta * C[o[p]] : s[p])
}

/* ---- SIMT path ------------------------------------------------------------------ */

#define SIMT_B (GEMM_SW * GEMM_ST)

/* Grid: (ceil(N / B) * SW, ceil(M / B) * SW, slices), B = SW * ST; local
 * (SW, SW, 1). One slice: C = A . W^T + beta * C. More: slice z covers K
 * from z * k_len (a multiple of GEMM_SBK) and writes its slab z of C, the
 * workspace [slices, M, N] (beta not applied); with GEMM_SKRED the last
 * slice of each tile then writes Cf = the sum of the slabs + beta * Cf
 * (cnt: a zeroed uint per C tile, left zeroed), else gemm_reduce does. Cf
 * and cnt are not read without slices and GEMM_SKRED. */

__kernel __attribute__((reqd_work_group_size(GEMM_SW, GEMM_SW, 1)))
void gemm_simt(__global const float *A, __global const void *W, int wdtype, __global float *C,
               int M, int N, int K, float beta, int k_len, __global float *Cf, volatile __global uint *cnt)
{
    GEMM_FLAG_DECL;
    __local float As[GEMM_SBK][SIMT_B + 1];
    __local float Ws[GEMM_SBK][SIMT_B + 1];
    const int tx = get_local_id(0), ty = get_local_id(1), lid = ty * GEMM_SW + tx;
    const int m0 = get_group_id(1) * SIMT_B, n0 = get_group_id(0) * SIMT_B;
    const int kb = get_group_id(2) * k_len, kend = kb + k_len < K ? kb + k_len : K;
    const bool sliced = get_num_groups(2) > 1;
    __global float *out = sliced ? C + (size_t)get_group_id(2) * M * N : C;
    const float bo = sliced ? 0.0f : beta; /* slabs are written, not added to */
    float acc[GEMM_ST][GEMM_ST];
    for (int i = 0; i < GEMM_ST; i++)
        for (int j = 0; j < GEMM_ST; j++) acc[i][j] = 0.0f;
    for (int k0 = kb; k0 < kend; k0 += GEMM_SBK) {
        if (m0 + SIMT_B <= M && n0 + SIMT_B <= N && k0 + GEMM_SBK <= kend) { /* inside: no tests (uniform) */
            for (int i = lid; i < SIMT_B * GEMM_SBK; i += GEMM_SW * GEMM_SW) {
                int r = i / GEMM_SBK, c = i % GEMM_SBK, gk = k0 + c;
                As[c][r] = A[(size_t)(m0 + r) * K + gk];
                Ws[c][r] = mcl_load_w(W, (size_t)(n0 + r) * K + gk, wdtype);
            }
        } else {
            for (int i = lid; i < SIMT_B * GEMM_SBK; i += GEMM_SW * GEMM_SW) {
                int r = i / GEMM_SBK, c = i % GEMM_SBK, gk = k0 + c;
                /* the addresses of skipped elements clamped inside the matrix all the same
                 * (scan_dt2's lesson, session 18: PoCL may issue a guarded load) */
                const size_t ka = (size_t)min(gk, kend - 1);
                As[c][r] = m0 + r < M && gk < kend ? A[(size_t)min(m0 + r, M - 1) * K + ka] : 0.0f;
                Ws[c][r] = n0 + r < N && gk < kend ? mcl_load_w(W, (size_t)min(n0 + r, N - 1) * K + ka, wdtype) : 0.0f;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < GEMM_SBK; kk++) {
            float a[GEMM_ST], b[GEMM_ST];
            for (int i = 0; i < GEMM_ST; i++) a[i] = As[kk][ty + i * GEMM_SW];
            for (int j = 0; j < GEMM_ST; j++) b[j] = Ws[kk][tx + j * GEMM_SW];
            for (int i = 0; i < GEMM_ST; i++)
                for (int j = 0; j < GEMM_ST; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int i = 0; i < GEMM_ST; i++) {
        int r = m0 + ty + i * GEMM_SW;
        for (int j = 0; j < GEMM_ST; j++) {
            int c = n0 + tx + j * GEMM_SW;
            if (r >= M || c >= N) continue;
            size_t o = (size_t)r * N + c;
            gemm_put(out, o, bo != 0.0f ? acc[i][j] + bo * out[o] : acc[i][j], sliced);
        }
    }
#if GEMM_SKRED
    if (sliced) gemm_skred(C, Cf, cnt, GEMM_FLAG, M, N, beta, m0, n0, SIMT_B, SIMT_B, lid, GEMM_SW * GEMM_SW);
#endif
}

/* ---- CPU path: explicit vectors per work-item ------------------------------------- */

/* gemm_cpu (GEMM_CPUK 1 on CPUs; src/ops/gemm.c): one work-item per
 * work-group computes a SIMT_B x SIMT_B block of C in 4 x 4 tiles; a tile's
 * 16 dot products run along K in vectors of GEMM_CVW (8 or 16) floats (A rows and W rows are both
 * contiguous in K: 8 loads per 16 vector FMAs, the W row converted from its
 * dtype on load), then each is summed across its lanes and the K % 8 tail
 * added in order. No local memory and no barriers: PoCL compiles a
 * work-item's vector code as it stands instead of looping over work-items.
 * Rows and columns past the matrix compute on clamped indices and store
 * nothing. One K slice only (the host gives it none); C = A . W^T + beta * C.
 * Compiled only for CPU devices (MCL_DEVICE_CPU); GEMM_CVW 16 suits
 * AVX-512 (16 accumulators of 16 lanes and 8 operands: 24 of its 32 vector
 * registers), 8 AVX2.
 * Traffic: A re-read N / 4 times and W M / 4 times, from the caches: a
 * block's 4 rows of A and 4 of W (16 K floats each) stay in L1 across its
 * tiles' K loops only when K is small; L2 otherwise. */
#if MCL_DEVICE_CPU
#ifndef GEMM_CVW
#define GEMM_CVW 8
#endif
#if GEMM_CVW == 16
#define CPU_VT float16
#define CPU_VLOAD vload16
#define CPU_VLOAD_HALF vload_half16
#define CPU_UINT uint16
#define CPU_CONVERT_UINT convert_uint16
#define CPU_AS_FLOAT as_float16
#else
#define CPU_VT float8
#define CPU_VLOAD vload8
#define CPU_VLOAD_HALF vload_half8
#define CPU_UINT uint8
#define CPU_CONVERT_UINT convert_uint8
#define CPU_AS_FLOAT as_float8
#endif

inline CPU_VT gemm_cpu_wv(__global const void *w, size_t i, int dtype)
{
    if (dtype == MCL_DTYPE_F16) return CPU_VLOAD_HALF(0, (const __global half *)w + i);
    if (dtype == MCL_DTYPE_BF16) {
        CPU_UINT u = CPU_CONVERT_UINT(CPU_VLOAD(0, (const __global ushort *)w + i));
        return CPU_AS_FLOAT(u << 16);
    }
    return CPU_VLOAD(0, (const __global float *)w + i);
}

/* The sum of v's lanes, halves added pairwise. */
inline float gemm_cpu_hsum(CPU_VT v)
{
#if GEMM_CVW == 16
    float8 e = v.lo + v.hi;
#else
    float8 e = v;
#endif
    float4 h = e.lo + e.hi;
    return (h.x + h.y) + (h.z + h.w);
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void gemm_cpu(__global const float *A, __global const void *W, int wdtype, __global float *C,
              int M, int N, int K, float beta)
{
    const int n0 = get_group_id(0) * SIMT_B, m0 = get_group_id(1) * SIMT_B;
    const int m1 = min(m0 + SIMT_B, M), n1 = min(n0 + SIMT_B, N), kv = K - K % GEMM_CVW;
    for (int m = m0; m < m1; m += 4) {
        size_t ar[4];
        for (int i = 0; i < 4; i++) ar[i] = (size_t)min(m + i, M - 1) * K;
        for (int n = n0; n < n1; n += 4) {
            size_t wr[4];
            for (int j = 0; j < 4; j++) wr[j] = (size_t)min(n + j, N - 1) * K;
            CPU_VT acc[4][4];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) acc[i][j] = (CPU_VT)(0.0f);
            for (int k = 0; k < kv; k += GEMM_CVW) {
                CPU_VT a[4], w[4];
                for (int i = 0; i < 4; i++) a[i] = CPU_VLOAD(0, A + ar[i] + k);
                for (int j = 0; j < 4; j++) w[j] = gemm_cpu_wv(W, wr[j] + k, wdtype);
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) acc[i][j] = fma(a[i], w[j], acc[i][j]);
            }
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 4; j++) {
                    float s = gemm_cpu_hsum(acc[i][j]);
                    for (int k = kv; k < K; k++) s = fma(A[ar[i] + k], mcl_load_w(W, wr[j] + k, wdtype), s);
                    if (m + i < m1 && n + j < n1) {
                        size_t o = (size_t)(m + i) * N + (n + j);
                        C[o] = beta != 0.0f ? s + beta * C[o] : s;
                    }
                }
            }
        }
    }
}
#endif /* MCL_DEVICE_CPU */

/* ---- tensor-core path (NVIDIA mma.sync, inline PTX) --------------------------------- */
#if MCL_CAP_MMA

#define MMA_INLINE inline __attribute__((always_inline))
#define MMA_THREADS (32 * GEMM_WM * GEMM_WN)
#define MMA_WTM (GEMM_BM / GEMM_WM)
#define MMA_WTN (GEMM_BN / GEMM_WN)
#define MMA_MT (MMA_WTM / 16)
#define MMA_NT (MMA_WTN / 8)
#define MMA_CPR (GEMM_BK / 8)            /* 16-byte chunks per tile row (2, 4 or 8) */
#if GEMM_SWZ
/* Offset (halves) of chunk ch of tile row r: rows are unpadded and the chunk
 * index is XOR-swizzled with the row, so the 8 rows that one ldmatrix phase
 * reads (same logical chunk) fall into 8 distinct 16-byte bank groups. */
#define MMA_LDS GEMM_BK
#define MMA_OFF(r, ch) ((r) * GEMM_BK + (((ch) ^ (((r) / (8 / MMA_CPR)) % MMA_CPR)) * 8))
#else
/* Rows padded by 8 halves: the same effect for BK = 16, 32 (row strides of
 * 48 or 80 bytes walk all bank groups), at 1.5 or 1.25 times the space. */
#define MMA_LDS (GEMM_BK + 8)
#define MMA_OFF(r, ch) ((r) * MMA_LDS + (ch) * 8)
#endif
#if GEMM_FUSE == 1
#define MMA_LDSF (GEMM_BK + 8)                   /* floats per local row of fp32 A */
#define MMA_A_STAGE (GEMM_BM * MMA_LDSF * 2)     /* in halves */
#else
#define MMA_A_STAGE (GEMM_SPLIT * GEMM_BM * MMA_LDS)
#endif
#define MMA_W_STAGE (GEMM_BN * MMA_LDS)

#if GEMM_STAGES == 2
#define MMA_WAIT "cp.async.wait_group 0;"
#elif GEMM_STAGES == 3
#define MMA_WAIT "cp.async.wait_group 1;"
#else
#define MMA_WAIT "cp.async.wait_group 2;"
#endif

MMA_INLINE void mma_cp16(__local void *dst, __global const void *src, int bytes)
{
    ulong d = (ulong)dst, s = (ulong)src;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"l"(d), "l"(s), "r"(bytes) : "memory");
}

MMA_INLINE void mma_ldx4(__local const ushort *p, uint *r)
{
    ulong a = (ulong)p;
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "l"(a));
}

/* The operands of one block. */
typedef struct mma_args {
    __global const ushort *ah, *al; /* [M, lda] (GEMM_FUSE: ah is fp32 A [M, K]) */
    __global const ushort *w;       /* [N, K] */
    int lda, M, N, K;
    int m0, n0, kend;               /* block origin, end of this K slice */
    int w_aligned;                  /* K % 8 == 0: W rows by cp.async */
    int fast;                       /* GEMM_FAST: block inside M and N, W aligned */
} mma_args;

#if GEMM_FAST
/* GEMM_FAST's loads need every item to own whole rows' chunks at a fixed
 * column: the chunks of a part (BM * CPR of A, BN * CPR of W) a multiple of
 * the work-group. Then item lid's chunks sit at column (lid % CPR) * 8 and
 * rows lid / CPR + j * (THREADS / CPR), one bounds test per K step. */
#define MMA_FAST_OK (GEMM_FUSE == 0 && (GEMM_BM * MMA_CPR) % MMA_THREADS == 0 && (GEMM_BN * MMA_CPR) % MMA_THREADS == 0)
#else
#define MMA_FAST_OK 0
#endif

#if GEMM_FUSE
#if GEMM_FUSE == 1
/* Starts filling the fp32 A rows of a stage (row r at r * MMA_LDSF): 16-byte
 * cp.async chunks where K % 4 == 0 (rows 16-byte aligned), else plain
 * loads; zero outside the matrix and the K slice. */
MMA_INLINE void mma_load_a32(const mma_args *g, __local float *fa, int k0, int lid)
{
    __global const float *a = (__global const float *)g->ah;
    if (g->K % 4 == 0) {
        for (int i = lid; i < GEMM_BM * (GEMM_BK / 4); i += MMA_THREADS) {
            int r = i / (GEMM_BK / 4), ch = i % (GEMM_BK / 4), gk = k0 + ch * 4, gr = g->m0 + r;
            bool ok = gr < g->M && gk < g->kend;
            mma_cp16(fa + r * MMA_LDSF + ch * 4, ok ? a + (size_t)gr * g->K + gk : a, ok ? 16 : 0);
        }
    } else {
        for (int i = lid; i < GEMM_BM * GEMM_BK; i += MMA_THREADS) {
            int r = i / GEMM_BK, c = i % GEMM_BK, gk = k0 + c, gr = g->m0 + r;
            fa[r * MMA_LDSF + c] = gr < g->M && gk < g->kend ? a[(size_t)gr * g->K + gk] : 0.0f;
        }
    }
}
#endif

/* hi = the 16-bit pair nearest to (v.x, v.y) (v.x in the low half), lo the
 * pair nearest to the remainders: round to nearest even, as gemm_split_a. */
MMA_INLINE void mma_split2(float2 v, uint *hi, uint *lo, const int f16)
{
    uint h, l;
    float hx, hy;
    if (f16) {
        asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(h) : "f"(v.y), "f"(v.x));
        asm("{\n\t.reg .b16 a, b;\n\tmov.b32 {a, b}, %2;\n\tcvt.f32.f16 %0, a;\n\tcvt.f32.f16 %1, b;\n\t}"
            : "=f"(hx), "=f"(hy)
            : "r"(h));
        if (GEMM_SPLIT == 2) asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(l) : "f"(v.y - hy), "f"(v.x - hx));
    } else {
        asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(h) : "f"(v.y), "f"(v.x));
        hx = as_float(h << 16);
        hy = as_float(h & 0xffff0000u);
        if (GEMM_SPLIT == 2) asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(l) : "f"(v.y - hy), "f"(v.x - hx));
    }
    *hi = h;
    if (GEMM_SPLIT == 2) *lo = l;
}

#if GEMM_FUSE == 1
/* The A fragments (hi, lo) of the m16 x k16 tile at local row r0, column
 * kk: lane (g, t) = (lane / 4, lane % 4) holds rows g and g + 8, columns
 * 2t, 2t + 1 and 2t + 8, 2t + 9, the register order of ldmatrix.x4. */
MMA_INLINE void mma_frag_a32(__local const float *fa, int r0, int kk, int lane, uint af[GEMM_SPLIT][4],
                             const int f16)
{
    __local const float *p = fa + (r0 + lane / 4) * MMA_LDSF + kk + 2 * (lane % 4);
    float2 v[4] = {*(__local const float2 *)p, *(__local const float2 *)(p + 8 * MMA_LDSF),
                   *(__local const float2 *)(p + 8), *(__local const float2 *)(p + 8 * MMA_LDSF + 8)};
#pragma unroll
    for (int j = 0; j < 4; j++) mma_split2(v[j], &af[0][j], &af[GEMM_SPLIT - 1][j], f16);
}
#endif

#if GEMM_FUSE == 2
#define MMA_A4 (GEMM_BM * GEMM_BK / 4)                          /* float4 of A per stage */
#define MMA_APT ((MMA_A4 + MMA_THREADS - 1) / MMA_THREADS)     /* of them per item */
/* Reads this item's float4 of the fp32 A of the K step at k0 into ra (item
 * lid takes float4 lid, lid + MMA_THREADS, ...; zero outside the matrix and
 * the K slice): 16-byte loads where K % 4 == 0. */
MMA_INLINE void mma_fetch_a(const mma_args *g, float4 ra[MMA_APT], int k0, int lid)
{
    __global const float *a = (__global const float *)g->ah;
#pragma unroll
    for (int j = 0; j < MMA_APT; j++) {
        int i = lid + j * MMA_THREADS, r = i / (GEMM_BK / 4), gk = k0 + 4 * (i % (GEMM_BK / 4)), gr = g->m0 + r;
        float4 v = (float4)(0.0f);
        if (i < MMA_A4 && gr < g->M) {
            __global const float *p = a + (size_t)gr * g->K + gk;
            if (g->K % 4 == 0 && gk + 3 < g->kend) v = *(__global const float4 *)p;
            else v = (float4)(gk < g->kend ? p[0] : 0.0f, gk + 1 < g->kend ? p[1] : 0.0f,
                              gk + 2 < g->kend ? p[2] : 0.0f, gk + 3 < g->kend ? p[3] : 0.0f);
        }
        ra[j] = v;
    }
}

/* Splits ra (as mma_fetch_a read it) into hi and lo and stores them in the
 * stage's A rows, the layout gemm_split_a's parts take by cp.async. */
MMA_INLINE void mma_put_a(__local ushort *sa, const float4 ra[MMA_APT], int lid, const int f16)
{
#pragma unroll
    for (int j = 0; j < MMA_APT; j++) {
        int i = lid + j * MMA_THREADS, r = i / (GEMM_BK / 4), q = i % (GEMM_BK / 4);
        if (i >= MMA_A4) break;
        uint h0, h1, l0 = 0, l1 = 0;
        mma_split2(ra[j].xy, &h0, &l0, f16);
        mma_split2(ra[j].zw, &h1, &l1, f16);
        *(__local uint2 *)(sa + MMA_OFF(r, q / 2) + 4 * (q % 2)) = (uint2)(h0, h1);
        if (GEMM_SPLIT == 2) *(__local uint2 *)(sa + MMA_OFF(GEMM_BM + r, q / 2) + 4 * (q % 2)) = (uint2)(l0, l1);
    }
}
#endif
#endif

#if MMA_FAST_OK
/* mma_load_stage for a block inside M and N with W rows 16-byte aligned
 * (g->fast): the same chunks, zero-filled where mma_load_stage zero-fills
 * them (only past the K slice here), but no row tests and the addresses
 * from per-block bases plus constants. */
MMA_INLINE void mma_load_fast(const mma_args *g, __local ushort *sa, __local ushort *sw, int k0, int lid)
{
    const int ch = lid % MMA_CPR, r0 = lid / MMA_CPR, gk = k0 + ch * 8;
    const int aend = g->kend < g->lda ? g->kend : g->lda;
    const bool oka = gk < aend, okw = gk < g->kend;
    __global const ushort *pa = g->ah + (size_t)(g->m0 + r0) * g->lda + gk;
    __global const ushort *pl = g->al + (size_t)(g->m0 + r0) * g->lda + gk;
    __global const ushort *pw = g->w + (size_t)(g->n0 + r0) * g->K + gk;
#pragma unroll
    for (int j = 0; j < GEMM_SPLIT * GEMM_BM * MMA_CPR / MMA_THREADS; j++) {
        const int s = j * MMA_THREADS / (GEMM_BM * MMA_CPR), rr = (j * MMA_THREADS % (GEMM_BM * MMA_CPR)) / MMA_CPR;
        mma_cp16(sa + MMA_OFF(s * GEMM_BM + r0 + rr, ch), oka ? (s ? pl : pa) + (size_t)rr * g->lda : g->ah,
                 oka ? 16 : 0);
    }
#pragma unroll
    for (int j = 0; j < GEMM_BN * MMA_CPR / MMA_THREADS; j++) {
        const int rr = j * MMA_THREADS / MMA_CPR;
        mma_cp16(sw + MMA_OFF(r0 + rr, ch), okw ? pw + (size_t)rr * g->K : g->w, okw ? 16 : 0);
    }
    asm volatile("cp.async.commit_group;" ::: "memory");
}
#endif

/* Starts filling stage buffers sa/sw with the K step at k0. */
MMA_INLINE void mma_load_stage(const mma_args *g, __local ushort *sa, __local ushort *sw, int k0, int lid)
{
#if MMA_FAST_OK
    if (g->fast) {
        mma_load_fast(g, sa, sw, k0, lid);
        return;
    }
#endif
#if GEMM_FUSE == 1
    mma_load_a32(g, (__local float *)sa, k0, lid);
#elif GEMM_FUSE == 0
    int aend = g->kend < g->lda ? g->kend : g->lda;
    for (int i = lid; i < GEMM_SPLIT * GEMM_BM * MMA_CPR; i += MMA_THREADS) {
        int s = i / (GEMM_BM * MMA_CPR), rem = i % (GEMM_BM * MMA_CPR);
        int r = rem / MMA_CPR, ch = rem % MMA_CPR, gk = k0 + ch * 8, gr = g->m0 + r;
        bool ok = gr < g->M && gk < aend;
        __global const ushort *src = s ? g->al : g->ah;
        mma_cp16(sa + MMA_OFF(s * GEMM_BM + r, ch), ok ? src + (size_t)gr * g->lda + gk : src,
                 ok ? 16 : 0);
    }
#endif
    if (g->w_aligned) {
        for (int i = lid; i < GEMM_BN * MMA_CPR; i += MMA_THREADS) {
            int r = i / MMA_CPR, ch = i % MMA_CPR, gk = k0 + ch * 8, gn = g->n0 + r;
            bool ok = gn < g->N && gk < g->kend;
            mma_cp16(sw + MMA_OFF(r, ch), ok ? g->w + (size_t)gn * g->K + gk : g->w, ok ? 16 : 0);
        }
    } else {
        for (int i = lid; i < GEMM_BN * GEMM_BK; i += MMA_THREADS) {
            int r = i / GEMM_BK, c = i % GEMM_BK, gk = k0 + c, gn = g->n0 + r;
            sw[MMA_OFF(r, c / 8) + c % 8] = gn < g->N && gk < g->kend ? g->w[(size_t)gn * g->K + gk] : (ushort)0;
        }
    }
    asm volatile("cp.async.commit_group;" ::: "memory");
}

/* acc += the products of one stage. GEMM_LDF 0: every A fragment of the
 * K16 step (SPLIT * MT ldmatrix.x4) and every W fragment, then the products;
 * 1: the W fragments, then per m16 tile its hi and lo fragments and their
 * products (SPLIT * 4 A registers live instead of SPLIT * MT * 4: room for
 * 64-row warp tiles). Each accumulator sees the same products in the same
 * order (per K16 step hi, then lo), so C is bitwise the same. */
MMA_INLINE void mma_stage(__local const ushort *sa, __local const ushort *sw, float acc[MMA_MT][MMA_NT][4],
                      int wm, int wn, int lane, const int f16)
{
#if GEMM_LDF == 1
#pragma unroll
    for (int kk = 0; kk < GEMM_BK; kk += 16) {
        uint bf[MMA_NT][2];
#pragma unroll
        for (int p = 0; p < MMA_NT / 2; p++) {
            uint r[4];
            mma_ldx4(sw + MMA_OFF(wn * MMA_WTN + p * 16 + lane % 8 + (lane / 16) * 8, kk / 8 + (lane / 8) % 2), r);
            bf[2 * p][0] = r[0];
            bf[2 * p][1] = r[1];
            bf[2 * p + 1][0] = r[2];
            bf[2 * p + 1][1] = r[3];
        }
#pragma unroll
        for (int mt = 0; mt < MMA_MT; mt++) {
            uint af[GEMM_SPLIT][4];
#if GEMM_FUSE == 1
            mma_frag_a32((__local const float *)sa, wm * MMA_WTM + mt * 16, kk, lane, af, f16);
#else
#pragma unroll
            for (int s = 0; s < GEMM_SPLIT; s++)
                mma_ldx4(sa + MMA_OFF(s * GEMM_BM + wm * MMA_WTM + mt * 16 + lane % 16, kk / 8 + lane / 16), af[s]);
#endif
#pragma unroll
            for (int s = 0; s < GEMM_SPLIT; s++)
#pragma unroll
                for (int nt = 0; nt < MMA_NT; nt++) mcl_mma_16816(acc[mt][nt], af[s], bf[nt], f16, 0);
        }
    }
#else
#pragma unroll
    for (int kk = 0; kk < GEMM_BK; kk += 16) {
        uint af[MMA_MT][GEMM_SPLIT][4], bf[MMA_NT][2];
#if GEMM_FUSE == 1
#pragma unroll
        for (int mt = 0; mt < MMA_MT; mt++)
            mma_frag_a32((__local const float *)sa, wm * MMA_WTM + mt * 16, kk, lane, af[mt], f16);
#else
#pragma unroll
        for (int s = 0; s < GEMM_SPLIT; s++)
#pragma unroll
            for (int mt = 0; mt < MMA_MT; mt++)
                mma_ldx4(sa + MMA_OFF(s * GEMM_BM + wm * MMA_WTM + mt * 16 + lane % 16, kk / 8 + lane / 16),
                         af[mt][s]);
#endif
#pragma unroll
        for (int p = 0; p < MMA_NT / 2; p++) {
            uint r[4];
            mma_ldx4(sw + MMA_OFF(wn * MMA_WTN + p * 16 + lane % 8 + (lane / 16) * 8, kk / 8 + (lane / 8) % 2), r);
            bf[2 * p][0] = r[0];
            bf[2 * p][1] = r[1];
            bf[2 * p + 1][0] = r[2];
            bf[2 * p + 1][1] = r[3];
        }
#pragma unroll
        for (int s = 0; s < GEMM_SPLIT; s++)
#pragma unroll
            for (int mt = 0; mt < MMA_MT; mt++)
#pragma unroll
                for (int nt = 0; nt < MMA_NT; nt++) mcl_mma_16816(acc[mt][nt], af[mt][s], bf[nt], f16, 0);
    }
#endif
}

MMA_INLINE void mma_store(const mma_args *g, float acc[MMA_MT][MMA_NT][4], __global float *C, float beta,
                      int wm, int wn, int lane)
{
#pragma unroll
    for (int mt = 0; mt < MMA_MT; mt++)
#pragma unroll
        for (int nt = 0; nt < MMA_NT; nt++)
#pragma unroll
            for (int h = 0; h < 4; h++) {
                int r = g->m0 + wm * MMA_WTM + mt * 16 + lane / 4 + (h >= 2 ? 8 : 0);
                int c = g->n0 + wn * MMA_WTN + nt * 8 + (lane % 4) * 2 + (h & 1);
#if GEMM_FAST
                /* N even: the pair h, h + 1 (columns c, c + 1) as one 8-byte
                 * load and store, each element by the expression below */
                if (g->N % 2 == 0) {
                    if ((h & 1) || r >= g->M || c >= g->N) continue;
                    __global float2 *o2 = (__global float2 *)(C + (size_t)r * g->N + c);
                    float2 v = (float2)(acc[mt][nt][h], acc[mt][nt][h + 1]);
                    if (beta != 0.0f) {
                        float2 old = *o2;
                        v.x = acc[mt][nt][h] + beta * old.x;
                        v.y = acc[mt][nt][h + 1] + beta * old.y;
                    }
                    *o2 = v;
                    continue;
                }
#endif
                if (r >= g->M || c >= g->N) continue;
                size_t o = (size_t)r * g->N + c;
                C[o] = beta != 0.0f ? acc[mt][nt][h] + beta * C[o] : acc[mt][nt][h];
            }
}

MMA_INLINE void gemm_mma_body(__global const ushort *ah, __global const ushort *al, int lda,
                          __global const ushort *w, __global float *C, int M, int N, int K,
                          float beta, int k_len, __global float *Cf, volatile __global uint *cnt,
                          __local ushort *sa, __local ushort *sw, __local uint *flag, const int f16)
{
    const int lid = get_local_id(0), lane = lid % 32, warp = lid / 32;
    const int wm = warp / GEMM_WN, wn = warp % GEMM_WN;
    const int kb = get_group_id(2) * k_len;
    mma_args g = {ah, al, w, lda, M, N, K, get_group_id(1) * GEMM_BM, get_group_id(0) * GEMM_BN,
                  kb + k_len < K ? kb + k_len : K, (K % 8) == 0, 0};
    g.fast = MMA_FAST_OK && g.w_aligned && g.m0 + GEMM_BM <= M && g.n0 + GEMM_BN <= N;
    const bool sliced = get_num_groups(2) > 1;
    __global float *out = sliced ? C + (size_t)get_group_id(2) * M * N : C;
    float acc[MMA_MT][MMA_NT][4];
#pragma unroll
    for (int mt = 0; mt < MMA_MT; mt++)
#pragma unroll
        for (int nt = 0; nt < MMA_NT; nt++)
#pragma unroll
            for (int h = 0; h < 4; h++) acc[mt][nt][h] = 0.0f;
    const int nk = (g.kend - kb + GEMM_BK - 1) / GEMM_BK;
#if GEMM_FUSE == 2
    float4 ra[MMA_APT];
#endif
    for (int s = 0; s < GEMM_STAGES - 1; s++) {
#if GEMM_FUSE == 2
        if (s < nk) {
            mma_fetch_a(&g, ra, kb + s * GEMM_BK, lid);
            mma_put_a(sa + s * MMA_A_STAGE, ra, lid, f16);
        }
#endif
        if (s < nk) mma_load_stage(&g, sa + s * MMA_A_STAGE, sw + s * MMA_W_STAGE, kb + s * GEMM_BK, lid);
        else asm volatile("cp.async.commit_group;" ::: "memory");
    }
    for (int kt = 0; kt < nk; kt++) {
        asm volatile(MMA_WAIT ::: "memory");
        barrier(CLK_LOCAL_MEM_FENCE);
        int nx = kt + GEMM_STAGES - 1, bx = nx % GEMM_STAGES, bc = kt % GEMM_STAGES;
        if (nx < nk) mma_load_stage(&g, sa + bx * MMA_A_STAGE, sw + bx * MMA_W_STAGE, kb + nx * GEMM_BK, lid);
        else asm volatile("cp.async.commit_group;" ::: "memory");
#if GEMM_FUSE == 2
        /* A of step nx: read now, split and stored once this step's
         * products are issued (its buffer was last read in step kt - 1,
         * before the barrier above; it is read after the barrier of step nx) */
        if (nx < nk) mma_fetch_a(&g, ra, kb + nx * GEMM_BK, lid);
#endif
        mma_stage(sa + bc * MMA_A_STAGE, sw + bc * MMA_W_STAGE, acc, wm, wn, lane, f16);
#if GEMM_FUSE == 2
        if (nx < nk) mma_put_a(sa + bx * MMA_A_STAGE, ra, lid, f16);
#endif
    }
    mma_store(&g, acc, out, sliced ? 0.0f : beta, wm, wn, lane); /* slabs are written, not added to */
#if GEMM_SKRED
    if (sliced) gemm_skred(C, Cf, cnt, flag, M, N, beta, g.m0, g.n0, GEMM_BM, GEMM_BN, lid, MMA_THREADS);
#endif
}

/* Grid: (ceil(N / BN) * MMA_THREADS, ceil(M / BM), slices); local (MMA_THREADS, 1, 1).
 * With more than one slice, C is the workspace of slices * M * N floats
 * (slabs, beta not applied) and, with GEMM_SKRED, the last slice of each
 * tile writes Cf = the sum of the slabs + beta * Cf (cnt: a zeroed uint per
 * C tile, left zeroed); Cf and cnt are not read otherwise. With GEMM_FUSE,
 * ah is the fp32 A [M, K] itself (al and lda are not read). */
__kernel __attribute__((reqd_work_group_size(MMA_THREADS, 1, 1)))
void gemm_mma_bf16(__global const ushort *ah, __global const ushort *al, int lda,
                   __global const ushort *w, __global float *C, int M, int N, int K, float beta,
                   int k_len, __global float *Cf, volatile __global uint *cnt)
{
    GEMM_FLAG_DECL;
    __local ushort sa[GEMM_STAGES * MMA_A_STAGE] __attribute__((aligned(16)));
    __local ushort sw[GEMM_STAGES * MMA_W_STAGE] __attribute__((aligned(16)));
    gemm_mma_body(ah, al, lda, w, C, M, N, K, beta, k_len, Cf, cnt, sa, sw, GEMM_FLAG, 0);
}

__kernel __attribute__((reqd_work_group_size(MMA_THREADS, 1, 1)))
void gemm_mma_f16(__global const ushort *ah, __global const ushort *al, int lda,
                  __global const ushort *w, __global float *C, int M, int N, int K, float beta,
                  int k_len, __global float *Cf, volatile __global uint *cnt)
{
    GEMM_FLAG_DECL;
    __local ushort sa[GEMM_STAGES * MMA_A_STAGE] __attribute__((aligned(16)));
    __local ushort sw[GEMM_STAGES * MMA_W_STAGE] __attribute__((aligned(16)));
    gemm_mma_body(ah, al, lda, w, C, M, N, K, beta, k_len, Cf, cnt, sa, sw, GEMM_FLAG, 1);
}

#endif
