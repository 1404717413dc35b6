/* OpenCL platforms and devices: enumeration, the device record, selection. */
#include "device/device.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"

#define MAX_PLATFORMS 16

static bool contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return true;
    }
    return n == 0;
}

bool mcl_device_is_simulator(const mcl_device_info *d)
{
    return contains_nocase(d->platform, "oclgrind") || contains_nocase(d->name, "oclgrind");
}

/* Rank of a device in the listing: real GPUs, accelerators, CPUs, others, simulators. */
static int order_rank(const mcl_device_info *d)
{
    if (d->is_simulator) return 4;
    switch (d->type) {
    case MCL_DEVICE_TYPE_GPU: return 0;
    case MCL_DEVICE_TYPE_ACCELERATOR: return 1;
    case MCL_DEVICE_TYPE_CPU: return 2;
    default: return 3;
    }
}

void mcl_device_order(const mcl_device_info *list, int n, int *perm)
{
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = 1; i < n; i++) { /* insertion sort: stable, n is small */
        int p = perm[i], j = i;
        while (j > 0 && order_rank(&list[perm[j - 1]]) > order_rank(&list[p])) {
            perm[j] = perm[j - 1];
            j--;
        }
        perm[j] = p;
    }
}

static mcl_status read_string(cl_device_id dev, cl_device_info what, const char *name,
                              char *out, size_t cap)
{
    size_t n = 0;
    MCL_CL_CHECK(clGetDeviceInfo(dev, what, cap, out, &n), "clGetDeviceInfo(%s)", name);
    out[cap - 1] = '\0';
    return MCL_OK;
}

#define GET(what, var) \
    MCL_CL_CHECK(clGetDeviceInfo(dev, what, sizeof(var), &(var), NULL), "clGetDeviceInfo(" #what ")")

static bool has_extension(const char *exts, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = exts; (p = strstr(p, name)) != NULL; p += n)
        if ((p == exts || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return true;
    return false;
}

/* The preferred work-group multiple is a kernel property: measure it on a
 * trivial kernel built for the device. 0 when that fails (not an error). */
size_t mcl_device_preferred_multiple(cl_platform_id platform, cl_device_id dev)
{
    static const char *src = "__kernel void probe(__global float *x) { x[get_global_id(0)] = 0.0f; }";
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)platform, 0};
    cl_int err;
    size_t mult = 0;
    cl_context ctx = clCreateContext(props, 1, &dev, NULL, NULL, &err);
    if (err != CL_SUCCESS) return 0;
    cl_program prog = clCreateProgramWithSource(ctx, 1, &src, NULL, &err);
    if (err == CL_SUCCESS && clBuildProgram(prog, 1, &dev, "", NULL, NULL) == CL_SUCCESS) {
        cl_kernel k = clCreateKernel(prog, "probe", &err);
        if (err == CL_SUCCESS) {
            clGetKernelWorkGroupInfo(k, dev, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
                                     sizeof mult, &mult, NULL);
            clReleaseKernel(k);
        }
    }
    if (prog) clReleaseProgram(prog);
    clReleaseContext(ctx);
    return mult;
}

