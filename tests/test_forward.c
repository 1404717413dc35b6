/* The OpenCL forward pass end to end: the default model against the Hugging
 * Face reference, prefill/decode consistency, batches, state semantics,
 * random-weight models of odd shapes against the C reference, bad input,
 * split weight buffers, and a 100k-token sequence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "fwd_common.h"
#include "model/model.h"
#include "ref/ref_model.h"
#include "tune/tune_kern.h"
#include "runtime/runtime.h"

static mcl_runtime *rt;

static int setup(void **state)
{
    (void)state;
    if (mcl_runtime_create(NULL, &rt) != MCL_OK) {
        fprintf(stderr, "runtime: %s\n", mcl_last_error());
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mcl_runtime_free(rt);
    return 0;
}

static float *alloc_f(size_t n)
{
    float *p = malloc(n * sizeof *p);
    assert_non_null(p);
    return p;
}

/* max |a - b| / (atol + rtol |b|) <= 1, printing the worst element. */
static void assert_close(const float *a, const double *b, size_t n, double atol, double rtol,
                         const char *what)
{
    double worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(isfinite(a[i]));
        double e = fabs((double)a[i] - b[i]) / (atol + rtol * fabs(b[i]));
        if (e > worst) worst = e, at = i;
    }
    if (worst > 1.0)
        fprintf(stderr, "%s: element %zu is %.6g, expected %.6g\n", what, at, (double)a[at], b[at]);
    assert_true(worst <= 1.0);
}

static void assert_close_f(const float *a, const float *b, size_t n, double atol, const char *what)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs((double)a[i] - (double)b[i]));
    if (worst > atol) fprintf(stderr, "%s: max difference %.3g > %.3g\n", what, worst, atol);
    assert_true(worst <= atol);
}

/* ---- the default model ------------------------------------------------------ */

static void test_default_model_reference(void **state)
{
    (void)state;
    fwd_case *cases = NULL;
    int n = fwd_cases_load(&cases);
    assert_true(n > 0);
    mcl_model *m = NULL;
    assert_int_equal(mcl_model_load(rt, fwd_model_dir(), &m), MCL_OK);
    int v = mcl_model_vocab(m);
    assert_int_equal(v, cases[0].vocab);
    for (int c = 0; c < n; c++) {
        const fwd_case *k = &cases[c];
        const int32_t *ids = k->ids;
        mcl_state *s = NULL;
        assert_int_equal(mcl_state_create(m, &s), MCL_OK);
        float *all = alloc_f((size_t)k->n_ids * (size_t)v);
        assert_int_equal(mcl_prefill_all(m, &s, &ids, &k->n_ids, 1, all), MCL_OK);
        for (int t = 0; t < k->n_ids; t++)
            assert_int_equal(fwd_argmax_f(all + (size_t)t * (size_t)v, v), k->argmax[t]);
        float *last = all + (size_t)(k->n_ids - 1) * (size_t)v;
        double worst = 0.0;
        for (int i = 0; i < v; i++) worst = fmax(worst, fabs((double)last[i] - (double)k->last_logits[i]));
        printf("prompt %d: %d tokens, device max |logit - HF| = %.2e\n", c, k->n_ids, worst);
        assert_close_f(last, k->last_logits, (size_t)v, 1e-3, "last-position logits vs HF");
        int32_t tok = fwd_argmax_f(last, v);
        for (int g = 0; g < FWD_GREEDY; g++) {
            assert_int_equal(tok, k->greedy[g]);
            assert_int_equal(mcl_decode(m, &s, &tok, 1, last), MCL_OK);
            tok = fwd_argmax_f(last, v);
        }
        free(all);
        mcl_state_free(s);
    }
    mcl_model_free(m);
    fwd_cases_free(cases, n);
}

