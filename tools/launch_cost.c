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
 * gemv.cl's gemv_in_1 throughout (rgemv.cl's batch-1 path is turned off:
 * rt->rgemv_mode = -1).
 * launcher - bound is what our host code adds to the driver's enqueue; bound
 * - empty what the kernel's arguments and size cost the driver. Built by
 * meson, not run as a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "ops/kern_decode.h"
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

    clReleaseKernel(ek);
    clReleaseProgram(prog);
    cl_mem *all[] = {&W, &x, &y, &nw};
    for (int i = 0; i < 4; i++) mcl_buffer_release(all[i]);
    mcl_runtime_free(rt);
    (void)sink;
    return 0;
}