mcl_status mcl_device_info_read(cl_platform_id platform, cl_device_id dev, mcl_device_info *info,
                                bool probe)
{
    memset(info, 0, sizeof *info);
    MCL_CL_CHECK(clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof info->platform,
                                   info->platform, NULL), "clGetPlatformInfo(CL_PLATFORM_NAME)");
    MCL_CL_CHECK(clGetPlatformInfo(platform, CL_PLATFORM_VERSION, sizeof info->platform_version,
                                   info->platform_version, NULL),
                 "clGetPlatformInfo(CL_PLATFORM_VERSION)");
    MCL_TRY(read_string(dev, CL_DEVICE_NAME, "CL_DEVICE_NAME", info->name, sizeof info->name));
    MCL_TRY(read_string(dev, CL_DEVICE_VENDOR, "CL_DEVICE_VENDOR", info->vendor, sizeof info->vendor));
    MCL_TRY(read_string(dev, CL_DRIVER_VERSION, "CL_DRIVER_VERSION", info->driver_version,
                        sizeof info->driver_version));
    MCL_TRY(read_string(dev, CL_DEVICE_VERSION, "CL_DEVICE_VERSION", info->device_version,
                        sizeof info->device_version));
    MCL_TRY(read_string(dev, CL_DEVICE_OPENCL_C_VERSION, "CL_DEVICE_OPENCL_C_VERSION",
                        info->opencl_c_version, sizeof info->opencl_c_version));
    cl_device_type type;
    cl_uint cu, align;
    cl_ulong gmem, lmem, maxalloc;
    cl_device_local_mem_type ltype;
    GET(CL_DEVICE_TYPE, type);
    GET(CL_DEVICE_MAX_COMPUTE_UNITS, cu);
    GET(CL_DEVICE_GLOBAL_MEM_SIZE, gmem);
    GET(CL_DEVICE_LOCAL_MEM_SIZE, lmem);
    GET(CL_DEVICE_LOCAL_MEM_TYPE, ltype);
    GET(CL_DEVICE_MAX_MEM_ALLOC_SIZE, maxalloc);
    GET(CL_DEVICE_MAX_WORK_GROUP_SIZE, info->max_work_group_size);
    GET(CL_DEVICE_MEM_BASE_ADDR_ALIGN, align);
    MCL_CL_CHECK(clGetDeviceInfo(dev, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof info->max_work_item_sizes,
                                 info->max_work_item_sizes, NULL),
                 "clGetDeviceInfo(CL_DEVICE_MAX_WORK_ITEM_SIZES)");
    info->type = (type & CL_DEVICE_TYPE_GPU) ? MCL_DEVICE_TYPE_GPU
               : (type & CL_DEVICE_TYPE_CPU) ? MCL_DEVICE_TYPE_CPU
               : (type & CL_DEVICE_TYPE_ACCELERATOR) ? MCL_DEVICE_TYPE_ACCELERATOR
               : MCL_DEVICE_TYPE_OTHER;
    info->compute_units = cu;
    info->global_mem_bytes = gmem;
    info->local_mem_bytes = lmem;
    info->local_mem_is_local = (ltype == CL_LOCAL);
    info->max_alloc_bytes = maxalloc;
    info->mem_base_addr_align = align;
    info->is_simulator = mcl_device_is_simulator(info);

    size_t n = 0;
    MCL_CL_CHECK(clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, 0, NULL, &n),
                 "clGetDeviceInfo(CL_DEVICE_EXTENSIONS)");
    char *exts = calloc(n + 1, 1);
    if (!exts) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory reading device extensions");
    cl_int err = clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, n, exts, NULL);
    if (err == CL_SUCCESS) {
        info->has_fp16 = has_extension(exts, "cl_khr_fp16");
        info->has_fp64 = has_extension(exts, "cl_khr_fp64");
        info->has_subgroups = has_extension(exts, "cl_khr_subgroups") ||
                              has_extension(exts, "cl_intel_subgroups");
    }
    free(exts);
    if (err != CL_SUCCESS) return mcl_error_cl(err, "clGetDeviceInfo(CL_DEVICE_EXTENSIONS)");
    if (probe) info->preferred_wg_multiple = mcl_device_preferred_multiple(platform, dev);
    return MCL_OK;
}