/* Prefill L + decode 1 == prefill L+1; a batch of unequal lengths == alone. */
static void test_prefill_decode_batch(void **state)
{
    (void)state;
    mcl_model *m = NULL;
    assert_int_equal(mcl_model_load(rt, fwd_model_dir(), &m), MCL_OK);
    size_t v = (size_t)mcl_model_vocab(m);
    int32_t toks[3][13] = {{17}, {5, 900, 33, 2, 4000, 7, 8}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}};
    const int32_t *tp[3] = {toks[0], toks[1], toks[2]};
    int lens[3] = {1, 7, 13}, lens_m1[3] = {1, 6, 12};
    mcl_state *s[3] = {0};
    for (int b = 0; b < 3; b++) assert_int_equal(mcl_state_create(m, &s[b]), MCL_OK);
    float *batch = alloc_f(3 * v), *one = alloc_f(v), *dec = alloc_f(3 * v);
    assert_int_equal(mcl_prefill(m, s, tp, lens, 3, batch), MCL_OK);
    for (int b = 0; b < 3; b++) {
        mcl_state *t = NULL;
        assert_int_equal(mcl_state_create(m, &t), MCL_OK);
        assert_int_equal(mcl_prefill(m, &t, &tp[b], &lens[b], 1, one), MCL_OK);
        assert_close_f(batch + (size_t)b * v, one, v, 1e-4, "batch vs alone");
        mcl_state_free(t);
    }
    /* sequences 1 and 2: prefill all but the last token, decode it as a batch */
    for (int b = 0; b < 3; b++) assert_int_equal(mcl_state_reset(s[b]), MCL_OK);
    assert_int_equal(mcl_prefill(m, &s[1], &tp[1], &lens_m1[1], 2, NULL), MCL_OK);
    int32_t last[2] = {toks[1][6], toks[2][12]};
    assert_int_equal(mcl_decode(m, &s[1], last, 2, dec), MCL_OK);
    assert_close_f(dec, batch + v, v, 1e-3, "prefill 6 + decode 1 vs prefill 7");
    assert_close_f(dec + v, batch + 2 * v, v, 1e-3, "prefill 12 + decode 1 vs prefill 13");
    assert_int_equal(fwd_argmax_f(dec + v, (int)v), fwd_argmax_f(batch + 2 * v, (int)v));
    for (int b = 0; b < 3; b++) mcl_state_free(s[b]);
    free(batch);
    free(one);
    free(dec);
    mcl_model_free(m);
}

/* Fused decode (4 launches per layer) == the unfused chain
 * (MAMBACL_DISABLE=fused_decode), for a batch of unequal histories over
 * several steps, logits and states. */
static void test_fused_decode(void **state)
{
    (void)state;
    mcl_model *m = NULL;
    assert_int_equal(mcl_model_load(rt, fwd_model_dir(), &m), MCL_OK);
    size_t v = (size_t)mcl_model_vocab(m);
    int32_t toks[3][9] = {{17}, {5, 900, 33, 2, 4000}, {1, 2, 3, 4, 5, 6, 7, 8, 9}};
    const int32_t *tp[3] = {toks[0], toks[1], toks[2]};
    int lens[3] = {1, 5, 9};
    mcl_state *s[2][3] = {{0}};
    float *out[2];
    for (int run = 0; run < 2; run++) {
        out[run] = alloc_f(3 * 3 * v);
        for (int b = 0; b < 3; b++) assert_int_equal(mcl_state_create(m, &s[run][b]), MCL_OK);
        assert_int_equal(mcl_prefill(m, s[run], tp, lens, 3, NULL), MCL_OK);
        if (run == 1) setenv("MAMBACL_DISABLE", "fused_decode", 1);
        int32_t next[3] = {11, 222, 3333};
        for (int step = 0; step < 3; step++) {
            assert_int_equal(mcl_decode(m, s[run], next, 3, out[run] + (size_t)step * 3 * v), MCL_OK);
            for (int b = 0; b < 3; b++) next[b] = (next[b] * 7 + step) % (int32_t)v;
        }
        unsetenv("MAMBACL_DISABLE");
    }
    assert_close_f(out[0], out[1], 9 * v, 1e-4, "fused vs unfused decode");
    for (int run = 0; run < 2; run++) {
        for (int b = 0; b < 3; b++) mcl_state_free(s[run][b]);
        free(out[run]);
    }
    mcl_model_free(m);
}

/* The unfused decode of a batch above the gemv rows with the GEMM's split-K
 * slabs handed to the conv step and the next layer's norm (conv_step_parts,
 * rmsnorm_parts) == the same with their own gemm_reduce launches
 * (MAMBACL_DISABLE=slabs): bitwise, logits over 3 steps. gemm.cl runs with
 * GEMM_SPLITK 4 and GEMM_SKW 64 so that every projection takes several K
 * slices here too (PoCL's defaults take one). */
