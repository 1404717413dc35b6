/* libmicrohttpd plumbing of the server (http.h).
 *
 * Mode: MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION (with
 * poll(), so descriptors above FD_SETSIZE work): each connection has its
 * own thread, which may block, so a non-streamed completion waits for its
 * text inside the access handler and a streamed one inside the content
 * reader callback (MHD_create_response_from_callback), both with short
 * timed waits that also notice a client that has gone. MHD_USE_ITC makes
 * MHD_quiesce_daemon work in this mode. */
#include "serve/http.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <time.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/error.h"
#include "serve/respond.h"

struct srv_http {
    struct MHD_Daemon *d;
    srv_app *app;
};

/* Requests between their first call and their completion (response sent
 * or connection gone), for a shutdown that lets the last responses out. */
static atomic_int requests_open;

typedef enum MHD_Result (*route_fn)(srv_app *, struct MHD_Connection *, const char *, size_t);

static const struct route {
    const char *path, *method;
    route_fn fn;
} routes[] = {
    {"/v1/completions", "POST", srv_route_completions},
    {"/v1/chat/completions", "POST", srv_route_chat},
    {"/tokenize", "POST", srv_route_tokenize},
    {"/detokenize", "POST", srv_route_detokenize},
    {"/v1/models", "GET", srv_route_models},
    {"/health", "GET", srv_route_health},
    {"/metrics", "GET", srv_route_metrics},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

/* Per request: its route and body as it arrives. */
typedef struct conn_req {
    const struct route *route;
    char *body;
    size_t len, cap;
    bool too_big;
} conn_req;

bool srv_peer_closed(int fd)
{
    char c;
    if (fd < 0) return false;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0;
}

static enum MHD_Result queue(srv_app *app, struct MHD_Connection *c, int status, struct MHD_Response *r,
                             const char *type)
{
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    srv_metrics_response(app->met, status);
    return ok;
}

enum MHD_Result srv_reply_json(srv_app *app, struct MHD_Connection *c, int status, char *body)
{
    if (!body) {
        static char oom[] = "{\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\",\"param\":null,"
                            "\"code\":null}}";
        return queue(app, c, 500, MHD_create_response_from_buffer(strlen(oom), oom, MHD_RESPMEM_PERSISTENT),
                     "application/json");
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) free(body);
    return queue(app, c, status, r, "application/json");
}

enum MHD_Result srv_reply_error(srv_app *app, struct MHD_Connection *c, int status, const char *message)
{
    return srv_reply_json(app, c, status, srv_json_error(status, message));
}

/* 405 with the Allow header. */
static enum MHD_Result reply_method(srv_app *app, struct MHD_Connection *c, const struct route *rt)
{
    char msg[128];
    snprintf(msg, sizeof msg, "%s takes %s only", rt->path, rt->method);
    char *body = srv_json_error(405, msg);
    if (!body) return srv_reply_json(app, c, 500, NULL);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) return free(body), MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, strcmp(rt->method, "GET") ? rt->method : "GET, HEAD");
    return queue(app, c, 405, r, "application/json");
}

static enum MHD_Result reply_unauthorized(srv_app *app, struct MHD_Connection *c)
{
    char *body = srv_json_error(401, "missing or wrong API key: send 'Authorization: Bearer KEY'");
    if (!body) return srv_reply_json(app, c, 500, NULL);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) return free(body), MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    return queue(app, c, 401, r, "application/json");
}

/* Constant-time comparison of the Authorization header with "Bearer KEY". */
static bool key_ok(const srv_app *app, struct MHD_Connection *c)
{
    const char *key = app->o->api_key;
    if (!key || !*key) return true;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncmp(h, "Bearer ", 7) != 0) return false;
    h += 7;
    size_t hl = strlen(h), kl = strlen(key);
    unsigned diff = (unsigned)(hl ^ kl);
    for (size_t i = 0; i < kl; i++) diff |= (unsigned char)key[i] ^ (unsigned char)(i < hl ? h[i] : 0);
    return diff == 0;
}

static const struct route *find_route(const char *url, const char *method, bool *wrong_method)
{
    *wrong_method = false;
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (strcmp(url, routes[i].path) != 0) continue;
        bool head_ok = strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0;
        if (strcmp(method, routes[i].method) == 0 || head_ok) return &routes[i];
        *wrong_method = true;
        return &routes[i];
    }
    return NULL;
}

/* The first call of a request: route, method, key and declared size are
 * checked before any body is read. Returns MHD_YES with *cr set to read
 * on, or the result of an early reply (then *cr stays NULL). */
