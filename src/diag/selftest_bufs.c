/* Buffers and checks shared by the kernels' selftests. */
#include "diag/selftest_bufs.h"

#include <math.h>

#include "base/error.h"

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
