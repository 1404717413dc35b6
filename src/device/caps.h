/* The capability layer: what a device offers beyond portable OpenCL 1.2.
 *
 * Each capability is first detected (an extension or a vendor attribute says
 * the device has it), then proven: a tiny probe kernel that uses it is
 * compiled and run, and its output compared with a known answer. A
 * capability is on only when detected, proven and not turned off by hand
 * (MAMBACL_DISABLE=ptx,subgroups,mma,fp16, comma-separated). Kernels see the
 * result as defines (mcl_caps_defines): they never test a vendor by name.
 *
 *   fp16       half arithmetic with `#pragma OPENCL EXTENSION cl_khr_fp16`
 *              (detected: cl_khr_fp16 listed, or NVIDIA sm_53+, whose driver
 *              compiles it without listing the extension)
 *   subgroups  sub_group_reduce_add / broadcast / get_sub_group_size
 *              (detected: cl_khr_subgroups or cl_intel_subgroups)
 *   ptx        inline PTX `asm volatile` (shfl.sync) (detected: NVIDIA, with
 *              cl_nv_device_attribute_query)
 *   mma        tensor cores through mma.sync.m16n8k16 f16 and bf16 with fp32
 *              accumulation, ldmatrix from __local and cp.async (detected:
 *              ptx on, compute capability >= 8.0)
 *
 * Intel DPAS and AMD matrix paths are not written: nothing here could run
 * them. Test-only: MAMBACL_TEST_PROBE_WRONG=<name> treats <name> as detected
 * and compiles its probe with MCL_PROBE_SABOTAGE, which makes the answer
 * wrong (or the build fail where the device lacks the feature): the
 * capability must then turn itself off. */
#ifndef MCL_CAPS_H
#define MCL_CAPS_H

#include <CL/cl.h>
#include "mambacl.h"

typedef enum mcl_vendor {
    MCL_VENDOR_OTHER = 0,
    MCL_VENDOR_NVIDIA,
    MCL_VENDOR_AMD,
    MCL_VENDOR_INTEL,
    MCL_VENDOR_CPU, /* a CPU device (PoCL, Intel's CPU runtime) */
} mcl_vendor;

typedef enum mcl_cap_id {
    MCL_CAP_FP16 = 0,
    MCL_CAP_SUBGROUPS,
    MCL_CAP_PTX,
    MCL_CAP_MMA,
    MCL_CAP_COUNT
} mcl_cap_id;

typedef struct mcl_cap_state {
    bool detected;    /* the device claims it */
    bool on;          /* detected, proven by its probe, not disabled */
    char reason[160]; /* why it is off ("" when on) */
} mcl_cap_state;

typedef struct mcl_caps {
    mcl_vendor vendor;
    int cc_major, cc_minor; /* NVIDIA compute capability, 0 when not NVIDIA */
    int warp_size;          /* NVIDIA warp size, 0 when unknown */
    int subgroup_size;      /* measured by the subgroup probe, 0 when off */
    mcl_cap_state cap[MCL_CAP_COUNT];
} mcl_caps;

/* "fp16", "subgroups", "ptx", "mma". */
const char *mcl_cap_name(mcl_cap_id id);

/* "nvidia", "amd", "intel", "cpu", "other". */
const char *mcl_vendor_name(mcl_vendor v);

/* Fills vendor, compute capability, warp size and the detected flags from
 * the device's attributes and extensions (no kernels). Every capability
 * starts off with the reason "not probed". */
mcl_status mcl_caps_detect(cl_device_id dev, const mcl_device_info *info, mcl_caps *out);

/* Runs the probe of every detected capability in `ctx` (a context holding
 * dev) and sets on/reason. A probe that fails to build, to run or answers
 * wrong turns its capability off with the reason; that is not an error.
 * Errors only for host memory. */
mcl_status mcl_caps_probe(cl_context ctx, cl_device_id dev, const mcl_device_info *info,
                          mcl_caps *caps);

/* A string naming everything that decides the probes' outcome (probe
 * sources, build options, test switches), for the cache key. Static. */
const char *mcl_caps_probe_signature(void);

/* Applies MAMBACL_DISABLE (read from the environment) to caps: a named
 * capability goes off with the reason "disabled by MAMBACL_DISABLE"; mma
 * follows ptx. Unknown names are ignored. */
void mcl_caps_apply_disable(mcl_caps *caps);

/* Appends " -DMCL_CAP_FP16=0|1 -DMCL_CAP_SUBGROUPS=.. -DMCL_CAP_PTX=..
 * -DMCL_CAP_MMA=.. -DMCL_SUBGROUP_SIZE=n -DMCL_WARP_SIZE=n" to out. */
void mcl_caps_defines(const mcl_caps *caps, char *out, size_t cap);

/* True when capability id is on. */
static inline bool mcl_caps_on(const mcl_caps *c, mcl_cap_id id) { return c->cap[id].on; }

#endif
