/* ptxas_report: what the device's own compiler says about every kernel of
 * every program the runtime built, as its build log gives it.
 *
 *   ptxas_report [--device SEL] [--options STR] [--only FILE[,FILE]]
 *
 * Rebuilds each program of the runtime (each shape class's configuration,
 * with its tunables) from source, without the binary cache, with STR
 * appended to the build options (default "-cl-nv-verbose": NVIDIA's OpenCL
 * then passes ptxas's report per kernel to the build log), and prints the
 * log's lines naming an entry function, registers, spills, stack or shared
 * memory, each prefixed with the program's file and shape class:
 *   "<file> [<class>] <log line>"
 * On NVIDIA that is the register count, spills and local memory of the SASS
 * that runs (session 19: the default GEMM block uses 128 registers where the
 * clang proxy of tools/gemm_ptxas.sh said 119-121). Other devices print
 * whatever their log holds for those words (often nothing). Programs of
 * equal tunables are reported once. Built by meson, not run as a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mambacl.h"
#include "base/env.h"
#include "base/error.h"
#include "runtime/configs.h"
#include "runtime/runtime.h"
#include "tune/families.h"
#include "tune/tune.h"

static bool wanted(const char *only, const char *file) { return !only || mcl_list_has(only, file); }

static bool interesting(const char *line)
{
    static const char *const words[] = {"entry function", "registers", "spill", "stack", "smem", NULL};
    for (const char *const *w = words; *w; w++)
        if (strstr(line, *w)) return true;
    return false;
}

/* Prints the interesting lines of prog's build log; returns how many. */
static int print_log(const mcl_runtime *rt, cl_program prog, const char *tag)
{
    char *log = NULL;
    int n = 0;
    if (mcl_program_log(prog, rt->device, &log) != MCL_OK) return 0;
    for (char *l = strtok(log, "\n"); l; l = strtok(NULL, "\n"))
        if (interesting(l)) printf("%s %s\n", tag, l), n++;
    free(log);
    return n;
}

/* True when an earlier program i' < i of the same file has the same tunables. */
static bool seen(const mcl_runtime *rt, int i)
{
    const mcl_family *fam = mcl_tune_family(rt->programs[i].file);
    for (int j = 0; j < i; j++)
        if (strcmp(rt->programs[j].file, rt->programs[i].file) == 0 &&
            mcl_tune_same_program(fam, &rt->params[j], &rt->params[i]))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    const char *device = NULL, *extra = "-cl-nv-verbose", *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) device = argv[++i];
        else if (strcmp(argv[i], "--options") == 0 && i + 1 < argc) extra = argv[++i];
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
        else return fprintf(stderr, "usage: ptxas_report [--device SEL] [--options STR] [--only FILE[,FILE]]\n"), 2;
    }
    mcl_runtime *rt = NULL;
    mcl_runtime_options o = {0};
    o.device = device;
    if (mcl_runtime_create(&o, &rt) != MCL_OK) return fprintf(stderr, "ptxas_report: %s\n", mcl_last_error()), 1;
    printf("device %s; options appended: %s\n", rt->dev.name, extra);
    size_t bl = strlen(rt->base_options);
    if (bl + strlen(extra) + 2 >= sizeof rt->base_options)
        return fprintf(stderr, "ptxas_report: --options too long\n"), mcl_runtime_free(rt), 2;
    snprintf(rt->base_options + bl, sizeof rt->base_options - bl, " %s", extra);
    rt->cache_dir[0] = '\0'; /* from source: a binary from the cache has no log */
    int failed = 0;
    for (int i = 0; i < rt->n_programs; i++) {
        if (!wanted(only, rt->programs[i].file) || seen(rt, i)) continue;
        char tag[200];
        snprintf(tag, sizeof tag, "%s [%s]", rt->programs[i].file, rt->shapes[i]);
        mcl_program p;
        if (mcl_runtime_build_program(rt, rt->programs[i].file, &rt->params[i], &p) != MCL_OK) {
            printf("%s build failed: %.300s\n", tag, mcl_last_error());
            failed++;
            continue;
        }
        if (!print_log(rt, p.program, tag)) printf("%s (no such lines in the build log)\n", tag);
        mcl_program_release(&p);
    }
    mcl_runtime_free(rt);
    return failed ? 1 : 0;
}
