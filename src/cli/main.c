/* mambacl: entry point and subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* One row per subcommand; `mambacl --help` lists them in this order. */
static const cli_command commands[] = {
    {"devices", "list OpenCL devices", cmd_devices},
    {"selftest", "compile every kernel and run one tiny launch of each", cmd_selftest},
    {"logits", "print a token sequence's logits as JSON", cmd_logits},
    {"run", "generate text after a prompt (streamed; sampling, stop strings, batches)", cmd_run},
    {"info", "show a model's config, parameters, dtype and device memory", cmd_info},
    {"tokenize", "encode text to token ids or decode ids (tokenizer.json)", cmd_tokenize},
    {"bench", "measure kernels, prefill, decode and startup on the device", cmd_bench},
    {"tune", "autotune the kernels for the device and save the results", cmd_tune},
    {"serve", "serve the model over HTTP (OpenAI-compatible API, continuous batching)", cmd_serve},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mambacl <command> [options]\n"
            "\n"
            "Runs Mamba language models on OpenCL devices.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n"
            "'mambacl <command> --help' describes a command.\n"
            "environment: MAMBACL_DEVICE (device selector), MAMBACL_MODEL (default model directory),\n"
            "MAMBACL_CACHE_DIR (kernel binaries and tuning files), MAMBACL_NO_CACHE=1,\n"
            "MAMBACL_KERNEL_DIR (read cl/ sources from a directory), MAMBACL_API_KEY (serve).\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("mambacl 0.1.0\n");
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "mambacl: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
