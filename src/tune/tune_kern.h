/* Tunables of the non-scan kernel families (norm.cl, convert.cl, conv.cl,
 * gemv.cl): the rules that derive their defaults from the device record
 * (rows of families[] in tune.c point here) and gemv's declared candidate
 * space for the tuner. */
#ifndef MCL_TUNE_KERN_H
#define MCL_TUNE_KERN_H

#include "tune/tune.h"

void mcl_tune_norm_defaults(const mcl_device_info *dev, mcl_params *out);
void mcl_tune_convert_defaults(const mcl_device_info *dev, mcl_params *out);
void mcl_tune_conv_defaults(const mcl_device_info *dev, mcl_params *out);
void mcl_tune_gemv_defaults(const mcl_device_info *dev, mcl_params *out);
void mcl_tune_gemm_defaults(const mcl_device_info *dev, mcl_params *out);

/* Local memory (bytes) of gemm.cl's mma kernels and of gemm_simt. */
long mcl_tune_gemm_mma_local_bytes(const mcl_params *p);
long mcl_tune_gemm_simt_local_bytes(const mcl_params *p);

/* Whether a gemm.cl configuration fits the device (divisibility, work-group
 * size, local memory). */
bool mcl_tune_gemm_fits(const mcl_device_info *dev, const mcl_params *p);

/* One axis of a candidate space: a define and its candidate values. */
typedef struct mcl_tune_axis {
    const char *name; /* "GEMV_WG" */
    int n;
    long values[8];
} mcl_tune_axis;

/* A family's candidate space: the cartesian product of its axes, filtered by
 * `fits` (device limits, local memory, divisibility). */
typedef struct mcl_tune_space {
    const char *file; /* "gemv.cl" */
    int n_axes;
    mcl_tune_axis axes[6];
    bool (*fits)(const mcl_device_info *dev, const mcl_params *p);
} mcl_tune_space;

extern const mcl_tune_space mcl_tune_gemv_space;

/* Number of configurations in the product of the space's axes. */
int mcl_tune_space_size(const mcl_tune_space *space);

/* Configuration `index` (0 <= index < size) of the space into *out (cleared
 * first); returns whether it fits the device. */
bool mcl_tune_space_config(const mcl_tune_space *space, int index, const mcl_device_info *dev,
                           mcl_params *out);

/* Local memory (bytes) that a gemv configuration needs. */
long mcl_tune_gemv_local_bytes(const mcl_params *p);

#endif
