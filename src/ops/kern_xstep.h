/* Host launcher of xstep (cl/xstep.cl): x_proj, the dt projection,
 * softplus, the state update, D and the gate of a decode step in one launch,
 * the CPUs' middle of a fused decode layer (gemv_in, xstep, gemv). Enqueue
 * only; bad sizes give MCL_ERR_INVALID_ARG, a refused launch MCL_ERR_OPENCL
 * naming the kernel. */
#ifndef MCL_KERN_XSTEP_H
#define MCL_KERN_XSTEP_H

#include "ops/kern_scan.h"

/* Whether a fused decode step of B sequences of this shape runs xstep: the
 * rule's XS_ON (CPUs), its local row of R + 2N floats within the device's
 * local memory, unless MAMBACL_DISABLE lists "xstep" (the 4-launch chain,
 * also the test of the fallback). */
bool mcl_kern_xstep_wanted(const mcl_runtime *rt, int d_inner, int nx, int B);

/* Work-groups per sequence of an xstep launch (over d_inner channels at
 * batch B with the compiled XS_VW and the host's XS_GPC) and the channels
 * of each (a multiple of XS_VW; the last group may have fewer). */
mcl_status mcl_kern_xstep_grid(const mcl_runtime *rt, int d_inner, int B, int *groups, int *chunk);

/* For each of B sequences (state slot st->slot[b]): dbc = W_x . xc[b]
 * (w_x [R+2N, d_inner] of xdtype; a->dbc is not used), then the selective
 * state update of ssm_step on it: a->y [B, d_inner] and the states of the
 * B slots updated in place. */
mcl_status mcl_kern_xstep(mcl_runtime *rt, const mcl_scan_args *a, cl_mem w_x, mcl_dtype xdtype,
                          const mcl_kern_state *st, int B);

#endif