static enum MHD_Result first_call(srv_app *app, struct MHD_Connection *c, const char *url, const char *method,
                                  conn_req **cr)
{
    bool wrong;
    const struct route *rt = find_route(url, method, &wrong);
    if (!rt) {
        char msg[160];
        snprintf(msg, sizeof msg, "no route %.100s", url);
        return srv_reply_error(app, c, 404, msg);
    }
    if (wrong) return reply_method(app, c, rt);
    if (strcmp(url, "/health") != 0 && !key_ok(app, c)) return reply_unauthorized(app, c);
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > app->o->max_body) {
        char msg[128];
        snprintf(msg, sizeof msg, "the request body is larger than this server's limit of %zu bytes",
                 app->o->max_body);
        return srv_reply_error(app, c, 413, msg);
    }
    *cr = calloc(1, sizeof **cr);
    if (!*cr) return srv_reply_json(app, c, 500, NULL);
    (*cr)->route = rt;
    atomic_fetch_add(&requests_open, 1);
    return MHD_YES;
}

/* Appends an upload piece; past the limit the rest is read and dropped. */
static void add_body(conn_req *cr, size_t max, const char *data, size_t n)
{
    if (cr->too_big || cr->len + n > max) {
        cr->too_big = true;
        return;
    }
    if (cr->len + n + 1 > cr->cap) {
        size_t cap = cr->cap * 2 + n + 1024;
        if (cap > max + 1) cap = max + 1;
        char *b = realloc(cr->body, cap);
        if (!b) {
            cr->too_big = true;
            return;
        }
        cr->body = b;
        cr->cap = cap;
    }
    memcpy(cr->body + cr->len, data, n);
    cr->len += n;
    cr->body[cr->len] = '\0';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    srv_app *app = cls;
    conn_req *cr = *con_cls;
    if (!cr) {
        enum MHD_Result res = first_call(app, c, url, method, &cr);
        *con_cls = cr;
        return res;
    }
    if (*upload_size) {
        add_body(cr, app->o->max_body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (cr->too_big) {
        char msg[128];
        snprintf(msg, sizeof msg, "the request body is larger than this server's limit of %zu bytes",
                 app->o->max_body);
        return srv_reply_error(app, c, 413, msg);
    }
    return cr->route->fn(app, c, cr->body ? cr->body : "", cr->len);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    (void)why;
    conn_req *cr = *con_cls;
    if (cr) {
        free(cr->body);
        atomic_fetch_sub(&requests_open, 1);
    }
    free(cr);
    *con_cls = NULL;
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
    const srv_app *app = cls;
    if (!app->o->verbose) return;
    fprintf(stderr, "mambacl serve: http: ");
    vfprintf(stderr, fmt, ap);
}

/* The socket address of host:port. */
static mcl_status bind_addr(const char *host, int port, struct sockaddr_storage *sa, bool *v6)
{
    memset(sa, 0, sizeof *sa);
    struct sockaddr_in *a4 = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;
    if (strcmp(host, "localhost") == 0) host = "127.0.0.1";
    *v6 = false;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        return MCL_OK;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *v6 = true;
        return MCL_OK;
    }
    return mcl_error_set(MCL_ERR_INVALID_ARG, "--host wants an IPv4 or IPv6 address or 'localhost', got '%s'", host);
}

mcl_status srv_http_check_host(const char *host)
{
    struct sockaddr_storage sa;
    bool v6;
    return bind_addr(host, 0, &sa, &v6);
}

mcl_status srv_http_start(srv_app *app, srv_http **out, int *port)
{
    struct sockaddr_storage sa;
    bool v6;
    MCL_TRY(bind_addr(app->o->host, app->o->port, &sa, &v6));
    srv_http *h = calloc(1, sizeof *h);
    if (!h) return mcl_error_set(MCL_ERR_NOMEM, "http: out of memory");
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    h->app = app;
    h->d = MHD_start_daemon(flags, (uint16_t)app->o->port, NULL, NULL, on_request, app,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)app->o->max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, app,
                            MHD_OPTION_EXTERNAL_LOGGER, on_log, app,
                            MHD_OPTION_END);
    if (!h->d) {
        free(h);
        return mcl_error_set(MCL_ERR_IO, "cannot listen on %s port %d (in use, or not an address of this machine)",
                             app->o->host, app->o->port);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    *port = di ? di->port : app->o->port;
    *out = h;
    return MCL_OK;
}

void srv_http_quiesce(srv_http *h)
{
    MHD_socket s = MHD_quiesce_daemon(h->d);
    if (s != MHD_INVALID_SOCKET) close(s);
}

void srv_http_stop(srv_http *h, double wait_s)
{
    if (!h) return;
    struct timespec tick = {0, 10 * 1000000L};
    for (int i = 0; i < (int)(wait_s * 100) && atomic_load(&requests_open) > 0; i++) nanosleep(&tick, NULL);
    MHD_stop_daemon(h->d);
    free(h);
}
