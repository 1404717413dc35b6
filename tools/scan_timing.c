/* scan_timing: times scan_prefill alone with profiling events.
 *
 *   scan_timing BATCH D_INNER L [D_STATE=16] [DT_RANK=48] [REPS=20] [DEVICE]
 *
 * Random inputs (F32 W_dt), BATCH sequences of L tokens each, the
 * configuration the runtime picks for (BATCH, D_INNER). Prints the median kernel time and two rates:
 *  - "cuda-eq GB/s": the bytes the CUDA selective-scan kernel moves (u, Δ, z,
 *    out in fp32 per (t,d) plus B and C per t), for comparison with issue 7;
 *  - "actual GB/s": what scan_prefill moves (x, z, y per (t,d), one dbc row
 *    per t, the state in and out).
 * MCL_SCAN_SET="SCAN_NSG=8 SCAN_TT=4" rebuilds scan.cl with those values
 * over the defaults (SCAN_RT re-derived unless given), to time variants;
 * with MCL_SCAN_BASE=picked over the configuration the runtime picks for the
 * shape instead (e.g. its built-in row with SCAN_DTIN 2 instead of 3).
 * MCL_SCAN_WDT=f16 or bf16: W_dt stored in that dtype (the models' F16 or
 * BF16 dt_proj weights; SCAN_DTIN 2's GEMM then takes the tensor cores
 * where the mma capability is on) instead of F32.
 *
 *   scan_timing --sweep [PART/PARTS] [--build-only] B,D,L [B,D,L ...]
 *
 * times every point of a grid of scan.cl configurations (with SCAN_NSEG,
 * SCAN_DTIN (0-3: 3 is scan_dt2), SCAN_PREF, SCAN_DTV (4, 8; 16 for scan_dt2), SCAN_WARP, SCAN_WL and SCAN_SUNR, which the tuning family's space leaves out; with
 * SCAN_DTIN the time is the dt pre-pass's launches plus the scan's) (sweep_axes below; those mcl_tune_scan_fits refuses are
 * skipped) at each shape (D_STATE 16, DT_RANK D/32 as `mambacl bench`),
 * each also checked against the picked configuration (one launch from the
 * same starting state: "check B D L ERR ok|BAD DEFINES"),
 * and first the configuration the runtime picks for that shape. One line per
 * (configuration, shape): "sweep B D L ms DEFINES", then "best B D L ms
 * DEFINES" per shape. PART/PARTS takes every PARTS-th point from PART (0-based);
 * --build-only only compiles them into the binary cache (run the parts in
 * parallel first, then one timing process). MCL_SWEEP_KEEP (an extended
 * regex) keeps only the points whose -D list matches it; --list only prints
 * the kept points that fit ("point I DEFINES") on an H200-like record (a
 * GPU, 48 KiB of local memory, 1024 work-items).
 * Not a test: built by meson for the integrator to run on the GPU. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <regex.h>

#include "base/error.h"
#include "base/half.h"
#include "runtime/program.h"
#include "runtime/runtime.h"
#include "ops/kern_scan.h"
#include "tune/tune_scan.h"
#include "device/device.h"

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

/* random_buffer's values stored as dt (F32, F16 or BF16). */
static cl_mem random_weights(mcl_runtime *rt, size_t n, float lo, float hi, unsigned *seed, mcl_dtype dt)
{
    if (dt == MCL_DTYPE_F32) return random_buffer(rt, n, lo, hi, seed);
    float *h = malloc(n * sizeof *h);
    void *w = malloc(n * 2);
    cl_mem m = NULL;
    if (h && w) {
        for (size_t i = 0; i < n; i++) {
            *seed = *seed * 1103515245u + 12345u;
            h[i] = lo + (hi - lo) * (float)((*seed >> 8) & 0xffff) / 65536.0f;
        }
        if (mcl_half_convert_from_f32(h, dt, w, n) == MCL_OK &&
            mcl_buffer_create(rt, CL_MEM_READ_WRITE, n * 2, "scan_timing", &m) == MCL_OK &&
            clEnqueueWriteBuffer(rt->queue, m, CL_TRUE, 0, n * 2, w, 0, NULL, NULL) != CL_SUCCESS)
            mcl_buffer_release(&m);
    }
    free(h);
    free(w);
    return m;
}

