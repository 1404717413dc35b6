/* The tuning database (format in tunedb.h). */
#include "tune/tunedb.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "device/device.h"
#include "base/error.h"
#include "base/file.h"
#include "tune/families.h"

#define MAX_FILE (4u << 20)
#define MAX_VALUE (1L << 20)
#define MAX_ENTRIES (MCL_FAM_COUNT * MCL_TUNEDB_MAX_PER_FAMILY)

struct mcl_tunedb {
    mcl_device_info dev;
    int n;
    mcl_tune_entry e[MAX_ENTRIES];
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
    if (!same_string(root, "format", MCL_TUNEDB_FORMAT) && !same_string(root, "format", MCL_TUNEDB_FORMAT_V1))
        return "unknown format (want " MCL_TUNEDB_FORMAT ")";
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "device");
    if (!cJSON_IsObject(d) || !same_string(d, "platform", dev->platform) || !same_string(d, "name", dev->name) ||
        !same_string(d, "driver", dev->driver_version))
        return "written for another device or driver";
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "families"))) return "no \"families\" object";
    return NULL;
}

/* Appends "; " + the message to warning (cap bytes). */
static void warn_add(char *warning, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warn_add(char *warning, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(warning);
    if (len + 4 >= cap) return;
    if (len) {
        snprintf(warning + len, cap - len, "; ");
        len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(warning + len, cap - len, fmt, ap);
    va_end(ap);
}

/* An integer in [lo, hi] from a JSON number. */
static bool json_int(const cJSON *v, long lo, long hi, long *out)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)lo) || !(v->valuedouble <= (double)hi) ||
        v->valuedouble != (double)(long)v->valuedouble)
        return false;
    *out = (long)v->valuedouble;
    return true;
}

/* The "class" object: fields of mcl_shape_field_names, each [min, max] with
 * 0 <= min <= max (max 0: no upper bound). NULL: any. */
static const char *parse_class(const cJSON *c, mcl_tune_class *out)
{
    memset(out, 0, sizeof *out);
    if (!c) return NULL;
    if (!cJSON_IsObject(c)) return "\"class\" is not an object";
    const cJSON *f;
    cJSON_ArrayForEach(f, c) {
        int k = 0;
        while (k < MCL_SHAPE_FIELDS && strcmp(f->string, mcl_shape_field_names[k]) != 0) k++;
        if (k == MCL_SHAPE_FIELDS) return "unknown field in \"class\"";
        long lo, hi;
        if (!cJSON_IsArray(f) || cJSON_GetArraySize(f) != 2 || !json_int(cJSON_GetArrayItem(f, 0), 0, INT_MAX, &lo) ||
            !json_int(cJSON_GetArrayItem(f, 1), 0, INT_MAX, &hi) || (hi != 0 && hi < lo))
            return "a \"class\" range is not [min, max] with 0 <= min <= max";
        out->min[k] = (int)lo;
        out->max[k] = (int)hi;
    }
    return NULL;
}

/* One entry of family `fam` into *e; NULL or the reason it is refused. */
static const char *parse_entry(const mcl_family *fam, const cJSON *obj, mcl_tune_entry *e)
{
    static char why[160];
    memset(e, 0, sizeof *e);
    e->fam = fam;
    if (!cJSON_IsObject(obj)) return "not an object";
    const char *bad = parse_class(cJSON_GetObjectItemCaseSensitive(obj, "class"), &e->cls);
    if (bad) return bad;
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(obj, "params"), *v;
    if (!cJSON_IsObject(ps)) return "no \"params\" object";
    cJSON_ArrayForEach(v, ps) {
        long value;
        if (!mcl_tune_tunable(fam, v->string)) {
            snprintf(why, sizeof why, "%.40s is not a tunable of %s", v->string, fam->name);
            return why;
        }
        if (!json_int(v, -MAX_VALUE, MAX_VALUE, &value)) {
            snprintf(why, sizeof why, "%s is not an integer in [-2^20, 2^20]", v->string);
            return why;
        }
        if (mcl_params_get(&e->params, v->string, LONG_MIN) != LONG_MIN) {
            snprintf(why, sizeof why, "%s is given twice", v->string);
            return why;
        }
        mcl_params_set(&e->params, v->string, value);
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "time_ms");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(obj, "default_time_ms");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(obj, "shape");
    e->time_ms = cJSON_IsNumber(t) ? t->valuedouble : 0.0;
    e->default_time_ms = cJSON_IsNumber(d) ? d->valuedouble : 0.0;
    if (cJSON_IsString(sh)) snprintf(e->shape, sizeof e->shape, "%s", sh->valuestring);
    return NULL;
}

