/* The configurations of every kernel family and their programs: built at
 * startup from the defaults, the built-in table and the tuning file (each
 * entry validated), picked per launch by shape (see runtime.h). */
#include "runtime/configs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tune/families.h"
#include "tune/tunedb.h"

/* Priority of a source when two configurations have the same class. */
enum { SRC_BUILTIN = 1, SRC_FILE = 2 };

static void warn(mcl_runtime *rt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(mcl_runtime *rt, const char *fmt, ...)
{
    size_t len = strlen(rt->warnings), cap = sizeof rt->warnings;
    if (len + 4 >= cap) return;
    if (len) {
        snprintf(rt->warnings + len, cap - len, "; ");
        len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rt->warnings + len, cap - len, fmt, ap);
    va_end(ap);
}

/* "NAME=v NAME=v" of a parameter set. */
static void params_text(const mcl_params *p, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < p->n && len < cap; i++) {
        int n = snprintf(out + len, cap - len, "%s%s=%ld", i ? " " : "", p->p[i].name, p->p[i].value);
        if (n < 0) return;
        len += (size_t)n;
    }
}

static mcl_status add_kernels(mcl_runtime *rt, int prog_index)
{
    cl_program p = rt->programs[prog_index].program;
    cl_uint n = 0;
    MCL_CL_CHECK(clCreateKernelsInProgram(p, 0, NULL, &n), "clCreateKernelsInProgram(%s)",
                 rt->programs[prog_index].file);
    if (n == 0) return MCL_OK;
    cl_kernel *ks = calloc(n, sizeof *ks);
    mcl_kernel_entry *grown = realloc(rt->kernels, (size_t)(rt->n_kernels + (int)n) * sizeof *grown);
    if (!ks || !grown) {
        free(ks);
        if (grown) rt->kernels = grown;
        return mcl_error_set(MCL_ERR_NOMEM, "out of host memory creating kernels");
    }
    rt->kernels = grown;
    cl_int err = clCreateKernelsInProgram(p, n, ks, NULL);
    if (err != CL_SUCCESS) {
        free(ks);
        return mcl_error_cl(err, "clCreateKernelsInProgram(%s)", rt->programs[prog_index].file);
    }
    for (cl_uint i = 0; i < n; i++) {
        mcl_kernel_entry *e = &rt->kernels[rt->n_kernels++];
        memset(e, 0, sizeof *e);
        e->kernel = ks[i];
        e->program = prog_index;
        clGetKernelInfo(ks[i], CL_KERNEL_FUNCTION_NAME, sizeof e->name, e->name, NULL);
    }
    free(ks);
    return MCL_OK;
}

/* Drops the kernel entries of program i. */
static void remove_kernels(mcl_runtime *rt, int i)
{
    int k = 0;
    for (int j = 0; j < rt->n_kernels; j++) {
        if (rt->kernels[j].program == i) clReleaseKernel(rt->kernels[j].kernel);
        else rt->kernels[k++] = rt->kernels[j];
    }
    rt->n_kernels = k;
}

/* `file` from rt's kernel directory (else embedded) with the base options and params. */
static mcl_status build_with(const mcl_runtime *rt, const char *file, const mcl_params *params, mcl_program *out)
{
    char *src = NULL;
    char options[2048];
    snprintf(options, sizeof options, "%s", rt->base_options);
    if (params) mcl_tune_program_defines(mcl_tune_family(file), params, options, sizeof options);
    MCL_TRY(mcl_program_source(file, rt->kernel_dir[0] ? rt->kernel_dir : NULL, &src));
    mcl_status st = mcl_program_build(rt->ctx, rt->device, &rt->dev, file, src, options,
                                      rt->cache_dir[0] ? rt->cache_dir : NULL, out);
    free(src);
    return st;
}

mcl_status mcl_runtime_build_program(const mcl_runtime *rt, const char *file, const mcl_params *params,
                                     mcl_program *out)
{
    memset(out, 0, sizeof *out);
    return build_with(rt, file, params, out);
}

