/* The persistent decode layer: probe, launcher, timeout flag (kern_dlayer.h). */
#include "ops/kern_dlayer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "base/error.h"

#define DL_ARGS 56 /* dlayer's arguments; the last is the staging buffer */
#define DL_PROBE_ROUNDS 8
#define DL_BAR_CORE_BYTES 2048 /* cl/dlayer.cl: the barrier words, 128 bytes apart, the timeout flag among them */
#define DL_BAR_BYTES (DL_BAR_CORE_BYTES + 4 * 4096) /* then DL_BAR 4's word per group (DL_BAR_FLAGS, DL_BAR_MAXG) */
#define DL_BAR_FLAG_OFF (320 * 4)

/* Polls of a barrier before it gives up: a launch's groups all start within
 * microseconds on a GPU, so the probe waits little; a real step may wait for
 * a slow phase, and a CPU thread may be descheduled, so they wait longer. */
static cl_uint spin_max(const mcl_runtime *rt, bool probe)
{
    bool cpu = rt->dev.type == MCL_DEVICE_TYPE_CPU;
    uint64_t v = 0;
    bool set = false; /* tests: MAMBACL_TEST_DLAYER_SPIN polls (a timeout test needs it short) */
    if (mcl_env_uint("MAMBACL_TEST_DLAYER_SPIN", 1, UINT32_MAX, &v, &set) == MCL_OK && set) return (cl_uint)v;
    mcl_error_clear();
    if (probe) return cpu ? 1u << 22 : 1u << 16;
    return cpu ? 1u << 26 : 1u << 22;
}

/* Tests: MAMBACL_TEST_DLAYER_PHANTOM=n makes every barrier of a layer wait
 * for n groups that do not exist. */
static cl_int phantom_groups(void)
{
    uint64_t v = 0;
    bool set = false;
    if (mcl_env_uint("MAMBACL_TEST_DLAYER_PHANTOM", 0, 64, &v, &set) != MCL_OK) mcl_error_clear();
    return set ? (cl_int)v : 0;
}

/* The staging buffer: the widest vector, in whole float4s (the kernel reads
 * phases A and D's x as float4 planes). */
static size_t stage_bytes(int d_model, int d_inner, int nx)
{
    int n = d_model > d_inner ? d_model : d_inner;
    n = n > nx ? n : nx;
    return 16 * (((size_t)n + 3) / 4);
}

/* Sets the kernel's arguments from a (NULL: the probe, every buffer argument
 * `dummy`, sizes 0, one layer). */
