/* The tuning database (format in tunedb.h). */
#include "tune/tunedb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "device/device.h"
#include "base/error.h"
#include "base/file.h"

#define MAX_FILE (4u << 20)
#define MAX_VALUE (1L << 20)

struct mcl_tunedb {
    cJSON *root;
};

/* Built-in tuned entries: devices the project measured. A row applies when
 * both substrings occur in the platform and device names. */
typedef struct builtin_row {
    const char *platform, *device, *file, *param;
    long value;
} builtin_row;

static const builtin_row builtin[] = {
    /* NVIDIA H100 through NVIDIA's OpenCL (driver 580): `mambacl tune --config 1.4b
     * --reps 3`, 2026-11-24, docs/perf/tuning-h100.json (times per prefill of 2048
     * tokens + one decode step). gemv: derived default 4.27 ms -> 3.32 ms; ssm_step:
     * 0.57 -> 0.46 ms. The scan's tuned configuration (27.96 -> 22.40 ms at d_inner
     * 4096) is 2x slower at d_inner 1536, so the scan keeps its derived default
     * here; `mambacl tune -m MODEL` tunes it for one model's shapes. */
    {"NVIDIA CUDA", "H100", "gemv.cl", "GEMV_WG", 128},
    {"NVIDIA CUDA", "H100", "gemv.cl", "GEMV_LPR", 64},
    {"NVIDIA CUDA", "H100", "gemv.cl", "GEMV_RPL", 1},
    {"NVIDIA CUDA", "H100", "gemv.cl", "GEMV_BT", 4},
    {"NVIDIA CUDA", "H100", "ssm_step.cl", "STEP_WG", 64},
    {"NVIDIA CUDA", "H100", "ssm_step.cl", "STEP_LPC", 16},
    /* PoCL 3.1 on x86 CPUs: the CPU rule of mcl_tune_gemv_defaults (one work-item
     * per row walking it with float8 FMAs, 16 rows per item, 4 items per group):
     * `gemv_timing 4096 256 1 f16` on a 2-core Xeon, 0.81 -> 0.07-0.13 ms against
     * the earlier WG 64 LPR 8 RPL 2 BT 4 (the issue-12 branch, 2026-12-01). */
    {"Portable Computing Language", "", "gemv.cl", "GEMV_WG", 4},
    {"Portable Computing Language", "", "gemv.cl", "GEMV_LPR", 1},
    {"Portable Computing Language", "", "gemv.cl", "GEMV_RPL", 16},
    {"Portable Computing Language", "", "gemv.cl", "GEMV_BT", 1},
    {NULL, NULL, NULL, NULL, 0},
};

void mcl_tunedb_path(const char *cache_dir, const mcl_device_info *dev, char *out, size_t cap)
{
    char key[512];
    mcl_device_key(dev, key, sizeof key);
    snprintf(out, cap, "%s/tuning/%s.json", cache_dir, key);
}

static char *read_small_file(const char *path, char *warning, size_t cap)
{
    if (access(path, F_OK) != 0) return NULL; /* no file: not a warning */
    char *buf = NULL;
    size_t len = 0;
    if (mcl_read_text_file(path, MAX_FILE, &buf, &len) != MCL_OK)
        snprintf(warning, cap, "%s", mcl_last_error());
    return buf;
}

static bool same_string(const cJSON *obj, const char *key, const char *want)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) && strcmp(v->valuestring, want) == 0;
}

/* NULL when the document is usable, else the reason. */
static const char *check_doc(const cJSON *root, const mcl_device_info *dev)
{
    if (!cJSON_IsObject(root)) return "not a JSON object";
    if (!same_string(root, "format", MCL_TUNEDB_FORMAT)) return "unknown format (want " MCL_TUNEDB_FORMAT ")";
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "device");
    if (!cJSON_IsObject(d) || !same_string(d, "platform", dev->platform) || !same_string(d, "name", dev->name) ||
        !same_string(d, "driver", dev->driver_version))
        return "written for another device or driver";
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "families"))) return "no \"families\" object";
    return NULL;
}

void mcl_tunedb_load(const char *path, const mcl_device_info *dev, mcl_tunedb **out, char *warning,
                     size_t cap)
{
    *out = NULL;
    if (cap) warning[0] = '\0';
    char *text = read_small_file(path, warning, cap);
    if (!text) return;
    cJSON *root = cJSON_Parse(text);
    free(text);
    const char *why = root ? check_doc(root, dev) : "not valid JSON";
    if (why) {
        snprintf(warning, cap, "ignoring tuning file %s: %s", path, why);
        cJSON_Delete(root);
        return;
    }
    mcl_tunedb *db = malloc(sizeof *db);
    if (!db) {
        cJSON_Delete(root);
        snprintf(warning, cap, "ignoring tuning file %s: out of memory", path);
        return;
    }
    db->root = root;
    *out = db;
}

