/* The endpoints of the server (http.h): completions (whole or streamed as
 * Server-Sent Events), the chat refusal, tokenize/detokenize, models,
 * health and metrics. */
#include "serve/http.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "generate/textstream.h"
#include "serve/respond.h"

/* How often a waiting connection thread looks for a client that has gone. */
#define SRV_POLL_MS 100

static int conn_fd(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

static void make_info(const srv_app *app, srv_resp_info *ri)
{
    static atomic_ullong counter;
    unsigned long long n = atomic_fetch_add(&counter, 1) + 1;
    ri->created = (long long)time(NULL);
    ri->model = app->model_name;
    snprintf(ri->id, sizeof ri->id, "cmpl-%llx%06llx", (unsigned long long)app->started, n);
}

/* The status and message of a generation that did not end normally. */
static int failure_status(const srv_update *u)
{
    return u->finish == SRV_FINISH_ERROR ? 500 : 503;
}

/* ---- whole responses ---------------------------------------------------------- */

static bool text_add(char **text, size_t *len, const srv_update *u)
{
    if (!u->len) return true;
    char *t = realloc(*text, *len + u->len + 1);
    if (!t) return false;
    memcpy(t + *len, u->text, u->len);
    *len += u->len;
    t[*len] = '\0';
    *text = t;
    return true;
}

static enum MHD_Result wait_whole(srv_app *app, struct MHD_Connection *c, srv_req *r, const srv_resp_info *ri)
{
    int fd = conn_fd(c);
    char *text = NULL;
    size_t len = 0;
    srv_update u;
    for (;;) {
        bool got = srv_req_take(r, SRV_POLL_MS, &u);
        bool ok = !got || text_add(&text, &len, &u);
        free(u.text);
        if (!ok) srv_req_cancel(r);
        if (got && u.done) break;
        if (srv_peer_closed(fd)) { /* nobody to answer: free the sequence, drop the connection */
            srv_req_cancel(r);
            srv_req_release(r);
            free(text);
            return MHD_NO;
        }
    }
    srv_req_release(r);
    enum MHD_Result res;
    if (u.finish == SRV_FINISH_STOP || u.finish == SRV_FINISH_LENGTH)
        res = srv_reply_json(app, c, 200,
                             srv_json_completion(ri, text, len, u.finish, u.prompt_tokens, u.completion_tokens));
    else res = srv_reply_error(app, c, failure_status(&u), u.error[0] ? u.error : "the generation failed");
    free(text);
    return res;
}

/* ---- streamed responses ---------------------------------------------------------- */

typedef struct stream_ctx {
    srv_req *r;
    srv_resp_info ri;
    bool include_usage;
    int fd;
    char *buf;      /* SSE bytes not yet handed to MHD */
    size_t len, off;
    bool ended;     /* buf holds the last events */
} stream_ctx;

static bool buf_cat(stream_ctx *sc, char *piece)
{
    if (!piece) return false;
    size_t n = strlen(piece);
    char *b = realloc(sc->buf, sc->len + n + 1);
    if (!b) return free(piece), false;
    memcpy(b + sc->len, piece, n + 1);
    sc->buf = b;
    sc->len += n;
    free(piece);
    return true;
}

/* The SSE events of update u. */
static bool stream_events(stream_ctx *sc, const srv_update *u)
{
    bool ok = true;
    if (u->len) ok = buf_cat(sc, srv_sse_chunk(&sc->ri, u->text, u->len, SRV_RUNNING));
    if (!u->done || !ok) return ok;
    sc->ended = true;
    if (u->finish != SRV_FINISH_STOP && u->finish != SRV_FINISH_LENGTH)
        return buf_cat(sc, srv_sse_error(failure_status(u), u->error[0] ? u->error : "the generation failed"));
    ok = buf_cat(sc, srv_sse_chunk(&sc->ri, "", 0, u->finish));
    if (ok && sc->include_usage) ok = buf_cat(sc, srv_sse_usage(&sc->ri, u->prompt_tokens, u->completion_tokens));
    return ok && buf_cat(sc, strdup("data: [DONE]\n\n"));
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    stream_ctx *sc = cls;
    while (sc->off == sc->len) {
        if (sc->ended) return MHD_CONTENT_READER_END_OF_STREAM;
        free(sc->buf);
        sc->buf = NULL;
        sc->len = sc->off = 0;
        srv_update u;
        if (!srv_req_take(sc->r, SRV_POLL_MS, &u)) {
            if (!srv_peer_closed(sc->fd)) continue;
            srv_req_cancel(sc->r);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        bool ok = stream_events(sc, &u);
        free(u.text);
        if (!ok) {
            srv_req_cancel(sc->r);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
    size_t n = sc->len - sc->off < max ? sc->len - sc->off : max;
    memcpy(out, sc->buf + sc->off, n);
    sc->off += n;
    return (ssize_t)n;
}

/* Called when the response is done with, sent or not: a stream whose client
 * went away is cancelled here at the latest. */
static void stream_free(void *cls)
{
    stream_ctx *sc = cls;
    srv_req_cancel(sc->r);
    srv_req_release(sc->r);
    free(sc->buf);
    free(sc);
}

static enum MHD_Result start_stream(srv_app *app, struct MHD_Connection *c, srv_req *r, const srv_resp_info *ri)
{
    stream_ctx *sc = calloc(1, sizeof *sc);
    struct MHD_Response *resp = NULL;
    if (sc) {
        sc->r = r;
        sc->ri = *ri;
        sc->include_usage = srv_req_params(r)->include_usage;
        sc->fd = conn_fd(c);
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, sc, stream_free);
    }
    if (!resp) {
        free(sc);
        srv_req_cancel(r);
        srv_req_release(r);
        return srv_reply_json(app, c, 500, NULL);
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    enum MHD_Result res = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    srv_metrics_response(app->met, 200);
    return res;
}

/* ---- routes ------------------------------------------------------------------------ */

enum MHD_Result srv_route_completions(srv_app *app, struct MHD_Connection *c, const char *body, size_t len)
{
    srv_params p;
    char err[SRV_ERR_LEN];
    if (!srv_parse_completion(body, len, app->tok, app->vocab, &app->o->limits, &p, err))
        return srv_reply_error(app, c, 400, err);
    bool stream = p.stream;
    srv_req *r = NULL;
    int code = srv_sched_submit(app->sched, &p, &r, err);
    if (code) {
        srv_params_free(&p);
        return srv_reply_error(app, c, code, err);
    }
    srv_resp_info ri;
    make_info(app, &ri);
    return stream ? start_stream(app, c, r, &ri) : wait_whole(app, c, r, &ri);
}

enum MHD_Result srv_route_chat(srv_app *app, struct MHD_Connection *c, const char *body, size_t len)
{
    (void)body;
    (void)len;
    return srv_reply_error(app, c, 400, app->chat_refusal);
}

enum MHD_Result srv_route_tokenize(srv_app *app, struct MHD_Connection *c, const char *body, size_t len)
{
    int32_t *ids = NULL;
    size_t n = 0;
    char err[SRV_ERR_LEN];
    if (!srv_parse_tokenize(body, len, app->tok, &ids, &n, err)) return srv_reply_error(app, c, 400, err);
    char *out = srv_json_tokens(ids, n);
    free(ids);
    return srv_reply_json(app, c, 200, out);
}

enum MHD_Result srv_route_detokenize(srv_app *app, struct MHD_Connection *c, const char *body, size_t len)
{
    int32_t *ids = NULL;
    size_t n = 0, tl = 0;
    char err[SRV_ERR_LEN], *text = NULL;
    if (!srv_parse_detokenize(body, len, app->vocab, &ids, &n, err)) return srv_reply_error(app, c, 400, err);
    mcl_status st = mcl_tokenizer_decode(app->tok, ids, n, &text, &tl);
    free(ids);
    if (st != MCL_OK) return srv_reply_error(app, c, 400, mcl_last_error());
    char *clean = malloc(3 * tl + 1);
    char *out = clean ? srv_json_content(clean, mcl_utf8_sanitize(text, tl, clean)) : NULL;
    free(clean);
    free(text);
    return srv_reply_json(app, c, 200, out);
}

enum MHD_Result srv_route_models(srv_app *app, struct MHD_Connection *c, const char *body, size_t len)
{
    (void)body;
    (void)len;
    return srv_reply_json(app, c, 200, srv_json_models(app->model_name, app->started));
}

enum MHD_Result srv_route_health(srv_app *app, struct MHD_Connection *c, const char *body, size_t len)
{
    (void)body;
    (void)len;
    return srv_reply_json(app, c, 200, strdup("{\"status\":\"ok\"}"));
}

enum MHD_Result srv_route_metrics(srv_app *app, struct MHD_Connection *c, const char *body, size_t len)
{
    (void)body;
    (void)len;
    char *text = srv_metrics_render(app->met);
    if (!text) return srv_reply_json(app, c, 500, NULL);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) return free(text), MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
    enum MHD_Result res = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    srv_metrics_response(app->met, 200);
    return res;
}
