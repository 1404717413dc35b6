/* Generated text as it streams out, shared by `mambacl run` and `mambacl
 * serve`: where a stop string cuts it, and how much of it is safe to show
 * (never half a UTF-8 character nor the beginning of a possible stop string
 * before the end). Plain functions on a byte buffer: the callers own their
 * buffers and decide where the text goes. */
#ifndef MCL_GENERATE_TEXTSTREAM_H
#define MCL_GENERATE_TEXTSTREAM_H

#include <stdbool.h>
#include <stddef.h>

/* Offset of the earliest complete occurrence of any of the n_stops stop
 * strings (NUL-terminated, non-empty) in text[0..len), or -1. The text may
 * hold NUL bytes. */
long mcl_text_find_stop(const char *text, size_t len, const char *const *stops, int n_stops);

/* How many bytes at the end of text[0..len) could begin one of the stop
 * strings (a proper prefix of it): those must be held back until the next
 * token tells whether the stop string follows. */
size_t mcl_text_stop_holdback(const char *text, size_t len, const char *const *stops, int n_stops);

/* End of the part of text[0..len) that is safe to show now: neither an
 * unfinished UTF-8 sequence (mcl_utf8_complete_prefix) nor a possible
 * stop-string beginning. When `final`, all of it (len). */
size_t mcl_text_safe_end(const char *text, size_t len, const char *const *stops, int n_stops, int final);

/* Copies text[0..len) into out (capacity >= 3 * len + 1) with every invalid
 * UTF-8 sequence (a maximal invalid subpart, as the Unicode standard counts
 * them) replaced by U+FFFD, so that JSON strings carrying it are valid.
 * Returns the bytes written (out is NUL-terminated). */
size_t mcl_utf8_sanitize(const char *text, size_t len, char *out);

/* True when text[0..len) is valid UTF-8 (no overlong forms, surrogates or
 * code points above U+10FFFF). */
bool mcl_utf8_valid(const char *text, size_t len);

#endif
