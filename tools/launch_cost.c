/* launch_cost: what the host spends per launch, piece by piece (profiling off).
 *
 * usage: launch_cost [--n N] [--device SEL]
 *
 * Each line is host microseconds per operation, the mean over N (default
 * 2000) back-to-back operations:
 *   lookup    mcl_runtime_kernel(rt, "gemv_in_1") (the launchers' lookup by name)
 *   params    mcl_runtime_params(rt, "gemv.cl") (the tunables' lookup by family)
 *   setarg20  the 20 clSetKernelArg of gemv_in_1 (what its launcher binds each time)
 *   empty     clEnqueueNDRangeKernel of an empty kernel, no arguments set
 *             (host loop; "wall" adds the wait for the queue to drain)
 *   bound     gemv_in_1 at 64 x 64, arguments set once, only the enqueue
 *   launcher  mcl_kern_gemv_in at 64 x 64 (lookups + binding + enqueue: what
 *             a decode step's launch costs the host)
 *   setarg1   one clSetKernelArg of a cl_int (the per-argument cost)
 *   pick      mcl_runtime_pick_kernel of gemv.cl's gemv_in_1 for a batch-1 shape
 *   clone     clCloneKernel of the bound gemv_in_1 (OpenCL >= 2.1; "n/a" else)
 *   cloned    enqueue of that clone (its arguments came with it)
 *   rlauncher mcl_kern_gemv_in with the dispatch's own choice (rgemv_in on
 *             GPUs where RG_ON: what a batch-1 decode launch costs there)
 *   kernels that do nothing, arguments set once, one work-item (what the
 *   driver's enqueue costs by the kind and number of arguments):
 *   a-i4 / a-i20   4 / 20 int arguments
 *   a-m4 / a-m9    4 / 9 buffer arguments (the same buffer)
 *   a-m9d          9 distinct buffers
 *   a-m9i11        9 distinct buffers and 11 ints (gemv_in's mix)
 *   a-m9i10l       the same with a __local buffer as the last
 *   grid           a_i4 at 8 groups of 64 items (the grid, not the arguments)
 * gemv.cl's gemv_in_1 up to "launcher" (rgemv.cl's batch-1 path is turned
 * off there: rt->rgemv_mode = -1).
 * launcher - bound is what our host code adds to the driver's enqueue; bound
 * - empty what the kernel's arguments and size cost the driver. Built by
 * meson, not run as a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "ops/kern_decode.h"
#include "ops/kern_rgemv.h"
#include "runtime/runtime.h"
#include "tune/tune.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static cl_mem zeros(mcl_runtime *rt, size_t bytes)
{
    cl_mem m = NULL;
    void *h = calloc(1, bytes);
    if (h && mcl_buffer_create(rt, CL_MEM_READ_WRITE, bytes, "launch_cost", &m) == MCL_OK &&
        clEnqueueWriteBuffer(rt->queue, m, CL_TRUE, 0, bytes, h, 0, NULL, NULL) != CL_SUCCESS)
        mcl_buffer_release(&m);
    free(h);
    return m;
}

/* An empty kernel of its own program; NULL on failure. */
static cl_kernel empty_kernel(mcl_runtime *rt, cl_program *prog)
{
    static const char *src = "__kernel void empty_k(void) { }\n";
    cl_int err;
    *prog = clCreateProgramWithSource(rt->ctx, 1, &src, NULL, &err);
    if (err != CL_SUCCESS) return NULL;
    if (clBuildProgram(*prog, 1, &rt->device, "", NULL, NULL) != CL_SUCCESS) return NULL;
    cl_kernel k = clCreateKernel(*prog, "empty_k", &err);
    return err == CL_SUCCESS ? k : NULL;
}

/* clCloneKernel of the bound kernel k (its cost), then the enqueue of the clone. */
static void clone_cost(mcl_runtime *rt, cl_kernel k, int n, const size_t *global, const size_t *local)
{
#ifdef CL_VERSION_2_1
    cl_int err;
    cl_kernel c = clCloneKernel(k, &err);
    if (err != CL_SUCCESS) {
        printf("clone     n/a (clCloneKernel: %d)\n", err);
        return;
    }
    clReleaseKernel(c);
    int m = n < 200 ? n : 200;
    double t0 = now_us();
    for (int i = 0; i < m; i++) {
        c = clCloneKernel(k, &err);
        if (err == CL_SUCCESS) clReleaseKernel(c);
    }
    printf("clone     %7.3f us (create + release)\n", (now_us() - t0) / m);
    c = clCloneKernel(k, &err);
    if (err != CL_SUCCESS) return;
    t0 = now_us();
    for (int i = 0; i < n; i++)
        if (clEnqueueNDRangeKernel(rt->queue, c, 2, NULL, global, local, 0, NULL, NULL) != CL_SUCCESS) {
            printf("cloned    enqueue failed\n");
            break;
        }
    double t1 = now_us();
    clFinish(rt->queue);
    printf("cloned    %7.3f us (wall %7.3f)\n", (t1 - t0) / n, (now_us() - t0) / n);
    clReleaseKernel(c);
#else
    (void)rt, (void)k, (void)n, (void)global, (void)local;
    printf("clone     n/a (headers below OpenCL 2.1)\n");
#endif
}

