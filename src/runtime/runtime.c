/* The runtime: device, context, queue, programs and kernels. */
#include "runtime/runtime.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clblast_c.h>

#include "device/device.h"
#include "runtime/cache.h"
#include "runtime/configs.h"
#include "runtime/caps_cache.h"
#include "base/env.h"
#include "base/error.h"
#include "tune/tunedb.h"

/* Live runtimes of the process: CLBlast's kernel cache (process-wide) is
 * cleared when the last one is freed, so that creating and freeing runtimes
 * in a loop does not grow the process. */
static atomic_int live_runtimes;

/* Appends a warning to rt->warnings ("; " between warnings). */
static void add_warning(mcl_runtime *rt, const char *fmt, ...) MCL_PRINTF(2, 3);
static void add_warning(mcl_runtime *rt, const char *fmt, ...)
{
    size_t n = strlen(rt->warnings);
    if (n && n + 2 < sizeof rt->warnings) n += (size_t)snprintf(rt->warnings + n, sizeof rt->warnings - n, "; ");
    if (n + 1 >= sizeof rt->warnings) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rt->warnings + n, sizeof rt->warnings - n, fmt, ap);
    va_end(ap);
}

static void base_options(const mcl_device_info *dev, const mcl_caps *caps, char *out, size_t cap)
{
    snprintf(out, cap,
             "-cl-std=CL1.2 -DMCL_LOCAL_MEM_BYTES=%llu -DMCL_MAX_WG=%zu -DMCL_WG_MULTIPLE=%zu "
             "-DMCL_HAS_FP16=%d -DMCL_DEVICE_CPU=%d",
             (unsigned long long)dev->local_mem_bytes, dev->max_work_group_size,
             dev->preferred_wg_multiple ? dev->preferred_wg_multiple : 1, dev->has_fp16 ? 1 : 0,
             dev->type == MCL_DEVICE_TYPE_CPU ? 1 : 0);
    mcl_caps_defines(caps, out, cap);
}

static mcl_status open_device(mcl_runtime *rt, const char *selector)
{
    mcl_device_info *list = NULL;
    cl_platform_id *plats = NULL;
    cl_device_id *devs = NULL;
    int count = 0, index = 0;
    mcl_status st = mcl_device_enumerate(&list, &plats, &devs, &count, false);
    if (st == MCL_OK) st = mcl_device_select(list, count, selector, &index);
    if (st == MCL_OK) {
        rt->dev = list[index];
        rt->platform = plats[index];
        rt->device = devs[index];
    }
    free(list);
    free(plats);
    free(devs);
    return st;
}

/* 10 * major + minor of an "OpenCL M.N ..." version string, 0 when unreadable. */
static int parse_cl_version(const char *s)
{
    int major = 0, minor = 0;
    if (sscanf(s, "OpenCL %d.%d", &major, &minor) != 2 || major < 1 || minor < 0 || minor > 9) return 0;
    return 10 * major + minor;
}

/* The queue, created the way the platform and device versions allow:
 * clCreateCommandQueueWithProperties from OpenCL 2.0 on, clCreateCommandQueue
 * on 1.x (Oclgrind's 1.2 platform hangs in the 2.0 call). */
static mcl_status create_queue(mcl_runtime *rt, bool profiling)
{
    cl_int err;
    cl_command_queue_properties props = profiling ? CL_QUEUE_PROFILING_ENABLE : 0;
    int pv = parse_cl_version(rt->dev.platform_version), dv = parse_cl_version(rt->dev.device_version);
    cl_command_queue q;
#if defined(CL_VERSION_2_0)
    if (pv >= 20 && dv >= 20) {
        cl_queue_properties qp[] = {CL_QUEUE_PROPERTIES, props, 0};
        q = clCreateCommandQueueWithProperties(rt->ctx, rt->device, qp, &err);
    } else
#endif
    {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        q = clCreateCommandQueue(rt->ctx, rt->device, props, &err);
#pragma GCC diagnostic pop
    }
    if (err != CL_SUCCESS)
        return mcl_error_cl(err, "clCreateCommandQueue%s (OpenCL %d.%d platform)",
                            pv >= 20 && dv >= 20 ? "WithProperties" : "", pv / 10, pv % 10);
    if (rt->queue) clReleaseCommandQueue(rt->queue);
    rt->queue = q;
    rt->profiling = profiling;
    return MCL_OK;
}

