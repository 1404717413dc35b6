/* prims.cl: primitives that use a device capability where it is on, each
 * with a portable fallback; prepended to every program after common.cl.
 * Kernels call these and never test a vendor: the capability defines
 * (MCL_CAP_PTX, ... from src/device/caps.c; MAMBACL_DISABLE turns them off)
 * choose the body.
 *
 *   mcl_half8_to_float8(u)  8 halves packed in a uint4 (element 0 in the low
 *       16 bits of u.s0) as floats, exact for every half (zeros, subnormals,
 *       inf, NaN). MCL_CAP_PTX: one cvt.f32.f16 per element (the halves are
 *       unpacked from 32-bit registers by mov.b32); else bit manipulation,
 *       ~12 integer/float operations per element (what limits a GEMV of F16
 *       weights on a GPU without cl_khr_fp16).
 *   MCL_SG_ADD_MAX, mcl_sg_add(v, n)  the sum of v over the aligned group of
 *       n consecutive work-items (n a power of two, 2 <= n <= MCL_SG_ADD_MAX)
 *       that holds this one, returned to all of them, in registers.
 *       MCL_CAP_PTX: log2(n) butterfly shuffles (shfl.sync.bfly.b32 over a
 *       warp of 32 consecutive work-items of a 1-D work-group whose size is
 *       a multiple of 32; every work-item of the warp must call it: the
 *       caller keeps the work-group size a multiple of MCL_SG_ADD_MAX).
 *       Without a shuffle MCL_SG_ADD_MAX is 1 and callers reduce through
 *       local memory (a tree with barriers). The order of the additions is
 *       fixed (the same for every call): results are deterministic.
 *       cl_khr_subgroups is not used for this: OpenCL does not promise which
 *       work-items form a subgroup, and sub_group_reduce_add sums the whole
 *       subgroup, not a team of n.
 *   mcl_local_team_sum(red, v, lanes)  the sum of v over the aligned team of
 *       `lanes` consecutive work-items (a power of two) that holds this one,
 *       returned to all of them, through local memory red[work-group size]:
 *       a tree in a fixed order, 2 log2(lanes) + 1 barriers (lanes = 1: v,
 *       no barrier). Portable; what callers use where mcl_sg_add does not
 *       cover the team. Every work-item of the group must call it.
 *   mcl_local_group_sum(red, v, wg)  the same over the whole work-group of
 *       wg work-items (its size), to all of them. Where shuffles cover a
 *       subgroup (MCL_SG_ADD_MAX > 1, wg a multiple of it): each warp's sum
 *       by shuffles, then every item adds the wg / MCL_SG_ADD_MAX warp sums
 *       in warp order (2 barriers); else a tree, 2 log2(wg) + 1 barriers.
 *       Either way one fixed order: every item gets the same value, every
 *       call the same rounding. red: wg floats, free again on return.
 *   mcl_bf16x8_to_float8(u)  8 BF16 values packed in a uint4 (element 0 in
 *       the low 16 bits of u.s0) as floats: exact (a BF16 is the upper half
 *       of its fp32), portable.
 *   mcl_hsum4/8/16(v)  the sum of a vector's lanes by halving (lo + hi until
 *       two remain): one fixed order, so a width's sums are reproducible.
 *   mcl_mma_16816(c, a, b, f16, emu)  c[0..3] += A . B for one m16n8k16
 *       tile of F16 (f16 != 0) or BF16 operands with fp32 accumulation,
 *       fragments in mma.sync's register layout: lane (g, t) = (lane / 4,
 *       lane % 4) of a warp of 32 consecutive work-items holds a[0..3] = A
 *       rows g / g + 8 at k 2t.. and 2t + 8.. (pairs, the lower k in the low
 *       16 bits), b[0..1] = B column g at k 2t.. and 2t + 8.., c[i] = C row
 *       g + 8 * (i / 2), column 2t + i % 2. MCL_CAP_MMA (NVIDIA sm_80+):
 *       one mma.sync.aligned.m16n8k16.row.col.f32.{f16,bf16}, every lane of
 *       the warp calls it, emu unused (0). Else emulated through local
 *       memory with the same layout and fp32 mad in k order (slow: for
 *       tests on PoCL and Oclgrind only; emu = this warp's 6 * 32 uints,
 *       every work-item of the group must call it: barriers).
 * Memory traffic: none (registers; the emulation 24 bytes of local memory
 * per lane and call). Tunables: none.
 */
#ifndef MCL_CAP_PTX
#define MCL_CAP_PTX 0
#endif
#ifndef MCL_CAP_MMA
#define MCL_CAP_MMA 0
#endif

#if MCL_CAP_PTX
#define MCL_SG_ADD_MAX 32

inline float mcl_sg_xor(float v, uint mask)
{
    uint r;
    asm volatile("shfl.sync.bfly.b32 %0, %1, %2, 0x1f, 0xffffffff;" : "=r"(r) : "r"(as_uint(v)), "r"(mask));
    return as_float(r);
}

inline float mcl_sg_add(float v, int n)
{
    for (int m = n / 2; m > 0; m >>= 1) v += mcl_sg_xor(v, (uint)m);
    return v;
}

