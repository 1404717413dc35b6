/* Host side of gemm.cl: path choice, workspaces, split-K, launches. */
#include "ops/gemm.h"

#include <clblast_c.h>
#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "base/error.h"
#include "ops/kern.h"

/* The work-group of an elementwise kernel (no local memory, no barrier):
 * `want`, or the largest power of two the device allows when that is less
 * (found by the emulated 8/16/32-wide devices of tests/test_limits.c). */
static size_t elementwise_wg(const mcl_runtime *rt, size_t want)
{
    size_t max = rt->dev.max_work_group_size < rt->dev.max_work_item_sizes[0] ? rt->dev.max_work_group_size
                                                                              : rt->dev.max_work_item_sizes[0];
    size_t wg = want;
    while (wg > 1 && wg > max) wg /= 2;
    return wg;
}

/* Whether MAMBACL_DISABLE names `name`. */
static bool disabled(const char *name) { return mcl_env_lists("MAMBACL_DISABLE", name); }

/* rt->gemm_ws: A parts (or widened W), split-K slabs, GEMM_SKRED's tile counters */
enum { WS_HI, WS_LO, WS_OUT, WS_CNT };

const char *mcl_gemm_path_name(mcl_gemm_path p)
{
    static const char *const names[] = {"auto", "gemv", "simt", "mma", "clblast", "cpu"};
    return p >= MCL_GEMM_AUTO && p <= MCL_GEMM_CPU ? names[p] : "?";
}

/* The gemm.cl configuration for M rows (the shape class picks it). */
static mcl_status gemm_config(const mcl_runtime *rt, int M, const mcl_tune_config **c)
{
    mcl_shape sh = {{[MCL_SHAPE_BATCH] = M}};
    return mcl_runtime_pick(rt, MCL_FAM_GEMM, &sh, c);
}

/* Tunable `name` of configuration c as an int. */
static mcl_status get(const mcl_tune_config *c, const char *name, int *out)
{
    long v;
    MCL_TRY(mcl_tune_get(&c->params, name, &v));
    *out = (int)v;
    return MCL_OK;
}

/* Whether CLBlast may take a W of N x K: the fp32 copy of a 16-bit W must
 * stay within a quarter of the largest allocation and 256 MiB (a layer
 * matrix of the released models, 105 MB at most; not an LM head, whose copy
 * the model's memory plan does not hold). */
static bool clblast_fits(const mcl_runtime *rt, mcl_dtype wdt, int N, int K)
{
    uint64_t bytes = (uint64_t)N * (uint64_t)K * 4u;
    return wdt == MCL_DTYPE_F32 || (bytes <= rt->dev.max_alloc_bytes / 4 && bytes <= (256u << 20));
}

/* GEMM_GEMV_MAX_ROWS of configuration c for weights of wdt: a class row may
 * raise it above the fallback's for 16-bit weights, whose batches
 * gemv_mma.cl serves (docs/perf/gmma-h200-s6.json); F32 weights keep the
 * fallback's (gemv.cl's batch tiles, never measured there). */
static mcl_status gemv_max_rows(const mcl_runtime *rt, const mcl_tune_config *c, mcl_dtype wdt, int *out)
{
    MCL_TRY(get(c, MCL_T_GEMM_GEMV_MAX_ROWS, out));
    const mcl_params *fb = mcl_runtime_params(rt, MCL_F_GEMM);
    long lim = fb ? mcl_params_get(fb, MCL_T_GEMM_GEMV_MAX_ROWS, *out) : *out;
    if (wdt == MCL_DTYPE_F32 && *out > lim) *out = (int)lim;
    return MCL_OK;
}

int mcl_op_gemv_max_rows(const mcl_runtime *rt, int M, mcl_dtype wdt)
{
    const mcl_tune_config *c;
    int rows = 0;
    if (gemm_config(rt, M, &c) != MCL_OK || gemv_max_rows(rt, c, wdt, &rows) != MCL_OK) {
        mcl_error_clear(); /* gemm.cl not built: an internal error reported by the matmul path */
        return 0;
    }
    return rows;
}

