#include "ref/ref_gemm.h"

#include <stddef.h>
#include <stdint.h>

#include "base/half.h"

static double w_at(const void *W, size_t i, mcl_dtype dt)
{
    if (dt == MCL_DTYPE_F16) return mcl_half_to_float(((const uint16_t *)W)[i]);
    if (dt == MCL_DTYPE_BF16) return mcl_bf16_to_float(((const uint16_t *)W)[i]);
    return ((const float *)W)[i];
}

void ref_gemm(const float *A, const void *W, mcl_dtype dtype, float *C, int M, int N, int K, float beta)
{
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = 0.0;
            for (int k = 0; k < K; k++) s += (double)A[(size_t)m * K + k] * w_at(W, (size_t)n * K + k, dtype);
            size_t o = (size_t)m * N + n;
            C[o] = (float)(beta != 0.0f ? s + (double)beta * C[o] : s);
        }
}
