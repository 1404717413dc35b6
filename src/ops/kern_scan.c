/* Host launchers of scan.cl and ssm_step.cl (see kern_scan.h). */
#include "ops/kern_scan.h"

#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "base/error.h"
#include "ops/gemm.h"
#include "tune/tune_scan.h"

/* Whether MAMBACL_DISABLE names `name`. */
static bool disabled(const char *name) { return mcl_env_lists("MAMBACL_DISABLE", name); }

/* Binds the arguments shared by both kernels (0..11) and returns the next index. */
static mcl_status bind_common(cl_kernel k, const mcl_scan_args *a, const mcl_kern_state *st)
{
    int wdt = (int)a->wdtype;
    cl_ulong off = st->off, stride = st->stride;
    MCL_ARG(k, 0, a->xc);
    MCL_ARG(k, 1, a->dbc);
    MCL_ARG(k, 2, a->xz);
    MCL_ARG(k, 3, a->w_dt);
    MCL_ARG(k, 4, wdt);
    MCL_ARG(k, 5, a->b_dt);
    MCL_ARG(k, 6, a->a);
    MCL_ARG(k, 7, a->d);
    MCL_ARG(k, 8, st->buf);
    MCL_ARG(k, 9, off);
    MCL_ARG(k, 10, st->slot);
    MCL_ARG(k, 11, stride);
    return MCL_OK;
}

/* Binds z's view after y (argument `first`); refuses a stride below d_inner. */
static mcl_status bind_z(cl_kernel k, const mcl_scan_args *a, int first)
{
    cl_ulong z_off = a->z_off;
    if (a->z_ld < a->d_inner)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "scan: z row stride %d < d_inner %d", a->z_ld, a->d_inner);
    MCL_ARG(k, first, z_off);
    MCL_ARG(k, first + 1, a->z_ld);
    return MCL_OK;
}

/* Zeroes buf [bytes] by a blocking write from zeroed host memory. */
static mcl_status zero_buffer(mcl_runtime *rt, cl_mem buf, size_t bytes, const char *what)
{
    void *zeros = calloc(1, bytes);
    if (!zeros) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory zeroing %s (%zu bytes)", what, bytes);
    cl_int err = clEnqueueWriteBuffer(rt->queue, buf, CL_TRUE, 0, bytes, zeros, 0, NULL, NULL);
    free(zeros);
    if (err != CL_SUCCESS) return mcl_error_cl(err, "clEnqueueWriteBuffer(%s, zeros)", what);
    return MCL_OK;
}

/* The split's workspace (rt->scan_ws): n_seqs*(2*nseg+1)*d_inner*N floats,
 * grown when needed and zeroed when created (once per growth). scan_summary
 * writes every slab that scan_prefill reads, so the zeros are never read as
 * data; they are for Oclgrind 21.10's uninitialized-value plugin, which keeps
 * a released buffer's shadow under its buffer index (it has no
 * memoryAllocated/memoryDeallocated hooks): a new buffer given that index
 * inherits the old one's shadow size, the kernels' stores past it are not
 * recorded and their later loads read as uninitialized (scan_prefill after
 * scan_summary in kernel_sweep, depending on which selftests ran before). A
 * whole-buffer host write gives the shadow this buffer's size, all defined. */
static mcl_status scan_ws(mcl_runtime *rt, int n_seqs, int nseg, const mcl_scan_args *a, cl_mem *out)
{
    size_t bytes = 4 * (size_t)n_seqs * (size_t)(2 * nseg + 1) * (size_t)a->d_inner * (size_t)a->d_state;
    if (bytes > rt->scan_ws_bytes) {
        mcl_buffer_release(&rt->scan_ws);
        rt->scan_ws_bytes = 0;
        MCL_TRY(mcl_buffer_create(rt, CL_MEM_READ_WRITE, bytes, "scan split workspace", &rt->scan_ws));
        mcl_status s = zero_buffer(rt, rt->scan_ws, bytes, "scan split workspace");
        if (s != MCL_OK) {
            mcl_buffer_release(&rt->scan_ws);
            return s;
        }
        rt->scan_ws_bytes = bytes;
    }
    *out = rt->scan_ws;
    return MCL_OK;
}

int mcl_kern_scan_prefill_nseg(const mcl_params *p)
{
    long v = mcl_params_get(p, MCL_T_SCAN_NSEG, 1);
    return v < 1 ? 1 : (v > MCL_SCAN_MAX_NSEG ? MCL_SCAN_MAX_NSEG : (int)v);
}

bool mcl_kern_scan_prefill_dtin(const mcl_params *p) { return mcl_params_get(p, MCL_T_SCAN_DTIN, 0) != 0; }

int mcl_kern_scan_dt_mode(const mcl_params *p, mcl_dtype wdt, mcl_gemm_path dt_path)
{
    long v = mcl_params_get(p, MCL_T_SCAN_DTIN, 0), v16 = mcl_params_get(p, MCL_T_SCAN_DTIN16, 0);
    if (v == 0) return 0;
    return v16 != 0 && wdt != MCL_DTYPE_F32 && dt_path == MCL_GEMM_MMA ? (int)v16 : (int)v;
}

