/* Selftest of the persistent decode layer (row of entries[] in selftest.c). */
#ifndef MCL_SELFTEST_DLAYER_H
#define MCL_SELFTEST_DLAYER_H

#include "diag/selftest.h"

mcl_status mcl_selftest_dlayer(mcl_runtime *rt, bool *ok);

#endif
