/* Threads (the contract in mambacl.h, "Threads"): one runtime shared by
 * several threads, each with its own model; one model shared by threads,
 * each with its own state; a runtime per thread; the tokenizer shared; and
 * threads saving the tuning file at once (unique temporary names).
 * Every thread's logits must equal, bit for bit, those of the same work done
 * on one thread (the calls are serialized by the runtime's lock, and the
 * kernels are deterministic). */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mambacl.h"
#include "runtime/runtime.h"
#include "tune/tune_scan.h"
#include "tune/tunedb.h"

#define VOCAB 256
#define THREADS 4
#define STEPS 6
#define PROMPT 9

static char model_dir[600];

/* Prefill PROMPT ids chosen by `seed`, then STEPS decodes; the logits of
 * every step into out[(1 + STEPS) * VOCAB]. Returns MCL_OK or the failure. */
static mcl_status work(mcl_model *m, int seed, float *out)
{
    mcl_state *s = NULL;
    mcl_status st = mcl_state_create(m, &s);
    int32_t ids[PROMPT];
    for (int i = 0; i < PROMPT; i++) ids[i] = (seed * 31 + i * 7) % VOCAB;
    const int32_t *toks[1] = {ids};
    int len = PROMPT;
    if (st == MCL_OK) st = mcl_prefill(m, &s, toks, &len, 1, out);
    for (int t = 0; t < STEPS && st == MCL_OK; t++) {
        int32_t next = (seed * 13 + t * 5) % VOCAB;
        st = mcl_decode(m, &s, &next, 1, out + (size_t)(t + 1) * VOCAB);
    }
    mcl_state_free(s);
    return st;
}

typedef struct job {
    mcl_runtime *rt;   /* shared runtime (own model), or NULL: own runtime */
    mcl_model *model;  /* shared model, or NULL */
    int seed;
    float out[(1 + STEPS) * VOCAB];
    mcl_status st;
    char err[256];
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    mcl_runtime *own = NULL;
    mcl_model *m = j->model;
    j->st = MCL_OK;
    if (!j->rt && !m) j->st = mcl_runtime_create(NULL, &own);
    if (j->st == MCL_OK && !m) j->st = mcl_model_load(j->rt ? j->rt : own, model_dir, &m);
    for (int rep = 0; rep < 3 && j->st == MCL_OK; rep++) j->st = work(m, j->seed, j->out);
    if (j->st != MCL_OK) snprintf(j->err, sizeof j->err, "%s", mcl_last_error());
    if (!j->model) mcl_model_free(m);
    mcl_runtime_free(own);
    return NULL;
}

static float expected[THREADS][(1 + STEPS) * VOCAB];

static int setup(void **state)
{
    (void)state;
    snprintf(model_dir, sizeof model_dir, "%s/tests/data/tiny-model", getenv("MAMBACL_SOURCE_ROOT"));
    mcl_runtime *rt = NULL;
    mcl_model *m = NULL;
    if (mcl_runtime_create(NULL, &rt) != MCL_OK || mcl_model_load(rt, model_dir, &m) != MCL_OK) return -1;
    for (int t = 0; t < THREADS; t++)
        if (work(m, t + 1, expected[t]) != MCL_OK) return -1;
    mcl_model_free(m);
    mcl_runtime_free(rt);
    return 0;
}

