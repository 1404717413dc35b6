/* Shape expressions of the weight tables (see weight_table.h). */
#include "checkpoint/weight_table.h"

#include <ctype.h>
#include <string.h>

typedef struct cursor {
    const char *p;
    const mcl_config *c;
    bool bad;
} cursor;

static void skip_space(cursor *k)
{
    while (*k->p == ' ') k->p++;
}

/* A config field or an integer. */
static int64_t factor(cursor *k)
{
    static const struct { const char *name; size_t off; } fields[] = {
        {"d_model", offsetof(mcl_config, d_model)}, {"n_layer", offsetof(mcl_config, n_layer)},
        {"d_inner", offsetof(mcl_config, d_inner)}, {"d_state", offsetof(mcl_config, d_state)},
        {"d_conv", offsetof(mcl_config, d_conv)},   {"dt_rank", offsetof(mcl_config, dt_rank)},
        {"vocab_size", offsetof(mcl_config, vocab_size)},
    };
    skip_space(k);
    if (isdigit((unsigned char)*k->p)) {
        int64_t v = 0;
        while (isdigit((unsigned char)*k->p) && v < (1 << 30)) v = v * 10 + (*k->p++ - '0');
        return v;
    }
    size_t n = 0;
    while (k->p[n] == '_' || isalnum((unsigned char)k->p[n])) n++;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strlen(fields[i].name) == n && strncmp(k->p, fields[i].name, n) == 0) {
            k->p += n;
            int v;
            memcpy(&v, (const char *)k->c + fields[i].off, sizeof v);
            return v;
        }
    k->bad = true;
    return 0;
}

static int64_t term(cursor *k)
{
    int64_t v = factor(k);
    for (skip_space(k); *k->p == '*'; skip_space(k)) {
        k->p++;
        v *= factor(k);
    }
    return v;
}

static int64_t dimension(cursor *k)
{
    int64_t v = term(k);
    for (skip_space(k); *k->p == '+' || *k->p == '-'; skip_space(k)) {
        char op = *k->p++;
        int64_t t = term(k);
        v = op == '+' ? v + t : v - t;
    }
    return v;
}

int mcl_shape_eval(const char *expr, const mcl_config *c, int64_t shape[MCL_SHAPE_MAX_DIMS])
{
    cursor k = {expr, c, false};
    int nd = 0;
    for (;;) {
        if (nd == MCL_SHAPE_MAX_DIMS) return -1;
        int64_t v = dimension(&k);
        if (k.bad || v <= 0) return -1;
        shape[nd++] = v;
        skip_space(&k);
        if (*k.p == '\0') return nd;
        if (*k.p++ != ',') return -1;
    }
}

uint64_t mcl_shape_elems(const char *expr, const mcl_config *c)
{
    int64_t shape[MCL_SHAPE_MAX_DIMS];
    int nd = mcl_shape_eval(expr, c, shape);
    if (nd < 0) return 0;
    uint64_t n = 1;
    for (int i = 0; i < nd; i++) n *= (uint64_t)shape[i];
    return n;
}

bool mcl_weight_wanted(const mcl_weight_spec *s, const mcl_config *c)
{
    switch (s->when) {
    case MCL_WWHEN_CONV_BIAS: return c->conv_bias;
    case MCL_WWHEN_UNTIED: return !c->tie_embeddings;
    default: return true;
    }
}
