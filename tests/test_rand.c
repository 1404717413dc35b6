/* Random inputs and device buffers shared by the kernel tests (test_rand.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "test_rand.h"

#include "base/half.h"
#include "runtime/runtime.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;

void trand_seed(uint64_t seed) { rng = seed ? seed : 1; }

float trand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

float *trand_floats(size_t n, float lo, float hi)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * 0.5f * (trand() + 1.0f);
    return p;
}

void *trand_weights(size_t n, mcl_dtype dt, float scale)
{
    float *f = trand_floats(n, -scale, scale);
    void *w = malloc((n ? n : 1) * mcl_half_dtype_size(dt));
    assert_non_null(w);
    assert_int_equal(mcl_half_convert_from_f32(f, dt, w, n), MCL_OK);
    free(f);
    return w;
}

cl_mem tbuf_upload(struct mcl_runtime *rt, const void *host, size_t bytes)
{
    cl_mem m = NULL;
    assert_int_equal(mcl_buffer_create(rt, CL_MEM_READ_WRITE, bytes ? bytes : 4, "test", &m), MCL_OK);
    if (bytes && host)
        assert_int_equal(clEnqueueWriteBuffer(rt->queue, m, CL_TRUE, 0, bytes, host, 0, NULL, NULL), CL_SUCCESS);
    return m;
}

void tbuf_download(struct mcl_runtime *rt, cl_mem m, void *host, size_t bytes)
{
    assert_int_equal(clEnqueueReadBuffer(rt->queue, m, CL_TRUE, 0, bytes, host, 0, NULL, NULL), CL_SUCCESS);
}
