/* Mamba-1, the whole description: the weight table, the recurrent state and
 * activations of a layer, the config check and the per-layer launch
 * sequences. Everything generic (checkpoint binding, upload, memory plan,
 * pools, scratch, embedding, LM head, prefill passes) reads it through
 * mcl_arch (arch.h).
 *
 * One layer, T token rows (prefill) or one row per sequence (decode):
 *   hn  = rmsnorm(h) * norm                 rmsnorm_residual
 *   xz  = hn . W_in^T                       mcl_project (gemv for few rows, else GEMM)
 *     (prefill: mcl_project_norm; with the mma GEMM the norm writes its
 *     split A, rmsnorm_split, instead of hn)
 *   xc  = silu(conv(x) + conv_b)            conv_prefill / conv_step (conv state)
 *   dbc = xc . W_x^T                        mcl_project
 *   y   = scan(xc, dbc, z, ...)             scan_prefill / ssm_step (ssm state)
 *   h  += y . W_out^T                       mcl_project, accumulating into h
 *     (prefill, where the scan configuration has SCAN_YSPLIT: the scan writes y as the mma GEMM's split A,
 *     mcl_kern_scan_prefill_split, and out_proj runs mcl_op_matmul_parts)
 * x and z are the two halves of each xz row (row stride 2*d_inner).
 * Decode (one row per sequence, up to the gemv rows) runs fused, 4 launches
 * per layer (src/ops/kern_decode.h):
 *   xz = (rmsnorm(h) * norm) . W_in^T, xc = conv step     gemv_in (conv state)
 *   dbc partials = xc . W_x^T over n_split slices of K     gemv_split (into hn)
 *   y = ssm step(sum of the partials) * silu(z)            ssm_step_parts (ssm state)
 *   h += y . W_out^T                                       gemv, accumulating
 * and the LM head takes the final norm (src/model/forward.c): 1 + 4 * n_layer
 * + 1 launches per step. On CPUs (the rules CG_ON, XS_ON) the projections
 * run cgemv.cl's kernels and x_proj + ssm step one xstep launch:
 * 1 + 3 * n_layer + 1 (src/ops/kern_cgemv.h, kern_xstep.h).
 * MAMBACL_DISABLE=fused_decode runs the sequence above instead
 * (1 + 6 * n_layer + 2 launches, plus the GEMMs' gemm_reduce; larger
 * batches always: layer_decode, where in_proj's and out_proj's split-K
 * reductions ride on conv_step_parts and the next layer's rmsnorm_parts).
 * A step of one sequence runs up to DL_LPL layers (all the layers of a
 * weight arena and state group, src/model/model.h, by default) as one
 * persistent launch where its probe passed and the dispatch rule wants it
 * (d_inner <= DL_MAX_DINNER; cl/dlayer.cl, src/ops/kern_dlayer.h:
 * 1 + ceil(n_layer / layers per launch) + 1 launches;
 * MAMBACL_DISABLE=persistent keeps the 4-launch chain). */
#include "model/arch_mamba1.h"

#include "base/error.h"
#include "model/model.h"
#include "ops/gemm.h"
#include "ops/kern.h"
#include "ops/kern_cgemv.h"
#include "ops/kern_decode.h"
#include "ops/kern_dlayer.h"
#include "ops/kern_scan.h"
#include "ops/kern_xstep.h"

#define LAYER_NAME(x) "backbone.layers.%d." x
#define MIXER(x) "backbone.layers.%d.mixer." x

