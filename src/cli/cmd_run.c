/* mambacl run: generate text (or ids) after a prompt.
 *
 * Structure: options -> every argument, file and output path checked and
 * the prompt read and encoded (no device yet) -> device and model -> one of
 * four paths: --ids ... --print-ids (ids in, a JSON array of ids out), a
 * text prompt streamed through generate.c, --batch-file (one prompt per
 * line, one batch, each completion printed when it is finished), or -i
 * (each line typed continues the same state). --state-load / --state-save
 * start from / keep the recurrent state in a file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cli/cli_model.h"
#include "mcl_internal.h"
#include "cli/generate.h"

#define MAX_BATCH 1024 /* prompts of one --batch-file: states and logits rows for all of them */

typedef struct run_opts {
    const char *model_dir, *device, *ids_text, *prompt, *prompt_file, *batch_file, *tokenizer;
    const char *state_save, *state_load;
    gen_opts gen;
    bool greedy, print_ids, escapes, interactive, seed_given, top_p_zero;
} run_opts;

static void help(void)
{
    printf("usage: mambacl run [-m MODEL_DIR] [-p TEXT | -f FILE] [-n N] [sampling options]\n"
           "                   [--stop STRING]... [--state-load FILE] [--state-save FILE] [-i]\n"
           "       mambacl run [-m MODEL_DIR] --batch-file FILE [-n N] [sampling options]\n"
           "       mambacl run [-m MODEL_DIR] --ids \"1 2 3\" --print-ids [-n N] [--greedy]\n"
           "\n"
           "Prints the prompt, then the text generated after it as it is produced (a character\n"
           "split across tokens is held back until it is complete; invalid UTF-8 prints as\n"
           "U+FFFD, as the model saw it). At the end, on stderr: prompt tokens and prefill\n"
           "tokens/s, generated tokens and decode tokens/s (decode steps only: -n 1 has none),\n"
           "the seed and the device. A long prefill shows its progress on a terminal.\n"
           "Ctrl-C stops cleanly: during the generation it prints the statistics so far (exit\n"
           "0); during the prefill it stops within a layer (exit 130); a second Ctrl-C exits\n"
           "at once. On a device's first run the kernels are compiled (said on stderr) and\n"
           "warmed up before anything is timed.\n"
           "\n"
           "input\n"
           "  -m, --model DIR        model directory (config.json, model.safetensors,\n"
           "                         tokenizer.json); default $MAMBACL_MODEL, else the bundled\n"
           "                         models/shakespeare-mamba\n"
           "  --tokenizer FILE       tokenizer.json to use instead of MODEL_DIR's\n"
           "  -p, --prompt TEXT      the prompt; -f, --file FILE reads it from a file ('-' =\n"
           "                         stdin); with neither (and no -i), it is read from stdin\n"
           "  -e, --escape           process escapes in -p and --stop: \\n \\t \\r \\\\ \\' \\\" \\xHH\n"
           "                         ... as llama.cpp does (the default); --no-escape: literal\n"
           "  --batch-file FILE      one prompt per line ('-' = stdin), at most %d, generated\n"
           "                         together as one batch; empty and blank lines are skipped;\n"
           "                         each completion is printed as soon as it is finished (so\n"
           "                         possibly out of order) after '=== LINE: ', LINE being its\n"
           "                         line number in the file\n"
           "  --ids LIST             prompt token ids (spaces or commas) instead of text\n"
           "  --print-ids            print the generated ids as a JSON array (needs --ids)\n"
           "  -i, --interactive      after the prompt (if any), read lines from stdin; each\n"
           "                         one continues the same state and gets a completion\n"
           "                         (Ctrl-C stops a completion; end of input ends)\n"
           "state (the prompt cache: a few MB whatever the length of the text)\n"
           "  --state-load FILE      start from a state saved by --state-save from the same\n"
           "                         model (refused for another model, dtype or a damaged file)\n"
           "  --state-save FILE      save the state at the end (prompt and generated text);\n"
           "                         with -n 0 only the prompt is processed\n"
           "generation\n"
           "  -n, --n-predict N      tokens to generate at most (default 128; -1 = until the\n"
           "                         end-of-sequence token or Ctrl-C; 0 = prefill only)\n"
           "  --stop, -r, --reverse-prompt STRING\n"
           "                         stop when STRING is generated (not printed); repeatable, %d\n"
           "  --ignore-eos           do not stop at the end-of-sequence token\n"
           "sampling, applied in this order: repeat penalty, temperature, top-k, softmax,\n"
           "min-p, top-p, then a draw (llama.cpp applies the temperature after min-p; with\n"
           "--temp 1 the orders agree)\n"
           "  --temp, --temperature T  temperature (default 0.8; 0 = greedy)\n"
           "  --top-k K              keep the K most likely tokens (default 40; 0 = all)\n"
           "  --top-p P              nucleus mass (default 0.95; 1 = off; 0 keeps one token)\n"
           "  --min-p P              drop tokens below P x the top probability (default 0.05;\n"
           "                         0 = off)\n"
           "  --repeat-penalty R     penalty on recent tokens, > 0 (default 1.0 = off, as in\n"
           "                         llama.cpp)\n"
           "  --repeat-last-n N      how many recent tokens it looks at (default 64)\n"
           "  -s, --seed S           random seed (default: a random one, printed with the\n"
           "                         statistics; -1 = random); the same seed gives the same text\n"
           "  --greedy               always the most likely token (--temp 0, no repeat penalty)\n"
           "output and device\n"
           "  --quiet                no statistics, notices or progress on stderr\n"
           "  --no-echo              do not print the prompt before the generated text\n"
           "  --device SEL           device: index, gpu, cpu, pocl or a name substring\n"
           "                         (see: mambacl devices)\n"
           "  -ngl, --n-gpu-layers N, -c, --ctx-size N\n"
           "                         accepted for llama.cpp scripts and ignored, with a note\n"
           "                         (the whole model always runs on the device; a Mamba state\n"
           "                         has no context size)\n"
           "Exit codes: 0 success (also after Ctrl-C during the generation), 1 runtime error\n"
           "(including a failed write of the output), 2 bad usage, 130 Ctrl-C in the prefill.\n",
           MAX_BATCH, GEN_MAX_STOPS);
}

