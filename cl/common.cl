/* common.cl: helpers prepended to every kernel file.
 *
 * Weights are stored on the device in their checkpoint dtype (F32, F16 or
 * BF16) and computed in fp32. Kernels that read weights take a WDT define or
 * a runtime dtype argument and read through mcl_load_w().
 *   dtype 0 = F32, 1 = F16 (vload_half, core OpenCL 1.2, no cl_khr_fp16
 *   needed), 2 = BF16 (upper 16 bits of an fp32).
 * mcl_conv_step: the causal conv of one decode step for one channel (the
 * epilogue of gemv_in and of dlayer's phase A); mcl_conv_args,
 * MCL_CONV_PARAMS / MCL_CONV_ARGS_INIT and mcl_conv_write: that epilogue's
 * kernel arguments and write, shared by gemv.cl's and gemv_mma.cl's in_proj
 * kernels (the launchers bind both alike).
 * gemm_round4, gemm_pack8 (and their scalar helpers): the split of fp32
 * activations into 16-bit hi and lo parts (round to nearest even) that the
 * mma GEMM reads, shared by gemm.cl's gemm_split_a and norm.cl's
 * rmsnorm_split so both write bitwise the same parts.
 * Tunables: none. Defines every program receives: MCL_LOCAL_MEM_BYTES,
 * MCL_MAX_WG, MCL_WG_MULTIPLE, MCL_HAS_FP16, MCL_DEVICE_CPU.
 */
#define MCL_DTYPE_F32 0
#define MCL_DTYPE_F16 1
#define MCL_DTYPE_BF16 2

inline float mcl_bf16_to_float(ushort v) { return as_float(((uint)v) << 16); }

/* Element i of a weight array of the given dtype. */
inline float mcl_load_w(const __global void *w, size_t i, int dtype)
{
    if (dtype == MCL_DTYPE_F16) return vload_half(i, (const __global half *)w);
    if (dtype == MCL_DTYPE_BF16) return mcl_bf16_to_float(((const __global ushort *)w)[i]);
    return ((const __global float *)w)[i];
}

inline float mcl_silu(float x) { return x / (1.0f + exp(-x)); }

/* softplus as in the reference: identity above 20. */
inline float mcl_softplus(float x) { return x > 20.0f ? x : log1p(exp(x)); }

/* Conv step of decode for one channel whose fresh input is xv: returns
 * SiLU(bias + sum_j w[j] * tap_j + w[K-1] * xv) (cw [K], cb [1] read when
 * has_bias) and rolls the channel's state st [K-1] (oldest tap first). */
inline float mcl_conv_step(__global const float *cw, __global const float *cb, int has_bias, __global float *st,
                           int K, float xv)
{
    float acc = has_bias ? cb[0] : 0.0f;
    for (int j = 0; j < K - 1; j++) {
        float s = st[j];
        acc = mad(cw[j], s, acc);
        if (j > 0) st[j - 1] = s;
    }
    st[K - 2] = xv;
    return mcl_silu(mad(cw[K - 1], xv, acc));
}

/* The conv epilogue of an in_proj GEMV: conv_w [n_conv, K], conv_b [n_conv]
 * (read when has_bias), the pooled conv state (channel o of sequence b at
 * state + off + slot[b] * stride + o * (K-1)), xc [B, n_conv] the conv
 * outputs. */
typedef struct mcl_conv_args {
    __global const float *w, *b;
    __global float *state;
    __global const int *slot;
    ulong off, stride;
    int has_bias, K, n_conv;
    __global float *xc;
} mcl_conv_args;

/* The kernel parameters of that epilogue, in the order the launcher binds
 * them (src/ops/kern_decode.c bind_conv, for both files), and the struct
 * built from them (no variadic macros: NVIDIA's OpenCL C has none). */
#define MCL_CONV_PARAMS                                                                                      \
    __global const float *conv_w, __global const float *conv_b, int has_bias, __global float *conv_state, \
        ulong state_off, __global const int *slot, ulong slot_stride, int K, int n_conv, __global float *xc
#define MCL_CONV_ARGS_INIT {conv_w, conv_b, conv_state, slot, state_off, slot_stride, has_bias, K, n_conv, xc}