/* Reads every family's entries; drops bad ones with a warning naming them. */
static void read_entries(mcl_tunedb *db, const cJSON *fams, const char *path, char *warning, size_t cap)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, fams) {
        const mcl_family *fam = mcl_tune_family(f->string);
        if (!fam) {
            warn_add(warning, cap, "tuning file %s: ignoring unknown family \"%.40s\"", path, f->string);
            continue;
        }
        bool list = cJSON_IsArray(f);
        int n = list ? cJSON_GetArraySize(f) : 1, kept = 0;
        for (int i = 0; i < n; i++) {
            const cJSON *obj = list ? cJSON_GetArrayItem(f, i) : f;
            mcl_tune_entry e;
            const char *why = parse_entry(fam, obj, &e);
            if (!why && (kept >= MCL_TUNEDB_MAX_PER_FAMILY || db->n >= MAX_ENTRIES))
                why = "too many configurations for the family";
            if (why) {
                warn_add(warning, cap, "tuning file %s: ignoring %s entry %d: %s", path, fam->name, i, why);
                continue;
            }
            db->e[db->n++] = e;
            kept++;
        }
    }
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
    mcl_tunedb *db = why ? NULL : calloc(1, sizeof *db);
    if (!why && !db) why = "out of memory";
    if (why) {
        snprintf(warning, cap, "ignoring tuning file %s: %s", path, why);
        cJSON_Delete(root);
        return;
    }
    db->dev = *dev;
    read_entries(db, cJSON_GetObjectItemCaseSensitive(root, "families"), path, warning, cap);
    cJSON_Delete(root);
    *out = db;
}

mcl_status mcl_tunedb_create(const mcl_device_info *dev, mcl_tunedb **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory creating a tuning database");
    (*out)->dev = *dev;
    return MCL_OK;
}

void mcl_tunedb_free(mcl_tunedb *db) { free(db); }

int mcl_tunedb_count(const mcl_tunedb *db) { return db ? db->n : 0; }

const mcl_tune_entry *mcl_tunedb_entry(const mcl_tunedb *db, int i)
{
    return db && i >= 0 && i < db->n ? &db->e[i] : NULL;
}

mcl_status mcl_tunedb_set(mcl_tunedb *db, const mcl_family *fam, const mcl_tune_class *cls,
                          const mcl_params *params, double time_ms, double default_time_ms,
                          const char *shape)
{
    int i = 0;
    while (i < db->n && !(db->e[i].fam == fam && mcl_tune_class_equal(&db->e[i].cls, cls))) i++;
    if (i == db->n) {
        int same = 0;
        for (int k = 0; k < db->n; k++) same += db->e[k].fam == fam;
        if (db->n >= MAX_ENTRIES || same >= MCL_TUNEDB_MAX_PER_FAMILY)
            return mcl_error_set(MCL_ERR_INVALID_ARG, "tuning database: too many configurations of %s", fam->name);
        db->n++;
    }
    mcl_tune_entry *e = &db->e[i];
    memset(e, 0, sizeof *e);
    e->fam = fam;
    e->cls = *cls;
    e->params = *params;
    e->time_ms = time_ms;
    e->default_time_ms = default_time_ms;
    snprintf(e->shape, sizeof e->shape, "%s", shape ? shape : "");
    return MCL_OK;
}

