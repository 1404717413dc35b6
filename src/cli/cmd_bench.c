/* mambacl bench: baselines, scan kernel, prefill and decode throughput,
 * time to first token; a table on stdout, JSON and CSV on request. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mcl_internal.h"
#include "cli/cli.h"
#include "cli/cli_model.h"
#include "base/env.h"
#include "model/forward.h"

typedef struct bench_opts {
    cli_model_source src;
    const char *json_path, *csv_path, *anchor_path;
    cJSON *anchor; /* the --anchor file's JSON, read by check_args */
    mcl_runtime_options ro;
    bool quick, full, decode_only, prefill_only;
    int reps;
    int batch; /* --batch: decode only this batch size (0: the usual list) */
} bench_opts;

static void help(void)
{
    printf("usage: mambacl bench [-m MODEL_DIR | --config NAME] [--dtype f32|f16|bf16]\n"
           "                     [--device SEL] [--json FILE] [--csv FILE] [--quick | --full]\n"
           "                     [--reps N] [--anchor FILE] [--decode-only | --prefill-only]\n"
           "                     [--batch N]\n"
           "\n"
           "Measures, on the selected device, with OpenCL profiling events:\n"
           "  baselines  float4 copy and read-only bandwidth, CLBlast SGEMM rate of this run\n"
           "  scan       the selective scan at (batch, d_inner, L), d_state 16, with its dt\n"
           "             projection (fused, or a pre-pass where the configuration has one: the\n"
           "             time is all its launches, their count printed when more than one):\n"
           "             time, effective GB/s (u, delta, z, out fp32 + B, C), %% of copy, and\n"
           "             with --anchor the speed ratio to the upstream CUDA kernel timed in the\n"
           "             same call, which takes delta ready-made\n"
           "  ssm_step   one decode state update (dt projection + softplus + state + D +\n"
           "             gate) at batch 1, 8, 64 x d_inner 1536, 4096, 5120 (also with\n"
           "             --decode-only), us per layer; with --anchor the ratio to the\n"
           "             upstream Triton selective_state_update; first the time an empty\n"
           "             launch reads by the same events (its floor on this device)\n"
           "  prefill    tokens/s at L = 128, 512, 2048, 8192 (batch 1), time per kernel\n"
           "  decode     tokens/s at batch 1, 8, 32, 64, bytes per token, %% of the roofline\n"
           "             (weight bytes / read bandwidth), launches per step, and the\n"
           "             profiled step split into kernel time and gaps, and the host's\n"
           "             time enqueuing the layers of an unprofiled step (close to the\n"
           "             step time: the host's launch rate, not the device, sets the pace);\n"
           "             the figure is the mean over the timed steps, and the median and\n"
           "             slowest step are printed beside it (a stall shows as a slow max);\n"
           "             at batch 1 also greedy decode through mcl_decode_greedy (steps\n"
           "             chained on the device where it can, else the host loop; which one\n"
           "             is printed), its ratio to the plain steps, and a profiled run's\n"
           "             time per kernel per step\n"
           "  startup    time from runtime creation to the first generated token, with\n"
           "             and without mambacl's binary cache (measured first, before the\n"
           "             other sections warm anything; the driver's own cache, if it has\n"
           "             one, is not cleared). It loads -m DIR, or the bundled model with\n"
           "             --config (random weights have no files to load); the output says which.\n"
           "Each line is printed when it is measured (also into a file or a pipe). Every\n"
           "argument, -m and the output paths are checked before any work.\n"
           "Defaults by device: on a GPU or accelerator --config 130m at full size; on a CPU\n"
           "--config tiny --quick (seconds instead of many minutes; give --config/-m or --full).\n"
           "\n"
           "  -m, --model DIR   a checkpoint directory\n"
           "  --config NAME     random weights of a released shape: 130m 370m 790m 1.4b 2.8b,\n"
           "                    or tiny (d_model 64, 2 layers; for CI). Default: by device\n"
           "  --dtype T         weight storage with --config: f32, f16 (default), bf16\n"
           "  --quick           small shapes and few repetitions (CI smoke run)\n"
           "  --full            the full shapes (the default on GPUs)\n"
           "  --decode-only     only the baselines and decode (no SGEMM, scan, prefill, startup)\n"
           "  --prefill-only    only the baselines and prefill (no scan, ssm_step, decode, startup)\n"
           "  --batch N         decode only batch N (1..64) instead of 1, 8, 32, 64 (2 with --quick)\n"
           "  --reps N          timed repetitions per measurement (median), default 10\n"
           "  --json FILE       write every figure as JSON\n"
           "  --csv FILE        write every figure as CSV rows (section,name,metric,value)\n"
           "  --anchor FILE     the JSON of ../shared/anchors/cuda-scan/bench.py measured in the\n"
           "                    same session on this machine: prints CUDA time / our time for\n"
           "                    its fp32 and bf16 columns at the shapes it has\n"
           "  --device SEL      device: index, gpu, cpu, pocl or a name substring\n");
}

