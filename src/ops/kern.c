/* Launchers of embed_gather, greedy_pick, rmsnorm_residual, rmsnorm_split, weights_to_f32, conv_prefill,
 * conv_step and gemv. */
#include "ops/kern.h"

#include <string.h>

#include "base/error.h"
#include "ops/kern_gmma.h"
#include "ops/kern_rgemv.h"

static mcl_status check_sizes(const char *what, int a, int b)
{
    if (a < 0 || b <= 0)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "%s: bad sizes (%d, %d)", what, a, b);
    return MCL_OK;
}

static bool valid_dtype(mcl_dtype d)
{
    return d == MCL_DTYPE_F32 || d == MCL_DTYPE_F16 || d == MCL_DTYPE_BF16;
}

mcl_status mcl_kern_embed(mcl_runtime *rt, cl_mem ids, cl_mem emb, mcl_dtype wdtype, cl_mem out,
                          int T, int D)
{
    MCL_TRY(check_sizes("embed_gather", T, D));
    if (!valid_dtype(wdtype)) return mcl_error_set(MCL_ERR_INVALID_ARG, "embed_gather: bad dtype");
    if (T == 0) return MCL_OK;
    cl_kernel k;
    const mcl_params *p;
    long wg;
    mcl_shape sh = {{[MCL_SHAPE_D_MODEL] = D}};
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_NORM, &sh, "embed_gather", &k, &p));
    MCL_TRY(mcl_tune_get(p, MCL_T_NORM_WG, &wg));
    cl_int dt = (cl_int)wdtype;
    MCL_ARG(k, 0, ids);
    MCL_ARG(k, 1, emb);
    MCL_ARG(k, 2, dt);
    MCL_ARG(k, 3, out);
    MCL_ARG(k, 4, T);
    MCL_ARG(k, 5, D);
    size_t global[2] = {mcl_round_up((size_t)D, (size_t)wg), (size_t)T}, local[2] = {(size_t)wg, 1};
    return mcl_launch(rt, k, "embed_gather", 2, global, local);
}

mcl_status mcl_kern_greedy_pick(mcl_runtime *rt, cl_mem logits, int V, cl_mem ids, cl_mem ring, int slot, int step,
                                cl_mem ctl, cl_mem emb, mcl_dtype wdtype, cl_mem out, int D)
{
    if (V < 1 || slot < 0 || step < 0 || !logits || !ids || !ring || !ctl || (emb && (!out || D < 1)) ||
        !valid_dtype(wdtype))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "greedy_pick: V %d, slot %d, step %d, D %d, a NULL buffer or a "
                             "bad dtype", V, slot, step, D);
    cl_kernel k;
    const mcl_params *p;
    long wg;
    mcl_shape sh = {{0}}; /* the model's: the program its norms use */
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_NORM, &sh, "greedy_pick", &k, &p));
    MCL_TRY(mcl_tune_get(p, MCL_T_NORM_WG, &wg));
    MCL_ARG(k, 0, logits);
    MCL_ARG(k, 1, V);
    MCL_ARG(k, 2, ids);
    MCL_ARG(k, 3, ring);
    MCL_ARG(k, 4, slot);
    MCL_ARG(k, 5, step);
    MCL_ARG(k, 6, ctl);
    cl_int dt = (cl_int)wdtype, d = emb ? D : 0;
    cl_mem e = emb ? emb : ctl, o = emb ? out : ctl; /* no gather: any buffer, never read */
    MCL_ARG(k, 7, e);
    MCL_ARG(k, 8, dt);
    MCL_ARG(k, 9, d);
    MCL_ARG(k, 10, o);
    size_t global = (size_t)wg, local = (size_t)wg;
    return mcl_launch(rt, k, "greedy_pick", 1, &global, &local);
}

