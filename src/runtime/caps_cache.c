/* Capability probes through the cache directory. See caps_cache.h. */
#include "runtime/caps_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "runtime/cache.h"

static mcl_status probe_fresh(cl_platform_id platform, cl_device_id dev, const mcl_device_info *info,
                              mcl_caps *out)
{
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)platform, 0};
    cl_int err;
    cl_context ctx = clCreateContext(props, 1, &dev, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        for (int i = 0; i < MCL_CAP_COUNT; i++)
            if (out->cap[i].detected) snprintf(out->cap[i].reason, sizeof out->cap[i].reason,
                                               "no context for the probe (%s)", mcl_cl_error_name(err));
        return MCL_OK;
    }
    mcl_status st = mcl_caps_probe(ctx, dev, info, out);
    clReleaseContext(ctx);
    return st;
}

mcl_status mcl_caps_load(cl_platform_id platform, cl_device_id dev, const mcl_device_info *info,
                         const char *cache_dir, mcl_caps *out)
{
    MCL_TRY(mcl_caps_detect(dev, info, out));
    char key[MCL_CACHE_KEY_LEN + 1];
    const char *parts[] = {mcl_caps_probe_signature(), info->name, info->driver_version,
                           info->platform_version, info->platform, NULL};
    mcl_cache_key(parts, key);
    bool cache = cache_dir && *cache_dir;
    unsigned char *data = NULL;
    size_t len = 0;
    if (cache && mcl_cache_load(cache_dir, "caps", key, &data, &len) && len == sizeof *out) {
        memcpy(out, data, sizeof *out);
        free(data);
    } else {
        free(data);
        MCL_TRY(probe_fresh(platform, dev, info, out));
        /* a cache that cannot be written costs a re-probe, not correctness */
        if (cache && mcl_cache_store(cache_dir, "caps", key, (const unsigned char *)out, sizeof *out) != MCL_OK)
            mcl_error_clear();
    }
    mcl_caps_apply_disable(out);
    return MCL_OK;
}
