/* mambacl serve: the OpenAI-compatible HTTP server (src/serve/). This file
 * only reads the options; serve_run does the rest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "serve/serve.h"

static void help(void)
{
    printf("usage: mambacl serve [-m MODEL_DIR] [--host ADDR] [--port N] [--parallel N] [--device SEL]\n"
           "                     [--api-key KEY] [options]\n"
           "\n"
           "Serves the model over HTTP with an OpenAI-compatible API and continuous batching:\n"
           "  POST /v1/completions      prompt (text or token ids), max_tokens, temperature, top_p,\n"
           "                            top_k, min_p, repetition_penalty, seed, stop, stream\n"
           "  POST /v1/chat/completions 400 unless the model has a chat template mambacl can apply\n"
           "                            (none yet: the message says why)\n"
           "  GET  /v1/models, GET /health, GET /metrics (Prometheus text)\n"
           "  POST /tokenize {\"content\": TEXT}, POST /detokenize {\"tokens\": [ids]}\n"
           "One thread runs the device; requests join and leave the running batch between\n"
           "decode steps. SIGINT/SIGTERM: stop accepting, let requests finish for at most\n"
           "--shutdown-timeout seconds, cancel the rest, exit 0.\n"
           "\n"
           "  -m, --model DIR          model directory (default: $MAMBACL_MODEL, else the bundled\n"
           "                           models/shakespeare-mamba)\n"
           "  --host ADDR              address to bind (default 127.0.0.1; an IPv4/IPv6 literal)\n"
           "  --port N                 port (default 8080; 0 = any free port, printed at start)\n"
           "  --parallel N             sequences generated at once (default 8)\n"
           "  --queue N                requests waiting for a slot (default 64; more get 503)\n"
           "  --prefill-chunk N        prompt tokens prefilled per step (default 512)\n"
           "  --max-prompt-tokens N    longer prompts get 400 (default 8192)\n"
           "  --max-tokens N           largest max_tokens accepted (default 4096)\n"
           "  --max-body BYTES         larger request bodies get 413 (default 1048576)\n"
           "  --max-connections N      open connections at most (default 256)\n"
           "  --api-key KEY            require 'Authorization: Bearer KEY' (also $MAMBACL_API_KEY);\n"
           "                           /health stays open\n"
           "  --model-name NAME        the model id reported (default: the directory's name)\n"
           "  --shutdown-timeout S     seconds left to requests in flight at shutdown (default 5)\n"
           "  --device SEL             device index or name substring (see: mambacl devices)\n"
           "  --verbose                log HTTP errors on stderr\n"
           "Exit codes: 0 success (also after SIGINT/SIGTERM), 1 runtime error, 2 bad usage.\n");
}

enum { OPT_HOST = 256, OPT_PORT, OPT_PARALLEL, OPT_QUEUE, OPT_CHUNK, OPT_MAX_PROMPT, OPT_MAX_TOKENS, OPT_MAX_BODY,
       OPT_MAX_CONN, OPT_KEY, OPT_NAME, OPT_GRACE, OPT_DEVICE, OPT_VERBOSE };

static const struct option serve_options_table[] = {
    {"model", required_argument, 0, 'm'},
    {"host", required_argument, 0, OPT_HOST},
    {"port", required_argument, 0, OPT_PORT},
    {"parallel", required_argument, 0, OPT_PARALLEL},
    {"queue", required_argument, 0, OPT_QUEUE},
    {"prefill-chunk", required_argument, 0, OPT_CHUNK},
    {"max-prompt-tokens", required_argument, 0, OPT_MAX_PROMPT},
    {"max-tokens", required_argument, 0, OPT_MAX_TOKENS},
    {"max-body", required_argument, 0, OPT_MAX_BODY},
    {"max-connections", required_argument, 0, OPT_MAX_CONN},
    {"api-key", required_argument, 0, OPT_KEY},
    {"model-name", required_argument, 0, OPT_NAME},
    {"shutdown-timeout", required_argument, 0, OPT_GRACE},
    {"device", required_argument, 0, OPT_DEVICE},
    {"verbose", no_argument, 0, OPT_VERBOSE},
    {"help", no_argument, 0, 'h'},
    {0}};

/* The integer options: option, name, range, where the value goes. */
static bool parse_int_option(int c, serve_options *o, bool *handled)
{
    const struct {
        int opt;
        const char *name;
        long min, max;
        int *dst;
    } ints[] = {{OPT_PORT, "--port", 0, 65535, &o->port},
                {OPT_PARALLEL, "--parallel", 1, 4096, &o->parallel},
                {OPT_QUEUE, "--queue", 0, 1 << 20, &o->queue},
                {OPT_CHUNK, "--prefill-chunk", 1, 1 << 20, &o->prefill_chunk},
                {OPT_MAX_PROMPT, "--max-prompt-tokens", 1, 1 << 26, &o->limits.max_prompt_tokens},
                {OPT_MAX_TOKENS, "--max-tokens", 1, 1 << 26, &o->limits.max_tokens},
                {OPT_MAX_CONN, "--max-connections", 1, 65536, &o->max_connections}};
    *handled = false;
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (c != ints[i].opt) continue;
        long v;
        *handled = true;
        if (!cli_parse_long("serve", ints[i].name, optarg, ints[i].min, ints[i].max, &v)) return false;
        *ints[i].dst = (int)v;
    }
    return true;
}

