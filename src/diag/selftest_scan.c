/* Selftests of the selective scan kernels: a tiny problem (2 channels,
 * N = 2, R = 1, sequences of 5 and 1 tokens) whose recurrence the host
 * evaluates step by step in double, then one launch through the launchers of
 * src/ops/kern_scan.c checked against it. */
#include "diag/selftest_scan.h"
#include "ops/kern_scan.h"

#include <math.h>
#include <string.h>

#include "base/error.h"
#include "base/half.h"
#include "tune/tune.h"

enum { DI = 2, NS = 2, RK = 1, LDB = RK + 2 * NS, T = 6, NSEQ = 2 };

/* The tiny problem: every array of the launch, host side. */
typedef struct tiny {
    float xc[T * DI], dbc[T * LDB], xz[T * 2 * DI], w[DI * RK], b_dt[DI], A[DI * NS], D[DI];
    float state[2 * DI * NS]; /* two slots; the sequences use them in reverse */
    float y[T * DI];
    int slot[NSEQ], seq_start[NSEQ + 1];
} tiny;

static void tiny_init(tiny *p)
{
    memset(p, 0, sizeof *p);
    for (int i = 0; i < T * DI; i++) p->xc[i] = 0.25f * (float)((i % 7) - 3);
    for (int i = 0; i < T * LDB; i++) p->dbc[i] = 0.125f * (float)((i * 5 % 11) - 5);
    for (int i = 0; i < T * 2 * DI; i++) p->xz[i] = 0.5f * (float)((i % 5) - 2);
    p->w[0] = 0.75f;
    p->w[1] = -0.5f;
    p->b_dt[0] = -1.0f;
    p->b_dt[1] = 0.5f;
    for (int i = 0; i < DI * NS; i++) p->A[i] = -(float)(1 + i);
    p->D[0] = 1.0f;
    p->D[1] = 0.5f;
    for (int i = 0; i < 2 * DI * NS; i++) p->state[i] = 0.1f * (float)(i + 1);
    p->slot[0] = 1;
    p->slot[1] = 0;
    p->seq_start[0] = 0;
    p->seq_start[1] = 5;
    p->seq_start[2] = 6;
}

/* The recurrence of every (sequence, channel) over rows t0..t1-1, in place. */
static void tiny_expect(tiny *p)
{
    for (int b = 0; b < NSEQ; b++) {
        for (int d = 0; d < DI; d++) {
            float *s = p->state + p->slot[b] * DI * NS + d * NS;
            double st[NS] = {s[0], s[1]};
            for (int t = p->seq_start[b]; t < p->seq_start[b + 1]; t++) {
                const float *row = p->dbc + t * LDB;
                double dt = p->b_dt[d] + (double)p->w[d] * row[0];
                double delta = dt > 20.0 ? dt : log1p(exp(dt)), x = p->xc[t * DI + d], acc = 0.0;
                for (int n = 0; n < NS; n++) {
                    st[n] = exp(delta * p->A[d * NS + n]) * st[n] + delta * row[RK + n] * x;
                    acc += row[RK + NS + n] * st[n];
                }
                double z = p->xz[t * 2 * DI + DI + d];
                p->y[t * DI + d] = (float)((acc + p->D[d] * x) * z / (1.0 + exp(-z)));
            }
            s[0] = (float)st[0];
            s[1] = (float)st[1];
        }
    }
}

static bool close_to(const float *got, const float *want, int n)
{
    for (int i = 0; i < n; i++)
        if (!(fabsf(got[i] - want[i]) <= 1e-4f + 1e-4f * fabsf(want[i]))) return false;
    return true;
}

typedef struct tiny_dev {
    cl_mem m[12]; /* xc dbc xz w b_dt A D state slot seq_start y */
} tiny_dev;

static mcl_status put(mcl_runtime *rt, const void *host, size_t bytes, cl_mem *out)
{
    MCL_TRY(mcl_buffer_create(rt, CL_MEM_READ_WRITE, bytes, "selftest", out));
    MCL_CL_CHECK(clEnqueueWriteBuffer(rt->queue, *out, CL_TRUE, 0, bytes, host, 0, NULL, NULL),
                 "clEnqueueWriteBuffer(selftest)");
    return MCL_OK;
}

static mcl_status tiny_upload(mcl_runtime *rt, const tiny *p, tiny_dev *d)
{
    const void *src[] = {p->xc, p->dbc, p->xz, p->w, p->b_dt, p->A,
                         p->D, p->state, p->slot, p->seq_start, p->y};
    size_t bytes[] = {sizeof p->xc, sizeof p->dbc, sizeof p->xz, sizeof p->w,
                      sizeof p->b_dt, sizeof p->A, sizeof p->D, sizeof p->state,
                      sizeof p->slot, sizeof p->seq_start, sizeof p->y};
    for (int i = 0; i < 11; i++) MCL_TRY(put(rt, src[i], bytes[i], &d->m[i]));
    return MCL_OK;
}

