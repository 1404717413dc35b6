/* The runtime: one device, its context and queue, every program compiled at
 * startup, kernels looked up by name, launches with optional profiling. */
#ifndef MCL_RUNTIME_H
#define MCL_RUNTIME_H

#include <CL/cl.h>
#include <pthread.h>
#include "mambacl.h"
#include "device/caps.h"
#include "runtime/program.h"
#include "tune/tune.h"

typedef struct mcl_kernel_entry {
    char name[64];
    cl_kernel kernel;
    int program; /* index into programs */
} mcl_kernel_entry;

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
    mcl_program *programs;        /* [n_programs] */
    mcl_program_report *reports;  /* [n_programs] */
    mcl_params *params;           /* [n_programs] tunables each program was built with */

    int n_kernels;
    mcl_kernel_entry *kernels;    /* [n_kernels] */

    char cache_dir[4096];         /* "" when the binary cache is off */
    char tuning_path[4200];       /* this device's tuning file ("" when no cache dir) */
    struct mcl_tunedb *tunedb;    /* loaded tuning file, NULL when none */
    char kernel_dir[4096];        /* sources read from here ("" = embedded) */
    char warnings[1024];          /* non-fatal problems (a refused tuning file) */
    char base_options[512];       /* options common to every program (mcl_runtime_build_program) */

    cl_mem gemm_ws[3];            /* GEMM workspaces (ops/gemm.c), NULL until needed */
    size_t gemm_ws_bytes[3];

    int n_prof, cap_prof;
    mcl_prof_record *prof;        /* [cap_prof] */

    bool test_limits;             /* MAMBACL_TEST_* limits in force: launches are checked against them */

    pthread_mutex_t lock;         /* recursive: held by every public call that uses the queue */
    bool lock_made;
};

/* Takes / releases the runtime's lock (recursive). Every public function that
 * enqueues work, sets kernel arguments or changes the model's pools holds it
 * for its whole call, so a runtime, its models and their states may be used
 * from several threads (the calls are serialized). */
void mcl_runtime_lock(mcl_runtime *rt);
void mcl_runtime_unlock(mcl_runtime *rt);

/* The kernel called `name`, or MCL_ERR_INVALID_ARG naming it when absent. */
mcl_status mcl_runtime_kernel(const mcl_runtime *rt, const char *name, cl_kernel *out);

/* Rebuilds program `file` with the given tunables (the tuner's candidates),
 * replacing its kernels: cl_kernel handles of that program obtained before
 * are released, so callers look kernels up again after a rebuild. */
mcl_status mcl_runtime_rebuild(mcl_runtime *rt, const char *file, const mcl_params *params);

/* Builds program `file` (from rt's kernel directory, else the embedded
 * copy) with rt's common options plus the tunables `params` (NULL: the
 * kernels' own defaults), through the binary cache, beside the runtime's own
 * programs, which stay as they are: how tests and tools compile other
 * configurations. *out is released with mcl_program_release. Errors as
 * mcl_program_build (MCL_ERR_BUILD with the log). */
mcl_status mcl_runtime_build_program(const mcl_runtime *rt, const char *file, const mcl_params *params,
                                     mcl_program *out);

/* The tunables program `file` was built with, or NULL. */
const mcl_params *mcl_runtime_params(const mcl_runtime *rt, const char *file);

/* A tunable of program `file` as it was compiled (fallback when absent). */
long mcl_runtime_param(const mcl_runtime *rt, const char *file, const char *name, long fallback);

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
