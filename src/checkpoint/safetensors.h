/* Reading .safetensors files: an 8-byte little-endian header length, a JSON
 * header {"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {...}},
 * then the data section. Files are read into private read-only memory (not
 * mapped: a file truncated under a mapping raises SIGBUS); every field is
 * checked before a tensor is handed out (see docs/checkpoints.md). */
#ifndef MCL_SAFETENSORS_H
#define MCL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "mambacl.h"

#define MCL_TENSOR_MAX_DIMS 4
#define MCL_ST_MAX_HEADER (100u * 1000u * 1000u) /* bytes of JSON header accepted */
#define MCL_ST_MAX_TENSORS (1 << 20)

/* One tensor of a checkpoint. `data` points into the read-only mapping of
 * its file (it may be unaligned: read it with memcpy or upload it as bytes). */
typedef struct mcl_tensor {
    const char *name;                   /* owned by the file record */
    mcl_dtype dtype;
    int ndim;                           /* 0..MCL_TENSOR_MAX_DIMS */
    int64_t shape[MCL_TENSOR_MAX_DIMS]; /* unused dims are 1 */
    const void *data;
    size_t nbytes;                      /* elements * element size */
} mcl_tensor;

/* A parsed file: its tensors sorted by name (names are unique). */
typedef struct mcl_st_file {
    char *path;             /* as given, for messages */
    void *map;              /* the file's bytes, an anonymous mapping (NULL for parse-from-memory) */
    size_t map_size;
    mcl_tensor *tensors;    /* [n_tensors], sorted by name */
    char *names;            /* storage of every name */
    int n_tensors;
} mcl_st_file;

/* Reads `path` and validates it. On success *out is released with
 * mcl_st_free. Errors: MCL_ERR_IO (cannot open or read, not a regular file,
 * shrank while being read),
 * MCL_ERR_FORMAT (anything malformed; the message starts with the path),
 * MCL_ERR_UNSUPPORTED (a dtype other than F32/F16/BF16, too many dims). */
mcl_status mcl_st_open(const char *path, mcl_st_file **out);

/* Validates a whole file image held in memory (`label` names it in
 * messages). The tensors point into `buf`, which must outlive *out. */
mcl_status mcl_st_parse(const void *buf, size_t size, const char *label, mcl_st_file **out);

/* Releases the record and its mapping. Accepts NULL. */
void mcl_st_free(mcl_st_file *f);

/* The tensor called `name`, or NULL. */
const mcl_tensor *mcl_st_find(const mcl_st_file *f, const char *name);

/* Opens the shards that the index file `index_path` names (files in `dir`)
 * and checks them against its weight_map both ways: every listed tensor is
 * in its shard, every shard tensor is listed for that shard. The index is at
 * most `cap` bytes. On success *files is an array of *n_files records; the
 * caller frees each with mcl_st_free and the array with free(). Errors as
 * mcl_st_open; a shard's message is prefixed with the index path. */
mcl_status mcl_st_open_index(const char *dir, const char *index_path, size_t cap, mcl_st_file ***files,
                             int *n_files);


/* Copies `s` into buf for an error message: at most cap-1 bytes, control
 * characters replaced by '?', "..." when cut. Returns buf. */
const char *mcl_printable(const char *s, char *buf, size_t cap);

#endif
