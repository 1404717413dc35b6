/* Event-timed baselines: copy bandwidth and CLBlast SGEMM. */
#include "diag/bench.h"

#include <stdlib.h>
#include <string.h>

#include <clblast_c.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/half.h"
#include "ops/kern_scan.h"
#include "runtime/program.h"

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

/* One warm-up then `reps` launches of k (1-D: global items in groups of
 * wg), each alone and timed by its event into ms[0..reps). */
static mcl_status time_events(mcl_runtime *rt, cl_kernel k, const char *what, size_t global, size_t wg, int reps,
                              double *ms)
{
    for (int r = -1; r < reps; r++) {
        cl_event ev;
        MCL_CL_CHECK(clEnqueueNDRangeKernel(rt->queue, k, 1, NULL, &global, &wg, 0, NULL, &ev),
                     "clEnqueueNDRangeKernel(%s)", what);
        double t = 0;
        mcl_status st = mcl_event_ms(ev, &t);
        clReleaseEvent(ev);
        MCL_TRY(st);
        if (r >= 0) ms[r] = t;
    }
    return MCL_OK;
}

static mcl_status time_copy(mcl_runtime *rt, cl_mem a, cl_mem b, cl_uint n4, int reps, double *ms)
{
    cl_kernel k;
    const mcl_params *cp;
    long wgl;
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_COPY, NULL, "copy_f4", &k, &cp));
    MCL_TRY(mcl_tune_get(cp, MCL_T_COPY_WG, &wgl));
    size_t wg = (size_t)wgl;
    size_t groups = rt->dev.compute_units * 16u;
    size_t global = wg * groups;
    if (global > mcl_round_up(n4, wg)) global = mcl_round_up(n4, wg);
    MCL_ARG(k, 0, a);
    MCL_ARG(k, 1, b);
    MCL_ARG(k, 2, n4);
    return time_events(rt, k, "copy_f4", global, wg, reps, ms);
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

/* One SGEMM timed on the host between two clFinish (CLBlast may run several
 * kernels for one call; its event covers only the last). */
static mcl_status sgemm_once(mcl_runtime *rt, size_t n, cl_mem a, cl_mem b, cl_mem c, double *ms)
{
    MCL_TRY(mcl_runtime_finish(rt));
    double t0 = mcl_now_ms();
    CLBlastStatusCode s = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, n, n,
                                       n, 1.0f, a, 0, n, b, 0, n, 0.0f, c, 0, n, &rt->queue, NULL);
    if (s != CLBlastSuccess)
        return mcl_error_set(MCL_ERR_OPENCL, "CLBlastSgemm(%zu^3) failed: CLBlast status %d", n, (int)s);
    MCL_TRY(mcl_runtime_finish(rt));
    *ms = mcl_now_ms() - t0;
    return MCL_OK;
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

/* The read-only stream: read_f4 over `bytes` (capped as for the copy), one
 * warm-up then `reps` timed launches; *gbps = bytes read / median time. */
mcl_status mcl_bench_read(mcl_runtime *rt, size_t bytes, int reps, mcl_timing *t, double *gbps)
{
    double ms[MAX_REPS];
    cl_mem a = NULL, out = NULL;
    cl_kernel k;
    if (reps < 1 || reps > MAX_REPS) return mcl_error_set(MCL_ERR_INVALID_ARG, "bench: reps %d", reps);
    const mcl_params *cp;
    long wgl;
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_COPY, NULL, "read_f4", &k, &cp));
    MCL_TRY(mcl_tune_get(cp, MCL_T_COPY_WG, &wgl));
    bytes = copy_bytes(rt, bytes);
    size_t wg = (size_t)wgl;
    size_t global = wg * rt->dev.compute_units * 32u;
    cl_uint n4 = (cl_uint)(bytes / 16);
    if (global > mcl_round_up(n4, wg)) global = mcl_round_up(n4, wg);
    mcl_status st = mcl_buffer_create(rt, CL_MEM_READ_WRITE, bytes, "bench read source", &a);
    if (st == MCL_OK) st = mcl_buffer_create(rt, CL_MEM_READ_WRITE, global * 4, "bench read output", &out);
    if (st == MCL_OK) {
        float zero = 0.0f;
        cl_int err = clEnqueueFillBuffer(rt->queue, a, &zero, sizeof zero, 0, bytes, 0, NULL, NULL);
        st = err ? mcl_error_cl(err, "clEnqueueFillBuffer(bench read)") : MCL_OK;
    }
    if (st == MCL_OK) {
        cl_int e = clSetKernelArg(k, 0, sizeof a, &a) | clSetKernelArg(k, 1, sizeof n4, &n4) |
                   clSetKernelArg(k, 2, sizeof out, &out);
        if (e) st = mcl_error_cl(CL_INVALID_KERNEL_ARGS, "clSetKernelArg(read_f4)");
    }
    if (st == MCL_OK) st = time_events(rt, k, "read_f4", global, wg, reps, ms);
    if (st == MCL_OK) {
        mcl_timing_from(ms, reps, t);
        *gbps = (double)bytes / (t->median_ms * 1e6);
    }
    mcl_buffer_release(&a);
    mcl_buffer_release(&out);
    return st;
}

