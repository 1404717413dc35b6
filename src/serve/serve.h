/* `mambacl serve`: an OpenAI-compatible HTTP server with continuous
 * batching (docs/architecture.md, module serve). The serve module is a
 * static library beside the CLI: it uses the public API (mambacl.h), the
 * generate module's text helpers, libmicrohttpd and cJSON. */
#ifndef MCL_SERVE_H
#define MCL_SERVE_H

#include <stdbool.h>
#include <stddef.h>

#include "mambacl.h"
#include "serve/request.h"

typedef struct serve_options {
    const char *model_dir;     /* the checkpoint directory (with tokenizer.json) */
    const char *device;        /* device selector; NULL = default */
    const char *host;          /* address to bind: an IPv4 or IPv6 literal, or "localhost" */
    int port;                  /* 0 = any free port (the one taken is printed) */
    const char *api_key;       /* when set, "Authorization: Bearer KEY" is required */
    const char *model_name;    /* served model id; NULL = the directory's name */
    int parallel;              /* sequences in flight at most */
    int queue;                 /* requests waiting for a slot at most */
    int prefill_chunk;         /* prompt tokens prefilled per scheduler step */
    srv_limits limits;         /* prompt and max_tokens limits */
    size_t max_body;           /* request body bytes at most (413 above) */
    int max_connections;       /* open connections at most */
    double shutdown_grace_s;   /* on SIGINT/SIGTERM: time left to requests in flight */
    bool verbose;              /* one log line per request on stderr */
} serve_options;

/* Loads the model, serves until SIGINT or SIGTERM, then shuts down within
 * shutdown_grace_s plus a moment. Prints "listening on http://HOST:PORT"
 * on stderr once ready. Errors (the message says what): those of device,
 * model and tokenizer loading, MCL_ERR_IO when the address cannot be bound,
 * MCL_ERR_INVALID_ARG for a bad host. Returns MCL_OK after a clean stop. */
mcl_status serve_run(const serve_options *o);

#endif
