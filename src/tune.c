/* Kernel families and the rules that derive their tunables from the device. */
#include "tune.h"
#include "tune_kern.h"
#include "tune_scan.h"

#include <stdio.h>
#include <string.h>

long mcl_pow2_floor(long v)
{
    long p = 1;
    while (p * 2 <= v) p *= 2;
    return p;
}

/* Work-group size for simple element-wise kernels: 256 capped by the device. */
static long elementwise_wg(const mcl_device_info *dev)
{
    long wg = 256;
    if ((long)dev->max_work_group_size < wg) wg = mcl_pow2_floor((long)dev->max_work_group_size);
    return wg;
}

static void copy_defaults(const mcl_device_info *dev, mcl_params *out)
{
    mcl_params_set(out, "COPY_WG", elementwise_wg(dev));
}

/* One row per kernel family. Families added by later kernels go here. */
static const mcl_family families[] = {
    {"copy.cl", copy_defaults},
    {"norm.cl", mcl_tune_norm_defaults},
    {"convert.cl", mcl_tune_convert_defaults},
    {"conv.cl", mcl_tune_conv_defaults},
    {"gemv.cl", mcl_tune_gemv_defaults},
    {"scan.cl", mcl_tune_scan_defaults},
    {"ssm_step.cl", mcl_tune_step_defaults},
};

const mcl_family *mcl_tune_family(const char *file)
{
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (strcmp(families[i].file, file) == 0) return &families[i];
    return NULL;
}

void mcl_params_set(mcl_params *ps, const char *name, long value)
{
    for (int i = 0; i < ps->n; i++) {
        if (strcmp(ps->p[i].name, name) == 0) {
            ps->p[i].value = value;
            return;
        }
    }
    if (ps->n >= MCL_MAX_PARAMS) return;
    snprintf(ps->p[ps->n].name, sizeof ps->p[ps->n].name, "%s", name);
    ps->p[ps->n].value = value;
    ps->n++;
}

long mcl_params_get(const mcl_params *ps, const char *name, long fallback)
{
    for (int i = 0; i < ps->n; i++)
        if (strcmp(ps->p[i].name, name) == 0) return ps->p[i].value;
    return fallback;
}

void mcl_params_defines(const mcl_params *ps, char *out, size_t cap)
{
    size_t len = strlen(out);
    for (int i = 0; i < ps->n && len < cap; i++) {
        int n = snprintf(out + len, cap - len, " -D%s=%ld", ps->p[i].name, ps->p[i].value);
        if (n < 0) return;
        len += (size_t)n;
    }
}