/* name, pattern, alt, shape, scope, store, when, split, init, base, scale, fan_in */
static const mcl_weight_spec weights[MCL_W_COUNT] = {
    [MCL_W_EMBED] = {"embeddings.weight", "backbone.embeddings.weight", "backbone.embedding.weight",
                     "vocab_size, d_model", MCL_WSCOPE_GLOBAL, MCL_WSTORE_NATIVE, MCL_WWHEN_ALWAYS, true,
                     MCL_WINIT_UNIFORM, 0.0f, 0.5f, false},
    [MCL_W_NORM_F] = {"norm_f.weight", "backbone.norm_f.weight", NULL, "d_model", MCL_WSCOPE_GLOBAL,
                      MCL_WSTORE_F32, MCL_WWHEN_ALWAYS, false, MCL_WINIT_UNIFORM, 1.0f, 0.1f, false},
    [MCL_W_LM_HEAD] = {"lm_head.weight", "lm_head.weight", NULL, "vocab_size, d_model", MCL_WSCOPE_GLOBAL,
                       MCL_WSTORE_NATIVE, MCL_WWHEN_UNTIED, true, MCL_WINIT_UNIFORM, 0.0f, 0.5f, false},
    [MCL_W_NORM] = {"norm.weight", LAYER_NAME("norm.weight"), NULL, "d_model", MCL_WSCOPE_LAYER,
                    MCL_WSTORE_F32, MCL_WWHEN_ALWAYS, false, MCL_WINIT_UNIFORM, 1.0f, 0.1f, false},
    [MCL_W_IN_PROJ] = {"in_proj.weight", MIXER("in_proj.weight"), NULL, "2*d_inner, d_model",
                       MCL_WSCOPE_LAYER, MCL_WSTORE_NATIVE, MCL_WWHEN_ALWAYS, false, MCL_WINIT_UNIFORM,
                       0.0f, 1.0f, true},
    [MCL_W_CONV_W] = {"conv1d.weight", MIXER("conv1d.weight"), NULL, "d_inner, 1, d_conv",
                      MCL_WSCOPE_LAYER, MCL_WSTORE_F32, MCL_WWHEN_ALWAYS, false, MCL_WINIT_UNIFORM, 0.0f,
                      1.0f, true},
    [MCL_W_CONV_B] = {"conv1d.bias", MIXER("conv1d.bias"), NULL, "d_inner", MCL_WSCOPE_LAYER,
                      MCL_WSTORE_F32, MCL_WWHEN_CONV_BIAS, false, MCL_WINIT_UNIFORM, 0.0f, 0.1f, false},
    [MCL_W_X_PROJ] = {"x_proj.weight", MIXER("x_proj.weight"), NULL, "dt_rank + 2*d_state, d_inner",
                      MCL_WSCOPE_LAYER, MCL_WSTORE_NATIVE, MCL_WWHEN_ALWAYS, false, MCL_WINIT_UNIFORM, 0.0f,
                      1.0f, true},
    [MCL_W_DT_W] = {"dt_proj.weight", MIXER("dt_proj.weight"), NULL, "d_inner, dt_rank", MCL_WSCOPE_LAYER,
                    MCL_WSTORE_NATIVE, MCL_WWHEN_ALWAYS, false, MCL_WINIT_UNIFORM, 0.0f, 0.5f, true},
    [MCL_W_DT_B] = {"dt_proj.bias", MIXER("dt_proj.bias"), NULL, "d_inner", MCL_WSCOPE_LAYER,
                    MCL_WSTORE_F32, MCL_WWHEN_ALWAYS, false, MCL_WINIT_DT_BIAS, 0.0f, 0.0f, false},
    [MCL_W_A_LOG] = {"A_log", MIXER("A_log"), NULL, "d_inner, d_state", MCL_WSCOPE_LAYER,
                     MCL_WSTORE_NEG_EXP, MCL_WWHEN_ALWAYS, false, MCL_WINIT_A_LOG, 0.0f, 0.0f, false},
    [MCL_W_D] = {"D", MIXER("D"), NULL, "d_inner", MCL_WSCOPE_LAYER, MCL_WSTORE_F32, MCL_WWHEN_ALWAYS,
                 false, MCL_WINIT_UNIFORM, 1.0f, 0.1f, false},
    [MCL_W_OUT_PROJ] = {"out_proj.weight", MIXER("out_proj.weight"), NULL, "d_model, d_inner",
                        MCL_WSCOPE_LAYER, MCL_WSTORE_NATIVE, MCL_WWHEN_ALWAYS, false, MCL_WINIT_UNIFORM,
                        0.0f, 1.0f, true},
};

