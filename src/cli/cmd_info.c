/* mambacl info: a model directory's config, parameter count, dtype and the
 * device memory its weights need. Reads files only; needs no device. */
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "mcl_internal.h"
#include "cli/cli.h"

static void help(void)
{
    printf("usage: mambacl info [-m MODEL_DIR] [--json]\n"
           "\n"
           "Validates a Mamba-1 model directory (config.json plus model.safetensors, or\n"
           "model.safetensors.index.json and its shards) and prints its configuration, the\n"
           "parameter count, the dtype holding most parameters, and the device memory the\n"
           "weights need (matrices kept in their dtype, per-channel tensors as fp32) plus the\n"
           "recurrent state of one sequence. Needs no OpenCL device.\n"
           "Exit code 1, with one line on stderr naming the file and the problem, when the\n"
           "directory is not a valid model.\n"
           "\n"
           "  -m, --model DIR   the model directory (default: $MAMBACL_MODEL, else the\n"
           "                    bundled model)\n"
           "      --json        print one JSON object (on one line) instead of text\n");
}

/* fp32 recurrent state of one sequence, all layers (the architecture's states). */
static uint64_t state_bytes(const mcl_config *c) { return mcl_arch_state_bytes(c); }

static const char *form_name(const mcl_checkpoint *ck)
{
    return mcl_checkpoint_source(ck)->form == MCL_CONFIG_FORM_HF ? "huggingface" : "state-spaces";
}

static cJSON *config_json(const mcl_checkpoint *ck)
{
    const mcl_config *c = mcl_checkpoint_config(ck);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "d_model", c->d_model);
    cJSON_AddNumberToObject(o, "n_layer", c->n_layer);
    cJSON_AddNumberToObject(o, "d_inner", c->d_inner);
    cJSON_AddNumberToObject(o, "d_state", c->d_state);
    cJSON_AddNumberToObject(o, "d_conv", c->d_conv);
    cJSON_AddNumberToObject(o, "dt_rank", c->dt_rank);
    cJSON_AddNumberToObject(o, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(o, "vocab_size_declared", mcl_checkpoint_source(ck)->vocab_declared);
    char eps[32];
    snprintf(eps, sizeof eps, "%g", (double)c->norm_eps); /* the float, shortest form */
    cJSON_AddRawToObject(o, "norm_eps", eps);
    cJSON_AddBoolToObject(o, "tie_embeddings", c->tie_embeddings);
    cJSON_AddBoolToObject(o, "conv_bias", c->conv_bias);
    cJSON_AddBoolToObject(o, "residual_in_fp32", c->residual_in_fp32);
    return o;
}

static int print_json(const char *dir, const mcl_checkpoint *ck)
{
    uint64_t largest = 0, total = mcl_checkpoint_device_bytes(ck, &largest);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", dir);
    cJSON_AddStringToObject(o, "format", form_name(ck));
    cJSON_AddNumberToObject(o, "files", mcl_checkpoint_file_count(ck));
    cJSON_AddItemToObject(o, "config", config_json(ck));
    cJSON_AddNumberToObject(o, "parameters", (double)mcl_checkpoint_param_count(ck));
    cJSON_AddStringToObject(o, "dtype", mcl_dtype_name(mcl_checkpoint_dtype(ck)));
    cJSON_AddNumberToObject(o, "device_weight_bytes", (double)total);
    cJSON_AddNumberToObject(o, "largest_buffer_bytes", (double)largest);
    cJSON_AddNumberToObject(o, "state_bytes_per_sequence", (double)state_bytes(mcl_checkpoint_config(ck)));
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) {
        fprintf(stderr, "mambacl info: error: out of memory\n");
        return CLI_EXIT_RUNTIME;
    }
    printf("%s\n", s);
    free(s);
    return CLI_EXIT_OK;
}

static void print_text(const char *dir, const mcl_checkpoint *ck)
{
    const mcl_config *c = mcl_checkpoint_config(ck);
    uint64_t largest = 0, total = mcl_checkpoint_device_bytes(ck, &largest);
    uint64_t params = mcl_checkpoint_param_count(ck);
    fputs("model        ", stdout);
    cli_fputs_escaped(stdout, dir);
    fputc('\n', stdout);
    printf("format       %s config, %d safetensors file%s\n", form_name(ck), mcl_checkpoint_file_count(ck),
           mcl_checkpoint_file_count(ck) == 1 ? "" : "s");
    printf("d_model      %d\nn_layer      %d\nd_inner      %d\nd_state      %d\nd_conv       %d\n"
           "dt_rank      %d\n",
           c->d_model, c->n_layer, c->d_inner, c->d_state, c->d_conv, c->dt_rank);
    printf("vocab_size   %d (config.json says %d)\n", c->vocab_size, mcl_checkpoint_source(ck)->vocab_declared);
    printf("norm_eps     %g\ntied         %s\nconv_bias    %s\n", (double)c->norm_eps,
           c->tie_embeddings ? "yes" : "no", c->conv_bias ? "yes" : "no");
    printf("parameters   %.2f M (%llu)\n", (double)params / 1e6, (unsigned long long)params);
    printf("dtype        %s\n", mcl_dtype_name(mcl_checkpoint_dtype(ck)));
    printf("device       %.2f MiB of weights (largest buffer %.2f MiB), %.2f MiB of state per sequence\n",
           (double)total / 1048576.0, (double)largest / 1048576.0,
           (double)state_bytes(c) / 1048576.0);
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0}};
    const char *dir = NULL;
    bool json = false;
    int c;
    while ((c = cli_getopt(argc, argv, "hm:", opts)) != -1) {
        if (c == 'h') return help(), CLI_EXIT_OK;
        else if (c == 'm') dir = optarg;
        else if (c == 'j') json = true;
        else return CLI_EXIT_USAGE;
    }
    if (optind < argc) return cli_usage_error("info", "unexpected argument '%s'", argv[optind]);
    static char default_dir[4096];
    if (!dir && !(dir = cli_default_model(default_dir, sizeof default_dir) ? default_dir : NULL))
        return cli_usage_error("info", "no -m MODEL_DIR and no default model (set MAMBACL_MODEL)");
    mcl_checkpoint *ck = NULL;
    mcl_status st = mcl_checkpoint_open(dir, &ck);
    if (st != MCL_OK) return cli_runtime_error("info", st);
    int rc = CLI_EXIT_OK;
    if (json) rc = print_json(dir, ck);
    else print_text(dir, ck);
    mcl_checkpoint_free(ck);
    return rc;
}