/* The conv step of channel o < cv->n_conv of sequence b on its fresh in_proj
 * value s, written to xc (the state rolled). */
inline void mcl_conv_write(const mcl_conv_args *cv, int b, int o, float s)
{
    __global float *st = cv->state + cv->off + (ulong)cv->slot[b] * cv->stride + (ulong)o * (cv->K - 1);
    cv->xc[(size_t)b * cv->n_conv + o] =
        mcl_conv_step(cv->w + (size_t)o * cv->K, cv->b + o, cv->has_bias, st, cv->K, s);
}

/* ---- A split into 16-bit parts: gemm.cl's gemm_split_a and norm.cl's
 * rmsnorm_split write the same parts with these ---- */

/* a rounded to the nearest F16 value (ties to even), as a float, by integer
 * arithmetic (no cl_khr_fp16 needed): 10 mantissa bits kept in the normal
 * range, steps of 2^-24 below 2^-14 (F16 subnormals). Beyond 65504 the
 * result stores as an F16 infinity. */
inline float gemm_round_f16(float a)
{
    if (fabs(a) < 0x1.0p-14f) return rint(a * 0x1.0p24f) * 0x1.0p-24f;
    uint u = as_uint(a);
    return as_float((u + 0xfffu + ((u >> 13) & 1u)) & ~0x1fffu);
}

/* The BF16 bits nearest to a (ties to even). */
inline uint gemm_bf16_bits(float a)
{
    uint u = as_uint(a);
    return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

/* The F16 bits of a, which gemm_round_f16 made exactly representable:
 * normals by rebiasing the exponent, subnormals (|a| < 2^-14, multiples of
 * 2^-24) as the integer |a| * 2^24; beyond 65504 infinity, NaN stays NaN.
 * Bit arithmetic, not vstore_half_rte: without cl_khr_fp16 NVIDIA's OpenCL
 * rounds in software there, which made this pass 7x slower than memory. */
inline uint gemm_f16_bits(float a)
{
    uint u = as_uint(a), sign = (u >> 16) & 0x8000u, mag = u & 0x7fffffffu;
    if (mag > 0x7f800000u) return sign | 0x7e00u;
    if (mag < 0x38800000u) return sign | (uint)(as_float(mag) * 0x1.0p24f);
    uint h = (mag - 0x38000000u) >> 13;
    return sign | min(h, 0x7c00u);
}

/* The 16-bit value nearest to each of a (F16 when f16, else BF16), as fp32. */
inline float4 gemm_round4(float4 a, int f16)
{
    if (f16) return (float4)(gemm_round_f16(a.x), gemm_round_f16(a.y), gemm_round_f16(a.z), gemm_round_f16(a.w));
    uint4 b = (uint4)(gemm_bf16_bits(a.x), gemm_bf16_bits(a.y), gemm_bf16_bits(a.z), gemm_bf16_bits(a.w));
    return as_float4(b << 16);
}

/* The bits of one value that gemm_round4 made representable. */
inline uint gemm_bits1(float r, int f16) { return f16 ? gemm_f16_bits(r) : as_uint(r) >> 16; }

/* The bits of eight values that gemm_round4 made representable, packed two
 * per uint (the lower element in the low half). Built from scalars: Oclgrind
 * 21.10's uninitialized-value plugin crashes on vector concatenations. */
inline uint4 gemm_pack8(float4 r0, float4 r1, int f16)
{
    return (uint4)(gemm_bits1(r0.x, f16) | (gemm_bits1(r0.y, f16) << 16),
                   gemm_bits1(r0.z, f16) | (gemm_bits1(r0.w, f16) << 16),
                   gemm_bits1(r1.x, f16) | (gemm_bits1(r1.y, f16) << 16),
                   gemm_bits1(r1.z, f16) | (gemm_bits1(r1.w, f16) << 16));
}

/* Elements k..k+3 of row (zero at k >= K). */
inline float4 gemm_row4(__global const float *row, int k, int K)
{
    if (k + 3 < K) return vload4(0, row + k);
    return (float4)(k < K ? row[k] : 0.0f, k + 1 < K ? row[k + 1] : 0.0f, k + 2 < K ? row[k + 2] : 0.0f,
                    k + 3 < K ? row[k + 3] : 0.0f);
}
