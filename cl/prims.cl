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
 *   mcl_bf16x8_to_float8(u)  8 BF16 values packed in a uint4 (element 0 in
 *       the low 16 bits of u.s0) as floats: exact (a BF16 is the upper half
 *       of its fp32), portable.
 *   mcl_hsum4/8/16(v)  the sum of a vector's lanes by halving (lo + hi until
 *       two remain): one fixed order, so a width's sums are reproducible.
 * Memory traffic: none (registers). Tunables: none.
 */
#ifndef MCL_CAP_PTX
#define MCL_CAP_PTX 0
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
