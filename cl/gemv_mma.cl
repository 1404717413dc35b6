/* gemv_mma.cl: the decode projections of a batch (2 <= B <= GMMA_MAX_B
 * sequences) on the matrix units: y[b, o] = sum_i W[o, i] * x[b, i]
 * (+ y[b, o] with accumulate), W [O, I] in F16 or BF16 (runtime wdtype),
 * x [B, I] and y [B, O] fp32. The same three forms as gemv.cl, with the same
 * arguments (so the launchers of src/ops/kern_decode.c and kern.c bind them
 * alike):
 *   gmma        plain or accumulating (out_proj: the residual add h += W.y);
 *   gmma_in     x = RMSNorm(x) * nw on the fly and, for rows o < n_conv, the
 *               decode conv step on the fresh value (in_proj; n_conv = 0: the
 *               LM head with the final norm);
 *   gmma_split  split-K partials into y + s * part_stride (x_proj; summed in
 *               a fixed order by ssm_step_parts).
 *
 * Why: gemv.cl's batch tiles load x from cache once per weight row, 16 bytes
 * of x per 2 bytes of weight at B = 8, so at B = 8 the H200 streamed in_proj
 * at a fifth of the batch-1 speed (1.4b: 5.5 ms of gemv_in per step against
 * 1.2 ms at B = 1). Here one mma.sync m16n8k16 takes 16 weight rows as its
 * A operand and 8 sequences as its B operand: each x element loaded serves
 * 16 rows, and each weight serves the whole tile of 8 * GMMA_NT sequences.
 *
 * Algorithm: a work-group of GMMA_WARPS warps owns 16 * GMMA_MT rows (MT
 * m16 tiles, each x fragment multiplied into all of them) and a tile of up
 * to GMMA_BT = 8 * GMMA_NT sequences (grid dimension 1);
 * its warps split K: I is cut into chunks of 32 elements and warp w takes
 * chunks w, w + WARPS, ... (the same count for every warp, zero past I).
 * Lane (g, t) = (lane / 4, lane % 4) loads 8 consecutive weights (16 bytes)
 * of rows g and g + 8 at element 32c + 8t and the 8 x values of sequence g
 * of each n8 tile at the same elements; the fragments take these as they
 * are, which is the m16n8k16 layout under one permutation of k shared by A
 * and B (pairs 0-1 and 2-3 of the 8 are mma 1's k 2t and 2t + 8, pairs 4-5
 * and 6-7 mma 2's), so a lane needs no shuffles. x is split into 16-bit
 * parts of W's type, hi = round(x), lo = round(x - hi), and each weight
 * fragment multiplies both (two products, fp32 accumulation: the precision
 * of gemm.cl's GEMM_SPLIT 2, about 2^-22 (F16) or 2^-17 (BF16) of |x| per
 * element). With the norm, x is multiplied by nw first and each lane sums
 * x^2 of its elements. The warps' accumulators and x^2 sums meet in local
 * memory; the work-group's items then add them over the warps in a fixed
 * order and write the 16 x BT results (norm scale, accumulate, conv step).
 * Rows past O are computed on row O-1 and not written; sequences past B
 * read zeros.
 * Without MCL_CAP_MMA (every device but NVIDIA sm_80+) the kernels still
 * compile: prims.cl's mcl_mma_16816 is then emulated through local memory
 * with the same fragment layout (slow; never dispatched by default, GMMA_MAX_B 0 there),
 * so the indexing, tails, norm and epilogue are tested on PoCL and Oclgrind.
 *
 * Traffic per element of W: 2 bytes read once per batch tile; x: 4 bytes per
 * (sequence, element) per 16 * MT rows (L1/L2 hits), nw 4 bytes per element per
 * 16 rows; y 4 bytes written (+4 read with accumulate) per (b, o); the conv
 * rows as gemv_in.
 * Tunables (src/tune/tune_gmma.c): GMMA_WARPS (warps per group, the K
 * split), GMMA_NT (n8 tiles per group: sequences per tile / 8), GMMA_MT
 * (m16 row tiles per group), GMMA_UNR
 * (chunks of W per warp loaded before their products); host: GMMA_MAX_B
 * (largest batch sent here; 0 = never). Local memory:
 * 4 * WARPS * NT * (128 * MT + 32) bytes (+ 4 * 6 * 32 * WARPS for the emulation),
 * reserved by the host (mcl_kern_gmma_red_bytes).
 */