/* ---- input: files and prompts, read and checked before the device ------------- */

/* Reads a whole stream into a malloc'ed NUL-terminated buffer; NULL on a
 * read error or out of memory. */
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
    if (buf && ferror(f)) {
        free(buf);
        return NULL;
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

/* The prompt text from -p, -f or stdin (malloc'ed); *len 0 and NULL text
 * when there is none (-i without -p/-f). false after an error message. */
static bool prompt_text(const run_opts *o, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    if (o->prompt) {
        *len = strlen(o->prompt);
        if (!(*text = strdup(o->prompt))) return fprintf(stderr, "mambacl run: error: out of memory\n"), false;
        if (o->escapes) *len = cli_process_escapes(*text);
        return true;
    }
    if (o->interactive && !o->prompt_file && !o->batch_file) return true;
    const char *path = o->batch_file ? o->batch_file : o->prompt_file ? o->prompt_file : "-";
    *text = read_file(path, len);
    if (!*text) {
        cli_eprintf("mambacl run: error: cannot read %s: %s", strcmp(path, "-") ? path : "stdin",
                strerror(errno ? errno : EIO));
        return false;
    }
    return true;
}

static mcl_status encode(mcl_tokenizer *tok, const char *text, size_t len, int32_t **ids, int *n)
{
    size_t k = 0;
    *ids = NULL;
    MCL_TRY(mcl_tokenizer_encode(tok, text, len, ids, &k));
    if (k > 0x7fffffff) return mcl_error_set(MCL_ERR_INVALID_ARG, "the prompt has %zu tokens: too many", k);
    *n = (int)k;
    return MCL_OK;
}

/* A batch file's prompts: its non-blank lines, with their line numbers. */
typedef struct batch_input {
    char **lines; // [n] into the file's text
    int *line_no; // [n]
    int32_t **ids;
    int *lens;
    int n;
} batch_input;

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\v' && *s != '\f') return false;
    return true;
}

