/* Host launchers of the non-scan kernels (norm.cl, convert.cl, conv.cl,
 * gemv.cl): argument checks, grid shapes from the compiled tunables, launch.
 * Buffers are cl_mem of the sizes and layouts in the kernels' comments and
 * docs/contracts.md; optional buffers may be NULL. Every function enqueues
 * on rt's queue without waiting, and returns MCL_ERR_INVALID_ARG for bad
 * sizes or MCL_ERR_OPENCL naming the kernel when OpenCL refuses. Zero rows
 * (T, B or n == 0) is a no-op. */
#ifndef MCL_KERN_H
#define MCL_KERN_H

#include "runtime/runtime.h"

/* out[t, :] = emb[ids[t], :] in fp32. ids: int [T] (each in [0, vocab): the
 * caller checks), emb: [vocab, D] of wdtype, out: float [T, D]. */
mcl_status mcl_kern_embed(mcl_runtime *rt, cl_mem ids, cl_mem emb, mcl_dtype wdtype, cl_mem out,
                          int T, int D);

/* norm.cl's greedy_pick, one work-group: unless ctl[0] (halt) is set, the
 * first index of the largest of logits[V] (NaN as -inf; the host sampler's
 * greedy choice) goes to ids[0] and ring[slot], ctl[1] = step + 1, and
 * ctl[0] = 1 when the id is one of the stop ids in ctl (layout:
 * MCL_PICK_CTL_*); with emb (not NULL) out[0..D) = emb[id] in fp32, as
 * mcl_kern_embed would write it. ids int [1], ring int [> slot], ctl int
 * [MCL_PICK_CTL_INTS], emb [V, D] of wdtype, out float [D]. */
#define MCL_PICK_MAX_STOP 8 /* cl/norm.cl's MCL_PICK_MAX_STOP */
#define MCL_PICK_CTL_HALT 0
#define MCL_PICK_CTL_COUNT 1
#define MCL_PICK_CTL_STOP 2                                         /* the stop ids */
#define MCL_PICK_CTL_N_STOP (MCL_PICK_CTL_STOP + MCL_PICK_MAX_STOP) /* how many */
#define MCL_PICK_CTL_INTS (MCL_PICK_CTL_N_STOP + 1)
mcl_status mcl_kern_greedy_pick(mcl_runtime *rt, cl_mem logits, int V, cl_mem ids, cl_mem ring, int slot, int step,
                                cl_mem ctl, cl_mem emb, mcl_dtype wdtype, cl_mem out, int D);

/* For r < T: src = rows ? rows[r] : r; resid[src] += delta[src] when delta is
 * not NULL; out[r] = rmsnorm(resid[src]) * w. resid [.., D], out [T, D]. */
mcl_status mcl_kern_rmsnorm(mcl_runtime *rt, cl_mem resid, cl_mem delta, cl_mem w, float eps,
                            cl_mem out, cl_mem rows, int T, int D);

/* For r < T (rows in order, no row list): resid[r] = (the sum of the S
 * split-K slabs' row r, slab z at ws + z * MN, in order z = 0..S-1) +
 * resid[r]; out[r] = rmsnorm(resid[r]) * w (norm.cl rmsnorm_parts): bitwise
 * gemm_reduce with beta 1 (ops/gemm.h, mcl_op_matmul_slabs) followed by
 * mcl_kern_rmsnorm, in one launch. ws float [S][T, D] (MN >= T * D).
 * Errors: MCL_ERR_INVALID_ARG for S < 1 or MN < T * D; as mcl_kern_rmsnorm. */
mcl_status mcl_kern_rmsnorm_parts(mcl_runtime *rt, cl_mem resid, cl_mem ws, int S, uint64_t MN, cl_mem w, float eps,
                                  cl_mem out, int T, int D);

/* mcl_kern_rmsnorm over rows 0..T-1 (no row list) with the output written
 * as the mma GEMM's split A instead of fp32 (ops/gemm.h, mcl_gemm_parts):
 * hi, lo ushort [T, lda] of dt (F16 or BF16), lo only when split == 2, zeros
 * for k >= D; bitwise what mcl_kern_rmsnorm + mcl_op_gemm_split give.
 * Errors: MCL_ERR_INVALID_ARG for lda < D or not a multiple of 8, split not
 * 1 or 2, dt not 16-bit; as mcl_kern_rmsnorm otherwise. */
mcl_status mcl_kern_rmsnorm_split(mcl_runtime *rt, cl_mem resid, cl_mem delta, cl_mem w, float eps, cl_mem hi,
                                  cl_mem lo, int lda, mcl_dtype dt, int split, int T, int D);

/* out[0..n) = w[0..n) converted from wdtype to fp32. */
mcl_status mcl_kern_convert(mcl_runtime *rt, cl_mem w, mcl_dtype wdtype, cl_mem out, uint64_t n);

/* Pooled conv state addressing (contracts.md): state_off, slot [n_seqs] and
 * slot_stride, as for every state kernel. */
typedef struct mcl_kern_state {
    cl_mem buf;        /* pool, float */
    uint64_t off;      /* element offset of the layer */
    cl_mem slot;       /* int [n_seqs] */
    uint64_t stride;   /* elements between slots */
} mcl_kern_state;

