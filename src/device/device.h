/* OpenCL platforms and devices: enumeration, the device record, selection. */
#ifndef MCL_DEVICE_H
#define MCL_DEVICE_H

#include <CL/cl.h>
#include "mambacl.h"

/* Enumerates devices like mcl_device_list and also returns their cl ids
 * (arrays of *count entries, freed by the caller with free()). `probe`:
 * also measure preferred_wg_multiple, which compiles a probe kernel per
 * device (slow on PoCL); without it the field is 0. */
mcl_status mcl_device_enumerate(mcl_device_info **infos, cl_platform_id **platforms,
                                cl_device_id **devices, int *count, bool probe);

/* Reads the device record of one device (probe: as above). */
mcl_status mcl_device_info_read(cl_platform_id platform, cl_device_id device,
                                mcl_device_info *info, bool probe);

/* The preferred work-group size multiple of a trivial kernel on the device,
 * 0 when it cannot be measured. */
size_t mcl_device_preferred_multiple(cl_platform_id platform, cl_device_id dev);

/* A short lower-case name of a device type ("gpu"). */
const char *mcl_device_type_name(mcl_device_type type);

/* True for a simulator (Oclgrind, by platform or device name): listed last
 * and never chosen unless asked for. */
bool mcl_device_is_simulator(const mcl_device_info *d);

/* The listing order of n records: perm[i] is the record listed i-th (real
 * GPUs, accelerators, CPUs, others, simulators; stable within a group).
 * mcl_device_enumerate applies it. */
void mcl_device_order(const mcl_device_info *list, int n, int *perm);

/* A file-name-safe key of the device: platform, device, driver version
 * ("nvidia-cuda__nvidia-h100-80gb-hbm3__580.159.04"). */
void mcl_device_key(const mcl_device_info *info, char *out, size_t cap);

#endif
