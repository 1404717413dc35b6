/* generate.c: text generation through the public mambacl API alone.
 *   usage: generate MODEL_DIR "prompt" [n_tokens]
 * Opens the default device, loads the model and its tokenizer, prefills the
 * prompt, then samples n_tokens greedily and prints them as they come. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mambacl.h>

#define CHECK(call) \
    do { if ((st = (call)) != MCL_OK) { fprintf(stderr, "%s: %s\n", #call, mcl_last_error()); goto done; } } while (0)

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL_DIR PROMPT [N]\n", argv[0]);
        return 2;
    }
    int n_new = argc > 3 ? atoi(argv[3]) : 16;
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer.json", argv[1]);
    mcl_status st = MCL_OK;
    mcl_runtime *rt = NULL;
    mcl_model *model = NULL;
    mcl_tokenizer *tok = NULL;
    mcl_state *state = NULL;
    mcl_sampler *sampler = NULL;
    int32_t *ids = NULL;
    size_t n_ids = 0;
    float *logits = NULL;
    mcl_sampler_params sp = {.temperature = 0.0f}; /* greedy */

    CHECK(mcl_runtime_create(NULL, &rt));
    CHECK(mcl_model_load(rt, argv[1], &model));
    CHECK(mcl_tokenizer_load(path, &tok));
    CHECK(mcl_state_create(model, &state));
    CHECK(mcl_sampler_create(&sp, mcl_model_vocab(model), &sampler));
    CHECK(mcl_tokenizer_encode(tok, argv[2], strlen(argv[2]), &ids, &n_ids));
    if (n_ids == 0) { fprintf(stderr, "empty prompt\n"); st = MCL_ERR_INVALID_ARG; goto done; }
    logits = malloc((size_t)mcl_model_vocab(model) * sizeof *logits);
    if (!logits) { st = MCL_ERR_NOMEM; goto done; }

    int len = (int)n_ids;
    const int32_t *prompt = ids;
    CHECK(mcl_prefill(model, &state, &prompt, &len, 1, logits));
    printf("%s", argv[2]);
    for (int i = 0; i < n_new; i++) {
        int32_t next = mcl_sampler_sample(sampler, logits, NULL, 0);
        const char *bytes;
        size_t nb;
        CHECK(mcl_tokenizer_token_text(tok, next, &bytes, &nb));
        fwrite(bytes, 1, nb, stdout);
        fflush(stdout);
        CHECK(mcl_decode(model, &state, &next, 1, logits));
    }
    printf("\n");
done:
    free(logits);
    free(ids);
    mcl_sampler_free(sampler);
    mcl_state_free(state);
    mcl_tokenizer_free(tok);
    mcl_model_free(model);
    mcl_runtime_free(rt);
    return st == MCL_OK ? 0 : 1;
}