/* Collects every (platform, device) pair. */
static mcl_status collect_ids(cl_platform_id **plats_out, cl_device_id **devs_out, int *count)
{
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint nplat = 0;
    cl_int err = clGetPlatformIDs(MAX_PLATFORMS, plats, &nplat);
    *count = 0;
    *plats_out = NULL;
    *devs_out = NULL;
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || nplat == 0) return MCL_OK;
    if (err != CL_SUCCESS) return mcl_error_cl(err, "clGetPlatformIDs");
    if (nplat > MAX_PLATFORMS) nplat = MAX_PLATFORMS;
    int total = 0;
    for (cl_uint p = 0; p < nplat; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) == CL_SUCCESS) total += (int)nd;
    }
    if (total == 0) return MCL_OK;
    cl_platform_id *pl = calloc((size_t)total, sizeof *pl);
    cl_device_id *dv = calloc((size_t)total, sizeof *dv);
    if (!pl || !dv) {
        free(pl);
        free(dv);
        return mcl_error_set(MCL_ERR_NOMEM, "out of host memory enumerating devices");
    }
    int k = 0;
    for (cl_uint p = 0; p < nplat && k < total; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, (cl_uint)(total - k), dv + k, &nd) != CL_SUCCESS)
            continue;
        for (cl_uint d = 0; d < nd; d++) pl[k + (int)d] = plats[p];
        k += (int)nd;
    }
    *plats_out = pl;
    *devs_out = dv;
    *count = k;
    return MCL_OK;
}

/* Puts the three parallel arrays in mcl_device_order and numbers the records. */
static mcl_status reorder(mcl_device_info *list, cl_platform_id *pl, cl_device_id *dv, int n)
{
    int *perm = malloc((n > 0 ? (size_t)n : 1) * sizeof *perm);
    mcl_device_info *l2 = malloc((n > 0 ? (size_t)n : 1) * sizeof *l2);
    cl_platform_id *p2 = malloc((n > 0 ? (size_t)n : 1) * sizeof *p2);
    cl_device_id *d2 = malloc((n > 0 ? (size_t)n : 1) * sizeof *d2);
    mcl_status st = (perm && l2 && p2 && d2) ? MCL_OK : mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    if (st == MCL_OK) {
        mcl_device_order(list, n, perm);
        for (int i = 0; i < n; i++) {
            l2[i] = list[perm[i]];
            l2[i].index = i;
            p2[i] = pl[perm[i]];
            d2[i] = dv[perm[i]];
        }
        memcpy(list, l2, (size_t)n * sizeof *l2);
        memcpy(pl, p2, (size_t)n * sizeof *p2);
        memcpy(dv, d2, (size_t)n * sizeof *d2);
    }
    free(perm);
    free(l2);
    free(p2);
    free(d2);
    return st;
}

mcl_status mcl_device_enumerate(mcl_device_info **infos, cl_platform_id **platforms,
                                cl_device_id **devices, int *count, bool probe)
{
    cl_platform_id *pl;
    cl_device_id *dv;
    int n;
    *infos = NULL;
    MCL_TRY(collect_ids(&pl, &dv, &n));
    mcl_device_info *list = calloc(n > 0 ? (size_t)n : 1, sizeof *list);
    if (!list) {
        free(pl);
        free(dv);
        return mcl_error_set(MCL_ERR_NOMEM, "out of host memory enumerating devices");
    }
    for (int i = 0; i < n; i++) {
        mcl_status st = mcl_device_info_read(pl[i], dv[i], &list[i], probe);
        if (st != MCL_OK) {
            free(pl);
            free(dv);
            free(list);
            return mcl_error_wrap(st, "reading device %d", i);
        }
    }
    if (reorder(list, pl, dv, n) != MCL_OK) {
        free(pl);
        free(dv);
        free(list);
        return MCL_ERR_NOMEM;
    }
    *infos = list;
    *count = n;
    if (platforms) *platforms = pl; else free(pl);
    if (devices) *devices = dv; else free(dv);
    return MCL_OK;
}

mcl_status mcl_device_list(mcl_device_info **out, int *count)
{
    return mcl_device_enumerate(out, NULL, NULL, count, true);
}

void mcl_device_list_free(mcl_device_info *list) { free(list); }


static bool is_index(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return false;
    return true;
}

