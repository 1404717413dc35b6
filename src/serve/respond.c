/* OpenAI-shaped JSON and SSE bodies (respond.h). Built by hand with one
 * string escaper because generated text may hold NUL bytes, which cJSON's
 * strings cannot. */
#include "serve/respond.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sbuf {
    char *s;
    size_t len, cap;
    bool failed;
} sbuf;

static bool sb_reserve(sbuf *b, size_t more)
{
    if (b->failed) return false;
    if (b->len + more + 1 <= b->cap) return true;
    size_t cap = b->cap * 2 + more + 256;
    char *s = realloc(b->s, cap);
    if (!s) return !(b->failed = true);
    b->s = s;
    b->cap = cap;
    return true;
}

static void sb_put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_put(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !sb_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* A JSON string literal of text[0..len) (valid UTF-8), quotes included. */
static void sb_str(sbuf *b, const char *text, size_t len)
{
    if (!sb_reserve(b, 6 * len + 2)) return;
    char *o = b->s + b->len;
    *o++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c == '\n') *o++ = '\\', *o++ = 'n';
        else if (c == '\r') *o++ = '\\', *o++ = 'r';
        else if (c == '\t') *o++ = '\\', *o++ = 't';
        else if (c < 0x20) o += sprintf(o, "\\u%04x", c);
        else *o++ = (char)c;
    }
    *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->s);
}

static char *sb_done(sbuf *b)
{
    if (b->failed || !sb_reserve(b, 0)) {
        free(b->s);
        return NULL;
    }
    b->s[b->len] = '\0';
    return b->s;
}

const char *srv_finish_name(srv_finish f)
{
    return f == SRV_FINISH_STOP ? "stop" : f == SRV_FINISH_LENGTH ? "length" : NULL;
}

static const char *error_type(int status)
{
    switch (status) {
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 503: return "server_busy_error";
    case 500: return "server_error";
    default: return "invalid_request_error";
    }
}

static void sb_error(sbuf *b, int status, const char *message)
{
    sb_put(b, "{\"error\":{\"message\":");
    sb_str(b, message, strlen(message));
    sb_put(b, ",\"type\":\"%s\",\"param\":null,\"code\":null}}", error_type(status));
}

char *srv_json_error(int status, const char *message)
{
    sbuf b = {0};
    sb_error(&b, status, message);
    return sb_done(&b);
}

static void sb_head(sbuf *b, const srv_resp_info *ri)
{
    sb_put(b, "{\"id\":\"%s\",\"object\":\"text_completion\",\"created\":%lld,\"model\":", ri->id, ri->created);
    sb_str(b, ri->model, strlen(ri->model));
}

static void sb_choice(sbuf *b, const char *text, size_t len, srv_finish finish)
{
    const char *fr = srv_finish_name(finish);
    sb_put(b, ",\"choices\":[{\"text\":");
    sb_str(b, text ? text : "", text ? len : 0);
    if (fr) sb_put(b, ",\"index\":0,\"logprobs\":null,\"finish_reason\":\"%s\"}]", fr);
    else sb_put(b, ",\"index\":0,\"logprobs\":null,\"finish_reason\":null}]");
}

static void sb_usage(sbuf *b, int prompt_tokens, int completion_tokens)
{
    sb_put(b, ",\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,\"total_tokens\":%d}", prompt_tokens,
           completion_tokens, prompt_tokens + completion_tokens);
}

char *srv_json_completion(const srv_resp_info *ri, const char *text, size_t len, srv_finish finish,
                          int prompt_tokens, int completion_tokens)
{
    sbuf b = {0};
    sb_head(&b, ri);
    sb_choice(&b, text, len, finish);
    sb_usage(&b, prompt_tokens, completion_tokens);
    sb_put(&b, "}");
    return sb_done(&b);
}

char *srv_sse_chunk(const srv_resp_info *ri, const char *text, size_t len, srv_finish finish)
{
    sbuf b = {0};
    sb_put(&b, "data: ");
    sb_head(&b, ri);
    sb_choice(&b, text, len, finish);
    sb_put(&b, "}\n\n");
    return sb_done(&b);
}

char *srv_sse_usage(const srv_resp_info *ri, int prompt_tokens, int completion_tokens)
{
    sbuf b = {0};
    sb_put(&b, "data: ");
    sb_head(&b, ri);
    sb_put(&b, ",\"choices\":[]");
    sb_usage(&b, prompt_tokens, completion_tokens);
    sb_put(&b, "}\n\n");
    return sb_done(&b);
}

char *srv_sse_error(int status, const char *message)
{
    sbuf b = {0};
    sb_put(&b, "data: ");
    sb_error(&b, status, message);
    sb_put(&b, "\n\ndata: [DONE]\n\n");
    return sb_done(&b);
}

char *srv_json_models(const char *model, long long created)
{
    sbuf b = {0};
    sb_put(&b, "{\"object\":\"list\",\"data\":[{\"id\":");
    sb_str(&b, model, strlen(model));
    sb_put(&b, ",\"object\":\"model\",\"created\":%lld,\"owned_by\":\"mambacl\"}]}", created);
    return sb_done(&b);
}

char *srv_json_tokens(const int32_t *ids, size_t n)
{
    sbuf b = {0};
    sb_put(&b, "{\"tokens\":[");
    for (size_t i = 0; i < n; i++) sb_put(&b, i ? ",%d" : "%d", (int)ids[i]);
    sb_put(&b, "]}");
    return sb_done(&b);
}

char *srv_json_content(const char *text, size_t len)
{
    sbuf b = {0};
    sb_put(&b, "{\"content\":");
    sb_str(&b, text, len);
    sb_put(&b, "}");
    return sb_done(&b);
}