static void test_slabs_decode(void **state)
{
    (void)state;
    enum { NB = 20 };
    const mcl_params *cur = mcl_runtime_params(rt, "gemm.cl");
    assert_non_null(cur);
    mcl_params base = *cur, p = base;
    mcl_params_set(&p, MCL_T_GEMM_SPLITK, 4);
    mcl_params_set(&p, MCL_T_GEMM_SKW, 64);
    assert_int_equal(mcl_runtime_rebuild(rt, "gemm.cl", &p), MCL_OK);
    mcl_model *m = NULL;
    assert_int_equal(mcl_model_load(rt, fwd_model_dir(), &m), MCL_OK);
    size_t v = (size_t)mcl_model_vocab(m);
    int32_t prompt[NB][4];
    const int32_t *tp[NB];
    int lens[NB];
    for (int b = 0; b < NB; b++) {
        lens[b] = 1 + b % 4;
        for (int i = 0; i < lens[b]; i++) prompt[b][i] = (int32_t)((b * 97 + i * 13 + 5) % (int)v);
        tp[b] = prompt[b];
    }
    mcl_state *s[2][NB] = {{0}};
    float *out[2];
    for (int run = 0; run < 2; run++) {
        out[run] = alloc_f(3 * NB * v);
        for (int b = 0; b < NB; b++) assert_int_equal(mcl_state_create(m, &s[run][b]), MCL_OK);
        assert_int_equal(mcl_prefill(m, s[run], tp, lens, NB, NULL), MCL_OK);
        if (run == 1) setenv("MAMBACL_DISABLE", "slabs", 1);
        int32_t next[NB];
        for (int b = 0; b < NB; b++) next[b] = (int32_t)((b * 31 + 7) % (int)v);
        for (int step = 0; step < 3; step++) {
            assert_int_equal(mcl_decode(m, s[run], next, NB, out[run] + (size_t)step * NB * v), MCL_OK);
            for (int b = 0; b < NB; b++) next[b] = (next[b] * 7 + step) % (int32_t)v;
        }
        unsetenv("MAMBACL_DISABLE");
    }
    if (memcmp(out[0], out[1], 3 * NB * v * sizeof(float)) != 0)
        fail_msg("decode with the slabs handed on differs from gemm_reduce's");
    for (int run = 0; run < 2; run++) {
        for (int b = 0; b < NB; b++) mcl_state_free(s[run][b]);
        free(out[run]);
    }
    mcl_model_free(m);
    assert_int_equal(mcl_runtime_rebuild(rt, "gemm.cl", &base), MCL_OK);
}

/* A decode batch wider than MCL_GEMV_MAX_ROWS runs its projections as GEMMs:
 * the same logits as each sequence decoded alone (gemv). */
static void test_wide_decode_batch(void **state)
{
    (void)state;
    enum { NB = 20 };
    mcl_model *m = NULL;
    assert_int_equal(mcl_model_load(rt, fwd_model_dir(), &m), MCL_OK);
    size_t v = (size_t)mcl_model_vocab(m);
    mcl_state *s[NB] = {0}, *t = NULL;
    int32_t prompt[NB][3], next[NB];
    const int32_t *tp[NB];
    int lens[NB];
    for (int b = 0; b < NB; b++) {
        assert_int_equal(mcl_state_create(m, &s[b]), MCL_OK);
        for (int i = 0; i < 3; i++) prompt[b][i] = (int32_t)((b * 97 + i * 13 + 5) % (int)v);
        next[b] = (int32_t)((b * 31 + 7) % (int)v);
        tp[b] = prompt[b];
        lens[b] = 3;
    }
    float *wide = alloc_f(NB * v), *one = alloc_f(v);
    assert_int_equal(mcl_prefill(m, s, tp, lens, NB, NULL), MCL_OK);
    assert_int_equal(mcl_decode(m, s, next, NB, wide), MCL_OK);
    assert_int_equal(mcl_state_create(m, &t), MCL_OK);
    for (int b = 0; b < NB; b++) {
        assert_int_equal(mcl_state_reset(t), MCL_OK);
        assert_int_equal(mcl_prefill(m, &t, &tp[b], &lens[b], 1, NULL), MCL_OK);
        assert_int_equal(mcl_decode(m, &t, &next[b], 1, one), MCL_OK);
        assert_close_f(wide + (size_t)b * v, one, v, 1e-3, "decode batch of 20 vs alone");
    }
    mcl_state_free(t);
    for (int b = 0; b < NB; b++) mcl_state_free(s[b]);
    free(wide);
    free(one);
    mcl_model_free(m);
}