static void run_threads(mcl_runtime *rt, mcl_model *model)
{
    static job jobs[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        memset(&jobs[t], 0, sizeof jobs[t]);
        jobs[t].rt = rt;
        jobs[t].model = model;
        jobs[t].seed = t + 1;
        assert_int_equal(pthread_create(&th[t], NULL, run_job, &jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) assert_int_equal(pthread_join(th[t], NULL), 0);
    for (int t = 0; t < THREADS; t++) {
        if (jobs[t].st != MCL_OK) fail_msg("thread %d: %s", t, jobs[t].err);
        assert_memory_equal(jobs[t].out, expected[t], sizeof expected[t]);
    }
}

/* MCL_TEST_NO_LOCK=1 switches the runtime's lock off, to see this test fail
 * without it (by hand: wrong logits or a crash, as issue 16 recorded). */
static void maybe_unlock(mcl_runtime *rt)
{
    if (getenv("MCL_TEST_NO_LOCK")) rt->lock_made = false;
}

static void test_shared_runtime_model_per_thread(void **state)
{
    (void)state;
    mcl_runtime *rt = NULL;
    assert_int_equal(mcl_runtime_create(NULL, &rt), MCL_OK);
    maybe_unlock(rt);
    run_threads(rt, NULL);
    mcl_runtime_free(rt);
}

static void test_shared_model_state_per_thread(void **state)
{
    (void)state;
    mcl_runtime *rt = NULL;
    mcl_model *m = NULL;
    assert_int_equal(mcl_runtime_create(NULL, &rt), MCL_OK);
    assert_int_equal(mcl_model_load(rt, model_dir, &m), MCL_OK);
    maybe_unlock(rt);
    run_threads(rt, m);
    mcl_model_free(m);
    mcl_runtime_free(rt);
}

static void test_runtime_per_thread(void **state)
{
    (void)state;
    run_threads(NULL, NULL);
}

typedef struct tok_job {
    const mcl_tokenizer *tok;
    int ok;
} tok_job;

static void *tok_run(void *arg)
{
    tok_job *j = arg;
    const char *text = "ROMEO: But soft, what light through yonder window breaks? 123 caf\xC3\xA9";
    j->ok = 1;
    for (int i = 0; i < 200 && j->ok; i++) {
        int32_t *ids = NULL;
        size_t n = 0, len = 0;
        char *back = NULL;
        j->ok = mcl_tokenizer_encode(j->tok, text, strlen(text), &ids, &n) == MCL_OK &&
                mcl_tokenizer_decode(j->tok, ids, n, &back, &len) == MCL_OK && len == strlen(text) &&
                memcmp(back, text, len) == 0;
        free(ids);
        free(back);
    }
    return NULL;
}

static void test_shared_tokenizer(void **state)
{
    (void)state;
    char path[700];
    snprintf(path, sizeof path, "%s/models/shakespeare-mamba/tokenizer.json", getenv("MAMBACL_SOURCE_ROOT"));
    mcl_tokenizer *tok = NULL;
    assert_int_equal(mcl_tokenizer_load(path, &tok), MCL_OK);
    tok_job jobs[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t].tok = tok;
        assert_int_equal(pthread_create(&th[t], NULL, tok_run, &jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_true(jobs[t].ok);
    }
    mcl_tokenizer_free(tok);
}

typedef struct save_job {
    const mcl_tunedb *db;
    const char *path;
    int failures;
} save_job;

static void *save_run(void *arg)
{
    save_job *j = arg;
    for (int i = 0; i < 100; i++) j->failures += mcl_tunedb_save(j->db, j->path) != MCL_OK;
    return NULL;
}

/* THREADS threads save the same tuning file 100 times each: every save
 * succeeds (with one temporary name per process, one thread's fopen("w")
 * truncated another's file and its rename took it away: ENOENT), the file
 * loads, and no temporary file is left beside it. */
static void test_tunedb_save_threads(void **state)
{
    (void)state;
    mcl_runtime *rt = NULL;
    assert_int_equal(mcl_runtime_create(NULL, &rt), MCL_OK);
    mcl_tunedb *db = NULL, *back = NULL;
    assert_int_equal(mcl_tunedb_create(&rt->dev, &db), MCL_OK);
    mcl_tune_class cls;
    mcl_tune_class_of_model(1536, 768, &cls);
    mcl_params p;
    mcl_tune_defaults(&mcl_family_step, &rt->dev, &p);
    assert_int_equal(mcl_tunedb_set(db, &mcl_family_step, &cls, &p, 1.0, 2.0, "x"), MCL_OK);
    char dir[] = "/tmp/mcl-tunedb-XXXXXX", path[64], warning[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/tuning.json", dir);
    save_job jobs[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (save_job){db, path, 0};
        assert_int_equal(pthread_create(&th[t], NULL, save_run, &jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(jobs[t].failures, 0);
    }
    mcl_tunedb_load(path, &rt->dev, &back, warning, sizeof warning);
    assert_non_null(back);
    assert_int_equal(mcl_tunedb_count(back), 1);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int files = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') files++;
    closedir(d);
    assert_int_equal(files, 1);
    unlink(path);
    rmdir(dir);
    mcl_tunedb_free(back);
    mcl_tunedb_free(db);
    mcl_runtime_free(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_runtime_model_per_thread),
        cmocka_unit_test(test_shared_model_state_per_thread),
        cmocka_unit_test(test_runtime_per_thread),
        cmocka_unit_test(test_shared_tokenizer),
        cmocka_unit_test(test_tunedb_save_threads),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
