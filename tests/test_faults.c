/* Faults the runtime must survive (issue 16): the binary cache cold-started
 * by two processes at once, unusable cache directories (read-only, missing
 * and not creatable, a file, a full filesystem), cache and tuning files
 * replaced while a runtime runs, a model file truncated after it was opened,
 * FIFOs and devices in place of the model's files, tensors at unaligned
 * offsets, kill -9 during `mambacl tune`, device allocation failures, and
 * malformed environment variables. Each test asserts the outcome (an error
 * naming the problem, or a correct result), never just "no crash". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "mambacl.h"
#include "base/error.h"
#include "checkpoint/checkpoint.h"
#include "checkpoint/safetensors.h"
#include "model/arch_mamba1.h"
#include "runtime/runtime.h"

static char scratch[256]; /* per-process scratch directory */

static int setup(void **state)
{
    (void)state;
    snprintf(scratch, sizeof scratch, "/tmp/mcl-faults-%ld", (long)getpid());
    return mkdir(scratch, 0755) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *src_root(void)
{
    const char *r = getenv("MAMBACL_SOURCE_ROOT");
    return r ? r : ".";
}

static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0) fail_msg("command failed: %s", cmd);
}

static mcl_runtime *open_rt_in(const char *cache)
{
    mcl_runtime_options o = {.cache_dir = cache};
    mcl_runtime *rt = NULL;
    if (mcl_runtime_create(&o, &rt) != MCL_OK) fail_msg("mcl_runtime_create: %s", mcl_last_error());
    return rt;
}

static int cached_count(mcl_runtime *rt, int *total)
{
    int n = 0, hits = 0;
    const mcl_program_report *r = mcl_runtime_programs(rt, &n);
    for (int i = 0; i < n; i++) hits += r[i].from_cache;
    *total = n;
    return hits;
}

/* Files in dir whose name contains `part`. */
static int count_files(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && strstr(e->d_name, part)) n++;
    if (d) closedir(d);
    return n;
}

/* The tiny model's logits after ids 1..5 on a runtime using `cache`. */
static void tiny_logits(mcl_runtime *rt, const char *dir, float *out /* [256] */)
{
    mcl_model *m = NULL;
    mcl_state *s = NULL;
    if (mcl_model_load(rt, dir, &m) != MCL_OK) fail_msg("mcl_model_load(%s): %s", dir, mcl_last_error());
    assert_int_equal(mcl_model_vocab(m), 256);
    assert_int_equal(mcl_state_create(m, &s), MCL_OK);
    int32_t ids[5] = {1, 2, 3, 4, 5};
    const int32_t *toks[1] = {ids};
    int len = 5;
    assert_int_equal(mcl_prefill(m, &s, toks, &len, 1, out), MCL_OK);
    mcl_state_free(s);
    mcl_model_free(m);
}

static void tiny_dir(char *out, size_t cap) { snprintf(out, cap, "%s/tests/data/tiny-model", src_root()); }

/* ---- the binary cache ------------------------------------------------- */

/* Child mode (this binary re-executed, never a bare fork: PoCL's worker
 * threads do not survive fork): `test_faults --child CACHE MODE` creates a
 * runtime on CACHE and runs the selftest; MODE "rlimit" first limits file
 * sizes (kept for trying by hand), "tmpfs" first mounts a full 64 KiB tmpfs on CACHE in a private
 * mount namespace (exit 77 when not allowed). Exit 0 when all passed. */
static int child_main(const char *cache, const char *mode)
{
    if (strcmp(mode, "rlimit") == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {2048, 2048};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) return 3;
    } else if (strcmp(mode, "tmpfs") == 0) {
        if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
            mount("tmpfs", cache, "tmpfs", 0, "size=64k") != 0)
            return 77;
        char fill[460];
        snprintf(fill, sizeof fill, "%s/fill", cache);
        FILE *f = fopen(fill, "w");
        static char block[4096];
        while (f && fwrite(block, 1, sizeof block, f) == sizeof block) {}
        if (f) fclose(f);
    }
    mcl_runtime_options o = {.cache_dir = cache};
    mcl_runtime *rt = NULL;
    int ok = mcl_runtime_create(&o, &rt) == MCL_OK && mcl_runtime_selftest(rt, NULL, NULL) == MCL_OK;
    if (!ok) fprintf(stderr, "child %s: %s\n", mode, mcl_last_error());
    mcl_runtime_free(rt);
    if (strcmp(mode, "tmpfs") == 0) ok = ok && count_files(cache, ".tmp.") == 0;
    return ok ? 0 : 1;
}

