/* gemm_timing: times the matrix-product paths of src/ops/gemm.c.
 *
 * usage: gemm_timing M N K f32|f16|bf16 [reps] [--paths mma,simt,clblast]
 *                    [--ptx DIR] [--options STR] [--set NAME=V,NAME=V ...]...
 * --options STR is appended to the build options of the sets' programs, and
 * their build logs' lines naming registers, spills or stack are printed
 * (NVIDIA: --options -cl-nv-verbose gives ptxas's report per kernel).
 * For each path (and, for each --set, gemm.cl rebuilt with those tunables
 * over its current ones), prints the mean wall time of one product (all its
 * launches: split, GEMM, split-K reduction, widening) over `reps` (default
 * 20) products enqueued back to back after a warm-up, TFLOP/s =
 * 2*M*N*K / time, and
 * the largest |C - C_simt| / max|C_simt| against the gemm_simt result.
 * Built by meson, not run as a test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/half.h"
#include "ops/gemm.h"
#include "runtime/runtime.h"
#include "base/dtype.h"
#include "tune/tune_kern.h"

typedef struct job {
    int M, N, K, reps;
    mcl_dtype dt;
    cl_mem W, A, C;
    float *ref, *got;
} job;

/* Mean wall time (ms) of reps products enqueued back to back after a
 * warm-up (profiling events are not used: CLBlast's event covers only part
 * of its work). */
static mcl_status time_path(mcl_runtime *rt, const job *j, mcl_gemm_path p, double *mean)
{
    MCL_TRY(mcl_op_matmul_path(rt, p, "gemm", j->W, j->dt, j->N, j->K, j->A, j->M, 0.0f, j->C));
    MCL_TRY(mcl_runtime_finish(rt));
    double t0 = mcl_now_ms();
    for (int r = 0; r < j->reps; r++)
        MCL_TRY(mcl_op_matmul_path(rt, p, "gemm", j->W, j->dt, j->N, j->K, j->A, j->M, 0.0f, j->C));
    MCL_TRY(mcl_runtime_finish(rt));
    *mean = (mcl_now_ms() - t0) / j->reps;
    return MCL_OK;
}

static mcl_status read_c(mcl_runtime *rt, const job *j, float *out)
{
    MCL_CL_CHECK(clEnqueueReadBuffer(rt->queue, j->C, CL_TRUE, 0, (size_t)j->M * j->N * 4, out, 0,
                                     NULL, NULL), "reading C");
    return MCL_OK;
}

static mcl_status run_paths(mcl_runtime *rt, job *j, const char *paths, const char *label)
{
    static const mcl_gemm_path all[] = {MCL_GEMM_MMA, MCL_GEMM_SIMT, MCL_GEMM_CLBLAST, MCL_GEMM_CPU};
    size_t mn = (size_t)j->M * j->N;
    MCL_TRY(mcl_op_matmul_path(rt, MCL_GEMM_SIMT, "gemm", j->W, j->dt, j->N, j->K, j->A, j->M, 0.0f, j->C));
    MCL_TRY(read_c(rt, j, j->ref));
    double scale = 0.0;
    for (size_t i = 0; i < mn; i++) scale = fmax(scale, fabs(j->ref[i]));
    for (int i = 0; i < 4; i++) {
        if (!strstr(paths, mcl_gemm_path_name(all[i]))) continue;
        if (all[i] == MCL_GEMM_CPU && rt->dev.type != MCL_DEVICE_TYPE_CPU) continue;
        if (all[i] == MCL_GEMM_MMA && (!mcl_caps_on(&rt->caps, MCL_CAP_MMA) || j->dt == MCL_DTYPE_F32)) {
            printf("%-24s %-7s off (%s)\n", label, "mma", rt->caps.cap[MCL_CAP_MMA].reason);
            continue;
        }
        double ms = 0.0;
        MCL_TRY(time_path(rt, j, all[i], &ms));
        MCL_TRY(read_c(rt, j, j->got));
        double err = 0.0;
        for (size_t e = 0; e < mn; e++) err = fmax(err, fabs(j->got[e] - j->ref[e]));
        printf("%-24s %-7s M %d N %d K %d dtype %s  %.4f ms  %.1f TFLOP/s  max err %.3g (rel %.3g)\n", label,
               mcl_gemm_path_name(all[i]), j->M, j->N, j->K, mcl_dtype_name(j->dt), ms,
               2.0 * j->M * j->N * (double)j->K / ms / 1e9, err, scale > 0 ? err / scale : err);
    }
    return MCL_OK;
}

