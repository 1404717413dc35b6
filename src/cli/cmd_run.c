/* mambacl run: generate tokens after a prompt.
 *
 * Structure: options -> prompt ids -> generate() (prefill, then a loop of
 * pick next token / emit / decode) with the token choice (pick_next) and the
 * output (emit_*) kept apart, so that sampling, text output and streaming
 * can be added beside greedy and --print-ids. */
#include <stdio.h>
#include <stdlib.h>

#include "cli_model.h"

typedef struct run_opts {
    const char *model_dir;
    const char *device;
    const char *ids_text;
    long n_tokens;
    bool greedy;
    bool print_ids;
} run_opts;

static void help(void)
{
    printf("usage: mambacl run -m MODEL_DIR --ids \"1 2 3\" [-n N] --greedy --print-ids\n"
           "                   [--device SEL]\n"
           "\n"
           "Prefills the prompt's token ids, then generates N tokens one decode step at a\n"
           "time, each the argmax of the logits (--greedy), and prints the generated ids\n"
           "as a JSON array (--print-ids). Text prompts, text output and sampling are not\n"
           "available yet: --ids, --greedy and --print-ids are required.\n"
           "\n"
           "  -m, --model DIR   model directory (config.json + model.safetensors)\n"
           "  --ids LIST        prompt token ids, separated by spaces or commas\n"
           "  -n N              tokens to generate (default 32)\n"
           "  --greedy          pick the most likely token at every step\n"
           "  --print-ids       print the generated ids as a JSON array\n"
           "  --device SEL      device index or name substring (see: mambacl devices)\n"
           "Exit codes: 0 success, 1 runtime error, 2 bad usage.\n");
}

/* The next token from the logits of the last position. */
static int32_t pick_next(const run_opts *o, const float *logits, int vocab)
{
    (void)o; /* greedy is the only choice for now */
    int best = 0;
    for (int i = 1; i < vocab; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

static void emit_begin(const run_opts *o) { if (o->print_ids) fputs("[", stdout); }

static void emit_token(const run_opts *o, long i, int32_t tok)
{
    if (o->print_ids) printf(i ? ", %d" : "%d", (int)tok);
}

static void emit_end(const run_opts *o) { if (o->print_ids) fputs("]\n", stdout); }

static mcl_status generate(const run_opts *o, mcl_model *m, const int32_t *ids, int n, float *logits)
{
    mcl_state *s = NULL;
    int vocab = mcl_model_vocab(m);
    mcl_status st = mcl_state_create(m, &s);
    if (st == MCL_OK) st = mcl_prefill(m, &s, &ids, &n, 1, logits);
    emit_begin(o);
    for (long i = 0; st == MCL_OK && i < o->n_tokens; i++) {
        int32_t tok = pick_next(o, logits, vocab);
        emit_token(o, i, tok);
        if (i + 1 < o->n_tokens) st = mcl_decode(m, &s, &tok, 1, logits);
    }
    if (st == MCL_OK) emit_end(o);
    mcl_state_free(s);
    return st;
}

static int run(const run_opts *o, const int32_t *ids, int n)
{
    mcl_runtime *rt = NULL;
    mcl_model *m = NULL;
    int rc = cli_open_model("run", o->device, o->model_dir, &rt, &m);
    if (rc != CLI_EXIT_OK) return rc;
    int vocab = mcl_model_vocab(m);
    float *logits = malloc((size_t)vocab * sizeof *logits);
    if (!cli_check_ids("run", ids, n, vocab)) rc = CLI_EXIT_USAGE;
    else if (!logits) rc = cli_runtime_error("run", MCL_ERR_NOMEM);
    else {
        mcl_status st = generate(o, m, ids, n, logits);
        if (st != MCL_OK) rc = cli_runtime_error("run", st);
    }
    free(logits);
    cli_close_model(rt, m);
    return rc;
}

static int parse(int argc, char **argv, run_opts *o)
{
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"ids", required_argument, 0, 'i'},
                                         {"greedy", no_argument, 0, 'g'},
                                         {"print-ids", no_argument, 0, 'p'},
                                         {"device", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0}};
    int c;
    while ((c = cli_getopt(argc, argv, "hm:n:", opts)) != -1) {
        if (c == 'h') return help(), -1;
        else if (c == 'm') o->model_dir = optarg;
        else if (c == 'i') o->ids_text = optarg;
        else if (c == 'n') {
            if (!cli_parse_long("run", "-n", optarg, 0, 1000000000L, &o->n_tokens)) return CLI_EXIT_USAGE;
        } else if (c == 'g') o->greedy = true;
        else if (c == 'p') o->print_ids = true;
        else if (c == 'd') o->device = optarg;
        else return cli_usage_error("run", "bad option");
    }
    if (optind < argc) return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    if (!o->model_dir) return cli_usage_error("run", "-m MODEL_DIR is required");
    if (!o->ids_text) return cli_usage_error("run", "--ids is required (text prompts are not supported yet)");
    if (!o->greedy) return cli_usage_error("run", "--greedy is required (sampling is not supported yet)");
    if (!o->print_ids)
        return cli_usage_error("run", "--print-ids is required (text output is not supported yet)");
    return CLI_EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
    run_opts o = {0};
    o.n_tokens = 32;
    int rc = parse(argc, argv, &o);
    if (rc == -1) return CLI_EXIT_OK;
    if (rc != CLI_EXIT_OK) return rc;
    int32_t *ids = NULL;
    int n = 0;
    if (!cli_parse_ids("run", o.ids_text, &ids, &n)) return CLI_EXIT_USAGE;
    rc = run(&o, ids, n);
    free(ids);
    return rc;
}
