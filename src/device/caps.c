/* The capability layer: detection from attributes, probes with known answers,
 * MAMBACL_DISABLE, the defines kernels see. See caps.h. */
#include "device/caps.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "base/error.h"
#include "base/half.h"

#define NV_CC_MAJOR 0x4000 /* CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV */
#define NV_CC_MINOR 0x4001
#define NV_WARP_SIZE 0x4003

static const char *const cap_names[MCL_CAP_COUNT] = {"fp16", "subgroups", "ptx", "mma"};

const char *mcl_cap_name(mcl_cap_id id)
{
    return id >= 0 && id < MCL_CAP_COUNT ? cap_names[id] : "?";
}

const char *mcl_vendor_name(mcl_vendor v)
{
    switch (v) {
    case MCL_VENDOR_NVIDIA: return "nvidia";
    case MCL_VENDOR_AMD: return "amd";
    case MCL_VENDOR_INTEL: return "intel";
    case MCL_VENDOR_CPU: return "cpu";
    default: return "other";
    }
}

/* ---- probe sources ---------------------------------------------------------- */

static const char probe_fp16_src[] =
    "#pragma OPENCL EXTENSION cl_khr_fp16 : enable\n"
    "__kernel void probe(__global const ushort *in, __global float *out) {\n"
    "  int i = get_global_id(0);\n"
    "  half x = (half)((float)i * 0.5f), y = (half)1.25f;\n"
    "  half r = x * y + (half)0.25f;\n"
    "#ifdef MCL_PROBE_SABOTAGE\n"
    "  r += (half)1.0f;\n"
    "#endif\n"
    "  out[i] = (float)r;\n"
    "}\n";

static const char probe_subgroups_src[] =
    "#ifdef MCL_SG_INTEL\n"
    "#pragma OPENCL EXTENSION cl_intel_subgroups : enable\n"
    "#else\n"
    "#pragma OPENCL EXTENSION cl_khr_subgroups : enable\n"
    "#endif\n"
    "__kernel void probe(__global const ushort *in, __global float *out) {\n"
    "  int lid = get_local_id(0);\n"
    "  int sl = (int)get_sub_group_local_id(), s = (int)get_sub_group_size();\n"
    "  int sum = sub_group_reduce_add(sl), bc = sub_group_broadcast(lid, 0);\n"
    "#ifdef MCL_PROBE_SABOTAGE\n"
    "  sum += 1;\n"
    "#endif\n"
    "  out[4 * lid] = (float)s; out[4 * lid + 1] = (float)sl;\n"
    "  out[4 * lid + 2] = (float)sum; out[4 * lid + 3] = (float)bc;\n"
    "}\n";

static const char probe_ptx_src[] =
    "__kernel void probe(__global const ushort *in, __global float *out) {\n"
    "  uint lane = get_local_id(0), v = lane * 3u + 1u, r;\n"
    "  asm volatile(\"shfl.sync.bfly.b32 %0, %1, 1, 0x1f, 0xffffffff;\" : \"=r\"(r) : \"r\"(v));\n"
    "#ifdef MCL_PROBE_SABOTAGE\n"
    "  r += 1u;\n"
    "#endif\n"
    "  out[lane] = (float)r;\n"
    "}\n";

/* in: A bf16 [16][16], B bf16 [8][16], A f16 [16][16], B f16 [8][16] (768
 * ushort, 96 chunks of 16 bytes), copied by cp.async, read by ldmatrix,
 * multiplied by mma.sync: out[t][16][8] = A_t . B_t^T. */
