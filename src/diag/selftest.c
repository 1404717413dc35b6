/* Selftests: one tiny launch per kernel, checked on the host. */
#include "diag/selftest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "diag/selftest_gemm.h"
#include "diag/selftest_decode.h"
#include "diag/selftest_dlayer.h"
#include "diag/selftest_kern.h"
#include "diag/selftest_scan.h"
#include "diag/selftest_cpu.h"
#include "diag/selftest_rgemv.h"
#include "base/clock.h"

/* Uploads n floats into a new buffer. */
static mcl_status upload(mcl_runtime *rt, const float *host, size_t n, cl_mem *out)
{
    MCL_TRY(mcl_buffer_create(rt, CL_MEM_READ_WRITE, n * sizeof(float), "selftest", out));
    cl_int err = clEnqueueWriteBuffer(rt->queue, *out, CL_TRUE, 0, n * sizeof(float), host, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        mcl_buffer_release(out);
        return mcl_error_cl(err, "clEnqueueWriteBuffer(selftest)");
    }
    return MCL_OK;
}

static mcl_status selftest_copy(mcl_runtime *rt, bool *ok)
{
    enum { N4 = 1000 };
    float src[4 * N4], dst[4 * N4];
    for (int i = 0; i < 4 * N4; i++) src[i] = (float)i * 0.5f;
    cl_mem a = NULL, b = NULL;
    cl_kernel k;
    const mcl_params *cp;
    long wgl;
    MCL_TRY(mcl_runtime_pick_kernel(rt, MCL_FAM_COPY, NULL, "copy_f4", &k, &cp));
    MCL_TRY(mcl_tune_get(cp, MCL_T_COPY_WG, &wgl));
    mcl_status st = upload(rt, src, 4 * N4, &a);
    if (st == MCL_OK) st = mcl_buffer_create(rt, CL_MEM_READ_WRITE, sizeof dst, "selftest", &b);
    if (st == MCL_OK) {
        cl_uint n4 = N4;
        size_t wg = (size_t)wgl;
        size_t global = mcl_round_up(N4, wg);
        cl_int e = clSetKernelArg(k, 0, sizeof a, &a) | clSetKernelArg(k, 1, sizeof b, &b) |
                   clSetKernelArg(k, 2, sizeof n4, &n4);
        st = e ? mcl_error_cl(CL_INVALID_KERNEL_ARGS, "clSetKernelArg(copy_f4)")
               : mcl_launch(rt, k, "copy_f4", 1, &global, &wg);
    }
    if (st == MCL_OK) {
        cl_int e = clEnqueueReadBuffer(rt->queue, b, CL_TRUE, 0, sizeof dst, dst, 0, NULL, NULL);
        if (e != CL_SUCCESS) st = mcl_error_cl(e, "clEnqueueReadBuffer(selftest)");
    }
    if (st == MCL_OK) *ok = memcmp(src, dst, sizeof dst) == 0;
    mcl_buffer_release(&a);
    mcl_buffer_release(&b);
    return st;
}

/* One row per kernel. Every kernel in cl/ must have one (a test checks). */
static const mcl_selftest_entry entries[] = {
    {"copy_f4", selftest_copy},
    {"embed_gather", mcl_selftest_embed},
    {"greedy_pick", mcl_selftest_greedy_pick},
    {"rmsnorm_residual", mcl_selftest_rmsnorm},
    {"rmsnorm_split", mcl_selftest_rmsnorm_split},
    {"rmsnorm_parts", mcl_selftest_rmsnorm_parts},
    {"weights_to_f32", mcl_selftest_convert},
    {"conv_prefill", mcl_selftest_conv_prefill},
    {"conv_prefill4", mcl_selftest_conv_prefill4},
    {"conv_step", mcl_selftest_conv_step},
    {"conv_step_parts", mcl_selftest_conv_step_parts},
    {"gemv", mcl_selftest_gemv},
    {"gemv_1", mcl_selftest_gemv_1},
    {"gemv_in", mcl_selftest_gemv_in},
    {"gemv_in_1", mcl_selftest_gemv_in_1},
    {"gemv_split", mcl_selftest_gemv_split},
    {"gemv_split_1", mcl_selftest_gemv_split_1},
    {"gmma", mcl_selftest_gmma},
    {"gmma_in", mcl_selftest_gmma_in},
    {"gmma_split", mcl_selftest_gmma_split},
    {"read_f4", mcl_selftest_read},
    {"gemm_split_a", mcl_selftest_gemm_split},
    {"gemm_reduce", mcl_selftest_gemm_reduce},
    {"gemm_simt", mcl_selftest_gemm_simt},
    {"gemm_cpu", mcl_selftest_gemm_cpu},
    {"gemm_mma_bf16", mcl_selftest_gemm_mma},
    {"gemm_mma_f16", mcl_selftest_gemm_mma},
    {"scan_prefill", mcl_selftest_scan_prefill},
    {"scan_prefill_split", mcl_selftest_scan_prefill_split},
    {"scan_summary", mcl_selftest_scan_summary},
    {"scan_dt", mcl_selftest_scan_dt},
    {"scan_dt2", mcl_selftest_scan_dt2},
    {"scan_dt_gather", mcl_selftest_scan_dt_gather},
    {"ssm_step", mcl_selftest_ssm_step},
    {"ssm_step_parts", mcl_selftest_ssm_step_parts},
    {"ssm_step_tile", mcl_selftest_ssm_step_tile},
    {"dlayer", mcl_selftest_dlayer},
    {"xstep", mcl_selftest_xstep},
    {"cgemv", mcl_selftest_cgemv},
    {"cgemv_in", mcl_selftest_cgemv_in},
    {"rgemv_f32", mcl_selftest_rgemv_f32},
    {"rgemv_f16", mcl_selftest_rgemv_f16},
    {"rgemv_bf16", mcl_selftest_rgemv_bf16},
    {"rgemv_in_f32", mcl_selftest_rgemv_in_f32},
    {"rgemv_in_f16", mcl_selftest_rgemv_in_f16},
    {"rgemv_in_bf16", mcl_selftest_rgemv_in_bf16},
};

const mcl_selftest_entry *mcl_selftest_find(const char *kernel)
{
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++)
        if (strcmp(entries[i].kernel, kernel) == 0) return &entries[i];
    return NULL;
}

mcl_status mcl_runtime_selftest(mcl_runtime *rt, mcl_selftest_report_fn report, void *user)
{
    if (!rt) return mcl_error_set(MCL_ERR_INVALID_ARG, "mcl_runtime_selftest: NULL runtime");
    mcl_runtime_lock(rt);
    mcl_status first = MCL_OK;
    for (int i = 0; i < rt->n_kernels; i++) {
        const char *name = rt->kernels[i].name;
        const mcl_selftest_entry *e = mcl_selftest_find(name);
        bool ok = false;
        double t0 = mcl_now_ms();
        mcl_status st = e ? e->run(rt, &ok)
                          : mcl_error_set(MCL_ERR_INVALID_ARG, "kernel %s has no selftest", name);
        if (st == MCL_OK && !ok)
            st = mcl_error_set(MCL_ERR_OPENCL, "kernel %s gave a wrong result in its selftest", name);
        if (report) report(name, st == MCL_OK, mcl_now_ms() - t0, user);
        if (st != MCL_OK && first == MCL_OK) first = st;
    }
    mcl_runtime_unlock(rt);
    return first;
}