static const mcl_arch_tensor states[] = {
    [MCL_M1_CONV_STATE] = {"conv state", "d_inner, d_conv - 1"},
    [MCL_M1_SSM_STATE] = {"ssm state", "d_inner, d_state"},
};

static const mcl_arch_tensor acts[] = {
    [MCL_M1_XZ] = {"xz", "2*d_inner"},
    [MCL_M1_XC] = {"xc", "d_inner"},
    [MCL_M1_DBC] = {"dbc", "dt_rank + 2*d_state"},
    [MCL_M1_Y] = {"y", "d_inner"},
};

/* Positive sizes, a conv of at least 2 taps, no projection bias. */
static mcl_status check(const mcl_config *c)
{
    if (c->d_model <= 0 || c->n_layer <= 0 || c->d_inner <= 0 || c->d_state <= 0 ||
        c->d_conv < 2 || c->dt_rank <= 0 || c->vocab_size <= 0)
        return mcl_error_set(MCL_ERR_INVALID_ARG,
                             "bad model shape: d_model %d, n_layer %d, d_inner %d, d_state %d, "
                             "d_conv %d (>= 2), dt_rank %d, vocab %d",
                             c->d_model, c->n_layer, c->d_inner, c->d_state, c->d_conv, c->dt_rank,
                             c->vocab_size);
    if (c->proj_bias)
        return mcl_error_set(MCL_ERR_UNSUPPORTED, "in/out projection biases (use_bias) are not supported");
    if (!(c->norm_eps > 0.0f))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "norm epsilon must be positive");
    return MCL_OK;
}

/* x: the first half of each in_proj output row (z is the second: scan_args). */
static mcl_kern_view x_view(const mcl_model *m)
{
    mcl_kern_view v = {m->scratch.act[MCL_M1_XZ], 0, 2 * m->cfg.d_inner};
    return v;
}

/* The scan arguments of layer l on the scratch buffers. */
static mcl_scan_args scan_args(const mcl_model *m, int l)
{
    const mcl_scratch *s = &m->scratch;
    const mcl_dmat *dt_w = mcl_model_w(m, MCL_W_DT_W, l);
    mcl_scan_args a = {
        .xc = s->act[MCL_M1_XC], .dbc = s->act[MCL_M1_DBC], .xz = s->act[MCL_M1_XZ],
        .w_dt = dt_w->parts[0], .b_dt = mcl_model_buf(m, MCL_W_DT_B, l), .a = mcl_model_buf(m, MCL_W_A_LOG, l),
        .d = mcl_model_buf(m, MCL_W_D, l), .y = s->act[MCL_M1_Y], .wdtype = dt_w->dtype,
        .d_inner = m->cfg.d_inner, .dt_rank = m->cfg.dt_rank, .d_state = m->cfg.d_state,
        .z_off = (uint64_t)m->cfg.d_inner, .z_ld = 2 * m->cfg.d_inner,
    };
    return a;
}