static const char probe_mma_src[] =
    "__kernel __attribute__((reqd_work_group_size(32, 1, 1)))\n"
    "void probe(__global const ushort *in, __global float *out) {\n"
    "  __local ushort sm[768] __attribute__((aligned(16)));\n"
    "  uint lane = get_local_id(0);\n"
    "  for (uint c = lane; c < 96; c += 32) {\n"
    "    ulong dst = (ulong)(sm + c * 8), src = (ulong)(in + c * 8);\n"
    "    asm volatile(\"cp.async.cg.shared.global [%0], [%1], 16;\" :: \"l\"(dst), \"l\"(src) : \"memory\");\n"
    "  }\n"
    "  asm volatile(\"cp.async.commit_group;\" ::: \"memory\");\n"
    "  asm volatile(\"cp.async.wait_group 0;\" ::: \"memory\");\n"
    "  barrier(CLK_LOCAL_MEM_FENCE);\n"
    "  for (int t = 0; t < 2; t++) {\n"
    "    __local ushort *A = sm + t * 384, *B = A + 256;\n"
    "    uint a0, a1, a2, a3, b0, b1;\n"
    "    ulong aa = (ulong)(A + (lane % 16) * 16 + (lane / 16) * 8);\n"
    "    ulong ba = (ulong)(B + (lane % 8) * 16 + ((lane / 8) % 2) * 8);\n"
    "    asm volatile(\"ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\"\n"
    "                 : \"=r\"(a0), \"=r\"(a1), \"=r\"(a2), \"=r\"(a3) : \"l\"(aa));\n"
    "    asm volatile(\"ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\"\n"
    "                 : \"=r\"(b0), \"=r\"(b1) : \"l\"(ba));\n"
    "    float c0 = 0.0f, c1 = 0.0f, c2 = 0.0f, c3 = 0.0f;\n"
    "    if (t == 0)\n"
    "      asm volatile(\"mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, \"\n"
    "                   \"{%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\"\n"
    "                   : \"+f\"(c0), \"+f\"(c1), \"+f\"(c2), \"+f\"(c3)\n"
    "                   : \"r\"(a0), \"r\"(a1), \"r\"(a2), \"r\"(a3), \"r\"(b0), \"r\"(b1));\n"
    "    else\n"
    "      asm volatile(\"mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, \"\n"
    "                   \"{%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\"\n"
    "                   : \"+f\"(c0), \"+f\"(c1), \"+f\"(c2), \"+f\"(c3)\n"
    "                   : \"r\"(a0), \"r\"(a1), \"r\"(a2), \"r\"(a3), \"r\"(b0), \"r\"(b1));\n"
    "#ifdef MCL_PROBE_SABOTAGE\n"
    "    c0 += 1.0f;\n"
    "#endif\n"
    "    uint row = lane / 4, col = (lane % 4) * 2;\n"
    "    __global float *o = out + t * 128;\n"
    "    o[row * 8 + col] = c0; o[row * 8 + col + 1] = c1;\n"
    "    o[(row + 8) * 8 + col] = c2; o[(row + 8) * 8 + col + 1] = c3;\n"
    "  }\n"
    "}\n";

static int mma_a(int i, int k) { return ((i * 16 + k) * 7) % 9 - 4; }
static int mma_b(int n, int k) { return ((n * 16 + k) * 5) % 7 - 3; }

/* ---- running one probe ---------------------------------------------------------- */

typedef struct probe_spec {
    mcl_cap_id id;
    const char *src;
    size_t wg;          /* work-group = global size */
    size_t out_floats;
    const char *extra;  /* build options */
} probe_spec;

static bool sabotaged(mcl_cap_id id) { return mcl_env_lists("MAMBACL_TEST_PROBE_WRONG", mcl_cap_name(id)); }

static void fill_mma_input(uint16_t *in)
{
    for (int t = 0; t < 2; t++) {
        uint16_t *A = in + t * 384, *B = A + 256;
        for (int i = 0; i < 16; i++)
            for (int k = 0; k < 16; k++) {
                float v = (float)mma_a(i, k);
                A[i * 16 + k] = t ? mcl_half_from_float(v) : mcl_bf16_from_float(v);
            }
        for (int n = 0; n < 8; n++)
            for (int k = 0; k < 16; k++) {
                float v = (float)mma_b(n, k);
                B[n * 16 + k] = t ? mcl_half_from_float(v) : mcl_bf16_from_float(v);
            }
    }
}