static void batch_free(batch_input *b)
{
    for (int i = 0; b->ids && i < b->n; i++) free(b->ids[i]);
    free(b->lines);
    free(b->line_no);
    free(b->ids);
    free(b->lens);
}

/* Splits text (in place) into its non-blank lines and encodes them. */
static int batch_read(char *text, mcl_tokenizer *tok, batch_input *b)
{
    memset(b, 0, sizeof *b);
    int count = 0, cap = MAX_BATCH + 1;
    b->lines = malloc((size_t)cap * sizeof *b->lines);
    b->line_no = malloc((size_t)cap * sizeof *b->line_no);
    if (!b->lines || !b->line_no) return fprintf(stderr, "mambacl run: error: out of memory\n"), CLI_EXIT_RUNTIME;
    int line = 0;
    for (char *p = text; *p;) {
        char *end = p + strcspn(p, "\n");
        bool last = *end == '\0';
        *end = '\0';
        if (end > p && end[-1] == '\r') end[-1] = '\0';
        line++;
        if (!blank(p)) {
            if (count == MAX_BATCH)
                return cli_usage_error("run", "--batch-file has more than %d prompts (line %d); split it", MAX_BATCH,
                                       line);
            b->lines[count] = p;
            b->line_no[count++] = line;
        }
        if (last) break;
        p = end + 1;
    }
    if (count == 0) return cli_usage_error("run", "--batch-file has no prompts");
    b->n = count;
    b->ids = calloc((size_t)count, sizeof *b->ids);
    b->lens = calloc((size_t)count, sizeof *b->lens);
    if (!b->ids || !b->lens) return fprintf(stderr, "mambacl run: error: out of memory\n"), CLI_EXIT_RUNTIME;
    for (int i = 0; i < count; i++) {
        mcl_status st = encode(tok, b->lines[i], strlen(b->lines[i]), &b->ids[i], &b->lens[i]);
        if (st != MCL_OK) return cli_runtime_error("run", st);
    }
    return CLI_EXIT_OK;
}

/* ---- --ids ... --print-ids: ids in, ids out -------------------------------- */

static mcl_status generate_ids(const run_opts *o, mcl_model *m, mcl_state *s, const int32_t *ids, int n,
                               int32_t *pending)
{
    mcl_sampler *sampler = NULL;
    int vocab = mcl_model_vocab(m);
    float *logits = malloc((size_t)vocab * sizeof *logits);
    int32_t *hist = malloc(((size_t)n + (size_t)o->gen.n_predict + 1) * sizeof *hist);
    mcl_status st = (logits && hist) ? mcl_sampler_create(&o->gen.sampler, vocab, &sampler)
                                     : mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    if (st == MCL_OK) st = mcl_prefill(m, &s, &ids, &n, 1, logits);
    if (st == MCL_OK) memcpy(hist, ids, (size_t)n * sizeof *hist);
    if (st == MCL_OK) fputs("[", stdout);
    *pending = -1;
    for (int i = 0; st == MCL_OK && i < o->gen.n_predict; i++) {
        if (i > 0) st = mcl_decode(m, &s, pending, 1, logits);
        if (st != MCL_OK) break;
        int32_t tok = mcl_sampler_sample(sampler, logits, hist, (size_t)(n + i));
        hist[n + i] = tok;
        *pending = tok;
        printf(i ? ", %d" : "%d", (int)tok);
    }
    if (st == MCL_OK) fputs("]\n", stdout);
    mcl_sampler_free(sampler);
    free(logits);
    free(hist);
    return st;
}

/* ---- the state file ---------------------------------------------------------- */

/* Feeds the token the generation left pending (so that the state has seen
 * everything printed), then saves. */
static mcl_status save_state(const run_opts *o, mcl_model *m, mcl_state *s, int32_t pending)
{
    if (!o->state_save) return MCL_OK;
    if (pending >= 0) MCL_TRY(mcl_decode(m, &s, &pending, 1, NULL));
    MCL_TRY(mcl_state_save(s, o->state_save));
    if (!o->gen.quiet) cli_eprintf("mambacl: state saved to %s", o->state_save);
    return MCL_OK;
}