/* Enqueues k (1 work-item, or `groups` groups of 64 when groups > 0) n times; host us per enqueue. */
static double enqueue_us(mcl_runtime *rt, cl_kernel k, int n, size_t groups)
{
    size_t one = 1, g = groups * 64, l = 64;
    double t0 = now_us();
    for (int i = 0; i < n; i++)
        if (clEnqueueNDRangeKernel(rt->queue, k, 1, NULL, groups ? &g : &one, groups ? &l : &one, 0, NULL, NULL) !=
            CL_SUCCESS)
            return -1.0;
    double t = (now_us() - t0) / n;
    clFinish(rt->queue);
    return t;
}

/* The driver's enqueue by the kind and number of arguments (see the header). */
static void arg_sweep(mcl_runtime *rt, int n, cl_mem a, cl_mem b, cl_mem c, cl_mem d)
{
    static const char *src =
        "#define P __global float *\n"
        "__kernel void a_i4(int a, int b, int c, int d) { }\n"
        "__kernel void a_i20(int a0, int a1, int a2, int a3, int a4, int a5, int a6, int a7, int a8, int a9,"
        " int b0, int b1, int b2, int b3, int b4, int b5, int b6, int b7, int b8, int b9) { }\n"
        "__kernel void a_m4(P a, P b, P c, P d) { }\n"
        "__kernel void a_m9(P a, P b, P c, P d, P e, P f, P g, P h, P i) { }\n"
        "__kernel void a_m9i11(P a, P b, P c, P d, P e, P f, P g, P h, P i,"
        " int j, int k, int l, int m, int n, int o, int p, int q, int r, int s, int t) { }\n"
        "__kernel void a_m9i10l(P a, P b, P c, P d, P e, P f, P g, P h, P i,"
        " int j, int k, int l, int m, int n, int o, int p, int q, int r, int s, __local float *w) { }\n";
    static const char *names[] = {"a_i4", "a_i20", "a_m4", "a_m9", "a_m9d", "a_m9i11", "a_m9i10l", "grid"};
    cl_int err;
    cl_program prog = clCreateProgramWithSource(rt->ctx, 1, &src, NULL, &err);
    if (err != CL_SUCCESS || clBuildProgram(prog, 1, &rt->device, "", NULL, NULL) != CL_SUCCESS) {
        printf("a-*       the argument kernels did not build\n");
        if (err == CL_SUCCESS) clReleaseProgram(prog);
        return;
    }
    cl_mem same[9] = {a, a, a, a, a, a, a, a, a}, dist[9] = {a, b, c, d, a, b, c, d, a};
    cl_mem extra[5] = {NULL};
    for (int i = 0; i < 5; i++) extra[i] = zeros(rt, 64);
    for (int i = 0; i < 5; i++)
        if (extra[i]) dist[4 + i] = extra[i];
    cl_int v = 1;
    for (int t = 0; t < 8; t++) {
        const char *kn = t == 4 ? "a_m9" : t == 7 ? "a_i4" : names[t];
        cl_kernel k = clCreateKernel(prog, kn, &err);
        if (err != CL_SUCCESS) continue;
        cl_uint na = 0;
        clGetKernelInfo(k, CL_KERNEL_NUM_ARGS, sizeof na, &na, NULL);
        bool mem = kn[2] == 'm';
        for (cl_uint i = 0; i < na; i++) {
            if (strcmp(kn, "a_m9i10l") == 0 && i == na - 1) clSetKernelArg(k, i, 4096, NULL);
            else if (mem && i < 9) clSetKernelArg(k, i, sizeof(cl_mem), t == 3 ? &same[i] : &dist[i]);
            else clSetKernelArg(k, i, 4, &v);
        }
        double us = enqueue_us(rt, k, n, t == 7 ? 8 : 0);
        printf("%-9s %7.3f us (%u arguments)\n", names[t], us, na);
        clReleaseKernel(k);
    }
    for (int i = 0; i < 5; i++) mcl_buffer_release(&extra[i]);
    clReleaseProgram(prog);
}

