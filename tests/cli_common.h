/* Helpers of the tests that drive the `mambacl` CLI: run a command, read a
 * JSON file. Failures end the current CMocka test. */
#ifndef CLI_COMMON_H
#define CLI_COMMON_H

#include <cjson/cJSON.h>

/* Runs a shell command; *out receives its stdout (malloc'ed); returns the
 * exit code (-1 when it did not exit normally). */
int cli_test_run(const char *cmd, char **out);

/* Parses the JSON file at path (cJSON_Delete it). */
cJSON *cli_test_read_json(const char *path);

/* $MAMBACL_CLI, the mambacl binary under test. */
const char *cli_test_binary(void);

#endif
