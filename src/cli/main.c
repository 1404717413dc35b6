/* mambacl: entry point and subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* One row per subcommand; `mambacl --help` lists them in this order. */
static const cli_command commands[] = {
    {"devices", "list OpenCL devices", cmd_devices},
    {"selftest", "compile every kernel and run one tiny launch of each", cmd_selftest},
    {"logits", "print a token sequence's logits as JSON", cmd_logits},
    {"run", "generate text after a prompt (streamed; batches, -i, state files as a prompt cache)", cmd_run},
    {"info", "show a model's config, parameters, dtype and device memory", cmd_info},
    {"tokenize", "encode text to token ids or decode ids (tokenizer.json)", cmd_tokenize},
    {"bench", "measure kernels, prefill, decode and startup on the device", cmd_bench},
    {"tune", "autotune the kernels for the device and save the results", cmd_tune},
#ifdef MCL_HAVE_SERVE /* meson -Dserve: built when libmicrohttpd is found */
    {"serve", "serve the model over HTTP (OpenAI-compatible API, continuous batching)", cmd_serve},
#endif
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mambacl <command> [options]\n"
            "       mambacl help [COMMAND]     this text, or a command's --help\n"
            "       mambacl --version          the version\n"
            "\n"
            "Runs Mamba language models on OpenCL devices.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n"
            "'mambacl <command> --help' (or 'mambacl help <command>') describes a command.\n"
            "Every command takes -m MODEL_DIR where it reads a model (default: $MAMBACL_MODEL, else the\n"
            "bundled model) and --device SEL where it runs on a device (an index, gpu, cpu, pocl, or a\n"
            "name substring; see 'mambacl devices'). Exit codes: 0 success, 1 runtime error (including\n"
            "a failed write of the output), 2 bad usage; 130 when Ctrl-C stopped a prefill or a tuning.\n"
            "environment: MAMBACL_DEVICE (device selector), MAMBACL_MODEL (default model directory),\n"
            "MAMBACL_CACHE_DIR (kernel binaries and tuning files), MAMBACL_NO_CACHE=1,\n"
            "MAMBACL_KERNEL_DIR (read cl/ sources from a directory), MAMBACL_API_KEY (serve).\n");
}

static const cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(name, commands[i].name) == 0) return &commands[i];
    return NULL;
}

static int unknown_command(const char *name)
{
    fprintf(stderr, "mambacl: unknown command '%s'\nTry 'mambacl --help'.\n", name);
    return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *a = argv[1];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || (strcmp(a, "help") == 0 && argc == 2)) {
        usage(stdout);
        return cli_finish_output("help", CLI_EXIT_OK);
    }
    if (strcmp(a, "help") == 0) {
        const cli_command *c = find_command(argv[2]);
        if (!c) return unknown_command(argv[2]);
        char *args[] = {argv[2], "--help", NULL};
        return cli_finish_output(c->name, c->run(2, args));
    }
    if (strcmp(a, "--version") == 0 || strcmp(a, "version") == 0) {
        printf("mambacl %s\n", MCL_VERSION_STRING);
        return cli_finish_output("version", CLI_EXIT_OK);
    }
    const cli_command *c = find_command(a);
    if (!c) return unknown_command(a);
    return cli_finish_output(c->name, c->run(argc - 1, argv + 1));
}