static void test_state_copy_reset(void **state)
{
    (void)state;
    mcl_model *m = NULL;
    assert_int_equal(mcl_model_load(rt, fwd_model_dir(), &m), MCL_OK);
    size_t v = (size_t)mcl_model_vocab(m);
    int32_t p[5] = {672, 1197, 26, 199, 2344};
    const int32_t *pp = p;
    int n = 5;
    mcl_state *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(mcl_state_create(m, &a), MCL_OK);
    assert_int_equal(mcl_state_create(m, &b), MCL_OK);
    float *la = alloc_f(v), *lb = alloc_f(v), *l0 = alloc_f(v);
    assert_int_equal(mcl_prefill(m, &a, &pp, &n, 1, l0), MCL_OK);
    assert_int_equal(mcl_state_copy(b, a), MCL_OK);
    int32_t t = 42;
    assert_int_equal(mcl_decode(m, &a, &t, 1, la), MCL_OK);
    assert_int_equal(mcl_decode(m, &b, &t, 1, lb), MCL_OK);
    assert_memory_equal(la, lb, v * sizeof *la);
    /* a fresh state (pool grows past two slots) behaves like a reset one */
    assert_int_equal(mcl_state_create(m, &c), MCL_OK);
    assert_int_equal(mcl_state_reset(b), MCL_OK);
    assert_int_equal(mcl_prefill(m, &b, &pp, &n, 1, lb), MCL_OK);
    assert_int_equal(mcl_prefill(m, &c, &pp, &n, 1, la), MCL_OK);
    assert_memory_equal(la, lb, v * sizeof *la);
    assert_close_f(lb, l0, v, 1e-5, "reset then prefill vs first prefill");
    /* the copy did not disturb its source: a continues from its decode */
    assert_int_equal(mcl_decode(m, &a, &t, 1, la), MCL_OK);
    assert_int_equal(mcl_decode(m, &b, &t, 1, lb), MCL_OK);
    assert_memory_not_equal(la, lb, v * sizeof *la);
    mcl_state_free(a);
    mcl_state_free(b);
    mcl_state_free(c);
    free(la);
    free(lb);
    free(l0);
    mcl_model_free(m);
}

static void test_bad_input_refused(void **state)
{
    (void)state;
    mcl_model *m = NULL;
    assert_int_equal(mcl_model_load(rt, fwd_model_dir(), &m), MCL_OK);
    size_t v = (size_t)mcl_model_vocab(m);
    mcl_state *s = NULL, *fresh = NULL;
    assert_int_equal(mcl_state_create(m, &s), MCL_OK);
    assert_int_equal(mcl_state_create(m, &fresh), MCL_OK);
    int32_t bad[3] = {1, (int32_t)v, 2}, neg = -1, ok = 3;
    const int32_t *bp = bad;
    int n = 3, zero = 0;
    float *l = alloc_f(v), *l2 = alloc_f(v);
    assert_int_equal(mcl_prefill(m, &s, &bp, &n, 1, l), MCL_ERR_INVALID_ARG);
    assert_non_null(strstr(mcl_last_error(), "outside"));
    assert_int_equal(mcl_decode(m, &s, &neg, 1, l), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_prefill(m, &s, &bp, &zero, 1, l), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_decode(m, &s, &ok, 0, l), MCL_ERR_INVALID_ARG);
    mcl_state *twice[2] = {s, s};
    int32_t two[2] = {1, 2};
    assert_int_equal(mcl_decode(m, twice, two, 2, NULL), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_prefill_all(m, &s, &bp, &n, 1, NULL), MCL_ERR_INVALID_ARG);
    /* nothing ran: s is still fresh */
    assert_int_equal(mcl_decode(m, &s, &ok, 1, l), MCL_OK);
    assert_int_equal(mcl_decode(m, &fresh, &ok, 1, l2), MCL_OK);
    assert_memory_equal(l, l2, v * sizeof *l);
    mcl_state_free(s);
    mcl_state_free(fresh);
    free(l);
    free(l2);
    mcl_model_free(m);
}

