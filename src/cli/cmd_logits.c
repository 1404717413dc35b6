/* mambacl logits: the logits of a token sequence as JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli_model.h"
#include "mcl_internal.h"

static void help(void)
{
    printf("usage: mambacl logits [-m MODEL_DIR] --ids \"1 2 3\" [--all] [--device SEL]\n"
           "\n"
           "Runs the token ids through the model in one prefill and prints JSON\n"
           "{\"logits\": [[...], ...]}: one row of vocab_size floats for the last position,\n"
           "or one per position with --all.\n"
           "\n"
           "  -m, --model DIR   model directory (config.json + model.safetensors); default\n"
           "                    $MAMBACL_MODEL, else the bundled model\n"
           "  --ids LIST        token ids, separated by spaces or commas\n"
           "  --all             the logits of every position\n"
           "  --device SEL      device: index, gpu, cpu, pocl or a name substring\n"
           "Exit codes: 0 success, 1 runtime error, 2 bad usage (including ids outside\n"
           "the vocabulary).\n");
}

static void print_rows(const float *logits, int rows, int vocab)
{
    fputs("{\"logits\": [", stdout);
    for (int r = 0; r < rows; r++) {
        fputs(r ? ",\n[" : "[", stdout);
        for (int i = 0; i < vocab; i++) {
            float v = logits[(size_t)r * (size_t)vocab + (size_t)i];
            if (isfinite(v)) printf(i ? ", %.9g" : "%.9g", (double)v);
            else fputs(i ? ", null" : "null", stdout);
        }
        fputs("]", stdout);
    }
    fputs("]}\n", stdout);
}

static int run_logits(const char *device, const char *dir, const int32_t *ids, int n, bool all)
{
    mcl_runtime *rt = NULL;
    mcl_model *m = NULL;
    mcl_state *s = NULL;
    int rc = cli_open_model("logits", device, dir, false, &rt, &m);
    if (rc != CLI_EXIT_OK) return rc;
    int vocab = mcl_model_vocab(m), rows = all ? n : 1;
    float *logits = malloc((size_t)rows * (size_t)vocab * sizeof *logits);
    mcl_status st = logits ? mcl_state_create(m, &s) : MCL_ERR_NOMEM;
    if (st == MCL_OK)
        st = all ? mcl_prefill_all(m, &s, &ids, &n, 1, logits) : mcl_prefill(m, &s, &ids, &n, 1, logits);
    if (st == MCL_OK) print_rows(logits, rows, vocab);
    else rc = cli_runtime_error("logits", st);
    free(logits);
    mcl_state_free(s);
    cli_close_model(rt, m);
    return rc;
}

int cmd_logits(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"ids", required_argument, 0, 'i'},
                                         {"all", no_argument, 0, 'a'},
                                         {"device", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0}};
    static char default_dir[4096];
    const char *dir = NULL, *ids_text = NULL, *device = NULL;
    bool all = false;
    int c;
    while ((c = cli_getopt(argc, argv, "hm:", opts)) != -1) {
        if (c == 'h') return help(), CLI_EXIT_OK;
        else if (c == 'm') dir = optarg;
        else if (c == 'i') ids_text = optarg;
        else if (c == 'a') all = true;
        else if (c == 'd') device = optarg;
        else return CLI_EXIT_USAGE;
    }
    if (optind < argc) return cli_usage_error("logits", "unexpected argument '%s'", argv[optind]);
    if (!dir && !(dir = cli_default_model(default_dir, sizeof default_dir) ? default_dir : NULL))
        return cli_usage_error("logits", "no -m MODEL_DIR and no default model (set MAMBACL_MODEL)");
    if (!ids_text) return cli_usage_error("logits", "--ids is required");
    int32_t *ids = NULL;
    int n = 0;
    if (!cli_parse_ids("logits", ids_text, &ids, &n)) return CLI_EXIT_USAGE;
    /* The model directory and the ids are checked before the device is opened. */
    mcl_checkpoint *ck = NULL;
    mcl_status st = mcl_checkpoint_open(dir, &ck);
    int rc = st == MCL_OK ? CLI_EXIT_OK : cli_runtime_error("logits", st);
    if (rc == CLI_EXIT_OK && !cli_check_ids("logits", ids, n, mcl_checkpoint_config(ck)->vocab_size)) rc = CLI_EXIT_USAGE;
    mcl_checkpoint_free(ck);
    if (rc == CLI_EXIT_OK) rc = run_logits(device, dir, ids, n, all);
    free(ids);
    return rc;
}
