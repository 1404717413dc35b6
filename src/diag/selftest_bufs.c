/* Buffers and checks shared by the kernels' selftests. */
#include "diag/selftest_bufs.h"

#include <math.h>

#include "base/error.h"
#include "base/half.h"

mcl_status mcl_st_put(mcl_runtime *rt, mcl_st_bufs *b, const void *host, size_t bytes, cl_mem *out)
{
    *out = NULL;
    MCL_ASSERT(b->n < MCL_ST_MAX_BUFS, "selftest: too many buffers");
    MCL_TRY(mcl_buffer_create(rt, CL_MEM_READ_WRITE, bytes, "selftest", out));
    b->m[b->n++] = *out;
    if (host)
        MCL_CL_CHECK(clEnqueueWriteBuffer(rt->queue, *out, CL_TRUE, 0, bytes, host, 0, NULL, NULL),
                     "clEnqueueWriteBuffer(selftest)");
    return MCL_OK;
}

mcl_status mcl_st_get(mcl_runtime *rt, cl_mem m, void *host, size_t bytes)
{
    MCL_CL_CHECK(clEnqueueReadBuffer(rt->queue, m, CL_TRUE, 0, bytes, host, 0, NULL, NULL),
                 "clEnqueueReadBuffer(selftest)");
    return MCL_OK;
}

mcl_status mcl_st_done(mcl_st_bufs *b, mcl_status st)
{
    for (int i = 0; i < b->n; i++) mcl_buffer_release(&b->m[i]);
    return st;
}

bool mcl_st_close(const float *got, const float *want, int n, float tol)
{
    for (int i = 0; i < n; i++)
        if (!(fabsf(got[i] - want[i]) <= tol * (1.0f + fabsf(want[i])))) return false;
    return true;
}

float mcl_st_val(int i) { return (float)((i * 37) % 23 - 11) / 8.0f; }

mcl_status mcl_st_gemv_case(mcl_runtime *rt, mcl_st_gemv_fn gemv, int O, int I, int nb, float tol, bool *ok)
{
    enum { B = 2, MAX = 32 };
    MCL_ASSERT(O > 0 && I > 0 && O <= MAX && I <= MAX && O * I <= MCL_ST_GEMV_MAX_W && nb >= 1 && nb <= B,
               "gemv selftest shape");
    uint16_t W[MCL_ST_GEMV_MAX_W];
    float x[B * MAX], y[B * MAX], got[B * MAX], want[B * MAX];
    for (int i = 0; i < O * I; i++) W[i] = mcl_half_from_float(mcl_st_val(i));
    for (int i = 0; i < B * I; i++) x[i] = mcl_st_val(i + 3);
    for (int i = 0; i < B * O; i++) y[i] = mcl_st_val(i + 6);
    for (int bb = 0; bb < nb; bb++)
        for (int o = 0; o < O; o++) {
            double s = y[bb * O + o];
            for (int i = 0; i < I; i++) s += (double)mcl_half_to_float(W[o * I + i]) * x[bb * I + i];
            want[bb * O + o] = (float)s;
        }
    mcl_st_bufs b = {0};
    cl_mem bW, bx, by;
    mcl_status st = mcl_st_put(rt, &b, W, (size_t)O * I * sizeof W[0], &bW);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, x, (size_t)B * I * sizeof x[0], &bx);
    if (st == MCL_OK) st = mcl_st_put(rt, &b, y, (size_t)B * O * sizeof y[0], &by);
    if (st == MCL_OK) st = gemv(rt, bW, MCL_DTYPE_F16, bx, by, O, I, nb, true);
    if (st == MCL_OK) st = mcl_st_get(rt, by, got, (size_t)nb * O * sizeof got[0]);
    if (st == MCL_OK) *ok = mcl_st_close(got, want, nb * O, tol);
    return mcl_st_done(&b, st);
}
