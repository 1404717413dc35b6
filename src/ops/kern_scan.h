/* Host launchers of scan.cl and ssm_step.cl: argument binding and the grid
 * shape from the compiled tunables (the one place that binds them, used by
 * the forward pass, the benchmark, the tuner, the selftest, the tests and
 * tools/scan_timing). Buffers follow docs/contracts.md: xc [T, d_inner],
 * dbc [T, R+2N], z read through xz at z(t, d) = xz[z_off + t*z_ld + d]
 * (Mamba-1: the second half of each in_proj row, z_off = d_inner, z_ld =
 * 2*d_inner), w_dt [d_inner, R] of wdtype, b_dt/D [d_inner], A [d_inner, N]
 * fp32, y [T, d_inner]; the SSM state pool is addressed through
 * mcl_kern_state (kern.h). Enqueue only. */
#ifndef MCL_KERN_SCAN_H
#define MCL_KERN_SCAN_H

#include "ops/gemm.h"
#include "ops/kern.h"

typedef struct mcl_scan_args {
    cl_mem xc, dbc, xz, w_dt, b_dt, a, d, y;
    mcl_dtype wdtype;
    int d_inner, dt_rank, d_state;
    uint64_t z_off; /* z's view in xz (elements) */
    int z_ld;       /* elements between z rows, >= d_inner */
    int T;          /* rows of xc, dbc and y (tokens); prefill with SCAN_DTIN needs it, else unread */
} mcl_scan_args;

/* The grid of a scan_prefill launch with tunables p: one work-group of
 * SCAN_DCH x SCAN_NSG x SCAN_TT work-items per (sequence, segment, block of
 * SCAN_DCH channels). */
void mcl_kern_scan_prefill_grid(const mcl_params *p, int n_seqs, int d_inner, size_t *global, size_t *local);

/* Most segments a sequence is split into (SCAN_NSEG). */
#define MCL_SCAN_MAX_NSEG 64

/* Segments per sequence of tunables p (SCAN_NSEG clamped to 1..MCL_SCAN_MAX_NSEG). */
int mcl_kern_scan_prefill_nseg(const mcl_params *p);

/* Prefill scan over n_seqs sequences (seq_start: int [n_seqs+1]), with the
 * runtime's scan_prefill. MCL_ERR_INVALID_ARG when z_ld < d_inner. With
 * SCAN_DTIN (the configuration's) the dt projection runs first as a GEMM
 * pre-pass over a->T rows into rt->scan_dt (grown on demand): SCAN_DTIN 1
 * launches scan_dt; 3 scan_dt2 (the same values bitwise); 2 scan_dt_gather,
 * then ops/gemm.h's mcl_op_matmul (named "dt_proj"). Then MCL_ERR_INVALID_ARG when a->T < 1, and the
 * workspace's and the GEMM's errors. */
mcl_status mcl_kern_scan_prefill(mcl_runtime *rt, const mcl_scan_args *a, const mcl_kern_state *st,
                                 cl_mem seq_start, int n_seqs);

/* The same with a scan_prefill kernel compiled with tunables `p` (tests,
 * tools, the tuner's candidates). With SCAN_NSEG > 1 two launches (the
 * segments' summaries, then the scan) and the runtime's split workspace
 * (rt->scan_ws, grown to n_seqs*(2*nseg+1)*d_inner*d_state floats; its
 * allocation failure is returned). */
/* Whether tunables p take Δ from the dt GEMM pre-pass (SCAN_DTIN). */
bool mcl_kern_scan_prefill_dtin(const mcl_params *p);

/* The dt pre-pass the launchers run under tunables p for a W_dt of wdt
 * whose product (T rows, d_inner x dt_rank) mcl_op_matmul would run on
 * dt_path: 0 none (SCAN_DTIN 0), else SCAN_DTIN16 where that is set, W_dt
 * is 16-bit and dt_path is MCL_GEMM_MMA (the tensor cores; the rows keyed by
 * shape keep SCAN_DTIN, the F32 W_dt's choice), else SCAN_DTIN (1 scan_dt,
 * 2 scan_dt_gather + mcl_op_matmul, 3 scan_dt2). The launchers ask
 * mcl_op_matmul_choice for dt_path. Pure: tests call it with any path. */
