/* scan_prefill and ssm_step against the sequential C reference (double
 * accumulation) on random inputs: edge lengths (1, 2, prime, a chunk, a chunk
 * + 1, several chunks), d_state 1/4/16/64, odd dt_rank (also above the W_dt
 * tile), F32/F16/BF16 W_dt, batches of unequal lengths in non-contiguous
 * slots, nonzero initial states; prefill of L then a step equals prefill of
 * L+1; z read through another row stride and offset than Mamba-1's;
 * GPU-shaped configurations (state-threads, B kept in registers);
 * sequences split across work-groups (SCAN_NSEG 3 and 7, and 2 with TT 1);
 * every configuration of the scan's and the step's tuning spaces that fits
 * the device; the defaults rules on device records of other devices. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/error.h"
#include "runtime/program.h"
#include "ref/ref_scan.h"
#include "runtime/runtime.h"
#include "ops/kern_scan.h"
#include "tune/tune_scan.h"
#include "space_cover.h"

/* Tolerances: the CUDA tests' fp32 bounds are rtol 6e-4, atol 2e-3. */
#define RTOL 2e-4
#define ATOL 2e-4

static mcl_runtime *rt;
static double max_abs_seen, max_rel_seen;

/* ---- random inputs --------------------------------------------------- */

static unsigned long long rng_state;

static double urand(void) /* [0, 1) */
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static float uni(double lo, double hi) { return (float)(lo + (hi - lo) * urand()); }

typedef struct scan_case {
    const char *name;
    int n_seqs;
    int lens[8];
    int d_inner, R, N, wdtype;
} scan_case;

/* > 0: gen() lays z out for the device at offset 3, row stride d_inner + z_pad
 * (not Mamba-1's second half of xz), so the kernels must follow the view. */
static int z_pad;

/* Host inputs and outputs of one launch. */
typedef struct host_data {
    int T, n_seqs, d_inner, R, N, wdtype;
    float *xc;          // [T, d_inner]
    float *dbc;         // [T, R+2N]
    float *xz;          // [T, 2*d_inner], z = cols d_inner.. (the reference's layout)
    uint64_t z_off;     /* z's view in the device copy of xz */
    int z_ld;
    void *w;            // [d_inner, R] in wdtype
    size_t wbytes;
    float *b_dt, *D;    // [d_inner]
    float *A;           // [d_inner, N]
    float *state;       // [pool]
    size_t pool;
    uint64_t state_off, slot_stride;
    int *seq_start;     // [n_seqs+1]
    int *slot;          // [n_seqs]
    float *y;           // [T, d_inner]
} host_data;

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    assert_non_null(p);
    return p;
}

static void fill(float *a, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) a[i] = uni(lo, hi);
}

static void gen_weights(host_data *h)
{
    size_t nw = (size_t)h->d_inner * h->R;
    size_t esz = h->wdtype == MCL_DTYPE_F32 ? 4 : 2;
    double a = 1.5 / sqrt((double)h->R); /* std of W·δ about 0.5 */
    h->wbytes = nw * esz;
    h->w = xcalloc(nw, esz);
    for (size_t i = 0; i < nw; i++) {
        float v = uni(-a, a);
        if (h->wdtype == MCL_DTYPE_F32) ((float *)h->w)[i] = v;
        else if (h->wdtype == MCL_DTYPE_F16) ((uint16_t *)h->w)[i] = ref_f32_to_f16(v);
        else ((uint16_t *)h->w)[i] = ref_f32_to_bf16(v);
    }
    for (int d = 0; d < h->d_inner; d++) {
        double delta0 = exp(log(0.001) + (log(0.1) - log(0.001)) * urand());
        h->b_dt[d] = (float)log(expm1(delta0)); /* softplus(b_dt) = delta0 */
        for (int n = 0; n < h->N; n++) h->A[(size_t)d * h->N + n] = -(float)(n + 1) * uni(0.5, 1.5);
    }
    h->b_dt[0] = 25.0f; /* the identity branch of softplus */
}

static void gen(const scan_case *c, unsigned long long seed, host_data *h)
{
    memset(h, 0, sizeof *h);
    rng_state = seed;
    h->n_seqs = c->n_seqs;
    h->d_inner = c->d_inner;
    h->R = c->R;
    h->N = c->N;
    h->wdtype = c->wdtype;
    h->seq_start = xcalloc((size_t)c->n_seqs + 1, sizeof(int));
    h->slot = xcalloc((size_t)c->n_seqs, sizeof(int));
    for (int b = 0; b < c->n_seqs; b++) {
        h->seq_start[b + 1] = h->seq_start[b] + c->lens[b];
        h->slot[b] = 2 * (c->n_seqs - 1 - b) + 1; /* reversed, every other slot */
    }
    h->T = h->seq_start[c->n_seqs];
    size_t T = (size_t)h->T, di = (size_t)c->d_inner, ldb = (size_t)(c->R + 2 * c->N);
    h->xc = xcalloc(T * di, sizeof(float));
    h->dbc = xcalloc(T * ldb, sizeof(float));
    h->xz = xcalloc(T * 2 * di, sizeof(float));
    h->y = xcalloc(T * di, sizeof(float));
    h->b_dt = xcalloc(di, sizeof(float));
    h->D = xcalloc(di, sizeof(float));
    h->A = xcalloc(di * (size_t)c->N, sizeof(float));
    fill(h->xc, T * di, -1, 1);
    fill(h->dbc, T * ldb, -1, 1);
    fill(h->xz, T * 2 * di, -3, 3);
    fill(h->D, di, 0.5, 1.5);
    gen_weights(h);
    h->z_off = z_pad ? 3 : di;
    h->z_ld = z_pad ? (int)di + z_pad : 2 * (int)di;
    h->state_off = 5;                        /* as if a layer before it */
    h->slot_stride = di * (size_t)c->N + 3;  /* padded slots */
    h->pool = h->state_off + (size_t)(2 * c->n_seqs + 1) * h->slot_stride;
    h->state = xcalloc(h->pool, sizeof(float));
    fill(h->state, h->pool, -1, 1);
}

static void host_free(host_data *h)
{
    free(h->xc);
    free(h->dbc);
    free(h->xz);
    free(h->w);
    free(h->b_dt);
    free(h->D);
    free(h->A);
    free(h->state);
    free(h->seq_start);
    free(h->slot);
    free(h->y);
    memset(h, 0, sizeof *h);
}

/* ---- device side ------------------------------------------------------ */

typedef struct dev_data {
    cl_mem xc, dbc, xz, w, b_dt, A, D, state, slot, seq_start, y;
} dev_data;

static cl_mem upload(const void *p, size_t bytes)
{
    cl_mem m = NULL;
    if (mcl_buffer_create(rt, CL_MEM_READ_WRITE, bytes, "test", &m) != MCL_OK)
        fail_msg("%s", mcl_last_error());
    if (bytes)
        assert_int_equal(clEnqueueWriteBuffer(rt->queue, m, CL_TRUE, 0, bytes, p, 0, NULL, NULL),
                         CL_SUCCESS);
    return m;
}

static void dev_upload(const host_data *h, dev_data *d)
{
    size_t T = (size_t)h->T, di = (size_t)h->d_inner;
    d->xc = upload(h->xc, T * di * 4);
    d->dbc = upload(h->dbc, T * (size_t)(h->R + 2 * h->N) * 4);
    if (h->z_off == di && h->z_ld == 2 * (int)di) {
        d->xz = upload(h->xz, T * 2 * di * 4);
    } else { /* z alone, in the case's layout */
        size_t n = T * (size_t)h->z_ld + h->z_off;
        float *z = xcalloc(n, sizeof(float));
        for (size_t t = 0; t < T; t++) memcpy(z + h->z_off + t * h->z_ld, h->xz + t * 2 * di + di, di * 4);
        d->xz = upload(z, n * 4);
        free(z);
    }
    d->w = upload(h->w, h->wbytes);
    d->b_dt = upload(h->b_dt, di * 4);
    d->A = upload(h->A, di * (size_t)h->N * 4);
    d->D = upload(h->D, di * 4);
    d->state = upload(h->state, h->pool * 4);
    d->slot = upload(h->slot, (size_t)h->n_seqs * 4);
    d->seq_start = upload(h->seq_start, ((size_t)h->n_seqs + 1) * 4);
    float *junk = xcalloc(T * di, sizeof(float));
    for (size_t i = 0; i < T * di; i++) junk[i] = NAN; /* every y must be written */
    d->y = upload(junk, T * di * 4);
    free(junk);
}

static void dev_free(dev_data *d)
{
    cl_mem *all[] = {&d->xc, &d->b_dt, &d->dbc, &d->xz, &d->w, &d->A,
                     &d->D, &d->state, &d->slot, &d->seq_start, &d->y};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) mcl_buffer_release(all[i]);
}

static void download(cl_mem m, void *p, size_t bytes)
{
    assert_int_equal(clEnqueueReadBuffer(rt->queue, m, CL_TRUE, 0, bytes, p, 0, NULL, NULL),
                     CL_SUCCESS);
}

/* The launch arguments; the launchers of src/ops/kern_scan.c bind them. */
static mcl_scan_args scan_args(const host_data *h, const dev_data *d)
{
    mcl_scan_args a = {.xc = d->xc, .dbc = d->dbc, .xz = d->xz, .w_dt = d->w, .b_dt = d->b_dt, .a = d->A,
                       .d = d->D, .y = d->y, .wdtype = (mcl_dtype)h->wdtype, .d_inner = h->d_inner,
                       .dt_rank = h->R, .d_state = h->N, .z_off = h->z_off, .z_ld = h->z_ld, .T = h->T};
    return a;
}