static mcl_status open_state(const run_opts *o, mcl_model *m, mcl_state **s)
{
    MCL_TRY(mcl_state_create(m, s));
    if (o->state_load) return mcl_state_load(*s, o->state_load);
    return MCL_OK;
}

/* The exit code for a generation's status. */
static int finish(mcl_status st)
{
    if (st == MCL_ERR_INTERRUPTED) {
        fputc('\n', stderr);
        cli_eprintf("mambacl run: interrupted during the prefill (%s)", mcl_last_error());
        return 130;
    }
    return st == MCL_OK ? CLI_EXIT_OK : cli_runtime_error("run", st);
}

/* ---- text prompts ------------------------------------------------------------- */

static int run_text(const run_opts *o, mcl_runtime *rt, mcl_model *m, mcl_tokenizer *tok, const char *text,
                    size_t len, const int32_t *ids, int n)
{
    gen_stats stats = {0}; /* read by the stats line even when the state could not be opened */
    mcl_state *s = NULL;
    int32_t pending = -1;
    mcl_status st = open_state(o, m, &s);
    if (st == MCL_OK && o->gen.echo_prompt) gen_write_utf8(stdout, text, len);
    gen_install_sigint();
    if (st == MCL_OK) st = gen_stream(m, tok, s, ids, n, &o->gen, stdout, &stats, &pending);
    if (o->gen.echo_prompt || stats.generated > 0) printf("\n");
    fflush(stdout);
    if (st == MCL_OK) st = save_state(o, m, s, pending);
    if (!o->gen.quiet && st != MCL_ERR_INTERRUPTED) gen_print_stats(&stats, mcl_runtime_device(rt)->name, 1);
    mcl_state_free(s);
    return finish(st);
}

typedef struct batch_print {
    const run_opts *o;
    const batch_input *in;
    bool write_failed;
} batch_print;

static void print_completion(int i, const char *text, void *user)
{
    batch_print *p = user;
    printf("=== %d: ", p->in->line_no[i]);
    if (p->o->gen.echo_prompt) gen_write_utf8(stdout, p->in->lines[i], strlen(p->in->lines[i]));
    gen_write_utf8(stdout, text, strlen(text));
    printf("\n");
    if (fflush(stdout) != 0) p->write_failed = true;
}

static int run_batch(const run_opts *o, mcl_runtime *rt, mcl_model *m, mcl_tokenizer *tok, const batch_input *in)
{
    gen_stats stats = {0}; /* read by the stats line even when the state could not be opened */
    batch_print p = {o, in, false};
    gen_install_sigint();
    mcl_status st = gen_batch(m, tok, in->ids, in->lens, in->n, &o->gen, print_completion, &p, &stats);
    if (st == MCL_OK && p.write_failed) st = mcl_error_set(MCL_ERR_IO, "writing the completions failed");
    if (st == MCL_OK && !o->gen.quiet) gen_print_stats(&stats, mcl_runtime_device(rt)->name, in->n);
    return finish(st);
}

/* ---- interactive ----------------------------------------------------------------- */

/* One turn: text (may be NULL) after the pending token, on the shared state. */
static mcl_status turn(const run_opts *o, mcl_runtime *rt, mcl_model *m, mcl_tokenizer *tok, mcl_state *s,
                       const char *text, size_t len, int32_t *pending)
{
    int32_t *ids = NULL, *all = NULL;
    int n = 0;
    gen_stats stats = {0}; /* read by the stats line even when the state could not be opened */
    MCL_TRY(encode(tok, text, len, &ids, &n));
    all = malloc(((size_t)n + 1) * sizeof *all);
    if (!all) {
        free(ids);
        return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    }
    int k = 0;
    if (*pending >= 0) all[k++] = *pending;
    if (n) memcpy(all + k, ids, (size_t)n * sizeof *ids);
    k += n;
    free(ids);
    mcl_status st = MCL_OK;
    if (k > 0) {
        gen_clear_interrupt();
        st = gen_stream(m, tok, s, all, k, &o->gen, stdout, &stats, pending);
        printf("\n");
        fflush(stdout);
        if (!o->gen.quiet && st == MCL_OK) gen_print_stats(&stats, mcl_runtime_device(rt)->name, 1);
    }
    free(all);
    return st;
}