mcl_status mcl_device_select(const mcl_device_info *list, int count, const char *selector,
                             int *index)
{
    if (count <= 0)
        return mcl_error_set(MCL_ERR_NO_DEVICE,
                             "no OpenCL device found (is an ICD installed? try: apt-get install pocl-opencl-icd)");
    if (!selector || !*selector) selector = getenv("MAMBACL_DEVICE");
    if (!selector || !*selector) { /* the best kind present: GPU, accelerator, CPU, other */
        for (int rank = 0; rank < 4; rank++)
            for (int i = 0; i < count; i++)
                if (order_rank(&list[i]) == rank) return *index = i, MCL_OK;
        return mcl_error_set(MCL_ERR_NO_DEVICE,
                             "only a simulator (%s) was found; it is used only when asked for: --device %d",
                             list[0].platform, list[0].index);
    }
    static const struct { const char *alias; mcl_device_type type; } types[] = {
        {"gpu", MCL_DEVICE_TYPE_GPU}, {"cpu", MCL_DEVICE_TYPE_CPU}, {"accelerator", MCL_DEVICE_TYPE_ACCELERATOR}};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        if (strcasecmp(selector, types[t].alias) != 0) continue;
        for (int i = 0; i < count; i++)
            if (list[i].type == types[t].type && !list[i].is_simulator) return *index = i, MCL_OK;
        return mcl_error_set(MCL_ERR_NO_DEVICE, "no %s device (simulators excluded; see: mambacl devices)",
                             types[t].alias);
    }
    if (strcasecmp(selector, "pocl") == 0) {
        for (int i = 0; i < count; i++)
            if (contains_nocase(list[i].platform, "Portable Computing Language") ||
                contains_nocase(list[i].platform_version, "pocl"))
                return *index = i, MCL_OK;
        return mcl_error_set(MCL_ERR_NO_DEVICE, "no PoCL device (see: mambacl devices)");
    }
    if (is_index(selector)) {
        long v = strtol(selector, NULL, 10);
        if (v < 0 || v >= count)
            return mcl_error_set(MCL_ERR_NO_DEVICE, "device index %s out of range (0..%d)", selector,
                                 count - 1);
        return *index = (int)v, MCL_OK;
    }
    for (int i = 0; i < count; i++)
        if (contains_nocase(list[i].platform, selector) || contains_nocase(list[i].name, selector))
            return *index = i, MCL_OK;
    return mcl_error_set(MCL_ERR_NO_DEVICE, "no device matches '%s' (see: mambacl devices)", selector);
}

const char *mcl_device_type_name(mcl_device_type type)
{
    switch (type) {
    case MCL_DEVICE_TYPE_GPU: return "gpu";
    case MCL_DEVICE_TYPE_CPU: return "cpu";
    case MCL_DEVICE_TYPE_ACCELERATOR: return "accelerator";
    default: return "other";
    }
}

static size_t append_slug(char *out, size_t pos, size_t cap, const char *s)
{
    bool dash = false;
    for (; *s && pos + 1 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '.') {
            if (dash && pos > 0 && out[pos - 1] != '_') out[pos++] = '-';
            if (pos + 1 < cap) out[pos++] = (char)tolower(c);
            dash = false;
        } else {
            dash = true;
        }
    }
    out[pos] = '\0';
    return pos;
}

void mcl_device_key(const mcl_device_info *info, char *out, size_t cap)
{
    size_t pos = 0;
    if (cap == 0) return;
    out[0] = '\0';
    pos = append_slug(out, pos, cap, info->platform);
    if (pos + 2 < cap) { out[pos++] = '_'; out[pos++] = '_'; out[pos] = '\0'; }
    pos = append_slug(out, pos, cap, info->name);
    if (pos + 2 < cap) { out[pos++] = '_'; out[pos++] = '_'; out[pos] = '\0'; }
    append_slug(out, pos, cap, info->driver_version);
}
