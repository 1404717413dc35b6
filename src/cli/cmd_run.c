/* mambacl run: generate text (or ids) after a prompt.
 *
 * Structure: options -> model and tokenizer -> one of three paths:
 * --ids ... --print-ids (scripted checks: ids in, a JSON array of ids out),
 * a text prompt streamed through generate.c, or --batch-file (one prompt per
 * line, generated as one batch). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_model.h"
#include "mcl_internal.h"
#include "cli/generate.h"

typedef struct run_opts {
    const char *model_dir, *device, *ids_text, *prompt, *prompt_file, *batch_file;
    gen_opts gen;
    bool greedy, print_ids;
} run_opts;

static void help(void)
{
    printf("usage: mambacl run [-m MODEL_DIR] (-p TEXT | -f FILE | stdin) [-n N]\n"
           "                   [--temp T] [--top-k K] [--top-p P] [--min-p P]\n"
           "                   [--repeat-penalty R] [--seed S] [--greedy] [--stop STRING]...\n"
           "                   [--ignore-eos] [--quiet] [--device SEL]\n"
           "       mambacl run [-m MODEL_DIR] --batch-file FILE [options]\n"
           "       mambacl run [-m MODEL_DIR] --ids \"1 2 3\" [-n N] --print-ids [--greedy]\n"
           "\n"
           "Prints the prompt, then the text generated after it as it is produced (a character\n"
           "split across tokens is held back until it is complete). At the end, on stderr:\n"
           "prompt tokens and prefill tokens/s, generated tokens and decode tokens/s, device.\n"
           "Ctrl-C stops cleanly and prints the statistics so far. The same --seed gives\n"
           "the same text.\n"
           "\n"
           "  -m, --model DIR      model directory (config.json, model.safetensors,\n"
           "                       tokenizer.json); default: $MAMBACL_MODEL, else the bundled\n"
           "                       models/shakespeare-mamba\n"
           "  -p, --prompt TEXT    the prompt; -f FILE reads it from a file ('-' = stdin);\n"
           "                       with neither, the prompt is read from stdin\n"
           "  -n N                 tokens to generate at most (default 128)\n"
           "  --temp T             temperature (default 0.8; 0 = greedy)\n"
           "  --top-k K            keep the K most likely tokens (default 40; 0 = all)\n"
           "  --top-p P            nucleus sampling mass (default 0.95; 1 = off)\n"
           "  --min-p P            drop tokens below P x the top probability (default 0.05)\n"
           "  --repeat-penalty R   penalty on the last 64 tokens (default 1.1; 1 = off)\n"
           "  --seed S             random seed (default 0)\n"
           "  --greedy             always the most likely token (--temp 0, no repeat penalty)\n"
           "  --stop STRING        stop when STRING is generated (not printed); repeatable\n"
           "  --ignore-eos         do not stop at the end-of-sequence token\n"
           "  --quiet              no statistics on stderr\n"
           "  --no-echo            do not print the prompt before the generated text\n"
           "  --batch-file FILE    one prompt per line, generated together as one batch;\n"
           "                       each completion is printed after its prompt\n"
           "  --ids LIST           prompt token ids (spaces or commas) instead of text\n"
           "  --print-ids          print the generated ids as a JSON array (needs --ids)\n"
           "  --device SEL         device index or name substring (see: mambacl devices)\n"
           "Exit codes: 0 success, 1 runtime error, 2 bad usage.\n");
}

/* ---- --ids ... --print-ids: ids in, ids out -------------------------------- */

static mcl_status generate_ids(const run_opts *o, mcl_model *m, const int32_t *ids, int n)
{
    mcl_state *s = NULL;
    mcl_sampler *sampler = NULL;
    int vocab = mcl_model_vocab(m);
    float *logits = malloc((size_t)vocab * sizeof *logits);
    int32_t *hist = malloc(((size_t)n + (size_t)o->gen.n_predict + 1) * sizeof *hist);
    mcl_status st = (logits && hist) ? mcl_sampler_create(&o->gen.sampler, vocab, &sampler) : MCL_ERR_NOMEM;
    if (st == MCL_OK) st = mcl_state_create(m, &s);
    if (st == MCL_OK) st = mcl_prefill(m, &s, &ids, &n, 1, logits);
    if (st == MCL_OK) memcpy(hist, ids, (size_t)n * sizeof *hist);
    if (st == MCL_OK) fputs("[", stdout);
    for (int i = 0; st == MCL_OK && i < o->gen.n_predict; i++) {
        int32_t tok = mcl_sampler_sample(sampler, logits, hist, (size_t)(n + i));
        hist[n + i] = tok;
        printf(i ? ", %d" : "%d", (int)tok);
        if (i + 1 < o->gen.n_predict) st = mcl_decode(m, &s, &tok, 1, logits);
    }
    if (st == MCL_OK) fputs("]\n", stdout);
    mcl_state_free(s);
    mcl_sampler_free(sampler);
    free(logits);
    free(hist);
    return st;
}

