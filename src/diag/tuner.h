/* The autotuner: times every fitting configuration of each kernel family on
 * the model's own shapes, inside the real prefill and decode, and keeps the
 * fastest one whose logits agree with the default configuration's. */
#ifndef MCL_TUNER_H
#define MCL_TUNER_H

#include "mambacl.h"
#include "runtime/runtime.h"
#include "tune/tunedb.h"

typedef struct mcl_tune_options {
    int prefill_len;   /* tokens of the prefill workload */
    int decode_batch;  /* sequences of the decode workload */
    int reps;          /* timed repetitions per candidate (median; one warm-up first) */
    int max_candidates;/* per family; 0 = all that fit */
    double tolerance;  /* max |logit - default logit| accepted */
    const char *only;  /* comma-separated program files to tune ("scan.cl,gemv.cl"); NULL = all */
    /* Progress: family, candidate index / count, best median so far (ms). */
    void (*progress)(const char *family, int i, int n, double best_ms, void *user);
    /* Asked between families and candidates: true stops the tuning (still
     * MCL_OK); the families finished before stay in db and results, the one
     * under way is dropped and keeps its previous configuration. NULL = never. */
    bool (*cancel)(void *user);
    void *user;
} mcl_tune_options;

/* One family's outcome. */
typedef struct mcl_tune_result {
    const char *family;
    int candidates, rejected;  /* tried; refused (build failure or wrong logits) */
    double default_ms, best_ms;
    mcl_params best;
} mcl_tune_result;

/* Tunes every family that declares a space, one after the other (each on top
 * of the previous winners), records the winners in db and leaves the runtime
 * built with them. rt must have profiling on. results receives up to cap
 * entries; *n_results their number. */
mcl_status mcl_tune_model(mcl_runtime *rt, mcl_model *model, const mcl_tune_options *opts,
                          mcl_tunedb *db, mcl_tune_result *results, int cap, int *n_results);

#endif
