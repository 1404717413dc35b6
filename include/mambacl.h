/*
 * mambacl: Mamba language models on any OpenCL device.
 *
 * Conventions of this API:
 *  - Every function that can fail returns an mcl_status. MCL_OK is 0. On failure
 *    a message naming what failed is kept per thread and read with
 *    mcl_last_error(); it stays until the next failure on that thread.
 *  - Every object made by a _create/_load/_open function is released by the
 *    matching _free function, which accepts NULL.
 *  - The library never exits, aborts or prints, except the progress bars that
 *    the caller switches on.
 *
 * Threads:
 *  - A runtime, the models loaded on it and their states may be shared by
 *    several threads: every call that uses the device (model load and free,
 *    state create/reset/copy/free, prefill, decode, selftest, profiling
 *    switch) holds the runtime's lock for its whole duration, so calls on one
 *    runtime run one after the other, never interleaved. Threads gain speed
 *    only with a runtime each (runtimes are independent; several may use the
 *    same device). The read-only getters (mcl_runtime_device,
 *    mcl_model_config, ...) need no lock.
 *  - A state advanced by two threads at once is not corrupted (the calls are
 *    serialized) but its history then depends on which call came first: give
 *    each sequence's state to one thread at a time.
 *  - mcl_runtime_free and mcl_model_free must not run while another thread
 *    still uses that runtime or model (or anything made from it).
 *  - A tokenizer may be used by any number of threads at once; a sampler by
 *    one thread at a time. Error messages (mcl_last_error) are per thread.
 *  - A process's environment is read when a runtime is created (MAMBACL_*
 *    variables); change it only while no runtime is being created.
 */
#ifndef MAMBACL_H
#define MAMBACL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the functions that libmambacl exports; everything else in the
 * library is built with hidden visibility. */
#if defined(__GNUC__) || defined(__clang__)
#define MCL_API __attribute__((visibility("default")))
#else
#define MCL_API
#endif

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

typedef enum mcl_status {
    MCL_OK = 0,
    MCL_ERR_INVALID_ARG,   /* a caller's argument or option is wrong */
    MCL_ERR_IO,            /* a file could not be read or written */
    MCL_ERR_FORMAT,        /* a file's content is malformed */
    MCL_ERR_UNSUPPORTED,   /* valid input that this runtime cannot run */
    MCL_ERR_NO_DEVICE,     /* no OpenCL device, or none matches the selector */
    MCL_ERR_OPENCL,        /* an OpenCL call failed */
    MCL_ERR_BUILD,         /* a kernel failed to compile; the message holds the log */
    MCL_ERR_NOMEM,         /* host memory allocation failed */
    MCL_ERR_DEVICE_MEM,    /* the device has too little memory */
    MCL_ERR_INTERRUPTED,   /* stopped by the caller (for example Ctrl-C) */
    MCL_ERR_INTERNAL,      /* a bug in mambacl: an internal invariant failed (not the caller's mistake) */
} mcl_status;

/* The message of the last failure on this thread ("" when none). The string
 * is owned by the library and valid until the next failure on this thread. */
MCL_API const char *mcl_last_error(void);

/* A constant name for a status code ("MCL_ERR_FORMAT"). */
MCL_API const char *mcl_status_name(mcl_status status);

/* ------------------------------------------------------------------------ */
/* Devices                                                                  */
/* ------------------------------------------------------------------------ */

typedef enum mcl_device_type {
    MCL_DEVICE_TYPE_GPU,
    MCL_DEVICE_TYPE_CPU,
    MCL_DEVICE_TYPE_ACCELERATOR,
    MCL_DEVICE_TYPE_OTHER,
} mcl_device_type;

