/* libFuzzer target: a .safetensors file image through mcl_st_parse. On
 * success every tensor's first and last byte is read, so a range that
 * escaped validation shows up as an ASan report; names must be unique and
 * sorted, and nbytes must agree with the shape. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/dtype.h"
#include "checkpoint/safetensors.h"

static void check(const mcl_st_file *f, const uint8_t *data, size_t size)
{
    volatile uint8_t sink = 0;
    for (int i = 0; i < f->n_tensors; i++) {
        const mcl_tensor *t = &f->tensors[i];
        uint64_t n = 1;
        for (int d = 0; d < t->ndim; d++) n *= (uint64_t)t->shape[d];
        if (n * mcl_dtype_size(t->dtype) != t->nbytes) abort();
        if (i > 0 && strcmp(f->tensors[i - 1].name, t->name) >= 0) abort();
        if (t->nbytes == 0) continue;
        const uint8_t *p = t->data;
        if (p < data || p + t->nbytes > data + size) abort();
        sink ^= p[0] ^ p[t->nbytes - 1];
        if (mcl_st_find(f, t->name) != t) abort();
    }
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mcl_st_file *f = NULL;
    if (mcl_st_parse(data, size, "fuzz.safetensors", &f) == MCL_OK) check(f, data, size);
    else if (f != NULL || strchr(mcl_last_error(), '\n') != NULL) abort();
    mcl_st_free(f);
    return 0;
}