static mcl_status bind_layer(const mcl_runtime *rt, cl_kernel k, const mcl_kern_dlayer_args *a, cl_mem dummy,
                             cl_int probe, cl_mem probe_buf, size_t local_bytes)
{
    const mcl_kern_dlayer_args z = {0};
    const mcl_kern_dlayer_args *p = a ? a : &z;
    const mcl_scan_args *s = &p->scan;
    const uint64_t *o = p->off;
#define BUF(v) ((v) ? (v) : dummy)
    cl_mem h = BUF(p->h), nw = BUF(p->nw), w_in = BUF(p->w_in), cw = BUF(p->conv.w), cb = BUF(p->conv.bias);
    cl_mem cst = BUF(p->conv.st.buf), slot = BUF(p->conv.st.slot), xz = BUF(s->xz), xc = BUF(p->conv.xc);
    cl_mem w_x = BUF(p->w_x), parts = BUF(p->parts), w_dt = BUF(s->w_dt), b_dt = BUF(s->b_dt), A = BUF(s->a);
    cl_mem D = BUF(s->d), sst = BUF(p->ssm.buf), y = BUF(s->y), w_out = BUF(p->w_out), bar = BUF(rt->dlayer.bar);
    cl_mem pbuf = BUF(probe_buf), halt = BUF(p->halt);
#undef BUF
    cl_int dt_in = p->dt_in, dt_x = p->dt_x, dt_dt = s->wdtype, dt_out = p->dt_out, has_bias = p->conv.bias != NULL;
    cl_int K = a ? p->conv.K : 2, P = a ? p->n_parts : 1, dm = p->d_model, di = s->d_inner, R = s->dt_rank;
    cl_int N = s->d_state, nl = p->n_layers > 1 ? p->n_layers : 1;
    cl_ulong conv_off = p->conv.st.off, conv_stride = p->conv.st.stride, ssm_off = p->ssm.off;
    cl_ulong ssm_stride = p->ssm.stride, ws = p->w_stride, cls = p->conv_lstride, sls = p->ssm_lstride;
    cl_ulong off[MCL_DL_W_COUNT];
    for (int w = 0; w < MCL_DL_W_COUNT; w++) off[w] = o[w];
    cl_float eps = p->eps;
    cl_uint spin = spin_max(rt, probe != 0);
    cl_int phantom = probe ? 0 : phantom_groups(), has_halt = p->halt != NULL;
    cl_uint i = 0;
#define A_(v)                 \
    do {                      \
        cl_uint ai_ = i++;    \
        MCL_ARG(k, ai_, v);   \
    } while (0)
    A_(h); A_(nw); A_(off[MCL_DL_W_NW]); A_(eps); A_(w_in); A_(off[MCL_DL_W_IN]); A_(dt_in);
    A_(cw); A_(off[MCL_DL_W_CW]); A_(cb); A_(off[MCL_DL_W_CB]); A_(has_bias);
    A_(cst); A_(conv_off); A_(slot); A_(conv_stride); A_(K); A_(xz); A_(xc);
    A_(w_x); A_(off[MCL_DL_W_X]); A_(dt_x); A_(parts); A_(P);
    A_(w_dt); A_(off[MCL_DL_W_DT]); A_(dt_dt); A_(b_dt); A_(off[MCL_DL_W_BDT]); A_(A); A_(off[MCL_DL_W_A]);
    A_(D); A_(off[MCL_DL_W_D]); A_(sst); A_(ssm_off); A_(ssm_stride); A_(y);
    A_(w_out); A_(off[MCL_DL_W_OUT]); A_(dt_out); A_(dm); A_(di); A_(R); A_(N);
    A_(nl); A_(ws); A_(cls); A_(sls); A_(bar); A_(spin); A_(probe); A_(pbuf); A_(phantom);
    A_(halt); A_(has_halt);
#undef A_
    MCL_ASSERT(nl == 1 || mcl_kern_dlayer_lpl(rt) > 1, "dlayer: several layers asked of a program without the layer loop");
    MCL_ASSERT(!has_halt || mcl_kern_dlayer_haltable(rt), "dlayer: a halt word given to a program without the layer loop");
    MCL_ASSERT(i == DL_ARGS - 1, "dlayer: every argument before the staging buffer bound");
    MCL_CL_CHECK(clSetKernelArg(k, DL_ARGS - 1, local_bytes, NULL), "clSetKernelArg(dlayer, staging %zu bytes)",
                 local_bytes);
    return MCL_OK;
}

/* Zeroes buf by a write from zeroed host memory (Oclgrind 21.10's
 * uninitialized-value plugin does not count clEnqueueFillBuffer's bytes as
 * written). */
static mcl_status zero_buffer(mcl_runtime *rt, cl_mem buf, size_t bytes, const char *what)
{
    void *zeros = calloc(1, bytes);
    if (!zeros) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory zeroing %s", what);
    cl_int err = clEnqueueWriteBuffer(rt->queue, buf, CL_TRUE, 0, bytes, zeros, 0, NULL, NULL);
    free(zeros);
    if (err != CL_SUCCESS) return mcl_error_cl(err, "clEnqueueWriteBuffer(%s, zeros)", what);
    return MCL_OK;
}

/* The barrier words, created zeroed on first use. */
static mcl_status bar_create(mcl_runtime *rt)
{
    if (rt->dlayer.bar) return MCL_OK;
    MCL_TRY(mcl_buffer_create(rt, CL_MEM_READ_WRITE, DL_BAR_BYTES, "dlayer barrier", &rt->dlayer.bar));
    return zero_buffer(rt, rt->dlayer.bar, DL_BAR_BYTES, "dlayer barrier");
}

/* Runs the probe on `groups` groups of wg; *ok when every exchanged value
 * came back right and no barrier timed out (else `why` says which). */
