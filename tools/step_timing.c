/* step_timing: times the decode's x_proj + state update (gemv_split and
 * ssm_step_parts) with profiling events, per layer.
 *
 * usage: step_timing [--reps N] [--queued | --noprof] [--set "NAME=V ..."]... [--device SEL] B,D,R [B,D,R ...]
 *
 * At each shape (B sequences, d_inner D, dt_rank R, d_state 16, F16 x_proj
 * and W_dt as the 1.4b bench, random values, states in reversed slots):
 *  - "floor": an empty kernel on ssm_step's grid (what any launch costs
 *    in this measurement);
 *  - "split n S": gemv_split of x_proj [R+32, D] with S = 1, 2, 4, ...
 *    splits of K, then ssm_step_parts reading those S partials (runtime
 *    configuration), and their sum ('*' marks the split count the runtime
 *    picks, mcl_kern_gemv_split_count);
 *  - "step": ssm_step_parts with the runtime's split count for each
 *    configuration (the runtime's ssm_step.cl tunables, then each --set over
 *    them) and each sequences-per-group sb = 1, 2, 4, ... <= min(STEP_SB, B)
 *    ('*' marks the host's choice, mcl_kern_ssm_step_sb);
 *  - "tile": ssm_step_tile for each configuration where it serves the shape
 *    (STEP_TILE <= B), each sb = 1, 2, 4, ... <= STEP_TSQ*STEP_TJ ('*': the
 *    host's choice, mcl_kern_ssm_step_tile_sb, timed too when not a power
 *    of two).
 * Each figure is the median over N launches (default 50) after two warm-up
 * launches, each launch alone (a clFinish after it), in microseconds.
 * --queued: the N launches are enqueued back to back with one clFinish at
 * the end (as the kernels of a decode step run); the figure is then the mean
 * of their profiled times, and "wall" the host's wall time over the N
 * launches divided by N (which includes the enqueue cost) and "enq" the
 * host's time of the enqueue loop alone divided by N. --noprof: the same
 * with profiling off (only the wall figure; the event figure reads 0). Either compares with the per-layer figures of
 * the upstream Triton selective_state_update (../shared/anchors; that one
 * takes dt ready-made: no dt projection, no x_proj). Built by meson, not run
 * as a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "base/half.h"
#include "ops/kern_decode.h"
#include "ops/kern_scan.h"
#include "runtime/program.h"
#include "runtime/runtime.h"
#include "tune/tune_scan.h"

#define MAX_SETS 16

static bool g_queued;   /* --queued: back-to-back launches, one finish */
static double g_wall_us; /* --queued: wall time per launch of the last timing */
static double g_enq_us;  /* --queued: host time per launch of the enqueue loop alone */

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct shape {
    int B, D, R, N;
    cl_mem wx, wdt, xc, parts, xz, bdt, A, Dv, st, slot, y;
} shape;

static cl_mem upload_random(mcl_runtime *rt, size_t n, float lo, float hi, bool f16, unsigned *seed)
{
    size_t es = f16 ? 2 : 4;
    unsigned char *h = malloc(n * es);
    cl_mem m = NULL;
    if (!h) return NULL;
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1103515245u + 12345u;
        float v = lo + (hi - lo) * (float)((*seed >> 8) & 0xffff) / 65536.0f;
        if (f16) ((uint16_t *)h)[i] = mcl_half_from_float(v);
        else ((float *)h)[i] = v;
    }
    if (mcl_buffer_create(rt, CL_MEM_READ_WRITE, n * es, "step_timing", &m) == MCL_OK &&
        clEnqueueWriteBuffer(rt->queue, m, CL_TRUE, 0, n * es, h, 0, NULL, NULL) != CL_SUCCESS)
        mcl_buffer_release(&m);
    free(h);
    return m;
}