static int parse(int argc, char **argv, bench_opts *o)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"config", required_argument, 0, 'c'},
        {"dtype", required_argument, 0, 't'}, {"device", required_argument, 0, 'd'},
        {"json", required_argument, 0, 'j'},  {"csv", required_argument, 0, 'v'},
        {"quick", no_argument, 0, 'q'},       {"reps", required_argument, 0, 'r'},
        {"full", no_argument, 0, 'F'},        {"anchor", required_argument, 0, 'a'},
        {"decode-only", no_argument, 0, 'D'}, {"batch", required_argument, 0, 'b'},
        {"prefill-only", no_argument, 0, 'P'},
        {"help", no_argument, 0, 'h'},        {0}};
    int c;
    long v;
    while ((c = cli_getopt(argc, argv, "hm:", opts)) != -1) {
        int rc = cli_model_source_option("bench", c, optarg, &o->src);
        if (rc >= 0) {
            if (rc != CLI_EXIT_OK) return rc;
            continue;
        }
        switch (c) {
        case 'h': help(); return -1;
        case 'd': o->ro.device = optarg; break;
        case 'j': o->json_path = optarg; break;
        case 'v': o->csv_path = optarg; break;
        case 'a': o->anchor_path = optarg; break;
        case 'q': o->quick = true; break;
        case 'F': o->full = true; break;
        case 'D': o->decode_only = true; break;
        case 'P': o->prefill_only = true; break;
        case 'b':
            if (!cli_parse_long("bench", "--batch", optarg, 1, 64, &v)) return CLI_EXIT_USAGE;
            o->batch = (int)v;
            break;
        case 'r':
            if (!cli_parse_long("bench", "--reps", optarg, 1, 1000, &v)) return CLI_EXIT_USAGE;
            o->reps = (int)v;
            break;
        default: return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) return cli_usage_error("bench", "unexpected argument '%s'", argv[optind]);
    if (o->quick && o->full) return cli_usage_error("bench", "give --quick or --full, not both");
    if (o->decode_only && o->prefill_only)
        return cli_usage_error("bench", "give --decode-only or --prefill-only, not both");
    return cli_model_source_check("bench", &o->src);
}

/* The figures of one run, collected as JSON and echoed as CSV and a table. */
typedef struct report {
    cJSON *root;
    FILE *csv;
} report;

/* A CSV value: integers in full ("16777216", not "1.67772e+07"), other
 * numbers with 9 significant digits. */
static void csv_value(FILE *f, double v)
{
    if (isfinite(v) && v == floor(v) && fabs(v) < 1e15) fprintf(f, "%.0f", v);
    else fprintf(f, "%.9g", v);
}

static void put(report *r, cJSON *obj, const char *section, const char *name, const char *metric, double v)
{
    cJSON_AddNumberToObject(obj, metric, isfinite(v) ? v : -1.0);
    if (!r->csv) return;
    fprintf(r->csv, "%s,%s,%s,", section, name, metric);
    csv_value(r->csv, v);
    fputc('\n', r->csv);
}

static mcl_status bench_baselines(mcl_runtime *rt, const bench_opts *o, report *r, double *copy_gbps,
                                  double *read_gbps)
{
    mcl_timing t;
    double gflops;
    size_t bytes = o->quick ? (16u << 20) : (256u << 20);
    size_t n = o->quick ? 256 : 4096;
    cJSON *b = cJSON_AddObjectToObject(r->root, "baselines");
    MCL_TRY(mcl_bench_copy(rt, bytes, o->reps, &t, copy_gbps));
    put(r, b, "baseline", "copy", "copy_ms", t.median_ms);
    put(r, b, "baseline", "copy", "copy_gbps", *copy_gbps);
    put(r, b, "baseline", "copy", "copy_bytes", (double)bytes);
    printf("baseline  float4 copy %zu MiB: %.3f ms, %.0f GB/s\n", bytes >> 20, t.median_ms, *copy_gbps);
    MCL_TRY(mcl_bench_read(rt, bytes, o->reps, &t, read_gbps));
    put(r, b, "baseline", "read", "read_ms", t.median_ms);
    put(r, b, "baseline", "read", "read_gbps", *read_gbps);
    printf("baseline  float4 read %zu MiB: %.3f ms, %.0f GB/s\n", bytes >> 20, t.median_ms, *read_gbps);
    if (o->decode_only) return MCL_OK;
    MCL_TRY(mcl_bench_sgemm(rt, n, o->quick ? 2 : o->reps, &t, &gflops));
    put(r, b, "baseline", "sgemm", "sgemm_n", (double)n);
    put(r, b, "baseline", "sgemm", "sgemm_ms", t.median_ms);
    put(r, b, "baseline", "sgemm", "sgemm_gflops", gflops);
    printf("baseline  CLBlast SGEMM %zu^3: %.3f ms, %.1f GFLOP/s\n", n, t.median_ms, gflops);
    return MCL_OK;
}

/* The scan shapes of issue 13 (those of the anchor harness). */
typedef struct scan_shape {
    int batch, d_inner, L;
} scan_shape;

/* The anchor's CUDA times (ms) at a shape, -1 when it has none. */
typedef struct anchor_ms {
    double fp32, bf16;
} anchor_ms;

static double json_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1.0;
}