/* The JSON of one entry, or NULL when out of memory. */
static cJSON *entry_json(const mcl_tune_entry *e)
{
    cJSON *o = cJSON_CreateObject(), *c = o ? cJSON_AddObjectToObject(o, "class") : NULL;
    cJSON *ps = c ? cJSON_AddObjectToObject(o, "params") : NULL;
    bool ok = ps != NULL;
    for (int f = 0; ok && f < MCL_SHAPE_FIELDS; f++) {
        if (e->cls.min[f] == 0 && e->cls.max[f] == 0) continue;
        int r[2] = {e->cls.min[f], e->cls.max[f]};
        cJSON *range = cJSON_CreateIntArray(r, 2);
        ok = range && cJSON_AddItemToObject(c, mcl_shape_field_names[f], range);
    }
    for (int i = 0; ok && i < e->params.n; i++)
        ok = cJSON_AddNumberToObject(ps, e->params.p[i].name, (double)e->params.p[i].value) != NULL;
    ok = ok && cJSON_AddNumberToObject(o, "time_ms", e->time_ms) &&
         cJSON_AddNumberToObject(o, "default_time_ms", e->default_time_ms) &&
         cJSON_AddStringToObject(o, "shape", e->shape);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *db_json(const mcl_tunedb *db)
{
    cJSON *root = cJSON_CreateObject(), *d = cJSON_CreateObject();
    cJSON *fams = NULL;
    bool ok = root && d && cJSON_AddStringToObject(root, "format", MCL_TUNEDB_FORMAT) &&
              cJSON_AddStringToObject(d, "platform", db->dev.platform) &&
              cJSON_AddStringToObject(d, "name", db->dev.name) &&
              cJSON_AddStringToObject(d, "driver", db->dev.driver_version) && cJSON_AddItemToObject(root, "device", d);
    if (!ok) cJSON_Delete(d);
    ok = ok && (fams = cJSON_AddObjectToObject(root, "families")) != NULL;
    for (int i = 0; ok && i < db->n; i++) {
        cJSON *list = cJSON_GetObjectItemCaseSensitive(fams, db->e[i].fam->name);
        if (!list) ok = (list = cJSON_AddArrayToObject(fams, db->e[i].fam->name)) != NULL;
        cJSON *e = ok ? entry_json(&db->e[i]) : NULL;
        ok = e && cJSON_AddItemToArray(list, e);
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* Creates every missing directory above path (as mkdir -p of its dirname). */
static mcl_status make_parent_dir(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) return MCL_OK;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return mcl_error_set(MCL_ERR_IO, "cannot create directory %s: %s", dir, strerror(errno));
        *p = '/';
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return mcl_error_set(MCL_ERR_IO, "cannot create directory %s: %s", dir, strerror(errno));
    return MCL_OK;
}

mcl_status mcl_tunedb_save(const mcl_tunedb *db, const char *path)
{
    char tmp[4200];
    MCL_TRY(make_parent_dir(path));
    cJSON *root = db_json(db);
    char *text = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory writing %s", path);
    /* A name of this process and call, created exclusively: two processes or
     * two threads saving at once each write their own file; the last rename
     * wins, and neither can truncate or rename away the other's file. */
    static atomic_uint serial;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&serial, 1));
    FILE *f = fopen(tmp, "wx");
    bool ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f) ok = (fclose(f) == 0) && ok;
    free(text);
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        if (f) unlink(tmp);
        return mcl_error_set(MCL_ERR_IO, "cannot write tuning file %s: %s", path, strerror(e));
    }
    return MCL_OK;
}

static bool contains(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

bool mcl_tunedb_builtin(const mcl_device_info *dev, int i, mcl_tune_entry *out)
{
    for (int r = 0; r < mcl_tunedb_builtin_count; r++) {
        const mcl_tunedb_row *row = &mcl_tunedb_builtin_rows[r];
        if (!contains(dev->platform, row->platform) || !contains(dev->name, row->device)) continue;
        if (i-- > 0) continue;
        memset(out, 0, sizeof *out);
        out->fam = mcl_tune_family(row->family);
        if (!out->fam) return false; /* the generator checks the names; see tools/gen_tunedb.py */
        out->cls = row->cls;
        out->params = row->params;
        snprintf(out->shape, sizeof out->shape, "built-in");
        return true;
    }
    return false;
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
    mcl_tune_entry e;
    return mcl_tunedb_builtin(dev, 0, &e) ? "built-in" : "default";
}