static int run_interactive(const run_opts *o, mcl_runtime *rt, mcl_model *m, mcl_tokenizer *tok, const char *text,
                           size_t len)
{
    mcl_state *s = NULL;
    int32_t pending = -1;
    char *line = NULL;
    size_t cap = 0;
    bool tty = isatty(STDIN_FILENO);
    gen_install_sigint();
    mcl_status st = open_state(o, m, &s);
    if (st == MCL_OK && text && len) {
        if (o->gen.echo_prompt) gen_write_utf8(stdout, text, len);
        st = turn(o, rt, m, tok, s, text, len, &pending);
    }
    while (st == MCL_OK) {
        if (tty) {
            fputs("> ", stdout);
            fflush(stdout);
        }
        gen_clear_interrupt();
        ssize_t got = getline(&line, &cap, stdin);
        if (got < 0) break; /* end of input, or Ctrl-C while waiting */
        st = turn(o, rt, m, tok, s, line, (size_t)got, &pending);
    }
    free(line);
    if (st == MCL_OK) st = save_state(o, m, s, pending);
    mcl_state_free(s);
    return finish(st);
}

/* ---- options ---------------------------------------------------------------------- */

enum { OPT_TEMP = 256, OPT_TOPK, OPT_TOPP, OPT_MINP, OPT_REPEAT, OPT_REPEAT_N, OPT_STOP, OPT_IDS, OPT_PRINT_IDS,
       OPT_GREEDY, OPT_DEVICE, OPT_QUIET, OPT_BATCH, OPT_IGNORE_EOS, OPT_NO_ECHO, OPT_NO_ESCAPE, OPT_TOKENIZER,
       OPT_STATE_SAVE, OPT_STATE_LOAD };

static const struct option run_options[] = {
    {"model", required_argument, 0, 'm'},          {"prompt", required_argument, 0, 'p'},
    {"file", required_argument, 0, 'f'},           {"n-predict", required_argument, 0, 'n'},
    {"temp", required_argument, 0, OPT_TEMP},      {"temperature", required_argument, 0, OPT_TEMP},
    {"top-k", required_argument, 0, OPT_TOPK},     {"top-p", required_argument, 0, OPT_TOPP},
    {"min-p", required_argument, 0, OPT_MINP},     {"repeat-penalty", required_argument, 0, OPT_REPEAT},
    {"repeat-last-n", required_argument, 0, OPT_REPEAT_N},
    {"seed", required_argument, 0, 's'},           {"stop", required_argument, 0, OPT_STOP},
    {"reverse-prompt", required_argument, 0, 'r'}, {"ids", required_argument, 0, OPT_IDS},
    {"print-ids", no_argument, 0, OPT_PRINT_IDS},  {"greedy", no_argument, 0, OPT_GREEDY},
    {"device", required_argument, 0, OPT_DEVICE},  {"quiet", no_argument, 0, OPT_QUIET},
    {"batch-file", required_argument, 0, OPT_BATCH}, {"ignore-eos", no_argument, 0, OPT_IGNORE_EOS},
    {"no-echo", no_argument, 0, OPT_NO_ECHO},      {"escape", no_argument, 0, 'e'},
    {"no-escape", no_argument, 0, OPT_NO_ESCAPE},  {"tokenizer", required_argument, 0, OPT_TOKENIZER},
    {"state-save", required_argument, 0, OPT_STATE_SAVE}, {"state-load", required_argument, 0, OPT_STATE_LOAD},
    {"interactive", no_argument, 0, 'i'},          {"help", no_argument, 0, 'h'},
    {0}};

/* Applies one sampling option; false after a usage error (or for an option
 * that is not a sampling one). */
