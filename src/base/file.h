/* Whole-file reads, the one reader of the library: regular files only (a FIFO
 * or a device is refused before it is read), with a size cap. */
#ifndef MCL_FILE_H
#define MCL_FILE_H

#include <stddef.h>

#include "mambacl.h"

/* Reads a whole regular file of at most `cap` bytes into a NUL-terminated
 * buffer that the caller frees. Errors: MCL_ERR_IO, MCL_ERR_FORMAT (too
 * large), MCL_ERR_NOMEM. */
mcl_status mcl_read_text_file(const char *path, size_t cap, char **out, size_t *len);

#endif
