/* bar_timing: what a device-wide barrier of the persistent decode layer
 * (cl/dlayer.cl) costs, and what a launch of that kernel costs by itself.
 *
 * usage: bar_timing [--groups G,G,...] [--n N,N,...] [--launches M] [--device SEL]
 * For each grid of G work-groups (default: 1, 2 and 4 per compute unit) and
 * each count N of barriers (default 0,1,3,16,64), runs dlayer.cl in its
 * barrier-only mode (mcl_kern_dlayer_bar_loop: N barriers in a row and
 * nothing else) M times back to back (default 200, after one warm-up),
 * and prints per launch: the wall clock (enqueue of M launches to the end of
 * clFinish, divided by M), the kernel time by profiling events (mean), and
 * whether any barrier timed out (the grid was not co-resident: its larger
 * counts are then skipped, each of their barriers would wait spin_max polls).
 * The cost of
 * one barrier is the slope between N = 0 and the largest N; N = 0 is the
 * launch of this kernel (its registers, its grid) doing nothing. The barrier
 * variant is DL_BAR, chosen through MAMBACL_TUNE_SET=DL_BAR=k (cl/dlayer.cl).
 *
 * usage: bar_timing --layer DM,DI,R,N [--copies C] [--launches M] [--device SEL]
 * times the whole layer instead (session 9, dl9): C copies of one layer of
 * those widths (F16 weights, random; default 8 copies, so that a launch finds
 * its weights outside the L2 as in a real step), probed as the model would
 * (mcl_kern_dlayer_ready), then M launches cycling over the copies; prints
 * the kernel time per layer (profiled events, mean) and the wall clock per
 * launch. The configuration comes from MAMBACL_TUNE_SET (DL_SKIP masks:
 * which phase costs what). Built by meson, not run as a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/half.h"
#include "ops/kern_dlayer.h"
#include "runtime/runtime.h"
#include "tune/tune.h"

#define MAX_LIST 16

/* Parses "a,b,c" into out (at most MAX_LIST positive or zero integers). */
static int parse_list(const char *s, int *out)
{
    int n = 0;
    for (const char *p = s; *p && n < MAX_LIST;) {
        char *end = NULL;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > 1 << 20) return -1;
        out[n++] = (int)v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return n;
}

/* M launches of n barriers on g groups: wall and kernel microseconds per
 * launch, and whether a barrier timed out. */
static mcl_status time_grid(mcl_runtime *rt, int g, int n, int m, double *wall_us, double *kern_us, bool *to)
{
    bool warm_to = false;
    MCL_TRY(mcl_kern_dlayer_bar_loop(rt, g, n));
    MCL_TRY(mcl_runtime_finish(rt));
    MCL_TRY(mcl_kern_dlayer_bar_reset(rt, &warm_to));
    const char *names[4];
    double ms[4];
    mcl_runtime_profile_take(rt, names, ms, 4);
    if (warm_to) { /* not co-resident: do not time m launches that each time out */
        *wall_us = *kern_us = 0.0;
        *to = true;
        return MCL_OK;
    }
    double t0 = mcl_now_ms();
    for (int i = 0; i < m; i++) MCL_TRY(mcl_kern_dlayer_bar_loop(rt, g, n));
    MCL_TRY(mcl_runtime_finish(rt));
    *wall_us = (mcl_now_ms() - t0) * 1000.0 / m;
    int k = mcl_runtime_profile_take(rt, names, ms, 4);
    *kern_us = k > 0 ? ms[0] * 1000.0 / m : 0.0;
    MCL_TRY(mcl_kern_dlayer_bar_reset(rt, to));
    *to = *to || warm_to;
    return MCL_OK;
}