static mcl_status probe_grid(mcl_runtime *rt, cl_kernel k, size_t wg, int groups, size_t local_bytes, bool *ok,
                             char *why, size_t cap)
{
    size_t n = (size_t)groups * wg + 1;
    cl_mem buf = NULL;
    MCL_TRY(mcl_buffer_create(rt, CL_MEM_READ_WRITE, n * 4, "dlayer probe", &buf));
    cl_int wrong = -1;
    cl_uint bar[DL_BAR_CORE_BYTES / 4] = {0};
    size_t global = (size_t)groups * wg;
    mcl_status st = zero_buffer(rt, buf, n * 4, "dlayer probe");
    if (st == MCL_OK) st = zero_buffer(rt, rt->dlayer.bar, DL_BAR_BYTES, "dlayer barrier"); /* DL_BAR 4's words too */
    cl_int rounds = DL_PROBE_ROUNDS | (mcl_env_lists("MAMBACL_TEST_PROBE_WRONG", "persistent") ? 1 << 16 : 0);
    if (st == MCL_OK) st = bind_layer(rt, k, NULL, buf, rounds, buf, local_bytes);
    if (st == MCL_OK) st = mcl_launch(rt, k, "dlayer_probe", 1, &global, &wg);
    if (st == MCL_OK) {
        cl_int e1 = clEnqueueReadBuffer(rt->queue, buf, CL_TRUE, (n - 1) * 4, 4, &wrong, 0, NULL, NULL);
        cl_int e2 = clEnqueueReadBuffer(rt->queue, rt->dlayer.bar, CL_TRUE, 0, sizeof bar, bar, 0, NULL, NULL);
        if (e1 != CL_SUCCESS || e2 != CL_SUCCESS) st = mcl_error_cl(e1 ? e1 : e2, "clEnqueueReadBuffer(dlayer probe)");
    }
    mcl_buffer_release(&buf);
    if (st != MCL_OK) {
        snprintf(why, cap, "probe of %d groups failed: %s", groups, mcl_last_error());
        mcl_error_clear();
        *ok = false;
        return MCL_OK;
    }
    *ok = wrong == 0 && bar[DL_BAR_FLAG_OFF / 4] == 0;
    if (!*ok)
        snprintf(why, cap, "%d groups of %zu not co-resident (%d wrong values, barrier %s)", groups, wg, wrong,
                 bar[DL_BAR_FLAG_OFF / 4] ? "timed out" : "kept time");
    return zero_buffer(rt, rt->dlayer.bar, DL_BAR_BYTES, "dlayer barrier");
}

static void set_off(mcl_runtime *rt, const char *why)
{
    rt->dlayer.state = -1;
    snprintf(rt->dlayer.reason, sizeof rt->dlayer.reason, "%s", why);
}

/* The probe: DL_GPC groups per compute unit first, halving down to 1 (one
 * group in all on CPUs and under test limits). */
static mcl_status probe(mcl_runtime *rt, size_t local_bytes)
{
    const mcl_params *p = mcl_runtime_params(rt, MCL_F_DLAYER);
    cl_kernel k;
    if (!p || mcl_runtime_kernel(rt, "dlayer", &k) != MCL_OK) {
        mcl_error_clear();
        set_off(rt, "dlayer.cl not compiled");
        return MCL_OK;
    }
    size_t wg = (size_t)mcl_params_get(p, MCL_T_DL_WG, 0);
    /* CPUs: one group, which needs no device-wide barrier. PoCL does not run
     * the groups of a launch at once reliably: a probe of 2 groups on 2 cores
     * failed in most runs on an idle machine (the second group started after
     * the first had timed out), and one that passed proves nothing for a
     * later launch on a loaded machine. The same under test limits: a CPU
     * told to follow the GPU rules (MAMBACL_TEST_DEVICE_TYPE=gpu) is still a
     * CPU (test_leak's decodes timed out under load with 8 groups). */
    bool one = rt->dev.type == MCL_DEVICE_TYPE_CPU || rt->test_limits || !rt->dev.compute_units;
    int cu = one ? 1 : (int)rt->dev.compute_units;
    MCL_ASSERT(wg > 0, "dlayer: no DL_WG");
    MCL_TRY(bar_create(rt));
    char why[160] = "";
    for (long gpc = one ? 1 : mcl_params_get(p, MCL_T_DL_GPC, 1); gpc >= 1; gpc /= 2) {
        bool ok = false;
        MCL_TRY(probe_grid(rt, k, wg, cu * (int)gpc, local_bytes, &ok, why, sizeof why));
        if (ok) {
            rt->dlayer.state = 1;
            rt->dlayer.groups = cu * (int)gpc;
            rt->dlayer.reason[0] = '\0';
            return MCL_OK;
        }
    }
    set_off(rt, why);
    return MCL_OK;
}

