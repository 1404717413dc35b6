/* common.cl: helpers prepended to every kernel file.
 *
 * Weights are stored on the device in their checkpoint dtype (F32, F16 or
 * BF16) and computed in fp32. Kernels that read weights take a WDT define or
 * a runtime dtype argument and read through mcl_load_w().
 *   dtype 0 = F32, 1 = F16 (vload_half, core OpenCL 1.2, no cl_khr_fp16
 *   needed), 2 = BF16 (upper 16 bits of an fp32).
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
