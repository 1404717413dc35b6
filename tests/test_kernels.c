/* norm.cl, convert.cl, conv.cl and gemv.cl against the C references
 * (tests/ref/ref_kernels.c) on random inputs at edge sizes, on the first
 * device (PoCL in CI). Prints the largest errors seen per kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/half.h"
#include "ops/kern.h"
#include "runtime/runtime.h"
#include "tune/tune_kern.h"
#include "ref/ref_kernels.h"
#include "space_cover.h"

static mcl_runtime *rt;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static float frand(void) /* uniform in [-1, 1) */
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static float *rand_floats(size_t n, float scale)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) p[i] = frand() * scale;
    return p;
}

/* n random weights stored as dtype (F16 by correct rounding, BF16 by RNE). */
static void *rand_weights(size_t n, mcl_dtype dt)
{
    float *f = rand_floats(n, 1.0f);
    void *w = malloc((n ? n : 1) * mcl_half_dtype_size(dt));
    assert_non_null(w);
    assert_int_equal(mcl_half_convert_from_f32(f, dt, w, n), MCL_OK);
    free(f);
    return w;
}

static cl_mem upload(const void *host, size_t bytes)
{
    cl_mem m = NULL;
    assert_int_equal(mcl_buffer_create(rt, CL_MEM_READ_WRITE, bytes, "test", &m), MCL_OK);
    if (bytes)
        assert_int_equal(clEnqueueWriteBuffer(rt->queue, m, CL_TRUE, 0, bytes, host, 0, NULL, NULL),
                         CL_SUCCESS);
    return m;
}

static void download(cl_mem m, void *host, size_t bytes)
{
    assert_int_equal(clEnqueueReadBuffer(rt->queue, m, CL_TRUE, 0, bytes, host, 0, NULL, NULL),
                     CL_SUCCESS);
}

/* Max errors per kernel, printed at the end. */
static double max_abs[6], max_rel[6];
static const char *kname[6] = {"embed_gather", "rmsnorm_residual", "weights_to_f32",
                               "conv_prefill", "conv_step", "gemv"};

/* Asserts |got - want| <= atol + rtol |want| elementwise and records errors. */
static void check_close(int kern, const float *got, const float *want, size_t n, double rtol,
                        double atol, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]);
        double r = e / (fabs(want[i]) > 1e-30 ? fabs(want[i]) : 1e-30);
        if (e > max_abs[kern]) max_abs[kern] = e;
        if (r > max_rel[kern] && fabs(want[i]) > 1e-3) max_rel[kern] = r;
        if (!(e <= atol + rtol * fabs(want[i]))) {
            fail_msg("%s: element %zu is %.9g, reference %.9g", what, i, got[i], want[i]);
        }
    }
}

/* greedy_pick against the reference: sizes below, at and above the group,
 * ties (the lower index wins), NaNs, all -inf; the id goes to ids[0],
 * ring[slot] and the count to ctl, its embedding row (every dtype, odd
 * widths) to out as embed_gather's; a stop id sets the halt word, and a
 * halted pick writes nothing. */