static pid_t spawn_child(const char *cache, const char *mode)
{
    pid_t kid = fork();
    assert_true(kid >= 0);
    if (kid == 0) {
        execl("/proc/self/exe", "test_faults", "--child", cache, mode, (char *)NULL);
        _exit(126);
    }
    return kid;
}

static int wait_child(pid_t kid)
{
    int status = 0;
    assert_int_equal(waitpid(kid, &status, 0), kid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* Two processes build every program into one empty cache directory at the
 * same time; both pass their selftests, and a third start loads everything
 * from the cache (no torn or stray temporary file is left behind). */
static void test_two_processes_cold_start(void **state)
{
    (void)state;
    char cache[400];
    snprintf(cache, sizeof cache, "%s/cold", scratch);
    pid_t kids[2] = {spawn_child(cache, "plain"), spawn_child(cache, "plain")};
    assert_int_equal(wait_child(kids[0]), 0);
    assert_int_equal(wait_child(kids[1]), 0);
    assert_int_equal(count_files(cache, ".tmp."), 0);
    mcl_runtime *rt = open_rt_in(cache);
    int total = 0, hits = cached_count(rt, &total);
    assert_true(total >= 1);
    assert_int_equal(hits, total);
    assert_int_equal(mcl_runtime_selftest(rt, NULL, NULL), MCL_OK);
    mcl_runtime_free(rt);
}

/* A cache directory that cannot be used is a warning and no cache, never an
 * error: read-only (a /proc directory: read-only even for root), missing and
 * not creatable, and a regular file. */
static void test_unusable_cache_dirs(void **state)
{
    (void)state;
    char file[400];
    snprintf(file, sizeof file, "%s/a-file", scratch);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("not a directory\n", f);
    fclose(f);
    char under_file[460];
    snprintf(under_file, sizeof under_file, "%s/sub", file);
    const char *dirs[] = {"/proc/self/fdinfo", "/proc/mambacl-no-such-dir/cache", file, under_file};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        mcl_runtime *rt = open_rt_in(dirs[i]);
        assert_int_equal(mcl_runtime_selftest(rt, NULL, NULL), MCL_OK);
        int total = 0, hits = cached_count(rt, &total);
        assert_int_equal(hits, 0);
        if (i > 0) { /* refused up front: the warning names the directory */
            if (strstr(mcl_runtime_warnings(rt), "binary cache off") == NULL)
                fail_msg("no warning for cache dir %s: '%s'", dirs[i], mcl_runtime_warnings(rt));
        }
        mcl_runtime_free(rt);
    }
    /* the file is untouched */
    f = fopen(file, "r");
    char line[64] = "";
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_string_equal(line, "not a directory\n");
}

/* A full filesystem: a 64 KiB tmpfs, filled up, mounted in a private mount
 * namespace of a child; every cache write meets ENOSPC, the runtime works
 * and leaves no temporary file. Skipped (with a message) where mounting is
 * not allowed (not root, or a container without CAP_SYS_ADMIN). A limit on
 * file sizes (RLIMIT_FSIZE) cannot stand in for it: PoCL's own kernel cache
 * writes meet the limit too and LLVM then aborts the process ("LLVM ERROR:
 * IO failure on output stream: File too large"). */
static void test_full_filesystem_tmpfs(void **state)
{
    (void)state;
    char cache[400];
    snprintf(cache, sizeof cache, "%s/tmpfs", scratch);
    assert_int_equal(mkdir(cache, 0755), 0);
    int rc = wait_child(spawn_child(cache, "tmpfs"));
    if (rc == 77) {
        print_message("skipped: cannot mount a tmpfs here (needs CAP_SYS_ADMIN)\n");
        skip();
    }
    assert_int_equal(rc, 0);
}

/* Overwrites every file of dir whose name contains `part` with `text`. */
static int replace_files(const char *dir, const char *part, const char *text)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    char path[1024], tmp[1100];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !strstr(e->d_name, part)) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        snprintf(tmp, sizeof tmp, "%s.new", path);
        FILE *f = fopen(tmp, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        assert_int_equal(rename(tmp, path), 0); /* replaced, as another process would */
        n++;
    }
    if (d) closedir(d);
    return n;
}

