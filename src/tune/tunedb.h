/* The tuning database: per-device files written by `mambacl tune` and a
 * built-in table for devices measured by the project (generated at build
 * time from docs/perf/builtin.json by tools/gen_tunedb.py).
 *
 * File: $MAMBACL_CACHE_DIR/tuning/<device key>.json (the key names the
 * platform, device and driver: the vendor and device of every entry)
 *   {"format": "mambacl-tuning-2",
 *    "device": {"platform": "...", "name": "...", "driver": "..."},
 *    "families": {"scan.cl": [{"class": {"d_inner": [1024, 2047], "d_model": [512, 1023]},
 *                              "params": {"SCAN_DCH": 8, ...},
 *                              "time_ms": 0.081, "default_time_ms": 0.120,
 *                              "shape": "prefill 2048 tokens + decode batch 1"}, ...], ...}}
 * A family holds several configurations, each for a class of shapes (ranges
 * of d_inner, d_model, tokens, batch; a missing field or "class" is any).
 * "mambacl-tuning-1" files (one {"params": ...} object per family, class
 * any) are read too. A file that is not valid JSON, has another format, or
 * names another device is ignored with a warning. Every entry is untrusted:
 * one naming an unknown family or tunable, or with a value that is not an
 * integer, or a malformed class, is dropped with a warning naming it here;
 * the runtime then checks the complete configuration against the family's
 * rules and the device limits (mcl_tune_check) before it builds anything. */
#ifndef MCL_TUNEDB_H
#define MCL_TUNEDB_H

#include "mambacl.h"
#include "tune/tune.h"

typedef struct mcl_tunedb mcl_tunedb;

#define MCL_TUNEDB_FORMAT "mambacl-tuning-2"
#define MCL_TUNEDB_FORMAT_V1 "mambacl-tuning-1"

/* Configurations one family may hold (per source); more are ignored with a warning. */
#define MCL_TUNEDB_MAX_PER_FAMILY 8

/* One configuration: the tunables it sets (a subset of its family's, over the
 * defaults) for a class of shapes. */
typedef struct mcl_tune_entry {
    const mcl_family *fam;
    mcl_tune_class cls;
    mcl_params params;
    double time_ms, default_time_ms;
    char shape[96]; /* the workload it was measured on */
} mcl_tune_entry;

/* The path of the device's tuning file under cache_dir. */
void mcl_tunedb_path(const char *cache_dir, const mcl_device_info *dev, char *out, size_t cap);

/* Loads the device's file. *out is NULL when there is no usable file; then
 * `warning` (cap bytes) says why when a file existed but was refused. Entries
 * dropped from a usable file are named in `warning` too. */
void mcl_tunedb_load(const char *path, const mcl_device_info *dev, mcl_tunedb **out, char *warning,
                     size_t cap);

/* An empty database for the device (for the tuner to fill). */
mcl_status mcl_tunedb_create(const mcl_device_info *dev, mcl_tunedb **out);
void mcl_tunedb_free(mcl_tunedb *db);

/* The entries (in file order); NULL db has none. */
int mcl_tunedb_count(const mcl_tunedb *db);
const mcl_tune_entry *mcl_tunedb_entry(const mcl_tunedb *db, int i);

/* Records a family's configuration for a class, replacing the entry of the
 * same family and class. */
mcl_status mcl_tunedb_set(mcl_tunedb *db, const mcl_family *fam, const mcl_tune_class *cls,
                          const mcl_params *params, double time_ms, double default_time_ms,
                          const char *shape);

/* Writes the database atomically (temporary file, rename); creates the directory. */
mcl_status mcl_tunedb_save(const mcl_tunedb *db, const char *path);

/* The built-in entries that apply to the device (rows whose platform and
 * device substrings occur in its names), in table order: writes entry `i` of
 * those into *out and returns true, false past the end. */
bool mcl_tunedb_builtin(const mcl_device_info *dev, int i, mcl_tune_entry *out);

/* Where a device's tunables come from before any program is built: "tuned"
 * (a tuning file exists under cache_dir, which may be NULL), "built-in" (the
 * table has rows for it) or "default". */
const char *mcl_tunedb_source(const char *cache_dir, const mcl_device_info *dev);

/* ---- the generated built-in table (tunedb_builtin.c) ---- */
typedef struct mcl_tunedb_row {
    const char *platform, *device; /* substrings of the device's platform and name */
    const char *family;            /* MCL_F_* */
    mcl_tune_class cls;
    mcl_params params;
} mcl_tunedb_row;

extern const mcl_tunedb_row mcl_tunedb_builtin_rows[];
extern const int mcl_tunedb_builtin_count;

#endif