/* An earlier program of rt (not i) built from `file` with the same program
 * tunables as rt->params[i] (mcl_tune_same_program: host-only tunables
 * aside), or -1. Two configurations of one family can have equal tunables
 * for different shape classes (the built-in table has such rows on the
 * H200: scan.cl at batch 1 d_inner 5120-8191 and batch >= 2 d_inner
 * 1024-2047). */
static int same_program(const mcl_runtime *rt, int i, const char *file)
{
    const mcl_family *fam = mcl_tune_family(file);
    for (int j = 0; j < rt->n_programs; j++)
        if (j != i && rt->programs[j].program && strcmp(rt->programs[j].file, file) == 0 &&
            mcl_tune_same_program(fam, &rt->params[j], &rt->params[i]))
            return j;
    return -1;
}

/* Program i shares program j's cl_program (retained: each index releases
 * its own reference) and repeats its from_cache; it took no build time. */
static mcl_status share_program(mcl_runtime *rt, int i, int j)
{
    MCL_CL_CHECK(clRetainProgram(rt->programs[j].program), "clRetainProgram(%s)", rt->programs[j].file);
    rt->programs[i] = rt->programs[j];
    rt->programs[i].build_ms = 0.0;
    return MCL_OK;
}

/* Compiles program i of `file` with rt->params[i], or shares an identical
 * earlier program of rt (same_program): building it again would read back
 * the binary the first build just stored, a cache hit on a cold cache. */
static mcl_status compile_program(mcl_runtime *rt, int i, const char *file)
{
    int j = same_program(rt, i, file);
    if (j >= 0) MCL_TRY(share_program(rt, i, j));
    else MCL_TRY(build_with(rt, file, &rt->params[i], &rt->programs[i]));
    rt->reports[i].file = rt->programs[i].file;
    rt->reports[i].from_cache = rt->programs[i].from_cache;
    rt->reports[i].build_ms = rt->programs[i].build_ms;
    rt->reports[i].shapes = rt->shapes[i];
    return add_kernels(rt, i);
}

/* Whether every kernel of program i takes `wg` work-items per group and its
 * local memory fits the device, as compiled (registers can lower a kernel's
 * limit below the device's). MCL_ERR_INVALID_ARG naming the kernel if not. */
static mcl_status check_kernels(const mcl_runtime *rt, int i, long wg)
{
    for (int k = 0; k < rt->n_kernels; k++) {
        const mcl_kernel_entry *e = &rt->kernels[k];
        size_t kwg = 0;
        cl_ulong local = 0;
        if (e->program != i) continue;
        MCL_CL_CHECK(clGetKernelWorkGroupInfo(e->kernel, rt->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kwg, &kwg, NULL),
                     "clGetKernelWorkGroupInfo(%s)", e->name);
        MCL_CL_CHECK(clGetKernelWorkGroupInfo(e->kernel, rt->device, CL_KERNEL_LOCAL_MEM_SIZE, sizeof local, &local, NULL),
                     "clGetKernelWorkGroupInfo(%s)", e->name);
        if (wg > 0 && (size_t)wg > kwg)
            return mcl_error_set(MCL_ERR_INVALID_ARG, "kernel %s as compiled takes at most %zu work-items per group, "
                                 "the configuration needs %ld", e->name, kwg, wg);
        if (local > rt->dev.local_mem_bytes)
            return mcl_error_set(MCL_ERR_INVALID_ARG, "kernel %s as compiled needs %llu bytes of local memory",
                                 e->name, (unsigned long long)local);
    }
    return MCL_OK;
}

/* A new program of family `fam` (NULL: a file without tunables, `file`)
 * with tunables p, for class text `shapes`. A configuration that does not
 * come from the defaults is also checked as compiled (check_kernels). On
 * failure nothing of it is left. */
