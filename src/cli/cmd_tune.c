/* mambacl tune: autotune the kernels for the selected device and save the
 * winners in its tuning file. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_model.h"
#include "mcl_internal.h"
#include <stdlib.h>

static void help(void)
{
    printf("usage: mambacl tune [-m MODEL_DIR | --config NAME] [--dtype f32|f16|bf16]\n"
           "                    [--quick | --full] [--reps N] [--only LIST] [--device SEL]\n"
           "\n"
           "Times every configuration of each kernel family that fits the device (work-group\n"
           "sizes, chunk lengths, rows per group...) inside a real prefill and decode step of\n"
           "the model's shape, checks each one's logits against the default configuration's,\n"
           "and writes the fastest to $MAMBACL_CACHE_DIR/tuning/<device>.json for the model's\n"
           "shape class (d_inner and d_model within a power of two), keeping the entries of\n"
           "other classes. Later runs load it at startup and use the configuration of the\n"
           "class that matches each model (`mambacl selftest` lists them, 'tuning: tuned').\n"
           "Each family's result is printed when it is finished. Ctrl-C stops after the\n"
           "current candidate and saves the families finished so far (exit 130). The cache\n"
           "directory and -m are checked before any work.\n"
           "Defaults by device: on a GPU or accelerator --config 130m at full size; on a CPU\n"
           "--config tiny --quick (minutes instead of hours; give --config/-m or --full).\n"
           "\n"
           "  -m, --model DIR   tune on this checkpoint's shapes\n"
           "  --config NAME     random weights of a released shape (130m 370m 790m 1.4b 2.8b\n"
           "                    tiny); default by device (above)\n"
           "  --dtype T         weight storage with --config (default f16)\n"
           "  --quick           prefill of 256 tokens, at most 4 candidates per family\n"
           "  --full            prefill of 2048 tokens, every candidate (the default on GPUs)\n"
           "  --reps N          timed repetitions per candidate (median), default 5\n"
           "  --only LIST       tune only these kernel files (comma-separated: scan.cl,gemv.cl,\n"
           "                    ssm_step.cl); the others keep their current values\n"
           "  --device SEL      device: index, gpu, cpu, pocl or a name substring\n");
}

static volatile sig_atomic_t stop_requested;

static void on_sigint(int sig)
{
    (void)sig;
    if (stop_requested) _exit(130);
    stop_requested = 1;
}

static bool cancel(void *user)
{
    (void)user;
    return stop_requested != 0;
}

/* i == n: the family ran all its candidates and will be saved, even when a
 * Ctrl-C arrived during its last one, so it is reported finished. */
static void progress(const char *family, int i, int n, double best_ms, void *user)
{
    (void)user;
    char label[128];
    snprintf(label, sizeof label, "tune %-12s best %8.4f ms", family, best_ms);
    cli_progress(label, n ? (double)i / n : 1.0, i == n);
    if (i == n) printf("%-12s finished: best %.4f ms of %d candidates\n", family, best_ms, n);
}

typedef struct tune_cli {
    cli_model_source src;
    mcl_tune_options to;
    mcl_runtime_options ro;
    bool quick, full;
} tune_cli;

static int parse(int argc, char **argv, tune_cli *o)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"config", required_argument, 0, 'c'},
        {"dtype", required_argument, 0, 't'}, {"device", required_argument, 0, 'd'},
        {"quick", no_argument, 0, 'q'},       {"reps", required_argument, 0, 'r'},
        {"only", required_argument, 0, 'o'},  {"full", no_argument, 0, 'F'},
        {"help", no_argument, 0, 'h'},        {0}};
    int c;
    long v;
    while ((c = cli_getopt(argc, argv, "hm:", opts)) != -1) {
        int rc = cli_model_source_option("tune", c, optarg, &o->src);
        if (rc >= 0) {
            if (rc != CLI_EXIT_OK) return rc;
            continue;
        }
        switch (c) {
        case 'h': help(); return -1;
        case 'd': o->ro.device = optarg; break;
        case 'o': o->to.only = optarg; break;
        case 'q': o->quick = true; break;
        case 'F': o->full = true; break;
        case 'r':
            if (!cli_parse_long("tune", "--reps", optarg, 1, 64, &v)) return CLI_EXIT_USAGE;
            o->to.reps = (int)v;
            break;
        default: return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) return cli_usage_error("tune", "unexpected argument '%s'", argv[optind]);
    if (o->quick && o->full) return cli_usage_error("tune", "give --quick or --full, not both");
    return cli_model_source_check("tune", &o->src);
}

