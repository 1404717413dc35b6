/* The launchers of cgemv and cgemv_in (kern_cgemv.h). */
#include "ops/kern_cgemv.h"

#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "base/error.h"

/* Whether MAMBACL_DISABLE names "cgemv". */
static bool disabled(void) { return mcl_env_lists("MAMBACL_DISABLE", "cgemv"); }

static mcl_shape shape_of(int B)
{
    mcl_shape sh = {{[MCL_SHAPE_BATCH] = B}};
    return sh;
}

bool mcl_kern_cgemv_wanted(const mcl_runtime *rt, int B)
{
    const mcl_tune_config *c;
    mcl_shape sh = shape_of(B);
    if (disabled()) return false;
    if (mcl_runtime_pick(rt, MCL_FAM_CGEMV, &sh, &c) != MCL_OK) {
        mcl_error_clear(); /* not built: gemv.cl serves */
        return false;
    }
    return mcl_params_get(&c->params, MCL_T_CG_ON, 0) == 1;
}

mcl_status mcl_kern_cgemv_rows(const mcl_runtime *rt, int O, int B, int *rows)
{
    const mcl_tune_config *c;
    mcl_shape sh = shape_of(B);
    long rb, gpc;
    MCL_TRY(mcl_runtime_pick(rt, MCL_FAM_CGEMV, &sh, &c));
    MCL_TRY(mcl_tune_get(&c->params, MCL_T_CG_RB, &rb));
    MCL_TRY(mcl_tune_get(&c->params, MCL_T_CG_GPC, &gpc));
    long cu = rt->dev.compute_units ? (long)rt->dev.compute_units : 1;
    long g = (cu * gpc + B - 1) / (B > 0 ? B : 1); /* groups per batch row */
    if (g < 1) g = 1;
    long blocks = (O + rb - 1) / rb, per = (blocks + g - 1) / g;
    *rows = (int)(per * rb);
    return MCL_OK;
}

/* Binds W, wdtype, x, y, O, I (arguments 0..5) and picks the kernel. */
static mcl_status bind_common(mcl_runtime *rt, const char *name, int B, cl_mem W, mcl_dtype wdtype, cl_mem x,
                              cl_mem y, int O, int I, cl_kernel *k)
{
    mcl_shape sh = shape_of(B);
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_CGEMV, &sh, name, k, NULL));
    cl_int dt = (cl_int)wdtype;
    MCL_ARG(*k, 0, W);
    MCL_ARG(*k, 1, dt);
    MCL_ARG(*k, 2, x);
    MCL_ARG(*k, 3, y);
    MCL_ARG(*k, 4, O);
    MCL_ARG(*k, 5, I);
    return MCL_OK;
}

static mcl_status launch(mcl_runtime *rt, cl_kernel k, const char *name, int arg, int O, int B)
{
    int rows;
    MCL_TRY(mcl_kern_cgemv_rows(rt, O, B, &rows));
    MCL_ARG(k, arg, rows);
    size_t global[2] = {(size_t)((O + rows - 1) / rows), (size_t)B}, local[2] = {1, 1};
    return mcl_launch(rt, k, name, 2, global, local);
}

mcl_status mcl_kern_cgemv(mcl_runtime *rt, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O, int I, int B,
                          bool accumulate)
{
    MCL_TRY(mcl_kern_check_gemv("cgemv", wdtype, O, I, B));
    if (B == 0) return MCL_OK;
    cl_kernel k;
    cl_int acc = accumulate;
    MCL_TRY(bind_common(rt, "cgemv", B, W, wdtype, x, y, O, I, &k));
    MCL_ARG(k, 6, acc);
    return launch(rt, k, "cgemv", 7, O, B);
}

mcl_status mcl_kern_cgemv_in(mcl_runtime *rt, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O, int I,
                             int B, cl_mem nw, float eps, const mcl_kern_conv *conv)
{
    MCL_TRY(mcl_kern_check_gemv("cgemv_in", wdtype, O, I, B));
    if (conv && (conv->K < 2 || conv->n_conv < 0 || conv->n_conv > O))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "cgemv_in: conv width %d, %d conv rows of %d", conv->K,
                             conv->n_conv, O);
    if (B == 0) return MCL_OK;
    cl_kernel k;
    MCL_TRY(bind_common(rt, "cgemv_in", B, W, wdtype, x, y, O, I, &k));
    const mcl_kern_conv *c = conv;
    cl_int has_bias = c && c->bias, K = c ? c->K : 2, n_conv = c ? c->n_conv : 0;
    cl_mem w = c ? c->w : nw, bias = has_bias ? c->bias : nw, state = c ? c->st.buf : nw; /* unused: never read */
    cl_mem slot = c ? c->st.slot : nw, xc = c ? c->xc : nw;
    cl_ulong off = c ? c->st.off : 0, stride = c ? c->st.stride : 0;
    MCL_ARG(k, 6, nw);
    MCL_ARG(k, 7, eps);
    MCL_ARG(k, 8, w);
    MCL_ARG(k, 9, bias);
    MCL_ARG(k, 10, has_bias);
    MCL_ARG(k, 11, state);
    MCL_ARG(k, 12, off);
    MCL_ARG(k, 13, slot);
    MCL_ARG(k, 14, stride);
    MCL_ARG(k, 15, K);
    MCL_ARG(k, 16, n_conv);
    MCL_ARG(k, 17, xc);
    return launch(rt, k, "cgemv_in", 18, O, B);
}
