/* cltrace.c: an LD_PRELOAD library that times the host side of every OpenCL
 * call a program makes (diagnostics: where a decode step's host time goes).
 *
 *   gcc -O2 -shared -fPIC tools/cltrace.c -o /tmp/cltrace.so -ldl
 *   CLTRACE_SKIP=20000 CLTRACE_LOG=400 LD_PRELOAD=/tmp/cltrace.so mambacl bench ...
 *
 * At exit it prints to stderr, per function (and per kernel for
 * clEnqueueNDRangeKernel), the calls and the host microseconds spent in
 * them; then CLTRACE_LOG calls (default 0) one per line, after the first
 * CLTRACE_SKIP calls: the time since the first logged call's start, the
 * call's own duration, its name and detail (kernel, bytes, blocking).
 * Gaps between logged calls are host time outside OpenCL. The calls it
 * wraps are the ones mambacl's step makes; others pass through untimed.
 * Not part of the library or the tests; it never changes a call's result. */
#define _GNU_SOURCE
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CT_NAMES 256
#define CT_LOG_MAX 100000

typedef struct {
    char name[64];
    long calls;
    double us;
} ct_stat;

typedef struct {
    double t, us;
    char what[80];
} ct_entry;

static ct_stat stats[CT_NAMES];
static int n_stats;
static ct_entry *logbuf;
static long n_calls, skip, n_log, logged;
static double t_first = -1;

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec * 1e-3;
}

__attribute__((constructor)) static void ct_init(void)
{
    const char *s = getenv("CLTRACE_SKIP"), *l = getenv("CLTRACE_LOG");
    skip = s ? atol(s) : 0;
    n_log = l ? atol(l) : 0;
    if (n_log > CT_LOG_MAX) n_log = CT_LOG_MAX;
    if (n_log > 0) logbuf = calloc((size_t)n_log, sizeof *logbuf);
    if (!logbuf) n_log = 0;
}

static void ct_note(const char *name, const char *detail, double t0, double t1)
{
    int i = 0;
    while (i < n_stats && strcmp(stats[i].name, name) != 0) i++;
    if (i == n_stats && n_stats < CT_NAMES) snprintf(stats[n_stats++].name, sizeof stats[0].name, "%s", name);
    if (i < n_stats) {
        stats[i].calls++;
        stats[i].us += t1 - t0;
    }
    if (n_calls++ >= skip && logged < n_log) {
        if (t_first < 0) t_first = t0;
        ct_entry *e = &logbuf[logged++];
        e->t = t0 - t_first;
        e->us = t1 - t0;
        snprintf(e->what, sizeof e->what, "%s %s", name, detail);
    }
}

__attribute__((destructor)) static void ct_report(void)
{
    fprintf(stderr, "cltrace: %ld calls\n", n_calls);
    for (int i = 0; i < n_stats; i++)
        fprintf(stderr, "cltrace %-40s %9ld calls %12.1f us %8.2f us/call\n", stats[i].name, stats[i].calls,
                stats[i].us, stats[i].us / (stats[i].calls ? stats[i].calls : 1));
    for (long i = 0; i < logged; i++)
        fprintf(stderr, "cltrace-log %10.1f %8.1f %s\n", logbuf[i].t, logbuf[i].us, logbuf[i].what);
}

