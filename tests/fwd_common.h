/* Helpers of the forward-pass tests: the shared reference file, the default
 * model's directory, logits comparisons. */
#ifndef FWD_COMMON_H
#define FWD_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#define FWD_MAX_PROMPT 64
#define FWD_GREEDY 32

/* One prompt of ../shared/reference/shakespeare-mamba.json. */
typedef struct fwd_case {
    int n_ids;
    int32_t ids[FWD_MAX_PROMPT];
    int32_t argmax[FWD_MAX_PROMPT];  /* argmax of the logits at every position */
    int32_t greedy[FWD_GREEDY];      /* the greedy continuation */
    int vocab;
    float *last_logits;              /* [vocab], malloc'ed */
} fwd_case;

/* Reads the reference cases; returns their count (0 on failure, printing why).
 * Free with fwd_cases_free. */
int fwd_cases_load(fwd_case **out);
void fwd_cases_free(fwd_case *cases, int n);

/* The default model's directory: $MAMBACL_SOURCE_ROOT/models/shakespeare-mamba. */
const char *fwd_model_dir(void);

/* Index of the largest value (first on ties). */
int fwd_argmax_f(const float *v, int n);
int fwd_argmax_d(const double *v, int n);

#endif
