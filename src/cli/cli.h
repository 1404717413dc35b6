/* The mambacl command-line tool: subcommands and their shared helpers.
 * Exit codes: 0 success, 1 runtime error, 2 bad usage; messages on stderr. */
#ifndef MCL_CLI_H
#define MCL_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include "mambacl.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_RUNTIME = 1, CLI_EXIT_USAGE = 2 };

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} cli_command;

/* Prints one line on stderr (the newline is added): the formatted text with
 * control characters (below 0x20, and 0x7f) written as \xHH, so that a path
 * or an environment value (MAMBACL_MODEL, MAMBACL_CACHE_DIR, ...) quoted in a
 * message cannot move the cursor, recolour the terminal or forge a line.
 * Every message of the CLI that quotes such a value goes through it. */
void cli_eprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes s to f with the same escapes (no newline): for a path on stdout. */
void cli_fputs_escaped(FILE *f, const char *s);

/* Prints "mambacl CMD: message" and a hint to --help (through cli_eprintf);
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "mambacl CMD: error: <mcl_last_error()>"; returns CLI_EXIT_RUNTIME. */
int cli_runtime_error(const char *cmd, mcl_status st);

/* Parses an integer option value in [min, max]; false after printing a usage
 * error. */
bool cli_parse_long(const char *cmd, const char *opt, const char *val, long min, long max, long *out);
bool cli_parse_double(const char *cmd, const char *opt, const char *val, double min, double max,
                      double *out);

/* Runs getopt_long over argv (the caller resets optind to 0 before the first
 * call). Returns like getopt_long, except that an unknown option or a
 * missing value returns '?' after printing one line naming it and the
 * --help hint: the caller then returns CLI_EXIT_USAGE. */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);

/* Leaves the terminal progress bar: "label [#####.....] 42%" on stderr, only
 * when stderr is a terminal. frac in [0,1]; done=true ends the line. */
void cli_progress(const char *label, double frac, bool done);

/* Processes C-style escapes in place as llama.cpp does: \n \r \t \a \b
 * \f \v \' \" \\ \? \0 and \xHH; an unknown escape stays as written.
 * Returns the new length (the text may now hold NUL bytes). */
size_t cli_process_escapes(char *s);

/* Checks before any work: an input file exists and is readable ('-' is
 * stdin: accepted), an output file can be created or replaced (its
 * directory exists and is writable), a model directory opens as a
 * checkpoint. false after printing the problem (usage error for files,
 * runtime error for the model). */
bool cli_check_input_file(const char *cmd, const char *opt, const char *path);
bool cli_check_output_file(const char *cmd, const char *opt, const char *path);
bool cli_check_model_dir(const char *cmd, const char *dir);

/* Flushes stdout: on a write error (a full disk, a closed stdout) prints it
 * and returns CLI_EXIT_RUNTIME, else rc. */
int cli_finish_output(const char *cmd, int rc);

/* Warns once on stderr when the kernel cache directory cannot be used (a
 * file, read-only): the kernels are then compiled on every run. */
void cli_check_cache_dir(void);

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
