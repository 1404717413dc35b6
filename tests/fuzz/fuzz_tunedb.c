/* libFuzzer target: a tuning file through mcl_tunedb_load (the function the
 * runtime calls on $MAMBACL_CACHE_DIR/tuning/<device>.json), then every
 * entry over its family's defaults, checked by the engine (mcl_tune_check)
 * and turned into compile defines. The input is written to a memfd and read back through
 * /proc/self/fd, so the real file reader runs without touching the disk.
 * Checks: no crash, no leak; a refused file leaves a warning; an accepted
 * file changes only declared parameters, to values in [1, 1<<20], and the
 * defines stay NUL-terminated within their buffer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tune/tune.h"
#include "tune/tunedb.h"

static int fd = -1;
static char path[64];
static mcl_device_info dev;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fd = memfd_create("tuning.json", 0);
    if (fd < 0) abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    /* The device the seeds name (tests/fuzz/seeds/tunedb). */
    snprintf(dev.platform, sizeof dev.platform, "Fuzz Platform");
    snprintf(dev.name, sizeof dev.name, "fuzz-device");
    snprintf(dev.driver_version, sizeof dev.driver_version, "1.0");
    dev.type = MCL_DEVICE_TYPE_GPU;
    dev.local_mem_bytes = 48 * 1024;
    dev.max_work_group_size = 1024;
    dev.preferred_wg_multiple = 32;
    dev.max_alloc_bytes = 1u << 30;
    dev.global_mem_bytes = 4ull << 30;
    return 0;
}

static void apply_all(const mcl_tunedb *db)
{
    for (int i = 0; i < mcl_tunedb_count(db); i++) {
        const mcl_tune_entry *e = mcl_tunedb_entry(db, i);
        if (!e || !e->fam) abort();
        mcl_params p;
        char why[160] = "";
        mcl_tune_defaults(e->fam, &dev, &p);
        int n_def = p.n;
        for (int k = 0; k < e->params.n; k++) {
            if (!mcl_tune_tunable(e->fam, e->params.p[k].name)) abort();
            mcl_params_set(&p, e->params.p[k].name, e->params.p[k].value);
        }
        if (p.n != n_def) abort();
        if (mcl_tune_check(e->fam, &dev, &p, why, sizeof why)) {
            for (int k = 0; k < p.n; k++) {
                const mcl_tunable *t = mcl_tune_tunable(e->fam, p.p[k].name);
                if (!t || p.p[k].value < t->min || p.p[k].value > t->max) abort();
            }
        } else if (why[0] == '\0') {
            abort();
        }
        char defines[512];
        defines[0] = '\0';
        mcl_params_defines(&p, defines, sizeof defines);
        if (memchr(defines, '\0', sizeof defines) == NULL) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) abort();
    mcl_tunedb *db = NULL;
    char warning[512];
    mcl_tunedb_load(path, &dev, &db, warning, sizeof warning);
    if (!db) {
        if (size > 0 && warning[0] == '\0') abort(); /* a refused file is always explained */
        return 0;
    }
    apply_all(db);
    mcl_tunedb_free(db);
    return 0;
}
