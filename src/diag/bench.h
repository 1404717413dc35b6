/* Measurements for `mambacl bench` and the tuner: event-timed launches,
 * the copy-bandwidth and CLBlast SGEMM baselines. */
#ifndef MCL_BENCH_H
#define MCL_BENCH_H

#include "runtime/runtime.h"

typedef struct mcl_timing {
    double min_ms, median_ms, max_ms;
    int reps;
} mcl_timing;

/* Summarises ms[0..n) (sorted in place). */
void mcl_timing_from(double *ms, int n, mcl_timing *out);

/* Elapsed device time of a finished profiled event, in ms. */
mcl_status mcl_event_ms(cl_event ev, double *ms);

/* float4 copy of `bytes` (capped by the device's max allocation and a
 * quarter of its global memory), one warm-up then `reps` timed launches.
 * *gbps = (read + write bytes) / median time. Needs a profiling queue. */
mcl_status mcl_bench_copy(mcl_runtime *rt, size_t bytes, int reps, mcl_timing *t, double *gbps);

/* Streaming read of `bytes` (read_f4; capped as for the copy), one warm-up
 * then `reps` timed launches; *gbps = bytes / median time: the decode
 * roofline's bandwidth (decode reads weights, writes almost nothing). */
mcl_status mcl_bench_read(mcl_runtime *rt, size_t bytes, int reps, mcl_timing *t, double *gbps);

/* An empty launch: read_f4 over nothing (n4 = 0) by one work-group, one
 * warm-up then `reps` timed launches, each alone; t: its event times, the
 * floor under every per-kernel figure timed the same way (on NVIDIA's OpenCL
 * 5-6 us). Needs a profiling queue. */
mcl_status mcl_bench_floor(mcl_runtime *rt, int reps, mcl_timing *t);

/* Over the profile records kept so far (not released): their number, the
 * sum of their device times and the span from the first start to the last
 * end, in ms (0 when there are none). Records whose times are unreadable are
 * skipped. */
void mcl_bench_profile_span(const mcl_runtime *rt, int *launches, double *kernel_ms, double *span_ms);

/* CLBlast SGEMM n x n x n, one warm-up then `reps` calls timed on the host
 * between clFinish calls; *gflops = 2 n^3 / median time. */
mcl_status mcl_bench_sgemm(mcl_runtime *rt, size_t n, int reps, mcl_timing *t, double *gflops);

/* The selective scan at (batch, d_inner, L) with d_state N and dt_rank R on
 * random inputs (f32 W_dt), through mcl_kern_scan_prefill: one warm-up,
 * `reps` timed scans, each timed as the sum of all its launches (the dt
 * pre-pass of a SCAN_DTIN configuration and the split's summary included);
 * *launches: how many one scan made. *gbps counts the bytes of u, delta, z
 * and out in fp32 per (t, d) plus B and C per (t, n), as the CUDA kernel's
 * figures do. */
mcl_status mcl_bench_scan(mcl_runtime *rt, int batch, int d_inner, int L, int N, int R, int reps,
                          mcl_timing *t, double *gbps, int *launches);

/* One decode state update (the runtime's ssm_step: dt projection from a
 * ready dbc row with F16 W_dt, softplus, state update, D, gate) of `batch`
 * sequences at d_inner with d_state N and dt_rank R on random inputs: two
 * warm-up launches, `reps` timed by profiling events (the kernel's time, as
 * one layer of a decode step). */
mcl_status mcl_bench_step(mcl_runtime *rt, int batch, int d_inner, int N, int R, int reps, mcl_timing *t);

#endif