#ifndef GMMA_WARPS
#define GMMA_WARPS 8
#endif
#ifndef GMMA_NT
#define GMMA_NT 2
#endif
#ifndef GMMA_UNR
#define GMMA_UNR 1
#endif
#ifndef GMMA_MT
#define GMMA_MT 1
#endif
#define GMMA_WG (32 * GMMA_WARPS)
#define GMMA_BT (8 * GMMA_NT)
#define GMMA_ROWS (16 * GMMA_MT)
/* offsets (floats) into red_mem: warp sums [WARPS][MT][NT][128], x^2 [WARPS][NT][32], emulation */
#define GMMA_SSR (GMMA_WARPS * GMMA_MT * GMMA_NT * 128)
#define GMMA_EMU (GMMA_SSR + GMMA_WARPS * GMMA_NT * 32)

/* 8 weights of `row` from element k as 4 pairs (element k in the low half
 * of .x), zero at and past kend. */
inline uint4 gmma_load_w(__global const ushort *row, int k, int kend, int aligned)
{
    if (aligned && k + 8 <= kend) return *(__global const uint4 *)(row + k);
    uint e[8];
    for (int i = 0; i < 8; i++) e[i] = k + i < kend ? (uint)row[k + i] : 0u;
    return (uint4)(e[0] | e[1] << 16, e[2] | e[3] << 16, e[4] | e[5] << 16, e[6] | e[7] << 16);
}

/* 8 values of x row xr from element k, zero at and past kend (or all zero
 * when !live: a sequence past B). */
inline float8 gmma_load_x(__global const float *xr, int k, int kend, int aligned, int live)
{
    if (!live) return (float8)0.0f;
    if (aligned && k + 8 <= kend) {
        __global const float4 *p = (__global const float4 *)(xr + k);
        return (float8)(p[0], p[1]);
    }
    float e[8];
    for (int i = 0; i < 8; i++) e[i] = k + i < kend ? xr[k + i] : 0.0f;
    return (float8)(e[0], e[1], e[2], e[3], e[4], e[5], e[6], e[7]);
}

/* hi = the 16-bit pair nearest (a, b) (a in the low half), *lo the pair
 * nearest the remainders; round to nearest even. */
inline uint gmma_split2(float a, float b, uint *lo, int f16)
{
#if MCL_CAP_MMA
    uint h, l;
    float ha, hb;
    if (f16) {
        asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(h) : "f"(b), "f"(a));
        asm("{\n\t.reg .b16 p, q;\n\tmov.b32 {p, q}, %2;\n\tcvt.f32.f16 %0, p;\n\tcvt.f32.f16 %1, q;\n\t}"
            : "=f"(ha), "=f"(hb)
            : "r"(h));
        asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(l) : "f"(b - hb), "f"(a - ha));
    } else {
        asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(h) : "f"(b), "f"(a));
        ha = as_float(h << 16);
        hb = as_float(h & 0xffff0000u);
        asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(l) : "f"(b - hb), "f"(a - ha));
    }
    *lo = l;
    return h;
#else
    ushort p[4];
    float r[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        if (f16) {
            vstore_half_rte(r[i], 0, (__private half *)&p[i]);
            vstore_half_rte(r[i] - vload_half(0, (__private const half *)&p[i]), 0, (__private half *)&p[2 + i]);
        } else {
            uint u = as_uint(r[i]), hu = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
            float rem = r[i] - as_float(hu);
            uint v = as_uint(rem);
            p[i] = (ushort)(hu >> 16);
            p[2 + i] = (ushort)((v + 0x7fffu + ((v >> 16) & 1u)) >> 16);
        }
    }
    *lo = (uint)p[2] | (uint)p[3] << 16;
    return (uint)p[0] | (uint)p[1] << 16;
#endif
}

/* One warp's products over chunks [c0, c1) of 32 elements (it takes
 * c0 + w, c0 + w + WARPS, ..., nit of them: the same for every warp):
 * acc[j] (n8 tile j < nt) and, with norm, ss[j] = this lane's x^2 sum of
 * sequence 8j + g. */