mcl_status mcl_kern_rmsnorm(mcl_runtime *rt, cl_mem resid, cl_mem delta, cl_mem w, float eps,
                            cl_mem out, cl_mem rows, int T, int D)
{
    MCL_TRY(check_sizes("rmsnorm_residual", T, D));
    if (T == 0) return MCL_OK;
    cl_kernel k;
    const mcl_params *p;
    long wgl;
    mcl_shape sh = {{[MCL_SHAPE_D_MODEL] = D}};
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_NORM, &sh, "rmsnorm_residual", &k, &p));
    MCL_TRY(mcl_tune_get(p, MCL_T_NORM_WG, &wgl));
    cl_int has_delta = delta != NULL, has_rows = rows != NULL;
    /* unused pointers get a valid buffer that the kernel never reads, so every
     * pointer argument is a real buffer on every driver */
    if (!delta) delta = resid;
    if (!rows) rows = w;
    MCL_ARG(k, 0, resid);
    MCL_ARG(k, 1, delta);
    MCL_ARG(k, 2, has_delta);
    MCL_ARG(k, 3, w);
    MCL_ARG(k, 4, eps);
    MCL_ARG(k, 5, out);
    MCL_ARG(k, 6, rows);
    MCL_ARG(k, 7, has_rows);
    MCL_ARG(k, 8, T);
    MCL_ARG(k, 9, D);
    size_t wg = (size_t)wgl, global = (size_t)T * wg;
    return mcl_launch(rt, k, "rmsnorm_residual", 1, &global, &wg);
}

mcl_status mcl_kern_rmsnorm_parts(mcl_runtime *rt, cl_mem resid, cl_mem ws, int S, uint64_t MN, cl_mem w, float eps,
                                  cl_mem out, int T, int D)
{
    MCL_TRY(check_sizes("rmsnorm_parts", T, D));
    if (S < 1 || MN < (uint64_t)T * (uint64_t)D)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "rmsnorm_parts: %d slabs of %llu elements for %d x %d", S,
                             (unsigned long long)MN, T, D);
    if (T == 0) return MCL_OK;
    cl_kernel k;
    const mcl_params *p;
    long wgl;
    mcl_shape sh = {{[MCL_SHAPE_D_MODEL] = D}};
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_NORM, &sh, "rmsnorm_parts", &k, &p));
    MCL_TRY(mcl_tune_get(p, MCL_T_NORM_WG, &wgl));
    cl_ulong mn = MN;
    MCL_ARG(k, 0, resid);
    MCL_ARG(k, 1, ws);
    MCL_ARG(k, 2, S);
    MCL_ARG(k, 3, mn);
    MCL_ARG(k, 4, w);
    MCL_ARG(k, 5, eps);
    MCL_ARG(k, 6, out);
    MCL_ARG(k, 7, T);
    MCL_ARG(k, 8, D);
    size_t wg = (size_t)wgl, global = (size_t)T * wg;
    return mcl_launch(rt, k, "rmsnorm_parts", 1, &global, &wg);
}

mcl_status mcl_kern_rmsnorm_split(mcl_runtime *rt, cl_mem resid, cl_mem delta, cl_mem w, float eps, cl_mem hi,
                                  cl_mem lo, int lda, mcl_dtype dt, int split, int T, int D)
{
    MCL_TRY(check_sizes("rmsnorm_split", T, D));
    if (lda < D || lda % 8 || (split != 1 && split != 2) || (dt != MCL_DTYPE_F16 && dt != MCL_DTYPE_BF16))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "rmsnorm_split: bad parts (lda %d for D %d, split %d, dtype %d)",
                             lda, D, split, (int)dt);
    if (T == 0) return MCL_OK;
    cl_kernel k;
    const mcl_params *p;
    long wgl;
    mcl_shape sh = {{[MCL_SHAPE_D_MODEL] = D}};
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_NORM, &sh, "rmsnorm_split", &k, &p));
    MCL_TRY(mcl_tune_get(p, MCL_T_NORM_WG, &wgl));
    cl_int has_delta = delta != NULL, f16 = dt == MCL_DTYPE_F16, sp = split;
    if (!delta) delta = resid; /* never read (see mcl_kern_rmsnorm) */
    if (split == 1) lo = hi;   /* never written */
    MCL_ARG(k, 0, resid);
    MCL_ARG(k, 1, delta);
    MCL_ARG(k, 2, has_delta);
    MCL_ARG(k, 3, w);
    MCL_ARG(k, 4, eps);
    MCL_ARG(k, 5, lda);
    MCL_ARG(k, 6, f16);
    MCL_ARG(k, 7, sp);
    MCL_ARG(k, 8, hi);
    MCL_ARG(k, 9, lo);
    MCL_ARG(k, 10, T);
    MCL_ARG(k, 11, D);
    size_t wg = (size_t)wgl, global = (size_t)T * wg;
    return mcl_launch(rt, k, "rmsnorm_split", 1, &global, &wg);
}