static mcl_status layer_prefill(mcl_model *m, int l, int T, int n_seqs)
{
    const mcl_config *c = &m->cfg;
    mcl_scratch *s = &m->scratch;
    cl_mem xz = s->act[MCL_M1_XZ], xc = s->act[MCL_M1_XC], dbc = s->act[MCL_M1_DBC];
    mcl_kern_state cs = mcl_state_view(m, MCL_M1_CONV_STATE, l), ss = mcl_state_view(m, MCL_M1_SSM_STATE, l);
    mcl_scan_args a = scan_args(m, l);
    a.T = T; /* the dt GEMM pre-pass of SCAN_DTIN runs over the T rows */
    mcl_kern_view x = x_view(m);
    MCL_TRY(mcl_project_norm(m, "in_proj", T, mcl_model_w(m, MCL_W_IN_PROJ, l), s->h,
                             mcl_model_buf(m, MCL_W_NORM, l), c->norm_eps, s->hn, xz));
    MCL_TRY(mcl_kern_conv_prefill(m->rt, &x, mcl_model_buf(m, MCL_W_CONV_W, l), mcl_model_buf(m, MCL_W_CONV_B, l),
                                  &cs, s->seq_start, n_seqs, T, c->d_inner, c->d_conv, xc));
    MCL_TRY(mcl_project(m, "x_proj", T, mcl_model_w(m, MCL_W_X_PROJ, l), xc, false, dbc));
    const mcl_dmat *out = mcl_model_w(m, MCL_W_OUT_PROJ, l);
    mcl_scan_next next = {out->dtype, out->rows, 1.0f};
    mcl_gemm_parts yp;
    bool split = false;
    MCL_TRY(mcl_kern_scan_prefill_split(m->rt, &a, &ss, s->seq_start, n_seqs, &next, &yp, &split));
    if (split) /* the scan wrote out_proj's A parts (no gemm_split_a pass) */
        return mcl_op_matmul_parts(m->rt, "out_proj", out->parts[0], out->dtype, out->rows, out->cols, &yp, T, 1.0f,
                                   s->h);
    return mcl_project(m, "out_proj", T, out, a.y, true, s->h);
}

/* The unfused decode layer (batches above the gemv rows). With the GEMM's
 * split-K slabs handed on (ops/gemm.h mcl_op_matmul_slabs; off with
 * MAMBACL_DISABLE=slabs) two reductions ride on the next launch: in_proj's
 * on the conv step (conv_step_parts) and out_proj's on the next layer's
 * RMSNorm (rmsnorm_parts, launched by this layer for layer l + 1, which then
 * skips its own); bitwise the same values, 2 launches fewer per layer. */
static mcl_status layer_decode(mcl_model *m, int l, int B)
{
    const mcl_config *c = &m->cfg;
    mcl_scratch *s = &m->scratch;
    cl_mem xz = s->act[MCL_M1_XZ], xc = s->act[MCL_M1_XC], dbc = s->act[MCL_M1_DBC];
    mcl_kern_state cs = mcl_state_view(m, MCL_M1_CONV_STATE, l), ss = mcl_state_view(m, MCL_M1_SSM_STATE, l);
    mcl_scan_args a = scan_args(m, l);
    mcl_kern_view x = x_view(m);
    const mcl_dmat *in = mcl_model_w(m, MCL_W_IN_PROJ, l), *out = mcl_model_w(m, MCL_W_OUT_PROJ, l);
    bool handed = mcl_op_slabs_on(); /* the previous layer normed h into hn */
    if (l == 0 || !handed)
        MCL_TRY(mcl_kern_rmsnorm(m->rt, s->h, NULL, mcl_model_buf(m, MCL_W_NORM, l), c->norm_eps, s->hn, NULL, B,
                                 c->d_model));
    mcl_gemm_slabs sl;
    MCL_TRY(mcl_op_matmul_slabs(m->rt, "in_proj", in->parts[0], in->dtype, in->rows, in->cols, s->hn, B, 0.0f, xz,
                                &sl));
    if (sl.n > 0)
        MCL_TRY(mcl_kern_conv_step_parts(m->rt, sl.buf, sl.n, sl.stride, xz, 2 * c->d_inner,
                                         mcl_model_buf(m, MCL_W_CONV_W, l), mcl_model_buf(m, MCL_W_CONV_B, l), &cs,
                                         B, c->d_inner, c->d_conv, xc));
    else
        MCL_TRY(mcl_kern_conv_step(m->rt, &x, mcl_model_buf(m, MCL_W_CONV_W, l), mcl_model_buf(m, MCL_W_CONV_B, l),
                                   &cs, B, c->d_inner, c->d_conv, xc));
    MCL_TRY(mcl_project(m, "x_proj", B, mcl_model_w(m, MCL_W_X_PROJ, l), xc, false, dbc));
    MCL_TRY(mcl_kern_ssm_step(m->rt, &a, &ss, B));
    if (!handed || l == c->n_layer - 1) return mcl_project(m, "out_proj", B, out, a.y, true, s->h);
    cl_mem nw = mcl_model_buf(m, MCL_W_NORM, l + 1);
    MCL_TRY(mcl_op_matmul_slabs(m->rt, "out_proj", out->parts[0], out->dtype, out->rows, out->cols, a.y, B, 1.0f,
                                s->h, &sl));
    if (sl.n > 0)
        return mcl_kern_rmsnorm_parts(m->rt, s->h, sl.buf, sl.n, sl.stride, nw, c->norm_eps, s->hn, B, c->d_model);
    return mcl_kern_rmsnorm(m->rt, s->h, NULL, nw, c->norm_eps, s->hn, NULL, B, c->d_model);
}

