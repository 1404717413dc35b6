/* mambacl tune: autotune the kernels for the selected device and save the
 * winners in its tuning file. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_model.h"
#include "mcl_internal.h"

static void help(void)
{
    printf("usage: mambacl tune [-m MODEL_DIR | --config NAME] [--dtype f32|f16|bf16]\n"
           "                    [--quick] [--reps N] [--only LIST] [--device SEL]\n"
           "\n"
           "Times every configuration of each kernel family that fits the device (work-group\n"
           "sizes, chunk lengths, rows per group...) inside a real prefill and decode step of\n"
           "the model's shape, checks each one's logits against the default configuration's,\n"
           "and writes the fastest to $MAMBACL_CACHE_DIR/tuning/<device>.json, which later\n"
           "runs load at startup (`mambacl selftest` shows 'tuning: tuned').\n"
           "\n"
           "  -m, --model DIR   tune on this checkpoint's shapes\n"
           "  --config NAME     random weights of a released shape (130m 370m 790m 1.4b 2.8b\n"
           "                    tiny); default 130m\n"
           "  --dtype T         weight storage with --config (default f16)\n"
           "  --quick           prefill of 256 tokens, at most 4 candidates per family\n"
           "  --reps N          timed repetitions per candidate (median), default 5\n"
           "  --only LIST       tune only these kernel files (comma-separated: scan.cl,gemv.cl,\n"
           "                    ssm_step.cl); the others keep their current values\n"
           "  --device SEL      device index or name substring\n");
}

static void progress(const char *family, int i, int n, double best_ms, void *user)
{
    (void)user;
    char label[128];
    snprintf(label, sizeof label, "tune %-12s best %8.4f ms", family, best_ms);
    cli_progress(label, n ? (double)i / n : 1.0, i == n);
}

typedef struct tune_cli {
    cli_model_source src;
    mcl_tune_options to;
    mcl_runtime_options ro;
} tune_cli;

static int parse(int argc, char **argv, tune_cli *o)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"config", required_argument, 0, 'c'},
        {"dtype", required_argument, 0, 't'}, {"device", required_argument, 0, 'd'},
        {"quick", no_argument, 0, 'q'},       {"reps", required_argument, 0, 'r'},
        {"only", required_argument, 0, 'o'},
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
        case 'q':
            o->to.prefill_len = 256;
            o->to.max_candidates = 4;
            break;
        case 'r':
            if (!cli_parse_long("tune", "--reps", optarg, 1, 64, &v)) return CLI_EXIT_USAGE;
            o->to.reps = (int)v;
            break;
        default: return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) return cli_usage_error("tune", "unexpected argument '%s'", argv[optind]);
    return cli_model_source_check("tune", &o->src);
}

static void print_results(const mcl_tune_result *res, int n, const char *path)
{
    for (int i = 0; i < n; i++) {
        printf("%-12s default %9.4f ms  tuned %9.4f ms  (%.2fx; %d candidates, %d rejected)  ", res[i].family,
               res[i].default_ms, res[i].best_ms, res[i].best_ms > 0 ? res[i].default_ms / res[i].best_ms : 0.0,
               res[i].candidates, res[i].rejected);
        for (int p = 0; p < res[i].best.n; p++) printf("%s=%ld ", res[i].best.p[p].name, res[i].best.p[p].value);
        printf("\n");
    }
    printf("saved %s\n", path);
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
    if (st == MCL_OK) st = mcl_tunedb_save(db, rt->tuning_path);
    if (st == MCL_OK) print_results(res, n, rt->tuning_path);
    mcl_tunedb_free(db);
    mcl_model_free(m);
    return st;
}

int cmd_tune(int argc, char **argv)
{
    tune_cli o = {.src = {.dtype = MCL_DTYPE_F16},
                  .to = {.prefill_len = 2048, .decode_batch = 1, .reps = 5, .tolerance = 2e-3,
                         .progress = progress}};
    int rc = parse(argc, argv, &o);
    if (rc != CLI_EXIT_OK) return rc < 0 ? CLI_EXIT_OK : rc;
    o.ro.profiling = true;
    mcl_runtime *rt = NULL;
    mcl_status st = mcl_runtime_create(&o.ro, &rt);
    if (st != MCL_OK) return cli_runtime_error("tune", st);
    printf("tuning %s (%s)\n", rt->dev.name, rt->dev.platform);
    st = run_tune(rt, &o);
    mcl_runtime_free(rt);
    return st == MCL_OK ? CLI_EXIT_OK : cli_runtime_error("tune", st);
}
