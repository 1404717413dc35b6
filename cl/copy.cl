/* copy.cl: float4 copy and read, the bandwidth baselines of `bench` (copy is
 * also a selftest).
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

/* read_f4: the read-bandwidth baseline (decode streams weights: reads only).
 * Each work-item sums its float4 elements of a grid-stride walk, four loads in
 * flight per iteration; the sum is written only when it equals -1, which the
 * zero-filled source never gives but the compiler cannot know, so no load is
 * removed. Traffic per element: 16 bytes read. Tunables: COPY_WG. */
__kernel __attribute__((reqd_work_group_size(COPY_WG, 1, 1)))
void read_f4(__global const float4 *restrict src, uint n4, __global float *restrict out)
{
    uint g = get_global_id(0), step = get_global_size(0), i = g;
    float4 a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
    for (; i + 3 * step < n4; i += 4 * step) {
        a0 += src[i];
        a1 += src[i + step];
        a2 += src[i + 2 * step];
        a3 += src[i + 3 * step];
    }
    for (; i < n4; i += step) a0 += src[i];
    float4 a = (a0 + a1) + (a2 + a3);
    float s = (a.x + a.y) + (a.z + a.w);
    if (s == -1.0f) out[g] = s;
}