/* While a runtime runs, its cache files and its tuning file are replaced
 * with garbage: the running runtime is unaffected (it read them at start),
 * a second runtime rebuilds every program and ignores the tuning file with a
 * warning naming it, and both give the same logits. */
static void test_cache_and_tuning_replaced_mid_run(void **state)
{
    (void)state;
    char cache[400], dir[400];
    float a[256], b[256], c[256];
    snprintf(cache, sizeof cache, "%s/replaced", scratch);
    tiny_dir(dir, sizeof dir);
    mcl_runtime *rt = open_rt_in(cache);
    tiny_logits(rt, dir, a);
    char tuning[4200];
    snprintf(tuning, sizeof tuning, "%s", rt->tuning_path);
    sh("mkdir -p \"$(dirname '%s')\" && echo '{}' > '%s'", tuning, tuning);
    assert_true(replace_files(cache, ".bin", "MCLBIN01 garbage") >= 1);
    FILE *f = fopen(tuning, "w");
    assert_non_null(f);
    fputs("{\"format\": \"mambacl-tuning-1\", \"families\": [1, 2", f); /* truncated JSON */
    fclose(f);
    tiny_logits(rt, dir, b); /* the running runtime: unaffected */
    assert_memory_equal(a, b, sizeof a);
    mcl_runtime *rt2 = open_rt_in(cache);
    int total = 0, hits = cached_count(rt2, &total);
    assert_int_equal(hits, 0);
    if (strstr(mcl_runtime_warnings(rt2), tuning) == NULL)
        fail_msg("tuning file not named in the warning: '%s'", mcl_runtime_warnings(rt2));
    tiny_logits(rt2, dir, c);
    assert_memory_equal(a, c, sizeof a);
    mcl_runtime_free(rt2);
    mcl_runtime_free(rt);
}

/* Cache entries that are not regular files (a FIFO, a link to /dev/zero) are
 * refused without blocking and rebuilt. */
static void test_cache_entries_not_regular(void **state)
{
    (void)state;
    char cache[400];
    snprintf(cache, sizeof cache, "%s/special-cache", scratch);
    mcl_runtime_free(open_rt_in(cache));
    DIR *d = opendir(cache);
    struct dirent *e;
    int k = 0;
    char path[1024];
    while (d && (e = readdir(d)) != NULL) {
        /* program binaries only: the capability and probe records (caps-*.bin,
         * probe-*.bin) are not counted as programs, and readdir's order
         * follows the names' hashes, i.e. the kernel sources */
        if (!strstr(e->d_name, ".cl-") || !strstr(e->d_name, ".bin") || k >= 2) continue;
        snprintf(path, sizeof path, "%s/%s", cache, e->d_name);
        assert_int_equal(unlink(path), 0);
        if (k++ == 0) assert_int_equal(mkfifo(path, 0644), 0);
        else assert_int_equal(symlink("/dev/zero", path), 0);
    }
    if (d) closedir(d);
    assert_int_equal(k, 2);
    alarm(60);
    mcl_runtime *rt = open_rt_in(cache);
    alarm(0);
    int total = 0, hits = cached_count(rt, &total);
    assert_true(hits <= total - 2);
    assert_int_equal(mcl_runtime_selftest(rt, NULL, NULL), MCL_OK);
    mcl_runtime_free(rt);
    rt = open_rt_in(cache); /* rebuilt as regular files */
    hits = cached_count(rt, &total);
    assert_int_equal(hits, total);
    mcl_runtime_free(rt);
}

/* ---- model files ------------------------------------------------------- */

/* The model file is truncated after the checkpoint was opened (as `mambacl
 * run` would hold it): the tensors stay readable (they are a private copy,
 * not a mapping that would raise SIGBUS), and opening the truncated file is
 * a clean error naming it. */