static void tiny_release(tiny_dev *d)
{
    for (int i = 0; i < 12; i++) mcl_buffer_release(&d->m[i]);
}

/* The launch arguments (the launcher in src/ops binds them). */
static mcl_scan_args tiny_args(const tiny_dev *d)
{
    mcl_scan_args a = {.xc = d->m[0], .dbc = d->m[1], .xz = d->m[2], .w_dt = d->m[3], .b_dt = d->m[4],
                       .a = d->m[5], .d = d->m[6], .y = d->m[10], .wdtype = MCL_DTYPE_F32,
                       .d_inner = DI, .dt_rank = RK, .d_state = NS, .z_off = DI, .z_ld = 2 * DI, .T = T};
    return a;
}

static mcl_status tiny_read_check(mcl_runtime *rt, tiny_dev *d, const tiny *want, int n_y, bool *ok)
{
    float y[T * DI], st[2 * DI * NS];
    MCL_CL_CHECK(clEnqueueReadBuffer(rt->queue, d->m[10], CL_TRUE, 0, sizeof y, y, 0, NULL, NULL),
                 "clEnqueueReadBuffer(selftest y)");
    MCL_CL_CHECK(clEnqueueReadBuffer(rt->queue, d->m[7], CL_TRUE, 0, sizeof st, st, 0, NULL, NULL),
                 "clEnqueueReadBuffer(selftest state)");
    *ok = close_to(y, want->y, n_y) && close_to(st, want->state, 2 * DI * NS);
    return MCL_OK;
}

/* Runs one tiny check on fresh host data and device buffers, released after. */
typedef mcl_status (*tiny_run_fn)(mcl_runtime *rt, tiny_dev *d, tiny *p, bool *ok);

static mcl_status run_tiny(mcl_runtime *rt, tiny_run_fn fn, bool *ok)
{
    tiny p;
    tiny_dev d;
    memset(&d, 0, sizeof d);
    tiny_init(&p);
    mcl_status st = fn(rt, &d, &p, ok);
    tiny_release(&d);
    return st;
}

static mcl_status run_prefill(mcl_runtime *rt, tiny_dev *d, tiny *p, bool *ok)
{
    MCL_TRY(tiny_upload(rt, p, d));
    mcl_scan_args a = tiny_args(d);
    mcl_kern_state ks = {d->m[7], 0, d->m[8], DI * NS};
    MCL_TRY(mcl_kern_scan_prefill(rt, &a, &ks, d->m[9], NSEQ));
    tiny_expect(p);
    return tiny_read_check(rt, d, p, T * DI, ok);
}

mcl_status mcl_selftest_scan_prefill(mcl_runtime *rt, bool *ok) { return run_tiny(rt, run_prefill, ok); }

/* The tunables of the dt selftests' program (SCAN_DTIN 1, SCAN_PREF 1,
 * SCAN_YSPLIT 1: its scan is scan_prefill_split, which scan_prefill_split's
 * own selftest launches with parts: one program for the three). */
static mcl_status dt_params(const mcl_runtime *rt, mcl_params *prm)
{
    const mcl_tune_config *c;
    mcl_shape sh = {{[MCL_SHAPE_D_INNER] = DI, [MCL_SHAPE_BATCH] = NSEQ}};
    MCL_TRY(mcl_runtime_pick(rt, MCL_FAM_SCAN, &sh, &c));
    *prm = c->params;
    mcl_params_set(prm, MCL_T_SCAN_DTIN, 1);
    mcl_params_set(prm, MCL_T_SCAN_PREF, 1);
    mcl_params_set(prm, MCL_T_SCAN_YSPLIT, 1);
    if (mcl_params_get(prm, MCL_T_SCAN_DTV, 4) > 8) mcl_params_set(prm, MCL_T_SCAN_DTV, 8); /* both pre-pass kernels */
    return MCL_OK;
}

/* The tiny problem through a variant of the picked configuration with
 * tunable `name` = v (name NULL: dt_params' program) and `name2` = v2 when
 * given, built through the binary cache, launched by
 * mcl_kern_scan_prefill_with with those tunables and SCAN_DTIN =
 * dtin_launch when that is > 0 (another pre-pass kernel of the same
 * program: no second build). */