mcl_status mcl_kern_convert(mcl_runtime *rt, cl_mem w, mcl_dtype wdtype, cl_mem out, uint64_t n)
{
    if (!valid_dtype(wdtype)) return mcl_error_set(MCL_ERR_INVALID_ARG, "weights_to_f32: bad dtype");
    if (n == 0) return MCL_OK;
    cl_kernel k;
    const mcl_params *p;
    long wgl;
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_CONVERT, NULL, "weights_to_f32", &k, &p));
    MCL_TRY(mcl_tune_get(p, MCL_T_CONVERT_WG, &wgl));
    cl_int dt = (cl_int)wdtype;
    cl_ulong nn = n;
    MCL_ARG(k, 0, w);
    MCL_ARG(k, 1, dt);
    MCL_ARG(k, 2, out);
    MCL_ARG(k, 3, nn);
    size_t wg = (size_t)wgl;
    /* enough groups to fill the device (64 per compute unit); the kernel's
     * grid-stride loop covers the rest; at least 4 items for the tail */
    uint64_t items = n / 4 > 4 ? n / 4 : 4;
    uint64_t cap = (uint64_t)wg * 64u * (rt->dev.compute_units ? rt->dev.compute_units : 1);
    size_t global = mcl_round_up((size_t)(items < cap ? items : cap), wg);
    return mcl_launch(rt, k, "weights_to_f32", 1, &global, &wg);
}

static mcl_status conv_state_args(cl_kernel k, const mcl_kern_state *st, int first)
{
    cl_ulong off = st->off, stride = st->stride;
    MCL_ARG(k, first, st->buf);
    MCL_ARG(k, first + 1, off);
    MCL_ARG(k, first + 2, st->slot);
    MCL_ARG(k, first + 3, stride);
    return MCL_OK;
}

static mcl_status conv_common_args(cl_kernel k, const mcl_kern_view *x, cl_mem w, cl_mem bias,
                                   const mcl_kern_state *st)
{
    cl_int has_bias = bias != NULL;
    cl_ulong x_off = x->off;
    if (!bias) bias = w; /* never read; see mcl_kern_rmsnorm */
    MCL_ARG(k, 0, x->buf);
    MCL_ARG(k, 1, x_off);
    MCL_ARG(k, 2, x->ld);
    MCL_ARG(k, 3, w);
    MCL_ARG(k, 4, bias);
    MCL_ARG(k, 5, has_bias);
    return conv_state_args(k, st, 6);
}

/* Whether conv_prefill4 takes this conv (cl/conv.cl: width 4, 16-byte
 * aligned rows and channels, CONV_TT rows per item). */
static bool conv4_fits(const mcl_kern_view *x, int d_inner, int K, long tt)
{
    return tt > 0 && K == 4 && d_inner % 4 == 0 && x->ld % 4 == 0 && x->off % 4 == 0;
}

mcl_status mcl_kern_conv_prefill(mcl_runtime *rt, const mcl_kern_view *x, cl_mem w, cl_mem bias,
                                 const mcl_kern_state *st, cl_mem seq_start, int n_seqs, int T,
                                 int d_inner, int K, cl_mem xc)
{
    MCL_TRY(check_sizes("conv_prefill", T, d_inner));
    if (n_seqs <= 0 || K < 2 || x->ld < d_inner)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "conv_prefill: n_seqs %d, d_conv %d, row stride %d < d_inner %d",
                             n_seqs, K, x->ld, d_inner);
    if (T == 0) return MCL_OK;
    cl_kernel k;
    const mcl_params *p;
    long wg, tt = 0;
    mcl_shape sh = {{[MCL_SHAPE_D_INNER] = d_inner, [MCL_SHAPE_TOKENS] = T, [MCL_SHAPE_BATCH] = n_seqs}};
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_CONV, &sh, "conv_prefill", &k, &p));
    MCL_TRY(mcl_tune_get(p, MCL_T_CONV_WG, &wg));
    tt = mcl_params_get(p, MCL_T_CONV_TT, 0);
    bool v4 = conv4_fits(x, d_inner, K, tt);
    if (v4) MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_CONV, &sh, "conv_prefill4", &k, &p));
    MCL_TRY(conv_common_args(k, x, w, bias, st));
    MCL_ARG(k, 10, seq_start);
    MCL_ARG(k, 11, n_seqs);
    MCL_ARG(k, 12, d_inner);
    MCL_ARG(k, 13, K);
    MCL_ARG(k, 14, xc);
    if (!v4) {
        size_t global[2] = {mcl_round_up((size_t)d_inner, (size_t)wg), (size_t)T}, local[2] = {(size_t)wg, 1};
        return mcl_launch(rt, k, "conv_prefill", 2, global, local);
    }
    MCL_ARG(k, 15, T);
    size_t global[2] = {mcl_round_up((size_t)d_inner / 4, (size_t)wg), (size_t)((T + tt - 1) / tt)};
    size_t local[2] = {(size_t)wg, 1};
    return mcl_launch(rt, k, "conv_prefill4", 2, global, local);
}

