/* mambacl tokenize: encode text to ids or decode ids to text with a
 * tokenizer.json, printing JSON on stdout. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char *CMD = "tokenize";

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mambacl tokenize [-m MODEL_DIR | --tokenizer FILE]\n"
            "                        [-p TEXT | -f FILE | --decode \"ID ID ...\"]\n"
            "\n"
            "Encodes text with a Hugging Face tokenizer.json and prints {\"ids\": [...]},\n"
            "or decodes ids and prints {\"text\": \"...\"}. Added and special tokens written\n"
            "in the text (\"<|endoftext|>\") encode to their ids; no BOS/EOS is added.\n"
            "With no -p, -f or --decode the text is read from stdin (as run does). JSON\n"
            "output is one line.\n"
            "\n"
            "  -m, --model DIR       use DIR/tokenizer.json (default: $MAMBACL_MODEL, else\n"
            "                        the bundled model)\n"
            "      --tokenizer FILE  use FILE\n"
            "  -p, --prompt TEXT     encode TEXT (also -t, --text)\n"
            "  -e, --escape          process escapes in TEXT (\\n, \\t, \\xHH...) as run does\n"
            "                        (the default); --no-escape: literal\n"
            "  -f, --file FILE       encode the bytes of FILE ('-' reads stdin)\n"
            "  -d, --decode IDS      decode ids separated by spaces or commas\n"
            "  -h, --help            show this help\n"
            "\n"
            "Exit codes: 0 success, 1 runtime error (unreadable or bad tokenizer, failed\n"
            "write), 2 bad usage (including an id outside the vocabulary, as in logits).\n");
}

static int read_all(const char *path, char **data, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        cli_eprintf("mambacl %s: error: %s: cannot open: %s", CMD, path, strerror(errno));
        return CLI_EXIT_RUNTIME;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *nb = realloc(buf, cap *= 2);
        if (!nb) { free(buf); buf = NULL; }
        else buf = nb;
    }
    bool err = ferror(f);
    if (f != stdin) fclose(f);
    if (!buf || err) {
        free(buf);
        cli_eprintf("mambacl %s: error: %s: %s", CMD, path, buf ? "read error" : "out of memory");
        return CLI_EXIT_RUNTIME;
    }
    *data = buf;
    *len = n;
    return CLI_EXIT_OK;
}

static int print_json(cJSON *obj)
{
    char *s = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    if (!s) {
        cli_eprintf("mambacl %s: error: out of memory", CMD);
        return CLI_EXIT_RUNTIME;
    }
    puts(s);
    cJSON_free(s);
    return CLI_EXIT_OK;
}

static int do_encode(const mcl_tokenizer *tok, const char *text, size_t len)
{
    int32_t *ids;
    size_t n;
    mcl_status st = mcl_tokenizer_encode(tok, text, len, &ids, &n);
    if (st != MCL_OK) return cli_runtime_error(CMD, st);
    cJSON *obj = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(obj, "ids");
    for (size_t i = 0; arr && i < n; i++) cJSON_AddItemToArray(arr, cJSON_CreateNumber(ids[i]));
    free(ids);
    return print_json(obj);
}

/* Parses "1 2, 3" into ids; a usage error for anything not an integer. */
static int parse_ids(const char *s, int32_t **ids, size_t *n)
{
    size_t cap = strlen(s) / 2 + 1;
    *ids = malloc(cap * sizeof **ids);
    *n = 0;
    if (!*ids) {
        cli_eprintf("mambacl %s: error: out of memory", CMD);
        return CLI_EXIT_RUNTIME;
    }
    while (*s) {
        if (*s == ' ' || *s == ',' || *s == '\t' || *s == '\n') { s++; continue; }
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < INT32_MIN || v > INT32_MAX ||
            (*end && *end != ' ' && *end != ',' && *end != '\t' && *end != '\n')) {
            free(*ids);
            return cli_usage_error(CMD, "--decode wants integer ids separated by spaces or commas, got '%.40s'", s);
        }
        (*ids)[(*n)++] = (int32_t)v;
        s = end;
    }
    return CLI_EXIT_OK;
}