/* The pre-pass mode on rt for a's W_dt and T rows (mcl_kern_scan_dt_mode with
 * the dt product's path; the path is asked only where SCAN_DTIN16 could apply). */
static int dt_mode(const mcl_runtime *rt, const mcl_params *p, const mcl_scan_args *a)
{
    mcl_gemm_path path = MCL_GEMM_AUTO;
    if (mcl_params_get(p, MCL_T_SCAN_DTIN16, 0) != 0 && a->wdtype != MCL_DTYPE_F32 && a->T > 0)
        path = mcl_op_matmul_choice(rt, a->wdtype, a->T, a->d_inner, a->dt_rank, 0.0f);
    return mcl_kern_scan_dt_mode(p, a->wdtype, path);
}

bool mcl_kern_scan_prefill_warp(const mcl_params *p, int d_state)
{
    return mcl_params_get(p, MCL_T_SCAN_WARP, 0) != 0 && d_state <= mcl_params_get(p, MCL_T_SCAN_NG, 16);
}

/* Whether parts yp can take y for T rows of d_inner (MCL_ERR_INVALID_ARG if not). */
static mcl_status parts_check(const mcl_gemm_parts *yp, const mcl_scan_args *a)
{
    if (!yp->hi || (yp->split != 1 && yp->split != 2) || (yp->split == 2 && !yp->lo) || yp->lda < a->d_inner ||
        yp->lda % 8 != 0 || (yp->dt != MCL_DTYPE_F16 && yp->dt != MCL_DTYPE_BF16))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "scan: y's parts (lda %d, split %d, dtype %d) for d_inner %d",
                             yp->lda, yp->split, (int)yp->dt, a->d_inner);
    return MCL_OK;
}

/* Binds y's parts (arguments 22..26; yp NULL: fp32 y, the parts' buffers
 * bound to y and not written). */
static mcl_status bind_parts(cl_kernel k, const mcl_scan_args *a, const mcl_gemm_parts *yp)
{
    cl_mem hi = yp ? yp->hi : a->y, lo = yp && yp->split == 2 ? yp->lo : hi;
    cl_int lda = yp ? yp->lda : 0, f16 = yp && yp->dt == MCL_DTYPE_F16, split = yp ? yp->split : 0;
    MCL_ARG(k, 22, hi);
    MCL_ARG(k, 23, lo);
    MCL_ARG(k, 24, lda);
    MCL_ARG(k, 25, f16);
    MCL_ARG(k, 26, split);
    return MCL_OK;
}

/* Binds scan_prefill's / scan_summary's arguments (nseg > 1: the workspace;
 * dtin: Δ·W from the pre-pass, or NULL; yp: y's parts, or NULL). */
static mcl_status bind_prefill(mcl_runtime *rt, cl_kernel k, const mcl_scan_args *a, const mcl_kern_state *st,
                               cl_mem seq_start, int n_seqs, int nseg, cl_mem dtin, const mcl_gemm_parts *yp)
{
    cl_mem sums = a->y; /* not read when nseg is 1 */
    cl_mem dt = dtin ? dtin : a->y; /* not read without SCAN_DTIN */
    if (nseg > 1) MCL_TRY(scan_ws(rt, n_seqs, nseg, a, &sums));
    MCL_TRY(bind_common(k, a, st));
    MCL_ARG(k, 12, seq_start);
    MCL_ARG(k, 13, n_seqs);
    MCL_ARG(k, 14, a->d_inner);
    MCL_ARG(k, 15, a->dt_rank);
    MCL_ARG(k, 16, a->d_state);
    MCL_ARG(k, 17, a->y);
    MCL_TRY(bind_z(k, a, 18));
    MCL_ARG(k, 20, sums);
    MCL_ARG(k, 21, dt);
    return bind_parts(k, a, yp);
}

/* rt->scan_dt[i] of at least `bytes`. */
static mcl_status dt_ws(mcl_runtime *rt, int i, size_t bytes, const char *what)
{
    if (bytes <= rt->scan_dt_bytes[i]) return MCL_OK;
    mcl_buffer_release(&rt->scan_dt[i]);
    rt->scan_dt_bytes[i] = 0;
    MCL_TRY(mcl_buffer_create(rt, CL_MEM_READ_WRITE, bytes, what, &rt->scan_dt[i]));
    rt->scan_dt_bytes[i] = bytes;
    return MCL_OK;
}

/* SCAN_DTIN 1 / 3: scan_dt / scan_dt2 (kernel g) writes out [T, d_inner] =
 * δ·W_dtᵀ, δ read in place from dbc; SCAN_DTW² work-items per tile of
 * SCAN_DTV·SCAN_DTW timesteps × SCAN_DTV·SCAN_DTW (scan_dt) or 4·SCAN_DTW
 * (scan_dt2) channels. */