static mcl_status run(mcl_runtime *rt, const int *gs, int ng, const int *ns, int n_ns, int m)
{
    const mcl_params *p = mcl_runtime_params(rt, MCL_F_DLAYER);
    if (!p) return mcl_error_set(MCL_ERR_UNSUPPORTED, "dlayer.cl is not compiled on this device");
    printf("dlayer barrier: DL_BAR %ld, DL_WG %ld, %d compute units, ptx %s\n", mcl_params_get(p, MCL_T_DL_BAR, 0),
           mcl_params_get(p, MCL_T_DL_WG, 0), (int)rt->dev.compute_units,
           mcl_caps_on(&rt->caps, MCL_CAP_PTX) ? "on" : "off");
    for (int i = 0; i < ng; i++) {
        double k0 = 0.0, kl = 0.0, w0 = 0.0, wl = 0.0;
        int nn = n_ns;
        for (int j = 0; j < nn; j++) {
            double w = 0.0, k = 0.0;
            bool to = false;
            MCL_TRY(time_grid(rt, gs[i], ns[j], m, &w, &k, &to));
            printf("groups %4d  barriers %4d  wall %8.2f us  kernel %8.2f us%s\n", gs[i], ns[j], w, k,
                   to ? "  TIMED OUT (not co-resident: the grid's larger counts skipped)" : "");
            if (to) {
                nn = j + 1; /* a grid that times out would spend spin_max polls on every barrier */
                break;
            }
            if (j == 0) k0 = k, w0 = w;
            kl = k, wl = w;
        }
        if (nn == n_ns && nn > 1 && ns[nn - 1] > ns[0])
            printf("groups %4d  per barrier: kernel %.3f us, wall %.3f us\n", gs[i],
                   (kl - k0) / (ns[nn - 1] - ns[0]), (wl - w0) / (ns[nn - 1] - ns[0]));
    }
    return MCL_OK;
}

/* One layer's device buffers for --layer (F16 weights). */
#define LB_N 18
typedef struct tlayer {
    cl_mem b[LB_N];
} tlayer;

enum { L_H, L_NW, L_WIN, L_CW, L_CB, L_CST, L_SLOT, L_XZ, L_XC, L_WX, L_PARTS, L_WDT, L_BDT, L_A, L_D, L_SST, L_Y, L_WOUT };

/* A buffer of n elements of size es from gen(i) (NULL host data: zeros). */
static mcl_status tbuf(mcl_runtime *rt, size_t n, size_t es, int kind, uint32_t *seed, cl_mem *out)
{
    unsigned char *h = calloc(n, es);
    if (!h) return mcl_error_set(MCL_ERR_NOMEM, "bar_timing: out of host memory");
    for (size_t i = 0; i < n && kind; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        float u = (float)(*seed >> 8) / 16777216.0f - 0.5f; /* [-0.5, 0.5) */
        if (kind == 1) ((uint16_t *)h)[i] = mcl_half_from_float(0.02f * u); /* weights */
        else if (kind == 2) ((float *)h)[i] = u;                       /* activations, states */
        else if (kind == 3) ((float *)h)[i] = -1.0f - 4.0f * (u + 0.5f); /* A < 0 */
        else ((int *)h)[i] = 0;                                        /* the slot */
    }
    mcl_status st = mcl_buffer_create(rt, CL_MEM_READ_WRITE, n * es, "bar_timing layer", out);
    if (st == MCL_OK) {
        cl_int e = clEnqueueWriteBuffer(rt->queue, *out, CL_TRUE, 0, n * es, h, 0, NULL, NULL);
        if (e != CL_SUCCESS) st = mcl_error_cl(e, "clEnqueueWriteBuffer(bar_timing layer)");
    }
    free(h);
    return st;
}