/* What the runtime knows of a device, read once when it is enumerated. */
typedef struct mcl_device_info {
    int index;                      /* position in mcl_device_list order */
    char platform[128];             /* CL_PLATFORM_NAME */
    char platform_version[128];     /* CL_PLATFORM_VERSION */
    char name[128];                 /* CL_DEVICE_NAME */
    char vendor[128];               /* CL_DEVICE_VENDOR */
    char driver_version[128];       /* CL_DRIVER_VERSION */
    char device_version[128];       /* CL_DEVICE_VERSION */
    char opencl_c_version[128];     /* CL_DEVICE_OPENCL_C_VERSION */
    mcl_device_type type;
    uint32_t compute_units;
    uint64_t global_mem_bytes;
    uint64_t local_mem_bytes;
    bool local_mem_is_local;        /* CL_LOCAL (dedicated) rather than CL_GLOBAL */
    uint64_t max_alloc_bytes;       /* CL_DEVICE_MAX_MEM_ALLOC_SIZE */
    size_t max_work_group_size;
    size_t max_work_item_sizes[3];
    size_t preferred_wg_multiple;   /* of a trivial kernel, 0 if unknown */
    bool has_fp16;                  /* cl_khr_fp16 */
    bool has_fp64;                  /* cl_khr_fp64 */
    bool has_subgroups;             /* cl_khr_subgroups or cl_intel_subgroups */
    uint32_t mem_base_addr_align;   /* bits */
    bool is_simulator;              /* Oclgrind and the like: listed last, never the default */
    bool has_matrix_path;           /* a matrix-unit path (NVIDIA mma.sync) passed its probe and is on:
                                       set in a runtime's own record only (false in mcl_device_list's) */
} mcl_device_info;

/* Enumerates every device of every platform, in the order: GPUs,
 * accelerators, CPUs, others, then simulators (Oclgrind) -- the order of
 * the platforms within each group. On success *out is an array of *count
 * records that the caller releases with mcl_device_list_free. Zero devices
 * is success with *count == 0. */
MCL_API mcl_status mcl_device_list(mcl_device_info **out, int *count);
MCL_API void mcl_device_list_free(mcl_device_info *list);

/* Picks a device: `selector` is NULL/"" (then $MAMBACL_DEVICE, then the first
 * device that is not a simulator), a decimal index into the list, one of the
 * names "gpu", "cpu", "accelerator" (the first device of that type that is
 * not a simulator), "pocl" (the first device of PoCL's platform), or a
 * case-insensitive substring of the platform or device name ("nvidia",
 * "oclgrind"). Writes the index into *index. MCL_ERR_NO_DEVICE when nothing
 * matches, or when only simulators (Oclgrind) exist and none was asked for. */
MCL_API mcl_status mcl_device_select(const mcl_device_info *list, int count,
                             const char *selector, int *index);

/* ------------------------------------------------------------------------ */
/* Runtime: one device, its context and queue, every kernel compiled        */
/* ------------------------------------------------------------------------ */

typedef struct mcl_runtime mcl_runtime;

typedef struct mcl_runtime_options {
    const char *device;      /* selector as for mcl_device_select; NULL = default */
    bool profiling;          /* create the queue with CL_QUEUE_PROFILING_ENABLE */
    bool no_cache;           /* do not read or write the binary cache */
    const char *cache_dir;   /* NULL = $MAMBACL_CACHE_DIR, $XDG_CACHE_HOME/mambacl, ~/.cache/mambacl */
    const char *kernel_dir;  /* NULL = $MAMBACL_KERNEL_DIR, else the embedded sources */
} mcl_runtime_options;
/* Environment, read by mcl_runtime_create (each value validated: a malformed
 * one is a warning in mcl_runtime_warnings, or an error naming the variable
 * where going on would be wrong): MAMBACL_DEVICE, MAMBACL_CACHE_DIR,
 * MAMBACL_NO_CACHE (1/0, true/false, yes/no, on/off), MAMBACL_KERNEL_DIR.
 * Test only (emulate another device's limits on the one present; a limit
 * can only shrink the real one; the device name gets " [test limits]"):
 * MAMBACL_TEST_MAX_WG, MAMBACL_TEST_LOCAL_MEM (bytes),
 * MAMBACL_TEST_WG_MULTIPLE, MAMBACL_TEST_DEVICE_TYPE (gpu|cpu). */

/* Non-fatal problems met while creating the runtime, such as a tuning file
 * that was ignored ("" when none). Owned by rt. */
MCL_API const char *mcl_runtime_warnings(const mcl_runtime *rt);

/* Per-program build report, filled by mcl_runtime_create. */
typedef struct mcl_program_report {
    const char *file;        /* "scan.cl" */
    bool from_cache;         /* binary loaded from the on-disk cache (a program
                                equal to an earlier one of the runtime shares
                                it: that one's from_cache, build_ms 0) */
    double build_ms;         /* wall time to build or load */
    const char *tuning;      /* where its tunables came from: "default" (rules
                                from the device record), "built-in" (the
                                project's table), "tuned" (this device's
                                tuning file), "candidate" (the tuner) */
    const char *shapes;      /* the shapes it is used for: "any", or a class
                                such as "d_inner 1024-2047, d_model 512-1023"
                                (a family has one program per class) */
} mcl_program_report;