mcl_status mcl_kern_conv_step(mcl_runtime *rt, const mcl_kern_view *x, cl_mem w, cl_mem bias,
                              const mcl_kern_state *st, int B, int d_inner, int K, cl_mem xc)
{
    MCL_TRY(check_sizes("conv_step", B, d_inner));
    if (K < 2 || x->ld < d_inner)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "conv_step: d_conv %d < 2 or row stride %d < d_inner %d", K,
                             x->ld, d_inner);
    if (B == 0) return MCL_OK;
    cl_kernel k;
    const mcl_params *p;
    long wg;
    mcl_shape sh = {{[MCL_SHAPE_D_INNER] = d_inner, [MCL_SHAPE_BATCH] = B}};
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_CONV, &sh, "conv_step", &k, &p));
    MCL_TRY(mcl_tune_get(p, MCL_T_CONV_WG, &wg));
    MCL_TRY(conv_common_args(k, x, w, bias, st));
    MCL_ARG(k, 10, B);
    MCL_ARG(k, 11, d_inner);
    MCL_ARG(k, 12, K);
    MCL_ARG(k, 13, xc);
    size_t global[2] = {mcl_round_up((size_t)d_inner, (size_t)wg), (size_t)B}, local[2] = {(size_t)wg, 1};
    return mcl_launch(rt, k, "conv_step", 2, global, local);
}

mcl_status mcl_kern_conv_step_parts(mcl_runtime *rt, cl_mem ws, int S, uint64_t MN, cl_mem xz, int ld, cl_mem w,
                                    cl_mem bias, const mcl_kern_state *st, int B, int d_inner, int K, cl_mem xc)
{
    MCL_TRY(check_sizes("conv_step_parts", B, d_inner));
    if (K < 2 || ld < d_inner || S < 1 || MN < (uint64_t)B * (uint64_t)ld)
        return mcl_error_set(MCL_ERR_INVALID_ARG,
                             "conv_step_parts: d_conv %d < 2, row stride %d < d_inner %d, or %d slabs of %llu "
                             "elements for %d rows",
                             K, ld, d_inner, S, (unsigned long long)MN, B);
    if (B == 0) return MCL_OK;
    cl_kernel k;
    const mcl_params *p;
    long wg;
    mcl_shape sh = {{[MCL_SHAPE_D_INNER] = d_inner, [MCL_SHAPE_BATCH] = B}};
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_CONV, &sh, "conv_step_parts", &k, &p));
    MCL_TRY(mcl_tune_get(p, MCL_T_CONV_WG, &wg));
    cl_int has_bias = bias != NULL;
    cl_ulong mn = MN;
    if (!bias) bias = w; /* never read; see mcl_kern_rmsnorm */
    MCL_ARG(k, 0, ws);
    MCL_ARG(k, 1, S);
    MCL_ARG(k, 2, mn);
    MCL_ARG(k, 3, xz);
    MCL_ARG(k, 4, ld);
    MCL_ARG(k, 5, w);
    MCL_ARG(k, 6, bias);
    MCL_ARG(k, 7, has_bias);
    MCL_TRY(conv_state_args(k, st, 8));
    MCL_ARG(k, 12, B);
    MCL_ARG(k, 13, d_inner);
    MCL_ARG(k, 14, K);
    MCL_ARG(k, 15, xc);
    size_t global[2] = {mcl_round_up((size_t)ld, (size_t)wg), (size_t)B}, local[2] = {(size_t)wg, 1};
    return mcl_launch(rt, k, "conv_step_parts", 2, global, local);
}

mcl_status mcl_kern_check_gemv(const char *what, mcl_dtype wdtype, int O, int I, int B)
{
    if (O <= 0 || I <= 0 || B < 0)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "%s: bad sizes O %d, I %d, B %d", what, O, I, B);
    if (!valid_dtype(wdtype)) return mcl_error_set(MCL_ERR_INVALID_ARG, "%s: bad dtype", what);
    return MCL_OK;
}