mcl_status mcl_kern_dlayer_ready(mcl_runtime *rt, int B, int d_model, int d_inner, int nx, bool *ready)
{
    *ready = false;
    if (B != 1 || rt->dlayer.state < 0) return MCL_OK;
    if (mcl_env_lists("MAMBACL_DISABLE", "persistent")) return MCL_OK;
    const mcl_params *p = mcl_runtime_params(rt, MCL_F_DLAYER);
    if (!p) return MCL_OK;
    size_t local = stage_bytes(d_model, d_inner, nx);
    if (local + 4 * (size_t)mcl_params_get(p, MCL_T_DL_WG, 0) > rt->dev.local_mem_bytes) return MCL_OK;
    if (rt->dlayer.state == 0) MCL_TRY(probe(rt, local));
    *ready = rt->dlayer.state == 1;
    return MCL_OK;
}

bool mcl_kern_dlayer_wanted(const mcl_runtime *rt, int d_inner)
{
    const mcl_params *p = mcl_runtime_params(rt, MCL_F_DLAYER);
    return p && d_inner <= mcl_params_get(p, MCL_T_DL_MAX_DINNER, 0);
}

int mcl_kern_dlayer_lpl(const mcl_runtime *rt)
{
    const mcl_params *p = mcl_runtime_params(rt, MCL_F_DLAYER);
    if (!p || mcl_params_get(p, MCL_T_DL_MULTI, 0) == 0) return 1; /* the layer loop is not compiled */
    long n = mcl_params_get(p, MCL_T_DL_LPL, 1);
    return n < 1 ? 1 : (int)n;
}

bool mcl_kern_dlayer_haltable(const mcl_runtime *rt)
{
    const mcl_params *p = mcl_runtime_params(rt, MCL_F_DLAYER);
    return p && mcl_params_get(p, MCL_T_DL_MULTI, 0) != 0;
}

int mcl_kern_dlayer_parts(const mcl_runtime *rt, int nx, int d_inner, int cap)
{
    const mcl_params *p = mcl_runtime_params(rt, MCL_F_DLAYER);
    if (!p || nx <= 0 || rt->dlayer.groups <= 0) return 1;
    long wg = mcl_params_get(p, MCL_T_DL_WG, 1), lpr = mcl_params_get(p, MCL_T_DL_LPR, 1);
    long teams = (long)rt->dlayer.groups * (wg / lpr);
    long n = teams / nx, most = (d_inner / 8) / (2 * lpr);
    if (n > most) n = most;
    if (n > cap) n = cap;
    return n < 1 ? 1 : (int)n;
}

mcl_status mcl_kern_dlayer_with(mcl_runtime *rt, const mcl_kern_dlayer_args *a, int groups)
{
    const mcl_scan_args *s = &a->scan;
    int nx = s->dt_rank + 2 * s->d_state;
    MCL_ASSERT(groups == 1 || (rt->dlayer.state == 1 && groups == rt->dlayer.groups),
               "dlayer launched on a grid its probe did not pass");
    if (a->d_model <= 0 || s->d_inner <= 0 || nx <= 0 || a->n_parts < 1 || a->conv.K < 2 ||
        a->conv.n_conv != s->d_inner || s->z_off != (uint64_t)s->d_inner || s->xz == NULL)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "dlayer: d_model %d, d_inner %d, R+2N %d, %d parts, conv %d x %d",
                             a->d_model, s->d_inner, nx, a->n_parts, a->conv.n_conv, a->conv.K);
    bool off_ok = a->w_stride % 16 == 0 && a->n_layers >= 0;
    for (int w = 0; w < MCL_DL_W_COUNT; w++) off_ok = off_ok && a->off[w] % 16 == 0;
    if (!off_ok)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "dlayer: %d layers, weight offsets or layer stride (%llu bytes) "
                             "not multiples of 16", a->n_layers, (unsigned long long)a->w_stride);
    const mcl_params *p = mcl_runtime_params(rt, MCL_F_DLAYER);
    MCL_ASSERT(p, "dlayer.cl was not compiled");
    size_t local = stage_bytes(a->d_model, s->d_inner, nx);
    if (local + 4 * (size_t)mcl_params_get(p, MCL_T_DL_WG, 0) > rt->dev.local_mem_bytes)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "dlayer: %zu bytes of staging do not fit the local memory", local);
    cl_kernel k;
    MCL_TRY(mcl_runtime_kernel(rt, "dlayer", &k));
    MCL_TRY(bar_create(rt));
    size_t wg = (size_t)mcl_params_get(p, MCL_T_DL_WG, 0), global = (size_t)groups * wg;
    MCL_TRY(bind_layer(rt, k, a, rt->dlayer.bar, 0, rt->dlayer.bar, local));
    return mcl_launch(rt, k, "dlayer", 1, &global, &wg);
}