static int do_decode(const mcl_tokenizer *tok, const char *list)
{
    int32_t *ids;
    size_t n;
    char *text;
    size_t len;
    int rc = parse_ids(list, &ids, &n);
    if (rc != CLI_EXIT_OK) return rc;
    int32_t vocab = mcl_tokenizer_vocab_size(tok);
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= vocab) {
            int bad = (int)ids[i];
            free(ids);
            return cli_usage_error(CMD, "token id %d (item %zu of --decode) is outside the vocabulary [0, %d)", bad,
                                   i + 1, (int)vocab);
        }
    mcl_status st = mcl_tokenizer_decode(tok, ids, n, &text, &len);
    free(ids);
    if (st != MCL_OK) return cli_runtime_error(CMD, st);
    cJSON *obj = cJSON_CreateObject();
    if (obj && !cJSON_AddStringToObject(obj, "text", text)) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    free(text);
    return print_json(obj);
}

typedef struct tok_args {
    const char *model, *file, *text, *input, *decode;
    bool literal; /* --no-escape */
} tok_args;

static int parse_args(int argc, char **argv, tok_args *a)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"tokenizer", required_argument, NULL, 'T'},
        {"text", required_argument, NULL, 't'},  {"prompt", required_argument, NULL, 't'},
        {"file", required_argument, NULL, 'f'},
        {"decode", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'},
        {"escape", no_argument, NULL, 'e'},      {"no-escape", no_argument, NULL, 'E'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = cli_getopt(argc, argv, "m:t:p:f:d:he", opts)) != -1) {
        switch (c) {
        case 'm': a->model = optarg; break;
        case 'T': a->file = optarg; break;
        case 't':
        case 'p': a->text = optarg; break;
        case 'f': a->input = optarg; break;
        case 'd': a->decode = optarg; break;
        case 'e': a->literal = false; break;
        case 'E': a->literal = true; break;
        case 'h': usage(stdout); return -1;
        default: return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (a->model && a->file) return cli_usage_error(CMD, "give -m MODEL_DIR or --tokenizer FILE, not both");
    if ((a->text != NULL) + (a->input != NULL) + (a->decode != NULL) > 1)
        return cli_usage_error(CMD, "give at most one of -p, -f and --decode");
    if (!a->text && !a->input && !a->decode) a->input = "-";
    if (!a->model && !a->file) {
        static char dir[4096];
        if (!cli_default_model(dir, sizeof dir))
            return cli_usage_error(CMD, "no -m MODEL_DIR and no default model (set MAMBACL_MODEL)");
        a->model = dir;
    }
    if (a->input && !cli_check_input_file(CMD, "-f", a->input)) return CLI_EXIT_USAGE;
    return CLI_EXIT_OK;
}

int cmd_tokenize(int argc, char **argv)
{
    tok_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK) return rc < 0 ? CLI_EXIT_OK : rc;
    char path[4096];
    if (a.model && snprintf(path, sizeof path, "%s/tokenizer.json", a.model) >= (int)sizeof path)
        return cli_usage_error(CMD, "model directory path too long");
    mcl_tokenizer *tok;
    mcl_status st = mcl_tokenizer_load(a.model ? path : a.file, &tok);
    if (st != MCL_OK) return cli_runtime_error(CMD, st);
    if (a.decode) rc = do_decode(tok, a.decode);
    else if (a.text) rc = do_encode(tok, a.text, a.literal ? strlen(a.text) : cli_process_escapes((char *)a.text));
    else {
        char *data;
        size_t len;
        rc = read_all(a.input, &data, &len);
        if (rc == CLI_EXIT_OK) {
            rc = do_encode(tok, data, len);
            free(data);
        }
    }
    mcl_tokenizer_free(tok);
    return rc;
}
