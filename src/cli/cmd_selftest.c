/* mambacl selftest: compile every kernel, run one tiny launch of each. */
#include <stdio.h>

#include "cli/cli.h"
#include "mcl_internal.h"

static void help(void)
{
    printf("usage: mambacl selftest [--device SEL] [--no-cache]\n"
           "\n"
           "Compiles every kernel program for the selected device (or loads it from the\n"
           "binary cache), prints per program whether it came from the cache and the time,\n"
           "then runs one tiny launch of every kernel and checks its result.\n"
           "Exit code 1 when any kernel fails.\n"
           "\n"
           "  --device SEL   device: index, gpu, cpu, pocl or a name substring\n"
           "  --no-cache     neither read nor write the binary cache\n");
}

static void report(const char *kernel, bool ok, double ms, void *user)
{
    (void)user;
    printf("  kernel %-28s %-4s %8.2f ms\n", kernel, ok ? "ok" : "FAIL", ms);
}

/* The capability layer's verdicts (device/caps.h). */
static void print_caps(const mcl_caps *c)
{
    printf("  vendor %s", mcl_vendor_name(c->vendor));
    if (c->cc_major) printf(", compute capability %d.%d, warp %d", c->cc_major, c->cc_minor, c->warp_size);
    printf("\n");
    for (int i = 0; i < MCL_CAP_COUNT; i++)
        printf("  capability %-10s %-3s %s\n", mcl_cap_name((mcl_cap_id)i), c->cap[i].on ? "on" : "off",
               c->cap[i].on ? "" : c->cap[i].reason);
}

int cmd_selftest(int argc, char **argv)
{
    static const struct option opts[] = {{"device", required_argument, 0, 'd'},
                                         {"no-cache", no_argument, 0, 'n'},
                                         {"help", no_argument, 0, 'h'},
                                         {0}};
    mcl_runtime_options ro = {0};
    int c;
    while ((c = cli_getopt(argc, argv, "hd:", opts)) != -1) {
        if (c == 'h') return help(), CLI_EXIT_OK;
        else if (c == 'd') ro.device = optarg;
        else if (c == 'n') ro.no_cache = true;
        else return CLI_EXIT_USAGE;
    }
    if (optind < argc) return cli_usage_error("selftest", "unexpected argument '%s'", argv[optind]);
    double t0 = mcl_now_ms();
    mcl_runtime *rt = NULL;
    mcl_status st = mcl_runtime_create(&ro, &rt);
    if (st != MCL_OK) return cli_runtime_error("selftest", st);
    double t_build = mcl_now_ms() - t0;
    int n = 0;
    const mcl_program_report *reps = mcl_runtime_programs(rt, &n);
    printf("device: %s (%s)\n", mcl_runtime_device(rt)->name, mcl_runtime_device(rt)->platform);
    print_caps(&rt->caps);
    if (*mcl_runtime_warnings(rt)) cli_eprintf("mambacl selftest: warning: %s", mcl_runtime_warnings(rt));
    for (int i = 0; i < n; i++)
        printf("  program %-20s %-10s %9.1f ms  tuning: %-9s shapes: %s\n", reps[i].file,
               reps[i].from_cache ? "cache" : "compiled", reps[i].build_ms, reps[i].tuning,
               reps[i].shapes ? reps[i].shapes : "any");
    printf("startup (device + programs): %.1f ms\n", t_build);
    st = mcl_runtime_selftest(rt, report, NULL);
    mcl_runtime_free(rt);
    if (st != MCL_OK) return cli_runtime_error("selftest", st);
    printf("all kernels ok\n");
    return CLI_EXIT_OK;
}
