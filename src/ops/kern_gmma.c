/* Dispatch, local reservation and grid of gemv_mma.cl (see kern_gmma.h). */
#include "ops/kern_gmma.h"

#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "base/error.h"
#include "tune/tune_gmma.h"

bool mcl_kern_gmma_pick(const mcl_runtime *rt, mcl_dtype wdtype, int B, const char *name, cl_kernel *k,
                        const mcl_params **p)
{
    if (B < 2 || (wdtype != MCL_DTYPE_F16 && wdtype != MCL_DTYPE_BF16)) return false;
    mcl_shape sh = {{[MCL_SHAPE_BATCH] = B}};
    if (mcl_runtime_pick_kernel(rt, MCL_FAM_GMMA, &sh, name, k, p) != MCL_OK) {
        mcl_error_clear(); /* not built here: gemv.cl serves */
        return false;
    }
    if (rt->gmma_mode) return rt->gmma_mode > 0; /* a selftest's choice */
    if (B > mcl_params_get(*p, MCL_T_GMMA_MAX_B, 0)) return false;
    return !mcl_env_lists("MAMBACL_DISABLE", "gmma");
}

bool mcl_kern_gmma_wanted(const mcl_runtime *rt, mcl_dtype wdtype, int B)
{
    cl_kernel k;
    const mcl_params *p;
    return mcl_kern_gmma_pick(rt, wdtype, B, "gmma", &k, &p);
}

mcl_status mcl_kern_gmma_launch(mcl_runtime *rt, cl_kernel k, const mcl_params *p, const char *what,
                                cl_uint red_index, int O, int B, int n_split)
{
    MCL_ASSERT(p, "gmma: no tunables");
    long warps = mcl_params_get(p, MCL_T_GMMA_WARPS, 0), nt = mcl_params_get(p, MCL_T_GMMA_NT, 0);
    MCL_ASSERT(warps > 0 && nt > 0 && O > 0 && B > 0 && n_split > 0, "gmma: tunables and sizes checked");
    size_t red = (size_t)mcl_tune_gmma_local_bytes(p);
    MCL_CL_CHECK(clSetKernelArg(k, red_index, red, NULL), "clSetKernelArg(%s, %u: local reduction)", what,
                 red_index);
    size_t wg = 32 * (size_t)warps, bt = 8 * (size_t)nt, rows = 16 * (size_t)mcl_params_get(p, MCL_T_GMMA_MT, 1);
    size_t global[3] = {((size_t)O + rows - 1) / rows * wg, ((size_t)B + bt - 1) / bt, (size_t)n_split};
    size_t local[3] = {wg, 1, 1};
    return mcl_launch(rt, k, what, 3, global, local);
}
