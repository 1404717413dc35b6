/* UTF-8 helpers for streaming output. */
#include "mambacl.h"

/* Expected length of a sequence from its lead byte; 1 for invalid leads. */
static size_t seq_len(unsigned char c)
{
    if (c >= 0xF0 && c <= 0xF4) return 4;
    if (c >= 0xE0) return c <= 0xEF ? 3 : 1;
    if (c >= 0xC2) return 2;
    return 1;
}

size_t mcl_utf8_complete_prefix(const char *buf, size_t len)
{
    /* Look back at most 3 bytes for the lead byte of an unfinished sequence. */
    size_t back = len < 3 ? len : 3;
    for (size_t k = 1; k <= back; k++) {
        unsigned char c = (unsigned char)buf[len - k];
        if ((c & 0xC0) == 0x80) continue; /* continuation byte: keep looking */
        size_t need = seq_len(c);
        return need > k ? len - k : len;
    }
    return len;
}