static void pick_case(int V, int kind, int n_stop, bool halted)
{
    float *v = rand_floats((size_t)V, 4.0f);
    if (kind == 1 && V > 2) v[V - 1] = v[V / 2] = 9.0f;         /* tie: V / 2 wins */
    if (kind == 2) for (int i = 0; i < V; i += 3) v[i] = NAN;  /* NaNs, maybe the largest slot */
    if (kind == 3) for (int i = 0; i < V; i++) v[i] = i % 2 ? -INFINITY : NAN;
    int want = ref_greedy_pick(v, V), ctl[MCL_PICK_CTL_INTS] = {0}, ids = -1, ring[4] = {-1, -1, -1, -1};
    ctl[MCL_PICK_CTL_HALT] = halted;
    ctl[MCL_PICK_CTL_N_STOP] = n_stop;
    for (int k = 0; k < MCL_PICK_MAX_STOP; k++) ctl[MCL_PICK_CTL_STOP + k] = k == n_stop - 1 ? want : V + 1 + k;
    cl_mem bv = upload(v, (size_t)V * 4), bi = upload(&ids, 4), br = upload(ring, sizeof ring), bc = upload(ctl, sizeof ctl);
    const int D = 3 + V % 300; /* with kind 1 and V 50280: 3 + 180 */
    mcl_dtype dt = (mcl_dtype)(kind % 3);
    void *emb = kind == 0 ? NULL : rand_weights((size_t)V * D, dt);
    float *row = malloc((size_t)D * 4), *want_row = malloc((size_t)D * 4);
    for (int i = 0; i < D; i++) row[i] = -7.0f;
    cl_mem be = emb ? upload(emb, (size_t)V * D * mcl_half_dtype_size(dt)) : NULL, bh = upload(row, (size_t)D * 4);
    assert_int_equal(mcl_kern_greedy_pick(rt, bv, V, bi, br, 2, 41, bc, be, dt, bh, D), MCL_OK);
    download(bh, row, (size_t)D * 4);
    if (emb && !halted) {
        ref_embed_gather(&want, emb, dt, want_row, 1, D);
        check_close(0, row, want_row, (size_t)D, 0.0, 0.0, "greedy_pick's embedding row");
    } else {
        for (int i = 0; i < D; i++) assert_true(row[i] == -7.0f); /* no gather asked, or halted */
    }
    if (be) mcl_buffer_release(&be);
    mcl_buffer_release(&bh);
    free(emb);
    free(row);
    free(want_row);
    download(bi, &ids, 4);
    download(br, ring, sizeof ring);
    download(bc, ctl, sizeof ctl);
    if (halted) {
        assert_int_equal(ids, -1);
        assert_int_equal(ring[2], -1);
        assert_int_equal(ctl[MCL_PICK_CTL_COUNT], 0);
    } else {
        if (ids != want) fail_msg("greedy_pick V %d kind %d: id %d, reference %d", V, kind, ids, want);
        assert_int_equal(ring[2], want);
        assert_int_equal(ring[1], -1);
        assert_int_equal(ctl[MCL_PICK_CTL_COUNT], 42);
        assert_int_equal(ctl[MCL_PICK_CTL_HALT], n_stop > 0);
    }
    mcl_buffer_release(&bv);
    mcl_buffer_release(&bi);
    mcl_buffer_release(&br);
    mcl_buffer_release(&bc);
    free(v);
}

static void test_greedy_pick(void **state)
{
    (void)state;
    const int Vs[] = {1, 3, 7, 65, 257, 2053, 8195, 50280}; /* 8195: past one round of float4 loads at 256 items */
    for (size_t a = 0; a < sizeof Vs / sizeof Vs[0]; a++)
        for (int kind = 0; kind < 4; kind++) pick_case(Vs[a], kind, kind == 1 ? MCL_PICK_MAX_STOP : kind, false);
    pick_case(100, 0, 1, true);
    pick_case(100, 2, 1, true); /* halted with a gather asked: nothing written */
    int one = 0;
    cl_mem b = upload(&one, 4);
    assert_int_equal(mcl_kern_greedy_pick(rt, b, 0, b, b, 0, 0, b, NULL, MCL_DTYPE_F32, NULL, 0), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_kern_greedy_pick(rt, b, 1, b, b, 0, 0, b, b, MCL_DTYPE_F32, NULL, 1), MCL_ERR_INVALID_ARG);
    mcl_buffer_release(&b);
}

static void test_embed_gather(void **state)
{
    (void)state;
    const int Ts[] = {1, 2, 13}, Ds[] = {1, 7, 257}, vocab = 29;
    for (int dt = 0; dt < 3; dt++) {
        for (size_t a = 0; a < 3; a++) {
            for (size_t c = 0; c < 3; c++) {
                int T = Ts[a], D = Ds[c];
                void *emb = rand_weights((size_t)vocab * D, (mcl_dtype)dt);
                int ids[13];
                for (int t = 0; t < T; t++) ids[t] = (int)((frand() + 1.0f) * 0.5f * (float)vocab) % vocab;
                ids[0] = vocab - 1;
                float *want = malloc((size_t)T * D * 4), *got = malloc((size_t)T * D * 4);
                ref_embed_gather(ids, emb, (mcl_dtype)dt, want, T, D);
                cl_mem bi = upload(ids, sizeof(int) * T);
                cl_mem be = upload(emb, (size_t)vocab * D * mcl_half_dtype_size((mcl_dtype)dt));
                cl_mem bo = NULL;
                assert_int_equal(mcl_buffer_create(rt, CL_MEM_READ_WRITE, (size_t)T * D * 4, "o", &bo), MCL_OK);
                assert_int_equal(mcl_kern_embed(rt, bi, be, (mcl_dtype)dt, bo, T, D), MCL_OK);
                download(bo, got, (size_t)T * D * 4);
                check_close(0, got, want, (size_t)T * D, 0.0, 0.0, "embed_gather");
                mcl_buffer_release(&bi);
                mcl_buffer_release(&be);
                mcl_buffer_release(&bo);
                free(emb);
                free(want);
                free(got);
            }
        }
    }
}

