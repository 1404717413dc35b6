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
 * Built by meson, not run as a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
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

int main(int argc, char **argv)
{
    int gs[MAX_LIST], ns[MAX_LIST] = {0, 1, 3, 16, 64}, ng = 0, nn = 5, m = 200;
    const char *device = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--groups") == 0 && i + 1 < argc) ng = parse_list(argv[++i], gs);
        else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc) nn = parse_list(argv[++i], ns);
        else if (strcmp(argv[i], "--launches") == 0 && i + 1 < argc) m = atoi(argv[++i]);
        else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) device = argv[++i];
        else ng = -1;
        if (ng < 0 || nn <= 0 || m <= 0) {
            fprintf(stderr, "usage: bar_timing [--groups G,G,...] [--n N,N,...] [--launches M] [--device SEL]\n");
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* each line as it comes (the GPU machine's logs) */
    mcl_runtime_options o = {.device = device, .profiling = true};
    mcl_runtime *rt = NULL;
    mcl_status st = mcl_runtime_create(&o, &rt);
    if (st == MCL_OK) {
        printf("device: %s\n", rt->dev.name);
        if (ng == 0) {
            int cu = rt->dev.compute_units ? (int)rt->dev.compute_units : 1;
            gs[0] = cu, gs[1] = 2 * cu, gs[2] = 4 * cu, ng = 3;
        }
        st = run(rt, gs, ng, ns, nn, m);
    }
    if (st != MCL_OK) fprintf(stderr, "bar_timing: %s\n", mcl_last_error());
    mcl_runtime_free(rt);
    return st == MCL_OK ? 0 : 1;
}
