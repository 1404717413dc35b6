/* The tuning engine. A kernel family (one .cl program) is a table: the tunables it takes (name,
 * range), its candidate axes (name + values, one set for GPUs and one for
 * CPUs), a rule that derives its defaults from the device record, a `fits`
 * rule, and how many work-items and how much local memory a configuration
 * needs. This file holds the types and the generic engine: defaults,
 * candidates, validation of an untrusted configuration, shape classes. The
 * families themselves are in tune_kern.c and tune_scan.c, the list of them in
 * families.c. Values become -D defines of a family's program and are read by
 * the launchers through mcl_tune_get (docs/tuning.md). */
#ifndef MCL_TUNE_H
#define MCL_TUNE_H

#include <stdbool.h>
#include <stddef.h>
#include "mambacl.h"

#define MCL_MAX_PARAMS 32 /* tunables of one family at most (gemm.cl has 20); tools/gen_tunedb.py repeats it */
#define MCL_TUNE_MAX_VALUES 8

/* Family names: the program file. */
#define MCL_F_COPY "copy.cl"
#define MCL_F_NORM "norm.cl"
#define MCL_F_CONVERT "convert.cl"
#define MCL_F_CONV "conv.cl"
#define MCL_F_GEMV "gemv.cl"
#define MCL_F_SCAN "scan.cl"
#define MCL_F_STEP "ssm_step.cl"
#define MCL_F_GEMM "gemm.cl"
#define MCL_F_DLAYER "dlayer.cl"
#define MCL_F_XSTEP "xstep.cl"
#define MCL_F_CGEMV "cgemv.cl"
#define MCL_F_GMMA "gemv_mma.cl"
#define MCL_F_RGEMV "rgemv.cl"

typedef enum mcl_family_id {
    MCL_FAM_COPY,
    MCL_FAM_NORM,
    MCL_FAM_CONVERT,
    MCL_FAM_CONV,
    MCL_FAM_GEMV,
    MCL_FAM_SCAN,
    MCL_FAM_STEP,
    MCL_FAM_GEMM,
    MCL_FAM_DLAYER,
    MCL_FAM_XSTEP,
    MCL_FAM_CGEMV,
    MCL_FAM_GMMA,
    MCL_FAM_RGEMV,
    MCL_FAM_COUNT
} mcl_family_id;

