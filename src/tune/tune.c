/* The generic tuning engine (see tune.h): parameters, candidate spaces,
 * validation and shape classes. Knows no family by name. */
#include "tune/tune.h"

#include <stdio.h>
#include <string.h>

#include "base/error.h"

long mcl_pow2_floor(long v)
{
    long p = 1;
    while (p * 2 <= v) p *= 2;
    return p;
}

bool mcl_is_pow2(long v) { return v > 0 && (v & (v - 1)) == 0; }

long mcl_tune_max_wg(const mcl_device_info *dev)
{
    long m = (long)(dev->max_work_group_size ? dev->max_work_group_size : 1);
    long m0 = (long)dev->max_work_item_sizes[0];
    if (m0 > 0 && m0 < m) m = m0;
    return m;
}

long mcl_tune_wg_one(const mcl_params *p)
{
    (void)p;
    return 1;
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

mcl_status mcl_tune_get(const mcl_params *ps, const char *name, long *out)
{
    MCL_ASSERT(ps, "no configuration to read a tunable from");
    for (int i = 0; i < ps->n; i++) {
        if (strcmp(ps->p[i].name, name) == 0) {
            *out = ps->p[i].value;
            return MCL_OK;
        }
    }
    return mcl_error_set(MCL_ERR_INTERNAL, "internal error: tunable %s is not in this configuration "
                         "(a typo, or a tunable of another family)", name);
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

static bool host_only(const mcl_family *fam, const char *name)
{
    for (const char *const *h = fam ? fam->host_tunables : NULL; h && *h; h++)
        if (strcmp(*h, name) == 0) return true;
    return false;
}

void mcl_tune_program_defines(const mcl_family *fam, const mcl_params *ps, char *out, size_t cap)
{
    mcl_params kept = {0};
    for (int i = 0; i < ps->n; i++)
        if (!host_only(fam, ps->p[i].name)) kept.p[kept.n++] = ps->p[i];
    mcl_params_defines(&kept, out, cap);
}

bool mcl_tune_same_program(const mcl_family *fam, const mcl_params *a, const mcl_params *b)
{
    for (int k = 0; k < 2; k++) {
        const mcl_params *x = k ? b : a, *y = k ? a : b;
        for (int i = 0; i < x->n; i++)
            if (!host_only(fam, x->p[i].name) && mcl_params_get(y, x->p[i].name, -1) != x->p[i].value) return false;
    }
    return true;
}

const mcl_tunable *mcl_tune_tunable(const mcl_family *fam, const char *name)
{
    for (int i = 0; i < fam->n_tunables; i++)
        if (strcmp(fam->tunables[i].name, name) == 0) return &fam->tunables[i];
    return NULL;
}

void mcl_tune_defaults(const mcl_family *fam, const mcl_device_info *dev, mcl_params *out)
{
    memset(out, 0, sizeof *out);
    fam->defaults(dev, out);
}

/* The axes for the device (a proven matrix path and CPUs may have their
 * own), and the stage of axis a of them. */
static const mcl_tune_axis *axes_for(const mcl_family *fam, const mcl_device_info *dev, int *n)
{
    if (dev->has_matrix_path && fam->axes_matrix) {
        *n = fam->n_axes_matrix;
        return fam->axes_matrix;
    }
    if (dev->type == MCL_DEVICE_TYPE_CPU && fam->axes_cpu) {
        *n = fam->n_axes_cpu;
        return fam->axes_cpu;
    }
    *n = fam->n_axes;
    return fam->axes;
}

static int axis_stage(const mcl_family *fam, const mcl_device_info *dev, int a)
{
    const unsigned char *st = fam->stages;
    if (dev->has_matrix_path && fam->axes_matrix) st = fam->stages_matrix;
    else if (dev->type == MCL_DEVICE_TYPE_CPU && fam->axes_cpu) st = fam->stages_cpu;
    return st ? st[a] : 0;
}

int mcl_tune_stages(const mcl_family *fam, const mcl_device_info *dev)
{
    int n_axes, stages = 0;
    const mcl_tune_axis *axes = axes_for(fam, dev, &n_axes);
    for (int a = 0; axes && a < n_axes; a++)
        if (axis_stage(fam, dev, a) + 1 > stages) stages = axis_stage(fam, dev, a) + 1;
    return stages;
}

int mcl_tune_stage_size(const mcl_family *fam, const mcl_device_info *dev, int stage)
{
    int n_axes, size = 0;
    const mcl_tune_axis *axes = axes_for(fam, dev, &n_axes);
    for (int a = 0; axes && a < n_axes; a++)
        if (axis_stage(fam, dev, a) == stage) size = (size ? size : 1) * axes[a].n;
    return size;
}

int mcl_tune_space_size(const mcl_family *fam, const mcl_device_info *dev)
{
    int size = 0, stages = mcl_tune_stages(fam, dev);
    for (int s = 0; s < stages; s++) size += mcl_tune_stage_size(fam, dev, s);
    return size;
}

/* Point `index` of stage `stage` over base into *out. */
static bool stage_config(const mcl_family *fam, const mcl_device_info *dev, int stage, int index,
                         const mcl_params *base, mcl_params *out)
{
    int n_axes;
    const mcl_tune_axis *axes = axes_for(fam, dev, &n_axes);
    if (index < 0 || index >= mcl_tune_stage_size(fam, dev, stage)) return false;
    if (base) *out = *base;
    else mcl_tune_defaults(fam, dev, out);
    for (int a = n_axes - 1; a >= 0; a--) {
        if (axis_stage(fam, dev, a) != stage) continue;
        mcl_params_set(out, axes[a].name, axes[a].values[index % axes[a].n]);
        index /= axes[a].n;
    }
    if (fam->complete) fam->complete(dev, out);
    char why[8];
    return mcl_tune_check(fam, dev, out, why, sizeof why) && (!fam->in_space || fam->in_space(dev, out));
}

bool mcl_tune_space_config(const mcl_family *fam, const mcl_device_info *dev, int index,
                           const mcl_params *base, mcl_params *out)
{
    int stages = mcl_tune_stages(fam, dev);
    for (int s = 0; s < stages && index >= 0; s++) {
        int n = mcl_tune_stage_size(fam, dev, s);
        if (index < n) return stage_config(fam, dev, s, index, base, out);
        index -= n;
    }
    return false;
}

int mcl_tune_stage_candidates(const mcl_family *fam, const mcl_device_info *dev, int stage,
                              const mcl_params *base, mcl_params *out, int cap)
{
    int count = 0, n = mcl_tune_stage_size(fam, dev, stage);
    for (int i = 0; i < n && count < cap; i++)
        if (stage_config(fam, dev, stage, i, base, &out[count])) count++;
    return count;
}

int mcl_tune_candidates(const mcl_family *fam, const mcl_device_info *dev, const mcl_params *base,
                        mcl_params *out, int cap)
{
    int count = 0, stages = mcl_tune_stages(fam, dev);
    for (int s = 0; s < stages && count < cap; s++)
        count += mcl_tune_stage_candidates(fam, dev, s, base, out + count, cap - count);
    return count;
}

bool mcl_tune_check(const mcl_family *fam, const mcl_device_info *dev, const mcl_params *p, char *why,
                    size_t cap)
{
    for (int i = 0; i < p->n; i++) {
        const mcl_tunable *t = mcl_tune_tunable(fam, p->p[i].name);
        if (!t) {
            snprintf(why, cap, "%s is not a tunable of %s", p->p[i].name, fam->name);
            return false;
        }
        if (p->p[i].value < t->min || p->p[i].value > t->max) {
            snprintf(why, cap, "%s %ld is outside [%ld, %ld]", t->name, p->p[i].value, t->min, t->max);
            return false;
        }
    }
    for (int i = 0; i < fam->n_tunables; i++) {
        bool set = false;
        for (int k = 0; k < p->n && !set; k++) set = strcmp(p->p[k].name, fam->tunables[i].name) == 0;
        if (!set) {
            snprintf(why, cap, "%s is not set", fam->tunables[i].name);
            return false;
        }
    }
    if (fam->fits && !fam->fits(dev, p)) {
        snprintf(why, cap, "%s needs %s", fam->name, fam->rule ? fam->rule : "its rule (docs/tuning.md)");
        return false;
    }
    long wg = fam->work_group ? fam->work_group(p) : 0;
    if (wg > mcl_tune_max_wg(dev)) {
        snprintf(why, cap, "%ld work-items per group, above the device's %ld", wg, mcl_tune_max_wg(dev));
        return false;
    }
    long local = fam->local_bytes ? fam->local_bytes(p) : 0;
    if (local < 0 || (unsigned long long)local > dev->local_mem_bytes) {
        snprintf(why, cap, "%ld bytes of local memory, above the device's %llu", local,
                 (unsigned long long)dev->local_mem_bytes);
        return false;
    }
    return true;
}

/* ---- shape classes ------------------------------------------------------ */

const char *const mcl_shape_field_names[MCL_SHAPE_FIELDS] = {"d_inner", "d_model", "tokens", "batch"};

static bool field_bounded(const mcl_tune_class *c, int f) { return c->min[f] != 0 || c->max[f] != 0; }

bool mcl_tune_class_match(const mcl_tune_class *c, const mcl_shape *s)
{
    for (int f = 0; f < MCL_SHAPE_FIELDS; f++) {
        if (!field_bounded(c, f)) continue;
        int v = s->v[f];
        if (v <= 0 || v < c->min[f] || (c->max[f] != 0 && v > c->max[f])) return false;
    }
    return true;
}

int mcl_tune_class_bounded(const mcl_tune_class *c)
{
    int n = 0;
    for (int f = 0; f < MCL_SHAPE_FIELDS; f++) n += field_bounded(c, f);
    return n;
}

bool mcl_tune_class_equal(const mcl_tune_class *a, const mcl_tune_class *b)
{
    for (int f = 0; f < MCL_SHAPE_FIELDS; f++)
        if (a->min[f] != b->min[f] || a->max[f] != b->max[f]) return false;
    return true;
}

void mcl_tune_class_of_model(int d_inner, int d_model, mcl_tune_class *out)
{
    memset(out, 0, sizeof *out);
    int dims[2] = {d_inner, d_model}, fields[2] = {MCL_SHAPE_D_INNER, MCL_SHAPE_D_MODEL};
    for (int i = 0; i < 2; i++) {
        if (dims[i] <= 0) continue;
        long lo = mcl_pow2_floor(dims[i]);
        out->min[fields[i]] = (int)lo;
        out->max[fields[i]] = (int)(2 * lo - 1);
    }
}

void mcl_tune_class_format(const mcl_tune_class *c, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int f = 0; f < MCL_SHAPE_FIELDS && len < cap; f++) {
        if (!field_bounded(c, f)) continue;
        int n = c->max[f] ? snprintf(out + len, cap - len, "%s%s %d-%d", len ? ", " : "",
                                     mcl_shape_field_names[f], c->min[f], c->max[f])
                          : snprintf(out + len, cap - len, "%s%s >= %d", len ? ", " : "",
                                     mcl_shape_field_names[f], c->min[f]);
        if (n < 0) return;
        len += (size_t)n;
    }
    if (len == 0) snprintf(out, cap, "any");
}
