/* A checkpoint directory, validated: config.json plus model.safetensors or
 * model.safetensors.index.json and its shards. Every tensor the
 * architecture's weight table and the config imply is present with its
 * shape, nothing else is. The public part (open/free/config/counts) is in
 * include/mambacl.h; mcl_checkpoint_open itself is in src/model/arch.c (it
 * picks the architecture's table, which lives above this module). */
#ifndef MCL_CHECKPOINT_H
#define MCL_CHECKPOINT_H

#include "checkpoint/config.h"
#include "mambacl.h"
#include "checkpoint/safetensors.h"
#include "checkpoint/weight_table.h"

/* Reads config.json and maps the weight files of `dir` (one file or the
 * shards of an index) without binding any weight: the first half of
 * mcl_checkpoint_open, which binds the architecture's table next
 * (src/model/arch.c). Errors as mcl_checkpoint_open. */
mcl_status mcl_checkpoint_read(const char *dir, mcl_checkpoint **out);

/* Binds every row of `table` the config implies to its tensor (the form's
 * spelling, or the other one), checks each shape against the row's shape
 * expression, refuses tensors the table does not name, then counts the
 * parameters. `table` must outlive ck. Errors: MCL_ERR_FORMAT naming the file
 * and tensor (missing, wrong shape, unexpected), MCL_ERR_INTERNAL for a
 * malformed table, MCL_ERR_NOMEM. */
mcl_status mcl_checkpoint_bind(mcl_checkpoint *ck, const mcl_weight_table *table);

/* The tensor of row `id` of the bound table in `layer` (0..n_layer-1,
 * ignored for globals), or NULL when the model has none (LM head when tied,
 * conv bias when absent), nothing is bound, or the arguments are out of
 * range. Owned by ck. */
const mcl_tensor *mcl_checkpoint_weight(const mcl_checkpoint *ck, int id, int layer);

/* The table bound by mcl_checkpoint_bind (NULL before). */
const mcl_weight_table *mcl_checkpoint_table(const mcl_checkpoint *ck);

/* What config.json said (form, declared vocab, padding). Owned by ck. */
const mcl_config_source *mcl_checkpoint_source(const mcl_checkpoint *ck);

/* Number of safetensors files (1, or the shards of the index). */
int mcl_checkpoint_file_count(const mcl_checkpoint *ck);

#endif
