/* Internal error helpers: set the per-thread message and return the code.
 *
 *   if (err != CL_SUCCESS)
 *       return MCL_CL_FAIL(err, "clCreateBuffer(weights, %zu bytes)", n);
 */
#ifndef MCL_ERROR_H
#define MCL_ERROR_H

#include <CL/cl.h>
#include "mambacl.h"

#if defined(__GNUC__)
#define MCL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MCL_PRINTF(a, b)
#endif

/* Sets the thread's message to the formatted text and returns `status`. */
mcl_status mcl_error_set(mcl_status status, const char *fmt, ...) MCL_PRINTF(2, 3);

/* Sets "WHAT failed: CL_NAME (code)" and returns MCL_ERR_OPENCL, or
 * MCL_ERR_DEVICE_MEM for the out-of-memory codes. */
mcl_status mcl_error_cl(cl_int err, const char *fmt, ...) MCL_PRINTF(2, 3);
#define MCL_CL_FAIL(err, ...) mcl_error_cl((err), __VA_ARGS__)

/* Prefixes the current message with "context: " (keeps the status). */
mcl_status mcl_error_wrap(mcl_status status, const char *fmt, ...) MCL_PRINTF(2, 3);

/* Clears the thread's message. */
void mcl_error_clear(void);

/* The name of an OpenCL error code ("CL_OUT_OF_RESOURCES"), or "CL_ERROR_<n>". */
const char *mcl_cl_error_name(cl_int err);

/* Checks a cl call: on failure returns from the enclosing function. */
#define MCL_CL_CHECK(call, ...)                                   \
    do {                                                          \
        cl_int mcl_err_ = (call);                                 \
        if (mcl_err_ != CL_SUCCESS) return mcl_error_cl(mcl_err_, __VA_ARGS__); \
    } while (0)

/* Checks an internal invariant: when `cond` is false that is a bug in mambacl,
 * never the caller's mistake, so the enclosing function returns
 * MCL_ERR_INTERNAL with "internal error at FILE:LINE: WHAT (COND)". The
 * library never aborts, so this is a return, not assert(3). */
#define MCL_ASSERT(cond, what)                                    \
    do {                                                          \
        if (!(cond))                                              \
            return mcl_error_set(MCL_ERR_INTERNAL, "internal error at %s:%d: %s (%s)", \
                                 __FILE__, __LINE__, (what), #cond); \
    } while (0)

/* Propagates a non-OK mcl_status. */
#define MCL_TRY(expr)                                             \
    do {                                                          \
        mcl_status mcl_st_ = (expr);                              \
        if (mcl_st_ != MCL_OK) return mcl_st_;                    \
    } while (0)

#endif
