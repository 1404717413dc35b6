/* CLI helpers of the commands that run a model (logits, run): token id
 * lists and opening a device plus a model with a progress bar. */
#ifndef MCL_CLI_MODEL_H
#define MCL_CLI_MODEL_H

#include <stdint.h>
#include "cli/cli.h"

/* Parses "1 2 3" (ids separated by spaces or commas) into a malloc'ed array.
 * Prints a usage error naming the bad item and returns false when an item
 * is not a non-negative integer or the list is empty. */
bool cli_parse_ids(const char *cmd, const char *text, int32_t **ids, int *n);

/* Checks ids against the model's vocabulary: usage error when one is out of range. */
bool cli_check_ids(const char *cmd, const int32_t *ids, int n, int vocab);

/* mcl_runtime_create that says on stderr (unless quiet) that it compiles the
 * kernels when that takes more than a second, and warns once about an
 * unusable cache directory. *compile_ms receives the build time of the
 * programs that did not come from the cache (0 on a warm start). */
mcl_status cli_runtime_create(const mcl_runtime_options *ro, bool quiet, mcl_runtime **rt, double *compile_ms);

/* Opens the device `device` (NULL = default) and loads the model in `dir`,
 * showing a progress bar on a terminal (neither with quiet). After a cold
 * start (kernels compiled) it runs one short warm-up prefill and decode and
 * says how long compiling and warming up took, so that neither lands in
 * the figures of the work that follows. Returns CLI_EXIT_OK or prints the
 * error and returns CLI_EXIT_RUNTIME (nothing left to free then). */
int cli_open_model(const char *cmd, const char *device, const char *dir, bool quiet, mcl_runtime **rt,
                   mcl_model **model);

/* Where bench and tune get a model: a checkpoint directory (-m) or random
 * weights of a released shape (--config NAME, --dtype T). */
typedef struct cli_model_source {
    const char *model_dir, *config;
    mcl_dtype dtype; /* of random weights; F16 unless --dtype */
} cli_model_source;

/* Handles option c ('m', 'c' or 't' with optarg) for src; returns -1 when c
 * is none of them, else CLI_EXIT_OK or CLI_EXIT_USAGE (message printed). */
int cli_model_source_option(const char *cmd, int c, const char *arg, cli_model_source *src);

/* Checks -m against --config and the preset's name (neither given: the
 * command picks a default by device). */
int cli_model_source_check(const char *cmd, cli_model_source *src);

/* Loads the checkpoint or creates the random model on rt. */
mcl_status cli_model_source_load(mcl_runtime *rt, const cli_model_source *src, mcl_model **out);

/* The device a runtime with device selector `sel` (NULL = default) would
 * open, read without creating a runtime: false (error cleared) when none
 * matches or enumeration fails. For defaults that depend on the device. */
bool cli_target_device(const char *sel, mcl_device_info *out);

/* Frees what cli_open_model opened. */
void cli_close_model(mcl_runtime *rt, mcl_model *model);

#endif
