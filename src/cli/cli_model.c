/* CLI helpers of the commands that run a model. */
#include "cli/cli_model.h"
#include "mcl_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cli_parse_ids(const char *cmd, const char *text, int32_t **ids, int *n)
{
    size_t cap = strlen(text) / 2 + 1, count = 0;
    int32_t *out = malloc(cap * sizeof *out);
    if (!out) return cli_usage_error(cmd, "out of memory"), false;
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n') p++;
        if (!*p) break;
        char *end = NULL;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > INT32_MAX ||
            (*end && *end != ' ' && *end != ',' && *end != '\t' && *end != '\n')) {
            int len = 0;
            while (p[len] && p[len] != ' ' && p[len] != ',') len++;
            cli_usage_error(cmd, "--ids wants non-negative integers separated by spaces, got '%.*s'",
                            len, p);
            free(out);
            return false;
        }
        out[count++] = (int32_t)v;
        p = end;
    }
    if (count == 0) {
        free(out);
        return cli_usage_error(cmd, "--ids is empty"), false;
    }
    *ids = out;
    *n = (int)count;
    return true;
}

bool cli_check_ids(const char *cmd, const int32_t *ids, int n, int vocab)
{
    for (int i = 0; i < n; i++)
        if (ids[i] >= vocab) {
            cli_usage_error(cmd, "token id %d (item %d of --ids) is outside the model's vocabulary [0, %d)",
                            (int)ids[i], i + 1, vocab);
            return false;
        }
    return true;
}

static void load_progress(uint64_t done, uint64_t total, void *user)
{
    (void)user;
    cli_progress("loading", total ? (double)done / (double)total : 1.0, done >= total);
}

int cli_open_model(const char *cmd, const char *device, const char *dir, mcl_runtime **rt,
                   mcl_model **model)
{
    mcl_runtime_options ro = {0};
    ro.device = device;
    *rt = NULL;
    *model = NULL;
    mcl_status st = mcl_runtime_create(&ro, rt);
    if (st != MCL_OK) return cli_runtime_error(cmd, st);
    /* a refused tuning file, an unusable cache dir, a malformed MAMBACL_* value */
    if (*mcl_runtime_warnings(*rt)) fprintf(stderr, "mambacl %s: warning: %s\n", cmd, mcl_runtime_warnings(*rt));
    mcl_model_options mo = {0};
    mo.progress = load_progress;
    st = mcl_model_load_ex(*rt, dir, &mo, model);
    if (st != MCL_OK) {
        int rc = cli_runtime_error(cmd, st);
        mcl_runtime_free(*rt);
        *rt = NULL;
        return rc;
    }
    return CLI_EXIT_OK;
}

void cli_close_model(mcl_runtime *rt, mcl_model *model)
{
    mcl_model_free(model);
    mcl_runtime_free(rt);
}

int cli_model_source_option(const char *cmd, int c, const char *arg, cli_model_source *src)
{
    switch (c) {
    case 'm': src->model_dir = arg; return CLI_EXIT_OK;
    case 'c': src->config = arg; return CLI_EXIT_OK;
    case 't':
        if (mcl_dtype_parse(arg, &src->dtype)) return CLI_EXIT_OK;
        return cli_usage_error(cmd, "--dtype wants f32, f16 or bf16, got '%s'", arg);
    default: return -1;
    }
}

int cli_model_source_check(const char *cmd, cli_model_source *src)
{
    if (src->model_dir && src->config) return cli_usage_error(cmd, "give -m or --config, not both");
    if (src->config && !mcl_preset_find(src->config))
        return cli_usage_error(cmd, "unknown --config '%s' (130m 370m 790m 1.4b 2.8b tiny)", src->config);
    if (!src->model_dir && !src->config) src->config = "130m";
    return CLI_EXIT_OK;
}

mcl_status cli_model_source_load(mcl_runtime *rt, const cli_model_source *src, mcl_model **out)
{
    if (src->model_dir) return mcl_model_load(rt, src->model_dir, out);
    return mcl_model_create_random(rt, &mcl_preset_find(src->config)->cfg, src->dtype, 1234, out);
}