/* Tunable names (the -D define of each; a few are read only on the host). */
#define MCL_T_COPY_WG "COPY_WG"
#define MCL_T_NORM_WG "NORM_WG"
#define MCL_T_CONVERT_WG "CONVERT_WG"
#define MCL_T_CONV_WG "CONV_WG"
#define MCL_T_CONV_TT "CONV_TT"
#define MCL_T_GEMV_WG "GEMV_WG"
#define MCL_T_GEMV_LPR "GEMV_LPR"
#define MCL_T_GEMV_RPL "GEMV_RPL"
#define MCL_T_GEMV_RPL_IN "GEMV_RPL_IN"
#define MCL_T_GEMV_BT "GEMV_BT"
#define MCL_T_GEMV_UNR "GEMV_UNR"
#define MCL_T_GEMV_VACC "GEMV_VACC"
#define MCL_T_GEMV_F16 "GEMV_F16"
#define MCL_T_SCAN_DCH "SCAN_DCH"
#define MCL_T_SCAN_NSG "SCAN_NSG"
#define MCL_T_SCAN_TT "SCAN_TT"
#define MCL_T_SCAN_ITEMS "SCAN_ITEMS"
#define MCL_T_SCAN_NG "SCAN_NG"
#define MCL_T_SCAN_RT "SCAN_RT"
#define MCL_T_SCAN_KEEPB "SCAN_KEEPB"
#define MCL_T_SCAN_FAST_EXP "SCAN_FAST_EXP"
#define MCL_T_SCAN_NSEG "SCAN_NSEG"
#define MCL_T_SCAN_DTIN "SCAN_DTIN"
#define MCL_T_SCAN_PREF "SCAN_PREF"
#define MCL_T_SCAN_DTIN16 "SCAN_DTIN16"
#define MCL_T_SCAN_YSPLIT "SCAN_YSPLIT"
#define MCL_T_SCAN_DTW "SCAN_DTW"
#define MCL_T_SCAN_DTV "SCAN_DTV"
#define MCL_T_SCAN_WARP "SCAN_WARP"
#define MCL_T_SCAN_WL "SCAN_WL"
#define MCL_T_SCAN_SUNR "SCAN_SUNR"
#define MCL_T_STEP_WG "STEP_WG"
#define MCL_T_STEP_LPC "STEP_LPC"
#define MCL_T_STEP_SB "STEP_SB"
#define MCL_T_STEP_FAST_EXP "STEP_FAST_EXP"
#define MCL_T_STEP_TILE "STEP_TILE"
#define MCL_T_STEP_TWG "STEP_TWG"
#define MCL_T_STEP_TSQ "STEP_TSQ"
#define MCL_T_STEP_TJ "STEP_TJ"
#define MCL_T_STEP_TPRE "STEP_TPRE"
#define MCL_T_GEMM_BM "GEMM_BM"
#define MCL_T_GEMM_BN "GEMM_BN"
#define MCL_T_GEMM_BK "GEMM_BK"
#define MCL_T_GEMM_WM "GEMM_WM"
#define MCL_T_GEMM_WN "GEMM_WN"
#define MCL_T_GEMM_STAGES "GEMM_STAGES"
#define MCL_T_GEMM_SPLIT "GEMM_SPLIT"
#define MCL_T_GEMM_SPLITK "GEMM_SPLITK"
#define MCL_T_GEMM_SWZ "GEMM_SWZ"
#define MCL_T_GEMM_FUSE "GEMM_FUSE"
#define MCL_T_GEMM_SKRED "GEMM_SKRED"
/* mma kernels: fragment order (1: W fragments, then each m16 tile's A) and
 * the unchecked loads of blocks inside M and N (gemm9, docs/performance.md) */
#define MCL_T_GEMM_LDF "GEMM_LDF"
#define MCL_T_GEMM_FAST "GEMM_FAST"
/* host: gemm_cpu (explicit vectors, one work-item per group) instead of
 * gemm_simt where gemm_simt would run, 1; 0 gemm_simt */
#define MCL_T_GEMM_CPUK "GEMM_CPUK"
/* gemm_cpu's vector width along K (8 or 16 floats) */
#define MCL_T_GEMM_CVW "GEMM_CVW"
/* host-side split-K rule: slices until the blocks fill GEMM_SKW per compute unit */
#define MCL_T_GEMM_SKW "GEMM_SKW"
/* host-side split-K cap of narrow products (N <= 2 * GEMM_BN: x_proj's
 * 160 columns), replacing GEMM_SPLITK there when larger */
#define MCL_T_GEMM_SKN "GEMM_SKN"
#define MCL_T_GEMM_SW "GEMM_SW"
#define MCL_T_GEMM_ST "GEMM_ST"
#define MCL_T_GEMM_SBK "GEMM_SBK"
/* host-side dispatch: rows up to which a projection runs as gemv (above: a
 * GEMM), and CLBlast rather than gemm_simt where the mma path is off */