#define CT_REAL(ret, fn, params)                              \
    static ret(*real_##fn) params;                            \
    if (!real_##fn) *(void **)(&real_##fn) = dlsym(RTLD_NEXT, #fn)

static void kernel_name(cl_kernel k, char *out, size_t n)
{
    static cl_kernel keys[512];
    static char names[512][48];
    for (int i = 0; i < 512 && keys[i]; i++)
        if (keys[i] == k) {
            snprintf(out, n, "%s", names[i]);
            return;
        }
    CT_REAL(cl_int, clGetKernelInfo, (cl_kernel, cl_kernel_info, size_t, void *, size_t *));
    char nm[48] = "?";
    real_clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof nm, nm, NULL);
    for (int i = 0; i < 512; i++)
        if (!keys[i]) {
            keys[i] = k;
            snprintf(names[i], sizeof names[i], "%s", nm);
            break;
        }
    snprintf(out, n, "%s", nm);
}

cl_int clSetKernelArg(cl_kernel k, cl_uint i, size_t sz, const void *v)
{
    CT_REAL(cl_int, clSetKernelArg, (cl_kernel, cl_uint, size_t, const void *));
    double t0 = now_us();
    cl_int r = real_clSetKernelArg(k, i, sz, v);
    ct_note("clSetKernelArg", "", t0, now_us());
    return r;
}

cl_int clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint d, const size_t *o, const size_t *g,
                              const size_t *l, cl_uint ne, const cl_event *w, cl_event *e)
{
    CT_REAL(cl_int, clEnqueueNDRangeKernel,
            (cl_command_queue, cl_kernel, cl_uint, const size_t *, const size_t *, const size_t *, cl_uint,
             const cl_event *, cl_event *));
    char nm[48], full[64];
    kernel_name(k, nm, sizeof nm);
    double t0 = now_us();
    cl_int r = real_clEnqueueNDRangeKernel(q, k, d, o, g, l, ne, w, e);
    snprintf(full, sizeof full, "enqueue %s", nm);
    ct_note(full, e ? "(event)" : "", t0, now_us());
    return r;
}

cl_int clEnqueueWriteBuffer(cl_command_queue q, cl_mem b, cl_bool bl, size_t off, size_t sz, const void *p,
                            cl_uint ne, const cl_event *w, cl_event *e)
{
    CT_REAL(cl_int, clEnqueueWriteBuffer,
            (cl_command_queue, cl_mem, cl_bool, size_t, size_t, const void *, cl_uint, const cl_event *, cl_event *));
    double t0 = now_us();
    cl_int r = real_clEnqueueWriteBuffer(q, b, bl, off, sz, p, ne, w, e);
    char d[48];
    snprintf(d, sizeof d, "%zu B %s", sz, bl ? "blocking" : "async");
    ct_note("clEnqueueWriteBuffer", d, t0, now_us());
    return r;
}

cl_int clEnqueueReadBuffer(cl_command_queue q, cl_mem b, cl_bool bl, size_t off, size_t sz, void *p, cl_uint ne,
                           const cl_event *w, cl_event *e)
{
    CT_REAL(cl_int, clEnqueueReadBuffer,
            (cl_command_queue, cl_mem, cl_bool, size_t, size_t, void *, cl_uint, const cl_event *, cl_event *));
    double t0 = now_us();
    cl_int r = real_clEnqueueReadBuffer(q, b, bl, off, sz, p, ne, w, e);
    char d[48];
    snprintf(d, sizeof d, "%zu B %s", sz, bl ? "blocking" : "async");
    ct_note(bl ? "clEnqueueReadBuffer(blocking)" : "clEnqueueReadBuffer(async)", d, t0, now_us());
    return r;
}

cl_int clEnqueueCopyBuffer(cl_command_queue q, cl_mem a, cl_mem b, size_t oa, size_t ob, size_t sz, cl_uint ne,
                           const cl_event *w, cl_event *e)
{
    CT_REAL(cl_int, clEnqueueCopyBuffer,
            (cl_command_queue, cl_mem, cl_mem, size_t, size_t, size_t, cl_uint, const cl_event *, cl_event *));
    double t0 = now_us();
    cl_int r = real_clEnqueueCopyBuffer(q, a, b, oa, ob, sz, ne, w, e);
    ct_note("clEnqueueCopyBuffer", "", t0, now_us());
    return r;
}

/* The calls of one argument, timed alike. */
#define CT_WRAP1(fn, T)                                   \
    cl_int fn(T x)                                        \
    {                                                     \
        CT_REAL(cl_int, fn, (T));                         \
        double t0 = now_us();                             \
        cl_int r = real_##fn(x);                          \
        ct_note(#fn, "", t0, now_us());                   \
        return r;                                         \
    }
CT_WRAP1(clFinish, cl_command_queue)
CT_WRAP1(clFlush, cl_command_queue)
CT_WRAP1(clReleaseEvent, cl_event)

cl_int clWaitForEvents(cl_uint n, const cl_event *ev)
{
    CT_REAL(cl_int, clWaitForEvents, (cl_uint, const cl_event *));
    double t0 = now_us();
    cl_int r = real_clWaitForEvents(n, ev);
    ct_note("clWaitForEvents", "", t0, now_us());
    return r;
}
