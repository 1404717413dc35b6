/* copy.cl: float4 copy, the bandwidth baseline of `bench` and a selftest.
 *
 * Algorithm: dst[i] = src[i] for i < n4 (float4 elements), one element per
 * work-item, grid-stride loop.
 * Memory traffic per element: 16 bytes read, 16 bytes written.
 * Tunables: COPY_WG (work-group size; default 256 capped by the device).
 */
__kernel __attribute__((reqd_work_group_size(COPY_WG, 1, 1)))
void copy_f4(__global const float4 *restrict src, __global float4 *restrict dst, uint n4)
{
    for (uint i = get_global_id(0); i < n4; i += get_global_size(0)) dst[i] = src[i];
}