static void run_rmsnorm(int T, int D, bool with_delta, bool with_rows)
{
    int R = T + 3; /* residual rows; with rows, T distinct of them are picked */
    float *resid = rand_floats((size_t)R * D, 2.0f), *delta = rand_floats((size_t)R * D, 1.0f);
    float *w = rand_floats((size_t)D, 1.5f);
    int rows[32];
    for (int r = 0; r < T; r++) rows[r] = R - 1 - r; /* distinct, reversed */
    float *want = malloc((size_t)T * D * 4), *got = malloc((size_t)T * D * 4);
    float *resid_want = malloc((size_t)R * D * 4), *resid_got = malloc((size_t)R * D * 4);
    memcpy(resid_want, resid, (size_t)R * D * 4);
    cl_mem br = upload(resid, (size_t)R * D * 4), bd = upload(delta, (size_t)R * D * 4);
    cl_mem bw = upload(w, (size_t)D * 4), brows = upload(rows, sizeof(int) * T);
    cl_mem bo = NULL;
    assert_int_equal(mcl_buffer_create(rt, CL_MEM_READ_WRITE, (size_t)T * D * 4, "o", &bo), MCL_OK);
    float eps = 1e-5f;
    ref_rmsnorm_residual(resid_want, with_delta ? delta : NULL, w, eps, want,
                         with_rows ? rows : NULL, T, D);
    assert_int_equal(mcl_kern_rmsnorm(rt, br, with_delta ? bd : NULL, bw, eps, bo,
                                      with_rows ? brows : NULL, T, D), MCL_OK);
    download(bo, got, (size_t)T * D * 4);
    download(br, resid_got, (size_t)R * D * 4);
    check_close(1, got, want, (size_t)T * D, 2e-5, 2e-6, "rmsnorm_residual out");
    check_close(1, resid_got, resid_want, (size_t)R * D, 0.0, 0.0, "rmsnorm_residual resid");
    mcl_buffer_release(&br);
    mcl_buffer_release(&bd);
    mcl_buffer_release(&bw);
    mcl_buffer_release(&brows);
    mcl_buffer_release(&bo);
    free(resid);
    free(delta);
    free(w);
    free(want);
    free(got);
    free(resid_want);
    free(resid_got);
}

static void test_rmsnorm_residual(void **state)
{
    (void)state;
    const int Ts[] = {1, 2, 13}, Ds[] = {1, 7, 257, 1000};
    for (size_t a = 0; a < 3; a++)
        for (size_t c = 0; c < 4; c++)
            for (int m = 0; m < 4; m++) run_rmsnorm(Ts[a], Ds[c], m & 1, m & 2);
}

static void test_weights_to_f32(void **state)
{
    (void)state;
    const size_t ns[] = {1, 3, 4, 5, 1027, 300001};
    for (int dt = 0; dt < 3; dt++) {
        for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++) {
            size_t n = ns[a];
            void *w = rand_weights(n, (mcl_dtype)dt);
            float *want = malloc(n * 4), *got = malloc(n * 4);
            ref_weights_to_f32(w, (mcl_dtype)dt, want, n);
            cl_mem bw = upload(w, n * mcl_half_dtype_size((mcl_dtype)dt)), bo = NULL;
            assert_int_equal(mcl_buffer_create(rt, CL_MEM_READ_WRITE, n * 4, "o", &bo), MCL_OK);
            assert_int_equal(mcl_kern_convert(rt, bw, (mcl_dtype)dt, bo, n), MCL_OK);
            download(bo, got, n * 4);
            assert_memory_equal(got, want, n * 4); /* conversion is exact */
            check_close(2, got, want, n, 0.0, 0.0, "weights_to_f32");
            mcl_buffer_release(&bw);
            mcl_buffer_release(&bo);
            free(w);
            free(want);
            free(got);
        }
    }
}