static void launch_prefill(cl_kernel k, const mcl_params *p, const host_data *h, dev_data *d)
{
    mcl_scan_args a = scan_args(h, d);
    mcl_kern_state ks = {d->state, h->state_off, d->slot, h->slot_stride};
    if (mcl_kern_scan_prefill_with(rt, k, p, &a, &ks, d->seq_start, h->n_seqs) != MCL_OK)
        fail_msg("%s", mcl_last_error());
}

static void launch_step(cl_kernel k, const mcl_params *p, const host_data *h, dev_data *d)
{
    mcl_scan_args a = scan_args(h, d);
    mcl_kern_state ks = {d->state, h->state_off, d->slot, h->slot_stride};
    if (mcl_kern_ssm_step_with(rt, k, p, &a, &ks, h->n_seqs) != MCL_OK) fail_msg("%s", mcl_last_error());
}

/* The parameters the runtime compiled a program with. */
static void runtime_params(const char *file, mcl_params *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < rt->n_programs; i++)
        if (strcmp(rt->programs[i].file, file) == 0) *out = rt->params[i];
}

/* Builds `file` with the given tunables without the binary cache: storing a
 * binary makes PoCL compile every kernel of the program for any work-group
 * size (seconds each; ssm_step.cl has two), which a test that launches one
 * kernel never uses; PoCL's own cache (POCL_CACHE_DIR) still keeps the
 * compiled program and kernel for the next run. The binary cache itself is
 * tested by test_cache. */
static cl_kernel build_config(const char *file, const char *kernel, const mcl_params *p,
                              mcl_program *prog)
{
    cl_int err;
    char saved[sizeof rt->cache_dir];
    memcpy(saved, rt->cache_dir, sizeof saved);
    rt->cache_dir[0] = '\0';
    mcl_status st = mcl_runtime_build_program(rt, file, p, prog);
    memcpy(rt->cache_dir, saved, sizeof saved);
    if (st != MCL_OK) fail_msg("%s", mcl_last_error());
    cl_kernel k = clCreateKernel(prog->program, kernel, &err);
    assert_int_equal(err, CL_SUCCESS);
    return k;
}

/* ---- comparison --------------------------------------------------------- */

/* Counts elements outside atol + rtol*|want|; records the largest errors. */
static int compare(const char *what, const float *got, const float *want, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        double g = got[i], w = want[i], e = fabs(g - w);
        if (!(e <= ATOL + RTOL * fabs(w))) {
            if (bad < 3) print_message("  %s[%zu]: got %.7g want %.7g\n", what, i, g, w);
            bad++;
        }
        if (e > max_abs_seen) max_abs_seen = e;
        if (fabs(w) > 1e-2 && e / fabs(w) > max_rel_seen) max_rel_seen = e / fabs(w);
    }
    return bad;
}

/* Runs the prefill (or step) on the device and the reference; returns the
 * number of mismatches in y and in the whole state pool. */
static int check_case(cl_kernel k, const mcl_params *p, const scan_case *c, bool step,
                      unsigned long long seed)
{
    host_data h;
    dev_data d;
    gen(c, seed, &h);
    dev_upload(&h, &d);
    if (step) launch_step(k, p, &h, &d);
    else launch_prefill(k, p, &h, &d);
    size_t ny = (size_t)h.T * h.d_inner;
    float *y = xcalloc(ny, sizeof(float)), *st = xcalloc(h.pool, sizeof(float));
    download(d.y, y, ny * 4);
    download(d.state, st, h.pool * 4);
    if (step)
        ref_ssm_step(h.xc, h.dbc, h.xz, h.w, h.wdtype, h.b_dt, h.A, h.D, h.state, h.state_off,
                     h.slot, h.slot_stride, h.n_seqs, h.d_inner, h.R, h.N, h.y);
    else
        ref_scan_prefill(h.xc, h.dbc, h.xz, h.w, h.wdtype, h.b_dt, h.A, h.D, h.state, h.state_off,
                         h.slot, h.slot_stride, h.seq_start, h.n_seqs, h.d_inner, h.R, h.N, h.y);
    int bad = compare("y", y, h.y, ny) + compare("state", st, h.state, h.pool);
    if (bad) print_message("case %s: %d mismatches\n", c->name, bad);
    free(y);
    free(st);
    dev_free(&d);
    host_free(&h);
    return bad;
}

/* ---- tests -------------------------------------------------------------- */

/* Cases that hit the edges of a configuration with chunk length `ch`. */
static int edge_cases(int ch, int rt_rows, scan_case *out)
{
    int r_big = rt_rows + 3; /* odd when rt_rows is a power of two: the tiled W_dt path */
    scan_case cs[] = {
        {"L=1", 1, {1}, 37, 5, 16, MCL_DTYPE_F32},
        {"L=2", 1, {2}, 37, 3, 4, MCL_DTYPE_F16},
        {"L=97", 1, {97}, 19, 7, 1, MCL_DTYPE_BF16},
        {"L=chunk N=64", 1, {ch}, 21, 33, 64, MCL_DTYPE_F32},
        {"L=chunk+1 R>tile", 1, {ch + 1}, 24, r_big, 16, MCL_DTYPE_F16},
        {"L=3chunks+5", 1, {3 * ch + 5}, 17, 49, 16, MCL_DTYPE_BF16},
        {"batch", 5, {ch + 1, 1, 97, 0, 2}, 33, 9, 16, MCL_DTYPE_F32},
        {"batch N=5", 3, {2 * ch + 3, 5, ch}, 9, 1, 5, MCL_DTYPE_BF16},
    };
    int n = (int)(sizeof cs / sizeof cs[0]);
    memcpy(out, cs, sizeof cs);
    return n;
}

static void test_prefill_edges(void **state)
{
    (void)state;
    mcl_params p;
    cl_kernel k;
    scan_case cs[16];
    runtime_params("scan.cl", &p);
    assert_int_equal(mcl_runtime_kernel(rt, "scan_prefill", &k), MCL_OK);
    int n = edge_cases((int)(mcl_params_get(&p, "SCAN_TT", 0) * mcl_params_get(&p, "SCAN_ITEMS", 0)),
                       (int)mcl_params_get(&p, "SCAN_RT", 0), cs);
    int bad = 0;
    for (int i = 0; i < n; i++) bad += check_case(k, &p, &cs[i], false, 100 + (unsigned)i);
    assert_int_equal(bad, 0);
}

/* The default configuration with the other exp (native_exp2 <-> exp). */
static void test_prefill_other_exp(void **state)
{
    (void)state;
    mcl_params p;
    mcl_program prog;
    scan_case cs[16];
    runtime_params("scan.cl", &p);
    mcl_params_set(&p, "SCAN_FAST_EXP", !mcl_params_get(&p, "SCAN_FAST_EXP", 0));
    cl_kernel k = build_config("scan.cl", "scan_prefill", &p, &prog);
    int n = edge_cases((int)(mcl_params_get(&p, "SCAN_TT", 0) * mcl_params_get(&p, "SCAN_ITEMS", 0)),
                       (int)mcl_params_get(&p, "SCAN_RT", 0), cs);
    int bad = 0;
    for (int i = 0; i < n; i++) bad += check_case(k, &p, &cs[i], false, 200 + (unsigned)i);
    clReleaseKernel(k);
    mcl_program_release(&prog);
    assert_int_equal(bad, 0);
}

/* GPU-shaped configurations (state-threads, long items, B kept in
 * registers) on this device, so that PoCL checks what the GPUs run. The GPU
 * rules see NVIDIA's 48 KiB of local memory, or this device's own limit when
 * it has less (derived values such as SCAN_RT follow it); the last two shapes
 * were the H200 built-in rows of session 4 (docs/perf/scan-h200*.json). A shape that does
 * not fit this device is skipped with a message, never launched. */
static void test_prefill_gpu_shapes(void **state)
{
    (void)state;
    mcl_device_info gpu = rt->dev;
    gpu.type = MCL_DEVICE_TYPE_GPU;
    gpu.local_mem_bytes = rt->dev.local_mem_bytes < 48 * 1024 ? rt->dev.local_mem_bytes : 48 * 1024;
    gpu.max_work_group_size = gpu.max_work_item_sizes[0] = 1024;
    const long shapes[][5] = {/* NSG, TT, ITEMS, KEEPB, DCH (0: the GPU default) */
                              {0, 0, 0, 0, 0},
                              {8, 4, 8, 1, 4},
                              {2, 8, 4, 1, 16},
                              {2, 4, 8, 0, 16},  /* the H200's built-in rows */
                              {1, 4, 4, 0, 32}};
    int bad = 0, ran = 0;
    for (size_t v = 0; v < sizeof shapes / sizeof shapes[0]; v++) {
        mcl_params p;
        mcl_program prog;
        scan_case cs[16];
        memset(&p, 0, sizeof p);
        mcl_tune_scan_defaults(&gpu, &p);
        const char *names[] = {"SCAN_NSG", "SCAN_TT", "SCAN_ITEMS", "SCAN_KEEPB", "SCAN_DCH"};
        for (int a = 0; a < 5; a++)
            if (shapes[v][0]) mcl_params_set(&p, names[a], shapes[v][a]);
        mcl_params_set(&p, "SCAN_FAST_EXP", 0);
        if (!mcl_tune_scan_fits(&gpu, &p) || (long)mcl_tune_scan_wg(&p) > (long)rt->dev.max_work_group_size) {
            print_message("GPU shape %zu skipped: beyond this device's local memory or work-group size\n", v);
            continue;
        }
        ran++;
        cl_kernel k = build_config("scan.cl", "scan_prefill", &p, &prog);
        int n = edge_cases((int)(mcl_params_get(&p, "SCAN_TT", 0) * mcl_params_get(&p, "SCAN_ITEMS", 0)),
                           (int)mcl_params_get(&p, "SCAN_RT", 0), cs);
        int b0 = bad;
        for (int i = 0; i < n; i++) bad += check_case(k, &p, &cs[i], false, 700 + (unsigned)(10 * v + i));
        if (bad > b0) {
            char defs[512] = "";
            mcl_params_defines(&p, defs, sizeof defs);
            print_message("config%s: %d mismatches\n", defs, bad - b0);
        }
        clReleaseKernel(k);
        mcl_program_release(&prog);
    }
    assert_true(ran > 0); /* at least the GPU defaults for this device's limits */
    assert_int_equal(bad, 0);
}