static bool shape_alloc(mcl_runtime *rt, shape *s)
{
    unsigned seed = 7;
    size_t B = (size_t)s->B, D = (size_t)s->D, nx = (size_t)(s->R + 2 * s->N);
    s->wx = upload_random(rt, nx * D, -0.05f, 0.05f, true, &seed);
    s->wdt = upload_random(rt, D * (size_t)s->R, -0.2f, 0.2f, true, &seed);
    s->xc = upload_random(rt, B * D, -1, 1, false, &seed);
    s->parts = upload_random(rt, (size_t)MCL_GEMV_MAX_SPLIT * B * nx, -1, 1, false, &seed);
    s->xz = upload_random(rt, B * 2 * D, -2, 2, false, &seed);
    s->bdt = upload_random(rt, D, -4, -2, false, &seed);
    s->A = upload_random(rt, D * (size_t)s->N, -8, -1, false, &seed);
    s->Dv = upload_random(rt, D, 0, 1, false, &seed);
    s->st = upload_random(rt, (B + 1) * D * (size_t)s->N, -1, 1, false, &seed);
    s->y = upload_random(rt, B * D, 0, 0, false, &seed);
    int *slots = malloc(B * sizeof *slots);
    bool ok = s->wx && s->wdt && s->xc && s->parts && s->xz && s->bdt && s->A && s->Dv && s->st && s->y && slots &&
              mcl_buffer_create(rt, CL_MEM_READ_WRITE, B * 4, "slot", &s->slot) == MCL_OK;
    if (ok) {
        for (size_t b = 0; b < B; b++) slots[b] = (int)(B - b); /* reversed, slot 0 unused */
        ok = clEnqueueWriteBuffer(rt->queue, s->slot, CL_TRUE, 0, B * 4, slots, 0, NULL, NULL) == CL_SUCCESS;
    }
    free(slots);
    return ok;
}

static void shape_free(shape *s)
{
    cl_mem *all[] = {&s->wx, &s->wdt, &s->xc, &s->parts, &s->xz, &s->bdt, &s->A, &s->Dv, &s->st, &s->slot, &s->y};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) mcl_buffer_release(all[i]);
}

static mcl_scan_args args_of(const shape *s)
{
    mcl_scan_args a = {s->xc, s->parts, s->xz, s->wdt, s->bdt, s->A, s->Dv, s->y, MCL_DTYPE_F16, s->D, s->R, s->N,
                       (uint64_t)s->D, 2 * s->D, 0}; /* T: read by prefill only */
    return a;
}

/* what: 0 gemv_split with n splits, 1 ssm_step_parts (k, p, sb; k NULL: the
 * runtime's choice, ssm_step_tile included) on n parts, 2 ssm_step_tile (k, p, sb). */
static mcl_status launch(mcl_runtime *rt, int what, const shape *s, int n, cl_kernel k, const mcl_params *p, int sb)
{
    uint64_t part = (uint64_t)s->B * (uint64_t)(s->R + 2 * s->N);
    if (what == 0)
        return mcl_kern_gemv_split(rt, s->wx, MCL_DTYPE_F16, s->xc, s->parts, s->R + 2 * s->N, s->D, s->B, n, part);
    mcl_scan_args a = args_of(s);
    mcl_kern_state ks = {s->st, 0, s->slot, (uint64_t)s->D * (uint64_t)s->N};
    if (!k) return mcl_kern_ssm_step_parts(rt, &a, &ks, s->B, n, part);
    if (what == 2) return mcl_kern_ssm_step_tile_run(rt, k, p, &a, &ks, s->B, n, part, sb, "ssm_step_tile");
    return mcl_kern_ssm_step_run(rt, k, p, &a, &ks, s->B, n, part, sb, "ssm_step_parts");
}

/* " 12.34 us" or, with --queued, " 12.34 us (wall 15.67)" into buf. */
static const char *fmt_us(char *buf, size_t cap, double us, double wall, double enq)
{
    if (g_queued) snprintf(buf, cap, "%7.2f us (wall %6.2f enq %5.2f)", us, wall, enq);
    else snprintf(buf, cap, "%7.2f us", us);
    return buf;
}