typedef struct progress_log {
    int calls;
    uint64_t first, last, total;
} progress_log;

static void on_progress(uint64_t done, uint64_t total, void *user)
{
    progress_log *p = user;
    if (p->calls++ == 0) p->first = done;
    p->last = done;
    p->total = total;
}

static void test_progress_and_memory_refusal(void **state)
{
    (void)state;
    progress_log log = {0};
    mcl_model_options opts = {on_progress, &log, 0};
    mcl_model *loaded = NULL;
    assert_int_equal(mcl_model_load_ex(rt, fwd_model_dir(), &opts, &loaded), MCL_OK);
    assert_true(log.calls > 3);
    assert_int_equal(log.first, 0);
    assert_int_equal(log.last, log.total);
    assert_int_equal(log.total, mcl_model_weight_bytes(loaded));
    mcl_model_free(loaded);
    mcl_config huge = {.d_model = 8192, .n_layer = 4096, .d_inner = 16384, .d_state = 16,
                       .d_conv = 4, .dt_rank = 512, .vocab_size = 50280, .norm_eps = 1e-5f,
                       .tie_embeddings = true, .conv_bias = true};
    mcl_model *m = NULL;
    assert_int_equal(mcl_model_create_random(rt, &huge, MCL_DTYPE_F16, 1, &m), MCL_ERR_DEVICE_MEM);
    assert_non_null(strstr(mcl_last_error(), "MiB"));
    assert_null(m);
    assert_int_equal(mcl_model_load(rt, "/nonexistent/model", &m), MCL_ERR_IO);
}

/* ---- random-weight models against the C reference ---------------------------------- */

typedef struct fixture {
    const char *name;
    mcl_config cfg;
    mcl_dtype dtype;
    uint64_t max_buffer; /* 0 = device limit */
} fixture;

static mcl_config cfg_of(int dm, int nl, int di, int n, int k, int r, int vocab, bool tied, bool bias)
{
    mcl_config c = {.d_model = dm, .n_layer = nl, .d_inner = di, .d_state = n, .d_conv = k,
                    .dt_rank = r, .vocab_size = vocab, .norm_eps = 1e-5f, .tie_embeddings = tied,
                    .conv_bias = bias};
    return c;
}

/* Prefill a batch of two sequences (every position's logits), then three
 * batched decode steps, against the reference token by token. */
static void check_fixture(const fixture *f)
{
    mcl_weights *w = NULL;
    assert_int_equal(mcl_weights_random(&f->cfg, f->dtype, 11, &w), MCL_OK);
    mcl_model_options opts = {0};
    opts.max_buffer_bytes = f->max_buffer;
    mcl_model *m = NULL;
    if (mcl_model_upload(rt, w, &opts, &m) != MCL_OK) fprintf(stderr, "%s\n", mcl_last_error());
    assert_non_null(m);
    ref_model *ref = ref_model_create(w);
    assert_non_null(ref);
    size_t v = (size_t)f->cfg.vocab_size;
    enum { L0 = 37, L1 = 5, STEPS = 3 };
    int32_t t0[L0], t1[L1];
    for (int i = 0; i < L0; i++) t0[i] = (int32_t)((i * 7919 + 13) % (int)v);
    for (int i = 0; i < L1; i++) t1[i] = (int32_t)(v - 1 - (size_t)i * 3);
    const int32_t *tp[2] = {t0, t1};
    int lens[2] = {L0, L1};
    mcl_state *s[2] = {0};
    ref_state *rs[2] = {ref_state_create(ref), ref_state_create(ref)};
    for (int b = 0; b < 2; b++) assert_int_equal(mcl_state_create(m, &s[b]), MCL_OK);
    float *got = alloc_f((L0 + L1) * v);
    double *want = malloc((L0 + L1) * v * sizeof *want);
    assert_non_null(want);
    assert_int_equal(mcl_prefill_all(m, s, tp, lens, 2, got), MCL_OK);
    ref_model_forward(ref, rs[0], t0, L0, want, true);
    ref_model_forward(ref, rs[1], t1, L1, want + L0 * v, true);
    assert_close(got, want, (L0 + L1) * v, 2e-3, 6e-4, f->name);
    for (int step = 0; step < STEPS; step++) {
        int32_t tok[2] = {(int32_t)(step * 31 % (int)v), (int32_t)((step * 17 + 5) % (int)v)};
        assert_int_equal(mcl_decode(m, s, tok, 2, got), MCL_OK);
        for (int b = 0; b < 2; b++) ref_model_step(ref, rs[b], tok[b], want + (size_t)b * v);
        assert_close(got, want, 2 * v, 2e-3, 6e-4, f->name);
    }
    for (int b = 0; b < 2; b++) {
        mcl_state_free(s[b]);
        ref_state_free(rs[b]);
    }
    free(got);
    free(want);
    ref_model_free(ref);
    mcl_model_free(m);
    mcl_weights_free(w);
}

