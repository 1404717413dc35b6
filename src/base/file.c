/* Whole-file reads. */
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"

mcl_status mcl_open_regular(const char *path, int *fd_out, struct stat *sb)
{
    *fd_out = -1;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
     * writer forever; on a regular file the flag changes nothing. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return mcl_error_set(MCL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    mcl_status st = MCL_OK;
    if (fstat(fd, sb) != 0) st = mcl_error_set(MCL_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(sb->st_mode))
        st = mcl_error_set(MCL_ERR_IO, "%s: not a regular file (%s)", path,
                           S_ISDIR(sb->st_mode) ? "a directory" : S_ISFIFO(sb->st_mode) ? "a FIFO"
                           : S_ISCHR(sb->st_mode) || S_ISBLK(sb->st_mode) ? "a device"
                           : S_ISSOCK(sb->st_mode) ? "a socket" : "not a file");
    else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
        st = mcl_error_set(MCL_ERR_IO, "%s: fcntl: %s", path, strerror(errno));
    if (st != MCL_OK) {
        close(fd);
        return st;
    }
    *fd_out = fd;
    return MCL_OK;
}

mcl_status mcl_read_text_file(const char *path, size_t cap, char **out, size_t *len)
{
    *out = NULL;
    int fd = -1;
    struct stat sb;
    MCL_TRY(mcl_open_regular(path, &fd, &sb));
    mcl_status st = MCL_OK;
    if ((uint64_t)sb.st_size > cap)
        st = mcl_error_set(MCL_ERR_FORMAT, "%s: %lld bytes, above the %zu-byte limit", path,
                           (long long)sb.st_size, cap);
    char *buf = st == MCL_OK ? malloc((size_t)sb.st_size + 1) : NULL;
    if (st == MCL_OK && !buf) st = mcl_error_set(MCL_ERR_NOMEM, "%s: out of memory", path);
    size_t got = 0;
    while (st == MCL_OK && got < (size_t)sb.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) st = mcl_error_set(MCL_ERR_IO, "%s: read failed: %s", path, r ? strerror(errno) : "short read");
        else got += (size_t)r;
    }
    close(fd);
    if (st != MCL_OK) {
        free(buf);
        return st;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return MCL_OK;
}

bool mcl_json_has_nul(const char *s, size_t n)
{
    if (memchr(s, 0, n)) return true;
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        if (!in_string) in_string = s[i] == '"';
        else if (s[i] == '"') in_string = false;
        else if (s[i] == '\\') {
            if (i + 5 < n && s[i + 1] == 'u' && memcmp(s + i + 2, "0000", 4) == 0) return true;
            i++; /* the escaped character ("\\u0000" is a backslash and text) */
        }
    }
    return false;
}