static mcl_status dt_simt(mcl_runtime *rt, cl_kernel g, const mcl_params *p, int mode, const mcl_scan_args *a,
                          cl_mem out)
{
    int ldb = a->dt_rank + 2 * a->d_state, wdt = (int)a->wdtype;
    size_t dtw = (size_t)mcl_params_get(p, MCL_T_SCAN_DTW, 16), wg = dtw * dtw;
    size_t tile = (size_t)mcl_params_get(p, MCL_T_SCAN_DTV, 4) * dtw;
    size_t tile_d = mode == 3 ? 4 * dtw : tile;
    size_t global = (((size_t)a->T + tile - 1) / tile) * (((size_t)a->d_inner + tile_d - 1) / tile_d) * wg;
    MCL_ARG(g, 0, a->dbc);
    MCL_ARG(g, 1, ldb);
    MCL_ARG(g, 2, a->dt_rank);
    MCL_ARG(g, 3, a->T);
    MCL_ARG(g, 4, a->w_dt);
    MCL_ARG(g, 5, wdt);
    MCL_ARG(g, 6, a->d_inner);
    MCL_ARG(g, 7, out);
    return mcl_launch(rt, g, mode == 3 ? "scan_dt2" : "scan_dt", 1, &global, &wg);
}

/* SCAN_DTIN 2: scan_dt_gather (kernel g) copies δ = dbc[:, :R] into
 * rt->scan_dt[0] [T, R], then mcl_op_matmul ("dt_proj": gemv, SIMT, CLBlast
 * or tensor cores by its own rules) writes out [T, d_inner]. */
static mcl_status dt_gemm(mcl_runtime *rt, cl_kernel g, const mcl_scan_args *a, cl_mem out)
{
    int ldb = a->dt_rank + 2 * a->d_state;
    MCL_TRY(dt_ws(rt, 0, 4 * (size_t)a->T * (size_t)a->dt_rank, "scan delta (dt_rank columns of dbc)"));
    MCL_ARG(g, 0, a->dbc);
    MCL_ARG(g, 1, ldb);
    MCL_ARG(g, 2, a->dt_rank);
    MCL_ARG(g, 3, a->T);
    MCL_ARG(g, 4, rt->scan_dt[0]);
    size_t wg = 64, max = rt->dev.max_work_group_size < rt->dev.max_work_item_sizes[0]
                              ? rt->dev.max_work_group_size : rt->dev.max_work_item_sizes[0];
    while (wg > 1 && wg > max) wg /= 2;
    size_t global = mcl_round_up((size_t)a->T * (size_t)a->dt_rank, wg);
    MCL_TRY(mcl_launch(rt, g, "scan_dt_gather", 1, &global, &wg));
    return mcl_op_matmul(rt, "dt_proj", a->w_dt, a->wdtype, a->d_inner, a->dt_rank, rt->scan_dt[0], a->T, 0.0f,
                         out);
}

/* The pre-pass of mode 1, 2 or 3 (kernel g: scan_dt, scan_dt_gather or
 * scan_dt2) into rt->scan_dt[1] [T, d_inner] = δ·W_dtᵀ, returned in *out. */
static mcl_status dt_prepass(mcl_runtime *rt, cl_kernel g, const mcl_params *p, int mode, const mcl_scan_args *a,
                             cl_mem *out)
{
    if (a->T < 1) return mcl_error_set(MCL_ERR_INVALID_ARG, "scan: SCAN_DTIN needs the token count (T = %d)", a->T);
    MCL_TRY(dt_ws(rt, 1, 4 * (size_t)a->T * (size_t)a->d_inner, "scan dt projection"));
    if (mode == 2) MCL_TRY(dt_gemm(rt, g, a, rt->scan_dt[1]));
    else MCL_TRY(dt_simt(rt, g, p, mode, a, rt->scan_dt[1]));
    *out = rt->scan_dt[1];
    return MCL_OK;
}

/* The pre-pass kernel's name for mode 1, 2 or 3. */
static const char *dt_kernel(int mode) { return mode == 1 ? "scan_dt" : mode == 3 ? "scan_dt2" : "scan_dt_gather"; }

/* y's form for one launch: the parts given (yp, tests and tools), or asked
 * of mcl_op_matmul_presplit for the product `next` after the pre-pass (its
 * own GEMM may grow the workspaces the parts live in); on: y as parts. */
typedef struct yform {
    const mcl_scan_next *next;
    mcl_gemm_parts parts;
    bool on;
} yform;

/* After the pre-pass: y's parts for yf->next where tunables p have
 * SCAN_YSPLIT, unless MAMBACL_DISABLE lists scan_split (or presplit), the
 * product does not take the mma path or the scan is scan_warp's (fp32 y
 * only). */
static mcl_status ask_parts(mcl_runtime *rt, const mcl_params *p, const mcl_scan_args *a, bool warp, yform *yf)
{
    if (!yf->next || warp || !mcl_params_get(p, MCL_T_SCAN_YSPLIT, 0) || disabled("scan_split")) return MCL_OK;
    return mcl_op_matmul_presplit(rt, yf->next->wdt, a->T, yf->next->n, a->d_inner, yf->next->beta, &yf->parts,
                                  &yf->on);
}

