/* The C reference model against the Hugging Face reference logits of the
 * default model, and the random-weight generator it shares with the device
 * path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fwd_common.h"
#include "ref/ref_model.h"
#include "model/arch_mamba1.h"
#include "model/weights.h"

static void test_reference_prompts(void **state)
{
    (void)state;
    fwd_case *cases = NULL;
    int n = fwd_cases_load(&cases);
    assert_true(n > 0);
    mcl_weights *w = NULL;
    assert_int_equal(mcl_weights_open(fwd_model_dir(), &w), MCL_OK);
    ref_model *m = ref_model_create(w);
    assert_non_null(m);
    int v = w->cfg.vocab_size;
    assert_int_equal(v, cases[0].vocab);
    for (int c = 0; c < n; c++) {
        const fwd_case *k = &cases[c];
        ref_state *s = ref_state_create(m);
        double *all = malloc((size_t)k->n_ids * (size_t)v * sizeof *all);
        assert_non_null(all);
        ref_model_forward(m, s, k->ids, k->n_ids, all, true);
        for (int t = 0; t < k->n_ids; t++)
            assert_int_equal(fwd_argmax_d(all + (size_t)t * (size_t)v, v), k->argmax[t]);
        const double *last = all + (size_t)(k->n_ids - 1) * (size_t)v;
        double worst = 0.0;
        for (int i = 0; i < v; i++) worst = fmax(worst, fabs(last[i] - (double)k->last_logits[i]));
        printf("prompt %d: %d tokens, max |logit - HF| = %.2e\n", c, k->n_ids, worst);
        assert_true(worst < 1e-3);
        int tok = fwd_argmax_d(last, v);
        for (int g = 0; g < FWD_GREEDY; g++) {
            assert_int_equal(tok, k->greedy[g]);
            ref_model_step(m, s, tok, all);
            tok = fwd_argmax_d(all, v);
        }
        free(all);
        ref_state_free(s);
    }
    ref_model_free(m);
    mcl_weights_free(w);
    fwd_cases_free(cases, n);
}

static mcl_config tiny_config(void)
{
    mcl_config c = {.d_model = 24, .n_layer = 2, .d_inner = 48, .d_state = 4, .d_conv = 3,
                    .dt_rank = 3, .vocab_size = 101, .norm_eps = 1e-5f, .tie_embeddings = false,
                    .conv_bias = true};
    return c;
}

static void test_random_weights_deterministic(void **state)
{
    (void)state;
    mcl_config c = tiny_config();
    mcl_weights *a = NULL, *b = NULL, *d = NULL;
    assert_int_equal(mcl_weights_random(&c, MCL_DTYPE_BF16, 7, &a), MCL_OK);
    assert_int_equal(mcl_weights_random(&c, MCL_DTYPE_BF16, 7, &b), MCL_OK);
    assert_int_equal(mcl_weights_random(&c, MCL_DTYPE_BF16, 8, &d), MCL_OK);
    const mcl_host_tensor *in_a = mcl_weights_at(a, MCL_W_IN_PROJ, 1), *in_b = mcl_weights_at(b, MCL_W_IN_PROJ, 1),
                          *in_d = mcl_weights_at(d, MCL_W_IN_PROJ, 1), *dt_b = mcl_weights_at(a, MCL_W_DT_B, 0);
    assert_non_null(mcl_weights_at(a, MCL_W_LM_HEAD, 0)->data);
    assert_int_equal(mcl_weights_at(a, MCL_W_EMBED, 0)->n, (size_t)c.vocab_size * (size_t)c.d_model);
    assert_memory_equal(in_a->data, in_b->data, in_a->n * 2);
    assert_memory_not_equal(in_a->data, in_d->data, in_a->n * 2);
    /* A_log = log(1 + n): A = -(1..N) */
    assert_float_equal(expf(mcl_host_tensor_get(mcl_weights_at(a, MCL_W_A_LOG, 0), 3)), 4.0f, 0.05f);
    /* dt bias gives softplus(dt_b) in [1e-3, 1e-1] */
    for (size_t i = 0; i < dt_b->n; i++) {
        double dt = log1p(exp((double)mcl_host_tensor_get(dt_b, i)));
        assert_true(dt > 0.9e-3 && dt < 0.11);
    }
    mcl_weights_free(a);
    mcl_weights_free(b);
    mcl_weights_free(d);
}

static void test_random_weights_bad_config(void **state)
{
    (void)state;
    mcl_weights *w = NULL;
    mcl_config c = tiny_config();
    c.d_conv = 1;
    assert_int_equal(mcl_weights_random(&c, MCL_DTYPE_F32, 1, &w), MCL_ERR_INVALID_ARG);
    assert_null(w);
    c = tiny_config();
    c.proj_bias = true;
    assert_int_equal(mcl_weights_random(&c, MCL_DTYPE_F32, 1, &w), MCL_ERR_UNSUPPORTED);
    c = tiny_config();
    assert_int_equal(mcl_weights_random(&c, (mcl_dtype)7, 1, &w), MCL_ERR_INVALID_ARG);
}

/* The reference continues a state exactly: L then 1 equals L+1, copies agree. */
static void test_ref_state_continuation(void **state)
{
    (void)state;
    mcl_config c = tiny_config();
    mcl_weights *w = NULL;
    assert_int_equal(mcl_weights_random(&c, MCL_DTYPE_F32, 3, &w), MCL_OK);
    ref_model *m = ref_model_create(w);
    ref_state *s1 = ref_state_create(m), *s2 = ref_state_create(m);
    int32_t toks[9] = {1, 5, 100, 0, 42, 42, 7, 99, 3};
    double a[101], b[101];
    ref_model_forward(m, s1, toks, 9, a, false);
    ref_model_forward(m, s2, toks, 8, b, false);
    ref_state *s3 = ref_state_create(m);
    ref_state_copy(m, s3, s2);
    ref_model_step(m, s3, toks[8], b);
    assert_memory_equal(a, b, sizeof a);
    ref_state_reset(m, s3);
    ref_model_forward(m, s3, toks, 9, b, false);
    assert_memory_equal(a, b, sizeof a);
    ref_state_free(s1);
    ref_state_free(s2);
    ref_state_free(s3);
    ref_model_free(m);
    mcl_weights_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_prompts),
        cmocka_unit_test(test_random_weights_deterministic),
        cmocka_unit_test(test_random_weights_bad_config),
        cmocka_unit_test(test_ref_state_continuation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