/* Reads the anchor's "scan" rows; NULL (message printed) when unreadable. */
static cJSON *anchor_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text = f ? calloc(1, 1 << 20) : NULL;
    size_t len = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
    if (f) fclose(f);
    if (!text || len == 0) {
        cli_eprintf("mambacl bench: error: --anchor: cannot read %s", path);
        free(text);
        return NULL;
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "scan"))) {
        cli_eprintf("mambacl bench: error: --anchor %s: not the JSON of anchors/cuda-scan/bench.py", path);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

static anchor_ms anchor_find(const cJSON *root, const scan_shape *sh)
{
    anchor_ms a = {-1.0, -1.0};
    const cJSON *row;
    if (!root) return a;
    cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(root, "scan"))
    {
        if (json_num(row, "batch") == sh->batch && json_num(row, "d_inner") == sh->d_inner &&
            json_num(row, "L") == sh->L && json_num(row, "d_state") == 16) {
            a.fp32 = json_num(row, "fp32_ms");
            a.bf16 = json_num(row, "bf16_ms");
        }
    }
    return a;
}

static mcl_status bench_scan(mcl_runtime *rt, const bench_opts *o, report *r, double copy_gbps)
{
    static const scan_shape full[] = {{1, 1536, 128},  {1, 1536, 2048}, {1, 1536, 8192}, {1, 5120, 2048},
                                      {8, 1536, 2048}, {16, 2048, 2048}, {64, 1536, 512}};
    static const scan_shape quick[] = {{1, 64, 128}, {3, 96, 77}};
    const scan_shape *sh = o->quick ? quick : full;
    int n = o->quick ? 2 : 7;
    cJSON *arr = cJSON_AddArrayToObject(r->root, "scan");
    for (int i = 0; i < n; i++) {
        mcl_timing t;
        double gbps;
        int launches = 0;
        char name[64];
        MCL_TRY(mcl_bench_scan(rt, sh[i].batch, sh[i].d_inner, sh[i].L, 16, sh[i].d_inner / 32, o->reps, &t, &gbps,
                               &launches));
        snprintf(name, sizeof name, "%dx%dx%d", sh[i].batch, sh[i].d_inner, sh[i].L);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, e);
        cJSON_AddStringToObject(e, "shape", name);
        put(r, e, "scan", name, "ms", t.median_ms);
        put(r, e, "scan", name, "gbps", gbps);
        put(r, e, "scan", name, "pct_copy", 100.0 * gbps / copy_gbps);
        put(r, e, "scan", name, "launches", launches);
        printf("scan      %-14s %8.4f ms  %7.1f GB/s  %5.1f%% of copy", name, t.median_ms, gbps,
               100.0 * gbps / copy_gbps);
        if (launches > 1) printf("  (%d launches: dt pre-pass / split + scan)", launches);
        anchor_ms a = anchor_find(o->anchor, &sh[i]);
        if (a.fp32 > 0) {
            put(r, e, "scan", name, "anchor_fp32_ms", a.fp32);
            put(r, e, "scan", name, "x_anchor_fp32", a.fp32 / t.median_ms);
            printf("  %.2fx CUDA fp32 (%.4f)", a.fp32 / t.median_ms, a.fp32);
        }
        if (a.bf16 > 0) {
            put(r, e, "scan", name, "anchor_bf16_ms", a.bf16);
            put(r, e, "scan", name, "x_anchor_bf16", a.bf16 / t.median_ms);
            printf("  %.2fx CUDA bf16 (%.4f)", a.bf16 / t.median_ms, a.bf16);
        }
        printf("\n");
    }
    return MCL_OK;
}

/* The anchor's Triton selective_state_update time (ms) at (batch, d_inner), -1 when it has none. */
static double anchor_step(const cJSON *root, int batch, int d_inner)
{
    const cJSON *row;
    double ms = -1.0;
    if (!root) return ms;
    cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(root, "state_update"))
    {
        if (json_num(row, "batch") == batch && json_num(row, "d_inner") == d_inner) ms = json_num(row, "ms");
    }
    return ms;
}

/* ssm_step alone (one layer of a decode step, dt_rank d_inner/32, F16 W_dt)
 * at the anchor's state-update shapes, with its ratio where --anchor has it. */
static mcl_status bench_step(mcl_runtime *rt, const bench_opts *o, report *r)
{
    static const int full_d[] = {1536, 4096, 5120}, full_b[] = {1, 8, 64}, quick_d[] = {64, 96}, quick_b[] = {1, 3};
    const int *ds = o->quick ? quick_d : full_d, *bs = o->quick ? quick_b : full_b;
    int nd = o->quick ? 2 : 3, nb = o->quick ? 2 : 3, reps = o->reps < 20 ? 20 : o->reps;
    mcl_timing fl;
    MCL_TRY(mcl_bench_floor(rt, reps, &fl));
    cJSON_AddNumberToObject(r->root, "step_floor_us", 1000.0 * fl.median_ms);
    printf("ssm_step  an empty launch reads %.2f us by the same events (under every figure below)\n",
           1000.0 * fl.median_ms);
    cJSON *arr = cJSON_AddArrayToObject(r->root, "step");
    for (int i = 0; i < nd; i++)
        for (int j = 0; j < nb; j++) {
            mcl_timing t;
            char name[32];
            MCL_TRY(mcl_bench_step(rt, bs[j], ds[i], 16, ds[i] / 32 > 0 ? ds[i] / 32 : 1, reps, &t));
            snprintf(name, sizeof name, "%dx%d", bs[j], ds[i]);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToArray(arr, e);
            cJSON_AddStringToObject(e, "shape", name);
            put(r, e, "step", name, "us", 1000.0 * t.median_ms);
            printf("ssm_step  %-10s %8.2f us per layer", name, 1000.0 * t.median_ms);
            double a = anchor_step(o->anchor, bs[j], ds[i]);
            if (a > 0) {
                put(r, e, "step", name, "anchor_us", 1000.0 * a);
                put(r, e, "step", name, "x_anchor", a / t.median_ms);
                printf("  %.2fx Triton state update (%.2f us)", a / t.median_ms, 1000.0 * a);
            }
            printf("\n");
        }
    return MCL_OK;
}

