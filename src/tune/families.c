/* The families, in id order (families[i]->id == i). A new family gets an id
 * in tune.h, its table in a tune_*.c file and a row here. */
#include "tune/families.h"

#include <string.h>

#include "tune/tune_dlayer.h"
#include "tune/tune_kern.h"
#include "tune/tune_scan.h"
#include "tune/tune_xstep.h"
#include "tune/tune_cgemv.h"
#include "tune/tune_gmma.h"
#include "tune/tune_rgemv.h"

static const mcl_family *const families[MCL_FAM_COUNT] = {
    [MCL_FAM_COPY] = &mcl_family_copy,       [MCL_FAM_NORM] = &mcl_family_norm,
    [MCL_FAM_CONVERT] = &mcl_family_convert, [MCL_FAM_CONV] = &mcl_family_conv,
    [MCL_FAM_GEMV] = &mcl_family_gemv,       [MCL_FAM_SCAN] = &mcl_family_scan,
    [MCL_FAM_STEP] = &mcl_family_step,       [MCL_FAM_GEMM] = &mcl_family_gemm,
    [MCL_FAM_DLAYER] = &mcl_family_dlayer,   [MCL_FAM_XSTEP] = &mcl_family_xstep,
    [MCL_FAM_CGEMV] = &mcl_family_cgemv,     [MCL_FAM_GMMA] = &mcl_family_gmma,
    [MCL_FAM_RGEMV] = &mcl_family_rgemv,
};

const mcl_family *mcl_tune_family_at(int i)
{
    if (i < 0 || i >= MCL_FAM_COUNT) return NULL;
    return families[i];
}

const mcl_family *mcl_tune_family_id(mcl_family_id id) { return mcl_tune_family_at((int)id); }

const mcl_family *mcl_tune_family(const char *name)
{
    for (int i = 0; i < MCL_FAM_COUNT; i++)
        if (strcmp(families[i]->name, name) == 0) return families[i];
    return NULL;
}
