/* Environment variable readers (contracts in env.h). */
#include "base/env.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"

#define SHOWN 64 /* characters of a bad value quoted in a message */

const char *mcl_env_str(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

bool mcl_list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; p && n && (p = strstr(p, item)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) return true;
    return false;
}

bool mcl_env_lists(const char *name, const char *item) { return mcl_list_has(mcl_env_str(name), item); }

/* The value for a message: printable ASCII only, cut at SHOWN. */
static const char *shown(const char *v, char *buf)
{
    size_t i = 0;
    for (; v[i] && i + 1 < SHOWN; i++) buf[i] = isprint((unsigned char)v[i]) ? v[i] : '?';
    buf[i] = '\0';
    return buf;
}

mcl_status mcl_env_uint(const char *name, uint64_t min, uint64_t max, uint64_t *out, bool *set)
{
    const char *v = mcl_env_str(name);
    *set = false;
    if (!v) return MCL_OK;
    uint64_t x = 0;
    bool ok = strlen(v) <= 20;
    for (const char *p = v; ok && *p; p++) {
        if (!isdigit((unsigned char)*p) || x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) ok = false;
        else x = x * 10 + (uint64_t)(*p - '0');
    }
    char buf[SHOWN];
    if (!ok || x < min || x > max)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "%s='%s' is not a whole number in [%llu, %llu]", name,
                             shown(v, buf), (unsigned long long)min, (unsigned long long)max);
    *out = x;
    *set = true;
    return MCL_OK;
}

mcl_status mcl_env_flag(const char *name, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
    const char *v = mcl_env_str(name);
    *out = false;
    if (!v) return MCL_OK;
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) return *out = true, MCL_OK;
        if (strcasecmp(v, no[i]) == 0) return MCL_OK;
    }
    char buf[SHOWN];
    return mcl_error_set(MCL_ERR_INVALID_ARG, "%s='%s' is not a boolean (1/0, true/false, yes/no, on/off)",
                         name, shown(v, buf));
}