/* The path of MCL_GEMM_AUTO under configuration c. */
static mcl_status choose(const mcl_runtime *rt, const mcl_tune_config *c, mcl_dtype wdt, int M, int N, int K,
                         float beta, mcl_gemm_path *out)
{
    int max_rows, clblast, cpuk;
    MCL_TRY(gemv_max_rows(rt, c, wdt, &max_rows));
    MCL_TRY(get(c, MCL_T_GEMM_CLBLAST, &clblast));
    MCL_TRY(get(c, MCL_T_GEMM_CPUK, &cpuk));
    if (M <= max_rows && (beta == 0.0f || beta == 1.0f)) *out = MCL_GEMM_GEMV;
    else if (mcl_caps_on(&rt->caps, MCL_CAP_MMA) && wdt != MCL_DTYPE_F32) *out = MCL_GEMM_MMA;
    else if (clblast && clblast_fits(rt, wdt, N, K)) *out = MCL_GEMM_CLBLAST;
    else *out = cpuk && rt->dev.type == MCL_DEVICE_TYPE_CPU ? MCL_GEMM_CPU : MCL_GEMM_SIMT;
    return MCL_OK;
}

mcl_gemm_path mcl_op_matmul_choice(const mcl_runtime *rt, mcl_dtype wdt, int M, int N, int K, float beta)
{
    const mcl_tune_config *c;
    mcl_gemm_path path = MCL_GEMM_AUTO; /* only when gemm.cl was not built (an internal error) */
    if (gemm_config(rt, M, &c) != MCL_OK || choose(rt, c, wdt, M, N, K, beta, &path) != MCL_OK) mcl_error_clear();
    return path;
}

static mcl_status ensure_ws(mcl_runtime *rt, int i, size_t bytes)
{
    if (bytes <= rt->gemm_ws_bytes[i]) return MCL_OK;
    mcl_buffer_release(&rt->gemm_ws[i]);
    rt->gemm_ws_bytes[i] = 0;
    MCL_TRY(mcl_buffer_create(rt, CL_MEM_READ_WRITE, bytes, "GEMM workspace", &rt->gemm_ws[i]));
    rt->gemm_ws_bytes[i] = bytes;
    return MCL_OK;
}

/* GEMM_SKRED's counters: at least `tiles` uints, all zero (each launch
 * leaves the ones it used at zero, so they are filled once, when made). */
static mcl_status ensure_cnt(mcl_runtime *rt, size_t tiles)
{
    size_t bytes = tiles * 4;
    if (bytes <= rt->gemm_ws_bytes[WS_CNT]) return MCL_OK;
    MCL_TRY(ensure_ws(rt, WS_CNT, bytes));
    cl_uint zero = 0;
    MCL_CL_CHECK(clEnqueueFillBuffer(rt->queue, rt->gemm_ws[WS_CNT], &zero, sizeof zero, 0, bytes, 0, NULL, NULL),
                 "zeroing the GEMM split-K counters");
    return MCL_OK;
}

/* The matrix product's arguments. */
typedef struct mm {
    const mcl_tune_config *cfg; /* gemm.cl's configuration for M */
    const char *what;
    cl_mem W, A, C;
    mcl_dtype wdt;
    int M, N, K;
    float beta;
    mcl_gemm_slabs *keep; /* non-NULL: slabs of more than one slice are left unreduced there */
} mm;

/* Slices of K: enough blocks for GEMM_SKW per compute unit, at most
 * GEMM_SPLITK (cap; GEMM_SKN instead where larger for a C at most 2 blocks
 * wide, bn columns each), each at least 4 K steps of bk long; *k_len a
 * multiple of bk. */
