/* libFuzzer target: a tuning file through mcl_tunedb_load (the function the
 * runtime calls on $MAMBACL_CACHE_DIR/tuning/<device>.json), then every
 * family's defaults overridden by mcl_tunedb_apply and turned into compile
 * defines. The input is written to a memfd and read back through
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
    for (int i = 0; mcl_tune_family_at(i); i++) {
        const mcl_family *fam = mcl_tune_family_at(i);
        mcl_params def = {0}, p;
        fam->defaults(&dev, &def);
        p = def;
        mcl_tunedb_apply(db, fam->file, &p);
        if (p.n != def.n) abort();
        for (int j = 0; j < p.n; j++) {
            if (strcmp(p.p[j].name, def.p[j].name) != 0) abort();
            /* a value the file changed is in [1, 1<<20] (defaults may be 0: GEMM_SWZ) */
            if (p.p[j].value != def.p[j].value && (p.p[j].value < 1 || p.p[j].value > (1L << 20))) abort();
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