size_t mcl_kern_gemv_red_bytes(const mcl_runtime *rt, size_t wg, size_t lpr, size_t rpl, size_t btc)
{
    /* cl/prims.cl: MCL_SG_ADD_MAX is 32 with MCL_CAP_PTX, else 1; cl/gemv.cl:
     * GEMV_SGW = min(LPR, MCL_SG_ADD_MAX) when WG is a multiple of it */
    size_t sg = mcl_caps_on(&rt->caps, MCL_CAP_PTX) ? 32 : 1;
    size_t sgw = sg > 1 && wg % sg == 0 ? (lpr < sg ? lpr : sg) : 1;
    if (lpr / sgw <= 1) return 4; /* no local stage; OpenCL wants a size > 0 */
    return 4 * (rpl + 1) * btc * (wg / sgw);
}

mcl_status mcl_kern_bind_gemv(cl_kernel k, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O, int I, int B)
{
    cl_int dt = (cl_int)wdtype;
    MCL_ARG(k, 0, W);
    MCL_ARG(k, 1, dt);
    MCL_ARG(k, 2, x);
    MCL_ARG(k, 3, y);
    MCL_ARG(k, 4, O);
    MCL_ARG(k, 5, I);
    MCL_ARG(k, 6, B);
    return MCL_OK;
}

mcl_status mcl_kern_gemv_with(mcl_runtime *rt, cl_kernel k, const mcl_params *p, cl_mem W,
                              mcl_dtype wdtype, cl_mem x, cl_mem y, int O, int I, int B,
                              bool accumulate)
{
    MCL_TRY(mcl_kern_check_gemv("gemv", wdtype, O, I, B));
    if (B == 0) return MCL_OK;
    long v[4];
    MCL_TRY(mcl_tune_get(p, MCL_T_GEMV_WG, &v[0]));
    MCL_TRY(mcl_tune_get(p, MCL_T_GEMV_LPR, &v[1]));
    MCL_TRY(mcl_tune_get(p, MCL_T_GEMV_RPL, &v[2]));
    MCL_TRY(mcl_tune_get(p, MCL_T_GEMV_BT, &v[3]));
    size_t wg = (size_t)v[0], lpr = (size_t)v[1], rpl = (size_t)v[2], bt = (size_t)v[3];
    MCL_ASSERT(wg && lpr && rpl && bt && wg % lpr == 0, "gemv tunables passed mcl_tune_check");
    cl_int acc = accumulate;
    MCL_TRY(mcl_kern_bind_gemv(k, W, wdtype, x, y, O, I, B));
    MCL_ARG(k, 7, acc);
    char name[32] = ""; /* gemv_1 sums one batch row per tile, gemv GEMV_BT (also when called at B 1) */
    MCL_CL_CHECK(clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name - 1, name, NULL),
                 "clGetKernelInfo(gemv, CL_KERNEL_FUNCTION_NAME)");
    size_t btc = strcmp(name, "gemv_1") == 0 ? 1 : bt;
    MCL_CL_CHECK(clSetKernelArg(k, 8, mcl_kern_gemv_red_bytes(rt, wg, lpr, rpl, btc), NULL),
                 "clSetKernelArg(gemv, 8: local reduction)");
    size_t rows = wg / lpr * rpl;
    size_t global[2] = {((size_t)O + rows - 1) / rows * wg, ((size_t)B + bt - 1) / bt};
    size_t local[2] = {wg, 1};
    return mcl_launch(rt, k, "gemv", 2, global, local);
}

const char *mcl_kern_gemv_name(int B) { return B == 1 ? "gemv_1" : "gemv"; }

mcl_status mcl_kern_gemv(mcl_runtime *rt, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O,
                         int I, int B, bool accumulate)
{
    cl_kernel k;
    const mcl_params *p;
    if (mcl_kern_rgemv_wanted(rt, B, I)) return mcl_kern_rgemv(rt, W, wdtype, x, y, O, I, accumulate); /* GPUs, B 1 */
    if (mcl_kern_gmma_pick(rt, wdtype, B, "gmma", &k, &p)) { /* batches on the matrix units (gemv_mma.cl) */
        MCL_TRY(mcl_kern_check_gemv("gmma", wdtype, O, I, B));
        cl_int acc = accumulate;
        MCL_TRY(mcl_kern_bind_gemv(k, W, wdtype, x, y, O, I, B));
        MCL_ARG(k, 7, acc);
        return mcl_kern_gmma_launch(rt, k, p, "gmma", 8, O, B, 1);
    }
    mcl_shape sh = {{[MCL_SHAPE_BATCH] = B}};
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_GEMV, &sh, mcl_kern_gemv_name(B), &k, &p));
    return mcl_kern_gemv_with(rt, k, p, W, wdtype, x, y, O, I, B, accumulate);
}