static mcl_status splitk(const mcl_runtime *rt, const mm *a, int bm, int bn, int bk, int cap, int *k_len,
                         int *slices)
{
    int skw, skn;
    MCL_TRY(get(a->cfg, MCL_T_GEMM_SKW, &skw));
    MCL_TRY(get(a->cfg, MCL_T_GEMM_SKN, &skn));
    if (a->N <= 2 * bn && skn > cap) cap = skn;
    long blocks = (long)((a->M + bm - 1) / bm) * ((a->N + bn - 1) / bn);
    long want = (long)skw * (rt->dev.compute_units ? rt->dev.compute_units : 1);
    long s = blocks >= want ? 1 : (want + blocks - 1) / blocks;
    long by_k = a->K / (4L * bk);
    if (s > cap) s = cap;
    if (s > by_k) s = by_k;
    if (s < 1) s = 1;
    long len = (a->K + s - 1) / s;
    len = (len + bk - 1) / bk * bk;
    *k_len = (int)len;
    *slices = (int)((a->K + len - 1) / len);
    return MCL_OK;
}

/* With more than one slice: *out the slab workspace, and with GEMM_SKRED
 * *cnt the zeroed counters of `tiles` C tiles (else both stay as given). */
static mcl_status slice_buffers(mcl_runtime *rt, const mm *a, int slices, int skred, size_t tiles, cl_mem *out,
                                cl_mem *cnt)
{
    if (slices <= 1) return MCL_OK;
    MCL_TRY(ensure_ws(rt, WS_OUT, (size_t)slices * (size_t)a->M * (size_t)a->N * 4));
    *out = rt->gemm_ws[WS_OUT];
    if (skred) {
        MCL_TRY(ensure_cnt(rt, tiles));
        *cnt = rt->gemm_ws[WS_CNT];
    }
    return MCL_OK;
}

static mcl_status run_reduce(mcl_runtime *rt, const mm *a, int slices)
{
    if (a->keep) { /* mcl_op_matmul_slabs: the consumer adds them */
        a->keep->buf = rt->gemm_ws[WS_OUT];
        a->keep->n = slices;
        a->keep->stride = (uint64_t)a->M * (uint64_t)a->N;
        return MCL_OK;
    }
    cl_kernel k;
    MCL_TRY(mcl_runtime_config_kernel(rt, a->cfg, "gemm_reduce", &k));
    cl_ulong mn = (cl_ulong)a->M * (cl_ulong)a->N;
    MCL_ARG(k, 0, rt->gemm_ws[WS_OUT]);
    MCL_ARG(k, 1, slices);
    MCL_ARG(k, 2, mn);
    MCL_ARG(k, 3, a->beta);
    MCL_ARG(k, 4, a->C);
    size_t wg = elementwise_wg(rt, 256), global = mcl_round_up((size_t)mn, wg);
    return mcl_launch(rt, k, "gemm_reduce", 1, &global, &wg);
}

/* gemm_cpu: one work-item per group, a SW*ST square block each, one K slice. */
static mcl_status run_cpu(mcl_runtime *rt, const mm *a)
{
    cl_kernel k;
    int sw, st;
    MCL_TRY(get(a->cfg, MCL_T_GEMM_SW, &sw));
    MCL_TRY(get(a->cfg, MCL_T_GEMM_ST, &st));
    int b = sw * st;
    MCL_TRY(mcl_runtime_config_kernel(rt, a->cfg, "gemm_cpu", &k));
    cl_int dt = (cl_int)a->wdt;
    MCL_ARG(k, 0, a->A);
    MCL_ARG(k, 1, a->W);
    MCL_ARG(k, 2, dt);
    MCL_ARG(k, 3, a->C);
    MCL_ARG(k, 4, a->M);
    MCL_ARG(k, 5, a->N);
    MCL_ARG(k, 6, a->K);
    MCL_ARG(k, 7, a->beta);
    size_t global[2] = {(size_t)((a->N + b - 1) / b), (size_t)((a->M + b - 1) / b)}, local[2] = {1, 1};
    return mcl_launch(rt, k, a->what, 2, global, local);
}