/* Writes a reason into why[cap]; returns false (the probe failed). */
static bool failed(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool failed(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return false;
}

/* Checks a probe's output against the known answer; writes the reason. */
static bool check_answer(mcl_cap_id id, const float *out, size_t wg, int *sg_size, char *why,
                         size_t cap)
{
    if (id == MCL_CAP_FP16) {
        for (size_t i = 0; i < wg; i++)
            if (out[i] != (float)i * 0.625f + 0.25f)
                return failed(why, cap, "probe answered wrong: item %zu gave %g", i, out[i]);
    } else if (id == MCL_CAP_PTX) {
        for (size_t i = 0; i < wg; i++)
            if (out[i] != (float)((i ^ 1u) * 3u + 1u))
                return failed(why, cap, "probe answered wrong: shfl lane %zu gave %g", i, out[i]);
    } else if (id == MCL_CAP_SUBGROUPS) {
        int s = (int)out[0];
        if (s < 1 || (int)wg % s != 0)
            return failed(why, cap, "probe answered wrong: subgroup size %d", s);
        for (size_t i = 0; i < wg; i++) {
            int sl = (int)i % s;
            if ((int)out[4 * i] != s || (int)out[4 * i + 1] != sl ||
                (int)out[4 * i + 2] != s * (s - 1) / 2 || (int)out[4 * i + 3] != (int)i - sl)
                return failed(why, cap, "probe answered wrong at item %zu", i);
        }
        *sg_size = s;
    } else {
        for (int t = 0; t < 2; t++)
            for (int i = 0; i < 16; i++)
                for (int n = 0; n < 8; n++) {
                    int want = 0;
                    for (int k = 0; k < 16; k++) want += mma_a(i, k) * mma_b(n, k);
                    float got = out[t * 128 + i * 8 + n];
                    if (got != (float)want)
                        return failed(why, cap, "probe answered wrong: %s C[%d][%d] = %g, not %d",
                                        t ? "f16" : "bf16", i, n, got, want);
                }
    }
    return true;
}

typedef struct probe_run {
    cl_context ctx;
    cl_device_id dev;
    cl_command_queue q;
    cl_program prog;
    cl_kernel k;
    cl_mem in, out;
} probe_run;

static void probe_release(probe_run *r)
{
    if (r->in) clReleaseMemObject(r->in);
    if (r->out) clReleaseMemObject(r->out);
    if (r->k) clReleaseKernel(r->k);
    if (r->prog) clReleaseProgram(r->prog);
    if (r->q) clReleaseCommandQueue(r->q);
}

/* Builds and runs the probe; false with the reason when anything fails. */
static bool run_probe(probe_run *r, const probe_spec *ps, float *out, char *why, size_t cap)
{
    cl_int err;
    char opts[256];
    snprintf(opts, sizeof opts, "-cl-std=CL1.2 %s%s", ps->extra,
             sabotaged(ps->id) ? " -DMCL_PROBE_SABOTAGE=1" : "");
    const char *src = ps->src;
    r->prog = clCreateProgramWithSource(r->ctx, 1, &src, NULL, &err);
    if (err != CL_SUCCESS) return failed(why, cap, "probe source refused (%d)", (int)err);
    err = clBuildProgram(r->prog, 1, &r->dev, opts, NULL, NULL);
    if (err != CL_SUCCESS) return failed(why, cap, "probe did not compile (%s)", mcl_cl_error_name(err));
    r->k = clCreateKernel(r->prog, "probe", &err);
    if (err != CL_SUCCESS) return failed(why, cap, "probe kernel not created (%s)", mcl_cl_error_name(err));
    uint16_t in[768];
    fill_mma_input(in);
    r->in = clCreateBuffer(r->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof in, in, &err);
    if (err == CL_SUCCESS)
        r->out = clCreateBuffer(r->ctx, CL_MEM_WRITE_ONLY, ps->out_floats * 4, NULL, &err);
    if (err != CL_SUCCESS) return failed(why, cap, "probe buffers (%s)", mcl_cl_error_name(err));
    err = clSetKernelArg(r->k, 0, sizeof r->in, &r->in);
    if (err == CL_SUCCESS) err = clSetKernelArg(r->k, 1, sizeof r->out, &r->out);
    size_t g = ps->wg;
    if (err == CL_SUCCESS) err = clEnqueueNDRangeKernel(r->q, r->k, 1, NULL, &g, &g, 0, NULL, NULL);
    if (err == CL_SUCCESS)
        err = clEnqueueReadBuffer(r->q, r->out, CL_TRUE, 0, ps->out_floats * 4, out, 0, NULL, NULL);
    if (err != CL_SUCCESS) return failed(why, cap, "probe did not run (%s)", mcl_cl_error_name(err));
    return true;
}

static void probe_one(cl_context ctx, cl_device_id dev, const probe_spec *ps, mcl_caps *caps)
{
    mcl_cap_state *c = &caps->cap[ps->id];
    probe_run r = {ctx, dev, NULL, NULL, NULL, NULL, NULL};
    cl_int err;
#if defined(CL_VERSION_2_0)
    r.q = clCreateCommandQueueWithProperties(ctx, dev, NULL, &err);
#else
    r.q = clCreateCommandQueue(ctx, dev, 0, &err);
#endif
    float out[256];
    memset(out, 0, sizeof out);
    char why[sizeof c->reason] = "";
    bool ok = err == CL_SUCCESS ? run_probe(&r, ps, out, why, sizeof why)
                                : failed(why, sizeof why, "probe queue (%s)", mcl_cl_error_name(err));
    int sg = 0;
    if (ok) ok = check_answer(ps->id, out, ps->wg, &sg, why, sizeof why);
    probe_release(&r);
    c->on = ok;
    snprintf(c->reason, sizeof c->reason, "%s", ok ? "" : why);
    if (ps->id == MCL_CAP_SUBGROUPS) caps->subgroup_size = ok ? sg : 0;
}

/* ---- detection ---------------------------------------------------------------------- */

static bool has_ext(const char *exts, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = exts; (p = strstr(p, name)) != NULL; p += n)
        if ((p == exts || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return true;
    return false;
}

static mcl_vendor vendor_of(const mcl_device_info *info)
{
    if (info->type == MCL_DEVICE_TYPE_CPU) return MCL_VENDOR_CPU;
    const char *v = info->vendor;
    if (strstr(v, "NVIDIA")) return MCL_VENDOR_NVIDIA;
    if (strstr(v, "Advanced Micro Devices") || strstr(v, "AMD")) return MCL_VENDOR_AMD;
    if (strstr(v, "Intel")) return MCL_VENDOR_INTEL;
    return MCL_VENDOR_OTHER;
}

static void set_detected(mcl_caps *c, mcl_cap_id id, bool yes, const char *why_not)
{
    c->cap[id].detected = yes || sabotaged(id);
    c->cap[id].on = false;
    snprintf(c->cap[id].reason, sizeof c->cap[id].reason, "%s", c->cap[id].detected ? "not probed" : why_not);
}

mcl_status mcl_caps_detect(cl_device_id dev, const mcl_device_info *info, mcl_caps *out)
{
    memset(out, 0, sizeof *out);
    out->vendor = vendor_of(info);
    size_t n = 0;
    MCL_CL_CHECK(clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, 0, NULL, &n), "clGetDeviceInfo(CL_DEVICE_EXTENSIONS)");
    char *exts = calloc(n + 1, 1);
    if (!exts) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory reading device extensions");
    cl_int err = clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, n, exts, NULL);
    bool nv_attr = err == CL_SUCCESS && has_ext(exts, "cl_nv_device_attribute_query");
    if (nv_attr) {
        cl_uint v = 0;
        if (clGetDeviceInfo(dev, NV_CC_MAJOR, sizeof v, &v, NULL) == CL_SUCCESS) out->cc_major = (int)v;
        if (clGetDeviceInfo(dev, NV_CC_MINOR, sizeof v, &v, NULL) == CL_SUCCESS) out->cc_minor = (int)v;
        if (clGetDeviceInfo(dev, NV_WARP_SIZE, sizeof v, &v, NULL) == CL_SUCCESS) out->warp_size = (int)v;
    }
    bool nv = out->vendor == MCL_VENDOR_NVIDIA && nv_attr;
    int cc = out->cc_major * 10 + out->cc_minor;
    bool sg = err == CL_SUCCESS && (has_ext(exts, "cl_khr_subgroups") || has_ext(exts, "cl_intel_subgroups"));
    set_detected(out, MCL_CAP_FP16, (err == CL_SUCCESS && has_ext(exts, "cl_khr_fp16")) || (nv && cc >= 53),
                 "no cl_khr_fp16");
    set_detected(out, MCL_CAP_SUBGROUPS, sg, "no cl_khr_subgroups or cl_intel_subgroups");
    set_detected(out, MCL_CAP_PTX, nv, "not an NVIDIA device with cl_nv_device_attribute_query");
    set_detected(out, MCL_CAP_MMA, nv && cc >= 80, "needs NVIDIA compute capability 8.0+");
    free(exts);
    if (err != CL_SUCCESS) return mcl_error_cl(err, "clGetDeviceInfo(CL_DEVICE_EXTENSIONS)");
    return MCL_OK;
}