static void test_model_truncated_while_open(void **state)
{
    (void)state;
    char dir[400], file[460];
    snprintf(dir, sizeof dir, "%s/trunc", scratch);
    sh("mkdir -p '%s' && cp '%s/tests/data/tiny-model/config.json' '%s/tests/data/tiny-model/model.safetensors' '%s/'",
       dir, src_root(), src_root(), dir);
    snprintf(file, sizeof file, "%s/model.safetensors", dir);
    mcl_checkpoint *ck = NULL;
    assert_int_equal(mcl_checkpoint_open(dir, &ck), MCL_OK);
    const mcl_tensor *emb = mcl_checkpoint_weight(ck, MCL_W_EMBED, 0);
    assert_non_null(emb);
    unsigned char *copy = malloc(emb->nbytes);
    assert_non_null(copy);
    memcpy(copy, emb->data, emb->nbytes);
    assert_int_equal(truncate(file, 100), 0);
    uint64_t sum = 0;
    for (size_t i = 0; i < emb->nbytes; i++) sum += ((const unsigned char *)emb->data)[i]; /* no SIGBUS */
    assert_true(sum > 0);
    assert_memory_equal(copy, emb->data, emb->nbytes);
    free(copy);
    mcl_checkpoint_free(ck);
    assert_int_not_equal(mcl_checkpoint_open(dir, &ck), MCL_OK);
    assert_non_null(strstr(mcl_last_error(), "model.safetensors"));
}

/* A FIFO, a character device or a socket in place of config.json,
 * model.safetensors or tokenizer.json is refused at once (a FIFO opened for
 * reading would otherwise wait for a writer forever). alarm() turns a hang
 * into a failure. */
static void test_fifo_and_device_refused(void **state)
{
    (void)state;
    const char *names[] = {"config.json", "model.safetensors"};
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 2; i++) {
            char dir[400], path[460];
            snprintf(dir, sizeof dir, "%s/special-%d-%d", scratch, k, i);
            sh("mkdir -p '%s' && cp '%s/tests/data/tiny-model/config.json' '%s/tests/data/tiny-model/model.safetensors' '%s/'",
               dir, src_root(), src_root(), dir);
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            unlink(path);
            if (k == 0) assert_int_equal(mkfifo(path, 0644), 0);
            else if (k == 1) assert_int_equal(symlink("/dev/zero", path), 0);
            else assert_int_equal(symlink("/dev/null", path), 0);
            mcl_checkpoint *ck = NULL;
            alarm(20);
            mcl_status st = mcl_checkpoint_open(dir, &ck);
            alarm(0);
            assert_int_equal(st, MCL_ERR_IO);
            if (!strstr(mcl_last_error(), names[i]) || !strstr(mcl_last_error(), "not a regular file"))
                fail_msg("unexpected message: %s", mcl_last_error());
        }
        char tok[460];
        snprintf(tok, sizeof tok, "%s/tokenizer-%d.json", scratch, k);
        if (k == 0) assert_int_equal(mkfifo(tok, 0644), 0);
        else assert_int_equal(symlink(k == 1 ? "/dev/zero" : "/dev/null", tok), 0);
        mcl_tokenizer *t = NULL;
        alarm(20);
        mcl_status st = mcl_tokenizer_load(tok, &t);
        alarm(0);
        assert_int_equal(st, MCL_ERR_IO);
        assert_non_null(strstr(mcl_last_error(), "not a regular file"));
    }
}

/* Rewrites the tiny model with its data section shifted by one byte and an
 * unpadded header: every tensor then starts at an odd address. The logits
 * must equal the original's (UBSan, in the sanitizer build, checks that no
 * load is misaligned). */
