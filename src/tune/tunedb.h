/* The tuning database: per-device files written by `mambacl tune` and a
 * built-in table for devices measured by the project.
 *
 * File: $MAMBACL_CACHE_DIR/tuning/<device key>.json
 *   {"format": "mambacl-tuning-1",
 *    "device": {"platform": "...", "name": "...", "driver": "..."},
 *    "families": {"scan.cl": {"params": {"SCAN_THREADS": 128, ...},
 *                             "time_ms": 0.081, "default_time_ms": 0.120,
 *                             "shape": "1x1536x2048"}, ...}}
 * A file that is not valid JSON, has another format, or names another device
 * is ignored with a warning. Only parameters the family declares are applied,
 * and only positive integers up to 1<<20. */
#ifndef MCL_TUNEDB_H
#define MCL_TUNEDB_H

#include "mambacl.h"
#include "tune/tune.h"

typedef struct mcl_tunedb mcl_tunedb;

#define MCL_TUNEDB_FORMAT "mambacl-tuning-1"

/* The path of the device's tuning file under cache_dir. */
void mcl_tunedb_path(const char *cache_dir, const mcl_device_info *dev, char *out, size_t cap);

/* Loads the device's file. *out is NULL when there is no usable file; then
 * `warning` (cap bytes) says why when a file existed but was refused. */
void mcl_tunedb_load(const char *path, const mcl_device_info *dev, mcl_tunedb **out, char *warning,
                     size_t cap);

/* An empty database for the device (for the tuner to fill). */
mcl_status mcl_tunedb_create(const mcl_device_info *dev, mcl_tunedb **out);
void mcl_tunedb_free(mcl_tunedb *db);

/* Overrides the entries of `params` (already holding the family's defaults)
 * with the database's values for program `file`. Returns the number applied. */
int mcl_tunedb_apply(const mcl_tunedb *db, const char *file, mcl_params *params);

/* Records the tuned parameters and times of a family. */
mcl_status mcl_tunedb_set(mcl_tunedb *db, const char *file, const mcl_params *params, double time_ms,
                          double default_time_ms, const char *shape);

/* Writes the database atomically (temporary file, rename); creates the directory. */
mcl_status mcl_tunedb_save(const mcl_tunedb *db, const char *path);

/* Applies the built-in entries for the device (the project's measured
 * devices); returns the number of parameters applied. */
int mcl_tunedb_apply_builtin(const mcl_device_info *dev, const char *file, mcl_params *params);

/* Where a device's tunables come from before any program is built: "tuned"
 * (a tuning file exists under cache_dir, which may be NULL), "built-in" (the
 * table has rows for it) or "default". */
const char *mcl_tunedb_source(const char *cache_dir, const mcl_device_info *dev);

#endif
