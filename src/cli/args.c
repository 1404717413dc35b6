/* Shared helpers of the CLI: errors, number parsing, getopt, progress bar. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "mambacl %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'mambacl %s --help'.\n", cmd);
    return CLI_EXIT_USAGE;
}

int cli_runtime_error(const char *cmd, mcl_status st)
{
    const char *msg = mcl_last_error();
    fprintf(stderr, "mambacl %s: error: %s\n", cmd, *msg ? msg : mcl_status_name(st));
    return CLI_EXIT_RUNTIME;
}

bool cli_parse_long(const char *cmd, const char *opt, const char *val, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(val, &end, 10);
    if (errno || end == val || *end != '\0' || v < min || v > max) {
        cli_usage_error(cmd, "%s wants an integer in [%ld, %ld], got '%s'", opt, min, max, val);
        return false;
    }
    *out = v;
    return true;
}

bool cli_parse_double(const char *cmd, const char *opt, const char *val, double min, double max,
                      double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(val, &end);
    if (errno || end == val || *end != '\0' || !isfinite(v) || v < min || v > max) {
        cli_usage_error(cmd, "%s wants a number in [%g, %g], got '%s'", opt, min, max, val);
        return false;
    }
    *out = v;
    return true;
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
    /* getopt names the program by argv[0] in its messages: make it "mambacl CMD". */
    static char name[64];
    if (strncmp(argv[0], "mambacl ", 8) != 0) {
        snprintf(name, sizeof name, "mambacl %s", argv[0]);
        argv[0] = name;
    }
    return getopt_long(argc, argv, shortopts, longopts, NULL);
}

void cli_progress(const char *label, double frac, bool done)
{
    if (!isatty(STDERR_FILENO)) return;
    if (frac < 0) frac = 0;
    if (frac > 1) frac = 1;
    int fill = (int)(frac * 30.0 + 0.5);
    fprintf(stderr, "\r%s [", label);
    for (int i = 0; i < 30; i++) fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %3d%%%s", (int)(frac * 100.0 + 0.5), done ? "\n" : "");
    fflush(stderr);
}
