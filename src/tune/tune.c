/* Kernel families and the rules that derive their tunables from the device. */
#include "tune/tune.h"
#include "tune/tune_kern.h"
#include "tune/tune_scan.h"

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

static int gemv_space_size(const mcl_device_info *dev)
{
    (void)dev;
    return mcl_tune_space_size(&mcl_tune_gemv_space);
}

static bool gemv_space_config(const mcl_device_info *dev, int index, mcl_params *out)
{
    return mcl_tune_space_config(&mcl_tune_gemv_space, index, dev, out);
}

/* One row per kernel family. Families added by later kernels go here. */
static const mcl_family families[] = {
    {"copy.cl", copy_defaults, NULL, NULL},
    {"norm.cl", mcl_tune_norm_defaults, NULL, NULL},
    {"convert.cl", mcl_tune_convert_defaults, NULL, NULL},
    {"conv.cl", mcl_tune_conv_defaults, NULL, NULL},
    {"gemv.cl", mcl_tune_gemv_defaults, gemv_space_size, gemv_space_config},
    {"gemm.cl", mcl_tune_gemm_defaults, NULL, NULL},
    {"scan.cl", mcl_tune_scan_defaults, mcl_tune_scan_space_size, mcl_tune_scan_space_config},
    {"ssm_step.cl", mcl_tune_step_defaults, mcl_tune_step_space_size, mcl_tune_step_space_config},
};

const mcl_family *mcl_tune_family_at(int i)
{
    if (i < 0 || (size_t)i >= sizeof families / sizeof families[0]) return NULL;
    return &families[i];
}

int mcl_tune_candidates(const mcl_family *fam, const mcl_device_info *dev, const mcl_params *base,
                        mcl_params *out, int cap)
{
    int count = 0;
    if (!fam->space_size || !fam->space_config) return 0;
    int n = fam->space_size(dev);
    for (int i = 0; i < n && count < cap; i++) {
        mcl_params cand = {0};
        if (!fam->space_config(dev, i, &cand)) continue;
        out[count] = *base; /* the candidate's tunables over the current ones */
        for (int k = 0; k < cand.n; k++) mcl_params_set(&out[count], cand.p[k].name, cand.p[k].value);
        count++;
    }
    return count;
}

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