mcl_status mcl_bench_floor(mcl_runtime *rt, int reps, mcl_timing *t)
{
    double ms[MAX_REPS];
    cl_mem src = NULL, out = NULL;
    cl_kernel k;
    const mcl_params *cp;
    long wgl;
    if (reps < 1 || reps > MAX_REPS) return mcl_error_set(MCL_ERR_INVALID_ARG, "bench: reps %d", reps);
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_COPY, NULL, "read_f4", &k, &cp));
    MCL_TRY(mcl_tune_get(cp, MCL_T_COPY_WG, &wgl));
    size_t wg = (size_t)wgl;
    cl_uint n4 = 0;
    mcl_status st = mcl_buffer_create(rt, CL_MEM_READ_WRITE, 16, "bench floor source (not read)", &src);
    if (st == MCL_OK) st = mcl_buffer_create(rt, CL_MEM_READ_WRITE, wg * 4, "bench floor output", &out);
    if (st == MCL_OK) {
        cl_int e = clSetKernelArg(k, 0, sizeof src, &src) | clSetKernelArg(k, 1, sizeof n4, &n4) |
                   clSetKernelArg(k, 2, sizeof out, &out);
        if (e) st = mcl_error_cl(CL_INVALID_KERNEL_ARGS, "clSetKernelArg(read_f4, empty)");
    }
    if (st == MCL_OK) st = time_events(rt, k, "read_f4, empty", wg, wg, reps, ms);
    if (st == MCL_OK) mcl_timing_from(ms, reps, t);
    mcl_buffer_release(&src);
    mcl_buffer_release(&out);
    return st;
}

void mcl_bench_profile_span(const mcl_runtime *rt, int *launches, double *kernel_ms, double *span_ms)
{
    cl_ulong first = 0, last = 0;
    double busy = 0.0;
    int n = 0;
    for (int i = 0; i < rt->n_prof; i++) {
        cl_ulong t0 = 0, t1 = 0;
        if (clGetEventProfilingInfo(rt->prof[i].event, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL) ||
            clGetEventProfilingInfo(rt->prof[i].event, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL))
            continue;
        if (n == 0 || t0 < first) first = t0;
        if (n == 0 || t1 > last) last = t1;
        busy += (double)(t1 - t0) / 1e6;
        n++;
    }
    *launches = n;
    *kernel_ms = busy;
    *span_ms = n ? (double)(last - first) / 1e6 : 0.0;
}

/* ---- the scan kernel alone ------------------------------------------------ */


typedef struct scan_bufs {
    cl_mem xc, dbc, xz, w_dt, b_dt, a, d, y, state, slot, seq_start;
} scan_bufs;

/* A buffer of n floats uniform in [lo, hi) (deterministic). */
static mcl_status random_buffer(mcl_runtime *rt, size_t n, float lo, float hi, const char *what, cl_mem *out)
{
    float *h = malloc(n * sizeof *h);
    if (!h) return mcl_error_set(MCL_ERR_NOMEM, "bench: out of host memory for %s", what);
    uint32_t s = 12345u + (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        h[i] = lo + (hi - lo) * (float)(s >> 8) / 16777216.0f;
    }
    mcl_status st = mcl_buffer_create(rt, CL_MEM_READ_WRITE, n * sizeof *h, what, out);
    if (st == MCL_OK) {
        cl_int err = clEnqueueWriteBuffer(rt->queue, *out, CL_TRUE, 0, n * sizeof *h, h, 0, NULL, NULL);
        if (err != CL_SUCCESS) st = mcl_error_cl(err, "clEnqueueWriteBuffer(%s)", what);
    }
    free(h);
    return st;
}

