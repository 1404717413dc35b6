/* The mambacl command-line tool: subcommands and their shared helpers.
 * Exit codes: 0 success, 1 runtime error, 2 bad usage; messages on stderr. */
#ifndef MCL_CLI_H
#define MCL_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include "mambacl.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_RUNTIME = 1, CLI_EXIT_USAGE = 2 };

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} cli_command;

/* Prints "mambacl CMD: message" and a hint to --help; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "mambacl CMD: error: <mcl_last_error()>"; returns CLI_EXIT_RUNTIME. */
int cli_runtime_error(const char *cmd, mcl_status st);

/* Parses an integer option value in [min, max]; false after printing a usage
 * error. */
bool cli_parse_long(const char *cmd, const char *opt, const char *val, long min, long max, long *out);
bool cli_parse_double(const char *cmd, const char *opt, const char *val, double min, double max,
                      double *out);

/* Runs getopt_long from the start of argv (resets its state). Returns like
 * getopt_long; an unknown option or missing argument returns '?' after
 * getopt printed its message. */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);

/* Leaves the terminal progress bar: "label [#####.....] 42%" on stderr, only
 * when stderr is a terminal. frac in [0,1]; done=true ends the line. */
void cli_progress(const char *label, double frac, bool done);

/* The default model's directory ($MAMBACL_MODEL, else found relative to the
 * binary); false when there is none. */
bool cli_default_model(char *out, size_t cap);

/* Subcommands. */
int cmd_devices(int argc, char **argv);
int cmd_selftest(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