static mcl_status upload(mcl_runtime *rt, const void *host, size_t bytes, cl_mem *out)
{
    MCL_TRY(mcl_buffer_create(rt, CL_MEM_READ_WRITE, bytes, "gemm_timing", out));
    MCL_CL_CHECK(clEnqueueWriteBuffer(rt->queue, *out, CL_TRUE, 0, bytes, host, 0, NULL, NULL), "upload");
    return MCL_OK;
}

/* With --ptx DIR: the binary of the gemm.cl program now built (NVIDIA's
 * OpenCL gives PTX text) into DIR/gemm-<idx>.ptx, its label into
 * DIR/gemm-<idx>.txt, for ptxas -v and the SASS (tools/gemm9_device.sh). */
static void dump_binary(const mcl_runtime *rt, const char *dir, int idx, const char *label)
{
    int c = mcl_runtime_fallback(rt, MCL_F_GEMM);
    if (!dir || c < 0) return;
    cl_program prog = rt->programs[rt->configs[c].program].program;
    size_t size = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) != CL_SUCCESS || !size) return;
    unsigned char *b = malloc(size);
    char path[1024];
    if (b && clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof b, &b, NULL) == CL_SUCCESS) {
        snprintf(path, sizeof path, "%s/gemm-%d.ptx", dir, idx);
        FILE *f = fopen(path, "wb");
        if (f) fwrite(b, 1, size, f), fclose(f);
        snprintf(path, sizeof path, "%s/gemm-%d.txt", dir, idx);
        if ((f = fopen(path, "w"))) fprintf(f, "%s\n", label), fclose(f);
    }
    free(b);
}

/* With --options: the lines of the gemm.cl program's build log that name
 * registers, spills or stack (NVIDIA's -cl-nv-verbose passes ptxas's
 * report there), prefixed with label. */
static void print_log(const mcl_runtime *rt, const char *label)
{
    int c = mcl_runtime_fallback(rt, MCL_F_GEMM);
    if (c < 0) return;
    char *log = NULL;
    if (mcl_program_log(rt->programs[rt->configs[c].program].program, rt->device, &log) != MCL_OK) return;
    for (char *l = strtok(log, "\n"); l; l = strtok(NULL, "\n"))
        if (strstr(l, "gemm_mma") || strstr(l, "registers") || strstr(l, "spill") || strstr(l, "stack"))
            printf("log %s: %s\n", label, l);
    free(log);
}