/* MCL_SCAN_WDT: f32 (unset), f16 or bf16. */
static mcl_dtype wdt_from_env(void)
{
    const char *s = getenv("MCL_SCAN_WDT");
    if (s && strcmp(s, "f16") == 0) return MCL_DTYPE_F16;
    if (s && strcmp(s, "bf16") == 0) return MCL_DTYPE_BF16;
    return MCL_DTYPE_F32;
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
        rt_given |= strcmp(name, MCL_T_SCAN_RT) == 0;
        env += used;
        n++;
    }
    if (n && !rt_given) mcl_params_set(p, MCL_T_SCAN_RT, 64);
    return n > 0;
}

/* Builds scan.cl with p (through the binary cache) and returns its kernel. */
static cl_kernel build_variant(mcl_runtime *rt, const mcl_params *p, mcl_program *prog)
{
    cl_int err;
    if (mcl_runtime_build_program(rt, MCL_F_SCAN, p, prog) != MCL_OK) return NULL;
    cl_kernel k = clCreateKernel(prog->program, "scan_prefill", &err);
    return err == CL_SUCCESS ? k : NULL;
}

static int fail(const char *what)
{
    fprintf(stderr, "scan_timing: %s: %s\n", what, mcl_last_error());
    return 1;
}

/* ---- --sweep ---------------------------------------------------------- */

typedef struct sweep_shape {
    int batch, di, L, N, R;
    cl_mem xc, dbc, xz, w, bdt, A, D, st, st0, y, ss, sl;
    float *yref; /* y of the picked configuration from st0 (--sweep's check) */
    double best_ms;
    char best[256];
} sweep_shape;

/* The grid of --sweep (SCAN_NSEG, SCAN_DTIN, SCAN_PREF beside the tuning space's axes; TT 16 never won on the H200). */
static const long sweep_dch[] = {2, 4, 8, 16, 32}, sweep_nsg[] = {1, 2, 4, 8}, sweep_tt[] = {4, 8};
static const long sweep_items[] = {2, 4, 8, 16}, sweep_keepb[] = {0, 1}, sweep_nseg[] = {1, 2, 4, 8, 16};
static const long sweep_dtin[] = {0, 1, 2, 3}, sweep_pref[] = {0, 1}, sweep_dtv[] = {4, 8, 16}, sweep_warp[] = {0, 1};
static const long sweep_wl[] = {32, 16, 8}, sweep_sunr[] = {16, 4, 2, 1};
#define SWEEP_N (4 * 3 * 2 * 5 * 4 * 2 * 4 * 2 * 5 * 4 * 2 * 3)

/* Point i of the grid over the device's defaults, RT derived; false when it does not fit. */
static bool sweep_point(const mcl_device_info *dev, int i, mcl_params *p)
{
    memset(p, 0, sizeof *p);
    mcl_tune_scan_defaults(dev, p);
    mcl_params_set(p, MCL_T_SCAN_SUNR, sweep_sunr[i % 4]);
    i /= 4;
    mcl_params_set(p, MCL_T_SCAN_WARP, sweep_warp[i % 2]);
    i /= 2;
    mcl_params_set(p, MCL_T_SCAN_WL, sweep_wl[i % 3]);
    i /= 3;
    mcl_params_set(p, MCL_T_SCAN_DTV, sweep_dtv[i % 3]);
    i /= 3;
    mcl_params_set(p, MCL_T_SCAN_PREF, sweep_pref[i % 2]);
    i /= 2;
    mcl_params_set(p, MCL_T_SCAN_DTIN, sweep_dtin[i % 4]);
    i /= 4;
    mcl_params_set(p, MCL_T_SCAN_NSEG, sweep_nseg[i % 5]);
    i /= 5;
    mcl_params_set(p, MCL_T_SCAN_KEEPB, sweep_keepb[i % 2]);
    i /= 2;
    mcl_params_set(p, MCL_T_SCAN_ITEMS, sweep_items[i % 4]);
    i /= 4;
    mcl_params_set(p, MCL_T_SCAN_TT, sweep_tt[i % 2]);
    i /= 2;
    mcl_params_set(p, MCL_T_SCAN_NSG, sweep_nsg[i % 4]);
    i /= 4;
    mcl_params_set(p, MCL_T_SCAN_DCH, sweep_dch[i % 5]);
    for (long r = 64; r >= 8; r /= 2) {
        mcl_params_set(p, MCL_T_SCAN_RT, r);
        if (mcl_tune_scan_fits(dev, p)) return true;
    }
    return false;
}