/* Opens the selected device and compiles every kernel program for it (from
 * the binary cache when possible). `opts` may be NULL for defaults. On
 * success *out owns the OpenCL context and is released with
 * mcl_runtime_free. Errors: MCL_ERR_NO_DEVICE, MCL_ERR_OPENCL, MCL_ERR_BUILD
 * (message holds the file name and the compiler's log), MCL_ERR_NOMEM. */
MCL_API mcl_status mcl_runtime_create(const mcl_runtime_options *opts, mcl_runtime **out);
MCL_API void mcl_runtime_free(mcl_runtime *rt);

/* The record of the runtime's device. Owned by rt. */
MCL_API const mcl_device_info *mcl_runtime_device(const mcl_runtime *rt);

/* Build reports of every program; *count receives their number. Owned by rt. */
MCL_API const mcl_program_report *mcl_runtime_programs(const mcl_runtime *rt, int *count);

/* Switches event profiling of later launches on or off (the queue is created
 * with profiling enabled when opts->profiling was set; turning it on later
 * re-creates the queue). */
MCL_API mcl_status mcl_runtime_set_profiling(mcl_runtime *rt, bool on);

/* Runs one tiny launch of every kernel and checks its result. For each
 * kernel calls report(name, ok, ms, user). Returns the first failure. */
typedef void (*mcl_selftest_report_fn)(const char *kernel, bool ok, double ms, void *user);
MCL_API mcl_status mcl_runtime_selftest(mcl_runtime *rt, mcl_selftest_report_fn report, void *user);

/* ------------------------------------------------------------------------ */
/* Checkpoint loading                                                       */
/* ------------------------------------------------------------------------ */

/* Storage type of a weight tensor; the values match cl/common.cl. */
typedef enum mcl_dtype {
    MCL_DTYPE_F32 = 0,
    MCL_DTYPE_F16 = 1,
    MCL_DTYPE_BF16 = 2,
} mcl_dtype;

/* The architecture of a model (config.json's model_type, or ssm_cfg.layer
 * of the state-spaces form). Only Mamba-1 runs today; config.json of another
 * (Mamba-2, Falcon-Mamba) is refused with MCL_ERR_UNSUPPORTED naming it. */
typedef enum mcl_arch_id {
    MCL_ARCH_MAMBA1 = 0, /* model_type "mamba" */
} mcl_arch_id;

/* A model's shape, from config.json (HF MambaConfig or the original
 * state-spaces form). */
typedef struct mcl_config {
    int d_model;           /* hidden_size / d_model */
    int n_layer;           /* num_hidden_layers / n_layer */
    int d_inner;           /* intermediate_size, expand * d_model */
    int d_state;           /* state_size, N */
    int d_conv;            /* conv_kernel */
    int dt_rank;           /* time_step_rank ("auto" = ceil(d_model / 16)) */
    int vocab_size;        /* rows of the embedding matrix (padded vocab) */
    float norm_eps;        /* layer_norm_epsilon */
    bool tie_embeddings;   /* lm_head shares the embedding matrix */
    bool conv_bias;        /* use_conv_bias */
    bool proj_bias;        /* use_bias (in/out projections); refused when true */
    bool residual_in_fp32; /* informational: mambacl always keeps it in fp32 */
    mcl_arch_id arch;      /* which architecture (0: Mamba-1, the default of a zeroed config) */
} mcl_config;

/* The name of a dtype ("F16"). */
MCL_API const char *mcl_dtype_name(mcl_dtype dtype);

/* A validated checkpoint directory: config.json and its safetensors weights,
 * read into private read-only memory (not mapped: a file truncated while
 * mapped would raise SIGBUS). */
typedef struct mcl_checkpoint mcl_checkpoint;

/* Opens the model directory `dir`: reads config.json (Hugging Face
 * MambaConfig or the original state-spaces form), maps model.safetensors or
 * the shards named by model.safetensors.index.json, and checks every tensor
 * the config implies is there with the implied shape and nothing else is.
 * On success *out is released with mcl_checkpoint_free. Errors (the message
 * names the file and the problem, on one line): MCL_ERR_IO (missing or
 * unreadable file or directory), MCL_ERR_FORMAT (malformed content, a shape
 * or tensor set that disagrees with the config), MCL_ERR_UNSUPPORTED (a valid
 * model that mambacl cannot run: Mamba-2, projection biases, other dtypes),
 * MCL_ERR_NOMEM. */