/* Applies "NAME=V,NAME=V" over p. */
static void apply_set(mcl_params *p, const char *spec)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        char *eq = strchr(t, '=');
        if (eq) *eq = '\0', mcl_params_set(p, t, strtol(eq + 1, NULL, 10));
    }
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: gemm_timing M N K f32|f16|bf16 [reps] [--paths LIST] [--ptx DIR] [--options STR] [--set N=V,...]...\n");
        return 2;
    }
    job j = {atoi(argv[1]), atoi(argv[2]), atoi(argv[3]), 20, MCL_DTYPE_F16, NULL, NULL, NULL, NULL, NULL};
    if (!mcl_dtype_parse(argv[4], &j.dt)) return fprintf(stderr, "bad dtype\n"), 2;
    const char *paths = "mma,simt,clblast", *ptx_dir = NULL, *extra = NULL;
    int first_set = argc;
    for (int i = 5; i < argc; i++) {
        if (strcmp(argv[i], "--paths") == 0 && i + 1 < argc) paths = argv[++i];
        else if (strcmp(argv[i], "--ptx") == 0 && i + 1 < argc) ptx_dir = argv[++i];
        else if (strcmp(argv[i], "--options") == 0 && i + 1 < argc) extra = argv[++i];
        else if (strcmp(argv[i], "--set") == 0) { first_set = i; break; }
        else j.reps = atoi(argv[i]);
    }
    mcl_runtime_options o = {0};
    mcl_runtime *rt = NULL;
    if (mcl_runtime_create(&o, &rt) != MCL_OK) return fprintf(stderr, "%s\n", mcl_last_error()), 1;
    size_t wn = (size_t)j.N * j.K, an = (size_t)j.M * j.K, mn = (size_t)j.M * j.N;
    float *wf = malloc(wn * 4), *af = malloc(an * 4);
    void *w = malloc(wn * 4);
    j.ref = malloc(mn * 4);
    j.got = malloc(mn * 4);
    if (!wf || !af || !w || !j.ref || !j.got) return fprintf(stderr, "out of memory\n"), 1;
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < wn; i++) s ^= s << 13, s ^= s >> 7, s ^= s << 17, wf[i] = (float)((s >> 11) % 2001) / 1000.0f - 1.0f;
    for (size_t i = 0; i < an; i++) s ^= s << 13, s ^= s >> 7, s ^= s << 17, af[i] = (float)((s >> 11) % 2001) / 1000.0f - 1.0f;
    mcl_status st = mcl_half_convert_from_f32(wf, j.dt, w, wn);
    if (st == MCL_OK) st = upload(rt, w, wn * mcl_half_dtype_size(j.dt), &j.W);
    if (st == MCL_OK) st = upload(rt, af, an * 4, &j.A);
    if (st == MCL_OK) st = mcl_buffer_create(rt, CL_MEM_READ_WRITE, mn * 4, "C", &j.C);
    printf("device %s; mma: %s %s\n", rt->dev.name, mcl_caps_on(&rt->caps, MCL_CAP_MMA) ? "on" : "off",
           rt->caps.cap[MCL_CAP_MMA].reason);
    dump_binary(rt, ptx_dir, 0, "default");
    if (st == MCL_OK) st = run_paths(rt, &j, paths, "default");
    size_t bl = strlen(rt->base_options);
    if (extra && bl + strlen(extra) + 2 < sizeof rt->base_options) /* for the sets' builds only */
        snprintf(rt->base_options + bl, sizeof rt->base_options - bl, " %s", extra);
    const mcl_params *base = mcl_runtime_params(rt, MCL_F_GEMM);
    mcl_params b0 = base ? *base : (mcl_params){0};
    for (int i = first_set; st == MCL_OK && i + 1 < argc; i += 2) {
        mcl_params p = b0;
        apply_set(&p, argv[i + 1]);
        if (!mcl_tune_gemm_fits(&rt->dev, &p)) {
            printf("%-24s does not fit the device\n", argv[i + 1]);
            continue;
        }
        st = mcl_runtime_rebuild(rt, MCL_F_GEMM, &p);
        if (st != MCL_OK) { /* reported; the next set is built afresh */
            printf("%-24s build failed: %.300s\n", argv[i + 1], mcl_last_error());
            st = MCL_OK;
            continue;
        }
        dump_binary(rt, ptx_dir, (i - first_set) / 2 + 1, argv[i + 1]);
        if (extra) print_log(rt, argv[i + 1]);
        st = run_paths(rt, &j, paths, argv[i + 1]);
    }
    if (st != MCL_OK) fprintf(stderr, "gemm_timing: %s\n", mcl_last_error());
    mcl_buffer_release(&j.W);
    mcl_buffer_release(&j.A);
    mcl_buffer_release(&j.C);
    free(wf), free(af), free(w), free(j.ref), free(j.got);
    mcl_runtime_free(rt);
    return st == MCL_OK ? 0 : 1;
}