/* Median kernel time (us) of reps launches after two warm-ups; < 0 on failure (message printed). */
static double time_us_queued(mcl_runtime *rt, int reps, int what, const shape *s, int n, cl_kernel k,
                             const mcl_params *p, int sb)
{
    const char *names[4];
    double t[4];
    for (int r = 0; r < 2; r++) /* warm-ups */
        if (launch(rt, what, s, n, k, p, sb) != MCL_OK || mcl_runtime_finish(rt) != MCL_OK) goto fail;
    mcl_runtime_profile_take(rt, names, t, 4);
    double t0 = now_us();
    for (int r = 0; r < reps; r++)
        if (launch(rt, what, s, n, k, p, sb) != MCL_OK) goto fail;
    g_enq_us = (now_us() - t0) / reps;
    if (mcl_runtime_finish(rt) != MCL_OK) goto fail;
    g_wall_us = (now_us() - t0) / reps;
    int got = mcl_runtime_profile_take(rt, names, t, 4);
    return got > 0 ? 1000.0 * t[0] / reps : 0.0;
fail:
    fprintf(stderr, "step_timing: %s\n", mcl_last_error());
    return -1;
}

static double time_us(mcl_runtime *rt, int reps, int what, const shape *s, int n, cl_kernel k, const mcl_params *p,
                      int sb)
{
    if (g_queued) return time_us_queued(rt, reps, what, s, n, k, p, sb);
    double *us = calloc((size_t)reps, sizeof *us);
    if (!us) return -1;
    for (int r = -2; r < reps; r++) {
        const char *names[4];
        double t[4];
        if (launch(rt, what, s, n, k, p, sb) != MCL_OK || mcl_runtime_finish(rt) != MCL_OK) {
            fprintf(stderr, "step_timing: %s\n", mcl_last_error());
            free(us);
            return -1;
        }
        int got = mcl_runtime_profile_take(rt, names, t, 4);
        if (r >= 0) us[r] = got > 0 ? 1000.0 * t[0] : 0.0;
    }
    qsort(us, (size_t)reps, sizeof *us, cmp_double);
    double med = us[reps / 2];
    free(us);
    return med;
}

/* The floor: an empty kernel (reads one word, writes nothing) on the grid
 * ssm_step has at this shape with the runtime's tunables, timed the same
 * way; a per-layer figure minus this is the kernel's own work. */
static void time_floor(mcl_runtime *rt, int reps, const shape *s)
{
    static const char *src = "__kernel void floor_k(__global float *p, int n)\n"
                             "{ if (get_global_id(0) == 0 && p[0] == 12345.0f && n < 0) p[1] = 0.0f; }\n";
    const mcl_params *p = mcl_runtime_params(rt, MCL_F_STEP);
    long wg = mcl_params_get(p, MCL_T_STEP_WG, 64), lpc = mcl_params_get(p, MCL_T_STEP_LPC, 1);
    int sb = mcl_kern_ssm_step_sb(rt, p, s->B, s->D, s->R, s->N);
    size_t teams = (size_t)(wg / lpc), global[2] = {((size_t)s->D + teams - 1) / teams * (size_t)wg,
                                                    ((size_t)s->B + (size_t)sb - 1) / (size_t)(sb > 0 ? sb : 1)};
    size_t local[2] = {(size_t)wg, 1};
    cl_int err;
    cl_program prog = clCreateProgramWithSource(rt->ctx, 1, &src, NULL, &err);
    if (err != CL_SUCCESS || clBuildProgram(prog, 1, &rt->device, "", NULL, NULL) != CL_SUCCESS) {
        printf("floor: build failed\n");
        if (err == CL_SUCCESS) clReleaseProgram(prog);
        return;
    }
    cl_kernel k = clCreateKernel(prog, "floor_k", &err);
    cl_int n = 1;
    double *us = calloc((size_t)reps, sizeof *us);
    if (err == CL_SUCCESS && us && clSetKernelArg(k, 0, sizeof(cl_mem), &s->y) == CL_SUCCESS &&
        clSetKernelArg(k, 1, sizeof n, &n) == CL_SUCCESS) {
        const char *names[4];
        double t[4], med, t0 = 0.0;
        for (int r = -2; r < reps; r++) {
            if (g_queued && r == 0) {
                mcl_runtime_profile_take(rt, names, t, 4);
                t0 = now_us();
            }
            if (mcl_launch(rt, k, "floor", 2, global, local) != MCL_OK) break;
            if (g_queued && r >= 0) {
                if (r == reps - 1) g_enq_us = (now_us() - t0) / reps;
                continue;
            }
            if (mcl_runtime_finish(rt) != MCL_OK) break;
            int got = mcl_runtime_profile_take(rt, names, t, 4);
            if (r >= 0) us[r] = got > 0 ? 1000.0 * t[0] : 0.0;
        }
        if (g_queued) {
            mcl_runtime_finish(rt);
            g_wall_us = (now_us() - t0) / reps;
            med = mcl_runtime_profile_take(rt, names, t, 4) > 0 ? 1000.0 * t[0] / reps : 0.0;
        } else {
            qsort(us, (size_t)reps, sizeof *us, cmp_double);
            med = us[reps / 2];
        }
        char b1[48];
        printf("floor B %d D %d R %d: empty kernel on ssm_step's grid (%zu x %zu groups of %ld) %s\n", s->B, s->D,
               s->R, global[0] / (size_t)wg, global[1], wg, fmt_us(b1, sizeof b1, med, g_wall_us, g_enq_us));
    }
    free(us);
    if (err == CL_SUCCESS) clReleaseKernel(k);
    clReleaseProgram(prog);
}