/* Random ids in [0, vocab). */
static void fill_tokens(int32_t *t, int n, int vocab, uint32_t seed)
{
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        t[i] = (int32_t)((seed >> 8) % (uint32_t)vocab);
    }
}

/* Adds the per-kernel device time of the profiled runs since the last take,
 * divided by `runs`, to obj and the CSV. */
static int put_kernels(mcl_runtime *rt, report *r, cJSON *obj, const char *section, const char *name, int runs,
                       const char **names, double *ms)
{
    int n = mcl_runtime_profile_take(rt, names, ms, 64);
    for (int i = 0; i < n; i++) ms[i] /= runs;
    cJSON *k = cJSON_AddObjectToObject(obj, "kernels_ms");
    for (int i = 0; i < n; i++) {
        char metric[96];
        snprintf(metric, sizeof metric, "kernel_ms:%s", names[i]);
        cJSON_AddNumberToObject(k, names[i], ms[i]);
        if (r->csv) {
            fprintf(r->csv, "%s,%s,%s,", section, name, metric);
            csv_value(r->csv, ms[i]);
            fputc('\n', r->csv);
        }
    }
    return n;
}

/* TFLOP/s of each projection's GEMM in the profiled prefill of `rows` tokens
 * (kernel times named in_proj, x_proj, out_proj; ms[] per run) and the path
 * it took (known for --config models, whose weight dtype is given). */
static void put_gemm(mcl_runtime *rt, const mcl_model *m, const bench_opts *o, report *r, cJSON *obj,
                     const char *name, int rows, const char *const *names, const double *ms, int n)
{
    const mcl_config *c = mcl_model_config(m);
    const char *proj[3] = {"in_proj", "x_proj", "out_proj"};
    double nk[3][2] = {{2.0 * c->d_inner, c->d_model}, {c->dt_rank + 2.0 * c->d_state, c->d_inner},
                       {c->d_model, c->d_inner}};
    cJSON *g = cJSON_AddObjectToObject(obj, "gemm");
    for (int p = 0; p < 3; p++)
        for (int i = 0; i < n; i++) {
            if (strcmp(names[i], proj[p]) != 0 || ms[i] <= 0) continue;
            double tflops = 2.0 * rows * nk[p][0] * nk[p][1] * c->n_layer / (ms[i] * 1e9);
            const char *path = o->src.model_dir ? "checkpoint dtype"
                             : mcl_gemm_path_name(mcl_op_matmul_choice(rt, o->src.dtype, rows, (int)nk[p][0], (int)nk[p][1], 0.0f));
            cJSON *e = cJSON_AddObjectToObject(g, proj[p]);
            cJSON_AddNumberToObject(e, "tflops", tflops);
            cJSON_AddStringToObject(e, "path", path);
            if (r->csv) fprintf(r->csv, "prefill,%s,gemm_tflops:%s,%.6g\n", name, proj[p], tflops);
            printf("          %-8s %7.1f TFLOP/s (%s)\n", proj[p], tflops, path);
        }
}

static mcl_status prefill_once(mcl_runtime *rt, mcl_model *m, mcl_state *s, const int32_t *t, int len,
                               float *logits, double *ms)
{
    MCL_TRY(mcl_state_reset(s));
    MCL_TRY(mcl_runtime_finish(rt));
    double t0 = mcl_now_ms();
    const int32_t *toks[1] = {t};
    MCL_TRY(mcl_prefill(m, &s, toks, &len, 1, logits));
    MCL_TRY(mcl_runtime_finish(rt));
    *ms = mcl_now_ms() - t0;
    return MCL_OK;
}

/* Median wall time of prefills of `len` tokens without profiling, then one
 * profiled run for the time per kernel. */
static mcl_status bench_prefill_len(mcl_runtime *rt, mcl_model *m, const bench_opts *o, report *r, cJSON *arr,
                                    int len, mcl_state *s, int32_t *tokens, float *logits)
{
    double ms[1000], warm;
    mcl_timing t;
    MCL_TRY(mcl_runtime_set_profiling(rt, false));
    MCL_TRY(prefill_once(rt, m, s, tokens, len, logits, &warm));
    for (int i = 0; i < o->reps; i++) MCL_TRY(prefill_once(rt, m, s, tokens, len, logits, &ms[i]));
    mcl_timing_from(ms, o->reps, &t);
    MCL_TRY(mcl_runtime_set_profiling(rt, true));
    MCL_TRY(prefill_once(rt, m, s, tokens, len, logits, &warm));
    char name[32];
    snprintf(name, sizeof name, "L%d", len);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddItemToArray(arr, e);
    put(r, e, "prefill", name, "L", len);
    put(r, e, "prefill", name, "ms", t.median_ms);
    put(r, e, "prefill", name, "tokens_per_s", len / (t.median_ms / 1e3));
    const char *names[64];
    double kms[64];
    int nk = put_kernels(rt, r, e, "prefill", name, 1, names, kms);
    printf("prefill   L=%-5d %9.3f ms  %10.0f tokens/s\n", len, t.median_ms, len / (t.median_ms / 1e3));
    put_gemm(rt, m, o, r, e, name, len, names, kms, nk);
    return MCL_OK;
}