static bool sweep_alloc(mcl_runtime *rt, sweep_shape *s)
{
    unsigned seed = 1;
    size_t T = (size_t)s->batch * (size_t)s->L, ldb = (size_t)(s->R + 2 * s->N), di = (size_t)s->di;
    s->xc = random_buffer(rt, T * di, -1, 1, &seed);
    s->dbc = random_buffer(rt, T * ldb, -1, 1, &seed);
    s->xz = random_buffer(rt, T * 2 * di, -2, 2, &seed);
    s->w = random_buffer(rt, di * (size_t)s->R, -0.2f, 0.2f, &seed);
    s->bdt = random_buffer(rt, di, -4, -2, &seed);
    s->A = random_buffer(rt, di * (size_t)s->N, -8, -1, &seed);
    s->D = random_buffer(rt, di, 0, 1, &seed);
    s->st = random_buffer(rt, (size_t)s->batch * di * (size_t)s->N, -1, 1, &seed);
    s->st0 = random_buffer(rt, (size_t)s->batch * di * (size_t)s->N, -1, 1, &seed);
    s->y = random_buffer(rt, T * di, 0, 0, &seed);
    int *starts = malloc(((size_t)s->batch + 1) * sizeof *starts), *slots = malloc((size_t)s->batch * sizeof *slots);
    bool ok = s->xc && s->dbc && s->xz && s->w && s->bdt && s->A && s->D && s->st && s->st0 && s->y && starts && slots &&
              mcl_buffer_create(rt, CL_MEM_READ_WRITE, ((size_t)s->batch + 1) * 4, "seq_start", &s->ss) == MCL_OK &&
              mcl_buffer_create(rt, CL_MEM_READ_WRITE, (size_t)s->batch * 4, "slot", &s->sl) == MCL_OK;
    if (ok) {
        for (int b = 0; b <= s->batch; b++) starts[b] = b * s->L;
        for (int b = 0; b < s->batch; b++) slots[b] = b;
        ok = clEnqueueWriteBuffer(rt->queue, s->ss, CL_TRUE, 0, ((size_t)s->batch + 1) * 4, starts, 0, NULL,
                                  NULL) == CL_SUCCESS &&
             clEnqueueWriteBuffer(rt->queue, s->sl, CL_TRUE, 0, (size_t)s->batch * 4, slots, 0, NULL, NULL) ==
                 CL_SUCCESS;
    }
    free(starts);
    free(slots);
    return ok;
}

/* Median kernel time of `reps` launches after one warm-up; < 0 on failure.
 * *pre_ms: the median of the launches before the scan's own (the dt
 * pre-pass of SCAN_DTIN; 0 without). */
static double sweep_time(mcl_runtime *rt, cl_kernel k, const mcl_params *p, sweep_shape *s, int reps,
                         double *pre_ms)
{
    mcl_scan_args args = {s->xc, s->dbc, s->xz, s->w, s->bdt, s->A, s->D, s->y, MCL_DTYPE_F32, s->di, s->R, s->N,
                          (uint64_t)s->di, 2 * s->di, s->batch * s->L};
    mcl_kern_state ks = {s->st, 0, s->sl, (uint64_t)s->di * (uint64_t)s->N};
    double ms[64], pre[64];
    const char *names[16];
    double t[16];
    if (reps > 64) reps = 64;
    for (int r = -1; r < reps; r++) {
        if (mcl_kern_scan_prefill_with(rt, k, p, &args, &ks, s->ss, s->batch) != MCL_OK) return -1;
        if (mcl_runtime_finish(rt) != MCL_OK) return -1;
        int n = mcl_runtime_profile_take(rt, names, t, 16);
        double sum = 0, sp = 0;
        for (int j = 0; j < n; j++) {
            sum += t[j];
            if (strcmp(names[j], "scan_prefill") != 0 && strcmp(names[j], "scan_summary") != 0 &&
                strcmp(names[j], "scan_warp") != 0)
                sp += t[j];
        }
        if (r >= 0) ms[r] = sum, pre[r] = sp;
    }
    qsort(ms, (size_t)reps, sizeof *ms, cmp_double);
    qsort(pre, (size_t)reps, sizeof *pre, cmp_double);
    *pre_ms = pre[reps / 2];
    return ms[reps / 2];
}