/* Sequences split across work-groups (SCAN_NSEG, compiled in): with chunk
 * ch and nseg segments the cuts fall at multiples of
 * ceil(ceil(L/nseg)/ch)*ch: L = 1 and 2 (one segment, the others empty),
 * a chunk, a chunk + 1 (a one-step segment), exact multiples, a prime, many
 * segments, unequal lengths (one empty), N = 64 (several state passes) and
 * N = 5; nonzero starting states throughout (gen). The runtime's
 * configuration with 3 and 7 segments, and one with one time-thread (TT = 1:
 * no scan levels) with 2. */
static void test_prefill_split(void **state)
{
    (void)state;
    const long variants[][2] = {{0, 3}, {0, 7}, {1, 2}}; /* TT = 1?, SCAN_NSEG */
    int bad = 0;
    for (int v = 0; v < 3; v++) {
        mcl_params p;
        mcl_program prog;
        runtime_params("scan.cl", &p);
        if (variants[v][0]) {
            mcl_params_set(&p, "SCAN_TT", 1);
            mcl_params_set(&p, "SCAN_NSG", 1);
        }
        mcl_params_set(&p, "SCAN_NSEG", variants[v][1]);
        cl_kernel k = build_config("scan.cl", "scan_prefill", &p, &prog);
        const int ch = (int)(mcl_params_get(&p, "SCAN_TT", 0) * mcl_params_get(&p, "SCAN_ITEMS", 0));
        const scan_case cs[] = {
            {"split L=1", 1, {1}, 19, 5, 16, MCL_DTYPE_F32},
            {"split L=2", 1, {2}, 21, 3, 4, MCL_DTYPE_F16},
            {"split L=chunk", 1, {ch}, 17, 7, 16, MCL_DTYPE_BF16},
            {"split L=chunk+1", 1, {ch + 1}, 18, 9, 16, MCL_DTYPE_F32},
            {"split L=2chunks", 1, {2 * ch}, 16, 4, 16, MCL_DTYPE_F32},
            {"split L=6chunks+1", 1, {6 * ch + 1}, 20, 6, 16, MCL_DTYPE_F16},
            {"split L=97", 1, {97}, 23, 5, 16, MCL_DTYPE_F32},
            {"split batch", 5, {3 * ch + 1, 1, 97, 0, 5 * ch}, 17, 5, 16, MCL_DTYPE_BF16},
            {"split N=64", 2, {4 * ch + 3, ch}, 9, 3, 64, MCL_DTYPE_F32},
            {"split N=5", 2, {2 * ch + 5, 3}, 11, 2, 5, MCL_DTYPE_F16},
        };
        for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
            int b = check_case(k, &p, &cs[i], false, 900 + (unsigned)(10 * v + (int)i));
            if (b) print_message("  (TT %ld, nseg %ld)\n", mcl_params_get(&p, "SCAN_TT", 0), variants[v][1]);
            bad += b;
        }
        clReleaseKernel(k);
        mcl_program_release(&prog);
    }
    assert_int_equal(bad, 0);
}

/* Δ given (SCAN_DTIN 1: scan_dt; 2: scan_dt_gather + mcl_op_matmul) and the
 * prefetch of the next chunk (SCAN_PREF), alone and together, on the
 * runtime's configuration (the edge cases: L = 1, 2, a prime, chunk,
 * chunk + 1, several chunks, unequal lengths with an empty sequence,
 * N = 64 and 5, nonzero starting states; one row (gemv) and many (GEMM) for
 * the pre-pass), split across work-groups (SCAN_NSEG 3, the split cases'
 * boundaries), and on the H200's built-in rows. Where the
 * mma capability is on, the SCAN_DTIN 2 variants run again with it off (the
 * GEMM's fallback). */
static void test_prefill_dtin_pref(void **state)
{
    (void)state;
    const long variants[][4] = {/* DTIN, PREF, NSEG, GPU row (0: the runtime's configuration) */
                                {2, 0, 1, 0}, {0, 1, 1, 0}, {1, 1, 1, 0}, {2, 1, 3, 0},
                                {1, 1, 1, 1}, {1, 1, 1, 2}, {1, 0, 1, 3}};
    const long rows[][5] = {/* DCH, NSG, TT, ITEMS, KEEPB of the H200's built-in rows (docs/perf/scan-h200-s5-*) */
                            {0}, {16, 2, 4, 8, 0}, {8, 4, 4, 16, 1}, {16, 2, 4, 16, 0}};
    bool mma = mcl_caps_on(&rt->caps, MCL_CAP_MMA);
    int bad = 0, ran = 0;
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        mcl_params p;
        mcl_program prog;
        scan_case cs[16];
        runtime_params("scan.cl", &p);
        if (variants[v][3]) { /* a GPU row, within this device's limits */
            mcl_device_info gpu = rt->dev;
            gpu.type = MCL_DEVICE_TYPE_GPU;
            memset(&p, 0, sizeof p);
            mcl_tune_scan_defaults(&gpu, &p);
            const char *names[] = {"SCAN_DCH", "SCAN_NSG", "SCAN_TT", "SCAN_ITEMS", "SCAN_KEEPB"};
            for (int a = 0; a < 5; a++) mcl_params_set(&p, names[a], rows[variants[v][3]][a]);
            mcl_params_set(&p, "SCAN_FAST_EXP", 0);
        }
        mcl_params_set(&p, "SCAN_DTIN", variants[v][0]);
        mcl_params_set(&p, "SCAN_PREF", variants[v][1]);
        mcl_params_set(&p, "SCAN_NSEG", variants[v][2]);
        mcl_params_set(&p, "SCAN_DTV", variants[v][3] == 3 ? 8 : 4); /* the last: scan_dt's 8x8 blocks */
        if (!mcl_tune_scan_fits(&rt->dev, &p)) {
            print_message("dtin/pref variant %zu skipped: beyond this device's limits\n", v);
            continue;
        }
        cl_kernel k = build_config("scan.cl", "scan_prefill", &p, &prog);
        const int ch = (int)(mcl_params_get(&p, "SCAN_TT", 0) * mcl_params_get(&p, "SCAN_ITEMS", 0));
        int n = edge_cases(ch, (int)mcl_params_get(&p, "SCAN_RT", 0), cs);
        if (variants[v][2] > 1) { /* the split's boundaries instead */
            const scan_case sc[] = {
                {"split L=1", 1, {1}, 19, 5, 16, MCL_DTYPE_F32},
                {"split L=chunk+1", 1, {ch + 1}, 18, 9, 16, MCL_DTYPE_BF16},
                {"split L=6chunks+1", 1, {6 * ch + 1}, 20, 6, 16, MCL_DTYPE_F16},
                {"split batch", 5, {3 * ch + 1, 1, 97, 0, 5 * ch}, 17, 5, 16, MCL_DTYPE_BF16},
                {"split N=5", 2, {2 * ch + 5, 3}, 11, 2, 5, MCL_DTYPE_F16},
            };
            n = (int)(sizeof sc / sizeof sc[0]);
            memcpy(cs, sc, sizeof sc);
        }
        /* several scan_dt tiles both ways (tiles of up to 128 timesteps x 128 channels) */
        const scan_case wide = {"wide d_inner", 2, {ch + 3, 70}, 261, 21, 16, MCL_DTYPE_BF16};
        cs[n++] = wide;
        int b0 = bad;
        for (int off = 0; off < (mma ? 2 : 1); off++) {
            if (off && variants[v][0] != 2) break;
            rt->caps.cap[MCL_CAP_MMA].on = mma && !off; /* off: mcl_op_matmul's fallback */
            for (int i = 0; i < n; i++) bad += check_case(k, &p, &cs[i], false, 1100 + (unsigned)(20 * v + i));
            rt->caps.cap[MCL_CAP_MMA].on = mma;
        }
        if (bad > b0) {
            char defs[512] = "";
            mcl_params_defines(&p, defs, sizeof defs);
            print_message("config%s: %d mismatches\n", defs, bad - b0);
        }
        if (variants[v][0] && v == 0) { /* the pre-pass needs the token count: refused without it */
            host_data h;
            dev_data d;
            gen(&cs[0], 77, &h);
            dev_upload(&h, &d);
            mcl_scan_args a = scan_args(&h, &d);
            a.T = 0;
            mcl_kern_state ks = {d.state, h.state_off, d.slot, h.slot_stride};
            assert_int_equal(mcl_kern_scan_prefill_with(rt, k, &p, &a, &ks, d.seq_start, h.n_seqs),
                             MCL_ERR_INVALID_ARG);
            mcl_error_clear();
            dev_free(&d);
            host_free(&h);
        }
        ran++;
        clReleaseKernel(k);
        mcl_program_release(&prog);
    }
    assert_true(ran >= 4);
    assert_int_equal(bad, 0);
}

/* Whether rt->scan_dt[1] holds h's δ·W_dtᵀ bitwise: every element the fma
 * chain over r ascending from 0 (scan_dt's and scan_dt2's order). */
