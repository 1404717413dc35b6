/* gemv_timing: times a kernel of gemv.cl with profiling events.
 *
 * usage: gemv_timing O I B f32|f16|bf16 [reps] [--space] [--set "NAME=V ..."]... [--device SEL]
 *                    [--kernel gemv|in|head|split|acc|plain] [--tile] [--cold] [--read] [--old]
 * (each --set: the defaults with those tunables overridden, timed too;
 * --kernel: gemv (default), in = gemv_in with the conv step on the first O/2
 * rows (in_proj), head = gemv_in without conv (final norm + LM head), split =
 * gemv_split with mcl_kern_gemv_split_count splits, acc = mcl_kern_gemv
 * accumulating (out_proj), plain = mcl_kern_gemv not accumulating; in, head,
 * split, acc and plain go through the runtime's
 * launchers, so batches of 2..GMMA_MAX_B with F16/BF16 weights time
 * gemv_mma.cl (its tunables from MAMBACL_TUNE_SET; MAMBACL_DISABLE=gmma:
 * gemv.cl's tiles); the batch-1 twins at B 1,
 * or with --tile gemv's batch-tile kernel; --cold: before each launch a read
 * of 256 MiB elsewhere evicts W from the last-level cache, as in a decode
 * step where the whole model streams; --read: also times copy.cl's read_f4
 * over W alone, warm or --cold, the roofline at that size; --old: at B 1
 * also the launchers' gemv.cl kernels (MAMBACL_DISABLE=rgemv) where they pick
 * rgemv.cl (GPUs), in the same process; a --set of RG_* tunables rebuilds
 * rgemv.cl with them instead of gemv.cl. On the H200
 * (2026-12-01) cold and warm gave the same times, and an L2 prefetch of W
 * (prefetch.global.L2::evict_last, tried and removed) gained nothing: the
 * batch-1 kernels are not limited by where W comes from)
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
#include "diag/bench.h"
#include "ops/kern.h"
#include "ops/kern_decode.h"
#include "ops/kern_gmma.h"
#include "runtime/runtime.h"
#include "ops/kern_rgemv.h"
#include "tune/tune_kern.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum { K_GEMV, K_IN, K_HEAD, K_SPLIT, K_ACC, K_PLAIN };
static const char *const kernel_names[] = {"gemv", "in", "head", "split", "acc", "plain"};

typedef struct shape {
    int O, I, B, reps, kern, tile; /* tile: gemv's batch-tile kernel also at B 1 */
    int cold, read;                /* evict W before each launch; time read_f4 of W */
    cl_mem flush;                  /* [256 MiB] read to evict W (cold) */
    mcl_dtype dt;
    cl_mem W, x, y;
    cl_mem nw, cw, cb, state, slot, xc; /* gemv_in's norm and conv; split: y holds the parts */
} shape;

/* One launch of the shape's kernel: k (built with p) for gemv, else the
 * runtime's gemv.cl program (rebuilt with p by the caller). */
static mcl_status launch(mcl_runtime *rt, cl_kernel k, const mcl_params *p, const shape *s)
{
    if (s->kern == K_GEMV) return mcl_kern_gemv_with(rt, k, p, s->W, s->dt, s->x, s->y, s->O, s->I, s->B, false);
    if (s->kern == K_ACC || s->kern == K_PLAIN)
        return mcl_kern_gemv(rt, s->W, s->dt, s->x, s->y, s->O, s->I, s->B, s->kern == K_ACC);
    if (s->kern == K_SPLIT) {
        int n = mcl_kern_gemv_split_count(rt, s->O, s->I, s->B);
        return mcl_kern_gemv_split(rt, s->W, s->dt, s->x, s->y, s->O, s->I, s->B, n, (uint64_t)s->B * s->O);
    }
    mcl_kern_conv cv = {s->cw, s->cb, {s->state, 0, s->slot, (uint64_t)(s->O / 2) * 3}, 4, s->O / 2, s->xc};
    return mcl_kern_gemv_in(rt, s->W, s->dt, s->x, s->y, s->O, s->I, s->B, s->nw, 1e-5f,
                            s->kern == K_IN ? &cv : NULL);
}

#define FLUSH_BYTES (256u << 20)

/* One launch of copy.cl's read_f4 over buf's first `bytes` (its outputs to
 * out); *ms its time when ms is given (else no event). */
