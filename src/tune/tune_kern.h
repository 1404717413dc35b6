/* The kernel families copy.cl, norm.cl, convert.cl, conv.cl, gemv.cl and the
 * host-only family "dispatch" (thresholds between kernels): their tunables,
 * defaults rules, fits rules and gemv's candidate space (tune_kern.c). */
#ifndef MCL_TUNE_KERN_H
#define MCL_TUNE_KERN_H

#include "tune/tune.h"

extern const mcl_family mcl_family_copy;
extern const mcl_family mcl_family_norm;
extern const mcl_family mcl_family_convert;
extern const mcl_family mcl_family_conv;
extern const mcl_family mcl_family_gemv;
extern const mcl_family mcl_family_dispatch;

/* Local memory (bytes) that a gemv configuration needs: 4 * RPL * BT * WG. */
long mcl_tune_gemv_local_bytes(const mcl_params *p);

#endif