static mcl_status new_program(mcl_runtime *rt, const mcl_family *fam, const char *file, const mcl_params *p,
                              const char *shapes, const char *source, bool fallback, int *index)
{
    MCL_ASSERT(rt->n_programs < MCL_MAX_CONFIGS, "too many programs");
    int i = rt->n_programs;
    rt->params[i] = *p;
    snprintf(rt->shapes[i], sizeof rt->shapes[i], "%s", shapes);
    rt->fallback[i] = fallback;
    rt->reports[i].tuning = source;
    mcl_status st = compile_program(rt, i, file);
    if (st == MCL_OK && fam && strcmp(source, "default") != 0)
        st = check_kernels(rt, i, fam->work_group ? fam->work_group(p) : 0);
    if (st != MCL_OK) {
        remove_kernels(rt, i);
        mcl_program_release(&rt->programs[i]);
        memset(&rt->reports[i], 0, sizeof rt->reports[i]);
        return st;
    }
    rt->n_programs++;
    *index = i;
    return MCL_OK;
}

/* Inserts configuration c at position pos, building its program. */
static mcl_status insert_config(mcl_runtime *rt, int pos, mcl_tune_config c)
{
    MCL_ASSERT(rt->n_configs < MCL_MAX_CONFIGS, "too many configurations");
    char shapes[96];
    mcl_tune_class_format(&c.cls, shapes, sizeof shapes);
    MCL_TRY(new_program(rt, c.fam, c.fam->name, &c.params, shapes, c.source, c.fallback, &c.program));
    memmove(&rt->configs[pos + 1], &rt->configs[pos], (size_t)(rt->n_configs - pos) * sizeof c);
    rt->configs[pos] = c;
    rt->n_configs++;
    return MCL_OK;
}

/* Applies entry e over *p when the result passes the family's checks; else
 * a warning names the entry and why. Returns whether it was applied. */
static bool apply_entry(mcl_runtime *rt, const mcl_tune_entry *e, const char *from, mcl_params *p)
{
    mcl_params tmp = *p;
    char why[160], cls[96], vals[256];
    for (int i = 0; i < e->params.n; i++) mcl_params_set(&tmp, e->params.p[i].name, e->params.p[i].value);
    if (mcl_tune_check(e->fam, &rt->dev, &tmp, why, sizeof why)) {
        *p = tmp;
        return true;
    }
    mcl_tune_class_format(&e->cls, cls, sizeof cls);
    params_text(&e->params, vals, sizeof vals);
    warn(rt, "ignoring %s entry %s (shapes: %s; %s): %s", from, e->fam->name, cls, vals, why);
    return false;
}

/* A family's class configurations (not yet inserted) being gathered. */
typedef struct class_list {
    int n;
    mcl_tune_config c[MCL_TUNEDB_MAX_PER_FAMILY * 2];
    int prio[MCL_TUNEDB_MAX_PER_FAMILY * 2];
} class_list;

/* Adds (or, for an equal class of lower priority, replaces) a class config. */
static void class_add(class_list *l, const mcl_tune_config *c, int prio)
{
    for (int i = 0; i < l->n; i++) {
        if (!mcl_tune_class_equal(&l->c[i].cls, &c->cls)) continue;
        if (prio > l->prio[i]) {
            l->c[i] = *c;
            l->prio[i] = prio;
        }
        return;
    }
    if (l->n == (int)(sizeof l->c / sizeof l->c[0])) return;
    l->c[l->n] = *c;
    l->prio[l->n++] = prio;
}

/* One source's entry e, when of family fam: class any over the fallback
 * (pass 0), the others over the finished fallback into the list (pass 1). */
static void gather(mcl_runtime *rt, const mcl_family *fam, const mcl_tune_entry *e, int prio, int pass,
                   mcl_tune_config *fallback, class_list *l)
{
    const char *from = prio == SRC_FILE ? "tuning file" : "built-in tuning";
    if (e->fam != fam || (mcl_tune_class_bounded(&e->cls) == 0) != (pass == 0)) return;
    if (pass == 0) {
        if (apply_entry(rt, e, from, &fallback->params)) fallback->source = prio == SRC_FILE ? "tuned" : "built-in";
        return;
    }
    mcl_tune_config c = {fam, e->cls, fallback->params, prio == SRC_FILE ? "tuned" : "built-in", false, -1};
    if (apply_entry(rt, e, from, &c.params)) class_add(l, &c, prio);
}

/* Appends configuration c; when its program cannot be built or its kernels
 * as compiled do not take it, a warning names it and it is left out (only
 * running out of memory or an internal error is returned). */