/* The scan's kernels: scan_prefill, scan_summary (nseg > 1), the dt
 * pre-pass's (SCAN_DTIN), scan_warp (mcl_kern_scan_prefill_warp) and
 * scan_prefill_split (SCAN_YSPLIT); NULL where not used. */
typedef struct scan_kernels {
    cl_kernel k, ks, kg, kw, kp;
} scan_kernels;

/* The pre-pass (kg, with SCAN_DTIN; mode dtm), then scan_warp (kw, non-NULL
 * when mcl_kern_scan_prefill_warp) or scan_summary (ks, when nseg > 1) and
 * scan_prefill (k), or in a SCAN_YSPLIT program scan_prefill_split (kp; its
 * scan_prefill is empty), with y's parts where yf has them. */
static mcl_status launch_prefill(mcl_runtime *rt, const scan_kernels *kk, const mcl_params *p, int dtm,
                                 const mcl_scan_args *a, const mcl_kern_state *st, cl_mem seq_start, int n_seqs,
                                 yform *yf)
{
    cl_kernel k = kk->k, ks = kk->ks, kg = kk->kg, kw = kk->kw;
    int nseg = mcl_kern_scan_prefill_nseg(p);
    size_t global, wg;
    cl_mem dtin = NULL;
    mcl_kern_scan_prefill_grid(p, n_seqs, a->d_inner, &global, &wg);
    if (dtm) {
        MCL_ASSERT(kg != NULL, "the dt pre-pass kernel given for a scan with SCAN_DTIN");
        MCL_TRY(dt_prepass(rt, kg, p, dtm, a, &dtin));
    }
    MCL_TRY(ask_parts(rt, p, a, kw != NULL, yf));
    const mcl_gemm_parts *yp = yf->on ? &yf->parts : NULL;
    bool ysp = mcl_params_get(p, MCL_T_SCAN_YSPLIT, 0) != 0; /* the program's scan is scan_prefill_split */
    if (yp) {
        MCL_TRY(parts_check(yp, a));
        if (!ysp)
            return mcl_error_set(MCL_ERR_INVALID_ARG, "scan: y as parts needs a program built with SCAN_YSPLIT 1");
        if (kw) return mcl_error_set(MCL_ERR_UNSUPPORTED, "scan: scan_warp writes fp32 y only, not parts");
    }
    if (ysp) {
        MCL_ASSERT(kk->kp != NULL, "scan_prefill_split given for a SCAN_YSPLIT program");
        k = kk->kp;
    }
    if (kw) {
        MCL_ASSERT(dtin != NULL && nseg == 1, "scan_warp with SCAN_DTIN and no split (mcl_tune_scan_fits)");
        size_t dch = (size_t)mcl_params_get(p, MCL_T_SCAN_DCH, 8), wwg = (size_t)mcl_tune_scan_warp_wg(p);
        size_t wglobal = (size_t)n_seqs * (((size_t)a->d_inner + dch - 1) / dch) * wwg;
        MCL_TRY(bind_prefill(rt, kw, a, st, seq_start, n_seqs, 1, dtin, NULL));
        return mcl_launch(rt, kw, "scan_warp", 1, &wglobal, &wwg);
    }
    if (nseg > 1) {
        MCL_ASSERT(ks != NULL, "scan_summary given for a split scan");
        MCL_TRY(bind_prefill(rt, ks, a, st, seq_start, n_seqs, nseg, dtin, NULL));
        MCL_TRY(mcl_launch(rt, ks, "scan_summary", 1, &global, &wg));
    }
    MCL_TRY(bind_prefill(rt, k, a, st, seq_start, n_seqs, nseg, dtin, yp));
    return mcl_launch(rt, k, ysp ? "scan_prefill_split" : "scan_prefill", 1, &global, &wg);
}

/* Kernel `name` of k's program into *out (released by the caller). */
static mcl_status sibling_kernel(cl_kernel k, const char *name, cl_kernel *out)
{
    cl_program prog;
    cl_int err;
    MCL_CL_CHECK(clGetKernelInfo(k, CL_KERNEL_PROGRAM, sizeof prog, &prog, NULL),
                 "clGetKernelInfo(scan_prefill, CL_KERNEL_PROGRAM)");
    *out = clCreateKernel(prog, name, &err);
    if (err != CL_SUCCESS) return mcl_error_cl(err, "clCreateKernel(%s)", name);
    return MCL_OK;
}