inline float2 mcl_half2_to_float2(uint u)
{
    float a, b;
    asm("{\n\t.reg .b16 lo, hi;\n\tmov.b32 {lo, hi}, %2;\n\tcvt.f32.f16 %0, lo;\n\tcvt.f32.f16 %1, hi;\n\t}"
        : "=f"(a), "=f"(b)
        : "r"(u));
    return (float2)(a, b);
}

inline float8 mcl_half8_to_float8(uint4 u)
{
    return (float8)(mcl_half2_to_float2(u.s0), mcl_half2_to_float2(u.s1), mcl_half2_to_float2(u.s2),
                    mcl_half2_to_float2(u.s3));
}
#else
#define MCL_SG_ADD_MAX 1

/* The magnitude bits shifted into an fp32 and rescaled by 2^112 give
 * normals, subnormals and zeros exactly; exponent 31 (inf/NaN) is patched to
 * fp32's 255. */
inline float8 mcl_half8_to_float8(uint4 u)
{
    uint8 h = (uint8)(u.s0 & 0xffffu, u.s0 >> 16, u.s1 & 0xffffu, u.s1 >> 16, u.s2 & 0xffffu, u.s2 >> 16,
                      u.s3 & 0xffffu, u.s3 >> 16);
    uint8 mag = (h & 0x7fffu) << 13;
    float8 f = as_float8(mag) * 0x1.0p112f;
    uint8 bits = as_uint8(f) | ((h & 0x8000u) << 16);
    bits = select(bits, ((h & 0x8000u) << 16) | 0x7f800000u | ((h & 0x3ffu) << 13), (h & 0x7c00u) == 0x7c00u);
    return as_float8(bits);
}
#endif

inline float8 mcl_bf16x8_to_float8(uint4 u)
{
    uint4 lo = u << 16, hi = u & (uint4)0xffff0000u;
    return as_float8((uint8)(lo.s0, hi.s0, lo.s1, hi.s1, lo.s2, hi.s2, lo.s3, hi.s3));
}

inline float mcl_hsum4(float4 v)
{
    float2 c = v.lo + v.hi;
    return c.x + c.y;
}

inline float mcl_hsum8(float8 v) { return mcl_hsum4(v.lo + v.hi); }

inline float mcl_hsum16(float16 v) { return mcl_hsum8(v.lo + v.hi); }

#if MCL_CAP_MMA
inline __attribute__((always_inline)) void mcl_mma_16816(float *c, const uint *a, const uint *b, const int f16,
                                                         __local uint *emu)
{
    (void)emu;
    if (f16)
        asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, "
            "{%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
            : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
    else
        asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, "
            "{%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
            : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
#else
/* Element e (0, 1) of a 16-bit pair (F16 when f16, else BF16) as a float. */
inline float mcl_mma_elem(uint pair, int e, int f16)
{
    uint bits = e ? pair >> 16 : pair & 0xffffu;
    if (!f16) return as_float(bits << 16);
    ushort s = (ushort)bits;
    return vload_half(0, (__private const half *)&s);
}

inline void mcl_mma_16816(float *c, const uint *a, const uint *b, const int f16, __local uint *emu)
{
    int lane = get_local_id(0) % 32, g = lane / 4, t = lane % 4;
    for (int i = 0; i < 4; i++) emu[lane * 6 + i] = a[i];
    emu[lane * 6 + 4] = b[0];
    emu[lane * 6 + 5] = b[1];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int i = 0; i < 4; i++) { /* c[i]: row g + 8 * (i / 2), column 2t + i % 2 */
        int rh = i / 2, n = 2 * t + i % 2;
        float s = c[i];
        for (int k = 0; k < 16; k++) {
            int src = (k % 8) / 2, hi = k >= 8;
            float av = mcl_mma_elem(emu[(4 * g + src) * 6 + 2 * hi + rh], k & 1, f16);
            float bv = mcl_mma_elem(emu[(4 * n + src) * 6 + 4 + hi], k & 1, f16);
            s = mad(av, bv, s);
        }
        c[i] = s;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}
#endif

inline float mcl_local_team_sum(__local float *red, float v, int lanes)
{
    if (lanes == 1) return v;
    int lid = get_local_id(0), lane = lid % lanes;
    red[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = lanes / 2; s > 0; s >>= 1) {
        if (lane < s) red[lid] += red[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float total = red[lid - lane];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

inline float mcl_local_group_sum(__local float *red, float v, int wg)
{
    int lid = get_local_id(0);
#if MCL_SG_ADD_MAX > 1
    if (wg % MCL_SG_ADD_MAX == 0) { /* every item takes the same branch: wg is the group's size */
        v = mcl_sg_add(v, MCL_SG_ADD_MAX);
        if (lid % MCL_SG_ADD_MAX == 0) red[lid / MCL_SG_ADD_MAX] = v;
        barrier(CLK_LOCAL_MEM_FENCE);
        float t = 0.0f;
        for (int w = 0; w < wg / MCL_SG_ADD_MAX; w++) t += red[w];
        barrier(CLK_LOCAL_MEM_FENCE); /* red is reused */
        return t;
    }
#endif
    red[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = wg / 2; s > 0; s >>= 1) {
        if (lid < s) red[lid] += red[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float total = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}