/* A conv test case: sequences, slots in a pool, a layer offset. */
typedef struct conv_case {
    int n_seqs, d_inner, K;
    const int *lens;
    const int *slots;
    bool bias;
} conv_case;

enum { POOL_SLOTS = 8, LAYERS = 2 };

static size_t conv_slot_stride(int d_inner, int K) { return (size_t)LAYERS * d_inner * (K - 1) + 5; }

/* Runs conv_prefill on the device and the reference from the same random
 * inputs and nonzero starting states; compares xc and the whole pool. The
 * input x is the view {xz, x_off, x_ld} (Mamba-1: 0, 2*d_inner). */
static void run_conv_prefill(const conv_case *c, int x_off, int x_ld)
{
    int seq_start[17] = {0};
    for (int b = 0; b < c->n_seqs; b++) seq_start[b + 1] = seq_start[b] + c->lens[b];
    int T = seq_start[c->n_seqs], di = c->d_inner, K = c->K;
    size_t stride = conv_slot_stride(di, K), off = (size_t)di * (K - 1) + 3, pool = POOL_SLOTS * stride;
    size_t nx = (size_t)T * x_ld + x_off;
    float *xz = rand_floats(nx, 2.0f), *w = rand_floats((size_t)di * K, 1.0f);
    float *bias = rand_floats((size_t)di, 0.5f), *st = rand_floats(pool, 1.0f);
    float *st_want = malloc(pool * 4), *st_got = malloc(pool * 4);
    float *want = malloc((size_t)(T ? T : 1) * di * 4), *got = malloc((size_t)(T ? T : 1) * di * 4);
    memcpy(st_want, st, pool * 4);
    ref_conv_prefill(xz + x_off, x_ld, w, c->bias ? bias : NULL, st_want, off, c->slots, stride, seq_start,
                     c->n_seqs, di, K, want);
    cl_mem bxz = upload(xz, nx * 4), bw = upload(w, (size_t)di * K * 4);
    cl_mem bb = upload(bias, (size_t)di * 4), bst = upload(st, pool * 4);
    cl_mem bslot = upload(c->slots, sizeof(int) * c->n_seqs);
    cl_mem bss = upload(seq_start, sizeof(int) * (c->n_seqs + 1)), bxc = NULL;
    assert_int_equal(mcl_buffer_create(rt, CL_MEM_READ_WRITE, (size_t)T * di * 4, "xc", &bxc), MCL_OK);
    mcl_kern_state ks = {bst, off, bslot, stride};
    mcl_kern_view x = {bxz, (uint64_t)x_off, x_ld};
    assert_int_equal(mcl_kern_conv_prefill(rt, &x, bw, c->bias ? bb : NULL, &ks, bss, c->n_seqs,
                                           T, di, K, bxc), MCL_OK);
    download(bxc, got, (size_t)T * di * 4);
    download(bst, st_got, pool * 4);
    check_close(3, got, want, (size_t)T * di, 1e-5, 1e-6, "conv_prefill xc");
    check_close(3, st_got, st_want, pool, 0.0, 0.0, "conv_prefill state");
    mcl_buffer_release(&bxz);
    mcl_buffer_release(&bw);
    mcl_buffer_release(&bb);
    mcl_buffer_release(&bst);
    mcl_buffer_release(&bslot);
    mcl_buffer_release(&bss);
    mcl_buffer_release(&bxc);
    free(xz);
    free(w);
    free(bias);
    free(st);
    free(st_want);
    free(st_got);
    free(want);
    free(got);
}

static void test_conv_prefill(void **state)
{
    (void)state;
    static const int lens_a[] = {1}, lens_b[] = {2}, lens_c[] = {13};
    static const int lens_d[] = {1, 13, 0, 2, 3, 5}, slots_d[] = {5, 0, 3, 2, 7, 6};
    static const int slot_one[] = {4};
    const int dis[] = {1, 7, 257};
    for (int K = 2; K <= 4; K++) {
        for (size_t a = 0; a < 3; a++) {
            conv_case cs[] = {
                {1, dis[a], K, lens_a, slot_one, true},  {1, dis[a], K, lens_b, slot_one, false},
                {1, dis[a], K, lens_c, slot_one, true},  {6, dis[a], K, lens_d, slots_d, true},
                {6, dis[a], K, lens_d, slots_d, false},
            };
            for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) run_conv_prefill(&cs[i], 0, 2 * dis[a]);
            run_conv_prefill(&cs[3], 3, dis[a] + 5); /* another layout: the kernel honours the view */
        }
    }
}

