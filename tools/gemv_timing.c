/* gemv_timing: times the gemv kernel with profiling events.
 *
 * usage: gemv_timing O I B f32|f16|bf16 [reps] [--space] [--set "NAME=V ..."]... [--device SEL]
 * (each --set: the defaults with those tunables overridden, timed too)
 * Prints, for the default tunables (and with --space for every configuration
 * of gemv's declared candidate space that fits the device), the median kernel
 * time over `reps` launches (default 50, after one warm-up launch) and the
 * effective bandwidth: (weight bytes + x bytes + y bytes) / time. Built by
 * meson, not run as a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/half.h"
#include "ops/kern.h"
#include "runtime/runtime.h"
#include "tune/tune_kern.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct shape {
    int O, I, B, reps;
    mcl_dtype dt;
    cl_mem W, x, y;
} shape;

/* Median time (ms) of reps launches of kernel k with tunables p. */
static mcl_status time_one(mcl_runtime *rt, cl_kernel k, const mcl_params *p, const shape *s,
                           double *median)
{
    double *ms = calloc((size_t)s->reps, sizeof *ms);
    if (!ms) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    mcl_status st = MCL_OK;
    for (int r = -1; r < s->reps && st == MCL_OK; r++) {
        st = mcl_kern_gemv_with(rt, k, p, s->W, s->dt, s->x, s->y, s->O, s->I, s->B, false);
        if (st == MCL_OK) st = mcl_runtime_finish(rt);
        const char *names[4];
        double t[4];
        int n = mcl_runtime_profile_take(rt, names, t, 4);
        if (r >= 0) ms[r] = n > 0 ? t[0] : 0.0;
    }
    qsort(ms, (size_t)s->reps, sizeof *ms, cmp_double);
    *median = ms[s->reps / 2];
    free(ms);
    return st;
}

static void report(const shape *s, const mcl_params *p, double ms)
{
    double bytes = (double)s->O * s->I * (double)mcl_half_dtype_size(s->dt) +
                   4.0 * s->B * (double)(s->I + s->O);
    printf("O %d I %d B %d dtype %d  WG %ld LPR %ld RPL %ld BT %ld UNR %ld VACC %ld F16 %ld  %.4f ms  %.1f GB/s\n",
           s->O, s->I, s->B, (int)s->dt, mcl_params_get(p, "GEMV_WG", 0), mcl_params_get(p, "GEMV_LPR", 0),
           mcl_params_get(p, "GEMV_RPL", 0), mcl_params_get(p, "GEMV_BT", 0), mcl_params_get(p, "GEMV_UNR", 0),
           mcl_params_get(p, "GEMV_VACC", 0), mcl_params_get(p, "GEMV_F16", 0), ms, bytes / ms / 1e6);
}

/* Builds gemv.cl with p and reports its time. */
static mcl_status time_params(mcl_runtime *rt, const shape *s, const mcl_params *pp)
{
    mcl_params p = *pp;
    mcl_program prog;
    MCL_TRY(mcl_runtime_build_program(rt, "gemv.cl", &p, &prog));
    cl_int err;
    cl_kernel k = clCreateKernel(prog.program, "gemv", &err);
    double ms = 0.0;
    mcl_status st = err != CL_SUCCESS ? mcl_error_cl(err, "clCreateKernel(gemv)") : time_one(rt, k, &p, s, &ms);
    if (st == MCL_OK) report(s, &p, ms);
    if (k) clReleaseKernel(k);
    mcl_program_release(&prog);
    return st;
}

/* Every fitting point of the space over the runtime's other tunables. */
static mcl_status time_space(mcl_runtime *rt, const shape *s)
{
    mcl_status st = MCL_OK;
    int n = mcl_tune_space_size(&mcl_tune_gemv_space);
    for (int i = 0; i < n && st == MCL_OK; i++) {
        mcl_params p = *mcl_runtime_params(rt, "gemv.cl"), c;
        if (!mcl_tune_space_config(&mcl_tune_gemv_space, i, &rt->dev, &c)) continue;
        for (int j = 0; j < c.n; j++) mcl_params_set(&p, c.p[j].name, c.p[j].value);
        st = time_params(rt, s, &p);
    }
    return st;
}

/* The defaults with "NAME=V NAME=V ..." applied, timed. */
static mcl_status time_set(mcl_runtime *rt, const shape *s, const char *set)
{
    char name[32];
    long v;
    int used = 0;
    mcl_params p = *mcl_runtime_params(rt, "gemv.cl");
    while (sscanf(set, " %31[A-Z_0-9]=%ld%n", name, &v, &used) == 2) {
        mcl_params_set(&p, name, v);
        set += used;
    }
    return time_params(rt, s, &p);
}