static mcl_status run_variant_as(mcl_runtime *rt, tiny_dev *d, tiny *p, const char *name, long v, const char *name2,
                                 long v2, long dtin_launch, bool *ok)
{
    const mcl_tune_config *c;
    mcl_shape sh = {{[MCL_SHAPE_D_INNER] = DI, [MCL_SHAPE_BATCH] = NSEQ}};
    MCL_TRY(mcl_runtime_pick(rt, MCL_FAM_SCAN, &sh, &c));
    mcl_params prm = c->params;
    if (name == NULL) MCL_TRY(dt_params(rt, &prm)); /* the dt selftests' program */
    else mcl_params_set(&prm, name, v);
    if (name2) mcl_params_set(&prm, name2, v2);
    mcl_program prog;
    memset(&prog, 0, sizeof prog);
    MCL_TRY(mcl_runtime_build_program(rt, MCL_F_SCAN, &prm, &prog));
    cl_int err;
    cl_kernel k = clCreateKernel(prog.program, "scan_prefill", &err);
    mcl_status st = err == CL_SUCCESS ? tiny_upload(rt, p, d) : mcl_error_cl(err, "clCreateKernel(scan_prefill)");
    if (st == MCL_OK) {
        mcl_scan_args a = tiny_args(d);
        mcl_kern_state ks = {d->m[7], 0, d->m[8], DI * NS};
        if (dtin_launch > 0) mcl_params_set(&prm, MCL_T_SCAN_DTIN, dtin_launch);
        st = mcl_kern_scan_prefill_with(rt, k, &prm, &a, &ks, d->m[9], NSEQ);
    }
    if (st == MCL_OK) st = mcl_runtime_finish(rt);
    if (err == CL_SUCCESS) clReleaseKernel(k);
    mcl_program_release(&prog);
    MCL_TRY(st);
    tiny_expect(p);
    return tiny_read_check(rt, d, p, T * DI, ok);
}

static mcl_status run_variant(mcl_runtime *rt, tiny_dev *d, tiny *p, const char *name, long v, const char *name2,
                              long v2, bool *ok)
{
    return run_variant_as(rt, d, p, name, v, name2, v2, 0, ok);
}

/* scan_summary, then scan_prefill from the state it copied (SCAN_NSEG 2). */
static mcl_status run_split(mcl_runtime *rt, tiny_dev *d, tiny *p, bool *ok)
{
    return run_variant(rt, d, p, MCL_T_SCAN_NSEG, 2, NULL, 0, ok);
}

mcl_status mcl_selftest_scan_summary(mcl_runtime *rt, bool *ok) { return run_tiny(rt, run_split, ok); }

/* scan_dt and scan_dt2 on dt_params' program (its SCAN_DTIN 1 build has
 * scan_dt2 too, and the scan reads Δ the same way for 1 and 3; its scan,
 * scan_prefill_split, writes fp32 y here). */
static mcl_status run_dt(mcl_runtime *rt, tiny_dev *d, tiny *p, bool *ok)
{
    return run_variant_as(rt, d, p, NULL, 0, NULL, 0, 0, ok);
}

static mcl_status run_dt2(mcl_runtime *rt, tiny_dev *d, tiny *p, bool *ok)
{
    return run_variant_as(rt, d, p, NULL, 0, NULL, 0, 3, ok);
}

static mcl_status run_dt_gather(mcl_runtime *rt, tiny_dev *d, tiny *p, bool *ok)
{
    return run_variant(rt, d, p, MCL_T_SCAN_DTIN, 2, MCL_T_SCAN_PREF, 1, ok);
}

mcl_status mcl_selftest_scan_dt(mcl_runtime *rt, bool *ok) { return run_tiny(rt, run_dt, ok); }

mcl_status mcl_selftest_scan_dt2(mcl_runtime *rt, bool *ok) { return run_tiny(rt, run_dt2, ok); }

mcl_status mcl_selftest_scan_dt_gather(mcl_runtime *rt, bool *ok) { return run_tiny(rt, run_dt_gather, ok); }

static mcl_status read_parts(mcl_runtime *rt, cl_mem hi, cl_mem lo, void *h, void *l, size_t bytes)
{
    MCL_CL_CHECK(clEnqueueReadBuffer(rt->queue, hi, CL_TRUE, 0, bytes, h, 0, NULL, NULL),
                 "clEnqueueReadBuffer(selftest hi)");
    MCL_CL_CHECK(clEnqueueReadBuffer(rt->queue, lo, CL_TRUE, 0, bytes, l, 0, NULL, NULL),
                 "clEnqueueReadBuffer(selftest lo)");
    return MCL_OK;
}

/* The tiny problem through kernel k's program (tunables prm, SCAN_YSPLIT 1)
 * with y as F16 hi/lo parts [T, 8] (split 2), read back into h and l. */
