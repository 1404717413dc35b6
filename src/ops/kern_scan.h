/* Host launchers of scan.cl and ssm_step.cl: argument binding and the grid
 * shape from the compiled tunables (one place, used by the forward pass, the
 * benchmark and the tuner). Buffers follow docs/contracts.md: xc [T, d_inner],
 * dbc [T, R+2N], xz [T, 2*d_inner] (z = second half), w_dt [d_inner, R] of
 * wdtype, b_dt/D [d_inner], A [d_inner, N] fp32, y [T, d_inner]; the SSM
 * state pool is addressed through mcl_kern_state (kern.h). Enqueue only. */
#ifndef MCL_KERN_SCAN_H
#define MCL_KERN_SCAN_H

#include "ops/kern.h"

typedef struct mcl_scan_args {
    cl_mem xc, dbc, xz, w_dt, b_dt, a, d, y;
    mcl_dtype wdtype;
    int d_inner, dt_rank, d_state;
} mcl_scan_args;

/* The grid of a scan_prefill launch with tunables p: one work-group of
 * SCAN_DCH x SCAN_NSG x SCAN_TT work-items per (sequence, block of SCAN_DCH
 * channels). */
void mcl_kern_scan_prefill_grid(const mcl_params *p, int n_seqs, int d_inner, size_t *global, size_t *local);

/* Prefill scan over n_seqs sequences (seq_start: int [n_seqs+1]). */
mcl_status mcl_kern_scan_prefill(mcl_runtime *rt, const mcl_scan_args *a, const mcl_kern_state *st,
                                 cl_mem seq_start, int n_seqs);

/* The global size of an ssm_step launch with tunables p (local = STEP_WG). */
size_t mcl_kern_ssm_step_global(const mcl_params *p, int B, int d_inner);

/* Decode: one token for each of B sequences. */
mcl_status mcl_kern_ssm_step(mcl_runtime *rt, const mcl_scan_args *a, const mcl_kern_state *st, int B);

#endif