static void test_unaligned_tensor_offsets(void **state)
{
    (void)state;
    char src[400], dir[400], path[460];
    tiny_dir(src, sizeof src);
    snprintf(dir, sizeof dir, "%s/unaligned", scratch);
    sh("mkdir -p '%s' && cp '%s/config.json' '%s/'", dir, src, dir);
    snprintf(path, sizeof path, "%s/model.safetensors", src);
    mcl_st_file *f = NULL;
    assert_int_equal(mcl_st_open(path, &f), MCL_OK);
    const unsigned char *base = f->map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | base[i];
    const unsigned char *data = base + 8 + hlen;
    size_t data_len = f->map_size - 8 - hlen;
    cJSON *root = cJSON_CreateObject();
    for (int i = 0; i < f->n_tensors; i++) {
        const mcl_tensor *t = &f->tensors[i];
        cJSON *e = cJSON_AddObjectToObject(root, t->name);
        cJSON_AddStringToObject(e, "dtype", mcl_dtype_name(t->dtype));
        cJSON *shape = cJSON_AddArrayToObject(e, "shape");
        for (int d = 0; d < t->ndim; d++) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[d]));
        cJSON *off = cJSON_AddArrayToObject(e, "data_offsets");
        double b = (double)((const unsigned char *)t->data - data) + 1;
        cJSON_AddItemToArray(off, cJSON_CreateNumber(b));
        cJSON_AddItemToArray(off, cJSON_CreateNumber(b + (double)t->nbytes));
    }
    char *json = cJSON_PrintUnformatted(root);
    size_t jl = strlen(json);
    if (jl % 2 == 0) { /* make the header odd too */
        json = realloc(json, jl + 2);
        json[jl++] = ' ';
        json[jl] = '\0';
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)jl >> (8 * i));
    unsigned char pad = 0;
    assert_int_equal(fwrite(len8, 1, 8, out), 8);
    assert_int_equal(fwrite(json, 1, jl, out), jl);
    assert_int_equal(fwrite(&pad, 1, 1, out), 1);
    assert_int_equal(fwrite(data, 1, data_len, out), data_len);
    fclose(out);
    free(json);
    cJSON_Delete(root);
    mcl_st_free(f);

    char cache[400];
    snprintf(cache, sizeof cache, "%s/unaligned-cache", scratch);
    mcl_runtime *rt = open_rt_in(cache);
    float a[256], b[256];
    tiny_logits(rt, src, a);
    tiny_logits(rt, dir, b);
    assert_memory_equal(a, b, sizeof a);
    mcl_runtime_free(rt);
}

/* ---- processes killed, allocations refused, environment ---------------- */

/* `mambacl tune` killed with SIGKILL at several moments: each following
 * `mambacl selftest` on the same cache directory passes. */
static void test_kill9_during_tune(void **state)
{
    (void)state;
    const char *cli = getenv("MAMBACL_CLI");
    if (!cli) skip();
    char cache[400];
    snprintf(cache, sizeof cache, "%s/tune-kill", scratch);
    const int delays_ms[] = {300, 1200, 2500};
    for (size_t i = 0; i < sizeof delays_ms / sizeof delays_ms[0]; i++) {
        pid_t kid = fork();
        assert_true(kid >= 0);
        if (kid == 0) {
            setenv("MAMBACL_CACHE_DIR", cache, 1);
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            execl(cli, cli, "tune", "--config", "tiny", "--quick", "--reps", "1", (char *)NULL);
            _exit(127);
        }
        struct timespec ts = {0, delays_ms[i] * 1000000L};
        nanosleep(&ts, NULL);
        kill(kid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(kid, &status, 0), kid);
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "MAMBACL_CACHE_DIR='%s' '%s' selftest >/dev/null 2>&1", cache, cli);
        int rc = system(cmd);
        if (rc != 0) fail_msg("selftest after kill -9 at %d ms: status %d", delays_ms[i], rc);
    }
}

/* A buffer above the device's maximum allocation, and a model above its
 * memory, are errors that give the sizes. */
static void test_device_allocation_failure(void **state)
{
    (void)state;
    char cache[400];
    snprintf(cache, sizeof cache, "%s/alloc", scratch);
    mcl_runtime *rt = open_rt_in(cache);
    cl_mem m = NULL;
    size_t big = (size_t)rt->dev.max_alloc_bytes + 4096;
    assert_int_equal(mcl_buffer_create(rt, CL_MEM_READ_WRITE, big, "test buffer", &m), MCL_ERR_DEVICE_MEM);
    assert_null(m);
    char want[64];
    snprintf(want, sizeof want, "%zu bytes", big);
    if (!strstr(mcl_last_error(), want) || !strstr(mcl_last_error(), "test buffer"))
        fail_msg("message lacks the size or name: %s", mcl_last_error());
    mcl_config c = {.d_model = 65536, .n_layer = 64, .d_inner = 131072, .d_state = 16, .d_conv = 4,
                    .dt_rank = 4096, .vocab_size = 50280, .norm_eps = 1e-5f, .tie_embeddings = true};
    mcl_model *model = NULL;
    assert_int_equal(mcl_model_create_random(rt, &c, MCL_DTYPE_F16, 1, &model), MCL_ERR_DEVICE_MEM);
    assert_null(model);
    assert_non_null(strstr(mcl_last_error(), "MiB"));
    mcl_runtime_free(rt);
}

