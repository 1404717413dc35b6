/* Host side of the persistent decode layer (cl/dlayer.cl): one launch runs a
 * whole Mamba-1 decode layer of one sequence, its four phases separated by
 * device-wide barriers. Usable only where its co-residency probe passed
 * (mcl_kern_dlayer_ready): the same kernel in probe mode exchanges known
 * values between every work-group of the grid it will use; a grid that
 * answers wrong or times out is not used (the next smaller is tried, down to
 * one group per compute unit), and MAMBACL_DISABLE=persistent turns the
 * path off by hand. Buffers are the layouts of docs/contracts.md. */
#ifndef MCL_KERN_DLAYER_H
#define MCL_KERN_DLAYER_H

#include "ops/kern_decode.h"

/* The weights of a layer that may sit at an offset of a shared buffer (the
 * model's arena of layers, src/model/model.c): indices of
 * mcl_kern_dlayer_args.off. */
enum {
    MCL_DL_W_NW, MCL_DL_W_IN, MCL_DL_W_CW, MCL_DL_W_CB, MCL_DL_W_X, MCL_DL_W_DT, MCL_DL_W_BDT, MCL_DL_W_A,
    MCL_DL_W_D, MCL_DL_W_OUT, MCL_DL_W_COUNT
};

/* The buffers and sizes of one launch of n_layers layers (batch 1). */
typedef struct mcl_kern_dlayer_args {
    cl_mem h;             /* [d_model] residual stream, read and updated */
    cl_mem nw;            /* [d_model] RMSNorm weight, fp32 */
    float eps;
    cl_mem w_in;          /* [2*d_inner, d_model] */
    mcl_dtype dt_in;
    mcl_kern_conv conv;   /* conv weights, bias, state; n_conv = d_inner; xc [d_inner] */
    cl_mem w_x;           /* [R+2N, d_inner] */
    mcl_dtype dt_x;
    cl_mem parts;         /* [n_parts][R+2N] x_proj partial sums */
    int n_parts;
    mcl_scan_args scan;   /* xz [2*d_inner] (z at d_inner), W_dt, b_dt, A, D, y [d_inner] */
    mcl_kern_state ssm;   /* the pooled ssm state */
    cl_mem w_out;         /* [d_model, d_inner] */
    mcl_dtype dt_out;
    int d_model;
    /* Layers per launch (0 or 1: one). Weight w of the launch's layer j is
     * at byte off[w] + j * w_stride of its buffer above (offsets and the
     * stride multiples of 16), its conv state at element conv.st.off + j *
     * conv_lstride of conv.st.buf, its ssm state at ssm.off + j * ssm_lstride;
     * h, the activations and the slot are shared by the layers. */
    int n_layers;
    uint64_t off[MCL_DL_W_COUNT];
    uint64_t w_stride, conv_lstride, ssm_lstride;
    /* NULL, or int [1]: the launch does nothing while halt[0] != 0 (the
     * device-chained greedy decode's stop, src/model/chain.c; ops/kern.h's
     * greedy_pick sets it). Only a program with the layer loop (DL_MULTI 1)
     * takes one: there the halt makes the loop run no layer. */
    cl_mem halt;
} mcl_kern_dlayer_args;

/* Whether a decode step of B sequences of a model of these widths runs the
 * persistent layer: B == 1, dlayer.cl compiled, its staging buffer fits the
 * local memory, not disabled, and the probe passed (run here on the first
 * call, then remembered in rt->dlayer; a probe that fails is not an error:
 * the path is off with the reason in rt->dlayer.reason). Errors: only
 * host/device memory for the probe's buffers. */
mcl_status mcl_kern_dlayer_ready(mcl_runtime *rt, int B, int d_model, int d_inner, int nx, bool *ready);

/* The dispatch rule: whether a model of this d_inner should run the
 * persistent layer where it is ready (DL_MAX_DINNER, a host tunable: where
 * it measured faster than the 4-launch chain; 0 on CPUs). */
bool mcl_kern_dlayer_wanted(const mcl_runtime *rt, int d_inner);

/* DL_LPL, the most layers one launch runs (a host tunable, >= 1). */
int mcl_kern_dlayer_lpl(const mcl_runtime *rt);

/* Whether dlayer.cl was compiled with the layer loop (DL_MULTI 1), the
 * program that honours mcl_kern_dlayer_args.halt. */
bool mcl_kern_dlayer_haltable(const mcl_runtime *rt);

/* Slices of x_proj's d_inner (phase B) for the proven grid: enough (row,
 * slice) tasks for every row team, at least two vectors of 8 per lane, at
 * most `cap` (what the caller's partials buffer holds, in rows of nx). */
int mcl_kern_dlayer_parts(const mcl_runtime *rt, int nx, int d_inner, int cap);

/* Enqueues one launch of a->n_layers layers (rt->dlayer must be on).
 * MCL_ERR_INVALID_ARG for bad sizes or offsets, MCL_ERR_OPENCL naming the call that failed. */
mcl_status mcl_kern_dlayer(mcl_runtime *rt, const mcl_kern_dlayer_args *a);

/* The same on `groups` work-groups: the probe's grid, or 1 on any device (one
 * group needs no co-residency: how the selftest checks the kernel's math
 * where the path is off). MCL_ERR_INTERNAL for another grid. */
mcl_status mcl_kern_dlayer_with(mcl_runtime *rt, const mcl_kern_dlayer_args *a, int groups);

/* Enqueues the read of the barriers' timeout flag into rt->dlayer.flag (not
 * blocking: the caller's next blocking read or finish completes it). */
mcl_status mcl_kern_dlayer_flag_read(mcl_runtime *rt);

/* After that read completed: a barrier that timed out (the grid was not
 * co-resident after all) turns the path off and gives MCL_ERR_INTERNAL (the
 * step's results and the sequence's state are wrong). */
mcl_status mcl_kern_dlayer_flag_check(mcl_runtime *rt);

/* Timing (tools/bar_timing.c): enqueues one launch of dlayer.cl in its
 * barrier-only mode, n_barriers (0..65535) device-wide barriers in a row on
 * `groups` work-groups and nothing else (profiled as "dlayer_bar"). No probe
 * is needed: every wait is bounded, a grid that is not co-resident times out
 * (the flag). MCL_ERR_INVALID_ARG for counts out of range. */
mcl_status mcl_kern_dlayer_bar_loop(mcl_runtime *rt, int groups, int n_barriers);

/* After such launches: *timed_out whether any barrier timed out since the
 * last reset; then zeroes the barrier words (blocking). */
mcl_status mcl_kern_dlayer_bar_reset(mcl_runtime *rt, bool *timed_out);

#endif
