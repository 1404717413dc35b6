/* Shared helpers of the CLI: errors, number parsing, getopt, progress bar. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "mcl_internal.h"

#include "cli/cli.h"

void cli_fputs_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f) fprintf(f, "\\x%02x", c);
        else fputc(c, f);
    }
}

static void eprint_escaped(const char *fmt, va_list ap)
{
    char buf[4096];
    vsnprintf(buf, sizeof buf, fmt, ap);
    cli_fputs_escaped(stderr, buf);
    fputc('\n', stderr);
}

void cli_eprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    eprint_escaped(fmt, ap);
    va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cli_eprintf("mambacl %s: %s", cmd, line);
    cli_eprintf("Try 'mambacl %s --help'.", cmd);
    return CLI_EXIT_USAGE;
}

int cli_runtime_error(const char *cmd, mcl_status st)
{
    const char *msg = mcl_last_error();
    cli_eprintf("mambacl %s: error: %s", cmd, *msg ? msg : mcl_status_name(st));
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
    /* getopt's own messages are off: one line of ours, then the --help hint. */
    static char name[64], shorts[128];
    if (strncmp(argv[0], "mambacl ", 8) != 0) {
        snprintf(name, sizeof name, "mambacl %s", argv[0]);
        argv[0] = name;
    }
    snprintf(shorts, sizeof shorts, ":%s", shortopts);
    opterr = 0;
    int prev = optind ? optind : 1;
    int c = getopt_long(argc, argv, shorts, longopts, NULL);
    if (c != '?' && c != ':') return c;
    const char *cmd = argv[0] + 8, *arg = prev < argc ? argv[prev] : "";
    char shortname[3] = {'-', (char)optopt, 0};
    const char *what = (optopt && strncmp(arg, "--", 2) != 0) ? shortname : arg;
    if (c == ':') cli_usage_error(cmd, "option '%s' needs a value", what);
    else cli_usage_error(cmd, "unknown option '%s'", what);
    return '?';
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

/* ---- escapes ------------------------------------------------------------ */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

size_t cli_process_escapes(char *s)
{
    size_t r = 0, w = 0, n = strlen(s);
    while (r < n) {
        if (s[r] != '\\' || r + 1 >= n) {
            s[w++] = s[r++];
            continue;
        }
        char c = s[r + 1];
        const char *from = "nrtabfv'\"\\?0", *to = "\n\r\t\a\b\f\v'\"\\?\0";
        const char *hit = strchr(from, c);
        if (c && hit) {
            s[w++] = to[hit - from];
            r += 2;
        } else if (c == 'x' && r + 3 < n + 1 && hex_value(s[r + 2]) >= 0) {
            int v = hex_value(s[r + 2]);
            r += 3;
            if (r < n && hex_value(s[r]) >= 0) v = v * 16 + hex_value(s[r++]);
            s[w++] = (char)v;
        } else { /* unknown escape: kept as written, as llama.cpp does */
            s[w++] = s[r++];
            s[w++] = s[r++];
        }
    }
    s[w] = '\0';
    return w;
}

/* ---- files checked before any work ------------------------------------- */

bool cli_check_input_file(const char *cmd, const char *opt, const char *path)
{
    if (strcmp(path, "-") == 0) return true;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        cli_usage_error(cmd, "%s %s: %s", opt, path, strerror(errno));
        return false;
    }
    if (S_ISDIR(sb.st_mode)) {
        cli_usage_error(cmd, "%s %s: is a directory", opt, path);
        return false;
    }
    if (access(path, R_OK) != 0) {
        cli_usage_error(cmd, "%s %s: %s", opt, path, strerror(errno));
        return false;
    }
    return true;
}

bool cli_check_output_file(const char *cmd, const char *opt, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) return cli_usage_error(cmd, "%s %s: is a directory", opt, path), false;
        if (access(path, W_OK) != 0)
            return cli_usage_error(cmd, "%s %s: %s", opt, path, strerror(errno)), false;
        return true;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = '\0';
    else *slash = '\0';
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cli_usage_error(cmd, "%s %s: the directory %s does not exist", opt, path, dir), false;
    if (access(dir, W_OK) != 0)
        return cli_usage_error(cmd, "%s %s: cannot write in %s: %s", opt, path, dir, strerror(errno)), false;
    return true;
}

bool cli_check_model_dir(const char *cmd, const char *dir)
{
    mcl_checkpoint *ck = NULL;
    mcl_status st = mcl_checkpoint_open(dir, &ck);
    mcl_checkpoint_free(ck);
    if (st != MCL_OK) cli_runtime_error(cmd, st);
    return st == MCL_OK;
}

int cli_finish_output(const char *cmd, int rc)
{
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc == CLI_EXIT_OK) { /* else already reported */
        cli_eprintf("mambacl %s: error: writing the output failed: %s", cmd, strerror(errno ? errno : EIO));
        return CLI_EXIT_RUNTIME;
    }
    return rc;
}

void cli_check_cache_dir(void)
{
    static bool done;
    if (done) return;
    done = true;
    const char *nc = getenv("MAMBACL_NO_CACHE");
    if (nc && *nc && strcmp(nc, "0") != 0) return;
    char dir[4096];
    if (mcl_cache_dir(NULL, dir, sizeof dir) != MCL_OK) {
        cli_eprintf("mambacl: warning: no cache directory (%s); kernels are compiled on every run",
                mcl_last_error());
        mcl_error_clear();
        return;
    }
    struct stat sb;
    if (stat(dir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode))
            cli_eprintf("mambacl: warning: the cache directory %s is not a directory; kernels are compiled "
                            "on every run (set MAMBACL_CACHE_DIR)", dir);
        else if (access(dir, W_OK) != 0)
            cli_eprintf("mambacl: warning: cannot write the cache directory %s (%s); kernels are compiled "
                            "on every run", dir, strerror(errno));
        return;
    }
    /* Missing: the runtime creates it; check that its parent lets it. */
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) *slash = '\0';
    while (stat(parent, &sb) != 0 && (slash = strrchr(parent, '/')) && slash != parent) *slash = '\0';
    if (!S_ISDIR(sb.st_mode) || access(parent, W_OK) != 0)
        cli_eprintf("mambacl: warning: cannot create the cache directory %s; kernels are compiled on every "
                        "run", dir);
}