MCL_API mcl_status mcl_checkpoint_open(const char *dir, mcl_checkpoint **out);
MCL_API void mcl_checkpoint_free(mcl_checkpoint *ck);

/* The model's configuration; vocab_size is the embedding's row count. Owned by ck. */
MCL_API const mcl_config *mcl_checkpoint_config(const mcl_checkpoint *ck);

/* Parameters of the model (a tied embedding counted once). */
MCL_API uint64_t mcl_checkpoint_param_count(const mcl_checkpoint *ck);

/* The dtype holding the most parameters. */
MCL_API mcl_dtype mcl_checkpoint_dtype(const mcl_checkpoint *ck);

/* Device memory the weights need: matrices (embedding, LM head when untied,
 * in/x/dt/out projections) in their checkpoint dtype, the small per-channel
 * tensors (norms, conv weight and bias, dt bias, A, D) as fp32. Returns the
 * total bytes; *largest (may be NULL) receives the largest single tensor,
 * to compare with the device's maximum allocation. States and activations
 * are not included. */
MCL_API uint64_t mcl_checkpoint_device_bytes(const mcl_checkpoint *ck, uint64_t *largest);

/* ------------------------------------------------------------------------ */
/* Tokenizer                                                                */
/* ------------------------------------------------------------------------ */

/* A Hugging Face tokenizer.json byte-level BPE tokenizer (GPT-NeoX, GPT-2
 * style); see docs/tokenizer.md for what is supported. Encoding matches the
 * Hugging Face `tokenizers` library id for id. An mcl_tokenizer is immutable
 * after loading except for an internal, locked cache: every function below
 * may be called from several threads at once. */
typedef struct mcl_tokenizer mcl_tokenizer;

/* Reads tokenizer.json at `path`. On success *out is released with
 * mcl_tokenizer_free. Errors (message names the file and the field):
 * MCL_ERR_IO (cannot read), MCL_ERR_FORMAT (not JSON, bad vocab, merges
 * naming unknown tokens, duplicate or out-of-range ids...),
 * MCL_ERR_UNSUPPORTED (a model, normalizer, pre-tokenizer, decoder or
 * post-processor type this tokenizer does not implement), MCL_ERR_NOMEM. */
MCL_API mcl_status mcl_tokenizer_load(const char *path, mcl_tokenizer **out);
MCL_API void mcl_tokenizer_free(mcl_tokenizer *tok);

/* Encodes text[0..len) (UTF-8; NUL bytes allowed) into token ids. Special
 * and added tokens written in the text encode to their ids; no BOS/EOS is
 * added. Invalid UTF-8 is first replaced by U+FFFD, one per maximal invalid
 * sequence. On success *ids (malloc'ed, release with free(); NULL when
 * *n_ids is 0 is possible) holds *n_ids ids. Errors: MCL_ERR_INVALID_ARG,
 * MCL_ERR_NOMEM. */
MCL_API mcl_status mcl_tokenizer_encode(const mcl_tokenizer *tok, const char *text, size_t len, int32_t **ids,
                                size_t *n_ids);

/* Decodes n ids into *text (malloc'ed and NUL-terminated, release with
 * free()); *len (may be NULL) receives its length. As the library's decode
 * with special tokens kept: with a ByteLevel decoder, byte sequences that
 * are not valid UTF-8 become U+FFFD. decode(encode(s)) == s for valid,
 * NFC-normalized UTF-8 s. Errors: MCL_ERR_INVALID_ARG naming the first id
 * outside the vocabulary, MCL_ERR_NOMEM. */
MCL_API mcl_status mcl_tokenizer_decode(const mcl_tokenizer *tok, const int32_t *ids, size_t n, char **text, size_t *len);

/* The bytes that token `id` contributes to decoded text, for streaming: raw
 * bytes, possibly part of a UTF-8 sequence (concatenate and check before
 * printing); a BPEDecoder suffix becomes a space. *bytes is owned by tok.
 * Errors: MCL_ERR_INVALID_ARG for an id outside the vocabulary. */