inline void gmma_accum(float acc[GMMA_MT][GMMA_NT][4], float ss[GMMA_NT], __global const ushort **r0,
                       __global const ushort **r1, __global const float *xt, __global const float *nw,
                       int norm, int I, int nb, int nt, int c0, int c1, int f16, __local uint *emu)
{
    int lane = get_local_id(0) % 32, w = get_local_id(0) / 32, g = lane / 4, t = lane % 4;
    int aligned = I % 8 == 0, kend = min(I, 32 * c1), nit = (c1 - c0 + GMMA_WARPS - 1) / GMMA_WARPS;
    for (int i = 0; i < nit; i += GMMA_UNR) {
        uint4 wa[GMMA_UNR][GMMA_MT], wb[GMMA_UNR][GMMA_MT];
        for (int u = 0; u < GMMA_UNR; u++) { /* the weights first: their latency overlaps */
            int k = 32 * (c0 + (i + u) * GMMA_WARPS + w) + 8 * t;
            int ke = i + u < nit ? kend : 0;
            for (int m = 0; m < GMMA_MT; m++) {
                wa[u][m] = gmma_load_w(r0[m], k, ke, aligned);
                wb[u][m] = gmma_load_w(r1[m], k, ke, aligned);
            }
        }
        for (int u = 0; u < GMMA_UNR; u++) {
            int k = 32 * (c0 + (i + u) * GMMA_WARPS + w) + 8 * t;
            int ke = i + u < nit ? kend : 0;
            float8 nv = norm ? gmma_load_x(nw, k, ke, aligned, 1) : (float8)1.0f;
            for (int j = 0; j < GMMA_NT; j++) {
                if (j >= nt) break; /* uniform in the group */
                float8 xv = gmma_load_x(xt + (size_t)(8 * j + g) * I, k, ke, aligned, 8 * j + g < nb);
                if (norm) {
                    ss[j] += dot(xv.lo, xv.lo) + dot(xv.hi, xv.hi);
                    xv *= nv;
                }
                uint h[4], l[4];
                h[0] = gmma_split2(xv.s0, xv.s1, &l[0], f16);
                h[1] = gmma_split2(xv.s2, xv.s3, &l[1], f16);
                h[2] = gmma_split2(xv.s4, xv.s5, &l[2], f16);
                h[3] = gmma_split2(xv.s6, xv.s7, &l[3], f16);
                for (int m = 0; m < GMMA_MT; m++) { /* x's fragments serve MT row tiles */
                    uint a1[4] = {wa[u][m].x, wb[u][m].x, wa[u][m].y, wb[u][m].y};
                    uint a2[4] = {wa[u][m].z, wb[u][m].z, wa[u][m].w, wb[u][m].w};
                    mcl_mma_16816(acc[m][j], a1, h, f16, emu);
                    mcl_mma_16816(acc[m][j], a1, l, f16, emu);
                    mcl_mma_16816(acc[m][j], a2, h + 2, f16, emu);
                    mcl_mma_16816(acc[m][j], a2, l + 2, f16, emu);
                }
            }
        }
    }
}

/* The shared body: the group's 16 rows x its batch tile over chunks
 * [c0, c1), the warps' sums added in local memory (red), the results
 * written to y (norm scale, accumulate, conv step). */