static mcl_status bench_prefill(mcl_runtime *rt, mcl_model *m, const bench_opts *o, report *r)
{
    static const int full[] = {128, 512, 2048, 8192}, quick[] = {16, 64};
    const int *lens = o->quick ? quick : full;
    int n = o->quick ? 2 : 4, vocab = mcl_model_vocab(m);
    int32_t *tokens = malloc((size_t)lens[n - 1] * sizeof *tokens);
    float *logits = malloc((size_t)vocab * sizeof *logits);
    mcl_state *s = NULL;
    mcl_status st = (tokens && logits) ? mcl_state_create(m, &s) : MCL_ERR_NOMEM;
    cJSON *arr = cJSON_AddArrayToObject(r->root, "prefill");
    if (st == MCL_OK) fill_tokens(tokens, lens[n - 1], vocab, 7);
    for (int i = 0; i < n && st == MCL_OK; i++) st = bench_prefill_len(rt, m, o, r, arr, lens[i], s, tokens, logits);
    mcl_state_free(s);
    free(tokens);
    free(logits);
    return st;
}

static int cmp_ms(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Decode: `steps` (<= 64) timed steps of B sequences after a 16-token
 * prefill. ms: the mean per step; step_ms[0..steps) each step's own wall
 * time, sorted (a step ends with its blocking logits read, so it is timed
 * whole); host_ms: the host's time enqueuing the layers, per step. */
static mcl_status decode_run(mcl_runtime *rt, mcl_model *m, mcl_state **s, int B, int steps, float *logits,
                             double *ms, double *host_ms, double *step_ms)
{
    int vocab = mcl_model_vocab(m), lens[256];
    int32_t prompt[16], next[256];
    const int32_t *toks[256];
    fill_tokens(prompt, 16, vocab, 3);
    for (int b = 0; b < B; b++) {
        MCL_TRY(mcl_state_reset(s[b]));
        toks[b] = prompt;
        lens[b] = 16;
        next[b] = prompt[b % 16];
    }
    MCL_TRY(mcl_prefill(m, s, toks, lens, B, NULL));
    MCL_TRY(mcl_decode(m, s, next, B, logits)); /* warm-up step */
    MCL_TRY(mcl_runtime_finish(rt));
    const char *names[64];
    double k[64];
    mcl_runtime_profile_take(rt, names, k, 64); /* drop the prefill's records */
    rt->host_layers_ms = 0.0;
    double t0 = mcl_now_ms(), ti = t0;
    for (int i = 0; i < steps; i++) {
        MCL_TRY(mcl_decode(m, s, next, B, logits));
        double tn = mcl_now_ms();
        step_ms[i] = tn - ti;
        ti = tn;
    }
    MCL_TRY(mcl_runtime_finish(rt));
    *ms = (mcl_now_ms() - t0) / steps;
    *host_ms = rt->host_layers_ms / steps;
    qsort(step_ms, (size_t)steps, sizeof *step_ms, cmp_ms);
    return MCL_OK;
}

/* Greedy decode of one sequence through mcl_decode_greedy: `steps` (<= 64)
 * steps after a 16-token prefill and a 4-step warm-up run, timed whole;
 * *ms per step, *done the steps run. With `profile` only the timed steps
 * are profiled (the profile is emptied before them; the caller takes it).
 * *chained: whether the steps ran chained on the device (src/model/chain.c)
 * rather than the host loop. */
static mcl_status greedy_run(mcl_model *m, mcl_state *s, int steps, bool profile, double *ms, int *done,
                             bool *chained)
{
    int32_t prompt[16], out[64];
    const int32_t *tok = prompt;
    int len = 16, n = 0;
    fill_tokens(prompt, 16, mcl_model_vocab(m), 3);
    MCL_TRY(mcl_runtime_set_profiling(m->rt, false));
    MCL_TRY(mcl_state_reset(s));
    MCL_TRY(mcl_prefill(m, &s, &tok, &len, 1, NULL));
    MCL_TRY(mcl_decode_greedy(m, s, prompt[15], 4, NULL, 0, out, &n)); /* warm-up */
    if (profile) {
        const char *names[64];
        double kms[64];
        MCL_TRY(mcl_runtime_finish(m->rt));
        MCL_TRY(mcl_runtime_set_profiling(m->rt, true));
        (void)mcl_runtime_profile_take(m->rt, names, kms, 64); /* empties it */
    }
    double t0 = mcl_now_ms();
    MCL_TRY(mcl_decode_greedy(m, s, out[n - 1], steps, NULL, 0, out, &n));
    *ms = (mcl_now_ms() - t0) / n;
    *done = n;
    mcl_runtime_lock(m->rt);
    mcl_status st = mcl_forward_decode_chainable(m, 1, chained);
    mcl_runtime_unlock(m->rt);
    *chained = *chained && !mcl_env_lists("MAMBACL_DISABLE", "chain");
    return st;
}

/* The profiled greedy run's time per step of each kernel (steps done),
 * into obj's "greedy" object and one printed line. */
static mcl_status greedy_kernels(mcl_runtime *rt, report *r, cJSON *obj, int done)
{
    const char *names[64];
    double kms[64], sum = 0;
    cJSON *g = cJSON_AddObjectToObject(obj, "greedy");
    if (!g) return mcl_error_set(MCL_ERR_NOMEM, "bench: out of host memory");
    int n = put_kernels(rt, r, g, "decode", "B1_greedy", done > 0 ? done : 1, names, kms);
    printf("decode    B=1 greedy kernels per step (profiled):");
    for (int i = 0; i < n; i++) {
        printf(" %s %.4f", names[i], kms[i]);
        sum += kms[i];
    }
    printf(" ms; sum %.4f\n", sum);
    return MCL_OK;
}

static mcl_status bench_decode(mcl_runtime *rt, mcl_model *m, const bench_opts *o, report *r, double read_gbps)
{
    static const int full[] = {1, 8, 32, 64}, quick[] = {1, 2};
    const int *bs = o->batch ? &o->batch : o->quick ? quick : full;
    int n = o->batch ? 1 : o->quick ? 2 : 4, steps = o->quick ? 4 : 64;
    mcl_state *s[64] = {0};
    float *logits = malloc((size_t)64 * (size_t)mcl_model_vocab(m) * sizeof *logits);
    mcl_status st = logits ? MCL_OK : mcl_error_set(MCL_ERR_NOMEM, "bench: out of host memory");
    for (int b = 0; b < 64 && st == MCL_OK; b++) st = mcl_state_create(m, &s[b]);
    cJSON *arr = cJSON_AddArrayToObject(r->root, "decode");
    double wbytes = (double)mcl_model_weight_bytes(m);
    for (int i = 0; i < n && st == MCL_OK; i++) {
        double ms = 0, pms = 0, host_ms = 0, phost = 0, step_ms[64], pstep[64];
        st = mcl_runtime_set_profiling(rt, false);
        if (st == MCL_OK) st = decode_run(rt, m, s, bs[i], steps, logits, &ms, &host_ms, step_ms);
        if (st == MCL_OK) st = mcl_runtime_set_profiling(rt, true);
        if (st == MCL_OK) st = decode_run(rt, m, s, bs[i], 4, logits, &pms, &phost, pstep); /* profiled: kernel split */
        if (st != MCL_OK) break;
        char name[32];
        snprintf(name, sizeof name, "B%d", bs[i]);
        double roof_ms = wbytes / (read_gbps * 1e6), kern_ms = 0, span_ms = 0;
        int launches = 0;
        mcl_bench_profile_span(rt, &launches, &kern_ms, &span_ms);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, e);
        put(r, e, "decode", name, "batch", bs[i]);
        put(r, e, "decode", name, "ms_per_step", ms);
        put(r, e, "decode", name, "tokens_per_s", bs[i] / (ms / 1e3));
        put(r, e, "decode", name, "weight_bytes_per_token", wbytes / bs[i]);
        put(r, e, "decode", name, "roofline_ms", roof_ms);
        put(r, e, "decode", name, "pct_roofline", 100.0 * roof_ms / ms);
        put(r, e, "decode", name, "host_layers_ms_per_step", host_ms);
        put(r, e, "decode", name, "ms_per_step_median", step_ms[steps / 2]);
        put(r, e, "decode", name, "ms_per_step_max", step_ms[steps - 1]);
        put(r, e, "decode", name, "ms_per_step_profiled", pms);
        put(r, e, "decode", name, "launches_per_step", launches / 4.0);
        put(r, e, "decode", name, "kernel_ms_per_step", kern_ms / 4);
        put(r, e, "decode", name, "gap_ms_per_step", (span_ms - kern_ms) / 4);
        const char *names[64];
        double kms[64];
        put_kernels(rt, r, e, "decode", name, 4, names, kms);
        printf("decode    B=%-3d %9.3f ms/step %9.0f tokens/s  %5.1f%% of roofline (%.3f ms)  %.0f launches, "
               "kernels %.3f + gaps %.3f ms\n", bs[i], ms, bs[i] / (ms / 1e3), 100.0 * roof_ms / ms, roof_ms,
               launches / 4.0, kern_ms / 4, (span_ms - kern_ms) / 4);
        printf("decode    B=%-3d host enqueues the layers in %.3f ms of the step's %.3f (unprofiled); steps: median "
               "%.3f, slowest %.3f ms\n", bs[i], host_ms, ms, step_ms[steps / 2], step_ms[steps - 1]);
        if (bs[i] == 1) {
            const mcl_dlayer_state *dl = &rt->dlayer; /* probed by the first batch-1 step */
            cJSON_AddStringToObject(e, "layer_path", dl->state == 1 ? "persistent" : "chain");
            if (dl->state == 1) { /* layers per launch, measured: the step's launches minus the embedding and the head */
                int nl = mcl_model_config(m)->n_layer;
                double runs = launches / 4.0 - 2.0, lpl = runs > 0 ? nl / runs : 0.0;
                cJSON_AddNumberToObject(e, "layers_per_launch", lpl);
                printf("decode    B=1 layers: persistent, %.1f layers per launch (%.0f launches for %d layers, %d "
                       "work-groups)\n", lpl, runs, nl, dl->groups);
            } else { /* the chain's launches per layer, measured: the step's minus the embedding and the head */
                int nl = mcl_model_config(m)->n_layer;
                double per = nl > 0 ? (launches / 4.0 - 2.0) / nl : 0.0;
                printf("decode    B=1 layers: a chain of %.0f launches each (persistent off: %s)\n", per,
                       dl->state < 0 ? dl->reason : "not used");
            }
            double gms = 0, pgms = 0;
            bool chained = false;
            int done = 0;
            if ((st = greedy_run(m, s[0], steps, false, &gms, &done, &chained)) != MCL_OK) break;
            put(r, e, "decode", name, "greedy_ms_per_step", gms);
            put(r, e, "decode", name, "greedy_tokens_per_s", 1e3 / gms);
            cJSON_AddStringToObject(e, "greedy_path", chained ? "chained" : "host loop");
            printf("decode    B=1 greedy (mcl_decode_greedy, %s): %9.3f ms/step %9.0f tokens/s, %.2fx the steps "
                   "above\n", chained ? "chained on the device" : "host loop", gms, 1e3 / gms, ms / gms);
            if ((st = greedy_run(m, s[0], steps, true, &pgms, &done, &chained)) != MCL_OK) break;
            if ((st = mcl_runtime_finish(rt)) != MCL_OK) break;
            if ((st = greedy_kernels(rt, r, e, done)) != MCL_OK) break;
        }
    }
    for (int b = 0; b < 64; b++) mcl_state_free(s[b]);
    free(logits);
    return st;
}