static int check_dtin_bitwise(const host_data *h)
{
    size_t n = (size_t)h->T * h->d_inner;
    int ldb = h->R + 2 * h->N, bad = 0;
    float *got = xcalloc(n, sizeof(float));
    download(rt->scan_dt[1], got, n * 4);
    for (int t = 0; t < h->T; t++)
        for (int d = 0; d < h->d_inner; d++) {
            float acc = 0.0f;
            for (int r = 0; r < h->R; r++)
                acc = fmaf(h->dbc[(size_t)t * ldb + r], ref_load_w(h->w, (size_t)d * h->R + r, h->wdtype), acc);
            float g = got[(size_t)t * h->d_inner + d];
            if (memcmp(&g, &acc, sizeof g) != 0) {
                if (bad < 3) print_message("  dtin[%d, %d]: got %.9g want %.9g\n", t, d, g, acc);
                bad++;
            }
        }
    free(got);
    return bad;
}

/* scan_dt2 (SCAN_DTIN 3) with SCAN_DTV 16 (four δ slots per work-item,
 * 41 KiB of local memory) on the runtime's configuration, and DTV 8 on the
 * H200's batch-1 d_inner 1536 row (its scan and pre-pass), both with
 * prefetch: the edge cases, R below, at and across the 16-column slices (also R % 4 != 0
 * and odd row strides: the scalar loads), several tiles both ways with
 * d_inner % 4 == 0 (the float4 stores) and not; y against the reference,
 * the pre-pass output bitwise against the host's fma chain; in the DTV 8
 * program scan_dt (SCAN_DTIN 1, the same program) gives the same y bitwise;
 * the rules on DTV (scan_dt2 4, 8, 16; scan_dt 4, 8). */
static void test_prefill_dt2(void **state)
{
    (void)state;
    int bad = 0;
    for (int v = 0; v < 2; v++) {
        mcl_params p;
        mcl_program prog;
        scan_case cs[24];
        runtime_params("scan.cl", &p);
        if (v == 1) { /* the H200's batch-1 d_inner 1536 row's scan (docs/perf/scan-h200-s7-b1-1536.json) */
            mcl_device_info gpu = rt->dev;
            gpu.type = MCL_DEVICE_TYPE_GPU;
            memset(&p, 0, sizeof p);
            mcl_tune_scan_defaults(&gpu, &p);
            const char *names[] = {"SCAN_DCH", "SCAN_NSG", "SCAN_TT", "SCAN_ITEMS", "SCAN_KEEPB", "SCAN_FAST_EXP"};
            const long vals[] = {8, 4, 4, 16, 1, 0};
            for (int a = 0; a < 6; a++) mcl_params_set(&p, names[a], vals[a]);
        }
        mcl_params_set(&p, "SCAN_DTIN", 3);
        mcl_params_set(&p, "SCAN_PREF", 1);
        mcl_params_set(&p, "SCAN_NSEG", 1);
        mcl_params_set(&p, "SCAN_DTV", v == 0 ? 16 : 8);
        assert_true(mcl_tune_scan_fits(&rt->dev, &p));
        cl_kernel k = build_config("scan.cl", "scan_prefill", &p, &prog);
        const int ch = (int)(mcl_params_get(&p, "SCAN_TT", 0) * mcl_params_get(&p, "SCAN_ITEMS", 0));
        int n = edge_cases(ch, 16, cs);
        const scan_case more[] = {
            {"dt2 R=16 vec", 1, {ch + 2}, 68, 16, 16, MCL_DTYPE_F32},
            {"dt2 R=48 tiles", 2, {131, 167}, 264, 48, 16, MCL_DTYPE_F16},
            {"dt2 R=20 d%4", 2, {19, 40}, 130, 20, 16, MCL_DTYPE_BF16},
            {"dt2 R=37", 1, {33}, 70, 37, 16, MCL_DTYPE_F32},
        };
        memcpy(cs + n, more, sizeof more);
        n += (int)(sizeof more / sizeof more[0]);
        for (int i = 0; i < n; i++) {
            const unsigned long long seed = 1700 + (unsigned)(40 * v + i);
            bad += check_case(k, &p, &cs[i], false, seed);
            host_data h;
            dev_data d;
            gen(&cs[i], seed, &h);
            dev_upload(&h, &d);
            launch_prefill(k, &p, &h, &d);
            int b = h.T > 0 ? check_dtin_bitwise(&h) : 0;
            if (v == 1 && h.T > 0) { /* scan_dt of the same program: the same y bitwise */
                size_t ny = (size_t)h.T * h.d_inner;
                float *y3 = xcalloc(ny, sizeof(float)), *y1 = xcalloc(ny, sizeof(float));
                download(d.y, y3, ny * 4);
                assert_int_equal(clEnqueueWriteBuffer(rt->queue, d.state, CL_TRUE, 0, h.pool * 4, h.state, 0, NULL,
                                                      NULL), CL_SUCCESS);
                mcl_params p1 = p;
                mcl_params_set(&p1, "SCAN_DTIN", 1);
                launch_prefill(k, &p1, &h, &d);
                download(d.y, y1, ny * 4);
                if (memcmp(y1, y3, ny * 4) != 0) {
                    print_message("  y of scan_dt2 and scan_dt differ\n");
                    b++;
                }
                free(y1);
                free(y3);
            }
            if (b) print_message("case %s (DTV %ld): %d pre-pass mismatches\n", cs[i].name,
                                 mcl_params_get(&p, "SCAN_DTV", 0), b);
            bad += b;
            dev_free(&d);
            host_free(&h);
        }
        clReleaseKernel(k);
        mcl_program_release(&prog);
        mcl_params_set(&p, "SCAN_DTV", 2);
        assert_false(mcl_tune_scan_fits(&rt->dev, &p)); /* scan_dt2 takes 4, 8 or 16 */
        mcl_params_set(&p, "SCAN_DTV", 16);
        assert_true(mcl_tune_scan_fits(&rt->dev, &p));
        mcl_params_set(&p, "SCAN_DTIN", 1);
        assert_false(mcl_tune_scan_fits(&rt->dev, &p)); /* scan_dt 4 or 8 */
    }
    assert_int_equal(bad, 0);
}

/* scan_warp (SCAN_WARP 1, SCAN_WL 32, 16 and 8 time-lanes per channel; on
 * a device without MCL_CAP_PTX its lanes' scan goes through local memory):
 * the edge lengths of its chunk of WL*ITEMS
 * (1, 2, a prime, a chunk, a chunk + 1, several chunks + 5), unequal
 * lengths with an empty sequence, N = 5 and 1 (< SCAN_NG), N = 64 (above
 * SCAN_NG: scan_prefill of the same program runs instead), nonzero starting
 * states (gen), both pre-passes and the prefetch; and the rule that
 * refuses it without the pre-pass or with a split. */
static void test_prefill_warp(void **state)
{
    (void)state;
    const long variants[][6] = {/* DCH, ITEMS, DTIN, PREF, WL, SUNR (16: unrolled; fewer: rolled, session 18) */
                                {8, 4, 1, 1, 32, 16}, {4, 2, 2, 0, 32, 16}, {2, 1, 1, 0, 32, 16}, {8, 3, 1, 1, 8, 16},
                                {4, 8, 1, 0, 16, 16}, {8, 4, 1, 1, 32, 1},   {4, 8, 1, 0, 16, 4}};
    int bad = 0;
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        mcl_params p;
        mcl_program prog;
        runtime_params("scan.cl", &p);
        mcl_params_set(&p, "SCAN_DCH", variants[v][0]);
        mcl_params_set(&p, "SCAN_ITEMS", variants[v][1]);
        mcl_params_set(&p, "SCAN_NSG", 1);
        mcl_params_set(&p, "SCAN_TT", 4);
        mcl_params_set(&p, "SCAN_KEEPB", 0);
        mcl_params_set(&p, "SCAN_DTIN", variants[v][2]);
        mcl_params_set(&p, "SCAN_PREF", variants[v][3]);
        mcl_params_set(&p, "SCAN_NSEG", 1);
        mcl_params_set(&p, "SCAN_WARP", 1);
        mcl_params_set(&p, "SCAN_WL", variants[v][4]);
        mcl_params_set(&p, "SCAN_SUNR", variants[v][5]);
        assert_true(mcl_tune_scan_fits(&rt->dev, &p));
        assert_true(mcl_kern_scan_prefill_warp(&p, 16));
        assert_false(mcl_kern_scan_prefill_warp(&p, 17));
        cl_kernel k = build_config("scan.cl", "scan_prefill", &p, &prog);
        const int ch = (int)(variants[v][4] * variants[v][1]);
        const scan_case cs[] = {
            {"warp L=1", 1, {1}, 19, 5, 16, MCL_DTYPE_F32},
            {"warp L=2", 1, {2}, 9, 3, 4, MCL_DTYPE_F16},
            {"warp L=chunk", 1, {ch}, 17, 7, 16, MCL_DTYPE_BF16},
            {"warp L=chunk+1", 1, {ch + 1}, 18, 9, 16, MCL_DTYPE_F32},
            {"warp L=3chunks+5 N=1", 1, {3 * ch + 5}, 10, 6, 1, MCL_DTYPE_F16},
            {"warp L=97", 1, {97}, 23, 5, 16, MCL_DTYPE_F32},
            {"warp batch", 4, {2 * ch + 1, 1, 0, 37}, 13, 5, 16, MCL_DTYPE_BF16},
            {"warp N=5", 2, {ch + 5, 3}, 11, 2, 5, MCL_DTYPE_F16},
            {"warp N=64 (scan_prefill)", 2, {ch + 3, 7}, 9, 3, 64, MCL_DTYPE_F32},
        };
        for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
            int b = check_case(k, &p, &cs[i], false, 1500 + (unsigned)(20 * v + i));
            if (b) print_message("  (warp DCH %ld ITEMS %ld DTIN %ld PREF %ld WL %ld SUNR %ld)\n", variants[v][0],
                                 variants[v][1], variants[v][2], variants[v][3], variants[v][4], variants[v][5]);
            bad += b;
        }
        clReleaseKernel(k);
        mcl_program_release(&prog);
        mcl_params_set(&p, "SCAN_DTIN", 0);
        assert_false(mcl_tune_scan_fits(&rt->dev, &p)); /* scan_warp reads Δ from the pre-pass */
        mcl_params_set(&p, "SCAN_DTIN", 1);
        mcl_params_set(&p, "SCAN_NSEG", 2);
        assert_false(mcl_tune_scan_fits(&rt->dev, &p)); /* and has no split */
        mcl_params_set(&p, "SCAN_NSEG", 1);
        mcl_params_set(&p, "SCAN_WL", 12);
        assert_false(mcl_tune_scan_fits(&rt->dev, &p)); /* WL divides a warp */
        mcl_params_set(&p, "SCAN_WL", variants[v][4]);
        mcl_params_set(&p, "SCAN_SUNR", 3);
        assert_false(mcl_tune_scan_fits(&rt->dev, &p)); /* SUNR divides NG */
    }
    assert_int_equal(bad, 0);
}