static mcl_status run_simt(mcl_runtime *rt, const mm *a)
{
    cl_kernel k;
    int sw, st, sbk, cap, skred, k_len = 0;
    MCL_TRY(mcl_runtime_config_kernel(rt, a->cfg, "gemm_simt", &k));
    MCL_TRY(get(a->cfg, MCL_T_GEMM_SW, &sw));
    MCL_TRY(get(a->cfg, MCL_T_GEMM_ST, &st));
    MCL_TRY(get(a->cfg, MCL_T_GEMM_SBK, &sbk));
    MCL_TRY(get(a->cfg, MCL_T_GEMM_SPLITK, &cap));
    MCL_TRY(get(a->cfg, MCL_T_GEMM_SKRED, &skred));
    int b = sw * st, slices = 1;
    MCL_TRY(splitk(rt, a, b, b, sbk, cap, &k_len, &slices));
    size_t gx = (size_t)((a->N + b - 1) / b), gy = (size_t)((a->M + b - 1) / b);
    cl_mem out = a->C, cnt = a->C;
    MCL_TRY(slice_buffers(rt, a, slices, skred, gx * gy, &out, &cnt));
    cl_int dt = (cl_int)a->wdt;
    MCL_ARG(k, 0, a->A);
    MCL_ARG(k, 1, a->W);
    MCL_ARG(k, 2, dt);
    MCL_ARG(k, 3, out);
    MCL_ARG(k, 4, a->M);
    MCL_ARG(k, 5, a->N);
    MCL_ARG(k, 6, a->K);
    MCL_ARG(k, 7, a->beta);
    MCL_ARG(k, 8, k_len);
    MCL_ARG(k, 9, a->C);
    MCL_ARG(k, 10, cnt);
    size_t global[3] = {gx * (size_t)sw, gy * (size_t)sw, (size_t)slices};
    size_t local[3] = {(size_t)sw, (size_t)sw, 1};
    MCL_TRY(mcl_launch(rt, k, a->what, 3, global, local));
    return slices > 1 && !skred ? run_reduce(rt, a, slices) : MCL_OK;
}

mcl_status mcl_op_gemm_split(mcl_runtime *rt, cl_mem A, int M, int K, int lda, mcl_dtype dt, int split,
                             cl_mem hi, cl_mem lo)
{
    if (M < 0 || K <= 0 || lda < K || lda % 8 || (split != 1 && split != 2) ||
        (dt != MCL_DTYPE_F16 && dt != MCL_DTYPE_BF16))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "gemm_split_a: bad arguments (M %d, K %d, lda %d, split %d)",
                             M, K, lda, split);
    if (M == 0) return MCL_OK;
    cl_kernel k;
    MCL_TRY(mcl_runtime_kernel(rt, "gemm_split_a", &k));
    cl_int f16 = dt == MCL_DTYPE_F16, sp = split;
    MCL_ARG(k, 0, A);
    MCL_ARG(k, 1, M);
    MCL_ARG(k, 2, K);
    MCL_ARG(k, 3, lda);
    MCL_ARG(k, 4, f16);
    MCL_ARG(k, 5, sp);
    MCL_ARG(k, 6, hi);
    MCL_ARG(k, 7, lo);
    size_t wg = elementwise_wg(rt, 64);
    size_t global[2] = {mcl_round_up((size_t)lda / 8, wg), (size_t)M}, local[2] = {wg, 1};
    return mcl_launch(rt, k, "gemm_split_a", 2, global, local);
}

/* A split into 16-bit parts of W's type, [M, lda] each, in the workspaces. */
static mcl_status split_a(mcl_runtime *rt, const mm *a, int lda, int split)
{
    size_t bytes = (size_t)a->M * (size_t)lda * 2;
    MCL_TRY(ensure_ws(rt, WS_HI, bytes));
    MCL_TRY(ensure_ws(rt, WS_LO, split == 2 ? bytes : 4));
    return mcl_op_gemm_split(rt, a->A, a->M, a->K, lda, a->wdt, split, rt->gemm_ws[WS_HI], rt->gemm_ws[WS_LO]);
}

/* The mma kernel on A as given: fp32 a->A (GEMM_FUSE) or the parts ah, al
 * [M, lda] (hi, lo). */