static mcl_status insert_or_warn(mcl_runtime *rt, const mcl_tune_config *c)
{
    mcl_status st = insert_config(rt, rt->n_configs, *c);
    if (st == MCL_OK || st == MCL_ERR_NOMEM || st == MCL_ERR_INTERNAL) return st;
    char cls[96], vals[256];
    mcl_tune_class_format(&c->cls, cls, sizeof cls);
    params_text(&c->params, vals, sizeof vals);
    warn(rt, "ignoring %s configuration %s (shapes: %s; %s): %s", c->source, c->fam->name, cls, vals,
         mcl_last_error());
    mcl_error_clear();
    return MCL_OK;
}

/* MAMBACL_TUNE_SET="NAME=v,NAME=v" (experiments and device benchmarks: a
 * configuration tried without a tuning file) sets those of fam's tunables on
 * its fallback, over the defaults, the built-in table and the tuning file.
 * Names of other families are left to them; a malformed item is warned
 * about and skipped; the result is checked like any configuration. */
static void apply_env_set(mcl_runtime *rt, const mcl_family *fam, mcl_tune_config *fb)
{
    const char *s = getenv("MAMBACL_TUNE_SET");
    if (!s || !*s) return;
    mcl_params p = fb->params;
    bool any = false;
    for (const char *q = s; *q;) {
        const char *end = strchr(q, ',');
        size_t n = end ? (size_t)(end - q) : strlen(q);
        char item[64];
        if (n > 0 && n < sizeof item) {
            memcpy(item, q, n);
            item[n] = '\0';
            char *eq = strchr(item, '='), *rest = NULL;
            long v = eq ? strtol(eq + 1, &rest, 10) : 0;
            if (!eq || rest == eq + 1 || *rest) {
                warn(rt, "MAMBACL_TUNE_SET: '%s' is not NAME=integer", item);
            } else {
                *eq = '\0';
                for (int i = 0; i < fam->n_tunables; i++)
                    if (strcmp(fam->tunables[i].name, item) == 0) {
                        mcl_params_set(&p, item, v);
                        any = true;
                    }
            }
        }
        q += n + (end ? 1 : 0);
    }
    char why[160];
    if (!any) return;
    if (!mcl_tune_check(fam, &rt->dev, &p, why, sizeof why)) {
        warn(rt, "MAMBACL_TUNE_SET for %s refused: %s", fam->name, why);
        return;
    }
    fb->params = p;
    fb->source = "env";
}

/* Builds every configuration of family fam: the class configurations, most
 * specific first (ties: the tuning file before the built-in table), then
 * the fallback (defaults < built-in < tuning file, entries of class any). */
static mcl_status build_family(mcl_runtime *rt, const mcl_family *fam)
{
    mcl_tune_config fb = {fam, {{0}, {0}}, {0}, "default", true, -1};
    class_list l = {0};
    mcl_tune_entry e;
    char why[160];
    mcl_tune_defaults(fam, &rt->dev, &fb.params);
    if (!mcl_tune_check(fam, &rt->dev, &fb.params, why, sizeof why)) /* our rules' bug: say so, build as before */
        warn(rt, "the defaults of %s do not pass its own checks on this device: %s", fam->name, why);
    for (int pass = 0; pass < 2; pass++) {
        /* The built-in rows are measurements of real devices: a device under
         * test limits (MAMBACL_TEST_*) is not the one measured. */
        for (int i = 0; !rt->test_limits && mcl_tunedb_builtin(&rt->dev, i, &e); i++)
            gather(rt, fam, &e, SRC_BUILTIN, pass, &fb, &l);
        for (int i = 0; i < mcl_tunedb_count(rt->tunedb); i++)
            gather(rt, fam, mcl_tunedb_entry(rt->tunedb, i), SRC_FILE, pass, &fb, &l);
    }
    for (int b = MCL_SHAPE_FIELDS; b >= 1; b--)
        for (int prio = SRC_FILE; prio >= SRC_BUILTIN; prio--)
            for (int i = 0; i < l.n; i++)
                if (mcl_tune_class_bounded(&l.c[i].cls) == b && l.prio[i] == prio)
                    MCL_TRY(insert_or_warn(rt, &l.c[i]));
    apply_env_set(rt, fam, &fb);
    if (strcmp(fb.source, "default") != 0) {
        int before = rt->n_configs;
        mcl_status st = insert_or_warn(rt, &fb);
        if (st != MCL_OK || rt->n_configs > before) return st;
        mcl_tune_defaults(fam, &rt->dev, &fb.params); /* the tuned one was refused: the defaults */
        fb.source = "default";
    }
    if (fam->used && !fam->used(&fb.params)) {
        /* not run here (see mcl_family); one that this device cannot even
         * launch (gemv_mma.cl's warps of 32 on a device of smaller groups)
         * is not built: no kernels, no selftests, its launchers fall back */
        if (!mcl_tune_check(fam, &rt->dev, &fb.params, why, sizeof why)) return MCL_OK;
        return insert_or_warn(rt, &fb);
    }
    return insert_config(rt, rt->n_configs, fb);
}