/* ---- the launcher's dt pre-pass by W_dt's dtype (SCAN_DTIN16) ----------- */

/* mcl_kern_scan_dt_mode over every SCAN_DTIN, SCAN_DTIN16, dtype and path:
 * SCAN_DTIN16 only for a 16-bit W_dt whose product takes the tensor cores. */
static void test_dt_mode_rule(void **state)
{
    (void)state;
    const mcl_gemm_path paths[] = {MCL_GEMM_AUTO, MCL_GEMM_GEMV, MCL_GEMM_SIMT, MCL_GEMM_MMA, MCL_GEMM_CLBLAST};
    for (int dtin = 0; dtin <= 3; dtin++)
        for (int d16 = 0; d16 <= 2; d16 += 2)
            for (int wdt = 0; wdt <= 2; wdt++)
                for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
                    mcl_params p;
                    memset(&p, 0, sizeof p);
                    mcl_params_set(&p, "SCAN_DTIN", dtin);
                    mcl_params_set(&p, "SCAN_DTIN16", d16);
                    int want = dtin == 0 ? 0 : (d16 && wdt != MCL_DTYPE_F32 && paths[i] == MCL_GEMM_MMA) ? d16 : dtin;
                    assert_int_equal(mcl_kern_scan_dt_mode(&p, (mcl_dtype)wdt, paths[i]), want);
                }
    mcl_params p;
    runtime_params("scan.cl", &p);
    mcl_params_set(&p, "SCAN_DTIN16", 1); /* 0 or 2 only */
    assert_false(mcl_tune_scan_fits(&rt->dev, &p));
}

/* Runs k with tunables p on case c (seed): *y and *st the device's y and
 * state pool, *h the inputs and the reference's y and state (host_free by
 * the caller); with yp the scan writes y as those parts instead. */
static void run_case(cl_kernel k, const mcl_params *p, const scan_case *c, unsigned long long seed,
                     const mcl_gemm_parts *yp, host_data *h, float **y, float **st)
{
    dev_data d;
    gen(c, seed, h);
    dev_upload(h, &d);
    mcl_scan_args a = scan_args(h, &d);
    mcl_kern_state ks = {d.state, h->state_off, d.slot, h->slot_stride};
    mcl_status s = yp ? mcl_kern_scan_prefill_parts_with(rt, k, p, &a, &ks, d.seq_start, h->n_seqs, yp)
                      : mcl_kern_scan_prefill_with(rt, k, p, &a, &ks, d.seq_start, h->n_seqs);
    if (s != MCL_OK) fail_msg("%s", mcl_last_error());
    size_t ny = (size_t)h->T * h->d_inner;
    *y = xcalloc(ny, sizeof(float));
    *st = xcalloc(h->pool, sizeof(float));
    download(d.y, *y, ny * 4);
    download(d.state, *st, h->pool * 4);
    ref_scan_prefill(h->xc, h->dbc, h->xz, h->w, h->wdtype, h->b_dt, h->A, h->D, h->state, h->state_off, h->slot,
                     h->slot_stride, h->seq_start, h->n_seqs, h->d_inner, h->R, h->N, h->y);
    dev_free(&d);
}

/* A scan_dt2 program (SCAN_DTIN 3) launched with SCAN_DTIN16 2: the launcher
 * runs scan_dt_gather + mcl_op_matmul exactly where the dt product takes the
 * tensor cores with a 16-bit W_dt (PoCL: never; seen by rt->scan_dt[0], the
 * gather's δ, being made), and the program launched with SCAN_DTIN 2 (the
 * other choice, what the H200 runs for F16 W_dt) gives the same y within
 * the tolerances, both against the reference. */
static void test_prefill_dt_choice(void **state)
{
    (void)state;
    mcl_params p, p16, p2;
    mcl_program prog;
    runtime_params("scan.cl", &p);
    mcl_params_set(&p, "SCAN_DTIN", 3);
    mcl_params_set(&p, "SCAN_PREF", 1);
    mcl_params_set(&p, "SCAN_NSEG", 1);
    mcl_params_set(&p, "SCAN_DTV", 16); /* test_prefill_dt2's program */
    if (!mcl_tune_scan_fits(&rt->dev, &p)) mcl_params_set(&p, "SCAN_DTV", 8); /* less local memory */
    assert_true(mcl_tune_scan_fits(&rt->dev, &p));
    cl_kernel k = build_config("scan.cl", "scan_prefill", &p, &prog);
    p16 = p;
    mcl_params_set(&p16, "SCAN_DTIN16", 2);
    p2 = p;
    mcl_params_set(&p2, "SCAN_DTIN", 2);
    const int ch = (int)(mcl_params_get(&p, "SCAN_TT", 0) * mcl_params_get(&p, "SCAN_ITEMS", 0));
    const scan_case cs[] = {
        {"choice f16", 2, {2 * ch + 3, 40}, 70, 12, 16, MCL_DTYPE_F16},
        {"choice bf16", 1, {ch + 1}, 37, 5, 16, MCL_DTYPE_BF16},
        {"choice f32", 1, {97}, 33, 9, 16, MCL_DTYPE_F32},
    };
    bool mma = mcl_caps_on(&rt->caps, MCL_CAP_MMA);
    int bad = 0;
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        host_data h, h2;
        float *y, *st, *y2, *st2;
        int T = 0;
        for (int b = 0; b < cs[i].n_seqs; b++) T += cs[i].lens[b];
        mcl_gemm_path path = mcl_op_matmul_choice(rt, (mcl_dtype)cs[i].wdtype, T, cs[i].d_inner, cs[i].R, 0.0f);
        int mode = mcl_kern_scan_dt_mode(&p16, (mcl_dtype)cs[i].wdtype, path);
        assert_int_equal(mode, mma && cs[i].wdtype != MCL_DTYPE_F32 && path == MCL_GEMM_MMA ? 2 : 3);
        if (!mma) assert_int_equal(mode, 3);
        mcl_buffer_release(&rt->scan_dt[0]);
        rt->scan_dt_bytes[0] = 0;
        run_case(k, &p16, &cs[i], 1900 + i, NULL, &h, &y, &st);
        assert_int_equal(rt->scan_dt_bytes[0] > 0, mode == 2); /* the gather ran exactly with mode 2 */
        size_t ny = (size_t)h.T * h.d_inner;
        bad += compare("y", y, h.y, ny) + compare("state", st, h.state, h.pool);
        run_case(k, &p2, &cs[i], 1900 + i, NULL, &h2, &y2, &st2);
        assert_true(rt->scan_dt_bytes[0] > 0);
        bad += compare("y (SCAN_DTIN 2)", y2, h2.y, ny) + compare("y 2 vs 3", y2, y, ny) +
               compare("state 2 vs 3", st2, st, h.pool);
        if (bad) print_message("case %s: %d mismatches\n", cs[i].name, bad);
        free(y), free(st), free(y2), free(st2);
        host_free(&h), host_free(&h2);
    }
    clReleaseKernel(k);
    mcl_program_release(&prog);
    assert_int_equal(bad, 0);
}

/* ---- y written as out_proj's A parts ------------------------------------ */

static cl_mem parts_buf(size_t n)
{
    uint16_t *junk = xcalloc(n, 2);
    for (size_t i = 0; i < n; i++) junk[i] = 0xabcd; /* every element and the padding must be written */
    cl_mem m = upload(junk, n * 2);
    free(junk);
    return m;
}

/* Whether the parts yp [T, lda] are bitwise gemm_split_a's on the fp32 y. */
static int parts_equal(const float *y, int T, int d_inner, const mcl_gemm_parts *yp)
{
    size_t n = (size_t)T * (size_t)yp->lda;
    cl_mem by = upload(y, (size_t)T * d_inner * 4), bh = parts_buf(n), bl = parts_buf(n);
    assert_int_equal(mcl_op_gemm_split(rt, by, T, d_inner, yp->lda, yp->dt, yp->split, bh, bl), MCL_OK);
    uint16_t *wh = xcalloc(n, 2), *wl = xcalloc(n, 2), *gh = xcalloc(n, 2), *gl = xcalloc(n, 2);
    download(bh, wh, n * 2);
    download(bl, wl, n * 2);
    download(yp->hi, gh, n * 2);
    if (yp->split == 2) download(yp->lo, gl, n * 2);
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        if (gh[i] != wh[i] || (yp->split == 2 && gl[i] != wl[i])) {
            if (bad < 3)
                print_message("  parts[%zu, %zu]: got %04x/%04x want %04x/%04x\n", i / yp->lda, i % yp->lda, gh[i],
                              gl[i], wh[i], wl[i]);
            bad++;
        }
    free(wh), free(wl), free(gh), free(gl);
    mcl_buffer_release(&by), mcl_buffer_release(&bh), mcl_buffer_release(&bl);
    return bad;
}

