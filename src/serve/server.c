/* serve_run: the server's life (serve.h): device, model and tokenizer, the
 * scheduler thread, the HTTP daemon, then a wait for SIGINT/SIGTERM and a
 * bounded shutdown. */
#include "serve/serve.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "base/file.h"
#include "serve/http.h"
#include "serve/metrics.h"
#include "serve/sched.h"

/* Everything serve_run opens, released by server_close. */
typedef struct server {
    mcl_runtime *rt;
    mcl_model *m;
    mcl_tokenizer *tok;
    srv_metrics met;
    srv_sched *sched;
    srv_http *http;
    srv_app app;
    char model_name[256];
    char chat_refusal[512];
} server;

/* Why chat completions are refused for this model. mambacl applies no chat
 * template: templates are Jinja programs (tokenizer_config.json's
 * "chat_template"), and a template applied wrongly gives silently worse
 * answers, so the endpoint says why instead. */
static void chat_refusal(const char *dir, char *out, size_t cap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    char *text = NULL;
    size_t len = 0;
    bool has_template = false;
    if (mcl_read_text_file(path, 16u << 20, &text, &len) == MCL_OK) {
        cJSON *root = cJSON_ParseWithLength(text, len);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "chat_template");
        has_template = t && !cJSON_IsNull(t);
        cJSON_Delete(root);
        free(text);
    }
    mcl_error_clear();
    if (has_template)
        snprintf(out, cap, "this model's chat template (chat_template in tokenizer_config.json) is a Jinja "
                           "program, which mambacl does not evaluate; format the conversation yourself and "
                           "use /v1/completions");
    else
        snprintf(out, cap, "this model has no chat template (no chat_template in %s/tokenizer_config.json), "
                           "so a conversation cannot be formatted for it; use /v1/completions with a text prompt",
                 dir);
}

static void base_name(const char *dir, char *out, size_t cap)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && dir[b - 1] != '/') b--;
    snprintf(out, cap, "%.*s", (int)(n - b), dir + b);
}

static mcl_status server_open(server *sv, const serve_options *o)
{
    mcl_runtime_options ro = {0};
    ro.device = o->device;
    MCL_TRY(srv_http_check_host(o->host));
    MCL_TRY(mcl_runtime_create(&ro, &sv->rt));
    MCL_TRY(mcl_model_load(sv->rt, o->model_dir, &sv->m));
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer.json", o->model_dir);
    MCL_TRY(mcl_tokenizer_load(path, &sv->tok));
    if (o->model_name) snprintf(sv->model_name, sizeof sv->model_name, "%s", o->model_name);
    else base_name(o->model_dir, sv->model_name, sizeof sv->model_name);
    chat_refusal(o->model_dir, sv->chat_refusal, sizeof sv->chat_refusal);
    srv_sched_opts so = {o->parallel, o->queue, o->prefill_chunk};
    MCL_TRY(srv_sched_create(sv->m, sv->tok, &so, &sv->met, &sv->sched));
    sv->app = (srv_app){o, sv->sched, &sv->met, sv->tok, mcl_model_vocab(sv->m), sv->model_name,
                        (long long)time(NULL), sv->chat_refusal};
    return MCL_OK;
}

static void server_close(server *sv, double grace_s)
{
    if (sv->http) srv_http_quiesce(sv->http);
    if (sv->sched) srv_sched_drain(sv->sched, grace_s);
    srv_http_stop(sv->http, 2.0); /* every generation has ended: only the last bytes are left to send */
    srv_sched_free(sv->sched);
    mcl_tokenizer_free(sv->tok);
    mcl_model_free(sv->m);
    mcl_runtime_free(sv->rt);
}

mcl_status serve_run(const serve_options *o)
{
    /* Every thread started from here on inherits this mask: the signals
     * reach only the sigwait below. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    server sv;
    memset(&sv, 0, sizeof sv);
    srv_metrics_init(&sv.met);
    int port = 0;
    mcl_status st = server_open(&sv, o);
    if (st == MCL_OK) st = srv_http_start(&sv.app, &sv.http, &port);
    if (st == MCL_OK) {
        fprintf(stderr, "mambacl serve: listening on http://%s%s%s:%d (model %s, device %s, parallel %d)\n",
                strchr(o->host, ':') ? "[" : "", o->host, strchr(o->host, ':') ? "]" : "", port, sv.model_name,
                mcl_runtime_device(sv.rt)->name, o->parallel);
        sigdelset(&set, SIGPIPE);
        int sig = 0;
        sigwait(&set, &sig);
        fprintf(stderr, "mambacl serve: %s: finishing requests in flight (at most %.0f s)\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM", o->shutdown_grace_s);
    }
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", mcl_last_error());
    server_close(&sv, o->shutdown_grace_s);
    srv_metrics_destroy(&sv.met);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (st != MCL_OK) mcl_error_set(st, "%s", msg);
    else fprintf(stderr, "mambacl serve: stopped\n");
    return st;
}