static mcl_status read_launch(mcl_runtime *rt, cl_mem buf, size_t bytes, cl_mem out, double *ms)
{
    cl_kernel k;
    const mcl_params *cp;
    long wgl;
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_COPY, NULL, "read_f4", &k, &cp));
    MCL_TRY(mcl_tune_get(cp, MCL_T_COPY_WG, &wgl));
    size_t wg = (size_t)wgl, global = wg * rt->dev.compute_units * 32u;
    cl_uint n4 = (cl_uint)(bytes / 16);
    cl_int e = clSetKernelArg(k, 0, sizeof buf, &buf) | clSetKernelArg(k, 1, sizeof n4, &n4) |
               clSetKernelArg(k, 2, sizeof out, &out);
    if (e) return mcl_error_cl(CL_INVALID_KERNEL_ARGS, "clSetKernelArg(read_f4)");
    cl_event ev = NULL;
    e = clEnqueueNDRangeKernel(rt->queue, k, 1, NULL, &global, &wg, 0, NULL, ms ? &ev : NULL);
    if (e) return mcl_error_cl(e, "clEnqueueNDRangeKernel(read_f4)");
    if (!ms) return MCL_OK;
    mcl_status st = mcl_event_ms(ev, ms);
    clReleaseEvent(ev);
    return st;
}