static mcl_status run_mma_on(mcl_runtime *rt, const mm *a, cl_mem ah, cl_mem al, int lda)
{
    int bm, bn, bk, wm, wn, cap, skred;
    MCL_TRY(get(a->cfg, MCL_T_GEMM_BM, &bm));
    MCL_TRY(get(a->cfg, MCL_T_GEMM_BN, &bn));
    MCL_TRY(get(a->cfg, MCL_T_GEMM_BK, &bk));
    MCL_TRY(get(a->cfg, MCL_T_GEMM_WM, &wm));
    MCL_TRY(get(a->cfg, MCL_T_GEMM_WN, &wn));
    MCL_TRY(get(a->cfg, MCL_T_GEMM_SPLITK, &cap));
    MCL_TRY(get(a->cfg, MCL_T_GEMM_SKRED, &skred));
    int threads = 32 * wm * wn, k_len = 0, slices = 1;
    MCL_TRY(splitk(rt, a, bm, bn, bk, cap, &k_len, &slices));
    size_t gx = (size_t)((a->N + bn - 1) / bn), gy = (size_t)((a->M + bm - 1) / bm);
    cl_mem out = a->C, cnt = a->C;
    MCL_TRY(slice_buffers(rt, a, slices, skred, gx * gy, &out, &cnt));
    cl_kernel k;
    MCL_TRY(mcl_runtime_config_kernel(rt, a->cfg, a->wdt == MCL_DTYPE_F16 ? "gemm_mma_f16" : "gemm_mma_bf16", &k));
    MCL_ARG(k, 0, ah);
    MCL_ARG(k, 1, al);
    MCL_ARG(k, 2, lda);
    MCL_ARG(k, 3, a->W);
    MCL_ARG(k, 4, out);
    MCL_ARG(k, 5, a->M);
    MCL_ARG(k, 6, a->N);
    MCL_ARG(k, 7, a->K);
    MCL_ARG(k, 8, a->beta);
    MCL_ARG(k, 9, k_len);
    MCL_ARG(k, 10, a->C);
    MCL_ARG(k, 11, cnt);
    size_t global[3] = {gx * (size_t)threads, gy, (size_t)slices};
    size_t local[3] = {(size_t)threads, 1, 1};
    MCL_TRY(mcl_launch(rt, k, a->what, 3, global, local));
    return slices > 1 && !skred ? run_reduce(rt, a, slices) : MCL_OK;
}

/* The parts' row length for K (a multiple of 8: 16-byte rows). */
static int parts_lda(int K) { return (K + 7) / 8 * 8; }

static mcl_status run_mma(mcl_runtime *rt, const mm *a)
{
    int split, fuse;
    MCL_TRY(get(a->cfg, MCL_T_GEMM_SPLIT, &split));
    MCL_TRY(get(a->cfg, MCL_T_GEMM_FUSE, &fuse));
    if (fuse) return run_mma_on(rt, a, a->A, a->A, a->K); /* GEMM_FUSE: the kernel splits fp32 A itself */
    int lda = parts_lda(a->K);
    MCL_TRY(split_a(rt, a, lda, split));
    return run_mma_on(rt, a, rt->gemm_ws[WS_HI], rt->gemm_ws[WS_LO], lda);
}

static mcl_status run_clblast(mcl_runtime *rt, const mm *a)
{
    size_t n = (size_t)a->N, kk = (size_t)a->K;
    cl_mem B = a->W;
    if (a->wdt != MCL_DTYPE_F32) {
        MCL_TRY(ensure_ws(rt, WS_HI, n * kk * 4));
        MCL_TRY(mcl_kern_convert(rt, a->W, a->wdt, rt->gemm_ws[WS_HI], (uint64_t)(n * kk)));
        B = rt->gemm_ws[WS_HI];
    }
    cl_event ev = NULL;
    CLBlastStatusCode st = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes,
                                        (size_t)a->M, n, kk, 1.0f, a->A, 0, kk, B, 0, kk, a->beta, a->C,
                                        0, n, &rt->queue, rt->profiling ? &ev : NULL);
    if (st == CLBlastSuccess && ev) mcl_runtime_record_event(rt, a->what, ev);
    if (st != CLBlastSuccess)
        return mcl_error_set(st == CLBlastOpenCLOutOfResources ? MCL_ERR_DEVICE_MEM : MCL_ERR_OPENCL,
                             "CLBlastSgemm(%s, %d x %d x %d) failed with CLBlast status %d", a->what,
                             a->M, a->N, a->K, (int)st);
    return MCL_OK;
}