/* Loads this device's tuning file from the cache directory (also when the
 * binary cache is off); a refused file leaves a warning, not an error. */
static void load_tuning(mcl_runtime *rt, const char *cache_override)
{
    char dir[4096];
    if (mcl_cache_dir(cache_override, dir, sizeof dir) != MCL_OK) {
        mcl_error_clear();
        return;
    }
    mcl_tunedb_path(dir, &rt->dev, rt->tuning_path, sizeof rt->tuning_path);
    mcl_tunedb_load(rt->tuning_path, &rt->dev, &rt->tunedb, rt->warnings, sizeof rt->warnings);
}

/* The preferred work-group multiple of the device: measured by compiling a
 * probe kernel (tens of ms on some drivers), so kept in the cache directory
 * under a key of the device, driver and platform versions. */
static void probe_multiple(mcl_runtime *rt)
{
    char key[MCL_CACHE_KEY_LEN + 1];
    const char *parts[] = {"preferred-multiple-v1", rt->dev.name, rt->dev.driver_version,
                           rt->dev.platform_version, rt->dev.platform, NULL};
    unsigned char *data = NULL;
    size_t len = 0;
    mcl_cache_key(parts, key);
    if (rt->cache_dir[0] && mcl_cache_load(rt->cache_dir, "probe", key, &data, &len) && len == sizeof(uint64_t)) {
        uint64_t v;
        memcpy(&v, data, sizeof v);
        rt->dev.preferred_wg_multiple = (size_t)v;
        free(data);
        return;
    }
    free(data);
    rt->dev.preferred_wg_multiple = mcl_device_preferred_multiple(rt->platform, rt->device);
    uint64_t v = rt->dev.preferred_wg_multiple;
    if (rt->cache_dir[0] && v) mcl_cache_store(rt->cache_dir, "probe", key, (const unsigned char *)&v, sizeof v);
    mcl_error_clear();
}

/* Test-only overrides of the device record, to emulate other vendors' limits
 * on the CI's device (docs/robustness.md): MAMBACL_TEST_MAX_WG (work-group
 * size), MAMBACL_TEST_LOCAL_MEM (bytes of local memory), MAMBACL_TEST_WG_MULTIPLE
 * (the SIMD width the rules see) and MAMBACL_TEST_DEVICE_TYPE=gpu|cpu. A
 * limit may only shrink the real one (a kernel cannot use more than the
 * device has). The device name gets " [test limits]" so that neither binary
 * cache entries nor tuning files of the real device are used. A malformed
 * value is an error naming the variable. */
static mcl_status apply_test_limits(mcl_runtime *rt, bool after_probe)
{
    mcl_device_info *d = &rt->dev;
    uint64_t v = 0;
    bool set = false, any = false;
    if (after_probe) {
        MCL_TRY(mcl_env_uint("MAMBACL_TEST_WG_MULTIPLE", 1, d->max_work_group_size, &v, &set));
        if (set) d->preferred_wg_multiple = (size_t)v;
        return MCL_OK;
    }
    MCL_TRY(mcl_env_uint("MAMBACL_TEST_MAX_WG", 1, d->max_work_group_size, &v, &set));
    if (set) {
        d->max_work_group_size = (size_t)v;
        for (int i = 0; i < 3; i++)
            if (d->max_work_item_sizes[i] > v) d->max_work_item_sizes[i] = (size_t)v;
        any = true;
    }
    MCL_TRY(mcl_env_uint("MAMBACL_TEST_LOCAL_MEM", 1024, d->local_mem_bytes, &v, &set));
    if (set) d->local_mem_bytes = v, any = true;
    const char *type = mcl_env_str("MAMBACL_TEST_DEVICE_TYPE");
    if (type) {
        if (strcmp(type, "gpu") == 0) d->type = MCL_DEVICE_TYPE_GPU;
        else if (strcmp(type, "cpu") == 0) d->type = MCL_DEVICE_TYPE_CPU;
        else return mcl_error_set(MCL_ERR_INVALID_ARG, "MAMBACL_TEST_DEVICE_TYPE must be gpu or cpu");
        any = true;
    }
    any = any || mcl_env_str("MAMBACL_TEST_WG_MULTIPLE");
    rt->test_limits = any;
    if (any) {
        size_t n = strlen(d->name);
        snprintf(d->name + n, sizeof d->name - n, " [test limits]");
    }
    return MCL_OK;
}