inline void gmma_body(__global const void *W, int wdtype, __global const float *x, __global float *y, int O,
                      int I, int B, int accumulate, __global const float *nw, float eps, int norm,
                      const mcl_conv_args *cv, int c0, int c1, __local float *red)
{
    int lid = get_local_id(0), lane = lid % 32, w = lid / 32, g = lane / 4;
    int m0 = get_group_id(0) * GMMA_ROWS, b0 = get_group_id(1) * GMMA_BT, nb = min(GMMA_BT, B - b0);
    int nt = (nb + 7) / 8, f16 = wdtype == MCL_DTYPE_F16;
    __global const ushort *Wh = (__global const ushort *)W;
    __global const ushort *r0[GMMA_MT], *r1[GMMA_MT];
    float acc[GMMA_MT][GMMA_NT][4], ss[GMMA_NT];
    for (int m = 0; m < GMMA_MT; m++) {
        r0[m] = Wh + (size_t)min(m0 + 16 * m + g, O - 1) * I;
        r1[m] = Wh + (size_t)min(m0 + 16 * m + g + 8, O - 1) * I;
        for (int j = 0; j < GMMA_NT; j++)
            for (int i = 0; i < 4; i++) acc[m][j][i] = 0.0f;
    }
    for (int j = 0; j < GMMA_NT; j++) ss[j] = 0.0f;
    __local uint *emu = (__local uint *)(red + GMMA_EMU) + w * 6 * 32;
    gmma_accum(acc, ss, r0, r1, x + (size_t)b0 * I, nw, norm, I, nb, nt, c0, c1, f16, emu);
    for (int j = 0; j < GMMA_NT; j++) {
        for (int m = 0; m < GMMA_MT; m++)
            for (int i = 0; i < 4; i++) red[((w * GMMA_MT + m) * GMMA_NT + j) * 128 + lane * 4 + i] = acc[m][j][i];
        red[GMMA_SSR + (w * GMMA_NT + j) * 32 + lane] = ss[j];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int q = lid; q < 128 * nt * GMMA_MT; q += GMMA_WG) {
        int m = q / (128 * nt), j = (q / 128) % nt, e = q % 128, gq = e / 16, tq = (e / 4) % 4, i = e % 4;
        int o = m0 + 16 * m + gq + 8 * (i / 2), n = 2 * tq + i % 2, b = b0 + 8 * j + n;
        if (o >= O || b >= B) continue;
        float s = 0.0f;
        for (int v = 0; v < GMMA_WARPS; v++) s += red[((v * GMMA_MT + m) * GMMA_NT + j) * 128 + e];
        if (norm) {
            float sq = 0.0f;
            for (int v = 0; v < GMMA_WARPS; v++)
                for (int u = 0; u < 4; u++) sq += red[GMMA_SSR + (v * GMMA_NT + j) * 32 + 4 * n + u];
            s *= rsqrt(sq / (float)I + eps);
        }
        size_t yi = (size_t)b * O + o;
        y[yi] = accumulate ? y[yi] + s : s;
        if (cv && o < cv->n_conv) mcl_conv_write(cv, b, o, s);
    }
}

/* Arguments as gemv.cl's gemv (red_mem: mcl_kern_gmma_red_bytes). */
__kernel __attribute__((reqd_work_group_size(GMMA_WG, 1, 1)))
void gmma(__global const void *W, int wdtype, __global const float *x, __global float *y,
          int O, int I, int B, int accumulate, __local float *red_mem)
{
    gmma_body(W, wdtype, x, y, O, I, B, accumulate, x, 0.0f, 0, 0, 0, (I + 31) / 32, red_mem);
}

/* Arguments as gemv.cl's gemv_in. */
__kernel __attribute__((reqd_work_group_size(GMMA_WG, 1, 1)))
void gmma_in(__global const void *W, int wdtype, __global const float *x, __global float *y,
             int O, int I, int B, __global const float *nw, float eps,
             MCL_CONV_PARAMS, __local float *red_mem)
{
    mcl_conv_args cv = MCL_CONV_ARGS_INIT;
    gmma_body(W, wdtype, x, y, O, I, B, 0, nw, eps, 1, n_conv > 0 ? &cv : 0, 0, (I + 31) / 32, red_mem);
}

/* Arguments as gemv.cl's gemv_split: split s = get_group_id(2) of
 * get_num_groups(2) takes chunks [s * per, (s + 1) * per) of 32 elements,
 * per = ceil(ceil(I / 32) / n_split), into y + s * part_stride. */
__kernel __attribute__((reqd_work_group_size(GMMA_WG, 1, 1)))
void gmma_split(__global const void *W, int wdtype, __global const float *x, __global float *y,
                int O, int I, int B, ulong part_stride, __local float *red_mem)
{
    int s = get_group_id(2), n = get_num_groups(2), nc = (I + 31) / 32, per = (nc + n - 1) / n;
    int c0 = min(nc, s * per), c1 = min(nc, c0 + per);
    gmma_body(W, wdtype, x, y + (size_t)s * part_stride, O, I, B, 0, x, 0.0f, 0, 0, c0, c1, red_mem);
}
