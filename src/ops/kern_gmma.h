/* The tensor-core path of the decode GEMVs (cl/gemv_mma.cl): for a batch of
 * 2..GMMA_MAX_B sequences with F16 or BF16 weights, the gemv launchers
 * (mcl_kern_gemv, mcl_kern_gemv_in, mcl_kern_gemv_split) run gmma, gmma_in
 * or gmma_split instead of gemv.cl's batch tiles; the kernels take the same
 * arguments, so a launcher binds them alike and hands the kernel here for
 * the local reservation and the grid. MAMBACL_DISABLE=gmma (or =mma, which
 * makes GMMA_MAX_B's default 0) keeps gemv.cl. */
#ifndef MCL_KERN_GMMA_H
#define MCL_KERN_GMMA_H

#include "runtime/runtime.h"

/* Whether a projection of batch B with weights of wdtype runs on gemv_mma.cl:
 * 2 <= B <= GMMA_MAX_B of the family's configuration for this batch (shape
 * classes: the built-in H200 rows send 130m's batches up to 64 here, larger
 * models' up to 16), wdtype F16 or BF16, and "gmma" not listed in
 * MAMBACL_DISABLE; rt->gmma_mode (selftests) overrides the batch rule and
 * MAMBACL_DISABLE. When it does, *k is kernel `name` (gmma, gmma_in,
 * gmma_split) of that configuration and *p its tunables. */
bool mcl_kern_gmma_pick(const mcl_runtime *rt, mcl_dtype wdtype, int B, const char *name, cl_kernel *k,
                        const mcl_params **p);

/* mcl_kern_gmma_pick without the kernel. */
bool mcl_kern_gmma_wanted(const mcl_runtime *rt, mcl_dtype wdtype, int B);

/* Launches k (from mcl_kern_gmma_pick, tunables p), whose arguments before
 * red_index the caller has bound (as for the gemv.cl kernel of the same
 * form), for O rows, B sequences and n_split splits of K (1 but for
 * gmma_split): reserves red_mem (argument red_index) and enqueues
 * ceil(O / (16 * GMMA_MT)) x ceil(B / (8 * GMMA_NT)) x n_split groups. MCL_ERR_OPENCL
 * naming `what` when OpenCL refuses. */
mcl_status mcl_kern_gmma_launch(mcl_runtime *rt, cl_kernel k, const mcl_params *p, const char *what,
                                cl_uint red_index, int O, int B, int n_split);

#endif