static const char *subgroup_ext_option(cl_device_id dev)
{
    char exts[8192] = "";
    clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, sizeof exts - 1, exts, NULL);
    return has_ext(exts, "cl_khr_subgroups") ? "" : "-DMCL_SG_INTEL=1";
}

mcl_status mcl_caps_probe(cl_context ctx, cl_device_id dev, const mcl_device_info *info,
                          mcl_caps *caps)
{
    size_t wg = info->max_work_group_size < 64 ? info->max_work_group_size : 64;
    probe_spec specs[] = {
        {MCL_CAP_FP16, probe_fp16_src, wg, wg, ""},
        {MCL_CAP_SUBGROUPS, probe_subgroups_src, wg, 4 * wg, subgroup_ext_option(dev)},
        {MCL_CAP_PTX, probe_ptx_src, 32, 32, ""},
        {MCL_CAP_MMA, probe_mma_src, 32, 256, ""},
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        mcl_cap_state *c = &caps->cap[specs[i].id];
        if (!c->detected) continue;
        if (specs[i].id == MCL_CAP_MMA && !caps->cap[MCL_CAP_PTX].on) {
            snprintf(c->reason, sizeof c->reason, "needs ptx (%.100s)", caps->cap[MCL_CAP_PTX].reason);
            continue;
        }
        if ((specs[i].id == MCL_CAP_PTX || specs[i].id == MCL_CAP_MMA) && info->max_work_group_size < 32) {
            snprintf(c->reason, sizeof c->reason, "work-groups of 32 not allowed");
            continue;
        }
        probe_one(ctx, dev, &specs[i], caps);
    }
    return MCL_OK;
}

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