/* conv_prefill4 (width 4, channels and rows 16-byte aligned; CONV_TT rows
 * per item, 8 by default): sequences of 1, 2, 3 (= K-1), 13 (prime) and 37
 * rows, several in one pass with tiles across their boundaries, conv states
 * in pooled slots, odd multiples of 4 channels; an unaligned view takes
 * conv_prefill. */
static void test_conv_prefill4(void **state)
{
    (void)state;
    static const int l1[] = {1}, l2[] = {2}, l3[] = {3}, l13[] = {13}, l37[] = {37};
    static const int lm[] = {1, 13, 0, 2, 3, 5}, sm[] = {5, 0, 3, 2, 7, 6}, lb[] = {20, 17, 9}, sb[] = {1, 6, 2};
    static const int slot_one[] = {4};
    const int dis[] = {4, 12};
    for (size_t a = 0; a < 2; a++) {
        int di = dis[a];
        conv_case cs[] = {
            {1, di, 4, l1, slot_one, true},  {1, di, 4, l2, slot_one, false}, {1, di, 4, l3, slot_one, true},
            {1, di, 4, l13, slot_one, true}, {1, di, 4, l37, slot_one, false}, {6, di, 4, lm, sm, true},
            {3, di, 4, lb, sb, true},
        };
        for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) run_conv_prefill(&cs[i], 0, 2 * di);
        run_conv_prefill(&cs[6], 4, di + 8); /* another aligned layout */
        run_conv_prefill(&cs[6], 3, di + 5); /* unaligned: conv_prefill */
    }
}

/* conv_step against the reference, several steps in a row. */
static void test_conv_step(void **state)
{
    (void)state;
    static const int slots[] = {6, 1, 3};
    const int dis[] = {1, 7, 257}, Bs[] = {1, 3};
    for (int K = 2; K <= 4; K++) {
        for (size_t a = 0; a < 3; a++) {
            for (size_t c = 0; c < 2; c++) {
                int di = dis[a], B = Bs[c];
                size_t stride = conv_slot_stride(di, K), off = 2, pool = POOL_SLOTS * stride;
                float *w = rand_floats((size_t)di * K, 1.0f), *bias = rand_floats((size_t)di, 0.5f);
                float *st = rand_floats(pool, 1.0f), *st_got = malloc(pool * 4);
                float *want = malloc((size_t)B * di * 4), *got = malloc((size_t)B * di * 4);
                cl_mem bw = upload(w, (size_t)di * K * 4), bb = upload(bias, (size_t)di * 4);
                cl_mem bst = upload(st, pool * 4), bslot = upload(slots, sizeof(int) * B), bxc = NULL;
                assert_int_equal(mcl_buffer_create(rt, CL_MEM_READ_WRITE, (size_t)B * di * 4, "xc", &bxc), MCL_OK);
                mcl_kern_state ks = {bst, off, bslot, stride};
                for (int step = 0; step < 3; step++) {
                    /* Mamba-1's layout on even steps, a padded one with an offset on odd ones */
                    int x_off = (step & 1) ? 2 : 0, x_ld = (step & 1) ? di + 3 : 2 * di;
                    float *xz = rand_floats((size_t)B * x_ld + x_off, 2.0f);
                    cl_mem bxz = upload(xz, ((size_t)B * x_ld + x_off) * 4);
                    const float *bp = (step & 1) ? NULL : bias;
                    mcl_kern_view x = {bxz, (uint64_t)x_off, x_ld};
                    ref_conv_step(xz + x_off, x_ld, w, bp, st, off, slots, stride, B, di, K, want);
                    assert_int_equal(mcl_kern_conv_step(rt, &x, bw, bp ? bb : NULL, &ks, B, di, K, bxc), MCL_OK);
                    download(bxc, got, (size_t)B * di * 4);
                    download(bst, st_got, pool * 4);
                    check_close(4, got, want, (size_t)B * di, 1e-5, 1e-6, "conv_step xc");
                    check_close(4, st_got, st, pool, 0.0, 0.0, "conv_step state");
                    mcl_buffer_release(&bxz);
                    free(xz);
                }
                mcl_buffer_release(&bw);
                mcl_buffer_release(&bb);
                mcl_buffer_release(&bst);
                mcl_buffer_release(&bslot);
                mcl_buffer_release(&bxc);
                free(w);
                free(bias);
                free(st);
                free(st_got);
                free(want);
                free(got);
            }
        }
    }
}