mcl_status mcl_runtime_build_configs(mcl_runtime *rt)
{
    rt->programs = calloc(MCL_MAX_CONFIGS, sizeof *rt->programs);
    rt->reports = calloc(MCL_MAX_CONFIGS, sizeof *rt->reports);
    rt->params = calloc(MCL_MAX_CONFIGS, sizeof *rt->params);
    rt->shapes = calloc(MCL_MAX_CONFIGS, sizeof *rt->shapes);
    rt->fallback = calloc(MCL_MAX_CONFIGS, sizeof *rt->fallback);
    rt->configs = calloc(MCL_MAX_CONFIGS, sizeof *rt->configs);
    if (!rt->programs || !rt->reports || !rt->params || !rt->shapes || !rt->fallback || !rt->configs)
        return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    for (int i = 0; i < mcl_kernel_source_count; i++) {
        const char *file = mcl_kernel_sources[i].name;
        if (strcmp(file, MCL_COMMON_CL) == 0 || strcmp(file, MCL_PRIMS_CL) == 0) continue;
        const mcl_family *fam = mcl_tune_family(file);
        if (fam) {
            MCL_TRY(build_family(rt, fam));
            continue;
        }
        int index; /* a program without tunables */
        mcl_params none = {0};
        MCL_TRY(new_program(rt, NULL, file, &none, "any", "default", true, &index));
    }
    return MCL_OK;
}

void mcl_runtime_set_model_shape(mcl_runtime *rt, int d_inner, int d_model)
{
    rt->model_shape.v[MCL_SHAPE_D_INNER] = d_inner;
    rt->model_shape.v[MCL_SHAPE_D_MODEL] = d_model;
}

mcl_status mcl_runtime_pick(const mcl_runtime *rt, mcl_family_id fam, const mcl_shape *call,
                            const mcl_tune_config **out)
{
    mcl_shape s = {{0}};
    if (call) s = *call;
    for (int f = MCL_SHAPE_D_INNER; f <= MCL_SHAPE_D_MODEL; f++)
        if (s.v[f] <= 0) s.v[f] = rt->model_shape.v[f];
    for (int i = 0; i < rt->n_configs; i++) {
        const mcl_tune_config *c = &rt->configs[i];
        if (c->fam->id == fam && mcl_tune_class_match(&c->cls, &s)) {
            *out = c;
            return MCL_OK;
        }
    }
    *out = NULL;
    return mcl_error_set(MCL_ERR_INTERNAL, "internal error: no configuration of kernel family %d was built",
                         (int)fam);
}

mcl_status mcl_runtime_config_kernel(const mcl_runtime *rt, const mcl_tune_config *c, const char *name,
                                     cl_kernel *out)
{
    for (int i = 0; i < rt->n_kernels; i++) {
        if (rt->kernels[i].program == c->program && strcmp(rt->kernels[i].name, name) == 0) {
            *out = rt->kernels[i].kernel;
            return MCL_OK;
        }
    }
    *out = NULL;
    return mcl_error_set(MCL_ERR_INTERNAL, "no kernel named %s in the program of %s", name, c->fam->name);
}

