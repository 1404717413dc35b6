/* The binary cache through the runtime: miss, hit, corrupt and foreign files,
 * option changes, and the report of a kernel that fails to compile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/cache.h"
#include "base/error.h"
#include "runtime/runtime.h"
#include "tune/families.h"
#include "tune/tunedb.h"

static char cache_dir[512];

static int setup(void **state)
{
    (void)state;
    snprintf(cache_dir, sizeof cache_dir, "/tmp/mcl-test-cache-%ld", (long)getpid());
    mkdir(cache_dir, 0755);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void clear_dir(void)
{
    DIR *d = opendir(cache_dir);
    struct dirent *e;
    char path[1024];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", cache_dir, e->d_name);
        unlink(path);
    }
    if (d) closedir(d);
}

/* The path of the one cache file whose name starts with `prefix`. */
static int find_file(const char *prefix, char *out, size_t cap)
{
    DIR *d = opendir(cache_dir);
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && strstr(e->d_name, ".tmp.") == NULL) {
            snprintf(out, cap, "%s/%s", cache_dir, e->d_name);
            found++;
        }
    }
    if (d) closedir(d);
    return found;
}

static mcl_runtime *open_rt(void)
{
    mcl_runtime_options o = {.cache_dir = cache_dir};
    mcl_runtime *rt = NULL;
    mcl_status st = mcl_runtime_create(&o, &rt);
    if (st != MCL_OK) fail_msg("mcl_runtime_create: %s", mcl_last_error());
    return rt;
}

/* Number of programs that came from the cache. */
static int cached_count(mcl_runtime *rt, int *total)
{
    int n = 0, hits = 0;
    const mcl_program_report *r = mcl_runtime_programs(rt, &n);
    for (int i = 0; i < n; i++) hits += r[i].from_cache;
    *total = n;
    return hits;
}

static void test_miss_then_hit(void **state)
{
    (void)state;
    int total;
    clear_dir();
    mcl_runtime *rt = open_rt();
    assert_int_equal(cached_count(rt, &total), 0);
    assert_true(total >= 1);
    mcl_runtime_free(rt);
    rt = open_rt();
    int hits = cached_count(rt, &total);
    assert_int_equal(hits, total);
    assert_int_equal(mcl_runtime_selftest(rt, NULL, NULL), MCL_OK);
    mcl_runtime_free(rt);
}

/* Two class entries of copy.cl in the device's tuning file with the
 * fallback's own tunables: three configurations of one program (as the
 * built-in table's two equal scan.cl rows on the H200). They share one
 * cl_program: on a cleared cache nothing is reported from the cache (the
 * second build used to read back the binary the first had just stored),
 * on the next runtime every program is. */
static void test_identical_configurations_share_one_program(void **state)
{
    (void)state;
    char path[4300], params[256] = "";
    int total;
    clear_dir();
    mcl_runtime_options o = {.cache_dir = cache_dir, .no_cache = true};
    mcl_runtime *rt = NULL;
    assert_int_equal(mcl_runtime_create(&o, &rt), MCL_OK);
    const mcl_params *def = mcl_runtime_params(rt, MCL_F_COPY);
    assert_non_null(def);
    for (int i = 0; i < def->n; i++)
        snprintf(params + strlen(params), sizeof params - strlen(params), "%s\"%s\": %ld", i ? ", " : "",
                 def->p[i].name, def->p[i].value);
    mcl_tunedb_path(cache_dir, &rt->dev, path, sizeof path);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/tuning", cache_dir);
    mkdir(dir, 0755);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"format\": \"%s\", \"device\": {\"platform\": \"%s\", \"name\": \"%s\", \"driver\": \"%s\"},\n"
               " \"families\": {\"copy.cl\": [{\"class\": {\"d_inner\": [1, 100]}, \"params\": {%s}},"
               " {\"class\": {\"batch\": [2, 0]}, \"params\": {%s}}]}}\n",
            MCL_TUNEDB_FORMAT, rt->dev.platform, rt->dev.name, rt->dev.driver_version, params, params);
    assert_int_equal(fclose(f), 0);
    mcl_runtime_free(rt);
    for (int run = 0; run < 2; run++) {
        rt = open_rt();
        int hits = cached_count(rt, &total), copies = 0;
        cl_program first = NULL;
        if (strstr(mcl_runtime_warnings(rt), "copy.cl")) fail_msg("warnings: %s", mcl_runtime_warnings(rt));
        assert_int_equal(hits, run == 0 ? 0 : total);
        for (int i = 0; i < rt->n_programs; i++) {
            if (strcmp(rt->programs[i].file, MCL_F_COPY) != 0) continue;
            if (!first) first = rt->programs[i].program;
            assert_ptr_equal(rt->programs[i].program, first);
            copies++;
        }
        assert_int_equal(copies, 3);
        assert_int_equal(mcl_runtime_selftest(rt, NULL, NULL), MCL_OK);
        mcl_runtime_free(rt);
    }
    assert_int_equal(unlink(path), 0);
}