static mcl_status check_args(const mcl_runtime *rt, mcl_gemm_path path, const mm *a)
{
    if (a->M < 0 || a->N <= 0 || a->K <= 0)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "matmul %s: bad sizes M %d, N %d, K %d", a->what,
                             a->M, a->N, a->K);
    if (a->wdt != MCL_DTYPE_F32 && a->wdt != MCL_DTYPE_F16 && a->wdt != MCL_DTYPE_BF16)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "matmul %s: bad dtype %d", a->what, (int)a->wdt);
    if (path == MCL_GEMM_MMA && (!mcl_caps_on(&rt->caps, MCL_CAP_MMA) || a->wdt == MCL_DTYPE_F32))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "matmul %s: the mma path needs the mma capability (%s) "
                             "and 16-bit weights", a->what, rt->caps.cap[MCL_CAP_MMA].reason);
    if (path == MCL_GEMM_CPU && rt->dev.type != MCL_DEVICE_TYPE_CPU)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "matmul %s: the cpu path (gemm_cpu) is built for CPU devices only",
                             a->what);
    if (path == MCL_GEMM_GEMV && a->beta != 0.0f && a->beta != 1.0f)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "matmul %s: gemv takes beta 0 or 1, not %g", a->what,
                             (double)a->beta);
    return MCL_OK;
}

static mcl_status matmul(mcl_runtime *rt, mcl_gemm_path path, const char *what, cl_mem W, mcl_dtype wdt, int N,
                         int K, cl_mem A, int M, float beta, cl_mem C, mcl_gemm_slabs *keep);

mcl_status mcl_op_matmul_path(mcl_runtime *rt, mcl_gemm_path path, const char *what, cl_mem W,
                              mcl_dtype wdt, int N, int K, cl_mem A, int M, float beta, cl_mem C)
{
    return matmul(rt, path, what, W, wdt, N, K, A, M, beta, C, NULL);
}

static mcl_status matmul(mcl_runtime *rt, mcl_gemm_path path, const char *what, cl_mem W, mcl_dtype wdt, int N,
                         int K, cl_mem A, int M, float beta, cl_mem C, mcl_gemm_slabs *keep)
{
    mm a = {NULL, what, W, A, C, wdt, M, N, K, beta, keep};
    if (keep) memset(keep, 0, sizeof *keep);
    MCL_TRY(gemm_config(rt, M, &a.cfg));
    if (path == MCL_GEMM_AUTO) MCL_TRY(choose(rt, a.cfg, wdt, M, N, K, beta, &path));
    MCL_TRY(check_args(rt, path, &a));
    if (M == 0) return MCL_OK;
    switch (path) {
    case MCL_GEMM_GEMV: return mcl_kern_gemv(rt, W, wdt, A, C, N, K, M, beta != 0.0f);
    case MCL_GEMM_MMA: return run_mma(rt, &a);
    case MCL_GEMM_CLBLAST: return run_clblast(rt, &a);
    case MCL_GEMM_CPU: return run_cpu(rt, &a);
    default: return run_simt(rt, &a);
    }
}

mcl_status mcl_op_matmul(mcl_runtime *rt, const char *what, cl_mem W, mcl_dtype wdt, int N, int K,
                         cl_mem A, int M, float beta, cl_mem C)
{
    return mcl_op_matmul_path(rt, MCL_GEMM_AUTO, what, W, wdt, N, K, A, M, beta, C);
}

mcl_status mcl_op_matmul_slabs(mcl_runtime *rt, const char *what, cl_mem W, mcl_dtype wdt, int N, int K,
                               cl_mem A, int M, float beta, cl_mem C, mcl_gemm_slabs *out)
{
    if (!out) return mcl_error_set(MCL_ERR_INVALID_ARG, "matmul %s: NULL slabs record", what);
    memset(out, 0, sizeof *out);
    return matmul(rt, MCL_GEMM_AUTO, what, W, wdt, N, K, A, M, beta, C, mcl_op_slabs_on() ? out : NULL);
}

