/* scan_timing: times scan_prefill alone with profiling events.
 *
 *   scan_timing BATCH D_INNER L [D_STATE=16] [DT_RANK=48] [REPS=20] [DEVICE]
 *
 * Random inputs (F32 W_dt), BATCH sequences of L tokens each, the default
 * tunables of the device. Prints the median kernel time and two rates:
 *  - "cuda-eq GB/s": the bytes the CUDA selective-scan kernel moves (u, Δ, z,
 *    out in fp32 per (t,d) plus B and C per t), for comparison with issue 7;
 *  - "actual GB/s": what scan_prefill moves (x, z, y per (t,d), one dbc row
 *    per t, the state in and out).
 * MCL_SCAN_SET="SCAN_NSG=8 SCAN_TT=4" rebuilds scan.cl with those values
 * over the defaults (SCAN_RT re-derived unless given), to time variants.
 * Not a test: built by meson for the integrator to run on the GPU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "runtime/program.h"
#include "runtime/runtime.h"
#include "ops/kern_scan.h"
#include "tune/tune_scan.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static cl_mem random_buffer(mcl_runtime *rt, size_t n, float lo, float hi, unsigned *seed)
{
    float *h = malloc(n * sizeof *h);
    cl_mem m = NULL;
    if (!h) return NULL;
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1103515245u + 12345u;
        h[i] = lo + (hi - lo) * (float)((*seed >> 8) & 0xffff) / 65536.0f;
    }
    if (mcl_buffer_create(rt, CL_MEM_READ_WRITE, n * sizeof *h, "scan_timing", &m) == MCL_OK &&
        clEnqueueWriteBuffer(rt->queue, m, CL_TRUE, 0, n * sizeof *h, h, 0, NULL, NULL) != CL_SUCCESS)
        mcl_buffer_release(&m);
    free(h);
    return m;
}

/* Applies MCL_SCAN_SET ("NAME=V NAME=V ...") to p; returns whether any was set. */
static bool apply_overrides(mcl_params *p)
{
    const char *env = getenv("MCL_SCAN_SET");
    char name[32];
    long v;
    int used = 0, n = 0;
    bool rt_given = false;
    while (env && sscanf(env, " %31[A-Z_0-9]=%ld%n", name, &v, &used) == 2) {
        mcl_params_set(p, name, v);
        rt_given |= strcmp(name, "SCAN_RT") == 0;
        env += used;
        n++;
    }
    if (n && !rt_given) mcl_params_set(p, "SCAN_RT", 64);
    return n > 0;
}

/* Builds scan.cl with p (through the binary cache) and returns its kernel. */
static cl_kernel build_variant(mcl_runtime *rt, const mcl_params *p, mcl_program *prog)
{
    cl_int err;
    if (mcl_runtime_build_program(rt, "scan.cl", p, prog) != MCL_OK) return NULL;
    cl_kernel k = clCreateKernel(prog->program, "scan_prefill", &err);
    return err == CL_SUCCESS ? k : NULL;
}