/* One launch from the starting state st0, its y into out [T, di]; false on failure. */
static bool sweep_run_once(mcl_runtime *rt, cl_kernel k, const mcl_params *p, sweep_shape *s, float *out)
{
    mcl_scan_args args = {s->xc, s->dbc, s->xz, s->w, s->bdt, s->A, s->D, s->y, MCL_DTYPE_F32, s->di, s->R, s->N,
                          (uint64_t)s->di, 2 * s->di, s->batch * s->L};
    mcl_kern_state ks = {s->st, 0, s->sl, (uint64_t)s->di * (uint64_t)s->N};
    size_t sb = (size_t)s->batch * s->di * s->N * 4, yb = (size_t)s->batch * s->L * s->di * 4;
    if (clEnqueueCopyBuffer(rt->queue, s->st0, s->st, 0, 0, sb, 0, NULL, NULL) != CL_SUCCESS) return false;
    if (mcl_kern_scan_prefill_with(rt, k, p, &args, &ks, s->ss, s->batch) != MCL_OK) return false;
    return clEnqueueReadBuffer(rt->queue, s->y, CL_TRUE, 0, yb, out, 0, NULL, NULL) == CL_SUCCESS;
}

/* "check B D L ERR ok|BAD DEFINES": the largest |y - yref| / (|yref| + 1e-2)
 * of one launch from st0 against the picked configuration's (BAD above 2e-3). */
static void sweep_check(mcl_runtime *rt, cl_kernel k, const mcl_params *p, sweep_shape *s)
{
    size_t n = (size_t)s->batch * s->L * s->di;
    float *y = s->yref ? malloc(n * sizeof *y) : NULL;
    char defs[256] = "";
    double err = -1;
    mcl_params_defines(p, defs, sizeof defs);
    if (y && sweep_run_once(rt, k, p, s, y)) {
        err = 0;
        for (size_t i = 0; i < n; i++) {
            double e = fabs((double)y[i] - s->yref[i]) / (fabs((double)s->yref[i]) + 1e-2);
            if (!(e <= err)) err = e; /* NaN counts */
        }
    }
    printf("check %d %d %d %.2e %s %s\n", s->batch, s->di, s->L, err, err >= 0 && err <= 2e-3 ? "ok" : "BAD", defs);
    free(y);
}

static void sweep_record(sweep_shape *s, const char *tag, const mcl_params *p, double ms, double pre_ms)
{
    char defs[256] = "";
    mcl_params_defines(p, defs, sizeof defs);
    printf("%s %d %d %d %.4f %s\n", tag, s->batch, s->di, s->L, ms, defs);
    if (pre_ms > 0) printf("pre %d %d %d %.4f %s\n", s->batch, s->di, s->L, pre_ms, defs);
    if (ms > 0 && (s->best_ms <= 0 || ms < s->best_ms)) {
        s->best_ms = ms;
        snprintf(s->best, sizeof s->best, "%s", defs);
    }
}