static void corrupt(const char *path, long offset)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, offset, offset < 0 ? SEEK_END : SEEK_SET);
    unsigned char junk[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    fwrite(junk, 1, sizeof junk, f);
    fclose(f);
}

static void test_corrupt_and_truncated_files_are_rebuilt(void **state)
{
    (void)state;
    char path[1024];
    int total = 0;
    clear_dir();
    mcl_runtime_free(open_rt());
    assert_int_equal(find_file("copy.cl-", path, sizeof path), 1);
    for (int round = 0; round < 3; round++) {
        if (round == 0) corrupt(path, -16);                 /* payload bytes */
        if (round == 1) assert_int_equal(truncate(path, 40), 0); /* short file */
        if (round == 2) corrupt(path, 0);                   /* magic and key */
        mcl_runtime *rt = open_rt();
        int hits = cached_count(rt, &total);
        assert_int_equal(hits, total - 1);
        assert_int_equal(mcl_runtime_selftest(rt, NULL, NULL), MCL_OK);
        mcl_runtime_free(rt);
        rt = open_rt(); /* rebuilt file is valid again */
        hits = cached_count(rt, &total);
        assert_int_equal(hits, total);
        mcl_runtime_free(rt);
    }
}

static void test_foreign_file_is_refused(void **state)
{
    (void)state;
    const char key[] = "00112233445566778899aabbccddeeff";
    const char other[] = "ffeeddccbbaa99887766554433221100";
    unsigned char payload[64] = {1, 2, 3};
    unsigned char *data = NULL;
    size_t len = 0;
    char src[1024], dst[1024];
    assert_int_equal(mcl_cache_store(cache_dir, "x.cl", other, payload, sizeof payload), MCL_OK);
    assert_int_equal(mcl_cache_load(cache_dir, "x.cl", other, &data, &len), 1);
    assert_int_equal(len, sizeof payload);
    assert_memory_equal(data, payload, len);
    free(data);
    /* The same bytes under another key's name: the stored key disagrees. */
    mcl_cache_path(cache_dir, "x.cl", other, src, sizeof src);
    mcl_cache_path(cache_dir, "x.cl", key, dst, sizeof dst);
    assert_int_equal(rename(src, dst), 0);
    assert_int_equal(mcl_cache_load(cache_dir, "x.cl", key, &data, &len), 0);
    assert_null(data);
    assert_int_equal(access(dst, F_OK), -1); /* discarded */
    assert_int_equal(mcl_cache_load(cache_dir, "x.cl", "nonexistent", &data, &len), 0);
}

