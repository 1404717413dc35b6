/* State files (mcl_state_save / mcl_state_load in mambacl.h) and the model
 * fingerprint they are tied to. */
#ifndef MCL_STATE_IO_H
#define MCL_STATE_IO_H

#include <stdint.h>
#include "model/weights.h"

/* A 64-bit hash of every weight tensor's dtype and element count, the
 * whole content of each tensor up to 1 MiB and ~72 KiB of samples of each
 * larger one (both ends, 256 evenly spaced windows), in the order of the
 * architecture's weight table (mcl_weights.t). Computed once by the model
 * loader (milliseconds; hashing every byte would cost ~2 s for 5 GB) and kept
 * in mcl_model.fingerprint. */
uint64_t mcl_weights_fingerprint(const mcl_weights *w);

/* The dtype holding the most weight elements (recorded in state files). */
mcl_dtype mcl_weights_main_dtype(const mcl_weights *w);

/* A 64-bit hash of the shape fields of a config (architecture included). */
uint64_t mcl_config_fingerprint(const mcl_config *c);

/* Checks the header of a state file against a config without a device:
 * the magic, the version and the config hash (the weights are checked by
 * mcl_state_load). Errors as mcl_state_load's. */
mcl_status mcl_state_file_check(const char *path, const mcl_config *cfg);

#endif
