/* The HTTP layer of the server (libmicrohttpd, one thread per connection)
 * and the routes it dispatches to. http.c owns connections, bodies, the
 * API key, methods and response plumbing; routes.c answers each endpoint. */
#ifndef MCL_SERVE_HTTP_H
#define MCL_SERVE_HTTP_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "serve/metrics.h"
#include "serve/sched.h"
#include "serve/serve.h"

/* What the routes need, shared read-only by every connection thread. */
typedef struct srv_app {
    const serve_options *o;
    srv_sched *sched;
    srv_metrics *met;
    const mcl_tokenizer *tok;
    int vocab;
    const char *model_name;
    long long started;         /* Unix seconds */
    const char *chat_refusal;  /* why /v1/chat/completions answers 400 */
} srv_app;

typedef struct srv_http srv_http;

/* Checks that host is an address srv_http_start can bind (before any work).
 * MCL_ERR_INVALID_ARG otherwise. */
mcl_status srv_http_check_host(const char *host);

/* Binds o->host:o->port and starts serving app. *port receives the bound
 * port. Errors: MCL_ERR_INVALID_ARG (bad host), MCL_ERR_IO (cannot bind). */
mcl_status srv_http_start(srv_app *app, srv_http **out, int *port);

/* Stops accepting connections (those open go on). */
void srv_http_quiesce(srv_http *h);

/* Waits up to wait_s seconds for the responses being sent to finish, then
 * closes every connection and frees h. Accepts NULL. */
void srv_http_stop(srv_http *h, double wait_s);

/* ---- for routes.c ---------------------------------------------------------- */

/* Queues a JSON body (taken: freed here) with `status`; NULL body = 500. */
enum MHD_Result srv_reply_json(srv_app *app, struct MHD_Connection *c, int status, char *body);

/* Queues the JSON error {"error": {...}} with `status`. */
enum MHD_Result srv_reply_error(srv_app *app, struct MHD_Connection *c, int status, const char *message);

/* True when the client of connection fd has closed its side. */
bool srv_peer_closed(int fd);

/* The routes: each answers a complete request (body read, key checked). */
enum MHD_Result srv_route_completions(srv_app *app, struct MHD_Connection *c, const char *body, size_t len);
enum MHD_Result srv_route_chat(srv_app *app, struct MHD_Connection *c, const char *body, size_t len);
enum MHD_Result srv_route_tokenize(srv_app *app, struct MHD_Connection *c, const char *body, size_t len);
enum MHD_Result srv_route_detokenize(srv_app *app, struct MHD_Connection *c, const char *body, size_t len);
enum MHD_Result srv_route_models(srv_app *app, struct MHD_Connection *c, const char *body, size_t len);
enum MHD_Result srv_route_health(srv_app *app, struct MHD_Connection *c, const char *body, size_t len);
enum MHD_Result srv_route_metrics(srv_app *app, struct MHD_Connection *c, const char *body, size_t len);

#endif