/* The cache directory, or "" (a warning) when it cannot be used. */
static void choose_cache_dir(mcl_runtime *rt, const mcl_runtime_options *o)
{
    bool off = false;
    if (mcl_env_flag("MAMBACL_NO_CACHE", &off) != MCL_OK) {
        add_warning(rt, "%s; the binary cache stays on", mcl_last_error());
        mcl_error_clear();
    }
    rt->cache_dir[0] = '\0';
    if (o->no_cache || off) return;
    if (mcl_cache_dir(o->cache_dir, rt->cache_dir, sizeof rt->cache_dir) != MCL_OK) {
        add_warning(rt, "binary cache off: %s", mcl_last_error());
        mcl_error_clear();
        rt->cache_dir[0] = '\0';
    }
}

static mcl_status runtime_init(mcl_runtime *rt, const mcl_runtime_options *o)
{
    cl_int err;
    MCL_TRY(open_device(rt, o->device));
    MCL_TRY(apply_test_limits(rt, false));
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)rt->platform, 0};
    rt->ctx = clCreateContext(props, 1, &rt->device, NULL, NULL, &err);
    if (err != CL_SUCCESS) return mcl_error_cl(err, "clCreateContext(%s)", rt->dev.name);
    MCL_TRY(create_queue(rt, o->profiling));
    choose_cache_dir(rt, o);
    probe_multiple(rt);
    MCL_TRY(apply_test_limits(rt, true));
    MCL_TRY(mcl_caps_load(rt->platform, rt->device, &rt->dev, rt->cache_dir, &rt->caps));
    rt->dev.has_matrix_path = mcl_caps_on(&rt->caps, MCL_CAP_MMA); /* the tuning spaces follow it */
    char early[sizeof rt->warnings];
    snprintf(early, sizeof early, "%s", rt->warnings);
    rt->warnings[0] = '\0'; /* load_tuning rewrites it, except when there is no cache directory */
    load_tuning(rt, o->cache_dir);
    if (early[0]) add_warning(rt, "%s", early);
    const char *kdir = o->kernel_dir;
    if (!kdir || !*kdir) kdir = mcl_env_str("MAMBACL_KERNEL_DIR");
    if (kdir && strlen(kdir) >= sizeof rt->kernel_dir)
        return mcl_error_set(MCL_ERR_INVALID_ARG, "kernel directory path too long (%zu bytes)", strlen(kdir));
    if (kdir && *kdir) snprintf(rt->kernel_dir, sizeof rt->kernel_dir, "%s", kdir);
    base_options(&rt->dev, &rt->caps, rt->base_options, sizeof rt->base_options);
    return mcl_runtime_build_configs(rt);
}

void mcl_runtime_lock(mcl_runtime *rt)
{
    if (rt && rt->lock_made) pthread_mutex_lock(&rt->lock);
}

void mcl_runtime_unlock(mcl_runtime *rt)
{
    if (rt && rt->lock_made) pthread_mutex_unlock(&rt->lock);
}

static bool make_lock(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    if (pthread_mutexattr_init(&a) != 0) return false;
    bool ok = pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE) == 0 && pthread_mutex_init(m, &a) == 0;
    pthread_mutexattr_destroy(&a);
    return ok;
}