/* mcl_kern_scan_prefill_with's and _parts_with's launch on k's program. */
static mcl_status prefill_with(mcl_runtime *rt, cl_kernel k, const mcl_params *p, const mcl_scan_args *a,
                               const mcl_kern_state *st, cl_mem seq_start, int n_seqs, yform *yf)
{
    scan_kernels kk = {k, NULL, NULL, NULL, NULL};
    if (n_seqs <= 0) return MCL_OK;
    mcl_status s = MCL_OK;
    int dtm = dt_mode(rt, p, a);
    if (mcl_kern_scan_prefill_nseg(p) > 1) s = sibling_kernel(k, "scan_summary", &kk.ks);
    if (s == MCL_OK && dtm) s = sibling_kernel(k, dt_kernel(dtm), &kk.kg);
    if (s == MCL_OK && mcl_kern_scan_prefill_warp(p, a->d_state)) s = sibling_kernel(k, "scan_warp", &kk.kw);
    if (s == MCL_OK && mcl_params_get(p, MCL_T_SCAN_YSPLIT, 0)) s = sibling_kernel(k, "scan_prefill_split", &kk.kp);
    if (s == MCL_OK) s = launch_prefill(rt, &kk, p, dtm, a, st, seq_start, n_seqs, yf);
    cl_kernel own[] = {kk.ks, kk.kg, kk.kw, kk.kp};
    for (int i = 0; i < 4; i++) /* the queue keeps them until the launches have run */
        if (own[i]) clReleaseKernel(own[i]);
    return s;
}

mcl_status mcl_kern_scan_prefill_with(mcl_runtime *rt, cl_kernel k, const mcl_params *p,
                                      const mcl_scan_args *a, const mcl_kern_state *st, cl_mem seq_start,
                                      int n_seqs)
{
    yform yf = {0};
    return prefill_with(rt, k, p, a, st, seq_start, n_seqs, &yf);
}

mcl_status mcl_kern_scan_prefill_parts_with(mcl_runtime *rt, cl_kernel k, const mcl_params *p,
                                            const mcl_scan_args *a, const mcl_kern_state *st, cl_mem seq_start,
                                            int n_seqs, const mcl_gemm_parts *yp)
{
    if (!yp) return mcl_error_set(MCL_ERR_INVALID_ARG, "scan: no parts given for y");
    yform yf = {NULL, *yp, true};
    return prefill_with(rt, k, p, a, st, seq_start, n_seqs, &yf);
}

/* The runtime's configuration for a, then the launch with y as yf says. */
static mcl_status prefill_runtime(mcl_runtime *rt, const mcl_scan_args *a, const mcl_kern_state *st,
                                  cl_mem seq_start, int n_seqs, yform *yf)
{
    scan_kernels kk = {0};
    const mcl_params *p;
    if (n_seqs <= 0) return MCL_OK;
    mcl_shape sh = {{[MCL_SHAPE_D_INNER] = a->d_inner, [MCL_SHAPE_TOKENS] = a->T > 0 ? a->T : 0,
                     [MCL_SHAPE_BATCH] = n_seqs}};
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_SCAN, &sh, "scan_prefill", &kk.k, &p));
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_SCAN, &sh, "scan_summary", &kk.ks, NULL));
    int dtm = dt_mode(rt, p, a);
    if (dtm) MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_SCAN, &sh, dt_kernel(dtm), &kk.kg, NULL));
    if (mcl_kern_scan_prefill_warp(p, a->d_state))
        MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_SCAN, &sh, "scan_warp", &kk.kw, NULL));
    if (mcl_params_get(p, MCL_T_SCAN_YSPLIT, 0))
        MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_SCAN, &sh, "scan_prefill_split", &kk.kp, NULL));
    return launch_prefill(rt, &kk, p, dtm, a, st, seq_start, n_seqs, yf);
}

mcl_status mcl_kern_scan_prefill(mcl_runtime *rt, const mcl_scan_args *a, const mcl_kern_state *st,
                                 cl_mem seq_start, int n_seqs)
{
    yform yf = {0};
    return prefill_runtime(rt, a, st, seq_start, n_seqs, &yf);
}

/* The split launches' common end: *parts, *on from yf (after status s). */
static mcl_status split_out(mcl_status s, const yform *yf, int n_seqs, mcl_gemm_parts *parts, bool *on)
{
    MCL_TRY(s);
    *on = yf->on && n_seqs > 0;
    if (*on) *parts = yf->parts;
    return MCL_OK;
}

mcl_status mcl_kern_scan_prefill_split(mcl_runtime *rt, const mcl_scan_args *a, const mcl_kern_state *st,
                                       cl_mem seq_start, int n_seqs, const mcl_scan_next *next,
                                       mcl_gemm_parts *parts, bool *on)
{
    yform yf = {next, {0}, false};
    *on = false;
    memset(parts, 0, sizeof *parts);
    return split_out(prefill_runtime(rt, a, st, seq_start, n_seqs, &yf), &yf, n_seqs, parts, on);
}

mcl_status mcl_kern_scan_prefill_split_with(mcl_runtime *rt, cl_kernel k, const mcl_params *p,
                                            const mcl_scan_args *a, const mcl_kern_state *st, cl_mem seq_start,
                                            int n_seqs, const mcl_scan_next *next, mcl_gemm_parts *parts, bool *on)
{
    yform yf = {next, {0}, false};
    *on = false;
    memset(parts, 0, sizeof *parts);
    return split_out(prefill_with(rt, k, p, a, st, seq_start, n_seqs, &yf), &yf, n_seqs, parts, on);
}

