/* Where the default model is: $MAMBACL_MODEL, else beside the binary
 * (share/mambacl/models/ for an installed binary), else the configured
 * install directory, else the source tree the binary was built from (a build
 * directory inside or outside the source tree). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

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
    static const char *const rel[] = {"../share/mambacl/models/" DEFAULT_MODEL, "../models/" DEFAULT_MODEL};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        snprintf(out, cap, "%s/%s", exe, rel[i]);
        if (has_config(out)) return true;
    }
    /* Absolute fallbacks set by meson: the install location, then the source
     * tree of the build (so a build directory anywhere finds the model). */
    static const char *const abs_dirs[] = {MCL_INSTALL_MODELS_DIR, MCL_SOURCE_MODELS_DIR};
    for (size_t i = 0; i < sizeof abs_dirs / sizeof abs_dirs[0]; i++) {
        snprintf(out, cap, "%s/%s", abs_dirs[i], DEFAULT_MODEL);
        if (has_config(out)) return true;
    }
    return false;
}