mcl_status mcl_runtime_create(const mcl_runtime_options *opts, mcl_runtime **out)
{
    mcl_runtime_options defaults = {0};
    *out = NULL;
    mcl_runtime *rt = calloc(1, sizeof *rt);
    if (!rt) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    if (!make_lock(&rt->lock)) {
        free(rt);
        return mcl_error_set(MCL_ERR_NOMEM, "cannot create the runtime's mutex");
    }
    rt->lock_made = true;
    atomic_fetch_add(&live_runtimes, 1);
    mcl_status st = runtime_init(rt, opts ? opts : &defaults);
    if (st != MCL_OK) {
        mcl_runtime_free(rt);
        return st;
    }
    *out = rt;
    return MCL_OK;
}

static void release_profile(mcl_runtime *rt)
{
    for (int i = 0; i < rt->n_prof; i++) clReleaseEvent(rt->prof[i].event);
    rt->n_prof = 0;
}

void mcl_runtime_free(mcl_runtime *rt)
{
    if (!rt) return;
    if (rt->queue) clFinish(rt->queue);
    release_profile(rt);
    free(rt->prof);
    for (int i = 0; i < 4; i++) mcl_buffer_release(&rt->gemm_ws[i]);
    mcl_buffer_release(&rt->scan_ws);
    mcl_buffer_release(&rt->scan_dt[0]);
    mcl_buffer_release(&rt->scan_dt[1]);
    mcl_buffer_release(&rt->dlayer.bar);
    mcl_runtime_release_configs(rt);
    mcl_tunedb_free(rt->tunedb);
    if (rt->queue) clReleaseCommandQueue(rt->queue);
    if (rt->ctx) clReleaseContext(rt->ctx);
    if (rt->lock_made) {
        pthread_mutex_destroy(&rt->lock);
        /* The last runtime: CLBlast's compiled kernels for the contexts just
         * released would otherwise stay cached for the process's life. */
        if (atomic_fetch_sub(&live_runtimes, 1) == 1) CLBlastClearCache();
    }
    free(rt);
}

const mcl_device_info *mcl_runtime_device(const mcl_runtime *rt) { return &rt->dev; }

const char *mcl_runtime_warnings(const mcl_runtime *rt) { return rt->warnings; }

const mcl_program_report *mcl_runtime_programs(const mcl_runtime *rt, int *count)
{
    *count = rt->n_programs;
    return rt->reports;
}

mcl_status mcl_runtime_set_profiling(mcl_runtime *rt, bool on)
{
    if (!rt) return mcl_error_set(MCL_ERR_INVALID_ARG, "mcl_runtime_set_profiling: NULL runtime");
    if (on == rt->profiling) return MCL_OK;
    mcl_runtime_lock(rt);
    mcl_status st = mcl_runtime_finish(rt);
    if (st == MCL_OK) {
        release_profile(rt);
        st = create_queue(rt, on);
    }
    mcl_runtime_unlock(rt);
    return st;
}

mcl_status mcl_buffer_create(const mcl_runtime *rt, cl_mem_flags flags, size_t bytes,
                             const char *what, cl_mem *out)
{
    cl_int err;
    *out = NULL;
    if (bytes == 0) bytes = 4; /* OpenCL refuses empty buffers; keep callers simple */
    if (bytes > rt->dev.max_alloc_bytes)
        return mcl_error_set(MCL_ERR_DEVICE_MEM,
                             "buffer %s needs %zu bytes, above the device's max allocation of %llu",
                             what, bytes, (unsigned long long)rt->dev.max_alloc_bytes);
    *out = clCreateBuffer(rt->ctx, flags, bytes, NULL, &err);
    if (err != CL_SUCCESS) {
        *out = NULL;
        return mcl_error_cl(err, "clCreateBuffer(%s, %zu bytes)", what, bytes);
    }
    return MCL_OK;
}

void mcl_buffer_release(cl_mem *mem)
{
    if (*mem) clReleaseMemObject(*mem);
    *mem = NULL;
}