int mcl_kern_ssm_step_sb(const mcl_runtime *rt, const mcl_params *p, int B, int d_inner, int R, int N)
{
    long wg = mcl_params_get(p, MCL_T_STEP_WG, 0), lpc = mcl_params_get(p, MCL_T_STEP_LPC, 0);
    long sb = mcl_params_get(p, MCL_T_STEP_SB, 1);
    if (B <= 0 || d_inner <= 0 || R < 0 || N <= 0 || wg <= 0 || lpc <= 0 || wg % lpc != 0) return 0;
    if (sb > B) sb = B;
    size_t row = 4 * ((size_t)R + 2 * (size_t)N), red = 4 * (size_t)wg;
    while (sb > 0 && (size_t)sb * row + red > rt->dev.local_mem_bytes) sb /= 2;
    /* fewer sequences per group while the grid would not cover the compute units once */
    size_t blocks = ((size_t)d_inner + (size_t)(wg / lpc) - 1) / (size_t)(wg / lpc);
    size_t want = rt->dev.compute_units ? rt->dev.compute_units : 1;
    while (sb > 1 && blocks * (((size_t)B + (size_t)sb - 1) / (size_t)sb) < want) sb /= 2;
    return (int)sb;
}

/* Binds ssm_step's 23 arguments (cl/ssm_step.cl, STEP_PARAMS). */
static mcl_status bind_step(cl_kernel k, const mcl_scan_args *a, const mcl_kern_state *st, int B, int n_parts,
                            uint64_t part_stride, size_t local_bytes, int sb, const char *name)
{
    cl_int np = n_parts, sbi = sb, wdt = (int)a->wdtype;
    cl_ulong ps = part_stride, off = st->off, stride = st->stride, z_off = a->z_off;
    MCL_ARG(k, 0, a->xc);
    MCL_ARG(k, 1, a->dbc);
    MCL_ARG(k, 2, np);
    MCL_ARG(k, 3, ps);
    MCL_ARG(k, 4, a->xz);
    MCL_ARG(k, 5, a->w_dt);
    MCL_ARG(k, 6, wdt);
    MCL_ARG(k, 7, a->b_dt);
    MCL_ARG(k, 8, a->a);
    MCL_ARG(k, 9, a->d);
    MCL_ARG(k, 10, st->buf);
    MCL_ARG(k, 11, off);
    MCL_ARG(k, 12, st->slot);
    MCL_ARG(k, 13, stride);
    MCL_ARG(k, 14, B);
    MCL_ARG(k, 15, a->d_inner);
    MCL_ARG(k, 16, a->dt_rank);
    MCL_ARG(k, 17, a->d_state);
    MCL_ARG(k, 18, a->y);
    MCL_ARG(k, 19, z_off);
    MCL_ARG(k, 20, a->z_ld);
    MCL_CL_CHECK(clSetKernelArg(k, 21, local_bytes, NULL), "clSetKernelArg(%s, 21: local dbc rows)", name);
    MCL_ARG(k, 22, sbi);
    return MCL_OK;
}

/* The arguments both ssm_step.cl launchers check (n_parts partial dbc rows
 * part_stride apart, z's row stride); MCL_ERR_INVALID_ARG naming `name`. */
static mcl_status step_check(const mcl_scan_args *a, int B, int n_parts, uint64_t part_stride, const char *name)
{
    int row = a->dt_rank + 2 * a->d_state;
    if (n_parts < 1 || (n_parts > 1 && part_stride < (uint64_t)B * (uint64_t)row))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "%s: %d parts, part stride %llu", name, n_parts,
                             (unsigned long long)part_stride);
    if (a->z_ld < a->d_inner)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "%s: z row stride %d < d_inner %d", name, a->z_ld, a->d_inner);
    return MCL_OK;
}

/* Binds k's arguments (bind_step) and launches it in groups of wg
 * work-items, each covering `channels` channels (grid dimension 0) and sb
 * sequences (dimension 1): the grid both ssm_step.cl kernels take. */
static mcl_status step_enqueue(mcl_runtime *rt, cl_kernel k, const mcl_scan_args *a, const mcl_kern_state *st,
                               int B, int n_parts, uint64_t part_stride, size_t local_bytes, int sb, long wg,
                               long channels, const char *name)
{
    MCL_TRY(bind_step(k, a, st, B, n_parts, part_stride, local_bytes, sb, name));
    size_t per = (size_t)channels;
    size_t global[2] = {((size_t)a->d_inner + per - 1) / per * (size_t)wg, ((size_t)B + sb - 1) / (size_t)sb};
    size_t local[2] = {(size_t)wg, 1};
    return mcl_launch(rt, k, name, 2, global, local);
}

