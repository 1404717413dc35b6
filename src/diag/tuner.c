/* The autotuner (see tuner.h). */
#include "diag/tuner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/bench.h"
#include "base/error.h"
#include "tune/tune.h"

#define MAX_CANDIDATES 256
#define MAX_NAMES 64

/* The workload: one prefill of prefill_len tokens on a fresh state, then one
 * decode step of decode_batch sequences. Logits of both go to `logits`. */
typedef struct workload {
    mcl_model *model;
    int vocab, len, batch;
    int32_t *tokens;   // [len]
    mcl_state **states; // [batch]
    float *logits;     // [(1 + batch), vocab]
} workload;

static mcl_status workload_run(workload *w)
{
    for (int b = 0; b < w->batch; b++) MCL_TRY(mcl_state_reset(w->states[b]));
    const int32_t *toks[1] = {w->tokens};
    MCL_TRY(mcl_prefill(w->model, w->states, toks, &w->len, 1, w->logits));
    int32_t next[256];
    for (int b = 0; b < w->batch; b++) next[b] = (int32_t)((b * 7 + 1) % w->vocab);
    return mcl_decode(w->model, w->states, next, w->batch, w->logits + w->vocab);
}

/* Device time (ms) of the kernels of program `file` in one workload run. */
static mcl_status family_time(mcl_runtime *rt, workload *w, const char *file, double *ms)
{
    const char *names[MAX_NAMES];
    double t[MAX_NAMES];
    mcl_runtime_profile_take(rt, names, t, MAX_NAMES); /* drop older records */
    MCL_TRY(workload_run(w));
    MCL_TRY(mcl_runtime_finish(rt));
    int n = mcl_runtime_profile_take(rt, names, t, MAX_NAMES);
    *ms = 0.0;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < rt->n_kernels; k++) {
            if (strcmp(rt->kernels[k].name, names[i]) == 0 &&
                strcmp(rt->programs[rt->kernels[k].program].file, file) == 0) {
                *ms += t[i];
                break;
            }
        }
    }
    return MCL_OK;
}

/* Median family time over reps runs after one warm-up. */
static mcl_status measure(mcl_runtime *rt, workload *w, const char *file, int reps, double *median)
{
    double ms[64], warm;
    if (reps > 64) reps = 64;
    MCL_TRY(family_time(rt, w, file, &warm));
    for (int r = 0; r < reps; r++) MCL_TRY(family_time(rt, w, file, &ms[r]));
    mcl_timing t;
    mcl_timing_from(ms, reps, &t);
    *median = t.median_ms;
    return MCL_OK;
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) m = d; /* NaN propagates as a failure */
    }
    return m;
}

static bool same_params(const mcl_params *a, const mcl_params *b)
{
    if (a->n != b->n) return false;
    for (int i = 0; i < a->n; i++)
        if (mcl_params_get(b, a->p[i].name, -1) != a->p[i].value) return false;
    return true;
}

static mcl_status tune_family(mcl_runtime *rt, workload *w, const mcl_family *fam,
                              const mcl_tune_options *o, const float *ref, mcl_tune_result *res)
{
    static mcl_params cands[MAX_CANDIDATES];
    size_t nl = (size_t)(1 + w->batch) * (size_t)w->vocab;
    const mcl_params *cur = mcl_runtime_params(rt, fam->file);
    if (!cur) return mcl_error_set(MCL_ERR_INVALID_ARG, "tuner: no program %s", fam->file);
    mcl_params def = *cur;
    int n = mcl_tune_candidates(fam, &rt->dev, &def, cands, MAX_CANDIDATES);
    if (o->max_candidates > 0 && n > o->max_candidates) n = o->max_candidates;
    memset(res, 0, sizeof *res);
    res->family = fam->file;
    res->best = def;
    MCL_TRY(measure(rt, w, fam->file, o->reps, &res->default_ms));
    res->best_ms = res->default_ms;
    for (int i = 0; i < n; i++) {
        double ms = 0.0;
        if (same_params(&cands[i], &def)) continue; /* measured above */
        if (o->cancel && o->cancel(o->user)) { /* leave the default in place; the family is not recorded */
            mcl_status rb = mcl_runtime_rebuild(rt, fam->file, &def);
            return rb != MCL_OK ? rb : mcl_error_set(MCL_ERR_INTERRUPTED, "tuning %s stopped", fam->file);
        }
        res->candidates++;
        mcl_status st = mcl_runtime_rebuild(rt, fam->file, &cands[i]);
        if (st == MCL_OK) st = measure(rt, w, fam->file, o->reps, &ms);
        if (st == MCL_OK && max_abs_diff(w->logits, ref, nl) > o->tolerance) st = MCL_ERR_OPENCL;
        if (st != MCL_OK) res->rejected++;
        else if (ms < res->best_ms) {
            res->best_ms = ms;
            res->best = cands[i];
        }
        mcl_error_clear();
        if (o->progress && i + 1 < n) o->progress(fam->file, i + 1, n, res->best_ms, o->user);
    }
    if (o->progress) o->progress(fam->file, n, n, res->best_ms, o->user);
    return mcl_runtime_rebuild(rt, fam->file, &res->best);
}