/* Splits of x_proj's K for B rows: the device rule, capped by what the
 * partials buffer (hn, [cap_rows, d_model], unused by the fused step) holds. */
static int x_proj_splits(const mcl_model *m, int B)
{
    int nx = m->cfg.dt_rank + 2 * m->cfg.d_state;
    int n = mcl_kern_gemv_split_count(m->rt, nx, m->cfg.d_inner, B);
    size_t fit = (size_t)m->scratch.cap_rows * (size_t)m->cfg.d_model / ((size_t)B * (size_t)nx);
    while (n > 1 && (size_t)n > fit) n /= 2;
    return n;
}

/* One decode layer in 4 launches, 3 on CPUs (see the file comment). */
static mcl_status layer_decode_fused(mcl_model *m, int l, int B)
{
    const mcl_config *c = &m->cfg;
    mcl_scratch *s = &m->scratch;
    const mcl_dmat *in = mcl_model_w(m, MCL_W_IN_PROJ, l), *xp = mcl_model_w(m, MCL_W_X_PROJ, l);
    const mcl_dmat *out = mcl_model_w(m, MCL_W_OUT_PROJ, l);
    int nx = c->dt_rank + 2 * c->d_state, n_split = x_proj_splits(m, B);
    mcl_kern_conv cv = {mcl_model_buf(m, MCL_W_CONV_W, l), mcl_model_buf(m, MCL_W_CONV_B, l),
                        mcl_state_view(m, MCL_M1_CONV_STATE, l), c->d_conv, c->d_inner, s->act[MCL_M1_XC]};
    mcl_kern_state ss = mcl_state_view(m, MCL_M1_SSM_STATE, l);
    mcl_scan_args a = scan_args(m, l);
    uint64_t part = (uint64_t)B * (uint64_t)nx;
    if (n_split > 1) a.dbc = s->hn; /* else the one "partial" is dbc itself */
    bool cg = mcl_kern_cgemv_wanted(m->rt, B); /* CPUs: cgemv.cl's projections */
    MCL_TRY((cg ? mcl_kern_cgemv_in : mcl_kern_gemv_in)(m->rt, in->parts[0], in->dtype, s->h, s->act[MCL_M1_XZ],
                                                        in->rows, in->cols, B, mcl_model_buf(m, MCL_W_NORM, l),
                                                        c->norm_eps, &cv));
    if (mcl_kern_xstep_wanted(m->rt, c->d_inner, nx, B)) /* CPUs: x_proj + step in one launch */
        MCL_TRY(mcl_kern_xstep(m->rt, &a, xp->parts[0], xp->dtype, &ss, B));
    else {
        MCL_TRY(mcl_kern_gemv_split(m->rt, xp->parts[0], xp->dtype, a.xc, a.dbc, nx, c->d_inner, B, n_split, part));
        MCL_TRY(mcl_kern_ssm_step_parts(m->rt, &a, &ss, B, n_split, part));
    }
    return (cg ? mcl_kern_cgemv : mcl_kern_gemv)(m->rt, out->parts[0], out->dtype, a.y, s->h, out->rows, out->cols,
                                                 B, true);
}