mcl_status mcl_runtime_pick_kernel(const mcl_runtime *rt, mcl_family_id fam, const mcl_shape *call,
                                   const char *name, cl_kernel *k, const mcl_params **params)
{
    const mcl_tune_config *c;
    MCL_TRY(mcl_runtime_pick(rt, fam, call, &c));
    if (params) *params = &c->params;
    return mcl_runtime_config_kernel(rt, c, name, k);
}

mcl_status mcl_runtime_kernel(const mcl_runtime *rt, const char *name, cl_kernel *out)
{
    for (int i = 0; i < rt->n_kernels; i++) {
        if (rt->fallback[rt->kernels[i].program] && strcmp(rt->kernels[i].name, name) == 0) {
            *out = rt->kernels[i].kernel;
            return MCL_OK;
        }
    }
    *out = NULL;
    return mcl_error_set(MCL_ERR_INTERNAL, "no kernel named %s in the compiled programs", name);
}

mcl_status mcl_runtime_rebuild_config(mcl_runtime *rt, int config, const mcl_params *params)
{
    char why[160];
    MCL_ASSERT(config >= 0 && config < rt->n_configs, "configuration index out of range");
    mcl_tune_config *c = &rt->configs[config];
    if (!mcl_tune_check(c->fam, &rt->dev, params, why, sizeof why))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "%s: configuration refused: %s", c->fam->name, why);
    c->params = *params;
    c->source = "candidate";
    int i = c->program;
    MCL_TRY(mcl_runtime_finish(rt));
    remove_kernels(rt, i);
    mcl_program_release(&rt->programs[i]);
    rt->params[i] = *params;
    rt->reports[i].tuning = "candidate";
    return compile_program(rt, i, c->fam->name);
}

int mcl_runtime_fallback(const mcl_runtime *rt, const char *file)
{
    for (int i = 0; i < rt->n_configs; i++)
        if (rt->configs[i].fallback && strcmp(rt->configs[i].fam->name, file) == 0) return i;
    return -1;
}

mcl_status mcl_runtime_rebuild(mcl_runtime *rt, const char *file, const mcl_params *params)
{
    int i = mcl_runtime_fallback(rt, file);
    if (i < 0) return mcl_error_set(MCL_ERR_INVALID_ARG, "no program named %s", file);
    return mcl_runtime_rebuild_config(rt, i, params);
}

const mcl_params *mcl_runtime_params(const mcl_runtime *rt, const char *file)
{
    int i = mcl_runtime_fallback(rt, file);
    return i < 0 ? NULL : &rt->configs[i].params;
}

mcl_status mcl_runtime_config_add(mcl_runtime *rt, const mcl_family *fam, const mcl_tune_class *cls,
                                  const mcl_params *params, int *index)
{
    char why[160];
    int pos = -1, bounded = mcl_tune_class_bounded(cls);
    for (int i = 0; i < rt->n_configs; i++) {
        const mcl_tune_config *c = &rt->configs[i];
        if (c->fam != fam) continue;
        if (mcl_tune_class_equal(&c->cls, cls)) {
            *index = i;
            return MCL_OK;
        }
        if (pos < 0 && (c->fallback || mcl_tune_class_bounded(&c->cls) <= bounded)) pos = i;
    }
    MCL_ASSERT(pos >= 0, "the family has no fallback configuration");
    if (!mcl_tune_check(fam, &rt->dev, params, why, sizeof why))
        return mcl_error_set(MCL_ERR_INVALID_ARG, "%s: configuration refused: %s", fam->name, why);
    mcl_tune_config c = {fam, *cls, *params, "candidate", false, -1};
    MCL_TRY(insert_config(rt, pos, c));
    *index = pos;
    return MCL_OK;
}

void mcl_runtime_release_configs(mcl_runtime *rt)
{
    for (int i = 0; i < rt->n_kernels; i++) clReleaseKernel(rt->kernels[i].kernel);
    free(rt->kernels);
    for (int i = 0; i < rt->n_programs; i++) mcl_program_release(&rt->programs[i]);
    free(rt->programs);
    free(rt->reports);
    free(rt->params);
    free(rt->shapes);
    free(rt->fallback);
    free(rt->configs);
}