mcl_status mcl_kern_ssm_step_run(mcl_runtime *rt, cl_kernel k, const mcl_params *p, const mcl_scan_args *a,
                                 const mcl_kern_state *st, int B, int n_parts, uint64_t part_stride, int sb,
                                 const char *name)
{
    if (B <= 0) return MCL_OK;
    int row = a->dt_rank + 2 * a->d_state;
    MCL_TRY(step_check(a, B, n_parts, part_stride, name));
    long wg, lpc, sb_max = mcl_params_get(p, MCL_T_STEP_SB, 1);
    MCL_TRY(mcl_tune_get(p, MCL_T_STEP_WG, &wg));
    MCL_TRY(mcl_tune_get(p, MCL_T_STEP_LPC, &lpc));
    MCL_ASSERT(wg > 0 && lpc > 0 && wg % lpc == 0, "ssm_step tunables passed mcl_tune_check");
    size_t local_bytes = 4 * (size_t)sb * (size_t)row;
    if (sb < 1 || sb > sb_max || sb > B || local_bytes + 4 * (size_t)wg > rt->dev.local_mem_bytes)
        return mcl_error_set(MCL_ERR_INVALID_ARG,
                             "%s: %d sequences per group (STEP_SB %ld, batch %d; %d dbc floats each, %llu bytes "
                             "of local memory)",
                             name, sb, sb_max, B, row, (unsigned long long)rt->dev.local_mem_bytes);
    return step_enqueue(rt, k, a, st, B, n_parts, part_stride, local_bytes, sb, wg, wg / lpc, name);
}

/* The host's sequences per group, or the error of a dbc row too long for local memory. */
static mcl_status step_sb(const mcl_runtime *rt, const mcl_params *p, const mcl_scan_args *a, int B, int *sb)
{
    *sb = mcl_kern_ssm_step_sb(rt, p, B, a->d_inner, a->dt_rank, a->d_state);
    if (*sb < 1)
        return mcl_error_set(MCL_ERR_UNSUPPORTED,
                             "ssm_step: a dbc row of %d floats does not fit %llu bytes of local memory",
                             a->dt_rank + 2 * a->d_state, (unsigned long long)rt->dev.local_mem_bytes);
    return MCL_OK;
}

/* ---- ssm_step_tile (cl/ssm_step.cl): batches of at least STEP_TILE ---- */

/* cl/ssm_step.cl's step_odd4: x rounded up to 4, plus 4 when x/4 is even. */
static size_t tile_odd4(size_t x)
{
    x = (x + 3) & ~(size_t)3;
    return (x / 4) % 2 == 0 ? x + 4 : x;
}

size_t mcl_kern_ssm_step_tile_local(const mcl_params *p, int sb, int R, int N)
{
    long lpc = mcl_params_get(p, MCL_T_STEP_LPC, 1), twg = mcl_params_get(p, MCL_T_STEP_TWG, 128);
    long tsq = mcl_params_get(p, MCL_T_STEP_TSQ, 4);
    if (sb < 1 || R < 0 || N < 1 || lpc < 1 || tsq < 1 || twg < tsq) return 0;
    size_t ru = 4 * (size_t)(lpc >= 4 ? lpc / 4 : 1), rp = ((size_t)R + ru - 1) / ru * ru;
    size_t n4 = ((size_t)N + 3) & ~(size_t)3, tch = (size_t)(twg / tsq);
    return 4 * (tch * (tile_odd4(rp) + tile_odd4(n4)) + (size_t)sb * tile_odd4(rp + 2 * n4));
}

int mcl_kern_ssm_step_tile_sb(const mcl_runtime *rt, const mcl_params *p, int B, int d_inner, int R, int N)
{
    long tile = mcl_params_get(p, MCL_T_STEP_TILE, 0), tsq = mcl_params_get(p, MCL_T_STEP_TSQ, 4);
    long sb = tsq * mcl_params_get(p, MCL_T_STEP_TJ, 2), tch = mcl_params_get(p, MCL_T_STEP_TWG, 128) / tsq;
    if (tile <= 0 || B < tile || d_inner <= 0 || R < 0 || N <= 0 || tsq < 1 || sb < 1 || tch < 1) return 0;
    if (sb > B) sb = B;
    while (sb > 0 && mcl_kern_ssm_step_tile_local(p, (int)sb, R, N) > rt->dev.local_mem_bytes) sb--;
    /* fewer sequences per group (down to one per lane) while the grid would not cover the compute units once */
    size_t blocks = ((size_t)d_inner + (size_t)tch - 1) / (size_t)tch;
    size_t want = rt->dev.compute_units ? rt->dev.compute_units : 1;
    while (sb > tsq && blocks * (((size_t)B + (size_t)sb - 1) / (size_t)sb) < want)
        sb = (sb + 1) / 2 > tsq ? (sb + 1) / 2 : tsq;
    return (int)sb;
}