mcl_status mcl_tunedb_create(const mcl_device_info *dev, mcl_tunedb **out)
{
    *out = NULL;
    mcl_tunedb *db = malloc(sizeof *db);
    cJSON *root = cJSON_CreateObject();
    cJSON *d = cJSON_CreateObject();
    if (!db || !root || !d || !cJSON_AddStringToObject(root, "format", MCL_TUNEDB_FORMAT) ||
        !cJSON_AddStringToObject(d, "platform", dev->platform) || !cJSON_AddStringToObject(d, "name", dev->name) ||
        !cJSON_AddStringToObject(d, "driver", dev->driver_version) || !cJSON_AddItemToObject(root, "device", d) ||
        !cJSON_AddObjectToObject(root, "families")) {
        free(db);
        cJSON_Delete(root);
        return mcl_error_set(MCL_ERR_NOMEM, "out of host memory creating a tuning database");
    }
    db->root = root;
    *out = db;
    return MCL_OK;
}

void mcl_tunedb_free(mcl_tunedb *db)
{
    if (!db) return;
    cJSON_Delete(db->root);
    free(db);
}

int mcl_tunedb_apply(const mcl_tunedb *db, const char *file, mcl_params *params)
{
    if (!db) return 0;
    const cJSON *fams = cJSON_GetObjectItemCaseSensitive(db->root, "families");
    const cJSON *fam = cJSON_GetObjectItemCaseSensitive(fams, file);
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(fam, "params");
    int applied = 0;
    for (int i = 0; i < params->n; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(ps, params->p[i].name);
        if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > MAX_VALUE ||
            v->valuedouble != (double)(long)v->valuedouble)
            continue;
        params->p[i].value = (long)v->valuedouble;
        applied++;
    }
    return applied;
}

mcl_status mcl_tunedb_set(mcl_tunedb *db, const char *file, const mcl_params *params, double time_ms,
                          double default_time_ms, const char *shape)
{
    cJSON *fams = cJSON_GetObjectItemCaseSensitive(db->root, "families");
    cJSON_DeleteItemFromObjectCaseSensitive(fams, file);
    cJSON *fam = cJSON_AddObjectToObject(fams, file);
    cJSON *ps = fam ? cJSON_AddObjectToObject(fam, "params") : NULL;
    if (!ps) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory in the tuning database");
    for (int i = 0; i < params->n; i++)
        if (!cJSON_AddNumberToObject(ps, params->p[i].name, (double)params->p[i].value))
            return mcl_error_set(MCL_ERR_NOMEM, "out of host memory in the tuning database");
    if (!cJSON_AddNumberToObject(fam, "time_ms", time_ms) ||
        !cJSON_AddNumberToObject(fam, "default_time_ms", default_time_ms) ||
        !cJSON_AddStringToObject(fam, "shape", shape ? shape : ""))
        return mcl_error_set(MCL_ERR_NOMEM, "out of host memory in the tuning database");
    return MCL_OK;
}

static mcl_status make_parent_dir(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) return MCL_OK;
    *slash = '\0';
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return mcl_error_set(MCL_ERR_IO, "cannot create directory %s: %s", dir, strerror(errno));
    return MCL_OK;
}

mcl_status mcl_tunedb_save(const mcl_tunedb *db, const char *path)
{
    char tmp[4200];
    MCL_TRY(make_parent_dir(path));
    char *text = cJSON_Print(db->root);
    if (!text) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory writing %s", path);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    bool ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f) ok = (fclose(f) == 0) && ok;
    free(text);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return mcl_error_set(MCL_ERR_IO, "cannot write tuning file %s: %s", path, strerror(errno));
    }
    return MCL_OK;
}

static bool contains(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

int mcl_tunedb_apply_builtin(const mcl_device_info *dev, const char *file, mcl_params *params)
{
    int applied = 0;
    for (const builtin_row *r = builtin; r->file; r++) {
        if (strcmp(r->file, file) != 0 || !contains(dev->platform, r->platform) || !contains(dev->name, r->device))
            continue;
        for (int i = 0; i < params->n; i++) {
            if (strcmp(params->p[i].name, r->param) == 0) {
                params->p[i].value = r->value;
                applied++;
            }
        }
    }
    return applied;
}

const char *mcl_tunedb_source(const char *cache_dir, const mcl_device_info *dev)
{
    if (cache_dir) {
        char path[4200], warning[256];
        mcl_tunedb *db = NULL;
        mcl_tunedb_path(cache_dir, dev, path, sizeof path);
        mcl_tunedb_load(path, dev, &db, warning, sizeof warning);
        if (db) {
            mcl_tunedb_free(db);
            return "tuned";
        }
    }
    for (const builtin_row *r = builtin; r->file; r++)
        if (contains(dev->platform, r->platform) && contains(dev->name, r->device)) return "built-in";
    return "default";
}