static mcl_status run(mcl_runtime *rt, shape *s, int space, char **sets, int n_sets)
{
    size_t wbytes = (size_t)s->O * s->I * mcl_half_dtype_size(s->dt);
    void *W = malloc(wbytes);
    float *x = malloc((size_t)s->B * s->I * sizeof *x);
    if (!W || !x) {
        free(W);
        free(x);
        return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    }
    memset(W, 0x3c, wbytes); /* finite values in every dtype */
    for (size_t i = 0; i < (size_t)s->B * s->I; i++) x[i] = (float)(i % 7) * 0.25f;
    mcl_status st = mcl_buffer_create(rt, CL_MEM_READ_ONLY, wbytes, "W", &s->W);
    if (st == MCL_OK) st = mcl_buffer_create(rt, CL_MEM_READ_ONLY, (size_t)s->B * s->I * 4, "x", &s->x);
    if (st == MCL_OK) st = mcl_buffer_create(rt, CL_MEM_READ_WRITE, (size_t)s->B * s->O * 4, "y", &s->y);
    if (st == MCL_OK && clEnqueueWriteBuffer(rt->queue, s->W, CL_TRUE, 0, wbytes, W, 0, NULL, NULL))
        st = mcl_error_set(MCL_ERR_OPENCL, "writing W");
    if (st == MCL_OK &&
        clEnqueueWriteBuffer(rt->queue, s->x, CL_TRUE, 0, (size_t)s->B * s->I * 4, x, 0, NULL, NULL))
        st = mcl_error_set(MCL_ERR_OPENCL, "writing x");
    cl_kernel k = NULL;
    if (st == MCL_OK) st = mcl_runtime_kernel(rt, "gemv", &k);
    for (int i = 0; st == MCL_OK && i < rt->n_programs; i++) {
        if (strcmp(rt->programs[i].file, "gemv.cl") != 0) continue;
        double ms = 0.0;
        st = time_one(rt, k, &rt->params[i], s, &ms);
        if (st == MCL_OK) {
            printf("default: ");
            report(s, &rt->params[i], ms);
        }
    }
    if (st == MCL_OK && space) st = time_space(rt, s);
    for (int i = 0; i < n_sets && st == MCL_OK; i++) st = time_set(rt, s, sets[i]);
    mcl_buffer_release(&s->W);
    mcl_buffer_release(&s->x);
    mcl_buffer_release(&s->y);
    free(W);
    free(x);
    return st;
}

int main(int argc, char **argv)
{
    shape s = {0};
    int space = 0, pos = 0, n_sets = 0;
    char *sets[32];
    const char *device = NULL, *dts = NULL;
    s.reps = 50;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--space") == 0) space = 1;
        else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc && n_sets < 32) sets[n_sets++] = argv[++i];
        else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) device = argv[++i];
        else if (pos == 0) s.O = atoi(argv[i]), pos++;
        else if (pos == 1) s.I = atoi(argv[i]), pos++;
        else if (pos == 2) s.B = atoi(argv[i]), pos++;
        else if (pos == 3) dts = argv[i], pos++;
        else if (pos == 4) s.reps = atoi(argv[i]), pos++;
    }
    if (pos < 4 || s.O <= 0 || s.I <= 0 || s.B <= 0 || s.reps <= 0) {
        fprintf(stderr, "usage: gemv_timing O I B f32|f16|bf16 [reps] [--space] [--device SEL]\n");
        return 2;
    }
    if (strcmp(dts, "f32") == 0) s.dt = MCL_DTYPE_F32;
    else if (strcmp(dts, "f16") == 0) s.dt = MCL_DTYPE_F16;
    else if (strcmp(dts, "bf16") == 0) s.dt = MCL_DTYPE_BF16;
    else {
        fprintf(stderr, "gemv_timing: dtype must be f32, f16 or bf16\n");
        return 2;
    }
    mcl_runtime_options o = {.device = device, .profiling = true};
    mcl_runtime *rt = NULL;
    mcl_status st = mcl_runtime_create(&o, &rt);
    if (st == MCL_OK) {
        printf("device: %s\n", rt->dev.name);
        st = run(rt, &s, space, sets, n_sets);
    }
    if (st != MCL_OK) fprintf(stderr, "gemv_timing: %s\n", mcl_last_error());
    mcl_runtime_free(rt);
    return st == MCL_OK ? 0 : 1;
}
