/* Host launchers of the fused decode kernels: gemv_in (RMSNorm into the
 * in_proj or LM-head GEMV, the conv step in in_proj's epilogue), gemv_split
 * (split-K GEMV for the small x_proj, partial sums) and ssm_step_parts (the
 * state update reading those partials; declared in kern_scan.h). With gemv for out_proj (accumulate =
 * the residual add) a decode layer is 4 launches. Buffers are cl_mem of the
 * layouts in docs/contracts.md and the kernels' comments. Enqueue only; bad
 * sizes give MCL_ERR_INVALID_ARG, a refused launch MCL_ERR_OPENCL naming the
 * kernel. */
#ifndef MCL_KERN_DECODE_H
#define MCL_KERN_DECODE_H

#include "ops/kern.h"
#include "ops/kern_scan.h"

/* The conv step fused into in_proj: conv weights w [n_conv, K] fp32, bias
 * [n_conv] (NULL: none), the pooled conv state st, output xc [B, n_conv]. */
typedef struct mcl_kern_conv {
    cl_mem w, bias;
    mcl_kern_state st;
    int K, n_conv;
    cl_mem xc;
} mcl_kern_conv;

/* Binds the conv epilogue's arguments 9..18 of gemv_in, gmma_in and
 * rgemv_in (MCL_CONV_PARAMS of cl/common.cl); c NULL: n_conv 0, every
 * pointer `any` (never read). */
mcl_status mcl_kern_bind_conv(cl_kernel k, const mcl_kern_conv *c, cl_mem any);

/* y[b, o] = (RMSNorm(x[b]) * nw) . W[o]^T with eps; W [O, I] of wdtype,
 * x [B, I], y [B, O]. conv (NULL: none) also runs the decode conv step on
 * rows o < conv->n_conv (o = channel) and rolls their conv states. At B 1
 * on GPUs: rgemv.cl's rgemv_in (mcl_kern_rgemv_wanted), else gemv.cl. */
mcl_status mcl_kern_gemv_in(mcl_runtime *rt, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O, int I,
                            int B, cl_mem nw, float eps, const mcl_kern_conv *conv);

/* Splits of I for a gemv_split of [O, I] at batch B with the compiled
 * tunables: enough work-groups to cover the device twice, at least
 * 2 * GEMV_LPR vectors of 8 per split (two per lane), at most MCL_GEMV_MAX_SPLIT; 1 when
 * splitting does not help (many rows, CPUs). */
#define MCL_GEMV_MAX_SPLIT 8
int mcl_kern_gemv_split_count(const mcl_runtime *rt, int O, int I, int B);

/* Partial products of n_split splits of I: y + s * part_stride [B, O] gets
 * sum over split s's columns (part_stride >= B * O elements). */
mcl_status mcl_kern_gemv_split(mcl_runtime *rt, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O, int I,
                               int B, int n_split, uint64_t part_stride);

/* Whether a decode step of B sequences with weights of wdtype runs fused:
 * B within the rows the projections run as gemv (mcl_op_gemv_max_rows:
 * GEMM_GEMV_MAX_ROWS of gemm.cl for that batch), unless MAMBACL_DISABLE
 * lists "fused_decode" (the unfused chain, for tests). */
bool mcl_kern_decode_fused(const mcl_runtime *rt, int B, mcl_dtype wdtype);

/* ssm_step_parts, the state update reading gemv_split's partials: see kern_scan.h. */

#endif