static bool parse_sampling(int c, run_opts *o)
{
    mcl_sampler_params *sp = &o->gen.sampler;
    const struct {
        int opt;
        const char *name;
        double min, max;
        float *dst;
    } reals[] = {{OPT_TEMP, "--temp", 0, 100, &sp->temperature},
                 {OPT_TOPP, "--top-p", 0, 1, &sp->top_p},
                 {OPT_MINP, "--min-p", 0, 1, &sp->min_p},
                 {OPT_REPEAT, "--repeat-penalty", 1e-6, 100, &sp->repeat_penalty}};
    double v;
    long k;
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        if (c != reals[i].opt) continue;
        if (!cli_parse_double("run", reals[i].name, optarg, 0, reals[i].max, &v)) return false;
        if (v < reals[i].min) {
            cli_usage_error("run", "%s must be > 0 (1 = off), got '%s'", reals[i].name, optarg);
            return false;
        }
        *reals[i].dst = (float)v;
        if (c == OPT_TOPP) o->top_p_zero = v == 0.0;
        return true;
    }
    if (c == OPT_TOPK) {
        if (!cli_parse_long("run", "--top-k", optarg, 0, 1L << 30, &k)) return false;
        sp->top_k = (int)k;
        return true;
    }
    if (c == OPT_REPEAT_N) {
        if (!cli_parse_long("run", "--repeat-last-n", optarg, 0, 1L << 20, &k)) return false;
        sp->repeat_last_n = (int)k;
        return true;
    }
    if (c == 's') {
        if (!cli_parse_long("run", "--seed", optarg, -1, 0x7fffffffffffffffL, &k)) return false;
        o->seed_given = k >= 0;
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
        if (!cli_parse_long("run", "-n", optarg, -1, 1000000000L, &n)) return CLI_EXIT_USAGE;
        o->gen.n_predict = (int)n;
        return CLI_EXIT_OK;
    case 'r':
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
    case 'e': o->escapes = true; return CLI_EXIT_OK;
    case OPT_NO_ESCAPE: o->escapes = false; return CLI_EXIT_OK;
    case OPT_TOKENIZER: o->tokenizer = optarg; return CLI_EXIT_OK;
    case OPT_STATE_SAVE: o->state_save = optarg; return CLI_EXIT_OK;
    case OPT_STATE_LOAD: o->state_load = optarg; return CLI_EXIT_OK;
    case 'i': o->interactive = true; return CLI_EXIT_OK;
    case '?': return CLI_EXIT_USAGE;
    default: return parse_sampling(c, o) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
}

/* Removes llama.cpp options that mean nothing here (-ngl N, -c N and their
 * long forms), with a note; returns the new argc. */
static int drop_llama_options(int argc, char **argv, bool quiet)
{
    static const char *const names[] = {"-ngl", "--n-gpu-layers", "--gpu-layers", "-c", "--ctx-size"};
    int w = 1;
    for (int r = 1; r < argc; r++) {
        bool hit = false;
        for (size_t k = 0; k < sizeof names / sizeof names[0] && !hit; k++) hit = strcmp(argv[r], names[k]) == 0;
        if (!hit || r + 1 >= argc) {
            argv[w++] = argv[r];
            continue;
        }
        if (!quiet)
            cli_eprintf("mambacl run: note: %s %s ignored (%s)", argv[r], argv[r + 1],
                    argv[r][1] == 'c' || argv[r][2] == 'c' ? "a Mamba state has no context size"
                                                           : "the whole model always runs on the device");
        r++;
    }
    argv[w] = NULL;
    return w;
}

/* Checks that the options agree with each other. */
static int check_combination(const run_opts *o)
{
    int sources = !!o->prompt + !!o->prompt_file + !!o->batch_file + !!o->ids_text;
    if (sources > 1) return cli_usage_error("run", "give one of -p, -f, --batch-file, --ids");
    if (o->print_ids && !o->ids_text) return cli_usage_error("run", "--print-ids needs --ids");
    if (o->ids_text && !o->print_ids) return cli_usage_error("run", "--ids needs --print-ids (ids in, ids out)");
    if (o->ids_text && o->gen.n_predict < 0) return cli_usage_error("run", "-n -1 needs text (an end-of-sequence token): give -n N with --ids");
    if (o->batch_file && (o->state_load || o->state_save || o->interactive))
        return cli_usage_error("run", "--batch-file does not go with --state-load, --state-save or -i");
    if (o->interactive && o->ids_text) return cli_usage_error("run", "-i does not go with --ids");
    return CLI_EXIT_OK;
}