static mcl_status tlayer_make(mcl_runtime *rt, tlayer *L, int dm, int di, int R, int N, uint32_t *seed)
{
    size_t nx = (size_t)R + 2 * (size_t)N, K = 4;
    struct { int i; size_t n, es; int kind; } spec[] = {
        {L_H, dm, 4, 2}, {L_NW, dm, 4, 2}, {L_WIN, 2 * (size_t)di * dm, 2, 1}, {L_CW, di * K, 4, 2},
        {L_CB, di, 4, 2}, {L_CST, di * (K - 1), 4, 2}, {L_SLOT, 1, 4, 4}, {L_XZ, 2 * (size_t)di, 4, 0},
        {L_XC, di, 4, 0}, {L_WX, nx * di, 2, 1}, {L_PARTS, 16 * nx, 4, 0}, {L_WDT, (size_t)di * R, 2, 1},
        {L_BDT, di, 4, 2}, {L_A, (size_t)di * N, 4, 3}, {L_D, di, 4, 2}, {L_SST, (size_t)di * N, 4, 2},
        {L_Y, di, 4, 0}, {L_WOUT, (size_t)dm * di, 2, 1},
    };
    for (size_t j = 0; j < sizeof spec / sizeof spec[0]; j++)
        MCL_TRY(tbuf(rt, spec[j].n, spec[j].es, spec[j].kind, seed, &L->b[spec[j].i]));
    return MCL_OK;
}

static mcl_kern_dlayer_args tlayer_args(const tlayer *L, int dm, int di, int R, int N, int n_parts)
{
    mcl_kern_dlayer_args a = {
        .h = L->b[L_H], .nw = L->b[L_NW], .eps = 1e-5f, .w_in = L->b[L_WIN], .dt_in = MCL_DTYPE_F16,
        .conv = {L->b[L_CW], L->b[L_CB], {L->b[L_CST], 0, L->b[L_SLOT], (uint64_t)di * 3}, 4, di, L->b[L_XC]},
        .w_x = L->b[L_WX], .dt_x = MCL_DTYPE_F16, .parts = L->b[L_PARTS], .n_parts = n_parts,
        .scan = {L->b[L_XC], L->b[L_PARTS], L->b[L_XZ], L->b[L_WDT], L->b[L_BDT], L->b[L_A], L->b[L_D], L->b[L_Y],
                 MCL_DTYPE_F16, di, R, N, (uint64_t)di, 2 * di, 1},
        .ssm = {L->b[L_SST], 0, L->b[L_SLOT], (uint64_t)di * N},
        .w_out = L->b[L_WOUT], .dt_out = MCL_DTYPE_F16, .d_model = dm,
    };
    return a;
}

