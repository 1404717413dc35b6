/* Helpers of the CLI-driven tests (see cli_common.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cli_common.h"

int cli_test_run(const char *cmd, char **out)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);
    assert_non_null(buf);
    while ((got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (n + 1 == cap) {
            buf = realloc(buf, cap *= 2);
            assert_non_null(buf);
        }
    }
    buf[n] = '\0';
    int status = pclose(p);
    *out = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

cJSON *cli_test_read_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    char *text = NULL;
    size_t n = 0;
    if (fseek(f, 0, SEEK_END) == 0) n = (size_t)ftell(f);
    rewind(f);
    text = malloc(n + 1);
    assert_non_null(text);
    n = fread(text, 1, n, f);
    fclose(f);
    text[n] = '\0';
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) fail_msg("%s is not valid JSON", path);
    return j;
}

const char *cli_test_binary(void)
{
    const char *c = getenv("MAMBACL_CLI");
    assert_non_null(c);
    return c;
}