mcl_status mcl_kern_dlayer(mcl_runtime *rt, const mcl_kern_dlayer_args *a)
{
    MCL_ASSERT(rt->dlayer.state == 1, "dlayer launched without a passing probe");
    return mcl_kern_dlayer_with(rt, a, rt->dlayer.groups);
}

mcl_status mcl_kern_dlayer_flag_read(mcl_runtime *rt)
{
    MCL_ASSERT(rt->dlayer.bar, "dlayer flag read before the probe");
    MCL_CL_CHECK(clEnqueueReadBuffer(rt->queue, rt->dlayer.bar, CL_FALSE, DL_BAR_FLAG_OFF, 4, &rt->dlayer.flag, 0, NULL, NULL),
                 "clEnqueueReadBuffer(dlayer barrier flag)");
    return MCL_OK;
}

mcl_status mcl_kern_dlayer_flag_check(mcl_runtime *rt)
{
    if (!rt->dlayer.flag) return MCL_OK;
    rt->dlayer.flag = 0;
    int groups = rt->dlayer.groups;
    set_off(rt, "a device-wide barrier timed out during decode");
    MCL_TRY(zero_buffer(rt, rt->dlayer.bar, DL_BAR_BYTES, "dlayer barrier"));
    MCL_TRY(mcl_runtime_finish(rt));
    return mcl_error_set(MCL_ERR_INTERNAL,
                         "persistent decode layer: a device-wide barrier timed out (%d work-groups were not all "
                         "running at once); the path is now off, this step's logits and the sequence's state are "
                         "wrong (MAMBACL_DISABLE=persistent avoids the path)",
                         groups);
}

mcl_status mcl_kern_dlayer_bar_loop(mcl_runtime *rt, int groups, int n_barriers)
{
    const mcl_params *p = mcl_runtime_params(rt, MCL_F_DLAYER);
    MCL_ASSERT(p, "dlayer.cl was not compiled");
    if (groups < 1 || n_barriers < 0 || n_barriers > 0xffff)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "dlayer barrier loop: %d groups, %d barriers", groups, n_barriers);
    cl_kernel k;
    MCL_TRY(mcl_runtime_kernel(rt, "dlayer", &k));
    MCL_TRY(bar_create(rt));
    size_t wg = (size_t)mcl_params_get(p, MCL_T_DL_WG, 0), global = (size_t)groups * wg;
    MCL_TRY(bind_layer(rt, k, NULL, rt->dlayer.bar, (1 << 17) | n_barriers, rt->dlayer.bar, 4 * wg));
    return mcl_launch(rt, k, "dlayer_bar", 1, &global, &wg);
}

mcl_status mcl_kern_dlayer_bar_reset(mcl_runtime *rt, bool *timed_out)
{
    MCL_TRY(bar_create(rt));
    cl_uint flag = 0;
    MCL_CL_CHECK(clEnqueueReadBuffer(rt->queue, rt->dlayer.bar, CL_TRUE, DL_BAR_FLAG_OFF, 4, &flag, 0, NULL, NULL),
                 "clEnqueueReadBuffer(dlayer barrier flag)");
    *timed_out = flag != 0;
    return zero_buffer(rt, rt->dlayer.bar, DL_BAR_BYTES, "dlayer barrier");
}