static int fail(const char *what)
{
    fprintf(stderr, "scan_timing: %s: %s\n", what, mcl_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: scan_timing BATCH D_INNER L [D_STATE=16] [DT_RANK=48] [REPS=20] [DEVICE]\n");
        return 2;
    }
    int batch = atoi(argv[1]), di = atoi(argv[2]), L = atoi(argv[3]);
    int N = argc > 4 ? atoi(argv[4]) : 16, R = argc > 5 ? atoi(argv[5]) : 48;
    int reps = argc > 6 ? atoi(argv[6]) : 20;
    if (batch < 1 || di < 1 || L < 1 || N < 1 || R < 1 || reps < 1 || reps > 1000) {
        fprintf(stderr, "scan_timing: sizes must be positive (REPS <= 1000)\n");
        return 2;
    }
    mcl_runtime_options o = {.profiling = true, .device = argc > 7 ? argv[7] : NULL};
    mcl_runtime *rt = NULL;
    if (mcl_runtime_create(&o, &rt) != MCL_OK) return fail("runtime");
    int np = 0;
    const mcl_program_report *reps_ = mcl_runtime_programs(rt, &np);
    for (int i = 0; i < np; i++)
        if (strcmp(reps_[i].file, "scan.cl") == 0)
            printf("scan.cl %s in %.0f ms\n", reps_[i].from_cache ? "from cache" : "built", reps_[i].build_ms);

    size_t T = (size_t)batch * (size_t)L, ldb = (size_t)(R + 2 * N);
    unsigned seed = 1;
    cl_mem xc = random_buffer(rt, T * di, -1, 1, &seed), dbc = random_buffer(rt, T * ldb, -1, 1, &seed);
    cl_mem xz = random_buffer(rt, T * 2 * di, -2, 2, &seed);
    cl_mem w = random_buffer(rt, (size_t)di * R, -0.2f, 0.2f, &seed);
    cl_mem bdt = random_buffer(rt, di, -4, -2, &seed), A = random_buffer(rt, (size_t)di * N, -8, -1, &seed);
    cl_mem D = random_buffer(rt, di, 0, 1, &seed), st = random_buffer(rt, (size_t)batch * di * N, -1, 1, &seed);
    cl_mem y = random_buffer(rt, T * di, 0, 0, &seed);
    int *starts = malloc(((size_t)batch + 1) * sizeof *starts), *slots = malloc((size_t)batch * sizeof *slots);
    if (!xc || !dbc || !xz || !w || !bdt || !A || !D || !st || !y || !starts || !slots) return fail("buffers");
    for (int b = 0; b <= batch; b++) starts[b] = b * L;
    for (int b = 0; b < batch; b++) slots[b] = b;
    cl_mem ss = NULL, sl = NULL;
    if (mcl_buffer_create(rt, CL_MEM_READ_WRITE, ((size_t)batch + 1) * 4, "seq_start", &ss) != MCL_OK ||
        mcl_buffer_create(rt, CL_MEM_READ_WRITE, (size_t)batch * 4, "slot", &sl) != MCL_OK)
        return fail("buffers");
    clEnqueueWriteBuffer(rt->queue, ss, CL_TRUE, 0, ((size_t)batch + 1) * 4, starts, 0, NULL, NULL);
    clEnqueueWriteBuffer(rt->queue, sl, CL_TRUE, 0, (size_t)batch * 4, slots, 0, NULL, NULL);

    cl_kernel k;
    mcl_params prm = *mcl_runtime_params(rt, "scan.cl");
    mcl_program prog;
    memset(&prog, 0, sizeof prog);
    if (apply_overrides(&prm)) {
        if (mcl_tune_scan_local_bytes(&prm) > (long)rt->dev.local_mem_bytes)
            mcl_params_set(&prm, "SCAN_RT", 32);
        if (!(k = build_variant(rt, &prm, &prog))) return fail("variant build");
    } else if (mcl_runtime_kernel(rt, "scan_prefill", &k) != MCL_OK) {
        return fail("kernel");
    }
    mcl_scan_args args = {xc, dbc, xz, w, bdt, A, D, y, MCL_DTYPE_F32, di, R, N,
                          (uint64_t)di, 2 * di}; /* z: Mamba-1's second half of xz */
    mcl_kern_state ks = {st, 0, sl, (uint64_t)di * (uint64_t)N};
    double *ms = malloc((size_t)reps * sizeof *ms);
    if (!ms) return 2;
    const char *names[4];
    double t[4];
    for (int r = -2; r < reps; r++) { /* two warm-up launches */
        if (mcl_kern_scan_prefill_with(rt, k, &prm, &args, &ks, ss, batch) != MCL_OK) return fail("launch");
        if (mcl_runtime_finish(rt) != MCL_OK) return fail("finish");
        int n = mcl_runtime_profile_take(rt, names, t, 4);
        if (r >= 0) ms[r] = n > 0 ? t[0] : 0.0;
    }
    qsort(ms, (size_t)reps, sizeof *ms, cmp_double);
    double med = ms[reps / 2];
    double cuda_bytes = (double)T * di * 16.0 + (double)T * 2 * N * 4.0;
    double our_bytes = (double)T * di * 12.0 + (double)T * ldb * 4.0 + 2.0 * batch * di * N * 4.0;
    char defs[512] = "";
    mcl_params_defines(&prm, defs, sizeof defs);
    printf("scan_prefill batch %d d_inner %d L %d d_state %d dt_rank %d (%s) on %s\n", batch, di, L, N, R,
           defs, rt->dev.name);
    printf("median %.4f ms (min %.4f, max %.4f, %d runs)  cuda-eq %.1f GB/s  actual %.1f GB/s\n", med,
           ms[0], ms[reps - 1], reps, cuda_bytes / med / 1e6, our_bytes / med / 1e6);
    free(ms);
    free(starts);
    free(slots);
    cl_mem all[] = {xc, dbc, xz, w, bdt, A, D, st, y, ss, sl};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) clReleaseMemObject(all[i]);
    if (prog.program) {
        clReleaseKernel(k);
        mcl_program_release(&prog);
    }
    mcl_runtime_free(rt);
    return 0;
}
