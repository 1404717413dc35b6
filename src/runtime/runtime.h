/* The runtime: one device, its context and queue, every program compiled at
 * startup (one per configuration of each kernel family: the family's
 * fallback for any shape plus one per shape class of the tuning table that
 * applies to the device; configurations with equal program tunables share
 * one cl_program), kernels looked up by configuration and name,
 * launches with optional profiling. */
#ifndef MCL_RUNTIME_H
#define MCL_RUNTIME_H

#include <CL/cl.h>
#include <pthread.h>
#include "mambacl.h"
#include "device/caps.h"
#include "runtime/program.h"
#include "tune/tune.h"

/* Configurations (and so programs) a runtime holds at most: every family's
 * fallback and up to 2 * MCL_TUNEDB_MAX_PER_FAMILY classes (tuning file and
 * built-in table), the tuner's, and the programs without tunables. */
#define MCL_MAX_CONFIGS 192

/* One configuration of a kernel family: its tunables for a class of shapes.
 * The configurations of a family are kept in the order mcl_runtime_pick
 * tries them: the most specific class first, the family's fallback (class
 * any, built from the defaults, the built-in table and the tuning file)
 * last. */
typedef struct mcl_tune_config {
    const mcl_family *fam;
    mcl_tune_class cls;
    mcl_params params;
    const char *source; /* "default", "built-in", "tuned", "candidate" */
    bool fallback;      /* the family's configuration for any shape */
    int program;        /* index into programs */
} mcl_tune_config;

typedef struct mcl_kernel_entry {
    char name[64];
    cl_kernel kernel;
    int program; /* index into programs */
} mcl_kernel_entry;

/* The persistent decode layer's proof and barrier (ops/kern_dlayer.c). */
typedef struct mcl_dlayer_state {
    int state;         /* 0 not probed yet, 1 on, -1 off */
    int groups;        /* the grid the probe proved co-resident */
    char reason[160];  /* why it is off ("" when on or not probed) */
    cl_mem bar;        /* the barrier words (cl/dlayer.cl: arrivals, generation, timeout flag) */
    cl_uint flag;      /* bar[2] as last read back after a step */
} mcl_dlayer_state;

/* One profiled launch (kept while profiling is on). */
typedef struct mcl_prof_record {
    const char *kernel; /* name owned by the kernel table or a literal */
    cl_event event;
} mcl_prof_record;

struct mcl_runtime {
    mcl_device_info dev;
    mcl_caps caps;                /* proven capabilities (device/caps.h) */
    cl_platform_id platform;
    cl_device_id device;
    cl_context ctx;
    cl_command_queue queue;
    bool profiling;

    int n_programs;
    mcl_program *programs;        /* [MCL_MAX_CONFIGS], n_programs used */
    mcl_program_report *reports;  /* [MCL_MAX_CONFIGS] */
    mcl_params *params;           /* [MCL_MAX_CONFIGS] tunables each program was built with */
    char (*shapes)[96];           /* [MCL_MAX_CONFIGS] class of each program, as text */
    bool *fallback;               /* [MCL_MAX_CONFIGS] program of a family's fallback */

    int n_configs;
    mcl_tune_config *configs;          /* [MCL_MAX_CONFIGS], grouped by family */
    mcl_shape model_shape;        /* d_inner, d_model of the model now running (set by
                                     each prefill and decode: part of the launch state,
                                     like the queue, so not for concurrent use) */

    int n_kernels;
    mcl_kernel_entry *kernels;    /* [n_kernels] */

    char cache_dir[4096];         /* "" when the binary cache is off */
    char tuning_path[4200];       /* this device's tuning file ("" when no cache dir) */
    struct mcl_tunedb *tunedb;    /* loaded tuning file, NULL when none */
    char kernel_dir[4096];        /* sources read from here ("" = embedded) */
    char warnings[2048];          /* non-fatal problems (a refused tuning file or entry) */
    char base_options[512];       /* options common to every program (mcl_runtime_build_program) */

    cl_mem gemm_ws[4];            /* GEMM workspaces (ops/gemm.c), NULL until needed */
    mcl_dlayer_state dlayer;      /* persistent decode layer: probed on first use */
    size_t gemm_ws_bytes[4];
    cl_mem scan_ws;               /* split-scan workspace (ops/kern_scan.c), NULL until needed */
    size_t scan_ws_bytes;
    cl_mem scan_dt[2];            /* SCAN_DTIN's δ [T, R] and δ·W_dtᵀ [T, d_inner] (ops/kern_scan.c) */
    size_t scan_dt_bytes[2];

    int n_prof, cap_prof;
    mcl_prof_record *prof;        /* [cap_prof] */
    double host_layers_ms;        /* decode: host time spent enqueuing the layers of each step
                                     (embedding to the last layer, summed; bench reads and resets it):
                                     near the step time means the host, not the device, sets the pace */

    bool test_limits;             /* MAMBACL_TEST_* limits in force: launches are checked against them */
    int gmma_mode;                /* selftests: 0 the dispatch rule, 1 gemv_mma.cl for every F16/BF16 batch >= 2, -1 never */
    int rgemv_mode;               /* selftests: 0 the dispatch rule (rgemv.cl at batch 1 where RG_ON), -1 never */

    pthread_mutex_t lock;         /* recursive: held by every public call that uses the queue */
    bool lock_made;
};

