/* The launchers of rgemv and rgemv_in (kern_rgemv.h). */
#include "ops/kern_rgemv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "base/error.h"

/* Whether MAMBACL_DISABLE names "rgemv". */
static bool disabled(void) { return mcl_env_lists("MAMBACL_DISABLE", "rgemv"); }

static const mcl_shape one_row = {{[MCL_SHAPE_BATCH] = 1}};

size_t mcl_kern_rgemv_local_bytes(int I, long wg)
{
    return 4 * (((size_t)I + 3) / 4 * 4 + (size_t)wg);
}

bool mcl_kern_rgemv_wanted(const mcl_runtime *rt, int B, int I)
{
    const mcl_tune_config *c;
    if (B != 1 || I <= 0 || rt->rgemv_mode < 0 || disabled()) return false;
    if (mcl_runtime_pick(rt, MCL_FAM_RGEMV, &one_row, &c) != MCL_OK) {
        mcl_error_clear(); /* not built: gemv.cl serves */
        return false;
    }
    long wg = mcl_params_get(&c->params, MCL_T_RG_WG, 0);
    return mcl_params_get(&c->params, MCL_T_RG_ON, 0) == 1 &&
           (uint64_t)mcl_kern_rgemv_local_bytes(I, wg) <= rt->dev.local_mem_bytes;
}

/* The kernel `base`_<dtype> of the picked configuration, its arguments 0..6
 * bound (those of mcl_kern_bind_gemv, B = 1), and its tunables. */
static mcl_status pick(mcl_runtime *rt, const char *base, mcl_dtype wdtype, cl_mem W, cl_mem x, cl_mem y, int O,
                       int I, cl_kernel *k, const mcl_params **p)
{
    static const char *const sfx[] = {[MCL_DTYPE_F32] = "f32", [MCL_DTYPE_F16] = "f16", [MCL_DTYPE_BF16] = "bf16"};
    char name[32];
    snprintf(name, sizeof name, "%s_%s", base, sfx[wdtype]);
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_RGEMV, &one_row, name, k, p));
    return mcl_kern_bind_gemv(*k, W, wdtype, x, y, O, I, 1);
}

/* Binds the local memory (argument `arg`) and launches about RG_GPC groups
 * per compute unit (0: one row per team), never more than the rows need. */
static mcl_status launch(mcl_runtime *rt, cl_kernel k, const mcl_params *p, const char *name, cl_uint arg, int O,
                         int I)
{
    long wg, lpr, gpc;
    MCL_TRY(mcl_tune_get(p, MCL_T_RG_WG, &wg));
    MCL_TRY(mcl_tune_get(p, MCL_T_RG_LPR, &lpr));
    MCL_TRY(mcl_tune_get(p, MCL_T_RG_GPC, &gpc));
    MCL_ASSERT(wg > 0 && lpr > 0 && wg % lpr == 0, "rgemv tunables passed mcl_tune_check");
    size_t lbytes = mcl_kern_rgemv_local_bytes(I, wg);
    if ((uint64_t)lbytes > rt->dev.local_mem_bytes)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "%s: %d columns need %zu bytes of local memory (%llu)", name, I,
                             lbytes, (unsigned long long)rt->dev.local_mem_bytes);
    MCL_CL_CHECK(clSetKernelArg(k, arg, lbytes, NULL), "clSetKernelArg(%s, %u: local x)", name, arg);
    size_t teams = (size_t)(wg / lpr), groups = ((size_t)O + teams - 1) / teams;
    size_t cap = (size_t)gpc * (rt->dev.compute_units ? rt->dev.compute_units : 1);
    if (gpc > 0 && groups > cap) groups = cap;
    size_t global = groups * (size_t)wg, local = (size_t)wg;
    return mcl_launch(rt, k, name, 1, &global, &local);
}

mcl_status mcl_kern_rgemv(mcl_runtime *rt, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O, int I,
                          bool accumulate)
{
    MCL_TRY(mcl_kern_check_gemv("rgemv", wdtype, O, I, 1));
    cl_kernel k;
    const mcl_params *p;
    MCL_TRY(pick(rt, "rgemv", wdtype, W, x, y, O, I, &k, &p));
    cl_int acc = accumulate;
    MCL_ARG(k, 7, acc);
    return launch(rt, k, p, "rgemv", 8, O, I);
}

mcl_status mcl_kern_rgemv_in(mcl_runtime *rt, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O, int I,
                             cl_mem nw, float eps, const mcl_kern_conv *conv)
{
    MCL_TRY(mcl_kern_check_gemv("rgemv_in", wdtype, O, I, 1));
    if (conv && (conv->K < 2 || conv->n_conv < 0 || conv->n_conv > O))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "rgemv_in: conv width %d, %d conv rows of %d", conv->K,
                             conv->n_conv, O);
    cl_kernel k;
    const mcl_params *p;
    MCL_TRY(pick(rt, "rgemv_in", wdtype, W, x, y, O, I, &k, &p));
    MCL_ARG(k, 7, nw);
    MCL_ARG(k, 8, eps);
    MCL_TRY(mcl_kern_bind_conv(k, conv, nw));
    return launch(rt, k, p, "rgemv_in", 19, O, I);
}