static void print_result(const mcl_tune_result *r)
{
    char cls[96];
    mcl_tune_class_format(&r->cls, cls, sizeof cls);
    printf("%-12s [%s] default %9.4f ms  tuned %9.4f ms  (%.2fx; %d candidates, %d rejected)  ", r->family, cls,
           r->default_ms, r->best_ms, r->best_ms > 0 ? r->default_ms / r->best_ms : 0.0, r->candidates, r->rejected);
    for (int p = 0; p < r->best.n; p++) printf("%s=%ld ", r->best.p[p].name, r->best.p[p].value);
    printf("\n");
}

static mcl_status run_tune(mcl_runtime *rt, tune_cli *o)
{
    mcl_model *m = NULL;
    mcl_tunedb *db = NULL;
    mcl_tune_result res[32];
    int n = 0;
    MCL_TRY(cli_model_source_load(rt, &o->src, &m));
    char warning[1024];
    mcl_status st = MCL_OK;
    mcl_tunedb_load(rt->tuning_path, &rt->dev, &db, warning, sizeof warning); /* keep other families' entries */
    if (!db) st = mcl_tunedb_create(&rt->dev, &db);
    if (st == MCL_OK) st = mcl_tune_model(rt, m, &o->to, db, res, 32, &n);
    if (st == MCL_OK && !rt->tuning_path[0]) st = mcl_error_set(MCL_ERR_IO, "no cache directory for the tuning file");
    if (st == MCL_OK && n > 0) st = mcl_tunedb_save(db, rt->tuning_path);
    if (st == MCL_OK) {
        for (int i = 0; i < n; i++) print_result(&res[i]);
        if (n > 0) printf("saved %s%s\n", rt->tuning_path, stop_requested ? " (interrupted: the families above only)" : "");
        else if (stop_requested) printf("interrupted before a family was finished: nothing saved\n");
    }
    mcl_tunedb_free(db);
    mcl_model_free(m);
    return st;
}

int cmd_tune(int argc, char **argv)
{
    tune_cli o = {.src = {.dtype = MCL_DTYPE_F16},
                  .to = {.prefill_len = 2048, .decode_batch = 1, .reps = 5, .tolerance = 2e-3,
                         .progress = progress, .cancel = cancel}};
    int rc = parse(argc, argv, &o);
    if (rc != CLI_EXIT_OK) return rc < 0 ? CLI_EXIT_OK : rc;
    setvbuf(stdout, NULL, _IOLBF, 0); /* each line as it comes, also into a file or pipe */
    /* Checks before any work: the model, the cache directory, the device. */
    if (o.src.model_dir && !cli_check_model_dir("tune", o.src.model_dir)) return CLI_EXIT_RUNTIME;
    char dir[4096];
    if (mcl_cache_dir(NULL, dir, sizeof dir) != MCL_OK)
        return cli_eprintf("mambacl tune: error: no cache directory for the tuning file: %s", mcl_last_error()),
               CLI_EXIT_RUNTIME;
    if (access(dir, W_OK) != 0)
        return cli_eprintf("mambacl tune: error: cannot write the cache directory %s", dir), CLI_EXIT_RUNTIME;
    mcl_device_info dev;
    bool cpu = cli_target_device(o.ro.device, &dev) && dev.type == MCL_DEVICE_TYPE_CPU;
    if (cpu && !o.src.model_dir && !o.src.config && !o.full) {
        o.src.config = "tiny";
        o.quick = true;
        printf("a CPU device: --config tiny --quick (give --config NAME, -m DIR or --full for more)\n");
    }
    if (!o.src.model_dir && !o.src.config) o.src.config = "130m";
    if (o.quick) {
        o.to.prefill_len = 256;
        o.to.max_candidates = 4;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    o.ro.profiling = true;
    mcl_runtime *rt = NULL;
    double compile_ms = 0;
    mcl_status st = cli_runtime_create(&o.ro, false, &rt, &compile_ms);
    if (st != MCL_OK) return cli_runtime_error("tune", st);
    printf("tuning %s (%s)\n", rt->dev.name, rt->dev.platform);
    st = run_tune(rt, &o);
    mcl_runtime_free(rt);
    if (st != MCL_OK) return cli_runtime_error("tune", st);
    return stop_requested ? 130 : CLI_EXIT_OK;
}
