/* convert.cl: weights in F32/F16/BF16 to fp32 (for the CLBlast GEMMs of prefill).
 *
 * Algorithm: out[i] = w[i] as fp32. Each work-item converts groups of 4
 * elements with vector loads (vload_half4, ushort4 + 16-bit shift, float4) and
 * a vstore4, in a grid-stride loop over n/4 groups; the n % 4 tail elements
 * are done by the first work-items one by one. Only element alignment is
 * assumed (vloadn), so any buffer start works.
 * Traffic per element: 2 (F16, BF16) or 4 (F32) bytes read, 4 bytes written.
 * Tunables: CONVERT_WG (work-group size; 256 on GPUs, 64 on CPUs, capped by
 *   the device; src/tune_kern.c). The host launches enough groups to fill the
 *   device (grid-stride loop covers the rest).
 */
#ifndef CONVERT_WG
#define CONVERT_WG 64
#endif

__kernel __attribute__((reqd_work_group_size(CONVERT_WG, 1, 1)))
void weights_to_f32(__global const void *w, int wdtype, __global float *out, ulong n)
{
    size_t n4 = (size_t)(n / 4), gid = get_global_id(0), gsz = get_global_size(0);
    for (size_t v = gid; v < n4; v += gsz) {
        float4 f;
        if (wdtype == MCL_DTYPE_F16) {
            f = vload_half4(v, (__global const half *)w);
        } else if (wdtype == MCL_DTYPE_BF16) {
            uint4 u = convert_uint4(vload4(v, (__global const ushort *)w));
            f = as_float4(u << 16);
        } else {
            f = vload4(v, (__global const float *)w);
        }
        vstore4(f, v, out);
    }
    size_t tail = (size_t)n - n4 * 4;
    if (gid < tail) out[n4 * 4 + gid] = mcl_load_w(w, n4 * 4 + gid, wdtype);
}