static uint64_t random_seed(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, 0) != (ssize_t)sizeof s) s = (uint64_t)mcl_now_ms() ^ ((uint64_t)getpid() << 32);
    return s & 0x7fffffffffffffffULL; /* what --seed accepts */
}

static int parse(int argc, char **argv, run_opts *o)
{
    int c, rc;
    bool quiet = false;
    for (int i = 1; i < argc; i++) quiet = quiet || strcmp(argv[i], "--quiet") == 0;
    argc = drop_llama_options(argc, argv, quiet);
    while ((c = cli_getopt(argc, argv, "hm:n:p:f:s:r:ei", run_options)) != -1)
        if ((rc = parse_one(c, o)) != CLI_EXIT_OK) return rc;
    if (optind < argc) return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    if (o->greedy) { /* pure argmax: no temperature, no penalty */
        o->gen.sampler.temperature = 0.0f;
        o->gen.sampler.repeat_penalty = 1.0f;
    }
    if (o->top_p_zero) { /* llama.cpp: top-p 0 keeps the most likely token only */
        o->gen.sampler.top_k = 1;
        o->gen.sampler.top_p = 1.0f;
    }
    if (!o->seed_given) o->gen.sampler.seed = random_seed();
    if (o->escapes)
        for (int i = 0; i < o->gen.n_stops; i++) {
            cli_process_escapes((char *)o->gen.stops[i]);
            if (!*o->gen.stops[i]) return cli_usage_error("run", "--stop wants a non-empty string");
        }
    return check_combination(o);
}

/* ---- checks before the device, then the run ---------------------------------------- */

/* Everything the run needs from files, loaded and checked without a device. */
typedef struct run_input {
    mcl_config cfg;
    mcl_tokenizer *tok;
    char *text;
    size_t len;
    int32_t *ids;
    int n_ids;
    batch_input batch;
} run_input;

static void input_free(run_input *in)
{
    mcl_tokenizer_free(in->tok);
    free(in->text);
    free(in->ids);
    batch_free(&in->batch);
}

static int check_files(const run_opts *o, run_input *in)
{
    mcl_checkpoint *ck = NULL;
    mcl_status st = mcl_checkpoint_open(o->model_dir, &ck);
    if (st != MCL_OK) return cli_runtime_error("run", st);
    in->cfg = *mcl_checkpoint_config(ck);
    mcl_checkpoint_free(ck);
    if (o->prompt_file && !cli_check_input_file("run", "-f", o->prompt_file)) return CLI_EXIT_USAGE;
    if (o->batch_file && !cli_check_input_file("run", "--batch-file", o->batch_file)) return CLI_EXIT_USAGE;
    if (o->tokenizer && !cli_check_input_file("run", "--tokenizer", o->tokenizer)) return CLI_EXIT_USAGE;
    if (o->state_load && !cli_check_input_file("run", "--state-load", o->state_load)) return CLI_EXIT_USAGE;
    if (o->state_save && !cli_check_output_file("run", "--state-save", o->state_save)) return CLI_EXIT_USAGE;
    if (o->state_load && (st = mcl_state_file_check(o->state_load, &in->cfg)) != MCL_OK)
        return cli_runtime_error("run", st);
    return CLI_EXIT_OK;
}

/* A prompt's ids against the model's vocabulary, before anything is echoed
 * or run: a tokenizer may know more tokens than the model embeds (GPT-NeoX's
 * tokenizer has 50281 ids, the state-spaces models 50280 rows: "RWKV" is id
 * 50280), so a prompt using one is refused naming both files. */
