/* Whole-file reads, the one reader of the library: regular files only (a FIFO
 * or a device is refused before it is read), with a size cap. */
#ifndef MCL_FILE_H
#define MCL_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "mambacl.h"

/* Reads a whole regular file of at most `cap` bytes into a NUL-terminated
 * buffer that the caller frees. Errors: MCL_ERR_IO, MCL_ERR_FORMAT (too
 * large), MCL_ERR_NOMEM. */
/* Opens `path` for reading if it is a regular file, without blocking on a
 * FIFO or touching a device (opened with O_NONBLOCK, checked with fstat,
 * then made blocking). *fd is the caller's to close; *sb its fstat.
 * Errors: MCL_ERR_IO naming the path and what it is. */
mcl_status mcl_open_regular(const char *path, int *fd, struct stat *sb);

mcl_status mcl_read_text_file(const char *path, size_t cap, char **out, size_t *len);

/* True when JSON text s[0..n) holds a NUL: a raw 0 byte, or a \u0000 escape
 * inside a string. cJSON keeps C strings, so such a name or value would be
 * cut at the NUL ("a\u0000b" would match tensor "a"): callers refuse it. */
bool mcl_json_has_nul(const char *s, size_t n);

#endif
