/* Stop strings, hold-back and UTF-8 repair of streamed text (textstream.h). */
#include "generate/textstream.h"

#include <string.h>

#include "mambacl.h"

long mcl_text_find_stop(const char *text, size_t len, const char *const *stops, int n_stops)
{
    long best = -1;
    for (int i = 0; i < n_stops; i++) {
        size_t sl = strlen(stops[i]);
        if (sl == 0 || sl > len) continue;
        const char *p = memmem(text, len, stops[i], sl);
        if (p && (best < 0 || p - text < best)) best = p - text;
    }
    return best;
}

size_t mcl_text_stop_holdback(const char *text, size_t len, const char *const *stops, int n_stops)
{
    size_t hold = 0;
    for (int i = 0; i < n_stops; i++) {
        size_t sl = strlen(stops[i]);
        for (size_t k = sl > 1 ? sl - 1 : 0; k > hold; k--)
            if (k <= len && memcmp(text + len - k, stops[i], k) == 0) {
                hold = k;
                break;
            }
    }
    return hold;
}

size_t mcl_text_safe_end(const char *text, size_t len, const char *const *stops, int n_stops, int final)
{
    if (final) return len;
    size_t end = mcl_utf8_complete_prefix(text, len);
    size_t hold = mcl_text_stop_holdback(text, len, stops, n_stops);
    return len - hold < end ? len - hold : end;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when s starts with an
 * invalid one; *bad receives the length of the maximal invalid subpart then. */
static size_t valid_seq(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    *bad = 1;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else return 0;
    for (size_t k = 1; k < need; k++) {
        unsigned char b = k < n ? s[k] : 0;
        bool ok = k < n && (k == 1 ? (b >= lo && b <= hi) : (b & 0xC0) == 0x80);
        if (!ok) {
            *bad = k;
            return 0;
        }
    }
    return need;
}

size_t mcl_utf8_sanitize(const char *text, size_t len, char *out)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t bad, n = valid_seq(s + i, len - i, &bad);
        if (n) {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += bad;
        }
    }
    out[o] = '\0';
    return o;
}

bool mcl_utf8_valid(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        size_t bad, n = valid_seq(s + i, len - i, &bad);
        if (!n) return false;
        i += n;
    }
    return true;
}