MCL_API mcl_status mcl_tokenizer_token_text(const mcl_tokenizer *tok, int32_t id, const char **bytes, size_t *len);

/* Number of ids: 1 + the largest id of the vocab and the added tokens. */
MCL_API int32_t mcl_tokenizer_vocab_size(const mcl_tokenizer *tok);

/* The id of a token given by its exact text (added tokens first, then the
 * model vocab, e.g. "<|endoftext|>"), or -1. */
MCL_API int32_t mcl_tokenizer_token_id(const mcl_tokenizer *tok, const char *token);

/* End-of-sequence id: the first of "<|endoftext|>", "</s>",
 * "<|end_of_text|>", "<eos>" present, else -1. */
MCL_API int32_t mcl_tokenizer_eos_id(const mcl_tokenizer *tok);

/* Beginning-of-sequence id: the first of "<|startoftext|>", "<s>",
 * "<|begin_of_text|>", "<bos>", "<|endoftext|>" (GPT-NeoX uses its
 * end-of-text token as BOS) present, else -1. */
MCL_API int32_t mcl_tokenizer_bos_id(const mcl_tokenizer *tok);

/* True when id is an added token marked "special" in tokenizer.json. */
MCL_API bool mcl_tokenizer_is_special(const mcl_tokenizer *tok, int32_t id);

/* ------------------------------------------------------------------------ */
/* Forward pass                                                             */
/* ------------------------------------------------------------------------ */

/* A model on a device: its weights in device buffers, the pools of sequence
 * states and the scratch of the forward pass. May be shared by threads (see
 * "Threads" at the top: its calls take its runtime's lock). */
typedef struct mcl_model mcl_model;

/* One sequence's recurrent state (conv and SSM state of every layer), a slot
 * in its model's pools. Created zeroed; prefill and decode advance it. */
typedef struct mcl_state mcl_state;

/* Called while weights are uploaded: done of total weight bytes. The first
 * call (done == 0) comes before any device allocation. */
typedef void (*mcl_load_progress_fn)(uint64_t done, uint64_t total, void *user);

typedef struct mcl_model_options {
    mcl_load_progress_fn progress; /* NULL: no reports */
    void *user;                    /* passed to progress */
    uint64_t max_buffer_bytes;     /* split weights above this size into several
                                      buffers; 0 = the device's max allocation
                                      (a smaller value exists for tests) */
} mcl_model_options;

/* Loads the checkpoint in `dir` (config.json + safetensors) onto the device
 * of `rt`, which must outlive the model. Big matrices keep their checkpoint
 * dtype; per-channel tensors become fp32; tied embeddings are stored once.
 * On success *out is released with mcl_model_free. Errors: those of
 * checkpoint loading (MCL_ERR_IO, MCL_ERR_FORMAT, MCL_ERR_UNSUPPORTED),
 * MCL_ERR_DEVICE_MEM when the model needs more than the device's global
 * memory (the message gives both sizes; nothing is allocated), MCL_ERR_OPENCL. */
MCL_API mcl_status mcl_model_load(mcl_runtime *rt, const char *dir, mcl_model **out);

/* mcl_model_load with options (progress reports, buffer split size); opts
 * may be NULL. */
MCL_API mcl_status mcl_model_load_ex(mcl_runtime *rt, const char *dir, const mcl_model_options *opts,
                             mcl_model **out);

/* A model of shape `cfg` with random weights stored in `dtype`, generated
 * from `seed` (the same seed gives the same weights), for benchmarks and
 * tests. Errors as mcl_model_load, MCL_ERR_INVALID_ARG for a bad config. */
MCL_API mcl_status mcl_model_create_random(mcl_runtime *rt, const mcl_config *cfg, mcl_dtype dtype,
                                   uint64_t seed, mcl_model **out);

/* Releases the model's device buffers. States of the model must be freed
 * first. Accepts NULL. */
MCL_API void mcl_model_free(mcl_model *m);

/* The model's shape. Owned by the model. */
MCL_API const mcl_config *mcl_model_config(const mcl_model *m);

/* Rows of the logits (the padded vocabulary size). */
MCL_API int mcl_model_vocab(const mcl_model *m);

/* Bytes of weights on the device. */
MCL_API uint64_t mcl_model_weight_bytes(const mcl_model *m);