static mcl_status split_launch(mcl_runtime *rt, tiny_dev *d, const tiny *p, cl_kernel k, const mcl_params *prm,
                               void *h, void *l, size_t bytes)
{
    MCL_TRY(tiny_upload(rt, p, d));
    MCL_TRY(put(rt, h, bytes, &d->m[11]));
    cl_mem lo;
    MCL_TRY(put(rt, l, bytes, &lo));
    mcl_gemm_parts yp = {d->m[11], lo, (int)(bytes / 2 / T), 2, MCL_DTYPE_F16};
    mcl_scan_args a = tiny_args(d);
    mcl_kern_state ks = {d->m[7], 0, d->m[8], DI * NS};
    mcl_status st = mcl_kern_scan_prefill_parts_with(rt, k, prm, &a, &ks, d->m[9], NSEQ, &yp);
    if (st == MCL_OK) st = read_parts(rt, d->m[11], lo, h, l, bytes);
    mcl_buffer_release(&lo);
    return st;
}

/* scan_prefill_split of dt_params' program (built through the binary cache;
 * the dt selftests' build): y as F16 hi/lo parts [T, 8] (split 2), hi + lo
 * against the host's y, zeros in the padding. */
static mcl_status run_prefill_split(mcl_runtime *rt, tiny_dev *d, tiny *p, bool *ok)
{
    enum { LDA = 8 };
    uint16_t parts[2][T * LDA];
    mcl_params prm;
    memset(parts, 0xab, sizeof parts);
    MCL_TRY(dt_params(rt, &prm));
    mcl_program prog;
    memset(&prog, 0, sizeof prog);
    MCL_TRY(mcl_runtime_build_program(rt, MCL_F_SCAN, &prm, &prog));
    cl_int err;
    cl_kernel k = clCreateKernel(prog.program, "scan_prefill", &err);
    mcl_status st = err == CL_SUCCESS ? split_launch(rt, d, p, k, &prm, parts[0], parts[1], sizeof parts[0])
                                      : mcl_error_cl(err, "clCreateKernel(scan_prefill)");
    if (err == CL_SUCCESS) clReleaseKernel(k);
    mcl_program_release(&prog);
    MCL_TRY(st);
    tiny_expect(p);
    float y[T * DI];
    bool pad = true;
    for (int t = 0; t < T; t++)
        for (int k8 = 0; k8 < LDA; k8++) {
            float v = mcl_half_to_float(parts[0][t * LDA + k8]) + mcl_half_to_float(parts[1][t * LDA + k8]);
            if (k8 < DI) y[t * DI + k8] = v;
            else pad = pad && parts[0][t * LDA + k8] == 0 && parts[1][t * LDA + k8] == 0;
        }
    *ok = pad && close_to(y, p->y, T * DI);
    return MCL_OK;
}

mcl_status mcl_selftest_scan_prefill_split(mcl_runtime *rt, bool *ok) { return run_tiny(rt, run_prefill_split, ok); }

static mcl_status run_step(mcl_runtime *rt, tiny_dev *d, tiny *p, bool *ok)
{
    p->seq_start[1] = 1; /* one token per sequence: rows 0 and 1 */
    p->seq_start[2] = 2;
    MCL_TRY(tiny_upload(rt, p, d));
    mcl_scan_args a = tiny_args(d);
    mcl_kern_state ks = {d->m[7], 0, d->m[8], DI * NS};
    MCL_TRY(mcl_kern_ssm_step(rt, &a, &ks, NSEQ));
    tiny_expect(p);
    return tiny_read_check(rt, d, p, NSEQ * DI, ok);
}

mcl_status mcl_selftest_ssm_step(mcl_runtime *rt, bool *ok) { return run_tiny(rt, run_step, ok); }

/* The same step through ssm_step_tile of the picked configuration, whatever
 * its batch threshold (sb: both sequences where STEP_TSQ*STEP_TJ allows). */
static mcl_status run_step_tile(mcl_runtime *rt, tiny_dev *d, tiny *p, bool *ok)
{
    cl_kernel k;
    const mcl_params *prm;
    mcl_shape sh = {{[MCL_SHAPE_D_INNER] = DI, [MCL_SHAPE_BATCH] = NSEQ}};
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_STEP, &sh, "ssm_step_tile", &k, &prm));
    long most = mcl_params_get(prm, MCL_T_STEP_TSQ, 1) * mcl_params_get(prm, MCL_T_STEP_TJ, 1);
    p->seq_start[1] = 1; /* one token per sequence: rows 0 and 1 */
    p->seq_start[2] = 2;
    MCL_TRY(tiny_upload(rt, p, d));
    mcl_scan_args a = tiny_args(d);
    mcl_kern_state ks = {d->m[7], 0, d->m[8], DI * NS};
    MCL_TRY(mcl_kern_ssm_step_tile_run(rt, k, prm, &a, &ks, NSEQ, 1, 0, most < NSEQ ? 1 : NSEQ, "ssm_step_tile"));
    tiny_expect(p);
    return tiny_read_check(rt, d, p, NSEQ * DI, ok);
}

mcl_status mcl_selftest_ssm_step_tile(mcl_runtime *rt, bool *ok) { return run_tiny(rt, run_step_tile, ok); }
