/* Every configuration of every tuning space, each kernel checked by its
 * selftest (small shapes, a host reference; candidates that build the same
 * program as the defaults or an earlier one are left out): the sweep that
 * tools/oclgrind.sh runs under Oclgrind, also usable on any device.
 *
 *   kernel_sweep [--device SEL] [--only FILE[,FILE]] [--max N] [--list]
 *
 * For each family with a candidate space (mcl_tune_candidates over the
 * device's defaults), rebuilds the program with the candidate and runs the
 * selftest of each of its kernels; then the default configuration of every
 * program once. Prints one line per (configuration, kernel):
 *   "sweep: <file> <NAME=v ...> <kernel> ok|FAIL"
 * on stderr, after "sweep: run <file> <config> <kernel>" before the launch,
 * so that a simulator's reports (also on stderr) fall between the two lines
 * of the configuration that caused them. --max N takes every k-th
 * candidate so that at most N per family run. Exit status 1 when any
 * selftest failed or a build failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mambacl.h"
#include "base/env.h"
#include "base/error.h"
#include "diag/selftest.h"
#include "runtime/runtime.h"
#include "tune/families.h"
#include "tune/tune.h"

#define MAX_CANDIDATES 4096

static void describe(const mcl_params *p, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < p->n && n + 1 < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s=%ld", i ? "," : "", p->p[i].name, p->p[i].value);
}

/* Runs the selftest of every kernel of program `file`; returns failures. */
static int check_program(mcl_runtime *rt, const char *file, const char *config)
{
    int bad = 0;
    for (int j = 0; j < rt->n_kernels; j++) {
        if (strcmp(rt->programs[rt->kernels[j].program].file, file) != 0) continue;
        const char *name = rt->kernels[j].name;
        const mcl_selftest_entry *e = mcl_selftest_find(name);
        bool ok = false;
        fprintf(stderr, "sweep: run %s %s %s\n", file, config, name);
        mcl_status st = e ? e->run(rt, &ok) : MCL_ERR_INTERNAL;
        fprintf(stderr, "sweep: %s %s %s %s%s%s\n", file, config, name, st == MCL_OK && ok ? "ok" : "FAIL",
                st != MCL_OK ? ": " : "", st != MCL_OK ? mcl_last_error() : "");
        bad += !(st == MCL_OK && ok);
    }
    return bad;
}

static bool wanted(const char *only, const char *file) { return !only || mcl_list_has(only, file); }

static int sweep_family(mcl_runtime *rt, const mcl_family *fam, int max, bool list)
{
    static mcl_params cands[MAX_CANDIDATES];
    const mcl_params *base = mcl_runtime_params(rt, fam->name);
    if (!base) return 0;
    mcl_params def = *base;
    int all = mcl_tune_candidates(fam, &rt->dev, &def, cands, MAX_CANDIDATES), n = 0;
    for (int i = 0; i < all; i++) { /* one per program: host-only tunables build the same one */
        bool seen = mcl_tune_same_program(fam, &cands[i], &def);
        for (int k = 0; k < n && !seen; k++) seen = mcl_tune_same_program(fam, &cands[i], &cands[k]);
        if (!seen) cands[n++] = cands[i];
    }
    int step = max > 0 && n > max ? (n + max - 1) / max : 1, bad = 0;
    fprintf(stderr, "sweep: %s: %d configurations fit the device, running %d\n", fam->name, n,
            (n + step - 1) / step);
    for (int i = 0; i < n; i += step) {
        char config[512];
        describe(&cands[i], config, sizeof config);
        if (list) {
            fprintf(stderr, "sweep: %s %s\n", fam->name, config);
            continue;
        }
        if (mcl_runtime_rebuild(rt, fam->name, &cands[i]) != MCL_OK) {
            fprintf(stderr, "sweep: %s %s build FAIL: %s\n", fam->name, config, mcl_last_error());
            bad++;
            continue;
        }
        bad += check_program(rt, fam->name, config);
    }
    /* Restored only when a candidate replaced them: with none run (the space
     * is empty on this device) the program was never rebuilt, so there is
     * nothing to restore; a rebuild goes through the fits rule, which refuses
     * some families' defaults on small devices (gemm.cl's on a 64-wide one). */
    if (!list && n > 0 && mcl_runtime_rebuild(rt, fam->name, &def) != MCL_OK) {
        fprintf(stderr, "sweep: %s: restoring the defaults failed: %s\n", fam->name, mcl_last_error());
        bad++;
    }
    return bad;
}

int main(int argc, char **argv)
{
    mcl_runtime_options o = {.no_cache = true};
    const char *only = NULL;
    int max = 0;
    bool list = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) o.device = argv[++i];
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
        else if (strcmp(argv[i], "--max") == 0 && i + 1 < argc) max = atoi(argv[++i]);
        else if (strcmp(argv[i], "--list") == 0) list = true;
        else {
            fprintf(stderr, "usage: kernel_sweep [--device SEL] [--only FILE[,FILE]] [--max N] [--list]\n");
            return 2;
        }
    }
    mcl_runtime *rt = NULL;
    if (mcl_runtime_create(&o, &rt) != MCL_OK) {
        fprintf(stderr, "kernel_sweep: %s\n", mcl_last_error());
        return 1;
    }
    fprintf(stderr, "sweep: device %s (%s)\n", rt->dev.name, rt->dev.platform);
    int bad = 0;
    for (int i = 0; i < rt->n_programs; i++) {
        const char *file = rt->programs[i].file;
        if (!wanted(only, file)) continue;
        char config[512];
        describe(&rt->params[i], config, sizeof config);
        if (!list) bad += check_program(rt, file, config[0] ? config : "default");
    }
    for (int f = 0; mcl_tune_family_at(f); f++) {
        const mcl_family *fam = mcl_tune_family_at(f);
        if (wanted(only, fam->name) && mcl_tune_space_size(fam, &rt->dev) > 0) bad += sweep_family(rt, fam, max, list);
    }
    fprintf(stderr, "sweep: %d failures\n", bad);
    mcl_runtime_free(rt);
    return bad ? 1 : 0;
}