static int check_prompt_ids(const run_opts *o, const char *tok_path, const run_input *in, const int32_t *ids,
                            size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < in->cfg.vocab_size) continue;
        const char *text = "";
        size_t len = 0;
        mcl_tokenizer_token_text(in->tok, ids[i], &text, &len);
        return cli_eprintf("mambacl run: error: the prompt's token '%.*s' (id %d from %s) is outside the model's "
                           "vocabulary of %d (vocab_size in %s/config.json)", (int)(len < 40 ? len : 40), text,
                           (int)ids[i], tok_path, in->cfg.vocab_size, o->model_dir),
               CLI_EXIT_RUNTIME;
    }
    return CLI_EXIT_OK;
}

static int prepare(const run_opts *o, run_input *in)
{
    int rc = check_files(o, in);
    if (rc != CLI_EXIT_OK) return rc;
    if (o->ids_text) {
        if (!cli_parse_ids("run", o->ids_text, &in->ids, &in->n_ids)) return CLI_EXIT_USAGE;
        return cli_check_ids("run", in->ids, in->n_ids, in->cfg.vocab_size) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer.json", o->model_dir);
    mcl_status st = mcl_tokenizer_load(o->tokenizer ? o->tokenizer : path, &in->tok);
    if (st != MCL_OK) return cli_runtime_error("run", st);
    if (!prompt_text(o, &in->text, &in->len)) return CLI_EXIT_RUNTIME;
    const char *tok_path = o->tokenizer ? o->tokenizer : path;
    if (o->batch_file) {
        rc = batch_read(in->text, in->tok, &in->batch);
        for (int i = 0; rc == CLI_EXIT_OK && i < in->batch.n; i++)
            rc = check_prompt_ids(o, tok_path, in, in->batch.ids[i], in->batch.lens[i]);
        return rc;
    }
    if (o->interactive) return CLI_EXIT_OK;
    st = encode(in->tok, in->text, in->len, &in->ids, &in->n_ids);
    if (st != MCL_OK) return cli_runtime_error("run", st);
    if (in->n_ids == 0) return cli_usage_error("run", "the prompt is empty: give at least one token of text");
    return check_prompt_ids(o, tok_path, in, in->ids, in->n_ids);
}

static int run_model(const run_opts *o, mcl_runtime *rt, mcl_model *m, run_input *in)
{
    if (o->ids_text) {
        mcl_state *s = NULL;
        int32_t pending = -1;
        mcl_status st = open_state(o, m, &s);
        if (st == MCL_OK) st = generate_ids(o, m, s, in->ids, in->n_ids, &pending);
        if (st == MCL_OK) st = save_state(o, m, s, pending);
        mcl_state_free(s);
        return finish(st);
    }
    if (o->batch_file) return run_batch(o, rt, m, in->tok, &in->batch);
    if (o->interactive) return run_interactive(o, rt, m, in->tok, in->text, in->len);
    return run_text(o, rt, m, in->tok, in->text, in->len, in->ids, in->n_ids);
}

int cmd_run(int argc, char **argv)
{
    static char default_dir[4096];
    run_opts o = {.gen = {.n_predict = 128, .sampler = mcl_sampler_params_default(), .echo_prompt = true},
                  .escapes = true};
    int rc = parse(argc, argv, &o);
    if (rc != CLI_EXIT_OK) return rc < 0 ? CLI_EXIT_OK : rc;
    if (!o.model_dir) {
        if (!cli_default_model(default_dir, sizeof default_dir))
            return cli_usage_error("run", "no -m MODEL_DIR and no default model (set MAMBACL_MODEL)");
        o.model_dir = default_dir;
    }
    run_input in = {0};
    rc = prepare(&o, &in);
    mcl_runtime *rt = NULL;
    mcl_model *m = NULL;
    if (rc == CLI_EXIT_OK) rc = cli_open_model("run", o.device, o.model_dir, o.gen.quiet, &rt, &m);
    if (rc == CLI_EXIT_OK) {
        rc = run_model(&o, rt, m, &in);
        cli_close_model(rt, m);
    }
    input_free(&in);
    return rc;
}