static void workload_free(workload *w)
{
    for (int b = 0; b < w->batch; b++) mcl_state_free(w->states[b]);
    free(w->states);
    free(w->tokens);
    free(w->logits);
}

static mcl_status workload_init(workload *w, mcl_model *model, const mcl_tune_options *o)
{
    memset(w, 0, sizeof *w);
    w->model = model;
    w->vocab = mcl_model_vocab(model);
    w->len = o->prefill_len;
    w->batch = o->decode_batch < 1 ? 1 : (o->decode_batch > 256 ? 256 : o->decode_batch);
    w->tokens = malloc((size_t)w->len * sizeof *w->tokens);
    w->states = calloc((size_t)w->batch, sizeof *w->states);
    w->logits = malloc((size_t)(1 + w->batch) * (size_t)w->vocab * sizeof *w->logits);
    if (!w->tokens || !w->states || !w->logits) return mcl_error_set(MCL_ERR_NOMEM, "tuner: out of host memory");
    for (int i = 0; i < w->len; i++) w->tokens[i] = (int32_t)((i * 2654435761u) % (unsigned)w->vocab);
    for (int b = 0; b < w->batch; b++) MCL_TRY(mcl_state_create(model, &w->states[b]));
    return MCL_OK;
}

/* Whether `file` is named in the comma-separated list (NULL list: all are). */
static bool selected(const char *list, const char *file)
{
    if (!list) return true;
    size_t n = strlen(file);
    for (const char *p = list; (p = strstr(p, file)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) return true;
    return false;
}

mcl_status mcl_tune_model(mcl_runtime *rt, mcl_model *model, const mcl_tune_options *o, mcl_tunedb *db,
                          mcl_tune_result *results, int cap, int *n_results)
{
    workload w;
    float *ref = NULL;
    char shape[96];
    *n_results = 0;
    if (!rt->profiling) return mcl_error_set(MCL_ERR_INVALID_ARG, "tuner: the runtime needs profiling on");
    mcl_status st = workload_init(&w, model, o);
    size_t nl = (size_t)(1 + w.batch) * (size_t)w.vocab;
    if (st == MCL_OK && !(ref = malloc(nl * sizeof *ref))) st = mcl_error_set(MCL_ERR_NOMEM, "tuner: out of host memory");
    snprintf(shape, sizeof shape, "prefill %d tokens + decode batch %d", w.len, w.batch);
    for (int f = 0; st == MCL_OK; f++) {
        const mcl_family *fam = mcl_tune_family_at(f);
        if (!fam || (o->cancel && o->cancel(o->user))) break;
        if (!fam->space_size || !selected(o->only, fam->file) || !mcl_runtime_params(rt, fam->file) ||
            *n_results >= cap)
            continue;
        st = workload_run(&w); /* reference logits with the current configuration */
        if (st == MCL_OK) st = mcl_runtime_finish(rt);
        if (st == MCL_OK) memcpy(ref, w.logits, nl * sizeof *ref);
        mcl_tune_result *r = &results[*n_results];
        if (st == MCL_OK) st = tune_family(rt, &w, fam, o, ref, r);
        if (st == MCL_ERR_INTERRUPTED) { /* cancelled: the families before this one stay */
            mcl_error_clear();
            st = MCL_OK;
            break;
        }
        if (st == MCL_OK) st = mcl_tunedb_set(db, fam->file, &r->best, r->best_ms, r->default_ms, shape);
        if (st == MCL_OK) (*n_results)++;
    }
    free(ref);
    workload_free(&w);
    return st;
}