/* Device only: prefill of L then one conv_step equals prefill of L+1 on the
 * last row, and both leave the same state (L < K-1 included). */
static void test_conv_prefill_then_step(void **state)
{
    (void)state;
    const int di = 37;
    for (int K = 2; K <= 4; K++) {
        for (int L = 1; L <= 5; L++) {
            size_t stride = (size_t)di * (K - 1), pool = 2 * stride;
            float *xz = rand_floats((size_t)(L + 1) * 2 * di, 2.0f), *w = rand_floats((size_t)di * K, 1.0f);
            float *bias = rand_floats((size_t)di, 0.5f), *st = rand_floats(pool, 1.0f);
            float *xc_full = malloc((size_t)(L + 1) * di * 4), *xc_step = malloc((size_t)di * 4);
            float *st_full = malloc(pool * 4), *st_step = malloc(pool * 4);
            int slot_a = 0, slot_b = 1;
            memcpy(st + stride, st, stride * 4); /* both slots start equal */
            cl_mem bxz = upload(xz, (size_t)(L + 1) * 2 * di * 4), bw = upload(w, (size_t)di * K * 4);
            cl_mem bb = upload(bias, (size_t)di * 4), bst = upload(st, pool * 4);
            cl_mem bsa = upload(&slot_a, 4), bsb = upload(&slot_b, 4);
            cl_mem blast = upload(xz + (size_t)L * 2 * di, (size_t)2 * di * 4);
            int ss_full[2] = {0, L + 1}, ss_part[2] = {0, L};
            cl_mem bssf = upload(ss_full, 8), bssp = upload(ss_part, 8), bxf = NULL, bxs = NULL;
            assert_int_equal(mcl_buffer_create(rt, CL_MEM_READ_WRITE, (size_t)(L + 1) * di * 4, "xc", &bxf), MCL_OK);
            assert_int_equal(mcl_buffer_create(rt, CL_MEM_READ_WRITE, (size_t)(L + 1) * di * 4, "xc", &bxs), MCL_OK);
            mcl_kern_state ka = {bst, 0, bsa, stride}, kb = {bst, 0, bsb, stride};
            mcl_kern_view x = {bxz, 0, 2 * di}, xlast = {blast, 0, 2 * di};
            assert_int_equal(mcl_kern_conv_prefill(rt, &x, bw, bb, &ka, bssf, 1, L + 1, di, K, bxf), MCL_OK);
            assert_int_equal(mcl_kern_conv_prefill(rt, &x, bw, bb, &kb, bssp, 1, L, di, K, bxs), MCL_OK);
            assert_int_equal(mcl_kern_conv_step(rt, &xlast, bw, bb, &kb, 1, di, K, bxs), MCL_OK);
            download(bxf, xc_full, (size_t)(L + 1) * di * 4);
            download(bxs, xc_step, (size_t)di * 4);
            download(bst, st_full, pool * 4);
            check_close(4, xc_step, xc_full + (size_t)L * di, (size_t)di, 1e-6, 1e-7, "step vs prefill");
            check_close(4, st_full + stride, st_full, stride, 0.0, 0.0, "step vs prefill state");
            (void)st_step;
            cl_mem all[] = {bxz, bw, bb, bst, bsa, bsb, blast, bssf, bssp, bxf, bxs};
            for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) mcl_buffer_release(&all[i]);
            free(xz);
            free(w);
            free(bias);
            free(st);
            free(xc_full);
            free(xc_step);
            free(st_full);
            free(st_step);
        }
    }
}

/* One gemv check with the kernels kb (gemv) and k1 (gemv_1) built with
 * tunables p (NULL: the runtime's). */