mcl_status mcl_kern_ssm_step_tile_run(mcl_runtime *rt, cl_kernel k, const mcl_params *p, const mcl_scan_args *a,
                                      const mcl_kern_state *st, int B, int n_parts, uint64_t part_stride, int sb,
                                      const char *name)
{
    if (B <= 0) return MCL_OK;
    MCL_TRY(step_check(a, B, n_parts, part_stride, name));
    long twg, tsq, tj;
    MCL_TRY(mcl_tune_get(p, MCL_T_STEP_TWG, &twg));
    MCL_TRY(mcl_tune_get(p, MCL_T_STEP_TSQ, &tsq));
    MCL_TRY(mcl_tune_get(p, MCL_T_STEP_TJ, &tj));
    MCL_ASSERT(twg > 0 && tsq > 0 && twg % tsq == 0 && tj > 0, "ssm_step tile tunables passed mcl_tune_check");
    size_t local_bytes = mcl_kern_ssm_step_tile_local(p, sb, a->dt_rank, a->d_state);
    if (sb < 1 || sb > tsq * tj || sb > B || local_bytes == 0 || local_bytes > rt->dev.local_mem_bytes)
        return mcl_error_set(MCL_ERR_INVALID_ARG,
                             "%s: %d sequences per group (STEP_TSQ*STEP_TJ %ld, batch %d; %zu bytes of local "
                             "memory of %llu)",
                             name, sb, tsq * tj, B, local_bytes, (unsigned long long)rt->dev.local_mem_bytes);
    return step_enqueue(rt, k, a, st, B, n_parts, part_stride, local_bytes, sb, twg, twg / tsq, name);
}

/* kt (the program's ssm_step_tile, non-NULL only where mcl_kern_ssm_step_tile_sb
 * serves the launch) with its sb, else the plain kernel k (`name`) with
 * mcl_kern_ssm_step_sb's. */
static mcl_status step_launch(mcl_runtime *rt, cl_kernel k, cl_kernel kt, const mcl_params *p,
                              const mcl_scan_args *a, const mcl_kern_state *st, int B, int n_parts,
                              uint64_t part_stride, const char *name)
{
    int sb;
    if (kt) {
        sb = mcl_kern_ssm_step_tile_sb(rt, p, B, a->d_inner, a->dt_rank, a->d_state);
        MCL_ASSERT(sb > 0, "ssm_step_tile chosen for a launch it serves");
        return mcl_kern_ssm_step_tile_run(rt, kt, p, a, st, B, n_parts, part_stride, sb, "ssm_step_tile");
    }
    MCL_TRY(step_sb(rt, p, a, B, &sb));
    return mcl_kern_ssm_step_run(rt, k, p, a, st, B, n_parts, part_stride, sb, name);
}

static bool step_tiled(const mcl_runtime *rt, const mcl_params *p, const mcl_scan_args *a, int B)
{
    return mcl_kern_ssm_step_tile_sb(rt, p, B, a->d_inner, a->dt_rank, a->d_state) > 0;
}

mcl_status mcl_kern_ssm_step_with(mcl_runtime *rt, cl_kernel k, const mcl_params *p, const mcl_scan_args *a,
                                  const mcl_kern_state *st, int B)
{
    cl_kernel kt = NULL;
    if (B <= 0) return MCL_OK;
    if (step_tiled(rt, p, a, B)) MCL_TRY(sibling_kernel(k, "ssm_step_tile", &kt));
    mcl_status s = step_launch(rt, k, kt, p, a, st, B, 1, 0, "ssm_step");
    if (kt) clReleaseKernel(kt); /* the queue keeps it until the launch has run */
    return s;
}

/* The runtime's ssm_step.cl configuration for (d_inner, B): kernel `name`, or
 * ssm_step_tile into *kt where that one serves the launch (*kt NULL else). */
static mcl_status step_pick(mcl_runtime *rt, const mcl_scan_args *a, int B, const char *name, cl_kernel *k,
                            cl_kernel *kt, const mcl_params **p)
{
    mcl_shape sh = {{[MCL_SHAPE_D_INNER] = a->d_inner, [MCL_SHAPE_BATCH] = B}};
    *kt = NULL;
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_STEP, &sh, name, k, p));
    if (step_tiled(rt, *p, a, B)) MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_STEP, &sh, "ssm_step_tile", kt, NULL));
    return MCL_OK;
}

mcl_status mcl_kern_ssm_step(mcl_runtime *rt, const mcl_scan_args *a, const mcl_kern_state *st, int B)
{
    cl_kernel k, kt;
    const mcl_params *p;
    if (B <= 0) return MCL_OK;
    MCL_TRY(step_pick(rt, a, B, "ssm_step", &k, &kt, &p));
    return step_launch(rt, k, kt, p, a, st, B, 1, 0, "ssm_step");
}

mcl_status mcl_kern_ssm_step_parts(mcl_runtime *rt, const mcl_scan_args *a, const mcl_kern_state *st, int B,
                                   int n_parts, uint64_t part_stride)
{
    cl_kernel k, kt;
    const mcl_params *p;
    if (B <= 0) return MCL_OK;
    MCL_TRY(step_pick(rt, a, B, "ssm_step_parts", &k, &kt, &p));
    return step_launch(rt, k, kt, p, a, st, B, n_parts, part_stride, "ssm_step_parts");
}

void mcl_kern_scan_prefill_grid(const mcl_params *p, int n_seqs, int d_inner, size_t *global, size_t *local)
{
    size_t dch = (size_t)mcl_params_get(p, MCL_T_SCAN_DCH, 8);
    *local = (size_t)mcl_tune_scan_wg(p);
    *global = (size_t)n_seqs * (size_t)mcl_kern_scan_prefill_nseg(p) * (((size_t)d_inner + dch - 1) / dch) * *local;
}
