/* The autotuner (see tuner.h). */
#include "diag/tuner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/bench.h"
#include "diag/selftest_gemm.h"
#include "base/env.h"
#include "base/error.h"
#include "tune/families.h"
#include "tune/tune.h"

#define MAX_CANDIDATES 256
#define MAX_NAMES 64

#define MAX_EXTRA 4 /* mcl_family.tune_batches */

/* The workload: one prefill of prefill_len tokens on a fresh state, then one
 * decode step of decode_batch sequences, then (while a family with
 * tune_batches is tuned) one decode step of each of those batch sizes.
 * Logits of all go to `logits`, one after the other. */
typedef struct workload {
    mcl_model *model;
    int vocab, len, batch;
    int n_extra, extra[MAX_EXTRA]; /* the family's tune_batches */
    int n_states;       /* states created: the largest batch so far */
    int32_t *tokens;    // [len]
    mcl_state **states; // [n_states]
    float *logits;      // [cap_rows, vocab]
    float *ref;         // [cap_rows, vocab] the reference logits of the family being tuned
    size_t cap_rows;    /* rows of logits and ref */
} workload;

/* Rows of logits one run writes now. */
static size_t workload_rows(const workload *w)
{
    size_t n = 1 + (size_t)w->batch;
    for (int i = 0; i < w->n_extra; i++) n += (size_t)w->extra[i];
    return n;
}

static mcl_status workload_run(workload *w)
{
    int used = w->batch;
    for (int i = 0; i < w->n_extra; i++) used = w->extra[i] > used ? w->extra[i] : used;
    for (int b = 0; b < used; b++) MCL_TRY(mcl_state_reset(w->states[b]));
    const int32_t *toks[1] = {w->tokens};
    MCL_TRY(mcl_prefill(w->model, w->states, toks, &w->len, 1, w->logits));
    int32_t next[256];
    for (int b = 0; b < used; b++) next[b] = (int32_t)((b * 7 + 1) % w->vocab);
    float *out = w->logits + w->vocab;
    MCL_TRY(mcl_decode(w->model, w->states, next, w->batch, out));
    out += (size_t)w->batch * (size_t)w->vocab;
    for (int i = 0; i < w->n_extra; i++) {
        MCL_TRY(mcl_decode(w->model, w->states, next, w->extra[i], out));
        out += (size_t)w->extra[i] * (size_t)w->vocab;
    }
    return MCL_OK;
}

/* Sets the workload's extra decode batches to fam's, creating the states
 * and growing the logits they need. */
static mcl_status workload_for(workload *w, const mcl_family *fam)
{
    w->n_extra = 0;
    int need = w->batch;
    for (int i = 0; i < MAX_EXTRA && fam->tune_batches[i] > 0; i++) {
        int b = fam->tune_batches[i] > 256 ? 256 : fam->tune_batches[i];
        w->extra[w->n_extra++] = b;
        need = b > need ? b : need;
    }
    if (need > w->n_states) {
        mcl_state **s = realloc(w->states, (size_t)need * sizeof *s);
        if (!s) return mcl_error_set(MCL_ERR_NOMEM, "tuner: out of host memory");
        w->states = s;
        for (; w->n_states < need; w->n_states++) {
            w->states[w->n_states] = NULL;
            MCL_TRY(mcl_state_create(w->model, &w->states[w->n_states]));
        }
    }
    size_t rows = workload_rows(w);
    if (rows > w->cap_rows) {
        float *l = realloc(w->logits, rows * (size_t)w->vocab * sizeof *l);
        if (l) w->logits = l;
        float *r = l ? realloc(w->ref, rows * (size_t)w->vocab * sizeof *r) : NULL;
        if (r) w->ref = r;
        if (!l || !r) return mcl_error_set(MCL_ERR_NOMEM, "tuner: out of host memory");
        w->cap_rows = rows;
    }
    return MCL_OK;
}

/* Device time (ms) of the kernels of family fam (every launch when
 * fam->time_all) in one workload run. */
