/* Prometheus text of the server's counters (metrics.h). */
#include "serve/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int codes[SRV_METRIC_CODES] = {200, 400, 401, 404, 405, 413, 500, 503, 431, 408};

void srv_metrics_init(srv_metrics *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
}

void srv_metrics_destroy(srv_metrics *m)
{
    pthread_mutex_destroy(&m->mu);
}

void srv_metrics_response(srv_metrics *m, int status)
{
    int i = 0;
    while (i < SRV_METRIC_CODES && codes[i] != status) i++;
    pthread_mutex_lock(&m->mu);
    m->responses[i]++;
    pthread_mutex_unlock(&m->mu);
}

typedef struct text {
    char *s;
    size_t len, cap;
    int failed;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    for (int attempt = 0; attempt < 2 && !t->failed; attempt++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) break;
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap * 2 + (size_t)n + 1;
        char *s = realloc(t->s, cap);
        if (!s) break;
        t->s = s;
        t->cap = cap;
    }
    t->failed = 1;
}

static void metric(text *t, const char *name, const char *type, const char *help, double v)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

char *srv_metrics_render(srv_metrics *m)
{
    text t = {malloc(4096), 0, 4096, 0};
    if (!t.s) return NULL;
    pthread_mutex_lock(&m->mu);
    srv_metrics c = *m;
    pthread_mutex_unlock(&m->mu);
    put(&t, "# HELP mambacl_http_responses_total HTTP responses by status code.\n"
            "# TYPE mambacl_http_responses_total counter\n");
    for (int i = 0; i < SRV_METRIC_CODES; i++)
        put(&t, "mambacl_http_responses_total{code=\"%d\"} %llu\n", codes[i],
            (unsigned long long)c.responses[i]);
    put(&t, "mambacl_http_responses_total{code=\"other\"} %llu\n",
        (unsigned long long)c.responses[SRV_METRIC_CODES]);
    metric(&t, "mambacl_requests_completed_total", "counter", "Generations that ended (stop or length).",
           (double)c.requests_completed);
    metric(&t, "mambacl_requests_cancelled_total", "counter",
           "Generations cancelled (client disconnected or shutdown).", (double)c.requests_cancelled);
    metric(&t, "mambacl_requests_rejected_total", "counter", "Requests refused because the queue was full.",
           (double)c.requests_rejected);
    metric(&t, "mambacl_prompt_tokens_total", "counter", "Prompt tokens prefilled.", (double)c.prompt_tokens);
    metric(&t, "mambacl_generation_tokens_total", "counter", "Tokens generated.", (double)c.generated_tokens);
    metric(&t, "mambacl_decode_steps_total", "counter", "Batched decode steps.", (double)c.decode_steps);
    metric(&t, "mambacl_decode_seconds_total", "counter", "Wall time in decode steps.", c.decode_seconds);
    metric(&t, "mambacl_prefill_seconds_total", "counter", "Wall time in prefill chunks.", c.prefill_seconds);
    metric(&t, "mambacl_queue_depth", "gauge", "Requests waiting for a sequence slot.", c.queue_depth);
    metric(&t, "mambacl_sequences_active", "gauge", "Sequences in flight (prefill or decode).", c.active);
    metric(&t, "mambacl_batch_size", "gauge", "Sequences in the last decode step.", c.batch_size);
    metric(&t, "mambacl_decode_tokens_per_second", "gauge",
           "Decode tokens per second over the last second of decode steps.", c.decode_tps);
    if (t.failed) {
        free(t.s);
        return NULL;
    }
    return t.s;
}
