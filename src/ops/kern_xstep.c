/* The launcher of xstep (kern_xstep.h). */
#include "ops/kern_xstep.h"

#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "base/error.h"

/* Whether MAMBACL_DISABLE names "xstep". */
static bool disabled(void) { return mcl_env_lists("MAMBACL_DISABLE", "xstep"); }

static mcl_shape shape_of(int d_inner, int B)
{
    mcl_shape sh = {{[MCL_SHAPE_D_INNER] = d_inner, [MCL_SHAPE_BATCH] = B}};
    return sh;
}

bool mcl_kern_xstep_wanted(const mcl_runtime *rt, int d_inner, int nx, int B)
{
    const mcl_tune_config *c;
    mcl_shape sh = shape_of(d_inner, B);
    if (disabled()) return false;
    if (mcl_runtime_pick(rt, MCL_FAM_XSTEP, &sh, &c) != MCL_OK) {
        mcl_error_clear(); /* not built: the chain serves */
        return false;
    }
    return mcl_params_get(&c->params, MCL_T_XS_ON, 0) == 1 && 4 * (uint64_t)nx <= rt->dev.local_mem_bytes;
}

mcl_status mcl_kern_xstep_grid(const mcl_runtime *rt, int d_inner, int B, int *groups, int *chunk)
{
    const mcl_tune_config *c;
    mcl_shape sh = shape_of(d_inner, B);
    long vw, gpc;
    MCL_TRY(mcl_runtime_pick(rt, MCL_FAM_XSTEP, &sh, &c));
    MCL_TRY(mcl_tune_get(&c->params, MCL_T_XS_VW, &vw));
    MCL_TRY(mcl_tune_get(&c->params, MCL_T_XS_GPC, &gpc));
    long cu = rt->dev.compute_units ? (long)rt->dev.compute_units : 1, vecs = (d_inner + vw - 1) / vw;
    long g = (cu * gpc + B - 1) / B; /* groups per sequence: about gpc per compute unit over the batch */
    if (g > vecs) g = vecs;
    if (g < 1) g = 1;
    long per = (vecs + g - 1) / g;
    *chunk = (int)(per * vw);
    *groups = (int)((d_inner + *chunk - 1) / *chunk);
    return MCL_OK;
}

mcl_status mcl_kern_xstep(mcl_runtime *rt, const mcl_scan_args *a, cl_mem w_x, mcl_dtype xdtype,
                          const mcl_kern_state *st, int B)
{
    int di = a->d_inner, R = a->dt_rank, N = a->d_state;
    if (B < 0 || di <= 0 || R <= 0 || N <= 0 || a->z_ld < di)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "xstep: bad sizes B %d, d_inner %d, R %d, N %d, z stride %d", B,
                             di, R, N, a->z_ld);
    if (xdtype != MCL_DTYPE_F32 && xdtype != MCL_DTYPE_F16 && xdtype != MCL_DTYPE_BF16)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "xstep: bad x_proj dtype");
    if (B == 0) return MCL_OK;
    cl_kernel k;
    mcl_shape sh = shape_of(di, B);
    int groups, chunk;
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_XSTEP, &sh, "xstep", &k, NULL));
    MCL_TRY(mcl_kern_xstep_grid(rt, di, B, &groups, &chunk));
    cl_int xdt = (cl_int)xdtype, wdt = (cl_int)a->wdtype;
    cl_ulong z_off = a->z_off, off = st->off, stride = st->stride;
    MCL_ARG(k, 0, a->xc);
    MCL_ARG(k, 1, w_x);
    MCL_ARG(k, 2, xdt);
    MCL_ARG(k, 3, a->xz);
    MCL_ARG(k, 4, z_off);
    MCL_ARG(k, 5, a->z_ld);
    MCL_ARG(k, 6, a->w_dt);
    MCL_ARG(k, 7, wdt);
    MCL_ARG(k, 8, a->b_dt);
    MCL_ARG(k, 9, a->a);
    MCL_ARG(k, 10, a->d);
    MCL_ARG(k, 11, st->buf);
    MCL_ARG(k, 12, off);
    MCL_ARG(k, 13, st->slot);
    MCL_ARG(k, 14, stride);
    MCL_ARG(k, 15, di);
    MCL_ARG(k, 16, R);
    MCL_ARG(k, 17, N);
    MCL_ARG(k, 18, chunk);
    MCL_ARG(k, 19, a->y);
    MCL_CL_CHECK(clSetKernelArg(k, 20, 4 * (size_t)(R + 2 * N), NULL), "clSetKernelArg(xstep, 20: dbc row)");
    size_t global[2] = {(size_t)groups, (size_t)B}, local[2] = {1, 1};
    return mcl_launch(rt, k, "xstep", 2, global, local);
}