#define MCL_T_GEMM_GEMV_MAX_ROWS "GEMM_GEMV_MAX_ROWS"
#define MCL_T_GEMM_CLBLAST "GEMM_CLBLAST"
#define MCL_T_DL_WG "DL_WG"
#define MCL_T_DL_LPR "DL_LPR"
#define MCL_T_DL_UNR "DL_UNR"
#define MCL_T_DL_LPC "DL_LPC"
#define MCL_T_DL_SKIP "DL_SKIP"
/* host-side: the largest d_inner whose batch-1 decode runs the persistent layer (0: never) */
#define MCL_T_DL_MAX_DINNER "DL_MAX_DINNER"
/* host-side: work-groups per compute unit the co-residency probe tries first */
#define MCL_T_DL_GPC "DL_GPC"
/* host-side: decode layers per persistent launch (at most an arena's layers, src/model/model.c) */
#define MCL_T_DL_LPL "DL_LPL"
/* dlayer.cl: the device-wide barrier (0 the counter tree, 1-3 one word; cl/dlayer.cl) */
#define MCL_T_DL_BAR "DL_BAR"
/* dlayer.cl: a mask of L2 prefetches (ptx only): 1 the next phase's before each barrier, 2 W_out before B -> C */
#define MCL_T_DL_PF "DL_PF"
/* dlayer.cl: passes of the next layer's W_in rows prefetched to the L2 before phase D (ptx only; 0 none) */
#define MCL_T_DL_PFA "DL_PFA"
/* dlayer.cl: one copy of each GEMV loop per weight dtype (1) or one with the dtype a run-time value (0) */
#define MCL_T_DL_SPEC "DL_SPEC"
/* dlayer.cl: the layer loop compiled (1: a launch may run several layers) or not (0: one layer per launch) */
#define MCL_T_DL_MULTI "DL_MULTI"
/* xstep.cl: the vector width, x_proj rows per block; host-side: whether decode uses xstep, groups per compute unit */
#define MCL_T_XS_VW "XS_VW"
#define MCL_T_XS_RB "XS_RB"
#define MCL_T_XS_ON "XS_ON"
#define MCL_T_XS_GPC "XS_GPC"
/* cgemv.cl: vector width, rows per block; host-side: whether decode uses cgemv, groups per compute unit */
#define MCL_T_CG_VW "CG_VW"
#define MCL_T_CG_RB "CG_RB"
#define MCL_T_CG_ON "CG_ON"
#define MCL_T_CG_GPC "CG_GPC"
/* gemv_mma.cl: warps per group (K split), n8 tiles, m16 tiles per group, W chunks in flight; host-side: largest batch served (0: never) */
#define MCL_T_GMMA_WARPS "GMMA_WARPS"
#define MCL_T_GMMA_NT "GMMA_NT"
#define MCL_T_GMMA_UNR "GMMA_UNR"
#define MCL_T_GMMA_MT "GMMA_MT"
#define MCL_T_GMMA_MAX_B "GMMA_MAX_B"
/* rgemv.cl: work-group size, lanes per row, 16-byte loads per lane and chunk, next chunk in flight, F16 conversion;
 * host-side: whether batch-1 decode uses rgemv, groups per compute unit */
#define MCL_T_RG_WG "RG_WG"
#define MCL_T_RG_LPR "RG_LPR"
#define MCL_T_RG_NL "RG_NL"
#define MCL_T_RG_PF "RG_PF"
#define MCL_T_RG_F16 "RG_F16"
#define MCL_T_RG_ON "RG_ON"
#define MCL_T_RG_GPC "RG_GPC"

/* The number of elements of a static array: a family table's n_tunables,
 * n_axes, ... beside the array they count. */
#define MCL_N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

typedef struct mcl_params {
    int n;
    struct {
        char name[32];
        long value;
    } p[MCL_MAX_PARAMS];
} mcl_params;

/* A tunable a family takes, with the range a configuration may give it. */
typedef struct mcl_tunable {
    const char *name;
    long min, max;
} mcl_tunable;

/* One axis of a candidate space: a tunable and its candidate values. */
typedef struct mcl_tune_axis {
    const char *name;
    int n;
    long values[MCL_TUNE_MAX_VALUES];
} mcl_tune_axis;

