/* CLI helpers of the commands that run a model (logits, run): token id
 * lists and opening a device plus a model with a progress bar. */
#ifndef MCL_CLI_MODEL_H
#define MCL_CLI_MODEL_H

#include <stdint.h>
#include "cli.h"

/* Parses "1 2 3" (ids separated by spaces or commas) into a malloc'ed array.
 * Prints a usage error naming the bad item and returns false when an item
 * is not a non-negative integer or the list is empty. */
bool cli_parse_ids(const char *cmd, const char *text, int32_t **ids, int *n);

/* Checks ids against the model's vocabulary: usage error when one is out of range. */
bool cli_check_ids(const char *cmd, const int32_t *ids, int n, int vocab);

/* Opens the device `device` (NULL = default) and loads the model in `dir`,
 * showing a progress bar on a terminal. Returns CLI_EXIT_OK or prints the
 * error and returns CLI_EXIT_RUNTIME (nothing left to free then). */
int cli_open_model(const char *cmd, const char *device, const char *dir, mcl_runtime **rt,
                   mcl_model **model);

/* Frees what cli_open_model opened. */
void cli_close_model(mcl_runtime *rt, mcl_model *model);

#endif