int mcl_kern_scan_dt_mode(const mcl_params *p, mcl_dtype wdt, mcl_gemm_path dt_path);

/* The product that reads the scan's y next (Mamba-1: out_proj, C += y .
 * W^T): W [n, d_inner] of wdt, beta. */
typedef struct mcl_scan_next {
    mcl_dtype wdt;
    int n;
    float beta;
} mcl_scan_next;

/* mcl_kern_scan_prefill, and where the configuration has SCAN_YSPLIT 1 and
 * `next` runs on the mma path with a split pass (mcl_op_matmul_presplit for
 * a->T rows, asked after the scan's own dt pre-pass, whose GEMM may use the
 * same workspaces) scan_prefill_split writes y as that GEMM's A parts
 * instead of fp32 y (bitwise gemm_split_a's on the fp32 y; y itself is then
 * only the partial sums' scratch when d_state > SCAN_NG; never scan_warp):
 * *on true and *parts the parts for mcl_op_matmul_parts, to run before any
 * other matmul on rt. *on false: fp32 y as mcl_kern_scan_prefill.
 * MAMBACL_DISABLE=scan_split (or presplit) keeps fp32 y. Errors: those of
 * mcl_kern_scan_prefill and mcl_op_matmul_presplit. */
mcl_status mcl_kern_scan_prefill_split(mcl_runtime *rt, const mcl_scan_args *a, const mcl_kern_state *st,
                                       cl_mem seq_start, int n_seqs, const mcl_scan_next *next,
                                       mcl_gemm_parts *parts, bool *on);

/* The same with a scan_prefill kernel compiled with tunables p (tests, tools). */
mcl_status mcl_kern_scan_prefill_split_with(mcl_runtime *rt, cl_kernel k, const mcl_params *p,
                                            const mcl_scan_args *a, const mcl_kern_state *st, cl_mem seq_start,
                                            int n_seqs, const mcl_scan_next *next, mcl_gemm_parts *parts, bool *on);

/* mcl_kern_scan_prefill_with writing y as the parts yp (hi, lo [a->T, lda]
 * ushort of dt, lda a multiple of 8 >= d_inner, split 1 or 2) instead of
 * fp32 y, through the program's scan_prefill_split (tests, tools; the
 * program built with SCAN_YSPLIT 1). MCL_ERR_INVALID_ARG for parts outside
 * that or p without SCAN_YSPLIT;
 * MCL_ERR_UNSUPPORTED where the launch is scan_warp's. */
mcl_status mcl_kern_scan_prefill_parts_with(mcl_runtime *rt, cl_kernel k, const mcl_params *p,
                                            const mcl_scan_args *a, const mcl_kern_state *st, cl_mem seq_start,
                                            int n_seqs, const mcl_gemm_parts *yp);

/* Whether a scan with tunables p and d_state states runs scan_warp (the
 * program's sibling of scan_prefill: SCAN_WARP 1 and d_state <= SCAN_NG;
 * else scan_prefill runs, also in a SCAN_WARP program). */
bool mcl_kern_scan_prefill_warp(const mcl_params *p, int d_state);

mcl_status mcl_kern_scan_prefill_with(mcl_runtime *rt, cl_kernel k, const mcl_params *p,
                                      const mcl_scan_args *a, const mcl_kern_state *st, cl_mem seq_start,
                                      int n_seqs);

/* Sequences per work-group (sb) the host gives ssm_step for a batch of B:
 * STEP_SB capped by B and by what the local memory holds (sb dbc rows of
 * R+2N floats beside the 4*STEP_WG of the team tree), halved while the grid
 * of ceil(d_inner / teams) x ceil(B / sb) groups would not give every
 * compute unit one (H200: at batch 8 sb 4 beat 2 and 8). 0 when even one
 * row does not fit. */