/* A strided view of a row-major fp32 matrix: element (t, c) is at
 * buf[off + t*ld + c]. Kernels read their inputs through views instead of a
 * baked-in layout (Mamba-1's x and z are the halves of each in_proj row:
 * {xz, 0, 2*d_inner} and {xz, d_inner, 2*d_inner}). */
typedef struct mcl_kern_view {
    cl_mem buf;
    uint64_t off; /* elements */
    int ld;       /* elements between rows, >= the columns read */
} mcl_kern_view;

/* Causal conv + bias (NULL: none) + SiLU over n_seqs sequences of total T
 * tokens (seq_start: int [n_seqs+1], seq_start[n_seqs] == T). x: the view of
 * the input [T, d_inner] (ld >= d_inner), w [d_inner, K] fp32, xc
 * [T, d_inner]; updates the conv states. Runs conv_prefill4 (16-byte loads,
 * CONV_TT rows per work-item) where K == 4, CONV_TT > 0 and d_inner, x->ld
 * and x->off are multiples of 4 (buffers are 16-byte aligned), else
 * conv_prefill; the same values either way. */
mcl_status mcl_kern_conv_prefill(mcl_runtime *rt, const mcl_kern_view *x, cl_mem w, cl_mem bias,
                                 const mcl_kern_state *st, cl_mem seq_start, int n_seqs, int T,
                                 int d_inner, int K, cl_mem xc);

/* One token per sequence: x a view of [B, d_inner], xc [B, d_inner]; rolls the states. */
mcl_status mcl_kern_conv_step(mcl_runtime *rt, const mcl_kern_view *x, cl_mem w, cl_mem bias,
                              const mcl_kern_state *st, int B, int d_inner, int K, cl_mem xc);

/* conv_step on x = the first d_inner columns of xz [B, ld], xz still in S
 * split-K slabs (slab z at ws + z * MN, float [B, ld] each): xz = the sum of
 * the slabs in order (gemm_reduce's, beta 0; the whole row: z is read later),
 * then the conv step of the x half (conv.cl conv_step_parts): bitwise
 * mcl_op_slabs_reduce + mcl_kern_conv_step, in one launch. Errors:
 * MCL_ERR_INVALID_ARG for S < 1, ld < d_inner or MN < B * ld; as
 * mcl_kern_conv_step. */
mcl_status mcl_kern_conv_step_parts(mcl_runtime *rt, cl_mem ws, int S, uint64_t MN, cl_mem xz, int ld, cl_mem w,
                                    cl_mem bias, const mcl_kern_state *st, int B, int d_inner, int K, cl_mem xc);

/* y[b, o] = sum_i W[o, i] x[b, i] (+ y[b, o] when accumulate). W [O, I] of
 * wdtype, x [B, I], y [B, O] fp32. At B 1 on GPUs: rgemv.cl's rgemv
 * (mcl_kern_rgemv_wanted, kern_rgemv.h); batches of 2..GMMA_MAX_B of F16/BF16
 * weights: gemv_mma.cl; else gemv.cl. */
mcl_status mcl_kern_gemv(mcl_runtime *rt, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O,
                         int I, int B, bool accumulate);

/* The same with a gemv kernel compiled with other tunables `p` (tests, tuner):
 * k is that program's kernel named mcl_kern_gemv_name(B) (or "gemv", the
 * tile kernel, also at B 1: timing; the local reservation follows k's name). */
mcl_status mcl_kern_gemv_with(mcl_runtime *rt, cl_kernel k, const mcl_params *p, cl_mem W,
                              mcl_dtype wdtype, cl_mem x, cl_mem y, int O, int I, int B,
                              bool accumulate);

/* The argument checks of every GEMV launcher (gemv.cl, cgemv.cl): O and I
 * positive, B not negative, wdtype F32, F16 or BF16; else
 * MCL_ERR_INVALID_ARG naming `what` (the kernel). */
mcl_status mcl_kern_check_gemv(const char *what, mcl_dtype wdtype, int O, int I, int B);

/* Binds the arguments every GEMV kernel of gemv.cl and gemv_mma.cl opens
 * with: W, wdtype, x, y, O, I, B (arguments 0..6). */
mcl_status mcl_kern_bind_gemv(cl_kernel k, cl_mem W, mcl_dtype wdtype, cl_mem x, cl_mem y, int O, int I, int B);

/* Bytes of the __local reduction buffer (red_mem) that a gemv.cl kernel of
 * these tunables uses for btc batch rows per tile (1 for the batch-1 twins,
 * GEMV_BT for the others): 4 * (RPL + 1) * btc * (WG / GEMV_SGW) when a team
 * has more than one group of GEMV_SGW lanes summed in registers, else none
 * (4 bytes: OpenCL refuses 0). Mirrors GEMV_SGW of cl/gemv.cl and
 * MCL_SG_ADD_MAX of cl/prims.cl (32 with the ptx capability, else 1): the
 * reservation limits how many work-groups a compute unit holds. */
size_t mcl_kern_gemv_red_bytes(const mcl_runtime *rt, size_t wg, size_t lpr, size_t rpl, size_t btc);

/* The gemv kernel that serves batch B: "gemv_1" for B == 1 (compiled
 * without the batch tile), "gemv" (tiles of GEMV_BT rows) otherwise. */
const char *mcl_kern_gemv_name(int B);

#endif