/* The split-count sweep of a shape (runtime's ssm_step.cl). */
static void time_splits(mcl_runtime *rt, int reps, const shape *s)
{
    int pick = mcl_kern_gemv_split_count(rt, s->R + 2 * s->N, s->D, s->B);
    for (int n = 1; n <= MCL_GEMV_MAX_SPLIT; n *= 2) {
        char b1[48], b2[48];
        double g = time_us(rt, reps, 0, s, n, NULL, NULL, 0), gw = g_wall_us, ge = g_enq_us;
        double t = time_us(rt, reps, 1, s, n, NULL, NULL, 0), tw = g_wall_us, te = g_enq_us;
        printf("split B %d D %d R %d n %2d%s gemv_split %s  ssm_step_parts %s  sum %7.2f us\n", s->B, s->D, s->R, n,
               n == pick ? "*" : " ", fmt_us(b1, sizeof b1, g, gw, ge), fmt_us(b2, sizeof b2, t, tw, te), g + t);
    }
}

/* Parses "NAME=V NAME=V" over p; false on a malformed list. */
static bool apply_set(mcl_params *p, const char *list)
{
    char name[32];
    long v;
    int used = 0;
    while (sscanf(list, " %31[A-Z_0-9]=%ld%n", name, &v, &used) == 2) {
        mcl_params_set(p, name, v);
        list += used;
    }
    while (*list == ' ') list++;
    return *list == '\0';
}