static mcl_status int_buffer(mcl_runtime *rt, const int *v, size_t n, const char *what, cl_mem *out)
{
    MCL_TRY(mcl_buffer_create(rt, CL_MEM_READ_ONLY, n * sizeof *v, what, out));
    MCL_CL_CHECK(clEnqueueWriteBuffer(rt->queue, *out, CL_TRUE, 0, n * sizeof *v, v, 0, NULL, NULL),
                 "clEnqueueWriteBuffer(%s)", what);
    return MCL_OK;
}

static mcl_status scan_bufs_make(mcl_runtime *rt, int batch, int D, int L, int N, int R, scan_bufs *b)
{
    size_t T = (size_t)batch * (size_t)L;
    int *idx = malloc((size_t)(batch + 1) * sizeof *idx);
    if (!idx) return mcl_error_set(MCL_ERR_NOMEM, "bench: out of host memory");
    mcl_status st = random_buffer(rt, T * D, -1.0f, 1.0f, "scan u", &b->xc);
    if (st == MCL_OK) st = random_buffer(rt, T * (size_t)(R + 2 * N), -0.5f, 0.5f, "scan dbc", &b->dbc);
    if (st == MCL_OK) st = random_buffer(rt, T * 2 * D, -1.0f, 1.0f, "scan xz", &b->xz);
    if (st == MCL_OK) st = random_buffer(rt, (size_t)D * R, -0.2f, 0.2f, "scan w_dt", &b->w_dt);
    if (st == MCL_OK) st = random_buffer(rt, (size_t)D, -4.0f, -2.0f, "scan b_dt", &b->b_dt);
    if (st == MCL_OK) st = random_buffer(rt, (size_t)D * N, -8.0f, -1.0f, "scan A", &b->a);
    if (st == MCL_OK) st = random_buffer(rt, (size_t)D, 0.5f, 1.5f, "scan D", &b->d);
    if (st == MCL_OK) st = random_buffer(rt, (size_t)batch * D * N, 0.0f, 0.0f, "scan state", &b->state);
    if (st == MCL_OK) st = mcl_buffer_create(rt, CL_MEM_READ_WRITE, T * D * sizeof(float), "scan y", &b->y);
    for (int i = 0; st == MCL_OK && i <= batch; i++) idx[i] = i * L;
    if (st == MCL_OK) st = int_buffer(rt, idx, (size_t)batch + 1, "scan seq_start", &b->seq_start);
    for (int i = 0; st == MCL_OK && i < batch; i++) idx[i] = i;
    if (st == MCL_OK) st = int_buffer(rt, idx, (size_t)batch, "scan slots", &b->slot);
    free(idx);
    return st;
}

static void scan_bufs_free(scan_bufs *b)
{
    cl_mem *all[] = {&b->xc, &b->dbc, &b->xz, &b->w_dt, &b->b_dt, &b->a, &b->d, &b->y, &b->state, &b->slot,
                     &b->seq_start};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) mcl_buffer_release(all[i]);
}

/* Device time of one scan (its launches), from the profile records. */
static mcl_status scan_once(mcl_runtime *rt, const mcl_scan_args *a, const mcl_kern_state *ks, cl_mem seq,
                            int batch, double *ms, int *launches)
{
    const char *names[16];
    double t[16];
    mcl_runtime_profile_take(rt, names, t, 16);
    MCL_TRY(mcl_kern_scan_prefill(rt, a, ks, seq, batch));
    MCL_TRY(mcl_runtime_finish(rt));
    int n = mcl_runtime_profile_take(rt, names, t, 16);
    *ms = 0.0;
    for (int i = 0; i < n; i++) *ms += t[i]; /* the dt pre-pass and the split's summary too */
    *launches = n;
    return n > 0 ? MCL_OK : mcl_error_set(MCL_ERR_INVALID_ARG, "bench: no profile (is profiling on?)");
}

