/* Capabilities of a device, probed once and kept in the cache directory
 * under a key of the probe sources, the test switches, the device, driver
 * and platform (as the kernel binaries are); MAMBACL_DISABLE is applied
 * after the cache, so it never needs a re-probe. */
#ifndef MCL_CAPS_CACHE_H
#define MCL_CAPS_CACHE_H

#include <CL/cl.h>
#include "device/caps.h"

/* Detects and proves the capabilities of (platform, dev) into *out, through
 * the cache in cache_dir (NULL or "": probe every time). The probes run in a
 * context of their own, so a faulting probe cannot spoil the caller's.
 * Errors: MCL_ERR_OPENCL when the device cannot be queried, MCL_ERR_NOMEM. */
mcl_status mcl_caps_load(cl_platform_id platform, cl_device_id dev, const mcl_device_info *info,
                         const char *cache_dir, mcl_caps *out);

#endif