/* ssm_step_parts compiled with p, every sb; one line each. */
static void time_config(mcl_runtime *rt, int reps, const shape *s, const mcl_params *p)
{
    mcl_program prog;
    cl_int err;
    char defs[512] = "";
    memset(&prog, 0, sizeof prog);
    mcl_params_defines(p, defs, sizeof defs);
    if (mcl_runtime_build_program(rt, MCL_F_STEP, p, &prog) != MCL_OK) {
        printf("step %s: build failed: %s\n", defs, mcl_last_error());
        return;
    }
    cl_kernel k = clCreateKernel(prog.program, "ssm_step_parts", &err);
    if (err == CL_SUCCESS) {
        int n = mcl_kern_gemv_split_count(rt, s->R + 2 * s->N, s->D, s->B);
        int pick = mcl_kern_ssm_step_sb(rt, p, s->B, s->D, s->R, s->N);
        long sbmax = mcl_params_get(p, MCL_T_STEP_SB, 1);
        for (int sb = 1; sb <= sbmax && sb <= s->B; sb *= 2) {
            char b1[48];
            double us = time_us(rt, reps, 1, s, n, k, p, sb);
            printf("step B %d D %d R %d parts %d sb %d%s %s  %s\n", s->B, s->D, s->R, n, sb, sb == pick ? "*" : " ",
                   fmt_us(b1, sizeof b1, us, g_wall_us, g_enq_us), defs);
        }
        clReleaseKernel(k);
    }
    int tpick = mcl_kern_ssm_step_tile_sb(rt, p, s->B, s->D, s->R, s->N);
    cl_kernel kt = tpick > 0 ? clCreateKernel(prog.program, "ssm_step_tile", &err) : NULL;
    if (kt) {
        int n = mcl_kern_gemv_split_count(rt, s->R + 2 * s->N, s->D, s->B);
        long sbmax = mcl_params_get(p, MCL_T_STEP_TSQ, 4) * mcl_params_get(p, MCL_T_STEP_TJ, 2);
        char b1[48];
        for (int sb = 1; sb <= sbmax && sb <= s->B; sb *= 2)
            if (mcl_kern_ssm_step_tile_local(p, sb, s->R, s->N) <= rt->dev.local_mem_bytes) {
                double us = time_us(rt, reps, 2, s, n, kt, p, sb);
                printf("tile B %d D %d R %d parts %d sb %d%s %s  %s\n", s->B, s->D, s->R, n, sb,
                       sb == tpick ? "*" : " ", fmt_us(b1, sizeof b1, us, g_wall_us, g_enq_us), defs);
            }
        if ((tpick & (tpick - 1)) != 0) { /* the host's choice, not a power of two */
            double us = time_us(rt, reps, 2, s, n, kt, p, tpick);
            printf("tile B %d D %d R %d parts %d sb %d* %s  %s\n", s->B, s->D, s->R, n, tpick,
                   fmt_us(b1, sizeof b1, us, g_wall_us, g_enq_us), defs);
        }
        clReleaseKernel(kt);
    }
    mcl_program_release(&prog);
}

int main(int argc, char **argv)
{
    int reps = 50, n_sets = 0, n_shapes = 0;
    bool noprof = false;
    const char *sets[MAX_SETS], *device = NULL;
    shape sh[16];
    memset(sh, 0, sizeof sh);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--queued") == 0) g_queued = true;
        else if (strcmp(argv[i], "--noprof") == 0) noprof = g_queued = true;
        else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc && n_sets < MAX_SETS) sets[n_sets++] = argv[++i];
        else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) device = argv[++i];
        else if (n_shapes < 16 && sscanf(argv[i], "%d,%d,%d", &sh[n_shapes].B, &sh[n_shapes].D, &sh[n_shapes].R) == 3 &&
                 sh[n_shapes].B > 0 && sh[n_shapes].D > 0 && sh[n_shapes].R > 0) {
            sh[n_shapes++].N = 16;
        } else {
            fprintf(stderr, "usage: step_timing [--reps N] [--queued | --noprof] [--set \"NAME=V ...\"]... [--device SEL] B,D,R ...\n");
            return 2;
        }
    }
    if (reps < 1 || n_shapes == 0) return 2;
    mcl_runtime_options o = {.profiling = !noprof, .device = device};
    mcl_runtime *rt = NULL;
    if (mcl_runtime_create(&o, &rt) != MCL_OK) {
        fprintf(stderr, "step_timing: runtime: %s\n", mcl_last_error());
        return 1;
    }
    printf("device %s\n", rt->dev.name);
    const mcl_params base = *mcl_runtime_params(rt, MCL_F_STEP);
    for (int i = 0; i < n_shapes; i++) {
        if (!shape_alloc(rt, &sh[i])) {
            fprintf(stderr, "step_timing: buffers: %s\n", mcl_last_error());
            return 1;
        }
        time_floor(rt, reps, &sh[i]);
        time_splits(rt, reps, &sh[i]);
        time_config(rt, reps, &sh[i], &base);
        for (int j = 0; j < n_sets; j++) {
            mcl_params p = base;
            if (!apply_set(&p, sets[j])) {
                fprintf(stderr, "step_timing: bad --set \"%s\"\n", sets[j]);
                return 2;
            }
            time_config(rt, reps, &sh[i], &p);
        }
        shape_free(&sh[i]);
    }
    mcl_runtime_free(rt);
    return 0;
}