int mcl_kern_ssm_step_sb(const mcl_runtime *rt, const mcl_params *p, int B, int d_inner, int R, int N);

/* Binds and enqueues ssm_step or ssm_step_parts (kernel k of that `name`,
 * compiled with tunables p): dbc = n_parts partial rows [n_parts][B, R+2N]
 * part_stride elements apart (n_parts 1: dbc itself), sb sequences per
 * group (1 <= sb <= min(STEP_SB, B), fitting the local memory). Grid
 * {ceil(d_inner / (STEP_WG/STEP_LPC)) * STEP_WG, ceil(B / sb)}, local
 * {STEP_WG, 1} (cl/ssm_step.cl). Errors: MCL_ERR_INVALID_ARG for bad parts,
 * z stride or sb; MCL_ERR_OPENCL naming the argument or launch. For tests
 * and tools that choose sb; the forward pass uses the two below. */
mcl_status mcl_kern_ssm_step_run(mcl_runtime *rt, cl_kernel k, const mcl_params *p, const mcl_scan_args *a,
                                 const mcl_kern_state *st, int B, int n_parts, uint64_t part_stride, int sb,
                                 const char *name);

/* ssm_step_tile (cl/ssm_step.cl: one work-item per (channel, sequence),
 * bitwise the result of the same program's ssm_step):
 * - _local: the bytes of local memory it needs for sb sequences per group
 *   at dt_rank R, d_state N under tunables p (0 for bad arguments);
 * - _sb: its sequences per group for a batch of B, or 0 when it does not
 *   serve that launch (STEP_TILE 0 or above B, or not even one sequence's
 *   rows fit the local memory): STEP_TSQ*STEP_TJ capped by B and the local
 *   memory, halved (not below STEP_TSQ) while the grid would not give every
 *   compute unit a group;
 * - _run: binds and enqueues kernel k (ssm_step_tile of a program built with
 *   p) with sb sequences per group (1 <= sb <= min(STEP_TSQ*STEP_TJ, B),
 *   fitting the local memory), dbc as for mcl_kern_ssm_step_run. Grid
 *   {ceil(d_inner / (STEP_TWG/STEP_TSQ)) * STEP_TWG, ceil(B / sb)}, local
 *   {STEP_TWG, 1}. Errors as mcl_kern_ssm_step_run.
 * The launchers below take it by themselves where _sb is not 0. */
size_t mcl_kern_ssm_step_tile_local(const mcl_params *p, int sb, int R, int N);
int mcl_kern_ssm_step_tile_sb(const mcl_runtime *rt, const mcl_params *p, int B, int d_inner, int R, int N);
mcl_status mcl_kern_ssm_step_tile_run(mcl_runtime *rt, cl_kernel k, const mcl_params *p, const mcl_scan_args *a,
                                      const mcl_kern_state *st, int B, int n_parts, uint64_t part_stride, int sb,
                                      const char *name);

/* Decode: one token for each of B sequences, with the runtime's ssm_step
 * (ssm_step_tile for batches it serves, mcl_kern_ssm_step_tile_sb). */
mcl_status mcl_kern_ssm_step(mcl_runtime *rt, const mcl_scan_args *a, const mcl_kern_state *st, int B);

/* The same with an ssm_step kernel compiled with tunables `p`. */
mcl_status mcl_kern_ssm_step_with(mcl_runtime *rt, cl_kernel k, const mcl_params *p, const mcl_scan_args *a,
                                  const mcl_kern_state *st, int B);

/* ssm_step with a->dbc holding n_parts partial rows [n_parts][B, R+2N] at
 * part_stride elements apart (the output of gemv_split; n_parts 1: the plain
 * ssm_step), the runtime's ssm_step_parts for (d_inner, B). Errors: those of
 * mcl_kern_ssm_step_run; MCL_ERR_UNSUPPORTED when a dbc row does not fit
 * the local memory. */
mcl_status mcl_kern_ssm_step_parts(mcl_runtime *rt, const mcl_scan_args *a, const mcl_kern_state *st, int B,
                                   int n_parts, uint64_t part_stride);

#endif