static void run_gemv(cl_kernel kb, cl_kernel k1, const mcl_params *p, int O, int I, int B, mcl_dtype dt, bool acc)
{
    void *W = rand_weights((size_t)O * I, dt);
    float *x = rand_floats((size_t)B * I, 1.0f), *y0 = rand_floats((size_t)B * O, 3.0f);
    float *want = malloc((size_t)B * O * 4), *got = malloc((size_t)B * O * 4);
    memcpy(want, y0, (size_t)B * O * 4);
    ref_gemv(W, dt, x, want, O, I, B, acc);
    cl_mem bW = upload(W, (size_t)O * I * mcl_half_dtype_size(dt)), bx = upload(x, (size_t)B * I * 4);
    cl_mem by = upload(y0, (size_t)B * O * 4);
    cl_kernel k = B == 1 ? k1 : kb;
    mcl_status st = k ? mcl_kern_gemv_with(rt, k, p, bW, dt, bx, by, O, I, B, acc)
                      : mcl_kern_gemv(rt, bW, dt, bx, by, O, I, B, acc);
    assert_int_equal(st, MCL_OK);
    download(by, got, (size_t)B * O * 4);
    char what[128];
    snprintf(what, sizeof what, "gemv O %d I %d B %d dtype %d acc %d", O, I, B, (int)dt, (int)acc);
    /* fp32 sums of up to ~1000 terms of magnitude <= 1: errors ~1e-5 */
    check_close(5, got, want, (size_t)B * O, 1e-4, 1e-4, what);
    mcl_buffer_release(&bW);
    mcl_buffer_release(&bx);
    mcl_buffer_release(&by);
    free(W);
    free(x);
    free(y0);
    free(want);
    free(got);
}

static void test_gemv(void **state)
{
    (void)state;
    const int shapes[][2] = {{1, 1}, {7, 257}, {33, 8}, {257, 96}, {65, 1031}, {3, 2053}};
    const int Bs[] = {1, 3, 9, 64};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (size_t b = 0; b < 4; b++)
            for (int dt = 0; dt < 3; dt++)
                for (int acc = 0; acc < 2; acc++)
                    run_gemv(NULL, NULL, NULL, shapes[s][0], shapes[s][1], Bs[b], (mcl_dtype)dt, acc);
}

/* Builds `file` with tunables p without the binary cache: storing a binary
 * makes PoCL compile every kernel of the program (gemv, gemv_in, gemv_split)
 * for any work-group size, seconds each, which a sweep that launches one
 * kernel never uses; PoCL's own cache (POCL_CACHE_DIR) still keeps the
 * compiled program and kernel for the next run. The binary cache itself is
 * tested by test_cache. */
static mcl_status build_uncached(const char *file, const mcl_params *p, mcl_program *prog)
{
    char saved[sizeof rt->cache_dir];
    memcpy(saved, rt->cache_dir, sizeof saved);
    rt->cache_dir[0] = '\0';
    mcl_status st = mcl_runtime_build_program(rt, file, p, prog);
    memcpy(rt->cache_dir, saved, sizeof saved);
    return st;
}

/* A pairwise cover of gemv's declared space (tests/space_cover.h): every
 * value of every tunable (each extreme of GEMV_WG, GEMV_LPR, GEMV_RPL,
 * GEMV_BT) meets every value of every other one in some configuration, so
 * every team shape (WG/LPR teams of LPR lanes, the tree of log2(LPR)
 * barriers), every row/tile count and their pairings run; the rest of the
 * cross product repeats those pairs in other combinations (the tuner still
 * compiles and times all of it). Each configuration is one PoCL program. */