/* A fresh, zeroed state in the model's pools (the pools grow as needed).
 * Released with mcl_state_free. Errors: MCL_ERR_DEVICE_MEM, MCL_ERR_OPENCL. */
MCL_API mcl_status mcl_state_create(mcl_model *m, mcl_state **out);

/* Zeroes the state, as if freshly created. */
MCL_API mcl_status mcl_state_reset(mcl_state *s);

/* Makes dst continue exactly where src stands (both of the same model).
 * src is unchanged. MCL_ERR_INVALID_ARG for states of different models. */
MCL_API mcl_status mcl_state_copy(mcl_state *dst, const mcl_state *src);

/* Returns the state's slot to the pool. Accepts NULL. */
MCL_API void mcl_state_free(mcl_state *s);

/* Writes the state to the file `path` (created or replaced): a versioned
 * header holding hashes of the model's config and weights (every small
 * tensor whole, samples of each matrix), then the conv and SSM state of
 * every layer as fp32 -- n_layer * d_inner * (d_conv - 1 + d_state) * 4
 * bytes, whatever the number of tokens the state has seen. The
 * state is unchanged. Errors: MCL_ERR_INVALID_ARG (NULL), MCL_ERR_IO naming
 * the file (the partial file is removed), MCL_ERR_OPENCL, MCL_ERR_NOMEM. */
MCL_API mcl_status mcl_state_save(const mcl_state *s, const char *path);

/* Replaces the state `s` by the one saved in `path` by mcl_state_save from
 * the same model (same config, weights and weight dtype): prefill or decode
 * then continue exactly where the saved state stood. The file is checked
 * entirely before `s` is touched; on failure `s` is unchanged. Errors, each
 * naming the file: MCL_ERR_IO (cannot open), MCL_ERR_FORMAT (not a state
 * file, another version, truncated, trailing bytes, payload hash mismatch),
 * MCL_ERR_INVALID_ARG (saved from another model: another shape, weight
 * dtype or weights), MCL_ERR_UNSUPPORTED (a state dtype this runtime does
 * not keep), MCL_ERR_OPENCL, MCL_ERR_NOMEM. */
MCL_API mcl_status mcl_state_load(mcl_state *s, const char *path);

/* Called by mcl_prefill / mcl_prefill_all after each layer of each pass
 * with the tokens processed so far (done, of total in the call, counting a
 * pass's layers as fractions of its tokens). Return false to stop: the
 * prefill then returns MCL_ERR_INTERRUPTED within one layer of one pass and
 * leaves the states undefined (reset them). */
typedef bool (*mcl_prefill_progress_fn)(uint64_t done, uint64_t total, void *user);

/* Installs (fn != NULL) or removes (fn == NULL) the prefill callback of the
 * model. While one is installed, prefill runs in passes of at most 1024
 * tokens and waits for the device after each layer, so that the reports
 * follow the real work and a stop comes within one layer of 1024 tokens (a
 * small cost; none when no callback is set). `user` is passed to fn. */
MCL_API void mcl_model_set_prefill_progress(mcl_model *m, mcl_prefill_progress_fn fn, void *user);

/* Runs a batch of n_seqs sequences through the model, each from its state,
 * which is advanced past its tokens. tokens[b] holds lengths[b] >= 1 ids in
 * [0, vocab). logits, when not NULL, receives [n_seqs, vocab] floats: the
 * logits after each sequence's last token. Each state may appear only once.
 * The inputs are checked before anything runs (MCL_ERR_INVALID_ARG names
 * the bad id or length); device failures give MCL_ERR_OPENCL /
 * MCL_ERR_DEVICE_MEM and leave the states undefined (reset them). */
MCL_API mcl_status mcl_prefill(mcl_model *m, mcl_state **states, const int32_t *const *tokens,
                       const int *lengths, int n_seqs, float *logits);

/* As mcl_prefill, but logits (required) receives the logits of every
 * position: [sum of lengths, vocab], sequence after sequence. */
MCL_API mcl_status mcl_prefill_all(mcl_model *m, mcl_state **states, const int32_t *const *tokens,
                           const int *lengths, int n_seqs, float *logits);

/* One token per sequence: tokens [n_seqs]; logits, when not NULL, receives
 * [n_seqs, vocab]. Continues exactly where prefill or decode stopped.
 * Errors as mcl_prefill. */
