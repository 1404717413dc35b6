/* Response bodies shaped as the OpenAI API's: completion objects, streamed
 * Server-Sent Events chunks, error objects, and the small bodies of the
 * other routes. Each function returns a malloc'ed NUL-terminated string
 * (free()) or NULL when out of memory. Text arguments must be valid UTF-8
 * (the scheduler sanitizes generated text) and may hold NUL bytes. */
#ifndef MCL_SERVE_RESPOND_H
#define MCL_SERVE_RESPOND_H

#include <stddef.h>
#include <stdint.h>

#include "serve/sched.h"

/* What every completion object of one request repeats. */
typedef struct srv_resp_info {
    char id[48];        /* "cmpl-<hex>" */
    long long created;  /* Unix seconds */
    const char *model;  /* the served model's name */
} srv_resp_info;

/* "stop", "length", or NULL while running (JSON null). */
const char *srv_finish_name(srv_finish f);

/* {"error": {"message", "type", "param": null, "code": null}}; the type
 * follows the status (invalid_request_error, authentication_error, ...). */
char *srv_json_error(int status, const char *message);

/* A whole text_completion object with its usage. */
char *srv_json_completion(const srv_resp_info *ri, const char *text, size_t len, srv_finish finish,
                          int prompt_tokens, int completion_tokens);

/* One SSE event "data: {chunk}\n\n" carrying text and, when finish is not
 * SRV_RUNNING, the finish reason. */
char *srv_sse_chunk(const srv_resp_info *ri, const char *text, size_t len, srv_finish finish);

/* The usage event of stream_options.include_usage (choices: []). */
char *srv_sse_usage(const srv_resp_info *ri, int prompt_tokens, int completion_tokens);

/* An error event "data: {error}\n\n" followed by "data: [DONE]\n\n". */
char *srv_sse_error(int status, const char *message);

/* GET /v1/models. */
char *srv_json_models(const char *model, long long created);

/* POST /tokenize: {"tokens": [...]}. */
char *srv_json_tokens(const int32_t *ids, size_t n);

/* POST /detokenize: {"content": TEXT}. */
char *srv_json_content(const char *text, size_t len);

#endif
