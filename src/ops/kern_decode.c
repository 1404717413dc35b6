/* Launchers of gemv_in and gemv_split (see kern_decode.h; ssm_step_parts: kern_scan.c). */
#include "ops/kern_decode.h"

#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "base/error.h"
#include "ops/gemm.h"
#include "ops/kern_gmma.h"
#include "ops/kern_rgemv.h"

/* gemv.cl's tunables; rows: rows per work-group of the kernel serving batch
 * B of gemv_in (in = true: GEMV_RPL_IN rows per team at B 1) or the others. */
static mcl_status gemv_tunables(const mcl_runtime *rt, bool in, int B, size_t *wg, size_t *rows, size_t *bt,
                                size_t *lpr)
{
    const mcl_params *p = mcl_runtime_params(rt, MCL_F_GEMV);
    MCL_ASSERT(p, "gemv.cl was not compiled");
    *wg = (size_t)mcl_params_get(p, MCL_T_GEMV_WG, 0);
    *lpr = (size_t)mcl_params_get(p, MCL_T_GEMV_LPR, 0);
    size_t rpl = (size_t)mcl_params_get(p, MCL_T_GEMV_RPL, 0);
    if (in && B == 1) rpl = (size_t)mcl_params_get(p, MCL_T_GEMV_RPL_IN, (long)rpl);
    *bt = (size_t)mcl_params_get(p, MCL_T_GEMV_BT, 0);
    MCL_ASSERT(*wg && *lpr && rpl && *bt && *wg % *lpr == 0, "gemv: incomplete tunables");
    *rows = *wg / *lpr * rpl;
    return MCL_OK;
}

mcl_status mcl_kern_bind_conv(cl_kernel k, const mcl_kern_conv *c, cl_mem any)
{
    cl_int has_bias = c && c->bias, K = c ? c->K : 2, n_conv = c ? c->n_conv : 0;
    cl_mem w = c ? c->w : any, b = has_bias ? c->bias : any, state = c ? c->st.buf : any;
    cl_mem slot = c ? c->st.slot : any, xc = c ? c->xc : any;
    cl_ulong off = c ? c->st.off : 0, stride = c ? c->st.stride : 0;
    MCL_ARG(k, 9, w);
    MCL_ARG(k, 10, b);
    MCL_ARG(k, 11, has_bias);
    MCL_ARG(k, 12, state);
    MCL_ARG(k, 13, off);
    MCL_ARG(k, 14, slot);
    MCL_ARG(k, 15, stride);
    MCL_ARG(k, 16, K);
    MCL_ARG(k, 17, n_conv);
    MCL_ARG(k, 18, xc);
    return MCL_OK;
}

/* The gemv kernels' __local reduction buffer (cl/gemv.cl: red_mem) as
 * argument `index`, sized by mcl_kern_gemv_red_bytes for batch B.
 * rows = WG / LPR * RPL. */
static mcl_status bind_red(const mcl_runtime *rt, cl_kernel k, cl_uint index, size_t wg, size_t rows, size_t bt,
                           size_t lpr, int B)
{
    size_t rpl = rows / (wg / lpr);
    MCL_CL_CHECK(clSetKernelArg(k, index, mcl_kern_gemv_red_bytes(rt, wg, lpr, rpl, B == 1 ? 1 : bt), NULL),
                 "clSetKernelArg(gemv, %u: local reduction)", index);
    return MCL_OK;
}