void mcl_runtime_record_event(mcl_runtime *rt, const char *name, cl_event ev)
{
    if (rt->n_prof == rt->cap_prof) {
        int cap = rt->cap_prof ? rt->cap_prof * 2 : 256;
        mcl_prof_record *g = realloc(rt->prof, (size_t)cap * sizeof *g);
        if (!g) {
            clReleaseEvent(ev); /* a lost profile record is not an error */
            return;
        }
        rt->prof = g;
        rt->cap_prof = cap;
    }
    rt->prof[rt->n_prof].kernel = name;
    rt->prof[rt->n_prof].event = ev;
    rt->n_prof++;
}

/* The checks a device with the emulated limits would make at launch. */
static mcl_status check_test_limits(const mcl_runtime *rt, cl_kernel k, const char *name, cl_uint dims,
                                    const size_t *local)
{
    size_t wg = 1;
    for (cl_uint d = 0; local && d < dims; d++) {
        wg *= local[d];
        if (local[d] > rt->dev.max_work_item_sizes[d < 3 ? d : 2])
            return mcl_error_set(MCL_ERR_INTERNAL, "%s: local size %zu in dimension %u exceeds the emulated "
                                 "device's %zu", name, local[d], d, rt->dev.max_work_item_sizes[d < 3 ? d : 2]);
    }
    if (wg > rt->dev.max_work_group_size)
        return mcl_error_set(MCL_ERR_INTERNAL, "%s: work-group of %zu exceeds the emulated device's %zu", name, wg,
                             rt->dev.max_work_group_size);
    cl_ulong lmem = 0;
    MCL_CL_CHECK(clGetKernelWorkGroupInfo(k, rt->device, CL_KERNEL_LOCAL_MEM_SIZE, sizeof lmem, &lmem, NULL),
                 "clGetKernelWorkGroupInfo(%s, CL_KERNEL_LOCAL_MEM_SIZE)", name);
    if (lmem > rt->dev.local_mem_bytes)
        return mcl_error_set(MCL_ERR_INTERNAL, "%s: uses %llu bytes of local memory, above the emulated device's %llu",
                             name, (unsigned long long)lmem, (unsigned long long)rt->dev.local_mem_bytes);
    return MCL_OK;
}

mcl_status mcl_launch(mcl_runtime *rt, cl_kernel k, const char *name, cl_uint dims,
                      const size_t *global, const size_t *local)
{
    cl_event ev = NULL;
    if (rt->test_limits) MCL_TRY(check_test_limits(rt, k, name, dims, local));
    cl_int err = clEnqueueNDRangeKernel(rt->queue, k, dims, NULL, global, local, 0, NULL,
                                        rt->profiling ? &ev : NULL);
    if (err != CL_SUCCESS)
        return mcl_error_cl(err, "clEnqueueNDRangeKernel(%s, global %zu x %zu, local %zu)", name,
                            global[0], dims > 1 ? global[1] : 1, local ? local[0] : 0);
    if (ev) mcl_runtime_record_event(rt, name, ev);
    return MCL_OK;
}

mcl_status mcl_runtime_finish(mcl_runtime *rt)
{
    MCL_CL_CHECK(clFinish(rt->queue), "clFinish");
    return MCL_OK;
}

int mcl_runtime_profile_take(mcl_runtime *rt, const char **names, double *ms, int cap)
{
    int n = 0;
    for (int i = 0; i < rt->n_prof; i++) {
        cl_ulong t0 = 0, t1 = 0;
        clGetEventProfilingInfo(rt->prof[i].event, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL);
        clGetEventProfilingInfo(rt->prof[i].event, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL);
        int j = 0;
        while (j < n && strcmp(names[j], rt->prof[i].kernel) != 0) j++;
        if (j == n) {
            if (n == cap) continue;
            names[n] = rt->prof[i].kernel;
            ms[n++] = 0.0;
        }
        ms[j] += (double)(t1 - t0) / 1e6;
    }
    release_profile(rt);
    return n;
}