/* Runtime creation + model load + a 4-token prefill + one greedy token, as a
 * fresh `mambacl run` does it, in ms. */
static mcl_status time_to_first_token(const bench_opts *o, const char *dir, bool cache, double *ms)
{
    mcl_runtime_options ro = o->ro;
    ro.profiling = false;
    ro.no_cache = !cache;
    double t0 = mcl_now_ms();
    mcl_runtime *rt = NULL;
    mcl_model *m = NULL;
    mcl_state *s = NULL;
    MCL_TRY(mcl_runtime_create(&ro, &rt));
    mcl_status st = mcl_model_load(rt, dir, &m);
    if (st == MCL_OK) st = mcl_state_create(m, &s);
    float *logits = (st == MCL_OK) ? malloc((size_t)mcl_model_vocab(m) * sizeof *logits) : NULL;
    if (st == MCL_OK && !logits) st = mcl_error_set(MCL_ERR_NOMEM, "bench: out of host memory");
    if (st == MCL_OK) {
        int32_t prompt[4] = {1, 2, 3, 4};
        const int32_t *toks[1] = {prompt};
        int len = 4;
        st = mcl_prefill(m, &s, toks, &len, 1, logits);
    }
    if (st == MCL_OK) *ms = mcl_now_ms() - t0; /* logits are on the host: the first token is chosen */
    free(logits);
    mcl_state_free(s);
    mcl_model_free(m);
    mcl_runtime_free(rt);
    return st;
}

