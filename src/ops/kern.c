/* Launchers of embed_gather, rmsnorm_residual, weights_to_f32, conv_prefill,
 * conv_step and gemv. */
#include "ops/kern.h"

#include <string.h>

#include "base/error.h"

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
    MCL_TRY(mcl_runtime_kernel(rt, "embed_gather", &k));
    cl_int dt = (cl_int)wdtype;
    MCL_ARG(k, 0, ids);
    MCL_ARG(k, 1, emb);
    MCL_ARG(k, 2, dt);
    MCL_ARG(k, 3, out);
    MCL_ARG(k, 4, T);
    MCL_ARG(k, 5, D);
    size_t wg = (size_t)mcl_runtime_param(rt, "norm.cl", "NORM_WG", 64);
    size_t global[2] = {mcl_round_up((size_t)D, wg), (size_t)T}, local[2] = {wg, 1};
    return mcl_launch(rt, k, "embed_gather", 2, global, local);
}

mcl_status mcl_kern_rmsnorm(mcl_runtime *rt, cl_mem resid, cl_mem delta, cl_mem w, float eps,
                            cl_mem out, cl_mem rows, int T, int D)
{
    MCL_TRY(check_sizes("rmsnorm_residual", T, D));
    if (T == 0) return MCL_OK;
    cl_kernel k;
    MCL_TRY(mcl_runtime_kernel(rt, "rmsnorm_residual", &k));
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
    size_t wg = (size_t)mcl_runtime_param(rt, "norm.cl", "NORM_WG", 64);
    size_t global = (size_t)T * wg;
    return mcl_launch(rt, k, "rmsnorm_residual", 1, &global, &wg);
}

mcl_status mcl_kern_convert(mcl_runtime *rt, cl_mem w, mcl_dtype wdtype, cl_mem out, uint64_t n)
{
    if (!valid_dtype(wdtype)) return mcl_error_set(MCL_ERR_INVALID_ARG, "weights_to_f32: bad dtype");
    if (n == 0) return MCL_OK;
    cl_kernel k;
    MCL_TRY(mcl_runtime_kernel(rt, "weights_to_f32", &k));
    cl_int dt = (cl_int)wdtype;
    cl_ulong nn = n;
    MCL_ARG(k, 0, w);
    MCL_ARG(k, 1, dt);
    MCL_ARG(k, 2, out);
    MCL_ARG(k, 3, nn);
    size_t wg = (size_t)mcl_runtime_param(rt, "convert.cl", "CONVERT_WG", 64);
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
    MCL_TRY(mcl_runtime_kernel(rt, "conv_prefill", &k));
    MCL_TRY(conv_common_args(k, x, w, bias, st));
    MCL_ARG(k, 10, seq_start);
    MCL_ARG(k, 11, n_seqs);
    MCL_ARG(k, 12, d_inner);
    MCL_ARG(k, 13, K);
    MCL_ARG(k, 14, xc);
    size_t wg = (size_t)mcl_runtime_param(rt, "conv.cl", "CONV_WG", 64);
    size_t global[2] = {mcl_round_up((size_t)d_inner, wg), (size_t)T}, local[2] = {wg, 1};
    return mcl_launch(rt, k, "conv_prefill", 2, global, local);
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
    MCL_TRY(mcl_runtime_kernel(rt, "conv_step", &k));
    MCL_TRY(conv_common_args(k, x, w, bias, st));
    MCL_ARG(k, 10, B);
    MCL_ARG(k, 11, d_inner);
    MCL_ARG(k, 12, K);
    MCL_ARG(k, 13, xc);
    size_t wg = (size_t)mcl_runtime_param(rt, "conv.cl", "CONV_WG", 64);
    size_t global[2] = {mcl_round_up((size_t)d_inner, wg), (size_t)B}, local[2] = {wg, 1};
    return mcl_launch(rt, k, "conv_step", 2, global, local);
}

mcl_status mcl_kern_gemv_with(mcl_runtime *rt, cl_kernel k, const mcl_params *p, cl_mem W,
                              mcl_dtype wdtype, cl_mem x, cl_mem y, int O, int I, int B,
                              bool accumulate)
{
    if (O <= 0 || I <= 0 || B < 0)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "gemv: bad sizes O %d, I %d, B %d", O, I, B);
    if (!valid_dtype(wdtype)) return mcl_error_set(MCL_ERR_INVALID_ARG, "gemv: bad dtype");
    if (B == 0) return MCL_OK;
    size_t wg = (size_t)mcl_params_get(p, "GEMV_WG", 0), lpr = (size_t)mcl_params_get(p, "GEMV_LPR", 0);
    size_t rpl = (size_t)mcl_params_get(p, "GEMV_RPL", 0), bt = (size_t)mcl_params_get(p, "GEMV_BT", 0);
    if (!wg || !lpr || !rpl || !bt || wg % lpr)
        return mcl_error_set(MCL_ERR_INTERNAL, "gemv: incomplete tunables");
    cl_int dt = (cl_int)wdtype, acc = accumulate;
    MCL_ARG(k, 0, W);
    MCL_ARG(k, 1, dt);
    MCL_ARG(k, 2, x);
    MCL_ARG(k, 3, y);
    MCL_ARG(k, 4, O);
    MCL_ARG(k, 5, I);
    MCL_ARG(k, 6, B);
    MCL_ARG(k, 7, acc);
    size_t rows = wg / lpr * rpl;
    size_t global[2] = {((size_t)O + rows - 1) / rows * wg, ((size_t)B + bt - 1) / bt};
    size_t local[2] = {wg, 1};
    return mcl_launch(rt, k, "gemv", 2, global, local);
}

mcl_status mcl_kern_gemv(mcl_runtime *rt, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O,
                         int I, int B, bool accumulate)
{
    cl_kernel k;
    MCL_TRY(mcl_runtime_kernel(rt, "gemv", &k));
    for (int i = 0; i < rt->n_programs; i++)
        if (strcmp(rt->programs[i].file, "gemv.cl") == 0)
            return mcl_kern_gemv_with(rt, k, &rt->params[i], W, wdtype, x, y, O, I, B, accumulate);
    return mcl_error_set(MCL_ERR_INTERNAL, "gemv.cl was not compiled");
}