static void test_key_depends_on_every_part(void **state)
{
    (void)state;
    char k[6][MCL_CACHE_KEY_LEN + 1];
    const char *a[] = {"src", "-DWG=64", "dev", "drv", "plat", NULL};
    const char *b[] = {"src", "-DWG=128", "dev", "drv", "plat", NULL};
    const char *c[] = {"src", "-DWG=64", "dev", "drv2", "plat", NULL};
    const char *d[] = {"sr", "c-DWG=64", "dev", "drv", "plat", NULL};
    const char *e[] = {"src2", "-DWG=64", "dev", "drv", "plat", NULL};
    mcl_cache_key(a, k[0]);
    mcl_cache_key(b, k[1]);
    mcl_cache_key(c, k[2]);
    mcl_cache_key(d, k[3]);
    mcl_cache_key(e, k[4]);
    mcl_cache_key(a, k[5]);
    assert_string_equal(k[0], k[5]);
    for (int i = 1; i < 5; i++) assert_string_not_equal(k[0], k[i]);
}

static void test_option_change_gives_new_file(void **state)
{
    (void)state;
    clear_dir();
    mcl_runtime *rt = open_rt();
    char *src = NULL;
    mcl_program p1, p2, p3;
    char path[1024];
    assert_int_equal(mcl_program_source("copy.cl", NULL, &src), MCL_OK);
    assert_int_equal(mcl_program_build(rt->ctx, rt->device, &rt->dev, "opt.cl", src,
                                       "-DCOPY_WG=64", cache_dir, &p1), MCL_OK);
    assert_false(p1.from_cache);
    assert_int_equal(mcl_program_build(rt->ctx, rt->device, &rt->dev, "opt.cl", src,
                                       "-DCOPY_WG=32", cache_dir, &p2), MCL_OK);
    assert_false(p2.from_cache);
    assert_int_equal(find_file("opt.cl-", path, sizeof path), 2);
    assert_int_equal(mcl_program_build(rt->ctx, rt->device, &rt->dev, "opt.cl", src,
                                       "-DCOPY_WG=64", cache_dir, &p3), MCL_OK);
    assert_true(p3.from_cache);
    mcl_program_release(&p1);
    mcl_program_release(&p2);
    mcl_program_release(&p3);
    free(src);
    mcl_runtime_free(rt);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_build_error_names_file_and_log(void **state)
{
    (void)state;
    char kdir[600], path[700], cmd[1400];
    snprintf(kdir, sizeof kdir, "%s/kernels", cache_dir);
    const char *root = getenv("MAMBACL_SOURCE_ROOT");
    assert_non_null(root);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s'/cl/*.cl '%s'/", kdir, root, kdir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/copy.cl", kdir);
    write_text(path, "__kernel void copy_f4(__global float *x) { x[0] = undeclared_thing; }\n");
    mcl_runtime_options o = {.cache_dir = cache_dir, .kernel_dir = kdir};
    mcl_runtime *rt = NULL;
    assert_int_equal(mcl_runtime_create(&o, &rt), MCL_ERR_BUILD);
    assert_null(rt);
    const char *msg = mcl_last_error();
    assert_non_null(strstr(msg, "copy.cl"));
    assert_non_null(strstr(msg, "CL_BUILD_PROGRAM_FAILURE"));
    assert_non_null(strstr(msg, "undeclared_thing")); /* from the compiler's log */
}

static void test_no_cache_writes_nothing(void **state)
{
    (void)state;
    char path[1024];
    clear_dir();
    mcl_runtime_options o = {.cache_dir = cache_dir, .no_cache = true};
    mcl_runtime *rt = NULL;
    assert_int_equal(mcl_runtime_create(&o, &rt), MCL_OK);
    mcl_runtime_free(rt);
    assert_int_equal(find_file("copy.cl-", path, sizeof path), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_miss_then_hit),
        cmocka_unit_test(test_identical_configurations_share_one_program),
        cmocka_unit_test(test_corrupt_and_truncated_files_are_rebuilt),
        cmocka_unit_test(test_foreign_file_is_refused),
        cmocka_unit_test(test_key_depends_on_every_part),
        cmocka_unit_test(test_option_change_gives_new_file),
        cmocka_unit_test(test_build_error_names_file_and_log),
        cmocka_unit_test(test_no_cache_writes_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