static mcl_status family_time(mcl_runtime *rt, workload *w, const mcl_family *fam, double *ms)
{
    const char *file = fam->name;
    const char *names[MAX_NAMES];
    double t[MAX_NAMES];
    mcl_runtime_profile_take(rt, names, t, MAX_NAMES); /* drop older records */
    MCL_TRY(workload_run(w));
    MCL_TRY(mcl_runtime_finish(rt));
    int n = mcl_runtime_profile_take(rt, names, t, MAX_NAMES);
    *ms = 0.0;
    for (int i = 0; i < n; i++) {
        if (fam->time_all) {
            *ms += t[i];
            continue;
        }
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
static mcl_status measure(mcl_runtime *rt, workload *w, const mcl_family *fam, int reps, double *median)
{
    double ms[64], warm;
    if (reps > 64) reps = 64;
    MCL_TRY(family_time(rt, w, fam, &warm));
    for (int r = 0; r < reps; r++) MCL_TRY(family_time(rt, w, fam, &ms[r]));
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

/* A direct check of a candidate against the C reference, for families
 * whose kernels the logits may exercise only at a few shapes: gemm.cl at
 * odd shapes with several blocks, edge tiles and split-K
 * (mcl_selftest_gemm_shapes). MCL_OK with *ok false: wrong answers. */
static mcl_status verify(mcl_runtime *rt, const mcl_family *fam, bool *ok)
{
    *ok = true;
    return fam->id == MCL_FAM_GEMM ? mcl_selftest_gemm_shapes(rt, ok) : MCL_OK;
}

/* Builds, checks and times one candidate; *ms < 0 when it was refused
 * (build failure, wrong answers, wrong logits). */
static mcl_status try_candidate(mcl_runtime *rt, workload *w, const mcl_family *fam, int config,
                                const mcl_params *cand, const mcl_tune_options *o, const float *ref, double *ms)
{
    bool ok = false;
    mcl_status st = mcl_runtime_rebuild_config(rt, config, cand);
    if (st == MCL_OK) st = verify(rt, fam, &ok);
    if (st == MCL_OK && ok) st = measure(rt, w, fam, o->reps, ms);
    if (st == MCL_OK && ok && max_abs_diff(w->logits, ref, workload_rows(w) * (size_t)w->vocab) > o->tolerance)
        ok = false;
    if (st != MCL_OK || !ok) *ms = -1.0;
    mcl_error_clear();
    return MCL_OK;
}

/* Tunes configuration `config` of family fam (the one the launchers pick for
 * the workload's shape) over the candidates of the family's space, stage by
 * stage: each stage's candidates are built over the winner so far. */
static mcl_status tune_family(mcl_runtime *rt, workload *w, const mcl_family *fam, int config,
                              const mcl_tune_options *o, const float *ref, mcl_tune_result *res)
{
    static mcl_params cands[MAX_CANDIDATES];
    static mcl_params tried[MAX_CANDIDATES];
    int n_tried = 0, stages = mcl_tune_stages(fam, &rt->dev), done = 0, limit = o->max_candidates;
    mcl_params def = rt->configs[config].params;
    memset(res, 0, sizeof *res);
    res->family = fam->name;
    res->cls = rt->configs[config].cls;
    res->best = def;
    tried[n_tried++] = def;
    MCL_TRY(measure(rt, w, fam, o->reps, &res->default_ms));
    res->best_ms = res->default_ms;
    for (int s = 0; s < stages; s++) {
        int n = mcl_tune_stage_candidates(fam, &rt->dev, s, &res->best, cands, MAX_CANDIDATES);
        /* the progress total: done, this stage, and at most the later stages' points */
        int total = done + n;
        for (int t = s + 1; t < stages; t++) total += mcl_tune_stage_size(fam, &rt->dev, t);
        for (int i = 0; i < n; i++) {
            bool seen = false;
            for (int k = 0; k < n_tried && !seen; k++) seen = same_params(&cands[i], &tried[k]);
            if (seen || (limit > 0 && res->candidates >= limit)) continue;
            if (o->cancel && o->cancel(o->user)) { /* leave the default in place; the family is not recorded */
                mcl_status rb = mcl_runtime_rebuild_config(rt, config, &def);
                return rb != MCL_OK ? rb : mcl_error_set(MCL_ERR_INTERRUPTED, "tuning %s stopped", fam->name);
            }
            if (n_tried < MAX_CANDIDATES) tried[n_tried++] = cands[i];
            res->candidates++;
            double ms = 0.0;
            MCL_TRY(try_candidate(rt, w, fam, config, &cands[i], o, ref, &ms));
            if (ms < 0) res->rejected++;
            else if (ms < res->best_ms) {
                res->best_ms = ms;
                res->best = cands[i];
            }
            done++;
            if (o->progress && done < total) o->progress(fam->name, done, total, res->best_ms, o->user);
        }
    }
    if (o->progress) o->progress(fam->name, done, done, res->best_ms, o->user);
    return mcl_runtime_rebuild_config(rt, config, &res->best);
}

/* The configuration of fam for the model's shape class: added (from the
 * configuration the launchers pick for the model now) when the runtime has
 * none for exactly that class. */
static mcl_status class_config(mcl_runtime *rt, const mcl_family *fam, const mcl_tune_class *cls,
                               const mcl_model *model, int *config)
{
    const mcl_config *cfg = mcl_model_config(model);
    mcl_shape shape = {{[MCL_SHAPE_D_INNER] = cfg->d_inner, [MCL_SHAPE_D_MODEL] = cfg->d_model}};
    const mcl_tune_config *now;
    MCL_TRY(mcl_runtime_pick(rt, fam->id, &shape, &now));
    mcl_params start = now->params;
    return mcl_runtime_config_add(rt, fam, cls, &start, config);
}

static void workload_free(workload *w)
{
    for (int b = 0; w->states && b < w->n_states; b++) mcl_state_free(w->states[b]);
    free(w->states);
    free(w->tokens);
    free(w->logits);
    free(w->ref);
}

static mcl_status workload_init(workload *w, mcl_model *model, const mcl_tune_options *o)
{
    memset(w, 0, sizeof *w);
    w->model = model;
    w->vocab = mcl_model_vocab(model);
    w->len = o->prefill_len;
    w->batch = o->decode_batch < 1 ? 1 : (o->decode_batch > 256 ? 256 : o->decode_batch);
    w->n_states = w->batch;
    w->cap_rows = 1 + (size_t)w->batch;
    w->tokens = malloc((size_t)w->len * sizeof *w->tokens);
    w->states = calloc((size_t)w->n_states, sizeof *w->states);
    w->logits = malloc(w->cap_rows * (size_t)w->vocab * sizeof *w->logits);
    w->ref = malloc(w->cap_rows * (size_t)w->vocab * sizeof *w->ref);
    if (!w->tokens || !w->states || !w->logits || !w->ref) return mcl_error_set(MCL_ERR_NOMEM, "tuner: out of host memory");
    for (int i = 0; i < w->len; i++) w->tokens[i] = (int32_t)((i * 2654435761u) % (unsigned)w->vocab);
    for (int b = 0; b < w->n_states; b++) MCL_TRY(mcl_state_create(model, &w->states[b]));
    return MCL_OK;
}

/* Whether `file` is named in the comma-separated list (NULL list: all are). */
static bool selected(const char *list, const char *file) { return !list || mcl_list_has(list, file); }

mcl_status mcl_tune_model(mcl_runtime *rt, mcl_model *model, const mcl_tune_options *o, mcl_tunedb *db,
                          mcl_tune_result *results, int cap, int *n_results)
{
    workload w;
    char shape[160];
    mcl_tune_class cls;
    *n_results = 0;
    if (!rt->profiling) return mcl_error_set(MCL_ERR_INVALID_ARG, "tuner: the runtime needs profiling on");
    mcl_status st = workload_init(&w, model, o);
    mcl_tune_class_of_model(mcl_model_config(model)->d_inner, mcl_model_config(model)->d_model, &cls);
    for (int f = 0; st == MCL_OK; f++) {
        const mcl_family *fam = mcl_tune_family_at(f);
        if (!fam || (o->cancel && o->cancel(o->user))) break;
        int config = -1;
        if (mcl_tune_space_size(fam, &rt->dev) == 0 || !selected(o->only, fam->name) ||
            mcl_runtime_fallback(rt, fam->name) < 0 || *n_results >= cap)
            continue;
        st = class_config(rt, fam, &cls, model, &config);
        if (st == MCL_OK) st = workload_for(&w, fam);
        int len = snprintf(shape, sizeof shape, "prefill %d tokens + decode batch %d", w.len, w.batch);
        for (int i = 0; i < w.n_extra && len > 0 && (size_t)len < sizeof shape; i++)
            len += snprintf(shape + len, sizeof shape - (size_t)len, "%s%d", i ? ", " : " + batches ", w.extra[i]);
        if (st == MCL_OK) st = workload_run(&w); /* reference logits with the current configuration */
        if (st == MCL_OK) st = mcl_runtime_finish(rt);
        if (st == MCL_OK) memcpy(w.ref, w.logits, workload_rows(&w) * (size_t)w.vocab * sizeof *w.ref);
        mcl_tune_result *r = &results[*n_results];
        if (st == MCL_OK) st = tune_family(rt, &w, fam, config, o, w.ref, r);
        if (st == MCL_ERR_INTERRUPTED) { /* cancelled: the families before this one stay */
            mcl_error_clear();
            st = MCL_OK;
            break;
        }
        if (st == MCL_OK) st = mcl_tunedb_set(db, fam, &cls, &r->best, r->best_ms, r->default_ms, shape);
        if (st == MCL_OK) (*n_results)++;
    }
    workload_free(&w);
    return st;
}
