/* CLI helpers of the commands that run a model. */
#include "cli/cli_model.h"
#include "mcl_internal.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>
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
    if (*(const bool *)user) return; /* --quiet */
    cli_progress("loading", total ? (double)done / (double)total : 1.0, done >= total);
}

/* A notice on stderr when creating the runtime takes more than a second
 * (it compiles the kernels on a device's first run). */
typedef struct build_notice {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool finished;
} build_notice;

static void *notice_thread(void *arg)
{
    build_notice *n = arg;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 1;
    pthread_mutex_lock(&n->mu);
    while (!n->finished)
        if (pthread_cond_timedwait(&n->cv, &n->mu, &until) != 0) break;
    if (!n->finished)
        fprintf(stderr, "mambacl: compiling the OpenCL kernels for this device (the first run takes a while; "
                        "later runs load them from the cache)...\n");
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

mcl_status cli_runtime_create(const mcl_runtime_options *ro, bool quiet, mcl_runtime **rt, double *compile_ms)
{
    cli_check_cache_dir();
    build_notice n = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    pthread_t th;
    bool started = !quiet && pthread_create(&th, NULL, notice_thread, &n) == 0;
    mcl_status st = mcl_runtime_create(ro, rt);
    if (started) {
        pthread_mutex_lock(&n.mu);
        n.finished = true;
        pthread_cond_signal(&n.cv);
        pthread_mutex_unlock(&n.mu);
        pthread_join(th, NULL);
    }
    *compile_ms = 0.0;
    if (st != MCL_OK) return st;
    int np = 0;
    const mcl_program_report *reps = mcl_runtime_programs(*rt, &np);
    for (int i = 0; i < np; i++)
        if (!reps[i].from_cache) *compile_ms += reps[i].build_ms;
    return MCL_OK;
}

/* After a cold start: one short prefill and decode step, so that drivers
 * that finish compiling at the first launch (PoCL) do it here and not in
 * the measured prefill. */
static mcl_status warm_up(mcl_model *m)
{
    int32_t ids[8];
    int n = 8, vocab = mcl_model_vocab(m);
    for (int i = 0; i < n; i++) ids[i] = (int32_t)(i % vocab);
    const int32_t *toks[1] = {ids};
    mcl_state *s = NULL;
    float *logits = malloc((size_t)vocab * sizeof *logits);
    mcl_status st = logits ? mcl_state_create(m, &s) : mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    if (st == MCL_OK) st = mcl_prefill(m, &s, toks, &n, 1, logits);
    if (st == MCL_OK) st = mcl_decode(m, &s, ids, 1, logits);
    mcl_state_free(s);
    free(logits);
    return st;
}

int cli_open_model(const char *cmd, const char *device, const char *dir, bool quiet, mcl_runtime **rt,
                   mcl_model **model)
{
    mcl_runtime_options ro = {0};
    ro.device = device;
    *rt = NULL;
    *model = NULL;
    double compile_ms = 0.0;
    mcl_status st = cli_runtime_create(&ro, quiet, rt, &compile_ms);
    if (st != MCL_OK) return cli_runtime_error(cmd, st);
    if (*mcl_runtime_warnings(*rt) && !quiet) cli_eprintf("mambacl %s: warning: %s", cmd, mcl_runtime_warnings(*rt));
    mcl_model_options mo = {0};
    mo.progress = load_progress;
    mo.user = &quiet;
    st = mcl_model_load_ex(*rt, dir, &mo, model);
    if (st == MCL_OK && compile_ms > 0.0) {
        double t0 = mcl_now_ms();
        st = warm_up(*model);
        if (st == MCL_OK && !quiet)
            fprintf(stderr, "mambacl: first run on this device: kernels compiled in %.1f s, first launches %.1f s "
                            "(not counted in the figures below)\n", compile_ms / 1e3, (mcl_now_ms() - t0) / 1e3);
    }
    if (st != MCL_OK) {
        int rc = cli_runtime_error(cmd, st);
        cli_close_model(*rt, *model);
        *rt = NULL;
        *model = NULL;
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
    return CLI_EXIT_OK; /* neither: the command chooses by device */
}

mcl_status cli_model_source_load(mcl_runtime *rt, const cli_model_source *src, mcl_model **out)
{
    if (src->model_dir) return mcl_model_load(rt, src->model_dir, out);
    return mcl_model_create_random(rt, &mcl_preset_find(src->config)->cfg, src->dtype, 1234, out);
}

/* The device the runtime will open, read without creating it. */
bool cli_target_device(const char *sel, mcl_device_info *out)
{
    mcl_device_info *list = NULL;
    int n = 0, idx = -1;
    bool ok = mcl_device_enumerate(&list, NULL, NULL, &n, false) == MCL_OK &&
              mcl_device_select(list, n, sel, &idx) == MCL_OK;
    if (ok) *out = list[idx];
    free(list);
    mcl_error_clear();
    return ok;
}
