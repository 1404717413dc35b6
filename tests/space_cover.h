/* The configurations of a tuning space that the kernel tests compile: a
 * pairwise cover instead of the whole cross product.
 *
 * Each configuration is one PoCL program (seconds of compile on the CI's 2
 * cores), and the space is a cross product that grows with every axis. The
 * kernels' code paths are chosen by single tunables (#if on a boolean or a
 * mode, loops sized by one tunable) or by the ratio of two (teams of GEMV_LPR
 * lanes in GEMV_WG, state-threads NSG*TT, ...), so a set of configurations in
 * which every value of every tunable meets every value of every other tunable
 * at least once (a pairwise, or strength-2, covering array) runs every code
 * path and every pair interaction; its size grows with the two largest axes,
 * not with their product. Only configurations that fit the device are
 * candidates, and every (tunable, value) pair that occurs in some fitting
 * configuration is covered. */
#ifndef MCL_TEST_SPACE_COVER_H
#define MCL_TEST_SPACE_COVER_H

#include "tune/tune.h"

/* Writes to picked[] the indices (ascending) of a pairwise cover of fam's
 * space on dev, chosen greedily (the configuration covering most uncovered
 * pairs first, ties to the lowest index: deterministic); returns their
 * number (0 when no configuration fits). *size gets the space's size and
 * *fitting the number of configurations that fit. picked must hold
 * mcl_tune_space_size(fam, dev) entries. */
int space_cover(const mcl_family *fam, const mcl_device_info *dev, int *picked, int *size, int *fitting);

#endif