/* Layers from l that one persistent launch may run: at most DL_LPL, all
 * in l's weight arena and state group (model.h); 1 where l has no arena. */
static int persistent_run(const mcl_model *m, int l)
{
    int a = mcl_model_arena_of(m, l), g = mcl_pool_group_of(m, l), most = mcl_kern_dlayer_lpl(m->rt), n = 1;
    if (a < 0) return 1;
    while (n < most && l + n < m->cfg.n_layer && mcl_model_arena_of(m, l + n) == a &&
           mcl_pool_group_of(m, l + n) == g)
        n++;
    return n;
}

/* Weight `id` of layer l as the persistent launch takes it: with `arena`,
 * the arena and the byte offset of l's tensor in it, else (or where l has
 * no arena) the tensor's own buffer (a sub-buffer of the arena) at 0;
 * absent: NULL. A launch of one layer binds the tensors' own buffers: on
 * the H200 (session 10, DL_LPL=1 binding the arena 10 times per launch) the
 * host took 68 us to enqueue a launch at 1.4b (480 sub-buffers of the arena)
 * and 42 at 130m (240), against 12-21 in session 9: binding a parent seems to
 * cost in proportion to its sub-buffers (inferred, not measured alone). */
static cl_mem w_at(const mcl_model *m, int id, int l, bool arena, uint64_t *off)
{
    int a = mcl_model_arena_of(m, l);
    const mcl_dmat *d = mcl_model_w(m, id, l);
    *off = 0;
    if (!d->n_parts) return NULL;
    if (a < 0 || !arena) return d->parts[0];
    *off = m->arena_off[id] + (uint64_t)(l % m->arena_per) * m->arena_stride;
    return m->arena[a];
}

/* Decode layers [l, l + n) of one sequence in one persistent launch
 * (cl/dlayer.cl; n from persistent_run); the x_proj partials go to hn as in
 * the fused chain. The launch with the last layer also enqueues the read of
 * the barriers' timeout flag (checked by the forward pass after the step;
 * chained steps, halt_on, read it once after the last: chain.c). */
