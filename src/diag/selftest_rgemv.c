/* The tiny checked launches of rgemv and rgemv_in (selftest_rgemv.h). */
#include "diag/selftest_rgemv.h"

#include "base/error.h"
#include "base/half.h"
#include "diag/selftest_bufs.h"
#include "ops/kern_rgemv.h"

enum { RG_ST_O = 13, RG_ST_I = 40, RG_ST_MAXW = RG_ST_O * RG_ST_I };

/* y += W . x over O x I weights of dt, once with aligned rows (I = 40) and
 * once with I = 21 (rows off the 16-byte grid, a tail of elements). */
static mcl_status rgemv_check(mcl_runtime *rt, mcl_dtype dt, bool *ok)
{
    static const int Is[2] = {RG_ST_I, 21};
    float w[RG_ST_MAXW], wv[RG_ST_MAXW], x[RG_ST_I], y0[RG_ST_O], want[RG_ST_O], got[RG_ST_O];
    float store[RG_ST_MAXW]; /* room for F32 */
    mcl_status st = MCL_OK;
    *ok = true;
    for (int c = 0; c < 2 && st == MCL_OK && *ok; c++) {
        int O = RG_ST_O, I = Is[c];
        for (int i = 0; i < O * I; i++) w[i] = mcl_st_val(i) / 2.0f;
        for (int i = 0; i < I; i++) x[i] = mcl_st_val(i + 3);
        mcl_st_to_dtype(w, O * I, dt, store, wv);
        for (int o = 0; o < O; o++) {
            y0[o] = mcl_st_val(o + 7);
            double s = y0[o];
            for (int i = 0; i < I; i++) s += (double)wv[o * I + i] * x[i];
            want[o] = (float)s;
        }
        mcl_st_bufs b = {0};
        cl_mem bW = NULL, bx = NULL, by = NULL;
        st = mcl_st_put(rt, &b, store, (size_t)O * I * mcl_half_dtype_size(dt), &bW);
        if (st == MCL_OK) st = mcl_st_put(rt, &b, x, sizeof x, &bx);
        if (st == MCL_OK) st = mcl_st_put(rt, &b, y0, sizeof y0, &by);
        if (st == MCL_OK) st = mcl_kern_rgemv(rt, bW, dt, bx, by, O, I, true);
        if (st == MCL_OK) st = mcl_st_get(rt, by, got, sizeof got);
        if (st == MCL_OK) *ok = mcl_st_close(got, want, O, 1e-4f);
        st = mcl_st_done(&b, st);
    }
    return st;
}

/* mcl_kern_rgemv_in in mcl_kern_gemv_in's form (mcl_st_gemv_in_fn; B is 1). */
static mcl_status rgemv_in_b1(mcl_runtime *rt, cl_mem W, mcl_dtype dt, cl_mem x, cl_mem y, int O, int I, int B,
                              cl_mem nw, float eps, const mcl_kern_conv *conv)
{
    MCL_ASSERT(B == 1, "rgemv_in serves one batch row");
    return mcl_kern_rgemv_in(rt, W, dt, x, y, O, I, nw, eps, conv);
}

/* rgemv_in of one row (slot 1 of 2): the norm, and the conv step (K 3, with
 * bias) of the first 4 rows; weights of dt, I = 24 (aligned rows). */
static mcl_status rgemv_in_check(mcl_runtime *rt, mcl_dtype dt, bool *ok)
{
    return mcl_st_gemv_in_case(rt, rgemv_in_b1, dt, 24, 1e-4f, ok);
}

mcl_status mcl_selftest_rgemv_f32(mcl_runtime *rt, bool *ok) { return rgemv_check(rt, MCL_DTYPE_F32, ok); }
mcl_status mcl_selftest_rgemv_f16(mcl_runtime *rt, bool *ok) { return rgemv_check(rt, MCL_DTYPE_F16, ok); }
mcl_status mcl_selftest_rgemv_bf16(mcl_runtime *rt, bool *ok) { return rgemv_check(rt, MCL_DTYPE_BF16, ok); }
mcl_status mcl_selftest_rgemv_in_f32(mcl_runtime *rt, bool *ok) { return rgemv_in_check(rt, MCL_DTYPE_F32, ok); }
mcl_status mcl_selftest_rgemv_in_f16(mcl_runtime *rt, bool *ok) { return rgemv_in_check(rt, MCL_DTYPE_F16, ok); }
mcl_status mcl_selftest_rgemv_in_bf16(mcl_runtime *rt, bool *ok) { return rgemv_in_check(rt, MCL_DTYPE_BF16, ok); }