/* Takes / releases the runtime's lock (recursive). Every public function that
 * enqueues work, sets kernel arguments or changes the model's pools holds it
 * for its whole call, so a runtime, its models and their states may be used
 * from several threads (the calls are serialized). */
void mcl_runtime_lock(mcl_runtime *rt);
void mcl_runtime_unlock(mcl_runtime *rt);


/* The kernel called `name` in the fallback configuration of its family, or
 * MCL_ERR_INTERNAL naming it when absent. */
mcl_status mcl_runtime_kernel(const mcl_runtime *rt, const char *name, cl_kernel *out);

/* Sets the model widths that launches are picked by (the forward pass sets
 * them at each prefill and decode; 0: unknown). */
void mcl_runtime_set_model_shape(mcl_runtime *rt, int d_inner, int d_model);

/* The configuration of family `fam` for a launch of shape `call` (fields 0
 * are unknown; d_inner and d_model default to the model's): the first of the
 * family's configurations whose class matches. Never fails for a family the
 * runtime built (its fallback matches every shape); MCL_ERR_INTERNAL else. */
mcl_status mcl_runtime_pick(const mcl_runtime *rt, mcl_family_id fam, const mcl_shape *call,
                            const mcl_tune_config **out);

/* mcl_runtime_pick, then kernel `name` of that configuration's program and
 * its tunables (*params may be NULL when not wanted). */
mcl_status mcl_runtime_pick_kernel(const mcl_runtime *rt, mcl_family_id fam, const mcl_shape *call,
                                   const char *name, cl_kernel *k, const mcl_params **params);

/* Kernel `name` of configuration c's program. */
mcl_status mcl_runtime_config_kernel(const mcl_runtime *rt, const mcl_tune_config *c, const char *name,
                                     cl_kernel *out);

/* Rebuilds configuration `config` (an index into configs) with the given
 * tunables (the tuner's candidates), replacing its program's kernels:
 * cl_kernel handles of that program obtained before are released, so
 * callers look kernels up again after a rebuild. The tunables are checked
 * (mcl_tune_check) first: MCL_ERR_INVALID_ARG naming the reason. */
mcl_status mcl_runtime_rebuild_config(mcl_runtime *rt, int config, const mcl_params *params);

/* mcl_runtime_rebuild_config on the fallback configuration of family `file`. */
mcl_status mcl_runtime_rebuild(mcl_runtime *rt, const char *file, const mcl_params *params);

/* Adds a configuration of `fam` for class `cls` (ahead of the family's less
 * specific ones) built with `params`, or finds the one with that class;
 * *index receives its index into configs. */
mcl_status mcl_runtime_config_add(mcl_runtime *rt, const mcl_family *fam, const mcl_tune_class *cls,
                                  const mcl_params *params, int *index);

/* Builds program `file` (from rt's kernel directory, else the embedded
 * copy) with rt's common options plus the tunables `params` (NULL: the
 * kernels' own defaults), through the binary cache, beside the runtime's own
 * programs, which stay as they are: how tests and tools compile other
 * configurations. *out is released with mcl_program_release. Errors as
 * mcl_program_build (MCL_ERR_BUILD with the log). */
mcl_status mcl_runtime_build_program(const mcl_runtime *rt, const char *file, const mcl_params *params,
                                     mcl_program *out);

/* The index of family `file`'s fallback configuration, or -1. */
int mcl_runtime_fallback(const mcl_runtime *rt, const char *file);

/* The tunables of family `file`'s fallback configuration, or NULL. */
const mcl_params *mcl_runtime_params(const mcl_runtime *rt, const char *file);

/* Creates a device buffer; failure names `what` and the size. */
mcl_status mcl_buffer_create(const mcl_runtime *rt, cl_mem_flags flags, size_t bytes,
                             const char *what, cl_mem *out);

/* clReleaseMemObject on a non-NULL buffer, then NULL. */
void mcl_buffer_release(cl_mem *mem);

/* Enqueues an NDRange launch; records an event when profiling is on. `local`
 * may be NULL. `name` names the kernel in errors and profiles. Under test
 * limits (MAMBACL_TEST_*), a launch whose work-group or local memory exceeds
 * the emulated device's is refused as that device would refuse it
 * (MCL_ERR_INTERNAL naming the kernel: the launcher ignored the limit). */
mcl_status mcl_launch(mcl_runtime *rt, cl_kernel k, const char *name, cl_uint dims,
                      const size_t *global, const size_t *local);

/* Keeps a profiled event (of a launch made outside mcl_launch, such as a
 * CLBlast call) under `name` (a string that outlives the record); takes
 * ownership of ev. */
void mcl_runtime_record_event(mcl_runtime *rt, const char *name, cl_event ev);

/* Waits for the queue. */
mcl_status mcl_runtime_finish(mcl_runtime *rt);

/* Sums the profiled time (ms) per kernel name into names/ms (arrays of cap);
 * returns the number of distinct names, and releases the records. */
int mcl_runtime_profile_take(mcl_runtime *rt, const char **names, double *ms, int cap);

/* Sets kernel argument `i` to the value `v` (any lvalue); returns on failure. */
#define MCL_ARG(k, i, v) \
    MCL_CL_CHECK(clSetKernelArg((k), (i), sizeof(v), &(v)), "clSetKernelArg(%s, %d)", #k, (int)(i))

/* Rounds n up to a multiple of m. */
static inline size_t mcl_round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

#endif