static mcl_status layer_decode_persistent(mcl_model *m, int l, int n)
{
    const mcl_config *c = &m->cfg;
    mcl_scratch *s = &m->scratch;
    int nx = c->dt_rank + 2 * c->d_state;
    int cap = (int)((size_t)s->cap_rows * (size_t)c->d_model / (size_t)nx);
    mcl_kern_dlayer_args a = {
        .eps = c->norm_eps, .dt_in = mcl_model_w(m, MCL_W_IN_PROJ, l)->dtype,
        .conv = {NULL, NULL, mcl_state_view(m, MCL_M1_CONV_STATE, l), c->d_conv, c->d_inner, s->act[MCL_M1_XC]},
        .dt_x = mcl_model_w(m, MCL_W_X_PROJ, l)->dtype, .parts = s->hn,
        .n_parts = mcl_kern_dlayer_parts(m->rt, nx, c->d_inner, cap),
        .scan = scan_args(m, l), .ssm = mcl_state_view(m, MCL_M1_SSM_STATE, l),
        .dt_out = mcl_model_w(m, MCL_W_OUT_PROJ, l)->dtype, .d_model = c->d_model,
        .n_layers = n, .w_stride = m->arena_stride,
        .conv_lstride = mcl_pool_layer_stride(m, MCL_M1_CONV_STATE),
        .ssm_lstride = mcl_pool_layer_stride(m, MCL_M1_SSM_STATE),
    };
    a.h = s->h;
    a.nw = w_at(m, MCL_W_NORM, l, n > 1, &a.off[MCL_DL_W_NW]);
    a.w_in = w_at(m, MCL_W_IN_PROJ, l, n > 1, &a.off[MCL_DL_W_IN]);
    a.conv.w = w_at(m, MCL_W_CONV_W, l, n > 1, &a.off[MCL_DL_W_CW]);
    a.conv.bias = w_at(m, MCL_W_CONV_B, l, n > 1, &a.off[MCL_DL_W_CB]);
    a.w_x = w_at(m, MCL_W_X_PROJ, l, n > 1, &a.off[MCL_DL_W_X]);
    a.scan.w_dt = w_at(m, MCL_W_DT_W, l, n > 1, &a.off[MCL_DL_W_DT]);
    a.scan.b_dt = w_at(m, MCL_W_DT_B, l, n > 1, &a.off[MCL_DL_W_BDT]);
    a.scan.a = w_at(m, MCL_W_A_LOG, l, n > 1, &a.off[MCL_DL_W_A]);
    a.scan.d = w_at(m, MCL_W_D, l, n > 1, &a.off[MCL_DL_W_D]);
    a.w_out = w_at(m, MCL_W_OUT_PROJ, l, n > 1, &a.off[MCL_DL_W_OUT]);
    if (n == 1) a.w_stride = a.conv_lstride = a.ssm_lstride = 0;
    a.halt = s->halt_on ? s->pick_ctl : NULL;
    MCL_TRY(mcl_kern_dlayer(m->rt, &a));
    return l + n == c->n_layer && !s->halt_on ? mcl_kern_dlayer_flag_read(m->rt) : MCL_OK; /* chained: once, at the end */
}

static mcl_status layer_decode_any(mcl_model *m, int l, int B, int *n_run)
{
    const mcl_config *c = &m->cfg;
    bool persistent = false;
    *n_run = 1;
    if (B == 1 && mcl_kern_dlayer_wanted(m->rt, c->d_inner))
        MCL_TRY(mcl_kern_dlayer_ready(m->rt, B, c->d_model, c->d_inner, c->dt_rank + 2 * c->d_state, &persistent));
    if (persistent) {
        *n_run = persistent_run(m, l);
        return layer_decode_persistent(m, l, *n_run);
    }
    mcl_dtype dt = mcl_model_w(m, MCL_W_IN_PROJ, l)->dtype;
    return mcl_kern_decode_fused(m->rt, B, dt) ? layer_decode_fused(m, l, B) : layer_decode(m, l, B);
}

/* The persistent layer writes every state of a batch-1 step, and its
 * program with the layer loop honours a halt word. */
static mcl_status decode_haltable(mcl_model *m, int B, bool *ok)
{
    const mcl_config *c = &m->cfg;
    bool persistent = false;
    *ok = false;
    if (B != 1 || !mcl_kern_dlayer_wanted(m->rt, c->d_inner)) return MCL_OK;
    MCL_TRY(mcl_kern_dlayer_ready(m->rt, B, c->d_model, c->d_inner, c->dt_rank + 2 * c->d_state, &persistent));
    *ok = persistent && mcl_kern_dlayer_haltable(m->rt);
    return MCL_OK;
}

const mcl_arch mcl_arch_mamba1 = {
    .id = MCL_ARCH_MAMBA1,
    .name = "Mamba-1",
    .weights = {weights, MCL_W_COUNT, MCL_W_FIRST_LAYER},
    .w_embed = MCL_W_EMBED,
    .w_norm_f = MCL_W_NORM_F,
    .w_head = MCL_W_LM_HEAD,
    .states = states,
    .n_states = sizeof states / sizeof states[0],
    .acts = acts,
    .n_acts = sizeof acts / sizeof acts[0],
    .check = check,
    .prefill_layer = layer_prefill,
    .decode_layer = layer_decode_any,
    .decode_haltable = decode_haltable,
};