static mcl_status bench_startup(const bench_opts *o, report *r)
{
    char dir[4096];
    bool bundled = !o->src.model_dir;
    if (o->src.model_dir) snprintf(dir, sizeof dir, "%s", o->src.model_dir);
    else if (!cli_default_model(dir, sizeof dir)) {
        printf("startup   skipped: no model directory (give -m or set MAMBACL_MODEL)\n");
        return MCL_OK;
    }
    double cold = 0, warm = 0;
    MCL_TRY(time_to_first_token(o, dir, false, &cold));
    MCL_TRY(time_to_first_token(o, dir, true, &warm)); /* fills the cache if needed */
    MCL_TRY(time_to_first_token(o, dir, true, &warm));
    cJSON *e = cJSON_AddObjectToObject(r->root, "startup");
    cJSON_AddStringToObject(e, "model", dir);
    cJSON_AddBoolToObject(e, "bundled_model", bundled);
    cJSON_AddStringToObject(e, "note", "measured first; mambacl's binary cache off then on; the driver's own "
                                       "kernel cache (if any) untouched");
    put(r, e, "startup", "ttft", "ttft_no_cache_ms", cold);
    put(r, e, "startup", "ttft", "ttft_cache_ms", warm);
    printf("startup   first token: %.1f ms without mambacl's binary cache, %.1f ms with it (%s%s)\n", cold, warm,
           bundled ? "the bundled model: --config has no files; " : "", dir);
    return MCL_OK;
}