bool mcl_op_slabs_on(void) { return !disabled("slabs"); }

mcl_status mcl_op_slabs_reduce(mcl_runtime *rt, const mcl_gemm_slabs *sl, int M, int N, float beta, cl_mem C)
{
    if (!sl || sl->n < 0 || M < 0 || N <= 0 || (sl->n > 0 && (!sl->buf || sl->stride != (uint64_t)M * (uint64_t)N)))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "gemm_reduce: bad slabs (%d of %llu elements for %d x %d)",
                             sl ? sl->n : -1, sl ? (unsigned long long)sl->stride : 0ull, M, N);
    if (sl->n == 0 || M == 0) return MCL_OK;
    mm a = {NULL, "gemm_reduce", NULL, NULL, C, MCL_DTYPE_F32, M, N, 1, beta, NULL};
    MCL_TRY(gemm_config(rt, M, &a.cfg));
    if (sl->buf != rt->gemm_ws[WS_OUT])
        return mcl_error_set(MCL_ERR_INVALID_ARG, "gemm_reduce: the slabs are not this runtime's GEMM workspace");
    return run_reduce(rt, &a, sl->n);
}

mcl_status mcl_op_matmul_presplit(mcl_runtime *rt, mcl_dtype wdt, int M, int N, int K, float beta,
                                  mcl_gemm_parts *parts, bool *on)
{
    *on = false;
    memset(parts, 0, sizeof *parts);
    if (M <= 0 || N <= 0 || K <= 0 || disabled("presplit")) return MCL_OK;
    const mcl_tune_config *c;
    mcl_gemm_path path;
    int split, fuse;
    MCL_TRY(gemm_config(rt, M, &c));
    MCL_TRY(choose(rt, c, wdt, M, N, K, beta, &path));
    MCL_TRY(get(c, MCL_T_GEMM_SPLIT, &split));
    MCL_TRY(get(c, MCL_T_GEMM_FUSE, &fuse));
    if (path != MCL_GEMM_MMA || fuse) return MCL_OK;
    int lda = parts_lda(K);
    size_t bytes = (size_t)M * (size_t)lda * 2;
    MCL_TRY(ensure_ws(rt, WS_HI, bytes));
    MCL_TRY(ensure_ws(rt, WS_LO, split == 2 ? bytes : 4));
    mcl_gemm_parts p = {rt->gemm_ws[WS_HI], rt->gemm_ws[WS_LO], lda, split, wdt};
    *parts = p;
    *on = true;
    return MCL_OK;
}

mcl_status mcl_op_matmul_parts(mcl_runtime *rt, const char *what, cl_mem W, mcl_dtype wdt, int N, int K,
                               const mcl_gemm_parts *A, int M, float beta, cl_mem C)
{
    mm a = {NULL, what, W, NULL, C, wdt, M, N, K, beta, NULL};
    int split, fuse;
    MCL_TRY(gemm_config(rt, M, &a.cfg));
    MCL_TRY(check_args(rt, MCL_GEMM_MMA, &a));
    MCL_TRY(get(a.cfg, MCL_T_GEMM_SPLIT, &split));
    MCL_TRY(get(a.cfg, MCL_T_GEMM_FUSE, &fuse));
    if (!A || fuse || A->dt != wdt || A->split != split || A->lda != parts_lda(K) || !A->hi || (split == 2 && !A->lo))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "matmul %s: split A (lda %d, split %d, dtype %d) is not what "
                             "the configuration for %d rows reads (lda %d, split %d, dtype %d, GEMM_FUSE %d)",
                             what, A ? A->lda : -1, A ? A->split : -1, A ? (int)A->dt : -1, M, parts_lda(K), split,
                             (int)wdt, fuse);
    if (M == 0) return MCL_OK;
    return run_mma_on(rt, &a, A->hi, split == 2 ? A->lo : A->hi, A->lda);
}