MCL_API mcl_status mcl_decode(mcl_model *m, mcl_state **states, const int32_t *tokens, int n_seqs,
                      float *logits);

#define MCL_GREEDY_MAX_STOP 8 /* stop ids mcl_decode_greedy takes */

/* Greedy decode of one sequence from its state: step i consumes token t_i
 * (t_0 = token, in [0, vocab)) and chooses t_{i+1} = the argmax of the
 * logits after it (NaN as -inf, ties to the lower id: what
 * mcl_sampler_sample gives at temperature 0 without a repeat penalty), which
 * goes to out[i]. It stops after max_steps ids (>= 1), or after an id of
 * stop[0..n_stop) (n_stop in [0, MCL_GREEDY_MAX_STOP]; stop may be NULL when
 * n_stop is 0), which is then the last one written. *n_out is the number of
 * ids written; out needs room for max_steps, and only out[0..*n_out) is
 * written. The state then has consumed token and out[0..*n_out - 1): what
 * *n_out calls of mcl_decode with that choice leave, so out[*n_out - 1] is the
 * next token to feed.
 * Where the device can chain the steps (a GPU where batch 1 runs the
 * persistent layer) the host enqueues them ahead without reading logits
 * and the choice is made on the device; elsewhere, or with
 * MAMBACL_DISABLE=chain, it is the host loop of mcl_decode. Both give the
 * same ids and state on the same device. Errors: MCL_ERR_INVALID_ARG for a
 * NULL argument, a state of another model, token outside the vocabulary,
 * max_steps < 1 or n_stop out of range (nothing run); device failures as
 * mcl_decode (the state undefined; *n_out 0). */
MCL_API mcl_status mcl_decode_greedy(mcl_model *m, mcl_state *state, int32_t token, int max_steps,
                                     const int32_t *stop, int n_stop, int32_t *out, int *n_out);

/* ------------------------------------------------------------------------ */
/* Generation                                                               */
/* ------------------------------------------------------------------------ */

/* How the next token is chosen. Zero-initialised fields mean "off" except
 * temperature (0 = greedy). mcl_sampler_params_default() gives the CLI's
 * defaults. */
typedef struct mcl_sampler_params {
    float temperature;     /* 0 = greedy (argmax); logits are divided by it */
    int top_k;             /* keep the k most likely tokens; 0 = all */
    float top_p;           /* keep the smallest set with mass >= top_p; 0 or 1 = off */
    float min_p;           /* drop tokens with p < min_p * p_max; 0 = off */
    float repeat_penalty;  /* divide positive / multiply negative logits of recent tokens; 0 or 1 = off */
    int repeat_last_n;     /* how many recent tokens the penalty looks at */
    uint64_t seed;         /* the same seed gives the same choices */
} mcl_sampler_params;

typedef struct mcl_sampler mcl_sampler;

/* The CLI defaults: temperature 0.8, top_k 40, top_p 0.95, min_p 0.05,
 * repeat_penalty 1.0 (off, as llama.cpp) with a window of the last 64
 * tokens, seed 0 (the CLI draws a random seed unless given one). The order
 * of mcl_sampler_sample: repeat penalty, temperature, top-k, softmax, min-p,
 * top-p, draw. */
MCL_API mcl_sampler_params mcl_sampler_params_default(void);

/* Creates a sampler for a vocabulary of n_vocab logits. MCL_ERR_INVALID_ARG
 * names the first parameter out of range (negative temperature, top_p or
 * min_p outside [0,1], negative top_k, penalty < 0, n_vocab < 1). */
MCL_API mcl_status mcl_sampler_create(const mcl_sampler_params *params, int n_vocab, mcl_sampler **out);
MCL_API void mcl_sampler_free(mcl_sampler *s);

/* Picks a token id from logits[n_vocab] given the ids generated or prompted so
 * far (history, may be NULL when n_history is 0). logits is not modified.
 * Non-finite logits count as -inf; if every logit is -inf the result is the
 * argmax index 0. Never fails. */
MCL_API int32_t mcl_sampler_sample(mcl_sampler *s, const float *logits, const int32_t *history,
                           size_t n_history);

/* Length of the longest prefix of buf[0..len) that does not end inside a
 * UTF-8 multi-byte sequence: print that much now, hold the rest back until
 * the next token completes it. Invalid bytes count as complete. */
MCL_API size_t mcl_utf8_complete_prefix(const char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* MAMBACL_H */
