/* Random inputs and device buffers shared by the kernel tests (cmocka:
 * failures are test assertions). One xorshift64 generator per test program,
 * seeded by trand_seed, so each program keeps its own reproducible stream. */
#ifndef TEST_RAND_H
#define TEST_RAND_H

#include <stddef.h>
#include <stdint.h>
#include <CL/cl.h>
#include "mambacl.h"

struct mcl_runtime;

void trand_seed(uint64_t seed);

/* Uniform in [-1, 1). */
float trand(void);

/* n floats uniform in [lo, hi); malloc'ed (never NULL). */
float *trand_floats(size_t n, float lo, float hi);

/* n weights uniform in [-scale, scale) stored as dt (F16 by correct rounding,
 * BF16 by RNE); malloc'ed. */
void *trand_weights(size_t n, mcl_dtype dt, float scale);

/* A device buffer of `bytes` (at least 4) holding host (NULL: uninitialized). */
cl_mem tbuf_upload(struct mcl_runtime *rt, const void *host, size_t bytes);

/* Reads `bytes` of m into host (blocking). */
void tbuf_download(struct mcl_runtime *rt, cl_mem m, void *host, size_t bytes);

#endif
