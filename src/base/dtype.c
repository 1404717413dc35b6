/* Element types: sizes, names, parsing. */
#include "base/dtype.h"

#include <strings.h>

size_t mcl_dtype_size(mcl_dtype dtype) { return dtype == MCL_DTYPE_F32 ? 4 : 2; }

const char *mcl_dtype_name(mcl_dtype dtype)
{
    switch (dtype) {
    case MCL_DTYPE_F32: return "F32";
    case MCL_DTYPE_F16: return "F16";
    case MCL_DTYPE_BF16: return "BF16";
    }
    return "?";
}

bool mcl_dtype_parse(const char *s, mcl_dtype *out)
{
    if (strcasecmp(s, "f32") == 0 || strcasecmp(s, "fp32") == 0) *out = MCL_DTYPE_F32;
    else if (strcasecmp(s, "f16") == 0 || strcasecmp(s, "fp16") == 0) *out = MCL_DTYPE_F16;
    else if (strcasecmp(s, "bf16") == 0) *out = MCL_DTYPE_BF16;
    else return false;
    return true;
}
