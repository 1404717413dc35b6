/* Sampling the next token from logits on the host. */
#ifndef MCL_SAMPLE_H
#define MCL_SAMPLE_H

#include "mambacl.h"

/* The next output of the sampler's xoshiro256** generator (for tests). */
uint64_t mcl_sampler_next_u64(mcl_sampler *s);

#endif
