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
