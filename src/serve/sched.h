/* The scheduler: one thread owns the model (the device); requests join and
 * leave its running batch between steps (continuous batching).
 *
 * Each step: admit queued requests while fewer than `parallel` sequences are
 * in flight (a state from the model's pool each), drop sequences whose
 * client has gone, run one batched mcl_decode of every sequence that has a
 * token to feed, then prefill at most `prefill_chunk` prompt tokens of the
 * sequences still reading their prompt (one batched mcl_prefill; a long
 * prompt continues in the next steps, so running streams keep flowing).
 * Sampling, stop strings and UTF-8 hold-back happen here too; the text that
 * is safe to send is handed to the request, whose HTTP thread waits for it.
 *
 * A request has two owners: the HTTP thread (until srv_req_release) and the
 * scheduler (until it finishes the sequence). */
#ifndef MCL_SERVE_SCHED_H
#define MCL_SERVE_SCHED_H

#include <stdbool.h>
#include <stddef.h>

#include "mambacl.h"
#include "serve/metrics.h"
#include "serve/request.h"

typedef struct srv_sched srv_sched;
typedef struct srv_req srv_req;

typedef struct srv_sched_opts {
    int parallel;       /* sequences in flight at most (>= 1) */
    int queue;          /* requests waiting for a slot at most (>= 0); more: 503 */
    int prefill_chunk;  /* prompt tokens prefilled per step, all sequences together (>= 1) */
} srv_sched_opts;

typedef enum srv_finish {
    SRV_RUNNING = 0,
    SRV_FINISH_STOP,      /* end-of-sequence token or a stop string */
    SRV_FINISH_LENGTH,    /* max_tokens reached */
    SRV_FINISH_CANCELLED, /* client gone, or the server shut down first */
    SRV_FINISH_ERROR,     /* the device failed; message in error */
} srv_finish;

/* What a request has produced since the last srv_req_take. */
typedef struct srv_update {
    char *text;              /* new text (valid UTF-8, malloc'ed; free()), NULL when none */
    size_t len;
    bool done;               /* the generation ended; finish says how */
    srv_finish finish;
    int prompt_tokens, completion_tokens;
    char error[SRV_ERR_LEN]; /* why, for CANCELLED and ERROR */
} srv_update;

/* Starts the scheduler thread on model m (which it then uses alone until
 * srv_sched_drain returns) and tokenizer tok. Errors: MCL_ERR_NOMEM,
 * MCL_ERR_INVALID_ARG for options out of range, MCL_ERR_INTERNAL when the
 * thread cannot start. */
mcl_status srv_sched_create(mcl_model *m, const mcl_tokenizer *tok, const srv_sched_opts *o, srv_metrics *met,
                            srv_sched **out);

/* Queues a generation. On success returns 0 with *out set and p's contents
 * moved into the request (p is left empty); otherwise returns 503 with a
 * reason in err (queue full, shutting down, out of memory) and p untouched. */
int srv_sched_submit(srv_sched *s, srv_params *p, srv_req **out, char *err);

/* The request's parameters (read-only, valid until srv_req_release). */
const srv_params *srv_req_params(const srv_req *r);

/* Waits up to timeout_ms for new text or the end. Returns true with *u
 * filled when there is either; false on timeout (*u cleared). */
bool srv_req_take(srv_req *r, int timeout_ms, srv_update *u);

/* The client has gone: the scheduler frees the sequence at its next step. */
void srv_req_cancel(srv_req *r);

/* The HTTP side's release of the request (after cancel or the end). */
void srv_req_release(srv_req *r);

/* Stops accepting requests, lets those in flight or queued finish for up to
 * grace_s seconds, cancels the rest, and joins the thread. */
void srv_sched_drain(srv_sched *s, double grace_s);

/* Frees the scheduler (after srv_sched_drain). Accepts NULL. */
void srv_sched_free(srv_sched *s);

#endif
