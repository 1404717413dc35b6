/* Server counters and gauges, exposed at GET /metrics in the Prometheus text
 * format (version 0.0.4). Updated from the HTTP threads and the scheduler
 * thread; every function takes the struct's own lock. */
#ifndef MCL_SERVE_METRICS_H
#define MCL_SERVE_METRICS_H

#include <pthread.h>
#include <stdint.h>
#include <stddef.h>

/* HTTP status codes counted one by one; others go to "other". */
#define SRV_METRIC_CODES 10

typedef struct srv_metrics {
    pthread_mutex_t mu;
    uint64_t responses[SRV_METRIC_CODES + 1]; /* by srv_metric_codes[], last = other */
    uint64_t requests_completed;   /* generations that ended (stop/length) */
    uint64_t requests_cancelled;   /* client gone or server shutting down */
    uint64_t requests_rejected;    /* queue full (503) */
    uint64_t prompt_tokens;        /* prefilled */
    uint64_t generated_tokens;     /* sampled and sent */
    uint64_t decode_steps;         /* mcl_decode calls */
    double decode_seconds;         /* wall time inside mcl_decode */
    double prefill_seconds;        /* wall time inside mcl_prefill */
    int queue_depth;               /* waiting for a slot */
    int active;                    /* sequences in flight */
    int batch_size;                /* sequences in the last decode step */
    double decode_tps;             /* tokens/s of the last second of decode steps */
} srv_metrics;

void srv_metrics_init(srv_metrics *m);
void srv_metrics_destroy(srv_metrics *m);

/* Counts one HTTP response with `status`. */
void srv_metrics_response(srv_metrics *m, int status);

/* Renders every metric as Prometheus text into a malloc'ed string (free()),
 * NULL when out of memory. */
char *srv_metrics_render(srv_metrics *m);

#endif
