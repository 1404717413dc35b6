/* Event-timed baselines: copy bandwidth and CLBlast SGEMM. */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

#include <clblast_c.h>

#include "error.h"

#define MAX_REPS 1000

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void mcl_timing_from(double *ms, int n, mcl_timing *out)
{
    memset(out, 0, sizeof *out);
    if (n <= 0) return;
    qsort(ms, (size_t)n, sizeof *ms, cmp_double);
    out->min_ms = ms[0];
    out->max_ms = ms[n - 1];
    out->median_ms = (n % 2) ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
    out->reps = n;
}

mcl_status mcl_event_ms(cl_event ev, double *ms)
{
    cl_ulong t0 = 0, t1 = 0;
    MCL_CL_CHECK(clWaitForEvents(1, &ev), "clWaitForEvents");
    MCL_CL_CHECK(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL),
                 "clGetEventProfilingInfo(START): is the queue created with profiling?");
    MCL_CL_CHECK(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL),
                 "clGetEventProfilingInfo(END)");
    *ms = (double)(t1 - t0) / 1e6;
    return MCL_OK;
}

static size_t copy_bytes(const mcl_runtime *rt, size_t want)
{
    size_t cap = (size_t)rt->dev.max_alloc_bytes;
    if ((size_t)(rt->dev.global_mem_bytes / 4) < cap) cap = (size_t)(rt->dev.global_mem_bytes / 4);
    if (want > cap) want = cap;
    return want / 16 * 16;
}

static mcl_status time_copy(mcl_runtime *rt, cl_mem a, cl_mem b, cl_uint n4, int reps, double *ms)
{
    cl_kernel k;
    MCL_TRY(mcl_runtime_kernel(rt, "copy_f4", &k));
    size_t wg = (size_t)mcl_runtime_param(rt, "copy.cl", "COPY_WG", 256);
    size_t groups = rt->dev.compute_units * 16u;
    size_t global = wg * groups;
    if (global > mcl_round_up(n4, wg)) global = mcl_round_up(n4, wg);
    MCL_ARG(k, 0, a);
    MCL_ARG(k, 1, b);
    MCL_ARG(k, 2, n4);
    for (int r = -1; r < reps; r++) {
        cl_event ev;
        MCL_CL_CHECK(clEnqueueNDRangeKernel(rt->queue, k, 1, NULL, &global, &wg, 0, NULL, &ev),
                     "clEnqueueNDRangeKernel(copy_f4)");
        double t = 0;
        mcl_status st = mcl_event_ms(ev, &t);
        clReleaseEvent(ev);
        MCL_TRY(st);
        if (r >= 0) ms[r] = t;
    }
    return MCL_OK;
}

mcl_status mcl_bench_copy(mcl_runtime *rt, size_t bytes, int reps, mcl_timing *t, double *gbps)
{
    double ms[MAX_REPS];
    cl_mem a = NULL, b = NULL;
    if (reps < 1 || reps > MAX_REPS) return mcl_error_set(MCL_ERR_INVALID_ARG, "bench: reps %d", reps);
    bytes = copy_bytes(rt, bytes);
    mcl_status st = mcl_buffer_create(rt, CL_MEM_READ_WRITE, bytes, "bench copy source", &a);
    if (st == MCL_OK) st = mcl_buffer_create(rt, CL_MEM_READ_WRITE, bytes, "bench copy destination", &b);
    if (st == MCL_OK) {
        float zero = 0.0f;
        cl_int err = clEnqueueFillBuffer(rt->queue, a, &zero, sizeof zero, 0, bytes, 0, NULL, NULL);
        st = err ? mcl_error_cl(err, "clEnqueueFillBuffer(bench copy)") : MCL_OK;
    }
    if (st == MCL_OK) st = time_copy(rt, a, b, (cl_uint)(bytes / 16), reps, ms);
    if (st == MCL_OK) {
        mcl_timing_from(ms, reps, t);
        *gbps = 2.0 * (double)bytes / (t->median_ms * 1e6);
    }
    mcl_buffer_release(&a);
    mcl_buffer_release(&b);
    return st;
}

static mcl_status sgemm_once(mcl_runtime *rt, size_t n, cl_mem a, cl_mem b, cl_mem c, double *ms)
{
    cl_event ev = NULL;
    CLBlastStatusCode s = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, n, n,
                                       n, 1.0f, a, 0, n, b, 0, n, 0.0f, c, 0, n, &rt->queue, &ev);
    if (s != CLBlastSuccess)
        return mcl_error_set(MCL_ERR_OPENCL, "CLBlastSgemm(%zu^3) failed: CLBlast status %d", n, (int)s);
    mcl_status st = mcl_event_ms(ev, ms);
    clReleaseEvent(ev);
    return st;
}

mcl_status mcl_bench_sgemm(mcl_runtime *rt, size_t n, int reps, mcl_timing *t, double *gflops)
{
    double ms[MAX_REPS], warm;
    cl_mem bufs[3] = {NULL, NULL, NULL};
    if (reps < 1 || reps > MAX_REPS) return mcl_error_set(MCL_ERR_INVALID_ARG, "bench: reps %d", reps);
    mcl_status st = MCL_OK;
    for (int i = 0; i < 3 && st == MCL_OK; i++) {
        st = mcl_buffer_create(rt, CL_MEM_READ_WRITE, n * n * sizeof(float), "bench sgemm", &bufs[i]);
        if (st == MCL_OK) {
            float v = 0.5f;
            cl_int err = clEnqueueFillBuffer(rt->queue, bufs[i], &v, sizeof v, 0, n * n * sizeof(float), 0,
                                             NULL, NULL);
            if (err) st = mcl_error_cl(err, "clEnqueueFillBuffer(bench sgemm)");
        }
    }
    if (st == MCL_OK) st = sgemm_once(rt, n, bufs[0], bufs[1], bufs[2], &warm);
    for (int r = 0; r < reps && st == MCL_OK; r++) st = sgemm_once(rt, n, bufs[0], bufs[1], bufs[2], &ms[r]);
    if (st == MCL_OK) {
        mcl_timing_from(ms, reps, t);
        *gflops = 2.0 * (double)n * (double)n * (double)n / (t->median_ms * 1e6);
    }
    for (int i = 0; i < 3; i++) mcl_buffer_release(&bufs[i]);
    return st;
}