mcl_status mcl_bench_scan(mcl_runtime *rt, int batch, int d_inner, int L, int N, int R, int reps,
                          mcl_timing *t, double *gbps, int *launches)
{
    double ms[MAX_REPS], warm;
    scan_bufs b = {0};
    if (reps < 1 || reps > MAX_REPS) return mcl_error_set(MCL_ERR_INVALID_ARG, "bench: reps %d", reps);
    mcl_status st = scan_bufs_make(rt, batch, d_inner, L, N, R, &b);
    mcl_scan_args a = {b.xc, b.dbc, b.xz, b.w_dt, b.b_dt, b.a, b.d, b.y, MCL_DTYPE_F32, d_inner, R, N,
                       (uint64_t)d_inner, 2 * d_inner, batch * L}; /* z: Mamba-1's second half of xz */
    mcl_kern_state ks = {b.state, 0, b.slot, (uint64_t)d_inner * (uint64_t)N};
    if (st == MCL_OK) st = scan_once(rt, &a, &ks, b.seq_start, batch, &warm, launches);
    for (int r = 0; r < reps && st == MCL_OK; r++)
        st = scan_once(rt, &a, &ks, b.seq_start, batch, &ms[r], launches);
    if (st == MCL_OK) {
        mcl_timing_from(ms, reps, t);
        double T = (double)batch * L;
        double bytes = T * d_inner * 4.0 * 4.0 + T * N * 2.0 * 4.0;
        *gbps = bytes / (t->median_ms * 1e6);
    }
    scan_bufs_free(&b);
    return st;
}

/* The F16 copy of n random floats in [lo, hi) (the model's weight dtype). */
static mcl_status half_buffer(mcl_runtime *rt, size_t n, float lo, float hi, const char *what, cl_mem *out)
{
    uint16_t *h = malloc(n * sizeof *h);
    if (!h) return mcl_error_set(MCL_ERR_NOMEM, "bench: out of host memory for %s", what);
    uint32_t s = 777u + (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        h[i] = mcl_half_from_float(lo + (hi - lo) * (float)(s >> 8) / 16777216.0f);
    }
    mcl_status st = mcl_buffer_create(rt, CL_MEM_READ_ONLY, n * sizeof *h, what, out);
    if (st == MCL_OK) {
        cl_int err = clEnqueueWriteBuffer(rt->queue, *out, CL_TRUE, 0, n * sizeof *h, h, 0, NULL, NULL);
        if (err != CL_SUCCESS) st = mcl_error_cl(err, "clEnqueueWriteBuffer(%s)", what);
    }
    free(h);
    return st;
}

mcl_status mcl_bench_step(mcl_runtime *rt, int batch, int d_inner, int N, int R, int reps, mcl_timing *t)
{
    double ms[MAX_REPS];
    scan_bufs b = {0};
    cl_mem w16 = NULL;
    if (reps < 1 || reps > MAX_REPS) return mcl_error_set(MCL_ERR_INVALID_ARG, "bench: reps %d", reps);
    mcl_status st = scan_bufs_make(rt, batch, d_inner, 1, N, R, &b);
    if (st == MCL_OK) st = half_buffer(rt, (size_t)d_inner * (size_t)R, -0.2f, 0.2f, "step w_dt", &w16);
    mcl_scan_args a = {b.xc, b.dbc, b.xz, w16, b.b_dt, b.a, b.d, b.y, MCL_DTYPE_F16, d_inner, R, N,
                       (uint64_t)d_inner, 2 * d_inner, 0}; /* T: read by prefill only */
    mcl_kern_state ks = {b.state, 0, b.slot, (uint64_t)d_inner * (uint64_t)N};
    for (int r = -2; r < reps && st == MCL_OK; r++) { /* two warm-up launches */
        const char *names[4];
        double tk[4];
        mcl_runtime_profile_take(rt, names, tk, 4);
        st = mcl_kern_ssm_step(rt, &a, &ks, batch);
        if (st == MCL_OK) st = mcl_runtime_finish(rt);
        int n = st == MCL_OK ? mcl_runtime_profile_take(rt, names, tk, 4) : 0;
        if (st == MCL_OK && n < 1) st = mcl_error_set(MCL_ERR_INVALID_ARG, "bench: no profile (is profiling on?)");
        if (st == MCL_OK && r >= 0) ms[r] = tk[0];
    }
    if (st == MCL_OK) mcl_timing_from(ms, reps, t);
    mcl_buffer_release(&w16);
    scan_bufs_free(&b);
    return st;
}