/* ---- text prompts -------------------------------------------------------- */

/* Reads a whole stream into a malloc'ed NUL-terminated buffer. */
static char *read_stream(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
        if (n + 1 == cap) {
            char *g = realloc(buf, cap *= 2);
            if (!g) {
                free(buf);
                return NULL;
            }
            buf = g;
        }
    }
    if (buf) buf[n] = '\0';
    *len = n;
    return buf;
}

static char *read_file(const char *path, size_t *len)
{
    if (strcmp(path, "-") == 0) return read_stream(stdin, len);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = read_stream(f, len);
    fclose(f);
    return buf;
}

static int open_tokenizer(const char *model_dir, mcl_tokenizer **tok)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer.json", model_dir);
    mcl_status st = mcl_tokenizer_load(path, tok);
    return st == MCL_OK ? CLI_EXIT_OK : cli_runtime_error("run", st);
}

static int run_text(const run_opts *o, mcl_runtime *rt, mcl_model *m, mcl_tokenizer *tok, const char *text,
                    size_t len)
{
    int32_t *ids = NULL;
    size_t n = 0;
    gen_stats stats;
    mcl_status st = mcl_tokenizer_encode(tok, text, len, &ids, &n);
    if (st != MCL_OK) return cli_runtime_error("run", st);
    if (n == 0) {
        free(ids);
        return cli_usage_error("run", "the prompt is empty: give at least one token of text");
    }
    if (o->gen.echo_prompt) fwrite(text, 1, len, stdout);
    gen_install_sigint();
    st = gen_stream(m, tok, ids, (int)n, &o->gen, stdout, &stats);
    free(ids);
    printf("\n");
    fflush(stdout);
    if (!o->gen.quiet) gen_print_stats(&stats, mcl_runtime_device(rt)->name, 1);
    return st == MCL_OK ? CLI_EXIT_OK : cli_runtime_error("run", st);
}

/* Splits text into its non-empty lines (in place). */
static int split_lines(char *text, char **lines, int cap)
{
    int n = 0;
    for (char *save = NULL, *l = strtok_r(text, "\r\n", &save); l && n < cap; l = strtok_r(NULL, "\r\n", &save))
        if (*l) lines[n++] = l;
    return n;
}

#define MAX_BATCH 256

static int run_batch(const run_opts *o, mcl_runtime *rt, mcl_model *m, mcl_tokenizer *tok, char *text)
{
    char *lines[MAX_BATCH], *outs[MAX_BATCH] = {0};
    int32_t *ids[MAX_BATCH] = {0};
    int lens[MAX_BATCH], n = split_lines(text, lines, MAX_BATCH), rc = CLI_EXIT_OK;
    gen_stats stats;
    if (n == 0) return cli_usage_error("run", "--batch-file has no prompts");
    mcl_status st = MCL_OK;
    for (int i = 0; i < n && st == MCL_OK; i++) {
        size_t k = 0;
        st = mcl_tokenizer_encode(tok, lines[i], strlen(lines[i]), &ids[i], &k);
        lens[i] = (int)k;
        if (st == MCL_OK && k == 0) st = mcl_error_set(MCL_ERR_INVALID_ARG, "prompt %d is empty", i + 1);
    }
    gen_install_sigint();
    if (st == MCL_OK) st = gen_batch(m, tok, ids, lens, n, &o->gen, outs, &stats);
    for (int i = 0; i < n; i++) {
        if (st == MCL_OK) printf("=== %d: %s%s\n", i + 1, lines[i], outs[i] ? outs[i] : "");
        free(outs[i]);
        free(ids[i]);
    }
    if (st != MCL_OK) rc = cli_runtime_error("run", st);
    else if (!o->gen.quiet) gen_print_stats(&stats, mcl_runtime_device(rt)->name, n);
    return rc;
}