static void test_random_fixtures(void **state)
{
    (void)state;
    const fixture fx[] = {
        {"f32 untied vocab 1001 N 4 R 3 K 3", cfg_of(32, 2, 64, 4, 3, 3, 1001, false, true), MCL_DTYPE_F32, 0},
        {"bf16 tied N 16 R 5 K 4", cfg_of(40, 2, 80, 16, 4, 5, 1001, true, true), MCL_DTYPE_BF16, 0},
        {"f16 untied no conv bias N 1 R 1 K 2", cfg_of(24, 3, 48, 1, 2, 1, 77, false, false), MCL_DTYPE_F16, 0},
        /* embed/lm_head split into 7 buffers of 156 rows, passes of 19 rows */
        {"f16 untied split buffers", cfg_of(32, 2, 64, 4, 4, 3, 1001, false, true), MCL_DTYPE_F16, 10000},
    };
    for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++) {
        printf("fixture: %s\n", fx[i].name);
        check_fixture(&fx[i]);
    }
}

/* 100k tokens of prefill on a tiny model, then decode: finite and equal to
 * the reference. */
static void test_long_sequence(void **state)
{
    (void)state;
    mcl_config c = cfg_of(16, 2, 32, 8, 4, 2, 64, true, true);
    mcl_weights *w = NULL;
    assert_int_equal(mcl_weights_random(&c, MCL_DTYPE_F32, 5, &w), MCL_OK);
    mcl_model *m = NULL;
    assert_int_equal(mcl_model_upload(rt, w, NULL, &m), MCL_OK);
    ref_model *ref = ref_model_create(w);
    enum { L = 100000 };
    int32_t *toks = malloc(L * sizeof *toks);
    assert_non_null(toks);
    for (int i = 0; i < L; i++) toks[i] = (int32_t)((i * 2654435761u >> 7) % 64u);
    const int32_t *tp = toks;
    int n = L;
    mcl_state *s = NULL;
    ref_state *rs = ref_state_create(ref);
    assert_int_equal(mcl_state_create(m, &s), MCL_OK);
    float got[64];
    double want[64];
    assert_int_equal(mcl_prefill(m, &s, &tp, &n, 1, got), MCL_OK);
    ref_model_forward(ref, rs, toks, L, want, false);
    assert_close(got, want, 64, 2e-3, 6e-4, "after 100k tokens");
    for (int step = 0; step < 3; step++) {
        int32_t t = step * 11;
        assert_int_equal(mcl_decode(m, &s, &t, 1, got), MCL_OK);
        ref_model_step(ref, rs, t, want);
        assert_close(got, want, 64, 2e-3, 6e-4, "decode after 100k tokens");
    }
    mcl_state_free(s);
    ref_state_free(rs);
    ref_model_free(ref);
    free(toks);
    mcl_model_free(m);
    mcl_weights_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_model_reference),
        cmocka_unit_test(test_prefill_decode_batch),
        cmocka_unit_test(test_wide_decode_batch),
        cmocka_unit_test(test_fused_decode),
        cmocka_unit_test(test_slabs_decode),
        cmocka_unit_test(test_state_copy_reset),
        cmocka_unit_test(test_bad_input_refused),
        cmocka_unit_test(test_progress_and_memory_refusal),
        cmocka_unit_test(test_random_fixtures),
        cmocka_unit_test(test_long_sequence),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