/* --layer: m launches of the whole layer over `copies` copies. */
static mcl_status run_layer(mcl_runtime *rt, const int *w, int copies, int m)
{
    int dm = w[0], di = w[1], R = w[2], N = w[3], nx = R + 2 * N;
    tlayer *L = calloc((size_t)copies, sizeof *L);
    if (!L) return mcl_error_set(MCL_ERR_NOMEM, "bar_timing: out of host memory");
    uint32_t seed = 12345u;
    bool ready = false;
    mcl_status st = MCL_OK;
    for (int c = 0; c < copies && st == MCL_OK; c++) st = tlayer_make(rt, &L[c], dm, di, R, N, &seed);
    if (st == MCL_OK) st = mcl_kern_dlayer_ready(rt, 1, dm, di, nx, &ready);
    if (st == MCL_OK && !ready) st = mcl_error_set(MCL_ERR_UNSUPPORTED, "persistent layer off: %s", rt->dlayer.reason);
    const mcl_params *p = mcl_runtime_params(rt, MCL_F_DLAYER);
    int parts = st == MCL_OK ? mcl_kern_dlayer_parts(rt, nx, di, 16) : 1;
    if (st == MCL_OK)
        printf("layer %d,%d,%d,%d F16: %d groups of %ld, %d x_proj parts, DL_UNR %ld DL_PF %ld DL_SKIP %ld\n", dm, di,
               R, N, rt->dlayer.groups, mcl_params_get(p, MCL_T_DL_WG, 0), parts, mcl_params_get(p, MCL_T_DL_UNR, 0),
               mcl_params_get(p, MCL_T_DL_PF, 0), mcl_params_get(p, MCL_T_DL_SKIP, 0));
    for (int c = 0; c < copies && st == MCL_OK; c++) { /* warm-up: every copy once */
        mcl_kern_dlayer_args a = tlayer_args(&L[c], dm, di, R, N, parts);
        st = mcl_kern_dlayer(rt, &a);
    }
    if (st == MCL_OK) st = mcl_runtime_finish(rt);
    const char *names[8];
    double ms[8];
    mcl_runtime_profile_take(rt, names, ms, 8);
    double t0 = mcl_now_ms();
    for (int i = 0; i < m && st == MCL_OK; i++) {
        mcl_kern_dlayer_args a = tlayer_args(&L[i % copies], dm, di, R, N, parts);
        st = mcl_kern_dlayer(rt, &a);
    }
    if (st == MCL_OK) st = mcl_kern_dlayer_flag_read(rt);
    if (st == MCL_OK) st = mcl_runtime_finish(rt);
    double wall = (mcl_now_ms() - t0) * 1000.0 / m;
    if (st == MCL_OK) st = mcl_kern_dlayer_flag_check(rt);
    int k = mcl_runtime_profile_take(rt, names, ms, 8);
    double kern = 0.0;
    for (int j = 0; j < k; j++)
        if (strcmp(names[j], "dlayer") == 0) kern = ms[j] * 1000.0 / m;
    if (st == MCL_OK) printf("layer kernel %8.2f us  wall %8.2f us per launch (%d launches, %d copies)\n", kern, wall, m, copies);
    for (int c = 0; c < copies; c++)
        for (int j = 0; j < LB_N; j++) mcl_buffer_release(&L[c].b[j]);
    free(L);
    return st;
}

int main(int argc, char **argv)
{
    int gs[MAX_LIST], ns[MAX_LIST] = {0, 1, 3, 16, 64}, ng = 0, nn = 5, m = 200, lw[MAX_LIST], nlw = 0, copies = 8;
    const char *device = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--groups") == 0 && i + 1 < argc) ng = parse_list(argv[++i], gs);
        else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc) nn = parse_list(argv[++i], ns);
        else if (strcmp(argv[i], "--launches") == 0 && i + 1 < argc) m = atoi(argv[++i]);
        else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) device = argv[++i];
        else if (strcmp(argv[i], "--layer") == 0 && i + 1 < argc) nlw = parse_list(argv[++i], lw);
        else if (strcmp(argv[i], "--copies") == 0 && i + 1 < argc) copies = atoi(argv[++i]);
        else ng = -1;
        if (ng < 0 || nn <= 0 || m <= 0 || (nlw != 0 && (nlw != 4 || lw[0] < 1 || lw[1] < 8 || lw[2] < 1 || lw[3] < 1)) ||
            copies < 1 || copies > 64) {
            fprintf(stderr, "usage: bar_timing [--groups G,G,...] [--n N,N,...] [--launches M] [--device SEL]\n"
                            "       bar_timing --layer DM,DI,R,N [--copies C] [--launches M] [--device SEL]\n");
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* each line as it comes (the GPU machine's logs) */
    mcl_runtime_options o = {.device = device, .profiling = true};
    mcl_runtime *rt = NULL;
    mcl_status st = mcl_runtime_create(&o, &rt);
    if (st == MCL_OK) {
        printf("device: %s\n", rt->dev.name);
        if (nlw) st = run_layer(rt, lw, copies, m);
        else if (ng == 0) {
            int cu = rt->dev.compute_units ? (int)rt->dev.compute_units : 1;
            gs[0] = cu, gs[1] = 2 * cu, gs[2] = 4 * cu, ng = 3;
        }
        if (!nlw) st = run(rt, gs, ng, ns, nn, m);
    }
    if (st != MCL_OK) fprintf(stderr, "bar_timing: %s\n", mcl_last_error());
    mcl_runtime_free(rt);
    return st == MCL_OK ? 0 : 1;
}