/* Malformed environment variables: a warning (MAMBACL_NO_CACHE) or an error
 * naming the variable (the test-only limits), never a crash or a silent
 * misreading; an unmatched MAMBACL_DEVICE names the selector. */
static void test_environment_validated(void **state)
{
    (void)state;
    char cache[400];
    snprintf(cache, sizeof cache, "%s/env", scratch);
    mcl_runtime_options o = {.cache_dir = cache};
    mcl_runtime *rt = NULL;

    setenv("MAMBACL_NO_CACHE", "maybe", 1);
    assert_int_equal(mcl_runtime_create(&o, &rt), MCL_OK);
    assert_non_null(strstr(mcl_runtime_warnings(rt), "MAMBACL_NO_CACHE='maybe'"));
    mcl_runtime_free(rt);
    setenv("MAMBACL_NO_CACHE", "yes", 1);
    assert_int_equal(mcl_runtime_create(&o, &rt), MCL_OK);
    assert_string_equal(rt->cache_dir, "");
    mcl_runtime_free(rt);
    unsetenv("MAMBACL_NO_CACHE");

    const char *bad[][2] = {{"MAMBACL_TEST_MAX_WG", "abc"}, {"MAMBACL_TEST_MAX_WG", "64k"},
                            {"MAMBACL_TEST_MAX_WG", "-1"}, {"MAMBACL_TEST_MAX_WG", "0"},
                            {"MAMBACL_TEST_MAX_WG", "99999999999999999999999"},
                            {"MAMBACL_TEST_LOCAL_MEM", "12"}, {"MAMBACL_TEST_LOCAL_MEM", " 32768"},
                            {"MAMBACL_TEST_DEVICE_TYPE", "fpga"}, {"MAMBACL_TEST_WG_MULTIPLE", "\x01\x02"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv(bad[i][0], bad[i][1], 1);
        assert_int_equal(mcl_runtime_create(&o, &rt), MCL_ERR_INVALID_ARG);
        assert_null(rt);
        if (!strstr(mcl_last_error(), bad[i][0])) fail_msg("%s not named: %s", bad[i][0], mcl_last_error());
        unsetenv(bad[i][0]);
    }

    setenv("MAMBACL_DEVICE", "no-such-device-\x7f", 1);
    assert_int_equal(mcl_runtime_create(NULL, &rt), MCL_ERR_NO_DEVICE);
    unsetenv("MAMBACL_DEVICE");
    setenv("MAMBACL_KERNEL_DIR", "/nonexistent/kernels", 1);
    assert_int_equal(mcl_runtime_create(&o, &rt), MCL_ERR_IO);
    assert_non_null(strstr(mcl_last_error(), "/nonexistent/kernels"));
    unsetenv("MAMBACL_KERNEL_DIR");
    char longdir[6000];
    memset(longdir, 'a', sizeof longdir - 1);
    longdir[0] = '/';
    longdir[sizeof longdir - 1] = '\0';
    setenv("MAMBACL_CACHE_DIR", longdir, 1);
    assert_int_equal(mcl_runtime_create(NULL, &rt), MCL_OK);
    assert_non_null(strstr(mcl_runtime_warnings(rt), "too long"));
    mcl_runtime_free(rt);
    unsetenv("MAMBACL_CACHE_DIR");
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--child") == 0) return child_main(argv[2], argv[3]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_processes_cold_start),
        cmocka_unit_test(test_unusable_cache_dirs),
        cmocka_unit_test(test_full_filesystem_tmpfs),
        cmocka_unit_test(test_cache_and_tuning_replaced_mid_run),
        cmocka_unit_test(test_cache_entries_not_regular),
        cmocka_unit_test(test_model_truncated_while_open),
        cmocka_unit_test(test_fifo_and_device_refused),
        cmocka_unit_test(test_unaligned_tensor_offsets),
        cmocka_unit_test(test_kill9_during_tune),
        cmocka_unit_test(test_device_allocation_failure),
        cmocka_unit_test(test_environment_validated),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