static int parse_one(int c, serve_options *o)
{
    bool handled;
    if (!parse_int_option(c, o, &handled)) return CLI_EXIT_USAGE;
    if (handled) return CLI_EXIT_OK;
    long v;
    double d;
    switch (c) {
    case 'h': help(); return -1;
    case 'm': o->model_dir = optarg; return CLI_EXIT_OK;
    case OPT_HOST: o->host = optarg; return CLI_EXIT_OK;
    case OPT_KEY: o->api_key = optarg; return CLI_EXIT_OK;
    case OPT_NAME: o->model_name = optarg; return CLI_EXIT_OK;
    case OPT_DEVICE: o->device = optarg; return CLI_EXIT_OK;
    case OPT_VERBOSE: o->verbose = true; return CLI_EXIT_OK;
    case OPT_MAX_BODY:
        if (!cli_parse_long("serve", "--max-body", optarg, 64, 1L << 30, &v)) return CLI_EXIT_USAGE;
        o->max_body = (size_t)v;
        return CLI_EXIT_OK;
    case OPT_GRACE:
        if (!cli_parse_double("serve", "--shutdown-timeout", optarg, 0, 3600, &d)) return CLI_EXIT_USAGE;
        o->shutdown_grace_s = d;
        return CLI_EXIT_OK;
    default: return c == '?' ? cli_usage_error("serve", "bad option") : CLI_EXIT_USAGE;
    }
}

int cmd_serve(int argc, char **argv)
{
    static char default_dir[4096];
    serve_options o = {.host = "127.0.0.1", .port = 8080, .parallel = 8, .queue = 64, .prefill_chunk = 512,
                       .limits = {8192, 4096, 16}, .max_body = 1 << 20, .max_connections = 256,
                       .shutdown_grace_s = 5};
    int c, rc;
    while ((c = cli_getopt(argc, argv, "hm:", serve_options_table)) != -1)
        if ((rc = parse_one(c, &o)) != CLI_EXIT_OK) return rc < 0 ? CLI_EXIT_OK : rc;
    if (optind < argc) return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    if (!o.api_key) o.api_key = getenv("MAMBACL_API_KEY");
    if (o.limits.default_max_tokens > o.limits.max_tokens) o.limits.default_max_tokens = o.limits.max_tokens;
    if (!o.model_dir) {
        if (!cli_default_model(default_dir, sizeof default_dir))
            return cli_usage_error("serve", "no -m MODEL_DIR and no default model (set MAMBACL_MODEL)");
        o.model_dir = default_dir;
    }
    char tok_path[4096 + 32];
    snprintf(tok_path, sizeof tok_path, "%s/tokenizer.json", o.model_dir);
    if (!cli_check_model_dir("serve", o.model_dir)) return CLI_EXIT_RUNTIME;
    if (!cli_check_input_file("serve", "-m", tok_path)) return CLI_EXIT_USAGE;
    cli_check_cache_dir();
    mcl_status st = serve_run(&o);
    return st == MCL_OK ? CLI_EXIT_OK : cli_runtime_error("serve", st);
}
