/* Kernel sources, program builds and their binary cache. */
#include "runtime/program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/cache.h"
#include "base/error.h"
#include "base/clock.h"
#include "base/file.h"

#define MAX_LOG 12000
#define MAX_SOURCE (4u << 20) /* bytes of one kernel source file read from MAMBACL_KERNEL_DIR */

static mcl_status read_text(const char *dir, const char *file, char **out)
{
    char path[4096];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    mcl_status st = mcl_read_text_file(path, MAX_SOURCE, out, &len);
    return st == MCL_OK ? MCL_OK : mcl_error_wrap(st, "kernel source");
}

static mcl_status embedded_text(const char *file, char **out)
{
    for (int i = 0; i < mcl_kernel_source_count; i++) {
        if (strcmp(mcl_kernel_sources[i].name, file) == 0) {
            *out = strdup(mcl_kernel_sources[i].text);
            return *out ? MCL_OK : mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
        }
    }
    return mcl_error_set(MCL_ERR_IO, "no embedded kernel source named %s", file);
}

static mcl_status load_one(const char *file, const char *kernel_dir, char **out)
{
    return kernel_dir ? read_text(kernel_dir, file, out) : embedded_text(file, out);
}

mcl_status mcl_program_source(const char *file, const char *kernel_dir, char **text)
{
    char *common = NULL, *prims = NULL, *body = NULL;
    *text = NULL;
    MCL_TRY(load_one(MCL_COMMON_CL, kernel_dir, &common));
    mcl_status st = load_one(MCL_PRIMS_CL, kernel_dir, &prims);
    if (st == MCL_OK) st = load_one(file, kernel_dir, &body);
    if (st == MCL_OK) {
        size_t a = strlen(common), p = strlen(prims), b = strlen(body);
        char *all = malloc(a + p + b + 64);
        if (!all) st = mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
        else {
            snprintf(all, a + p + b + 64, "%s\n%s\n#line 1\n%s", common, prims, body);
            *text = all;
        }
    }
    free(common);
    free(prims);
    free(body);
    return st;
}

static mcl_status build_log_error(cl_program prog, cl_device_id dev, const char *file, cl_int err)
{
    char *log = calloc(MAX_LOG + 1, 1);
    size_t n = 0;
    if (log) {
        clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, MAX_LOG, log, &n);
        log[MAX_LOG] = '\0';
    }
    mcl_error_set(MCL_ERR_BUILD, "building %s failed: %s (%d)\n--- build log ---\n%s", file,
                  mcl_cl_error_name(err), (int)err, log ? log : "(no memory for the log)");
    free(log);
    return MCL_ERR_BUILD;
}

mcl_status mcl_program_log(cl_program prog, cl_device_id dev, char **out)
{
    size_t size = 0;
    *out = NULL;
    MCL_CL_CHECK(clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, 0, NULL, &size),
                 "clGetProgramBuildInfo(CL_PROGRAM_BUILD_LOG size)");
    char *log = calloc(size + 1, 1);
    if (!log) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory reading a build log (%zu bytes)", size);
    cl_int err = size ? clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, size, log, NULL) : CL_SUCCESS;
    if (err != CL_SUCCESS) {
        free(log);
        return mcl_error_cl(err, "clGetProgramBuildInfo(CL_PROGRAM_BUILD_LOG)");
    }
    *out = log;
    return MCL_OK;
}

static mcl_status get_binary(cl_program prog, unsigned char **bin, size_t *len)
{
    size_t size = 0;
    MCL_CL_CHECK(clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL),
                 "clGetProgramInfo(CL_PROGRAM_BINARY_SIZES)");
    if (size == 0) return mcl_error_set(MCL_ERR_OPENCL, "the driver gave an empty program binary");
    unsigned char *b = malloc(size);
    if (!b) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    cl_int err = clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof b, &b, NULL);
    if (err != CL_SUCCESS) {
        free(b);
        return mcl_error_cl(err, "clGetProgramInfo(CL_PROGRAM_BINARIES)");
    }
    *bin = b;
    *len = size;
    return MCL_OK;
}

/* Tries the cached binary; NULL program when there is none or it is refused. */
static cl_program from_cache(cl_context ctx, cl_device_id dev, const char *cache_dir,
                             const char *file, const char *key)
{
    unsigned char *bin = NULL;
    size_t len = 0;
    if (!mcl_cache_load(cache_dir, file, key, &bin, &len)) return NULL;
    cl_int status = CL_SUCCESS, err;
    const unsigned char *bins[1] = {bin};
    cl_program p = clCreateProgramWithBinary(ctx, 1, &dev, &len, bins, &status, &err);
    free(bin);
    if (err == CL_SUCCESS && status == CL_SUCCESS &&
        clBuildProgram(p, 1, &dev, NULL, NULL, NULL) == CL_SUCCESS)
        return p;
    if (p) clReleaseProgram(p);
    char path[4096];
    mcl_cache_path(cache_dir, file, key, path, sizeof path);
    remove(path); /* the driver refused it: never offer it again */
    return NULL;
}

mcl_status mcl_program_build(cl_context ctx, cl_device_id dev, const mcl_device_info *info,
                             const char *file, const char *source, const char *options,
                             const char *cache_dir, mcl_program *out)
{
    double t0 = mcl_now_ms();
    char key[MCL_CACHE_KEY_LEN + 1];
    const char *parts[] = {source, options, info->name, info->driver_version,
                           info->platform_version, info->platform, NULL};
    memset(out, 0, sizeof *out);
    snprintf(out->file, sizeof out->file, "%s", file);
    mcl_cache_key(parts, key);
    if (cache_dir && (out->program = from_cache(ctx, dev, cache_dir, file, key))) {
        out->from_cache = true;
        out->build_ms = mcl_now_ms() - t0;
        return MCL_OK;
    }
    cl_int err;
    cl_program p = clCreateProgramWithSource(ctx, 1, &source, NULL, &err);
    if (err != CL_SUCCESS) return mcl_error_cl(err, "clCreateProgramWithSource(%s)", file);
    err = clBuildProgram(p, 1, &dev, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        mcl_status st = build_log_error(p, dev, file, err);
        clReleaseProgram(p);
        return st;
    }
    if (cache_dir) {
        unsigned char *bin = NULL;
        size_t len = 0;
        /* A cache that cannot be written costs speed, not correctness. */
        if (get_binary(p, &bin, &len) == MCL_OK) mcl_cache_store(cache_dir, file, key, bin, len);
        free(bin);
        mcl_error_clear();
    }
    out->program = p;
    out->build_ms = mcl_now_ms() - t0;
    return MCL_OK;
}

void mcl_program_release(mcl_program *p)
{
    if (p && p->program) clReleaseProgram(p->program);
    if (p) p->program = NULL;
}
