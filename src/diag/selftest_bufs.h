/* Buffers and checks shared by the kernels' selftests (selftest_kern.c,
 * selftest_decode.c, selftest_cpu.c): device buffers of one selftest, released together,
 * and the tolerance check against a host reference. */
#ifndef MCL_SELFTEST_BUFS_H
#define MCL_SELFTEST_BUFS_H

#include <stdbool.h>

#include "ops/kern_decode.h"
#include "runtime/runtime.h"

enum { MCL_ST_MAX_BUFS = 24 };

typedef struct mcl_st_bufs {
    int n;
    cl_mem m[MCL_ST_MAX_BUFS];
} mcl_st_bufs;

/* A read-write buffer of `bytes` in b (host: its content, or NULL); a full b
 * is a bug (MCL_ERR_INTERNAL). */
mcl_status mcl_st_put(mcl_runtime *rt, mcl_st_bufs *b, const void *host, size_t bytes, cl_mem *out);

/* Blocking read of `bytes` of m into host. */
mcl_status mcl_st_get(mcl_runtime *rt, cl_mem m, void *host, size_t bytes);

/* Releases every buffer of b and returns st. */
mcl_status mcl_st_done(mcl_st_bufs *b, mcl_status st);

/* |got - want| <= tol * (1 + |want|) for all n (NaN fails). */
bool mcl_st_close(const float *got, const float *want, int n, float tol);

/* A deterministic test value in [-1.375, 1.375]. */
float mcl_st_val(int i);

/* A GEMV launcher with mcl_kern_gemv's contract (mcl_kern_gemv, mcl_kern_cgemv). */
typedef mcl_status (*mcl_st_gemv_fn)(mcl_runtime *rt, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O, int I,
                                     int B, bool accumulate);

/* The accumulating GEMV selftest: y[b] += W . x[b] over nb (1 or 2) batch
 * rows of O x I F16 weights (O * I <= MCL_ST_GEMV_MAX_W, I and O <= 32), run
 * by `gemv` and compared with a double-precision host sum within tol. *ok
 * says whether it matched; errors of the launch come back as they are. */
enum { MCL_ST_GEMV_MAX_W = 512 };
mcl_status mcl_st_gemv_case(mcl_runtime *rt, mcl_st_gemv_fn gemv, int O, int I, int nb, float tol, bool *ok);

/* n weights w (fp32 values) stored in dtype dt at out (4 bytes per element
 * for F32, 2 otherwise); vals gets the stored values back as floats. */
void mcl_st_to_dtype(const float *w, int n, mcl_dtype dt, void *out, float *vals);

/* A launcher with mcl_kern_gemv_in's contract (mcl_kern_cgemv_in, and
 * rgemv's batch-1 launcher through an adapter). */
typedef mcl_status (*mcl_st_gemv_in_fn)(mcl_runtime *rt, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O,
                                        int I, int B, cl_mem nw, float eps, const mcl_kern_conv *conv);

/* The gemv_in selftest with its conv epilogue: one batch row (state slot 1
 * of 2) of 9 x I weights of dtype dt (I <= MCL_ST_GEMV_IN_MAX_I), the norm,
 * and the conv step (K 3, with bias) of the first 4 rows, run by `gemv_in`
 * and compared (outputs, xc and the rolled conv state) with a double-
 * precision host reference within tol. *ok says whether it matched; errors
 * of the launch come back as they are. */
enum { MCL_ST_GEMV_IN_MAX_I = 32 };
mcl_status mcl_st_gemv_in_case(mcl_runtime *rt, mcl_st_gemv_in_fn gemv_in, mcl_dtype dt, int I, float tol,
                               bool *ok);

#endif