static mcl_status bench_model_sections(mcl_runtime *rt, const bench_opts *o, report *r, double copy_gbps,
                                       double read_gbps)
{
    mcl_model *m = NULL;
    if (!o->decode_only && !o->prefill_only) MCL_TRY(bench_scan(rt, o, r, copy_gbps));
    if (!o->prefill_only) MCL_TRY(bench_step(rt, o, r));
    MCL_TRY(cli_model_source_load(rt, &o->src, &m));
    cJSON *mo = cJSON_AddObjectToObject(r->root, "model");
    cJSON_AddStringToObject(mo, "source", o->src.model_dir ? o->src.model_dir : o->src.config);
    cJSON_AddStringToObject(mo, "dtype", o->src.model_dir ? "checkpoint" : mcl_dtype_name(o->src.dtype));
    cJSON_AddNumberToObject(mo, "weight_bytes", (double)mcl_model_weight_bytes(m));
    printf("model     %s, %.1f MB of weights\n", o->src.model_dir ? o->src.model_dir : o->src.config,
           (double)mcl_model_weight_bytes(m) / 1e6);
    mcl_status st = o->decode_only ? MCL_OK : bench_prefill(rt, m, o, r);
    if (st == MCL_OK && !o->prefill_only) st = bench_decode(rt, m, o, r, read_gbps);
    mcl_model_free(m);
    return st;
}

/* Checks before any work; CLI_EXIT_OK or the exit code after a message. */
static int check_args(bench_opts *o)
{
    if (o->src.model_dir && !cli_check_model_dir("bench", o->src.model_dir)) return CLI_EXIT_RUNTIME;
    if (o->json_path && !cli_check_output_file("bench", "--json", o->json_path)) return CLI_EXIT_USAGE;
    if (o->csv_path && !cli_check_output_file("bench", "--csv", o->csv_path)) return CLI_EXIT_USAGE;
    mcl_device_info dev;
    bool cpu = cli_target_device(o->ro.device, &dev) && dev.type == MCL_DEVICE_TYPE_CPU;
    if (cpu && !o->src.model_dir && !o->src.config && !o->full) {
        o->src.config = "tiny";
        o->quick = true;
        printf("a CPU device: --config tiny --quick (give --config NAME, -m DIR or --full for more)\n");
    }
    if (!o->src.model_dir && !o->src.config) o->src.config = "130m";
    if (o->anchor_path && !(o->anchor = anchor_load(o->anchor_path))) return CLI_EXIT_USAGE;
    return CLI_EXIT_OK;
}

static int write_json(const bench_opts *o, const report *r)
{
    char *s = cJSON_Print(r->root);
    FILE *f = s ? fopen(o->json_path, "w") : NULL;
    bool ok = f && fputs(s, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0) ok = false;
    free(s);
    if (ok) return CLI_EXIT_OK;
    cli_eprintf("mambacl bench: error: cannot write %s", o->json_path);
    return CLI_EXIT_RUNTIME;
}

int cmd_bench(int argc, char **argv)
{
    bench_opts o = {.src = {.dtype = MCL_DTYPE_F16}, .reps = 10};
    int rc = parse(argc, argv, &o);
    if (rc != CLI_EXIT_OK) return rc < 0 ? CLI_EXIT_OK : rc;
    setvbuf(stdout, NULL, _IOLBF, 0); /* each figure as it comes, also into a file or pipe */
    if ((rc = check_args(&o)) != CLI_EXIT_OK) return rc;
    if (o.quick && o.reps > 3) o.reps = 3;
    report r = {.root = cJSON_CreateObject()};
    if (o.csv_path && !(r.csv = fopen(o.csv_path, "w"))) {
        cJSON_Delete(r.root);
        cJSON_Delete(o.anchor);
        cli_eprintf("mambacl bench: error: cannot write %s", o.csv_path);
        return CLI_EXIT_RUNTIME;
    }
    if (r.csv) fprintf(r.csv, "section,name,metric,value\n");
    mcl_status st = o.decode_only || o.prefill_only ? MCL_OK : bench_startup(&o, &r); /* first: nothing warmed yet */
    o.ro.profiling = true;
    mcl_runtime *rt = NULL;
    double compile_ms = 0;
    if (st == MCL_OK) st = cli_runtime_create(&o.ro, false, &rt, &compile_ms);
    if (o.anchor) cJSON_AddStringToObject(r.root, "anchor", o.anchor_path);
    if (st == MCL_OK) {
        cJSON *dev = cJSON_AddObjectToObject(r.root, "device");
        cJSON_AddStringToObject(dev, "name", mcl_runtime_device(rt)->name);
        cJSON_AddStringToObject(dev, "platform", mcl_runtime_device(rt)->platform);
        cJSON_AddStringToObject(dev, "driver", mcl_runtime_device(rt)->driver_version);
        printf("device    %s (%s)\n", mcl_runtime_device(rt)->name, mcl_runtime_device(rt)->platform);
        double copy_gbps = 0, read_gbps = 0;
        st = bench_baselines(rt, &o, &r, &copy_gbps, &read_gbps);
        if (st == MCL_OK) st = bench_model_sections(rt, &o, &r, copy_gbps, read_gbps);
    }
    mcl_runtime_free(rt);
    if (r.csv && (ferror(r.csv) | fclose(r.csv)) && st == MCL_OK) {
        cli_eprintf("mambacl bench: error: cannot write %s", o.csv_path);
        rc = CLI_EXIT_RUNTIME;
    }
    if (st == MCL_OK && rc == CLI_EXIT_OK && o.json_path) rc = write_json(&o, &r);
    cJSON_Delete(r.root);
    cJSON_Delete(o.anchor);
    if (st != MCL_OK) return cli_runtime_error("bench", st);
    return rc;
}
