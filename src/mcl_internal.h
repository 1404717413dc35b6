/* The one internal header of the CLI: what `mambacl` uses beyond the public
 * API in mambacl.h (diagnostics, the tuner, the tuning database, the device
 * record and cache paths, checkpoint inspection, the architecture record
 * (state sizes), error helpers). The CLI links the static library, so these
 * symbols need not be exported by libmambacl.so, which exports only the
 * MCL_API functions of mambacl.h. Anything added here is a promise to the
 * CLI only, not to library users. */
#ifndef MCL_INTERNAL_H
#define MCL_INTERNAL_H

#include "mambacl.h"

#include "base/clock.h"
#include "base/dtype.h"
#include "base/error.h"
#include "checkpoint/checkpoint.h"
#include "device/caps.h"
#include "device/device.h"
#include "diag/bench.h"
#include "diag/presets.h"
#include "diag/tuner.h"
#include "generate/textstream.h"
#include "model/arch.h"
#include "ops/gemm.h"
#include "runtime/cache.h"
#include "runtime/caps_cache.h"
#include "runtime/program.h"
#include "runtime/runtime.h"
#include "tune/tunedb.h"
#include "tokenizer/tok_unicode.h"
#include "model/state_io.h"

#endif