const char *mcl_caps_probe_signature(void)
{
    static char sig[128];
    const char *w = getenv("MAMBACL_TEST_PROBE_WRONG");
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv(fnv(fnv(fnv(h, probe_fp16_src), probe_subgroups_src), probe_ptx_src), probe_mma_src);
    snprintf(sig, sizeof sig, "caps-v1 %016llx %zu wrong=%.40s", (unsigned long long)h, sizeof(mcl_caps),
             w ? w : "");
    return sig;
}

void mcl_caps_apply_disable(mcl_caps *caps)
{
    if (!mcl_env_str("MAMBACL_DISABLE")) return;
    for (int id = 0; id < MCL_CAP_COUNT; id++) {
        bool hit = mcl_env_lists("MAMBACL_DISABLE", cap_names[id]);
        if (!hit && !(id == MCL_CAP_MMA && !caps->cap[MCL_CAP_PTX].on)) continue;
        if (!caps->cap[id].on) continue;
        caps->cap[id].on = false;
        snprintf(caps->cap[id].reason, sizeof caps->cap[id].reason,
                 hit ? "disabled by MAMBACL_DISABLE" : "needs ptx (disabled by MAMBACL_DISABLE)");
        if (id == MCL_CAP_SUBGROUPS) caps->subgroup_size = 0;
    }
}

void mcl_caps_defines(const mcl_caps *caps, char *out, size_t cap)
{
    size_t len = strlen(out);
    if (len >= cap) return;
    snprintf(out + len, cap - len,
             " -DMCL_CAP_FP16=%d -DMCL_CAP_SUBGROUPS=%d -DMCL_CAP_PTX=%d -DMCL_CAP_MMA=%d"
             " -DMCL_SUBGROUP_SIZE=%d -DMCL_WARP_SIZE=%d",
             caps->cap[MCL_CAP_FP16].on, caps->cap[MCL_CAP_SUBGROUPS].on, caps->cap[MCL_CAP_PTX].on,
             caps->cap[MCL_CAP_MMA].on, caps->subgroup_size, caps->warp_size);
}
