/* Where the default model is: $MAMBACL_MODEL, else beside the binary (the
 * source tree's models/ for a build directory, share/mambacl/models/ for an
 * installed binary). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define DEFAULT_MODEL "shakespeare-mamba"

static bool has_config(const char *dir)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/config.json", dir);
    return access(path, R_OK) == 0;
}

bool cli_default_model(char *out, size_t cap)
{
    const char *env = getenv("MAMBACL_MODEL");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return true;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return false;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return false;
    *slash = '\0'; /* the binary's directory */
    static const char *const rel[] = {"../models/" DEFAULT_MODEL, "../share/mambacl/models/" DEFAULT_MODEL,
                                      "../../models/" DEFAULT_MODEL};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        snprintf(out, cap, "%s/%s", exe, rel[i]);
        if (has_config(out)) return true;
    }
    return false;
}