static void test_gemv_space(void **state)
{
    (void)state;
    int n = mcl_tune_space_size(&mcl_family_gemv, &rt->dev), fitting = 0, size = 0;
    int *pick = calloc(n ? (size_t)n : 1, sizeof *pick);
    assert_non_null(pick);
    int n_pick = space_cover(&mcl_family_gemv, &rt->dev, pick, &size, &fitting), tested = 0;
    for (int c = 0; c < n_pick; c++) {
        mcl_params p;
        assert_true(mcl_tune_space_config(&mcl_family_gemv, &rt->dev, pick[c], NULL, &p));
        mcl_program prog;
        if (build_uncached("gemv.cl", &p, &prog) != MCL_OK) {
            char defs[512] = "";
            mcl_params_defines(&p, defs, sizeof defs);
            fail_msg("%s: %s", defs, mcl_last_error());
        }
        char defs[512] = ""; /* named in the log, so a failure below names its configuration */
        mcl_params_defines(&p, defs, sizeof defs);
        printf("gemv space: %s\n", defs);
        cl_int err;
        cl_kernel k = clCreateKernel(prog.program, "gemv", &err);
        assert_int_equal(err, CL_SUCCESS);
        cl_kernel k1 = clCreateKernel(prog.program, "gemv_1", &err);
        assert_int_equal(err, CL_SUCCESS);
        run_gemv(k, k1, &p, 37, 261, 9, MCL_DTYPE_F16, true);
        run_gemv(k, k1, &p, 19, 64, 3, MCL_DTYPE_BF16, false);
        run_gemv(k, k1, &p, 5, 13, 1, MCL_DTYPE_F32, false);
        run_gemv(k, k1, &p, 70, 520, 1, MCL_DTYPE_F16, true);
        clReleaseKernel(k);
        clReleaseKernel(k1);
        mcl_program_release(&prog);
        tested++;
    }
    free(pick);
    printf("gemv space: %d configurations (a pairwise cover of the %d of %d that fit) pass\n", tested, fitting,
           size);
    assert_true(tested > 0);
}

static void test_bad_args(void **state)
{
    (void)state;
    cl_mem m = NULL;
    assert_int_equal(mcl_buffer_create(rt, CL_MEM_READ_WRITE, 64, "m", &m), MCL_OK);
    assert_int_equal(mcl_kern_gemv(rt, m, MCL_DTYPE_F16, m, m, 0, 4, 1, false), MCL_ERR_INVALID_ARG);
    assert_non_null(strstr(mcl_last_error(), "gemv"));
    assert_int_equal(mcl_kern_gemv(rt, m, (mcl_dtype)5, m, m, 2, 4, 1, false), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_kern_conv_step(rt, &(mcl_kern_view){m, 0, 8}, m, NULL, &(mcl_kern_state){m, 0, m, 1}, 1, 4,
                                        1, m),
                     MCL_ERR_INVALID_ARG);
    /* a row stride below d_inner is refused, naming it */
    assert_int_equal(mcl_kern_conv_step(rt, &(mcl_kern_view){m, 0, 3}, m, NULL, &(mcl_kern_state){m, 0, m, 1}, 1, 4,
                                        4, m),
                     MCL_ERR_INVALID_ARG);
    assert_non_null(strstr(mcl_last_error(), "row stride"));
    assert_int_equal(mcl_kern_rmsnorm(rt, m, NULL, m, 1e-5f, m, NULL, -1, 4), MCL_ERR_INVALID_ARG);
    assert_int_equal(mcl_kern_embed(rt, m, m, MCL_DTYPE_F32, m, 0, 4), MCL_OK); /* no rows: no-op */
    mcl_buffer_release(&m);
}

static int setup(void **state)
{
    (void)state;
    if (mcl_runtime_create(NULL, &rt) != MCL_OK) {
        fprintf(stderr, "runtime: %s\n", mcl_last_error());
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int k = 0; k < 6; k++)
        printf("%-18s max abs err %.3g, max rel err %.3g (|ref| > 1e-3)\n", kname[k], max_abs[k], max_rel[k]);
    mcl_runtime_free(rt);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embed_gather),
        cmocka_unit_test(test_greedy_pick),
        cmocka_unit_test(test_rmsnorm_residual),
        cmocka_unit_test(test_weights_to_f32),
        cmocka_unit_test(test_conv_prefill),
        cmocka_unit_test(test_conv_prefill4),
        cmocka_unit_test(test_conv_step),
        cmocka_unit_test(test_conv_prefill_then_step),
        cmocka_unit_test(test_gemv),
        cmocka_unit_test(test_gemv_space),
        cmocka_unit_test(test_bad_args),
    };
    const char *filter = getenv("MCL_TEST_FILTER"); /* e.g. "test_gemv*" */
    if (filter && *filter) cmocka_set_test_filter(filter);
    return cmocka_run_group_tests(tests, setup, teardown);
}