typedef struct mcl_family {
    mcl_family_id id;
    const char *name;   /* MCL_F_*: the program file */
    int n_tunables;
    const mcl_tunable *tunables; /* every tunable of the family */
    int n_axes;
    const mcl_tune_axis *axes;   /* the tuner's space on GPUs/accelerators (NULL: none) */
    int n_axes_cpu;
    const mcl_tune_axis *axes_cpu; /* on CPUs (NULL: the same as axes) */
    /* The stage of each axis of axes / axes_cpu (NULL: all stage 0). Axes of
     * one stage form a product; the tuner searches the stages one after the
     * other, each over the winner of the ones before (a coordinate search:
     * a family with many tunables costs a sum of small products instead of
     * one big product). */
    const unsigned char *stages, *stages_cpu;
    /* The space on a device with a proven matrix path (has_matrix_path),
     * with its stages; NULL: axes / axes_cpu as for any other device. */
    int n_axes_matrix;
    const mcl_tune_axis *axes_matrix;
    const unsigned char *stages_matrix;
    /* Tunables read only on the host (NULL-terminated; NULL: none): not
     * passed to the compiler, so configurations that differ only in them
     * share one program binary (mcl_tune_program_defines). */
    const char *const *host_tunables;
    /* Sets every tunable to the rule's default for the device. */
    void (*defaults)(const mcl_device_info *dev, mcl_params *out);
    /* Derives the tunables that follow from the others (SCAN_RT from the
     * local memory left) in a candidate; NULL when none do. */
    void (*complete)(const mcl_device_info *dev, mcl_params *p);
    /* The family's own rule (powers of two, divisibility, registers), and
     * the rule in words for the warnings that name a refused configuration. */
    bool (*fits)(const mcl_device_info *dev, const mcl_params *p);
    const char *rule;
    /* Work-items per work-group and local memory (bytes) of a configuration;
     * NULL: no limit to check. */
    long (*work_group)(const mcl_params *p);
    long (*local_bytes)(const mcl_params *p);
    /* Prunes the space to the points worth timing (not a validity rule: a
     * configuration outside it may still pass mcl_tune_check); NULL: every
     * point that passes the checks. */
    bool (*in_space)(const mcl_device_info *dev, const mcl_params *p);
    /* The tuner times the workload's whole device time for this family, not
     * only its own kernels: for a family whose launches are profiled under
     * their caller's names (mcl_op_matmul's projections) and whose
     * tunables move work to other families' kernels (a dispatch threshold
     * between a GEMM and the fused gemv decode). */
    bool time_all;
    /* Decode batch sizes (0-terminated) the tuner's workload runs in
     * addition to its own while it tunes this family (rows of a dispatch
     * threshold); all 0: none. */
    int tune_batches[4];
    /* Whether a device with these tunables (the family's fallback: defaults,
     * tuning file, MAMBACL_TUNE_SET) runs the family's kernels at all; NULL:
     * always. A family off by its rule is still compiled (its selftests and
     * tests run on every device), but there a failed build is a warning,
     * not the runtime's failure: a CPU-only kernel that a GPU's compiler
     * refuses must not stop the GPU. */
    bool (*used)(const mcl_params *p);
} mcl_family;

void mcl_params_set(mcl_params *ps, const char *name, long value);
long mcl_params_get(const mcl_params *ps, const char *name, long fallback);

/* The value of tunable `name` in a configuration that must hold it (every
 * configuration the runtime uses is complete): a name the configuration does
 * not hold is a bug (a typo, or a tunable of another family) and gives
 * MCL_ERR_INTERNAL naming it. */
mcl_status mcl_tune_get(const mcl_params *ps, const char *name, long *out);

/* Appends " -DNAME=value" for every parameter to out (NUL-terminated). */
void mcl_params_defines(const mcl_params *ps, char *out, size_t cap);

/* Largest power of two <= v (v >= 1). */
long mcl_pow2_floor(long v);
bool mcl_is_pow2(long v);

/* Largest work-group the device takes in dimension 0. */
long mcl_tune_max_wg(const mcl_device_info *dev);

/* A family's work_group for kernels of one work-item per group (CPU-only
 * families: cgemv.cl, xstep.cl): 1 whatever the configuration. */
long mcl_tune_wg_one(const mcl_params *p);

/* The family's defaults for the device (every tunable set). */
void mcl_tune_defaults(const mcl_family *fam, const mcl_device_info *dev, mcl_params *out);

/* Number of points of the family's space for the device: the sum over its
 * stages of the product of each stage's axes (0: nothing to tune). */
int mcl_tune_space_size(const mcl_family *fam, const mcl_device_info *dev);

/* Number of stages of the space (0: nothing to tune), and the points of
 * stage `stage` (the product of its axes; 0 for a stage without axes). */