/* ---- options and dispatch ---------------------------------------------- */

/* The prompt text from -p, -f or stdin (malloc'ed). NULL after an error message. */
static char *prompt_text(const run_opts *o, size_t *len)
{
    if (o->prompt) {
        *len = strlen(o->prompt);
        return strdup(o->prompt);
    }
    const char *path = o->batch_file ? o->batch_file : o->prompt_file ? o->prompt_file : "-";
    char *text = read_file(path, len);
    if (!text) fprintf(stderr, "mambacl run: error: cannot read %s\n", strcmp(path, "-") ? path : "stdin");
    return text;
}

static int run_model(const run_opts *o, mcl_runtime *rt, mcl_model *m)
{
    if (o->ids_text) {
        int32_t *ids = NULL;
        int n = 0, rc = CLI_EXIT_OK;
        if (!cli_parse_ids("run", o->ids_text, &ids, &n)) return CLI_EXIT_USAGE;
        if (!cli_check_ids("run", ids, n, mcl_model_vocab(m))) rc = CLI_EXIT_USAGE;
        else {
            mcl_status st = generate_ids(o, m, ids, n);
            if (st != MCL_OK) rc = cli_runtime_error("run", st);
        }
        free(ids);
        return rc;
    }
    mcl_tokenizer *tok = NULL;
    size_t len = 0;
    int rc = open_tokenizer(o->model_dir, &tok);
    if (rc != CLI_EXIT_OK) return rc;
    char *text = prompt_text(o, &len);
    if (!text) rc = CLI_EXIT_RUNTIME;
    else if (o->batch_file) rc = run_batch(o, rt, m, tok, text);
    else rc = run_text(o, rt, m, tok, text, len);
    free(text);
    mcl_tokenizer_free(tok);
    return rc;
}

enum { OPT_TEMP = 256, OPT_TOPK, OPT_TOPP, OPT_MINP, OPT_REPEAT, OPT_SEED, OPT_STOP, OPT_IDS, OPT_PRINT_IDS,
       OPT_GREEDY, OPT_DEVICE, OPT_QUIET, OPT_BATCH, OPT_IGNORE_EOS, OPT_NO_ECHO };

static const struct option run_options[] = {
    {"model", required_argument, 0, 'm'},       {"prompt", required_argument, 0, 'p'},
    {"file", required_argument, 0, 'f'},        {"temp", required_argument, 0, OPT_TEMP},
    {"top-k", required_argument, 0, OPT_TOPK},  {"top-p", required_argument, 0, OPT_TOPP},
    {"min-p", required_argument, 0, OPT_MINP},  {"repeat-penalty", required_argument, 0, OPT_REPEAT},
    {"seed", required_argument, 0, OPT_SEED},   {"stop", required_argument, 0, OPT_STOP},
    {"ids", required_argument, 0, OPT_IDS},     {"print-ids", no_argument, 0, OPT_PRINT_IDS},
    {"greedy", no_argument, 0, OPT_GREEDY},     {"device", required_argument, 0, OPT_DEVICE},
    {"quiet", no_argument, 0, OPT_QUIET},       {"batch-file", required_argument, 0, OPT_BATCH},
    {"ignore-eos", no_argument, 0, OPT_IGNORE_EOS}, {"no-echo", no_argument, 0, OPT_NO_ECHO},
    {"help", no_argument, 0, 'h'},
    {0}};

/* Applies one sampling option; false after a usage error (or for an option
 * that is not a sampling one). */
static bool parse_sampling(int c, run_opts *o)
{
    mcl_sampler_params *sp = &o->gen.sampler;
    const struct {
        int opt;
        const char *name;
        double max;
        float *dst;
    } reals[] = {{OPT_TEMP, "--temp", 100, &sp->temperature},
                 {OPT_TOPP, "--top-p", 1, &sp->top_p},
                 {OPT_MINP, "--min-p", 1, &sp->min_p},
                 {OPT_REPEAT, "--repeat-penalty", 100, &sp->repeat_penalty}};
    double v;
    long k;
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        if (c != reals[i].opt) continue;
        if (!cli_parse_double("run", reals[i].name, optarg, 0, reals[i].max, &v)) return false;
        *reals[i].dst = (float)v;
        return true;
    }
    if (c == OPT_TOPK) {
        if (!cli_parse_long("run", "--top-k", optarg, 0, 1L << 30, &k)) return false;
        sp->top_k = (int)k;
        return true;
    }
    if (c == OPT_SEED) {
        if (!cli_parse_long("run", "--seed", optarg, 0, 0x7fffffffffffffffL, &k)) return false;
        sp->seed = (uint64_t)k;
        return true;
    }
    return false;
}