static int sweep_main(int argc, char **argv)
{
    int part = 0, parts = 1, ns = 0;
    bool build_only = false, list = false;
    sweep_shape sh[16];
    memset(sh, 0, sizeof sh);
    for (int i = 2; i < argc; i++) {
        int b, d, l, k, n;
        if (strcmp(argv[i], "--build-only") == 0) build_only = true;
        else if (strcmp(argv[i], "--list") == 0) build_only = list = true;
        else if (!strchr(argv[i], ',') && sscanf(argv[i], "%d/%d", &k, &n) == 2) part = k, parts = n;
        else if (sscanf(argv[i], "%d,%d,%d", &b, &d, &l) == 3 && ns < 16 && b > 0 && d > 0 && l > 0)
            sh[ns++] = (sweep_shape){.batch = b, .di = d, .L = l, .N = 16, .R = d / 32 > 0 ? d / 32 : 1};
        else {
            fprintf(stderr, "scan_timing --sweep: bad argument '%s'\n", argv[i]);
            return 2;
        }
    }
    const char *keep_env = getenv("MCL_SWEEP_KEEP");
    regex_t keep;
    bool keep_set = keep_env && *keep_env;
    if (keep_set && regcomp(&keep, keep_env, REG_EXTENDED | REG_NOSUB) != 0) {
        fprintf(stderr, "scan_timing --sweep: bad MCL_SWEEP_KEEP regex\n");
        return 2;
    }
    if (parts < 1 || part < 0 || part >= parts) {
        fprintf(stderr, "scan_timing --sweep: bad part %d/%d\n", part, parts);
        return 2;
    }
    mcl_runtime_options o = {.profiling = true};
    mcl_runtime *rt = NULL;
    if (mcl_runtime_create(&o, &rt) != MCL_OK) return fail("runtime");
    if (!build_only) {
        char key[512];
        mcl_device_key(&rt->dev, key, sizeof key);
        printf("device\t%s\t%s\t%s\t%s\n", key, rt->dev.platform, rt->dev.name, rt->dev.driver_version);
        for (int i = 0; i < ns; i++) {
            const mcl_params *pp;
            cl_kernel k;
            mcl_shape shp = {{[MCL_SHAPE_D_INNER] = sh[i].di, [MCL_SHAPE_TOKENS] = sh[i].batch * sh[i].L,
                              [MCL_SHAPE_BATCH] = sh[i].batch}};
            if (!sweep_alloc(rt, &sh[i])) return fail("buffers");
            if (mcl_runtime_pick_kernel(rt, MCL_FAM_SCAN, &shp, "scan_prefill", &k, &pp) != MCL_OK)
                return fail("pick");
            double pre, ms = sweep_time(rt, k, pp, &sh[i], 20, &pre);
            sweep_record(&sh[i], "picked", pp, ms, pre);
            sh[i].yref = malloc((size_t)sh[i].batch * sh[i].L * sh[i].di * sizeof(float));
            if (!sh[i].yref || !sweep_run_once(rt, k, pp, &sh[i], sh[i].yref)) return fail("reference run");
            sh[i].best_ms = 0;
        }
    }
    mcl_device_info dev = rt->dev;
    if (list) { /* an H200-like record: a GPU with 48 KiB of local memory and 1024 work-items */
        dev.type = MCL_DEVICE_TYPE_GPU;
        dev.local_mem_bytes = 48 * 1024;
        dev.max_work_group_size = dev.max_work_item_sizes[0] = 1024;
    }
    for (int c = part; c < SWEEP_N; c += parts) {
        mcl_params p;
        mcl_program prog;
        memset(&prog, 0, sizeof prog);
        if (!sweep_point(&dev, c, &p)) continue;
        if (keep_set) {
            char defs[256] = "";
            mcl_params_defines(&p, defs, sizeof defs);
            if (regexec(&keep, defs, 0, NULL, 0) != 0) continue;
        }
        if (list) {
            char defs[256] = "";
            mcl_params_defines(&p, defs, sizeof defs);
            printf("point %d %s\n", c, defs);
            continue;
        }
        cl_kernel k = build_variant(rt, &p, &prog);
        if (!k) {
            fprintf(stderr, "scan_timing: point %d: %s\n", c, mcl_last_error());
            mcl_program_release(&prog);
            continue;
        }
        for (int i = 0; i < ns && !build_only; i++) {
            double pre, ms = sweep_time(rt, k, &p, &sh[i], 10, &pre);
            sweep_record(&sh[i], "sweep", &p, ms, pre);
            sweep_check(rt, k, &p, &sh[i]);
        }
        clReleaseKernel(k);
        mcl_program_release(&prog);
    }
    for (int i = 0; i < ns && !build_only; i++)
        printf("best %d %d %d %.4f %s\n", sh[i].batch, sh[i].di, sh[i].L, sh[i].best_ms, sh[i].best);
    mcl_runtime_free(rt);
    if (keep_set) regfree(&keep);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--sweep") == 0) return sweep_main(argc, argv);
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
        if (strcmp(reps_[i].file, MCL_F_SCAN) == 0)
            printf("scan.cl %s in %.0f ms\n", reps_[i].from_cache ? "from cache" : "built", reps_[i].build_ms);

    size_t T = (size_t)batch * (size_t)L, ldb = (size_t)(R + 2 * N);
    unsigned seed = 1;
    cl_mem xc = random_buffer(rt, T * di, -1, 1, &seed), dbc = random_buffer(rt, T * ldb, -1, 1, &seed);
    cl_mem xz = random_buffer(rt, T * 2 * di, -2, 2, &seed);
    mcl_dtype wdt = wdt_from_env();
    cl_mem w = random_weights(rt, (size_t)di * R, -0.2f, 0.2f, &seed, wdt);
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
    mcl_params prm = *mcl_runtime_params(rt, MCL_F_SCAN);
    mcl_program prog;
    memset(&prog, 0, sizeof prog);
    const char *base = getenv("MCL_SCAN_BASE");
    bool over_picked = base && strcmp(base, "picked") == 0;
    const mcl_params *picked;
    mcl_shape shp = {{[MCL_SHAPE_D_INNER] = di, [MCL_SHAPE_TOKENS] = (int)T, [MCL_SHAPE_BATCH] = batch}};
    if (mcl_runtime_pick_kernel(rt, MCL_FAM_SCAN, &shp, "scan_prefill", &k, &picked) != MCL_OK)
        return fail("kernel");
    if (over_picked) prm = *picked;
    if (apply_overrides(&prm)) {
        if (over_picked && !strstr(getenv("MCL_SCAN_SET"), "SCAN_RT=")) /* the picked row's, not 64 */
            mcl_params_set(&prm, MCL_T_SCAN_RT, mcl_params_get(picked, MCL_T_SCAN_RT, 64));
        if (mcl_tune_scan_local_bytes(&prm) > (long)rt->dev.local_mem_bytes)
            mcl_params_set(&prm, MCL_T_SCAN_RT, 32);
        if (!(k = build_variant(rt, &prm, &prog))) return fail("variant build");
    } else {
        prm = *picked;
    }
    mcl_scan_args args = {xc, dbc, xz, w, bdt, A, D, y, wdt, di, R, N,
                          (uint64_t)di, 2 * di, (int)T}; /* z: Mamba-1's second half of xz */
    mcl_kern_state ks = {st, 0, sl, (uint64_t)di * (uint64_t)N};
    double *ms = malloc((size_t)reps * sizeof *ms);
    if (!ms) return 2;
    const char *names[16];
    double t[16];
    for (int r = -2; r < reps; r++) { /* two warm-up launches */
        if (mcl_kern_scan_prefill_with(rt, k, &prm, &args, &ks, ss, batch) != MCL_OK) return fail("launch");
        if (mcl_runtime_finish(rt) != MCL_OK) return fail("finish");
        int n = mcl_runtime_profile_take(rt, names, t, 16);
        if (r >= 0) ms[r] = 0.0;
        for (int j = 0; j < n && r >= 0; j++) ms[r] += t[j]; /* the dt pre-pass, the summary and the scan */
    }
    qsort(ms, (size_t)reps, sizeof *ms, cmp_double);
    double med = ms[reps / 2];
    double cuda_bytes = (double)T * di * 16.0 + (double)T * 2 * N * 4.0;
    double our_bytes = (double)T * di * 12.0 + (double)T * ldb * 4.0 + 2.0 * batch * di * N * 4.0;
    char defs[512] = "";
    mcl_params_defines(&prm, defs, sizeof defs);
    printf("scan_prefill batch %d d_inner %d L %d d_state %d dt_rank %d W_dt %s (%s) on %s\n", batch, di, L, N, R,
           mcl_dtype_name(wdt), defs, rt->dev.name);
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