/* scan_prefill_split (programs with SCAN_YSPLIT 1), the scan writing y as
 * the mma GEMM's hi/lo parts (split 1 and 2, F16 and BF16, d_inner with and
 * without padding to 8, N above SCAN_NG: the partial sums through fp32 y
 * first) on the runtime's configuration and a split sequence with the GEMM
 * pre-pass and prefetch (SCAN_NSEG 3; both 16-byte stores from local memory)
 * and a SCAN_DCH 4 program (2-byte stores; its scan_warp, for N <= 16,
 * refuses parts): the parts bitwise gemm_split_a's on the fp32 y of the
 * same launch without them (as test_gemm_presplit checks rmsnorm_split),
 * the state bitwise the same; parts that cannot hold y, and parts for a
 * program without SCAN_YSPLIT, refused. */
static void test_prefill_ysplit(void **state)
{
    (void)state;
    const long variants[][4] = {/* DTIN, PREF, NSEG, WARP (0 0 1 0: the runtime's) */
                                {-1, 0, 1, 0}, {2, 1, 3, 0}, {2, 0, 1, 1}};
    int bad = 0, ran = 0;
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        mcl_params p;
        mcl_program prog;
        runtime_params("scan.cl", &p);
        if (variants[v][0] >= 0) {
            mcl_params_set(&p, "SCAN_DTIN", variants[v][0]);
            mcl_params_set(&p, "SCAN_PREF", variants[v][1]);
            mcl_params_set(&p, "SCAN_NSEG", variants[v][2]);
            mcl_params_set(&p, "SCAN_DTV", 4);
        }
        if (variants[v][3]) { /* test_prefill_warp's second program: DCH 4, scan_prefill_split's scalar stores */
            const char *names[] = {"SCAN_DCH", "SCAN_ITEMS", "SCAN_NSG", "SCAN_TT", "SCAN_KEEPB", "SCAN_WARP",
                                   "SCAN_WL", "SCAN_DTIN", "SCAN_PREF"};
            const long vals[] = {4, 2, 1, 4, 0, 1, 32, 2, 0};
            for (int a = 0; a < 9; a++) mcl_params_set(&p, names[a], vals[a]);
        }
        mcl_params_set(&p, "SCAN_YSPLIT", 1); /* scan_prefill_split compiled */
        if (!mcl_tune_scan_fits(&rt->dev, &p)) {
            print_message("ysplit variant %zu skipped: beyond this device's limits\n", v);
            continue;
        }
        ran++;
        cl_kernel k = build_config("scan.cl", "scan_prefill", &p, &prog);
        const int ch = (int)(mcl_params_get(&p, "SCAN_TT", 0) * mcl_params_get(&p, "SCAN_ITEMS", 0));
        const scan_case cs[] = {
            {"ysplit d37", 1, {ch + 1}, 37, 5, 16, MCL_DTYPE_F16},
            {"ysplit batch N=64", 3, {2 * ch + 3, 1, 9}, 19, 7, 64, MCL_DTYPE_BF16},
            {"ysplit d32", 2, {3 * ch + 5, 9}, 32, 4, 16, MCL_DTYPE_F32},
        };
        for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
            host_data h, h2;
            float *y, *st, *y2, *st2;
            int T = 0;
            for (int b = 0; b < cs[i].n_seqs; b++) T += cs[i].lens[b];
            int lda = (cs[i].d_inner + 7) / 8 * 8, split = (v + i) % 2 ? 1 : 2;
            mcl_gemm_parts yp = {parts_buf((size_t)T * lda), parts_buf((size_t)T * lda), lda, split,
                                 (v + i) % 2 ? MCL_DTYPE_BF16 : MCL_DTYPE_F16};
            const unsigned long long seed = 2000 + (unsigned)(10 * v + i);
            if (mcl_kern_scan_prefill_warp(&p, cs[i].N)) { /* scan_warp: fp32 y only, parts refused */
                dev_data d;
                gen(&cs[i], seed, &h);
                dev_upload(&h, &d);
                mcl_scan_args a = scan_args(&h, &d);
                mcl_kern_state ks = {d.state, h.state_off, d.slot, h.slot_stride};
                assert_int_equal(mcl_kern_scan_prefill_parts_with(rt, k, &p, &a, &ks, d.seq_start, h.n_seqs, &yp),
                                 MCL_ERR_UNSUPPORTED);
                mcl_error_clear();
                dev_free(&d);
                host_free(&h);
                mcl_buffer_release(&yp.hi), mcl_buffer_release(&yp.lo);
                continue;
            }
            run_case(k, &p, &cs[i], seed, NULL, &h, &y, &st);
            bad += compare("y", y, h.y, (size_t)T * h.d_inner) + compare("state", st, h.state, h.pool);
            run_case(k, &p, &cs[i], seed, &yp, &h2, &y2, &st2);
            int b = parts_equal(y, T, h.d_inner, &yp) + (memcmp(st, st2, h.pool * 4) != 0);
            if (b) print_message("case %s (variant %zu, split %d): %d mismatches\n", cs[i].name, v, split, b);
            bad += b;
            free(y), free(st), free(y2), free(st2);
            host_free(&h), host_free(&h2);
            if (v == 0 && i == 0) { /* parts that cannot hold y are refused */
                dev_data d;
                gen(&cs[i], seed, &h);
                dev_upload(&h, &d);
                mcl_scan_args a = scan_args(&h, &d);
                mcl_kern_state ks = {d.state, h.state_off, d.slot, h.slot_stride};
                mcl_gemm_parts small = yp;
                small.lda = lda - 8;
                assert_int_equal(mcl_kern_scan_prefill_parts_with(rt, k, &p, &a, &ks, d.seq_start, h.n_seqs, &small),
                                 MCL_ERR_INVALID_ARG);
                mcl_error_clear();
                small = yp;
                small.split = 3;
                assert_int_equal(mcl_kern_scan_prefill_parts_with(rt, k, &p, &a, &ks, d.seq_start, h.n_seqs, &small),
                                 MCL_ERR_INVALID_ARG);
                mcl_error_clear();
                mcl_params p0 = p; /* a program without scan_prefill_split's body */
                mcl_params_set(&p0, "SCAN_YSPLIT", 0);
                assert_int_equal(mcl_kern_scan_prefill_parts_with(rt, k, &p0, &a, &ks, d.seq_start, h.n_seqs, &yp),
                                 MCL_ERR_INVALID_ARG);
                mcl_error_clear();
                dev_free(&d);
                host_free(&h);
            }
            mcl_buffer_release(&yp.hi), mcl_buffer_release(&yp.lo);
        }
        clReleaseKernel(k);
        mcl_program_release(&prog);
    }
    assert_true(ran >= 2);
    assert_int_equal(bad, 0);
}

/* mcl_kern_scan_prefill_split_with on the runtime's scan program: with
 * SCAN_YSPLIT 1 on exactly where mcl_op_matmul_presplit is for the next
 * product (PoCL: off), then y as parts bitwise gemm_split_a's on
 * mcl_kern_scan_prefill_with's fp32 y, else fp32 y bitwise that y; off with
 * SCAN_YSPLIT 0 and with MAMBACL_DISABLE=scan_split; the runtime's own
 * configuration (SCAN_YSPLIT 0 by default and in every row) off. */
static void test_prefill_split_next(void **state)
{
    (void)state;
    const scan_case c = {"next", 2, {150, 29}, 40, 6, 16, MCL_DTYPE_F16};
    const mcl_scan_next next = {MCL_DTYPE_F16, 24, 1.0f};
    mcl_params p, p1;
    mcl_program prog, prog1;
    runtime_params("scan.cl", &p);
    p1 = p;
    mcl_params_set(&p1, "SCAN_YSPLIT", 1);
    cl_kernel k = build_config("scan.cl", "scan_prefill", &p, &prog), kr;
    cl_kernel k1 = build_config("scan.cl", "scan_prefill", &p1, &prog1);
    mcl_shape sh = {{[MCL_SHAPE_D_INNER] = c.d_inner, [MCL_SHAPE_BATCH] = c.n_seqs}};
    assert_int_equal(mcl_runtime_pick_kernel(rt, MCL_FAM_SCAN, &sh, "scan_prefill_split", &kr, NULL), MCL_OK);
    int bad = 0;
    for (int v = 0; v < 4; v++) { /* YSPLIT 0, 1, 1 + MAMBACL_DISABLE, the runtime's configuration */
        const mcl_params *pl = v == 1 || v == 2 ? &p1 : &p;
        cl_kernel kl = v == 1 || v == 2 ? k1 : k;
        if (v == 2) setenv("MAMBACL_DISABLE", "scan_split", 1);
        host_data h, h2;
        dev_data d, d2;
        gen(&c, 2100, &h);
        dev_upload(&h, &d);
        mcl_scan_args a = scan_args(&h, &d);
        mcl_kern_state ks = {d.state, h.state_off, d.slot, h.slot_stride};
        assert_int_equal(mcl_kern_scan_prefill_with(rt, k, &p, &a, &ks, d.seq_start, h.n_seqs), MCL_OK);
        gen(&c, 2100, &h2);
        dev_upload(&h2, &d2);
        mcl_scan_args a2 = scan_args(&h2, &d2);
        mcl_kern_state ks2 = {d2.state, h2.state_off, d2.slot, h2.slot_stride};
        mcl_gemm_parts yp, want;
        bool on = true, want_on = false;
        if (v == 3)
            assert_int_equal(mcl_kern_scan_prefill_split(rt, &a2, &ks2, d2.seq_start, h2.n_seqs, &next, &yp, &on),
                             MCL_OK);
        else
            assert_int_equal(mcl_kern_scan_prefill_split_with(rt, kl, pl, &a2, &ks2, d2.seq_start, h2.n_seqs, &next,
                                                              &yp, &on), MCL_OK);
        assert_int_equal(mcl_op_matmul_presplit(rt, next.wdt, h.T, next.n, c.d_inner, next.beta, &want, &want_on),
                         MCL_OK);
        assert_int_equal(on, want_on && v == 1);
        size_t ny = (size_t)h.T * c.d_inner;
        float *y = xcalloc(ny, sizeof(float)), *y2 = xcalloc(ny, sizeof(float));
        download(d.y, y, ny * 4);
        if (on) bad += parts_equal(y, h.T, c.d_inner, &yp);
        else if (v != 3) {
            download(d2.y, y2, ny * 4);
            bad += memcmp(y, y2, ny * 4) != 0;
        }
        print_message("scan_prefill_split (%s): y as parts %s\n",
                      v == 0 ? "SCAN_YSPLIT 0" : v == 1 ? "SCAN_YSPLIT 1" : v == 2 ? "MAMBACL_DISABLE" : "runtime",
                      on ? "on" : "off");
        free(y), free(y2);
        dev_free(&d), dev_free(&d2);
        host_free(&h), host_free(&h2);
        if (v == 2) unsetenv("MAMBACL_DISABLE");
    }
    clReleaseKernel(k);
    clReleaseKernel(k1);
    mcl_program_release(&prog);
    mcl_program_release(&prog1);
    assert_int_equal(bad, 0);
}