int mcl_tune_stages(const mcl_family *fam, const mcl_device_info *dev);
int mcl_tune_stage_size(const mcl_family *fam, const mcl_device_info *dev, int stage);

/* Point `index` of the space (stage 0's points first, within a stage the
 * last axis fastest) over `base` (NULL: the defaults): only that stage's
 * axes are set, the derived tunables completed, into *out; returns whether
 * it passes mcl_tune_check and the family's in_space pruning. */
bool mcl_tune_space_config(const mcl_family *fam, const mcl_device_info *dev, int index,
                           const mcl_params *base, mcl_params *out);

/* Writes up to cap candidate configurations of stage `stage` that pass
 * (as mcl_tune_space_config) into out, each over `base`; returns how many. */
int mcl_tune_stage_candidates(const mcl_family *fam, const mcl_device_info *dev, int stage,
                              const mcl_params *base, mcl_params *out, int cap);

/* The same over every stage (each point over `base`). */
int mcl_tune_candidates(const mcl_family *fam, const mcl_device_info *dev, const mcl_params *base,
                        mcl_params *out, int cap);

/* Validates a configuration (untrusted: a tuning file, the built-in table):
 * every name is a tunable of the family, every tunable is set, each value is
 * within its range, the family's fits rule holds, and the work-group and
 * local memory are within the device's limits. Returns true, or false with
 * the reason in why (cap bytes). */
bool mcl_tune_check(const mcl_family *fam, const mcl_device_info *dev, const mcl_params *p, char *why,
                    size_t cap);

/* Whether `name` is a tunable of the family. */
const mcl_tunable *mcl_tune_tunable(const mcl_family *fam, const char *name);

/* The same for a program of family fam (NULL: every parameter), as mcl_params_defines: the
 * family's host-only tunables are left out. */
void mcl_tune_program_defines(const mcl_family *fam, const mcl_params *ps, char *out, size_t cap);

/* Whether two configurations of fam build the same program (equal in every
 * tunable but the host-only ones). */
bool mcl_tune_same_program(const mcl_family *fam, const mcl_params *a, const mcl_params *b);

/* ---- shape classes ------------------------------------------------------ */

/* The shape of a launch: the model's widths and the call's rows. 0: unknown. */
typedef enum mcl_shape_field {
    MCL_SHAPE_D_INNER,
    MCL_SHAPE_D_MODEL,
    MCL_SHAPE_TOKENS, /* tokens of a prefill (all sequences) */
    MCL_SHAPE_BATCH,  /* rows of the call: sequences of a step or scan, rows M of a matmul */
    MCL_SHAPE_FIELDS
} mcl_shape_field;

typedef struct mcl_shape {
    int v[MCL_SHAPE_FIELDS];
} mcl_shape;

/* Names of the fields in tuning files: "d_inner", "d_model", "tokens", "batch". */
extern const char *const mcl_shape_field_names[MCL_SHAPE_FIELDS];

/* A class of shapes: per field an inclusive range [min, max]; a field with
 * min 0 and max 0 is unbounded (any value, also unknown). A bounded field
 * matches only known values within its range. */
typedef struct mcl_tune_class {
    int min[MCL_SHAPE_FIELDS], max[MCL_SHAPE_FIELDS];
} mcl_tune_class;

bool mcl_tune_class_match(const mcl_tune_class *c, const mcl_shape *s);
/* Number of bounded fields (a more specific class is preferred). */
int mcl_tune_class_bounded(const mcl_tune_class *c);
bool mcl_tune_class_equal(const mcl_tune_class *a, const mcl_tune_class *b);
/* The class `mambacl tune` writes for a model: d_inner and d_model each in
 * their power-of-two bucket [2^k, 2^(k+1) - 1]; tokens and batch unbounded. */
void mcl_tune_class_of_model(int d_inner, int d_model, mcl_tune_class *out);
/* "any" or "d_inner 1024-2047, d_model 512-1023". */
void mcl_tune_class_format(const mcl_tune_class *c, char *out, size_t cap);

#endif