static int parse_one(int c, run_opts *o)
{
    long n;
    switch (c) {
    case 'h': help(); return -1;
    case 'm': o->model_dir = optarg; return CLI_EXIT_OK;
    case 'p': o->prompt = optarg; return CLI_EXIT_OK;
    case 'f': o->prompt_file = optarg; return CLI_EXIT_OK;
    case 'n':
        if (!cli_parse_long("run", "-n", optarg, 1, 1000000000L, &n)) return CLI_EXIT_USAGE;
        o->gen.n_predict = (int)n;
        return CLI_EXIT_OK;
    case OPT_STOP:
        if (o->gen.n_stops == GEN_MAX_STOPS) return cli_usage_error("run", "at most %d --stop strings", GEN_MAX_STOPS);
        if (!*optarg) return cli_usage_error("run", "--stop wants a non-empty string");
        o->gen.stops[o->gen.n_stops++] = optarg;
        return CLI_EXIT_OK;
    case OPT_IDS: o->ids_text = optarg; return CLI_EXIT_OK;
    case OPT_PRINT_IDS: o->print_ids = true; return CLI_EXIT_OK;
    case OPT_GREEDY: o->greedy = true; return CLI_EXIT_OK;
    case OPT_DEVICE: o->device = optarg; return CLI_EXIT_OK;
    case OPT_QUIET: o->gen.quiet = true; return CLI_EXIT_OK;
    case OPT_BATCH: o->batch_file = optarg; return CLI_EXIT_OK;
    case OPT_IGNORE_EOS: o->gen.ignore_eos = true; return CLI_EXIT_OK;
    case OPT_NO_ECHO: o->gen.echo_prompt = false; return CLI_EXIT_OK;
    default: return parse_sampling(c, o) ? CLI_EXIT_OK : (c == '?' ? cli_usage_error("run", "bad option") : CLI_EXIT_USAGE);
    }
}

/* Checks that the options agree with each other. */
static int check_combination(const run_opts *o)
{
    int sources = !!o->prompt + !!o->prompt_file + !!o->batch_file + !!o->ids_text;
    if (sources > 1) return cli_usage_error("run", "give one of -p, -f, --batch-file, --ids");
    if (o->print_ids && !o->ids_text) return cli_usage_error("run", "--print-ids needs --ids");
    if (o->ids_text && !o->print_ids) return cli_usage_error("run", "--ids needs --print-ids (ids in, ids out)");
    return CLI_EXIT_OK;
}

static int parse(int argc, char **argv, run_opts *o)
{
    int c, rc;
    while ((c = cli_getopt(argc, argv, "hm:n:p:f:", run_options)) != -1)
        if ((rc = parse_one(c, o)) != CLI_EXIT_OK) return rc;
    if (optind < argc) return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    if (o->greedy) { /* pure argmax: no temperature, no penalty */
        o->gen.sampler.temperature = 0.0f;
        o->gen.sampler.repeat_penalty = 1.0f;
    }
    return check_combination(o);
}

int cmd_run(int argc, char **argv)
{
    static char default_dir[4096];
    run_opts o = {.gen = {.n_predict = 128, .sampler = mcl_sampler_params_default(), .echo_prompt = true}};
    int rc = parse(argc, argv, &o);
    if (rc != CLI_EXIT_OK) return rc < 0 ? CLI_EXIT_OK : rc;
    if (!o.model_dir) {
        if (!cli_default_model(default_dir, sizeof default_dir))
            return cli_usage_error("run", "no -m MODEL_DIR and no default model (set MAMBACL_MODEL)");
        o.model_dir = default_dir;
    }
    mcl_runtime *rt = NULL;
    mcl_model *m = NULL;
    rc = cli_open_model("run", o.device, o.model_dir, &rt, &m);
    if (rc != CLI_EXIT_OK) return rc;
    rc = run_model(&o, rt, m);
    cli_close_model(rt, m);
    return rc;
}