mcl_status mcl_kern_gemv_in(mcl_runtime *rt, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O, int I,
                            int B, cl_mem nw, float eps, const mcl_kern_conv *conv)
{
    MCL_TRY(mcl_kern_check_gemv("gemv_in", wdtype, O, I, B));
    if (conv && (conv->K < 2 || conv->n_conv < 0 || conv->n_conv > O))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "gemv_in: conv width %d, %d conv rows of %d", conv->K,
                             conv->n_conv, O);
    if (B == 0) return MCL_OK;
    if (mcl_kern_rgemv_wanted(rt, B, I)) return mcl_kern_rgemv_in(rt, W, wdtype, x, y, O, I, nw, eps, conv); /* GPUs, B 1 */
    cl_kernel k;
    const mcl_params *gp = NULL;
    bool mma = mcl_kern_gmma_pick(rt, wdtype, B, "gmma_in", &k, &gp);
    if (!mma) MCL_TRY(mcl_runtime_kernel(rt, B == 1 ? "gemv_in_1" : "gemv_in", &k));
    MCL_TRY(mcl_kern_bind_gemv(k, W, wdtype, x, y, O, I, B));
    MCL_ARG(k, 7, nw);
    MCL_ARG(k, 8, eps);
    MCL_TRY(mcl_kern_bind_conv(k, conv, nw));
    if (mma) return mcl_kern_gmma_launch(rt, k, gp, "gmma_in", 19, O, B, 1);
    size_t wg, rows, bt, lpr;
    MCL_TRY(gemv_tunables(rt, true, B, &wg, &rows, &bt, &lpr));
    MCL_TRY(bind_red(rt, k, 19, wg, rows, bt, lpr, B));
    size_t global[2] = {((size_t)O + rows - 1) / rows * wg, ((size_t)B + bt - 1) / bt}, local[2] = {wg, 1};
    return mcl_launch(rt, k, "gemv_in", 2, global, local);
}

int mcl_kern_gemv_split_count(const mcl_runtime *rt, int O, int I, int B)
{
    size_t wg, rows, bt, lpr;
    if (O <= 0 || I <= 0 || B <= 0 || gemv_tunables(rt, false, B, &wg, &rows, &bt, &lpr) != MCL_OK) return 1;
    if (rt->dev.type == MCL_DEVICE_TYPE_CPU) return 1;
    size_t groups = ((size_t)O + rows - 1) / rows * (((size_t)B + bt - 1) / bt);
    size_t want = 2u * (rt->dev.compute_units ? rt->dev.compute_units : 1);
    int n = 1;
    while (n < MCL_GEMV_MAX_SPLIT && groups * (size_t)n < want &&
           (size_t)(I / 8) / (size_t)(2 * n) >= 2 * lpr)
        n *= 2;
    return n;
}

mcl_status mcl_kern_gemv_split(mcl_runtime *rt, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O, int I,
                               int B, int n_split, uint64_t part_stride)
{
    MCL_TRY(mcl_kern_check_gemv("gemv_split", wdtype, O, I, B));
    if (n_split < 1 || n_split > MCL_GEMV_MAX_SPLIT || part_stride < (uint64_t)B * (uint64_t)O)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "gemv_split: %d splits, part stride %llu for %d x %d", n_split,
                             (unsigned long long)part_stride, B, O);
    if (B == 0) return MCL_OK;
    cl_kernel k;
    const mcl_params *gp = NULL;
    bool mma = mcl_kern_gmma_pick(rt, wdtype, B, "gmma_split", &k, &gp);
    if (!mma) MCL_TRY(mcl_runtime_kernel(rt, B == 1 ? "gemv_split_1" : "gemv_split", &k));
    MCL_TRY(mcl_kern_bind_gemv(k, W, wdtype, x, y, O, I, B));
    cl_ulong ps = part_stride;
    MCL_ARG(k, 7, ps);
    if (mma) return mcl_kern_gmma_launch(rt, k, gp, "gmma_split", 8, O, B, n_split);
    size_t wg, rows, bt, lpr;
    MCL_TRY(gemv_tunables(rt, false, B, &wg, &rows, &bt, &lpr));
    MCL_TRY(bind_red(rt, k, 8, wg, rows, bt, lpr, B));
    size_t global[3] = {((size_t)O + rows - 1) / rows * wg, ((size_t)B + bt - 1) / bt, (size_t)n_split};
    size_t local[3] = {wg, 1, 1};
    return mcl_launch(rt, k, "gemv_split", 3, global, local);
}

bool mcl_kern_decode_fused(const mcl_runtime *rt, int B, mcl_dtype wdtype)
{
    if (mcl_env_lists("MAMBACL_DISABLE", "fused_decode")) return false;
    return B >= 1 && B <= mcl_op_gemv_max_rows(rt, B, wdtype);
}