/* Median time (ms) of reps launches of kernel k with tunables p. */
static mcl_status time_one(mcl_runtime *rt, cl_kernel k, const mcl_params *p, shape *s,
                           double *median)
{
    double *ms = calloc((size_t)s->reps, sizeof *ms);
    if (!ms) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    mcl_status st = MCL_OK;
    for (int r = -1; r < s->reps && st == MCL_OK; r++) {
        if (s->cold) st = read_launch(rt, s->flush, FLUSH_BYTES, s->y, NULL); /* W out of the caches */
        if (st == MCL_OK) st = launch(rt, k, p, s);
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

/* --read: read_f4 over W alone (after the same eviction), median of reps. */
static mcl_status time_read(mcl_runtime *rt, shape *s)
{
    size_t wbytes = (size_t)s->O * s->I * mcl_half_dtype_size(s->dt);
    double *ms = calloc((size_t)s->reps, sizeof *ms);
    if (!ms) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    mcl_status st = MCL_OK;
    for (int r = -1; r < s->reps && st == MCL_OK; r++) {
        double t = 0.0;
        if (s->cold) st = read_launch(rt, s->flush, FLUSH_BYTES, s->y, NULL);
        if (st == MCL_OK) st = read_launch(rt, s->W, wbytes, s->y, &t);
        if (r >= 0) ms[r] = t;
    }
    qsort(ms, (size_t)s->reps, sizeof *ms, cmp_double);
    if (st == MCL_OK)
        printf("read_f4 of W (%zu bytes%s): %.4f ms  %.1f GB/s\n", wbytes, s->cold ? ", cold" : "", ms[s->reps / 2],
               (double)wbytes / ms[s->reps / 2] / 1e6);
    free(ms);
    return st;
}

static void report(mcl_runtime *rt, const shape *s, const mcl_params *p, double ms)
{
    if (s->cold) printf("[cold] ");
    double bytes = (double)s->O * s->I * (double)mcl_half_dtype_size(s->dt) +
                   4.0 * s->B * (double)(s->I + s->O);
    int splits = s->kern == K_SPLIT ? mcl_kern_gemv_split_count(rt, s->O, s->I, s->B) : 1;
    cl_kernel gk;
    const mcl_params *g;
    if (s->kern != K_GEMV && s->kern != K_SPLIT && mcl_kern_rgemv_wanted(rt, s->B, s->I)) {
        const mcl_params *r = mcl_runtime_params(rt, MCL_F_RGEMV);
        printf("%s O %d I %d B %d dtype %d  rgemv.cl WG %ld LPR %ld NL %ld PF %ld F16 %ld GPC %ld  %.4f ms  %.1f GB/s\n",
               kernel_names[s->kern], s->O, s->I, s->B, (int)s->dt, mcl_params_get(r, MCL_T_RG_WG, 0),
               mcl_params_get(r, MCL_T_RG_LPR, 0), mcl_params_get(r, MCL_T_RG_NL, 0), mcl_params_get(r, MCL_T_RG_PF, 0),
               mcl_params_get(r, MCL_T_RG_F16, 0), mcl_params_get(r, MCL_T_RG_GPC, 0), ms, bytes / ms / 1e6);
        return;
    }
    if (s->kern != K_GEMV && mcl_kern_gmma_pick(rt, s->dt, s->B, "gmma", &gk, &g)) {
        printf("%s O %d I %d B %d dtype %d splits %d  gemv_mma.cl WARPS %ld NT %ld UNR %ld  %.4f ms  %.1f GB/s\n",
               kernel_names[s->kern], s->O, s->I, s->B, (int)s->dt, splits, mcl_params_get(g, MCL_T_GMMA_WARPS, 0),
               mcl_params_get(g, MCL_T_GMMA_NT, 0), mcl_params_get(g, MCL_T_GMMA_UNR, 0), ms, bytes / ms / 1e6);
        return;
    }
    printf("%s%s O %d I %d B %d dtype %d splits %d  WG %ld LPR %ld RPL %ld RPL_IN %ld BT %ld UNR %ld VACC %ld F16 %ld  %.4f ms  "
           "%.1f GB/s\n",
           kernel_names[s->kern], s->tile ? "(tile)" : "", s->O, s->I, s->B, (int)s->dt, splits, mcl_params_get(p, MCL_T_GEMV_WG, 0),
           mcl_params_get(p, MCL_T_GEMV_LPR, 0), mcl_params_get(p, MCL_T_GEMV_RPL, 0),
           mcl_params_get(p, MCL_T_GEMV_RPL_IN, 0),
           mcl_params_get(p, MCL_T_GEMV_BT, 0), mcl_params_get(p, MCL_T_GEMV_UNR, 0),
           mcl_params_get(p, MCL_T_GEMV_VACC, 0), mcl_params_get(p, MCL_T_GEMV_F16, 0), ms, bytes / ms / 1e6);
}

/* Builds gemv.cl with p (gemv: a program of its own; the others: the
 * runtime's gemv.cl rebuilt) and reports its time. */
static mcl_status time_params(mcl_runtime *rt, shape *s, const mcl_params *pp)
{
    mcl_params p = *pp;
    double ms = 0.0;
    if (s->kern != K_GEMV) {
        MCL_TRY(mcl_runtime_rebuild(rt, MCL_F_GEMV, &p));
        MCL_TRY(time_one(rt, NULL, &p, s, &ms));
        report(rt, s, &p, ms);
        return MCL_OK;
    }
    mcl_program prog;
    MCL_TRY(mcl_runtime_build_program(rt, MCL_F_GEMV, &p, &prog));
    cl_int err;
    cl_kernel k = clCreateKernel(prog.program, s->tile ? "gemv" : mcl_kern_gemv_name(s->B), &err);
    mcl_status st = err != CL_SUCCESS ? mcl_error_cl(err, "clCreateKernel(gemv)") : time_one(rt, k, &p, s, &ms);
    if (st == MCL_OK) report(rt, s, &p, ms);
    if (k) clReleaseKernel(k);
    mcl_program_release(&prog);
    return st;
}

/* Every fitting point of the space over the defaults' other tunables. */
static mcl_status time_space(mcl_runtime *rt, shape *s, const mcl_params *defaults)
{
    mcl_status st = MCL_OK;
    int n = mcl_tune_space_size(&mcl_family_gemv, &rt->dev);
    for (int i = 0; i < n && st == MCL_OK; i++) {
        mcl_params p; /* the point over the defaults' other tunables */
        if (!mcl_tune_space_config(&mcl_family_gemv, &rt->dev, i, defaults, &p)) continue;
        st = time_params(rt, s, &p);
    }
    return st;
}

/* rgemv.cl rebuilt with the RG_* tunables of `set` over its defaults, timed
 * through the launchers, then the defaults rebuilt (a refused set is
 * reported and skipped). */
static mcl_status time_rgemv_set(mcl_runtime *rt, shape *s, const char *set)
{
    char name[32];
    long v;
    int used = 0;
    mcl_params keep = *mcl_runtime_params(rt, MCL_F_RGEMV), p = keep;
    while (sscanf(set, " %31[A-Z_0-9]=%ld%n", name, &v, &used) == 2) {
        mcl_params_set(&p, name, v);
        set += used;
    }
    double ms = 0.0;
    mcl_status st = mcl_runtime_rebuild(rt, MCL_F_RGEMV, &p);
    if (st == MCL_OK) st = time_one(rt, NULL, &p, s, &ms);
    if (st == MCL_OK) report(rt, s, &p, ms);
    else {
        printf("refused: %s\n", mcl_last_error());
        mcl_error_clear();
    }
    return mcl_runtime_rebuild(rt, MCL_F_RGEMV, &keep);
}

/* --old: the launchers' gemv.cl kernels, rgemv.cl turned off by
 * MAMBACL_DISABLE for the time of one measurement. */
static mcl_status time_old(mcl_runtime *rt, shape *s, const mcl_params *defaults)
{
    if (s->kern == K_GEMV || s->kern == K_SPLIT || !mcl_kern_rgemv_wanted(rt, s->B, s->I)) return MCL_OK;
    const char *was = getenv("MAMBACL_DISABLE");
    char keep[256], off[300];
    snprintf(keep, sizeof keep, "%s", was ? was : "");
    snprintf(off, sizeof off, "%s%srgemv", keep, *keep ? "," : "");
    setenv("MAMBACL_DISABLE", off, 1);
    double ms = 0.0;
    mcl_status st = time_one(rt, NULL, defaults, s, &ms);
    if (st == MCL_OK) {
        printf("old: ");
        report(rt, s, defaults, ms);
    }
    if (was) setenv("MAMBACL_DISABLE", keep, 1);
    else unsetenv("MAMBACL_DISABLE");
    return st;
}

/* The defaults with "NAME=V NAME=V ..." applied, timed (a refused set is
 * reported and skipped). */
static mcl_status time_set(mcl_runtime *rt, shape *s, const mcl_params *defaults, const char *set)
{
    char name[32];
    long v;
    int used = 0;
    mcl_params p = *defaults;
    if (strncmp(set, "RG_", 3) == 0) return time_rgemv_set(rt, s, set);
    while (sscanf(set, " %31[A-Z_0-9]=%ld%n", name, &v, &used) == 2) {
        mcl_params_set(&p, name, v);
        set += used;
    }
    if (time_params(rt, s, &p) != MCL_OK) { /* reported, and the next one tried */
        printf("refused: %s\n", mcl_last_error());
        mcl_error_clear();
    }
    return MCL_OK;
}

/* A device buffer of n floats from host values f(i). */
static mcl_status float_buffer(mcl_runtime *rt, size_t n, float scale, int mod, const char *what, cl_mem *out)
{
    float *h = malloc((n ? n : 1) * sizeof *h);
    if (!h) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    for (size_t i = 0; i < n; i++) h[i] = (float)(i % (size_t)mod) * scale;
    mcl_status st = mcl_buffer_create(rt, CL_MEM_READ_WRITE, (n ? n : 1) * 4, what, out);
    if (st == MCL_OK && n && clEnqueueWriteBuffer(rt->queue, *out, CL_TRUE, 0, n * 4, h, 0, NULL, NULL))
        st = mcl_error_set(MCL_ERR_OPENCL, "writing %s", what);
    free(h);
    return st;
}

static mcl_status make_buffers(mcl_runtime *rt, shape *s)
{
    size_t wbytes = (size_t)s->O * s->I * mcl_half_dtype_size(s->dt);
    void *W = malloc(wbytes);
    if (!W) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    memset(W, 0x3c, wbytes); /* finite values in every dtype */
    mcl_status st = mcl_buffer_create(rt, CL_MEM_READ_ONLY, wbytes, "W", &s->W);
    if (st == MCL_OK && clEnqueueWriteBuffer(rt->queue, s->W, CL_TRUE, 0, wbytes, W, 0, NULL, NULL))
        st = mcl_error_set(MCL_ERR_OPENCL, "writing W");
    free(W);
    size_t parts = s->kern == K_SPLIT ? MCL_GEMV_MAX_SPLIT : 1, /* y also takes read_f4's outputs */ nc = (size_t)(s->O / 2 > 0 ? s->O / 2 : 1);
    if (st == MCL_OK && s->cold) st = mcl_buffer_create(rt, CL_MEM_READ_WRITE, FLUSH_BYTES, "flush", &s->flush);
    if (st == MCL_OK && s->cold) {
        float zero = 0.0f;
        if (clEnqueueFillBuffer(rt->queue, s->flush, &zero, sizeof zero, 0, FLUSH_BYTES, 0, NULL, NULL))
            st = mcl_error_set(MCL_ERR_OPENCL, "filling the flush buffer");
    }
    if (st == MCL_OK) st = float_buffer(rt, (size_t)s->B * s->I, 0.25f, 7, "x", &s->x);
    size_t ny = parts * s->B * s->O, nread = (size_t)rt->dev.compute_units * 32u * 1024u;
    if (st == MCL_OK) st = float_buffer(rt, ny > nread ? ny : nread, 0.0f, 1, "y", &s->y);
    if (st == MCL_OK) st = float_buffer(rt, (size_t)s->I, 0.125f, 5, "nw", &s->nw);
    if (st == MCL_OK) st = float_buffer(rt, nc * 4, 0.125f, 3, "conv w", &s->cw);
    if (st == MCL_OK) st = float_buffer(rt, nc, 0.125f, 3, "conv b", &s->cb);
    if (st == MCL_OK) st = float_buffer(rt, (size_t)s->B * nc * 3, 0.125f, 3, "conv state", &s->state);
    if (st == MCL_OK) st = float_buffer(rt, (size_t)s->B * nc, 0.0f, 1, "xc", &s->xc);
    if (st == MCL_OK) {
        int *slot = malloc((size_t)s->B * sizeof *slot);
        if (!slot) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
        for (int b = 0; b < s->B; b++) slot[b] = b;
        st = mcl_buffer_create(rt, CL_MEM_READ_ONLY, (size_t)s->B * 4, "slot", &s->slot);
        if (st == MCL_OK && clEnqueueWriteBuffer(rt->queue, s->slot, CL_TRUE, 0, (size_t)s->B * 4, slot, 0, NULL, NULL))
            st = mcl_error_set(MCL_ERR_OPENCL, "writing slot");
        free(slot);
    }
    return st;
}

static void free_buffers(shape *s)
{
    cl_mem *all[] = {&s->W, &s->x, &s->y, &s->nw, &s->cw, &s->cb, &s->state, &s->slot, &s->xc, &s->flush};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) mcl_buffer_release(all[i]);
}

static mcl_status run(mcl_runtime *rt, shape *s, int space, int old, char **sets, int n_sets)
{
    mcl_status st = make_buffers(rt, s);
    mcl_params defaults = *mcl_runtime_params(rt, MCL_F_GEMV); /* the kernel's configuration */
    cl_kernel k = NULL;
    if (st == MCL_OK && s->kern == K_GEMV) st = mcl_runtime_kernel(rt, s->tile ? "gemv" : mcl_kern_gemv_name(s->B), &k);
    if (st == MCL_OK) {
        double ms = 0.0;
        st = time_one(rt, k, &defaults, s, &ms);
        if (st == MCL_OK) {
            printf("default: ");
            report(rt, s, &defaults, ms);
        }
    }
    if (st == MCL_OK && old) st = time_old(rt, s, &defaults);
    if (st == MCL_OK && s->read) st = time_read(rt, s);
    if (st == MCL_OK && space) st = time_space(rt, s, &defaults);
    for (int i = 0; i < n_sets && st == MCL_OK; i++) st = time_set(rt, s, &defaults, sets[i]);
    free_buffers(s);
    return st;
}

int main(int argc, char **argv)
{
    shape s = {0};
    int space = 0, old = 0, pos = 0, n_sets = 0;
    char *sets[32];
    const char *device = NULL, *dts = NULL, *kern = "gemv";
    s.reps = 50;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--space") == 0) space = 1;
        else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc && n_sets < 32) sets[n_sets++] = argv[++i];
        else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) device = argv[++i];
        else if (strcmp(argv[i], "--kernel") == 0 && i + 1 < argc) kern = argv[++i];
        else if (strcmp(argv[i], "--tile") == 0) s.tile = 1;
        else if (strcmp(argv[i], "--cold") == 0) s.cold = 1;
        else if (strcmp(argv[i], "--read") == 0) s.read = 1;
        else if (strcmp(argv[i], "--old") == 0) old = 1;
        else if (pos == 0) s.O = atoi(argv[i]), pos++;
        else if (pos == 1) s.I = atoi(argv[i]), pos++;
        else if (pos == 2) s.B = atoi(argv[i]), pos++;
        else if (pos == 3) dts = argv[i], pos++;
        else if (pos == 4) s.reps = atoi(argv[i]), pos++;
    }
    s.kern = -1;
    for (int i = 0; i < (int)(sizeof kernel_names / sizeof kernel_names[0]); i++)
        if (strcmp(kern, kernel_names[i]) == 0) s.kern = i;
    if (pos < 4 || s.O <= 0 || s.I <= 0 || s.B <= 0 || s.reps <= 0 || s.kern < 0) {
        fprintf(stderr, "usage: gemv_timing O I B f32|f16|bf16 [reps] [--space] [--set \"NAME=V ...\"]... "
                        "[--device SEL] [--kernel gemv|in|head|split|acc|plain] [--tile] [--cold] [--read] [--old]\n");
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
        st = run(rt, &s, space, old, sets, n_sets);
    }
    if (st != MCL_OK) fprintf(stderr, "gemv_timing: %s\n", mcl_last_error());
    mcl_runtime_free(rt);
    return st == MCL_OK ? 0 : 1;
}