int main(int argc, char **argv)
{
    int n = 2000;
    const char *device = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--n") == 0 && i + 1 < argc) n = atoi(argv[++i]);
        else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) device = argv[++i];
        else {
            fprintf(stderr, "usage: launch_cost [--n N] [--device SEL]\n");
            return 2;
        }
    }
    if (n < 1) return 2;
    setvbuf(stdout, NULL, _IOLBF, 0); /* each figure out as it is measured, even if a later step fails */
    mcl_runtime_options o = {.profiling = false, .device = device};
    mcl_runtime *rt = NULL;
    if (mcl_runtime_create(&o, &rt) != MCL_OK) {
        fprintf(stderr, "launch_cost: runtime: %s\n", mcl_last_error());
        return 1;
    }
    printf("device %s\n", rt->dev.name);
    rt->rgemv_mode = -1; /* gemv.cl's gemv_in_1 at batch 1, the kernel whose arguments are timed below */
    const int O = 64, I = 64;
    cl_mem W = zeros(rt, (size_t)O * I * 2), x = zeros(rt, I * 4), y = zeros(rt, O * 4), nw = zeros(rt, I * 4);
    cl_program prog = NULL;
    cl_kernel ek = empty_kernel(rt, &prog), k = NULL;
    if (!W || !x || !y || !nw || !ek || mcl_runtime_kernel(rt, "gemv_in_1", &k) != MCL_OK) {
        fprintf(stderr, "launch_cost: setup: %s\n", mcl_last_error());
        return 1;
    }
    volatile uintptr_t sink = 0;
    double t0 = now_us();
    for (int i = 0; i < n; i++) {
        cl_kernel kk;
        mcl_runtime_kernel(rt, "gemv_in_1", &kk);
        sink += (uintptr_t)kk;
    }
    printf("lookup    %7.3f us\n", (now_us() - t0) / n);
    t0 = now_us();
    for (int i = 0; i < n; i++) sink += (uintptr_t)mcl_runtime_params(rt, MCL_F_GEMV);
    printf("params    %7.3f us\n", (now_us() - t0) / n);

    /* one launcher call binds every argument of gemv_in_1 */
    if (mcl_kern_gemv_in(rt, W, MCL_DTYPE_F16, x, y, O, I, 1, nw, 1e-5f, NULL) != MCL_OK ||
        mcl_runtime_finish(rt) != MCL_OK) {
        fprintf(stderr, "launch_cost: gemv_in: %s\n", mcl_last_error());
        return 1;
    }
    t0 = now_us();
    for (int i = 0; i < n; i++) { /* the same values again: 20 arguments as the launcher sets them */
        cl_int wd = MCL_DTYPE_F16, Oi = O, Ii = I, B = 1, zero = 0, K = 2;
        cl_float eps = 1e-5f;
        cl_ulong z64 = 0;
        cl_mem a[] = {W, x, y, nw};
        cl_int e = clSetKernelArg(k, 0, sizeof(cl_mem), &a[0]) | clSetKernelArg(k, 1, 4, &wd) |
                   clSetKernelArg(k, 2, sizeof(cl_mem), &a[1]) | clSetKernelArg(k, 3, sizeof(cl_mem), &a[2]) |
                   clSetKernelArg(k, 4, 4, &Oi) | clSetKernelArg(k, 5, 4, &Ii) | clSetKernelArg(k, 6, 4, &B) |
                   clSetKernelArg(k, 7, sizeof(cl_mem), &a[3]) | clSetKernelArg(k, 8, 4, &eps) |
                   clSetKernelArg(k, 9, sizeof(cl_mem), &a[3]) | clSetKernelArg(k, 10, sizeof(cl_mem), &a[3]) |
                   clSetKernelArg(k, 11, 4, &zero) | clSetKernelArg(k, 12, sizeof(cl_mem), &a[3]) |
                   clSetKernelArg(k, 13, 8, &z64) | clSetKernelArg(k, 14, sizeof(cl_mem), &a[3]) |
                   clSetKernelArg(k, 15, 8, &z64) | clSetKernelArg(k, 16, 4, &K) |
                   clSetKernelArg(k, 17, 4, &zero) | clSetKernelArg(k, 18, sizeof(cl_mem), &a[3]);
        if (e != CL_SUCCESS) {
            fprintf(stderr, "launch_cost: clSetKernelArg failed (%d)\n", e);
            return 1;
        }
    }
    printf("setarg20  %7.3f us (19 values; the 20th is the local buffer)\n", (now_us() - t0) / n);
    /* the launcher again, so that the local buffer argument is right */
    if (mcl_kern_gemv_in(rt, W, MCL_DTYPE_F16, x, y, O, I, 1, nw, 1e-5f, NULL) != MCL_OK) return 1;
    mcl_runtime_finish(rt);

    size_t one[1] = {1};
    t0 = now_us();
    for (int i = 0; i < n; i++)
        if (clEnqueueNDRangeKernel(rt->queue, ek, 1, NULL, one, one, 0, NULL, NULL) != CL_SUCCESS) return 1;
    double t1 = now_us();
    clFinish(rt->queue);
    printf("empty     %7.3f us (wall %7.3f)\n", (t1 - t0) / n, (now_us() - t0) / n);

    const mcl_params *p = mcl_runtime_params(rt, MCL_F_GEMV);
    size_t wg = (size_t)mcl_params_get(p, MCL_T_GEMV_WG, 64), lpr = (size_t)mcl_params_get(p, MCL_T_GEMV_LPR, 8);
    size_t rpl = (size_t)mcl_params_get(p, MCL_T_GEMV_RPL_IN, mcl_params_get(p, MCL_T_GEMV_RPL, 1));
    size_t rows = wg / lpr * rpl, global[2] = {((size_t)O + rows - 1) / rows * wg, 1}, local[2] = {wg, 1};
    t0 = now_us();
    for (int i = 0; i < n; i++)
        if (clEnqueueNDRangeKernel(rt->queue, k, 2, NULL, global, local, 0, NULL, NULL) != CL_SUCCESS) {
            fprintf(stderr, "launch_cost: enqueue of the bound gemv_in_1 failed\n");
            return 1;
        }
    t1 = now_us();
    clFinish(rt->queue);
    printf("bound     %7.3f us (wall %7.3f)\n", (t1 - t0) / n, (now_us() - t0) / n);

    t0 = now_us();
    for (int i = 0; i < n; i++)
        if (mcl_kern_gemv_in(rt, W, MCL_DTYPE_F16, x, y, O, I, 1, nw, 1e-5f, NULL) != MCL_OK) {
            fprintf(stderr, "launch_cost: gemv_in: %s\n", mcl_last_error());
            return 1;
        }
    t1 = now_us();
    clFinish(rt->queue);
    printf("launcher  %7.3f us (wall %7.3f)\n", (t1 - t0) / n, (now_us() - t0) / n);

    t0 = now_us();
    for (int i = 0; i < n; i++) {
        cl_int v = i & 7;
        if (clSetKernelArg(k, 6, 4, &v) != CL_SUCCESS) return 1;
    }
    printf("setarg1   %7.3f us\n", (now_us() - t0) / n);
    cl_int one_b = 1;
    clSetKernelArg(k, 6, 4, &one_b);
    mcl_shape sh = {{[MCL_SHAPE_BATCH] = 1}};
    t0 = now_us();
    for (int i = 0; i < n; i++) {
        cl_kernel kk;
        const mcl_params *pp;
        mcl_runtime_pick_kernel(rt, MCL_FAM_GEMV, &sh, "gemv_in_1", &kk, &pp);
        sink += (uintptr_t)kk;
    }
    printf("pick      %7.3f us\n", (now_us() - t0) / n);
    clone_cost(rt, k, n, global, local);

    rt->rgemv_mode = 0; /* the dispatch's choice: rgemv_in at batch 1 where RG_ON */
    if (mcl_kern_gemv_in(rt, W, MCL_DTYPE_F16, x, y, O, I, 1, nw, 1e-5f, NULL) != MCL_OK) return 1;
    mcl_runtime_finish(rt);
    t0 = now_us();
    for (int i = 0; i < n; i++)
        if (mcl_kern_gemv_in(rt, W, MCL_DTYPE_F16, x, y, O, I, 1, nw, 1e-5f, NULL) != MCL_OK) {
            fprintf(stderr, "launch_cost: gemv_in (dispatch): %s\n", mcl_last_error());
            return 1;
        }
    t1 = now_us();
    clFinish(rt->queue);
    printf("rlauncher %7.3f us (wall %7.3f; rgemv_in %s)\n", (t1 - t0) / n, (now_us() - t0) / n,
           mcl_kern_rgemv_wanted(rt, 1, I) ? "on" : "off");

    arg_sweep(rt, n, x, y, W, nw);

    clReleaseKernel(ek);
    clReleaseProgram(prog);
    cl_mem *all[] = {&W, &x, &y, &nw};
    for (int i = 0; i < 4; i++) mcl_buffer_release(all[i]);
    mcl_runtime_free(rt);
    (void)sink;
    return 0;
}