static void test_step_vs_ref(void **state)
{
    (void)state;
    mcl_params p;
    cl_kernel k;
    runtime_params("ssm_step.cl", &p);
    assert_int_equal(mcl_runtime_kernel(rt, "ssm_step", &k), MCL_OK);
    const scan_case cs[] = {
        {"step N=1", 5, {1, 1, 1, 1, 1}, 70, 5, 1, MCL_DTYPE_F32},
        {"step N=4", 3, {1, 1, 1}, 33, 3, 4, MCL_DTYPE_F16},
        {"step N=16", 2, {1, 1}, 65, 9, 16, MCL_DTYPE_BF16},
        {"step N=64", 1, {1}, 20, 17, 64, MCL_DTYPE_F32},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
        bad += check_case(k, &p, &cs[i], true, 300 + i);
    assert_int_equal(bad, 0);
}

/* z read through a view other than Mamba-1's (offset 3, padded rows), for
 * both kernels: the row stride and offset arguments are honoured. */
static void test_z_view(void **state)
{
    (void)state;
    mcl_params pp, ps;
    cl_kernel kp, ks;
    runtime_params("scan.cl", &pp);
    runtime_params("ssm_step.cl", &ps);
    assert_int_equal(mcl_runtime_kernel(rt, "scan_prefill", &kp), MCL_OK);
    assert_int_equal(mcl_runtime_kernel(rt, "ssm_step", &ks), MCL_OK);
    int ch = (int)(mcl_params_get(&pp, "SCAN_TT", 0) * mcl_params_get(&pp, "SCAN_ITEMS", 0));
    const scan_case prefill = {"padded z", 3, {ch + 1, 1, 5}, 13, 5, 4, MCL_DTYPE_F32};
    const scan_case step = {"step padded z", 2, {1, 1}, 33, 3, 4, MCL_DTYPE_F16};
    z_pad = 7;
    int bad = check_case(kp, &pp, &prefill, false, 800) + check_case(ks, &ps, &step, true, 801);
    z_pad = 0;
    assert_int_equal(bad, 0);
}

/* Copies the rows `rows` of a [*, cols] array into a new array. */
static float *gather(const float *src, size_t cols, const int *rows, int n)
{
    float *out = xcalloc((size_t)n * cols, sizeof(float));
    for (int i = 0; i < n; i++) memcpy(out + (size_t)i * cols, src + (size_t)rows[i] * cols, cols * 4);
    return out;
}

/* Replaces the token arrays of h by rows `rows` (n of them). */
static void take_rows(host_data *h, const int *rows, int n)
{
    float *xc = gather(h->xc, (size_t)h->d_inner, rows, n);
    float *dbc = gather(h->dbc, (size_t)(h->R + 2 * h->N), rows, n);
    float *xz = gather(h->xz, 2 * (size_t)h->d_inner, rows, n);
    free(h->xc);
    free(h->dbc);
    free(h->xz);
    free(h->y);
    h->xc = xc;
    h->dbc = dbc;
    h->xz = xz;
    h->y = xcalloc((size_t)n * h->d_inner, sizeof(float));
    h->T = n;
}

/* Prefill of L_b tokens then one step of token L_b+1 equals prefill of L_b+1. */
static void test_prefill_then_step(void **state)
{
    (void)state;
    mcl_params pp, ps;
    cl_kernel kp, ks;
    runtime_params("scan.cl", &pp);
    runtime_params("ssm_step.cl", &ps);
    assert_int_equal(mcl_runtime_kernel(rt, "scan_prefill", &kp), MCL_OK);
    assert_int_equal(mcl_runtime_kernel(rt, "ssm_step", &ks), MCL_OK);
    int ch = (int)(mcl_params_get(&pp, "SCAN_TT", 0) * mcl_params_get(&pp, "SCAN_ITEMS", 0));
    const scan_case c = {"split", 3, {ch + 1, 2, 40}, 29, 11, 16, MCL_DTYPE_F16};

    host_data full, part, last;
    dev_data df, dp, dl;
    gen(&c, 400, &full);
    gen(&c, 400, &part);
    gen(&c, 400, &last);
    int *rows_part = xcalloc((size_t)full.T, sizeof(int)), rows_last[8], np = 0;
    for (int b = 0; b < c.n_seqs; b++) {
        for (int t = full.seq_start[b]; t < full.seq_start[b + 1] - 1; t++) rows_part[np++] = t;
        rows_last[b] = full.seq_start[b + 1] - 1;
        part.seq_start[b + 1] = part.seq_start[b] + c.lens[b] - 1;
    }
    take_rows(&part, rows_part, np);
    free(rows_part);
    take_rows(&last, rows_last, c.n_seqs);

    dev_upload(&full, &df);
    launch_prefill(kp, &pp, &full, &df);
    dev_upload(&part, &dp);
    launch_prefill(kp, &pp, &part, &dp);
    dev_upload(&last, &dl);
    /* the step continues from the state the partial prefill left */
    clReleaseMemObject(dl.state);
    dl.state = dp.state;
    clRetainMemObject(dl.state);
    launch_step(ks, &ps, &last, &dl);

    float *yf = xcalloc((size_t)full.T * c.d_inner, 4), *ys = xcalloc((size_t)c.n_seqs * c.d_inner, 4);
    float *sf = xcalloc(full.pool, 4), *ss = xcalloc(full.pool, 4);
    download(df.y, yf, (size_t)full.T * c.d_inner * 4);
    download(dl.y, ys, (size_t)c.n_seqs * c.d_inner * 4);
    download(df.state, sf, full.pool * 4);
    download(dl.state, ss, full.pool * 4);
    float *yf_last = gather(yf, (size_t)c.d_inner, rows_last, c.n_seqs);
    int bad = compare("y(step vs prefill)", ys, yf_last, (size_t)c.n_seqs * c.d_inner) +
              compare("state(step vs prefill)", ss, sf, full.pool);
    free(yf);
    free(ys);
    free(sf);
    free(ss);
    free(yf_last);
    dev_free(&df);
    dev_free(&dp);
    dev_free(&dl);
    host_free(&full);
    host_free(&part);
    host_free(&last);
    assert_int_equal(bad, 0);
}

/* A pairwise cover of scan.cl's space on this device (tests/space_cover.h):
 * every value of every tunable (SCAN_DCH, SCAN_NSG, SCAN_TT and the derived
 * SCAN_RT) meets every value of every other one in some configuration, so
 * every chunk length TT*ITEMS, state-thread split and W_dt tile runs, each
 * with each other; the rest of the cross product repeats those pairs (the
 * tuner still compiles and times all of it). Each configuration is one PoCL
 * program; test_prefill_gpu_shapes adds the GPU-shaped ones. */
static void test_scan_space(void **state)
{
    (void)state;
    int size = mcl_tune_scan_space_size(&rt->dev), ran = 0, bad = 0, fitting = 0;
    assert_true(size > 0);
    int *pick = xcalloc((size_t)size, sizeof *pick);
    int n_pick = space_cover(&mcl_family_scan, &rt->dev, pick, &size, &fitting);
    for (int c = 0; c < n_pick; c++) {
        mcl_params p;
        mcl_program prog;
        int i = pick[c];
        assert_true(mcl_tune_scan_space_config(&rt->dev, i, &p));
        double t0 = mcl_now_ms();
        cl_kernel k = build_config("scan.cl", "scan_prefill", &p, &prog);
        int ch = (int)(mcl_params_get(&p, "SCAN_TT", 0) * mcl_params_get(&p, "SCAN_ITEMS", 0));
        const scan_case cs[] = {
            {"space batch", 4, {ch + 1, 1, 2 * ch + 3, 0}, 19, 7, 16, MCL_DTYPE_F32},
            {"space N=5 R>tile", 2, {ch, 3}, 11, (int)mcl_params_get(&p, "SCAN_RT", 0) + 1, 5,
             MCL_DTYPE_BF16},
        };
        for (size_t j = 0; j < sizeof cs / sizeof cs[0]; j++) {
            int b = check_case(k, &p, &cs[j], false, 500 + (unsigned)(i * 4 + (int)j));
            if (b) {
                char defs[512] = "";
                mcl_params_defines(&p, defs, sizeof defs);
                print_message("config%s: %d mismatches\n", defs, b);
            }
            bad += b;
        }
        clReleaseKernel(k);
        mcl_program_release(&prog);
        if (getenv("MCL_TEST_VERBOSE")) {
            char defs[512] = "";
            mcl_params_defines(&p, defs, sizeof defs);
            print_message("config%s: %.0f ms\n", defs, mcl_now_ms() - t0);
        }
        ran++;
    }
    free(pick);
    print_message("scan space: %d configurations (a pairwise cover of the %d of %d that fit) ran\n", ran, fitting,
                  size);
    assert_true(ran > 0);
    assert_int_equal(bad, 0);
}

/* Every (STEP_WG, STEP_LPC) of ssm_step.cl's space that fits the device. */
static void test_step_space(void **state)
{
    (void)state;
    int size = mcl_tune_step_space_size(&rt->dev), ran = 0, bad = 0;
    for (int i = 0; i < size; i++) {
        mcl_params p;
        mcl_program prog;
        if (!mcl_tune_step_space_config(&rt->dev, i, &p)) continue;
        cl_kernel k = build_config("ssm_step.cl", "ssm_step", &p, &prog);
        const scan_case c = {"step space", 3, {1, 1, 1}, 45, 5, 16, MCL_DTYPE_F16};
        bad += check_case(k, &p, &c, true, 600 + (unsigned)i);
        clReleaseKernel(k);
        mcl_program_release(&prog);
        ran++;
    }
    assert_true(ran > 0);
    assert_int_equal(bad, 0);
}

/* The defaults rules on the records of other devices (no launch). */
static void test_defaults_rules(void **state)
{
    (void)state;
    mcl_device_info h100 = {0}, tiny = {0}, cpu = {0};
    mcl_params p;
    h100.type = MCL_DEVICE_TYPE_GPU;
    h100.local_mem_bytes = 48 * 1024;
    h100.max_work_group_size = 1024;
    h100.max_work_item_sizes[0] = 1024;
    memset(&p, 0, sizeof p);
    mcl_tune_scan_defaults(&h100, &p);
    assert_int_equal(mcl_params_get(&p, "SCAN_DCH", 0), 8);
    assert_int_equal(mcl_params_get(&p, "SCAN_NSG", 0), 4);
    assert_int_equal(mcl_params_get(&p, "SCAN_TT", 0), 8);
    assert_int_equal(mcl_params_get(&p, "SCAN_ITEMS", 0), 8);
    assert_int_equal(mcl_params_get(&p, "SCAN_NG", 0), 16);
    assert_int_equal(mcl_params_get(&p, "SCAN_RT", 0), 64);
    assert_int_equal(mcl_params_get(&p, "SCAN_KEEPB", 0), 1);
    assert_int_equal(mcl_params_get(&p, "SCAN_FAST_EXP", 0), 1);
    assert_int_equal(mcl_tune_scan_wg(&p), 256);
    assert_int_equal(mcl_params_get(&p, "SCAN_NSEG", 0), 1);
    /* floats: 64*36 B|C (> 4*65*8 y partials) + 64*68 δ tile + 64*8 W_dt
     * tile + 2*64*9 (Δ, Δx) + 17*16*8 pairs and carry */
    assert_int_equal(mcl_tune_scan_local_bytes(&p), 41984);
    assert_true(mcl_tune_scan_fits(&h100, &p));
    assert_int_equal(mcl_params_get(&p, "SCAN_DTIN", 1), 0);
    assert_int_equal(mcl_params_get(&p, "SCAN_PREF", 1), 0);
    assert_int_equal(mcl_params_get(&p, "SCAN_DTW", 0), 16);
    assert_int_equal(mcl_params_get(&p, "SCAN_DTV", 0), 4);
    /* Δ given: no δ tile (64*68) and W_dt tile (64*8), one row of each instead */
    mcl_params_set(&p, "SCAN_DTIN", 1);
    assert_int_equal(mcl_tune_scan_local_bytes(&p), 41984 - 4 * (64 * 68 + 64 * 8) + 4 * (68 + 8));
    assert_true(mcl_tune_scan_fits(&h100, &p));
    mcl_params_set(&p, "SCAN_DTV", 6); /* scan_dt takes 4 or 8 */
    assert_false(mcl_tune_scan_fits(&h100, &p));
    mcl_params_set(&p, "SCAN_DTV", 4);
    mcl_params_set(&p, "SCAN_DTW", 64); /* 4096 work-items */
    assert_false(mcl_tune_scan_fits(&h100, &p));
    mcl_params_set(&p, "SCAN_DTIN", 0); /* scan_dt not launched: its shape does not matter */
    assert_true(mcl_tune_scan_fits(&h100, &p));
    memset(&p, 0, sizeof p);
    mcl_tune_scan_defaults(&h100, &p);

    tiny.type = MCL_DEVICE_TYPE_GPU; /* 16 KiB local, 128 work-items */
    tiny.local_mem_bytes = 16 * 1024;
    tiny.max_work_group_size = 128;
    tiny.max_work_item_sizes[0] = 128;
    memset(&p, 0, sizeof p);
    mcl_tune_scan_defaults(&tiny, &p);
    assert_true(mcl_tune_scan_fits(&tiny, &p));
    assert_int_equal(mcl_params_get(&p, "SCAN_DTW", 0), 8); /* 64 of the 128 work-items */
    assert_true(mcl_tune_scan_wg(&p) <= 128);
    assert_true(mcl_tune_scan_local_bytes(&p) <= 16 * 1024);

    cpu.type = MCL_DEVICE_TYPE_CPU;
    cpu.local_mem_bytes = 1 << 20;
    cpu.max_work_group_size = 4096;
    cpu.max_work_item_sizes[0] = 4096;
    memset(&p, 0, sizeof p);
    mcl_tune_scan_defaults(&cpu, &p);
    assert_true(mcl_tune_scan_fits(&cpu, &p));
    assert_int_equal(mcl_params_get(&p, "SCAN_FAST_EXP", 1), 0);

    /* invalid configurations are refused */
    mcl_params_set(&p, "SCAN_NSG", 3); /* does not divide NG */
    assert_false(mcl_tune_scan_fits(&cpu, &p));
    mcl_params_set(&p, "SCAN_NSG", 1);
    mcl_params_set(&p, "SCAN_TT", 3);
    assert_false(mcl_tune_scan_fits(&cpu, &p));
    mcl_params_set(&p, "SCAN_TT", 64);
    mcl_params_set(&p, "SCAN_DCH", 32);
    assert_false(mcl_tune_scan_fits(&h100, &p)); /* 2048 work-items */
    int fits = 0;
    for (int i = 0; i < mcl_tune_scan_space_size(&h100); i++) {
        if (!mcl_tune_scan_space_config(&h100, i, &p)) continue;
        assert_true(mcl_tune_scan_local_bytes(&p) <= 48 * 1024);
        fits++;
    }
    assert_true(fits >= 10);
    memset(&p, 0, sizeof p);
    mcl_tune_step_defaults(&h100, &p);
    assert_int_equal(mcl_params_get(&p, "STEP_WG", 0), 256);
    assert_int_equal(mcl_params_get(&p, "STEP_LPC", 0), 8);
    /* ssm_step_tile from batch 32: 128 work-items, 4 sequences side by side, one each */
    assert_int_equal(mcl_params_get(&p, "STEP_TILE", 0), 32);
    assert_int_equal(mcl_params_get(&p, "STEP_TWG", 0), 128);
    assert_int_equal(mcl_params_get(&p, "STEP_TSQ", 0), 4);
    assert_int_equal(mcl_params_get(&p, "STEP_TJ", 0), 1);
    char why[160];
    assert_true(mcl_tune_check(&mcl_family_step, &h100, &p, why, sizeof why));
    mcl_params_set(&p, "STEP_TSQ", 3); /* must divide STEP_TWG */
    assert_false(mcl_tune_check(&mcl_family_step, &h100, &p, why, sizeof why));
    memset(&p, 0, sizeof p);
    mcl_tune_step_defaults(&cpu, &p);
    assert_int_equal(mcl_params_get(&p, "STEP_LPC", 0), 1);
    assert_int_equal(mcl_params_get(&p, "STEP_TILE", -1), 0); /* not on CPUs */
}

static int setup(void **state)
{
    (void)state;
    if (mcl_runtime_create(NULL, &rt) != MCL_OK) {
        fprintf(stderr, "mcl_runtime_create: %s\n", mcl_last_error());
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    printf("max errors seen vs the reference: abs %.3g, rel (|ref| > 1e-2) %.3g (tolerance atol %g "
           "rtol %g)\n", max_abs_seen, max_rel_seen, ATOL, RTOL);
    mcl_runtime_free(rt);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_rules),
        cmocka_unit_test(test_prefill_edges),
        cmocka_unit_test(test_prefill_other_exp),
        cmocka_unit_test(test_prefill_gpu_shapes),
        cmocka_unit_test(test_prefill_split),
        cmocka_unit_test(test_prefill_dtin_pref),
        cmocka_unit_test(test_prefill_warp),
        cmocka_unit_test(test_prefill_dt2),
        cmocka_unit_test(test_dt_mode_rule),
        cmocka_unit_test(test_prefill_dt_choice),
        cmocka_unit_test(test_prefill_ysplit),
        cmocka_unit_test(test_prefill_split_next),
        cmocka_unit_test(test_step_vs_ref),
        cmocka_unit_test(test_z_view),
        cmocka_unit_test(test_prefill_then_step),
        cmocka_unit_test(test_scan_space),
        cmocka_unit_test(test_step_space),
    };
    const char *filter = getenv("MCL_TEST_FILTER"); /* e.g. "test_prefill_*" */
    if (filter && *filter) cmocka_set_test_filter(filter);
    return cmocka_run_group_tests(tests, setup, teardown);
}
