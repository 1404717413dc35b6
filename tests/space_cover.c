/* Pairwise cover of a tuning space (tests/space_cover.h). */
#include "space_cover.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_VALUES = 256 }; /* distinct (tunable, value) of one space */

typedef struct value_table {
    int n;
    const char *name[MAX_VALUES];
    long value[MAX_VALUES];
} value_table;

/* The id of (name, value) in t, added when new; -1 when t is full. */
static int value_id(value_table *t, const char *name, long value)
{
    for (int i = 0; i < t->n; i++)
        if (t->value[i] == value && strcmp(t->name[i], name) == 0) return i;
    if (t->n == MAX_VALUES) return -1;
    t->name[t->n] = name;
    t->value[t->n] = value;
    return t->n++;
}

/* Number of pairs of config c (ids[c*MCL_MAX_PARAMS..], n_ids[c] of them)
 * still set in need (V x V); clears them when take. */
static int count_new(const int *ids, int n, bool *need, int V, bool take)
{
    int k = 0;
    for (int a = 0; a < n; a++)
        for (int b = a; b < n; b++) {
            int i = ids[a] < ids[b] ? ids[a] : ids[b], j = ids[a] < ids[b] ? ids[b] : ids[a];
            if (need[i * V + j]) {
                k++;
                if (take) need[i * V + j] = false;
            }
        }
    return k;
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int space_cover(const mcl_family *fam, const mcl_device_info *dev, int *picked, int *size, int *fitting)
{
    int n = mcl_tune_space_size(fam, dev), n_fit = 0, n_picked = 0;
    mcl_params *cfg = calloc(n ? (size_t)n : 1, sizeof *cfg);
    int *index = calloc(n ? (size_t)n : 1, sizeof *index), *ids = calloc(n ? (size_t)n : 1, sizeof(int) * MCL_MAX_PARAMS);
    value_table *t = calloc(1, sizeof *t);
    bool *need = calloc(MAX_VALUES * MAX_VALUES, sizeof *need);
    bool *used = calloc(n ? (size_t)n : 1, sizeof *used);
    if (!cfg || !index || !ids || !t || !need || !used) abort();
    for (int i = 0; i < n; i++) {
        if (!mcl_tune_space_config(fam, dev, i, NULL, &cfg[n_fit])) continue;
        index[n_fit++] = i;
    }
    for (int c = 0; c < n_fit; c++)
        for (int j = 0; j < cfg[c].n; j++)
            if ((ids[c * MCL_MAX_PARAMS + j] = value_id(t, cfg[c].p[j].name, cfg[c].p[j].value)) < 0) abort();
    const int V = t->n;
    for (int c = 0; c < n_fit; c++) { /* every pair that some fitting configuration has */
        const int *id = ids + c * MCL_MAX_PARAMS;
        for (int a = 0; a < cfg[c].n; a++)
            for (int b = a; b < cfg[c].n; b++) {
                int i = id[a] < id[b] ? id[a] : id[b], j = id[a] < id[b] ? id[b] : id[a];
                need[i * V + j] = true;
            }
    }
    for (;;) {
        int best = -1, best_new = 0;
        for (int c = 0; c < n_fit; c++) {
            if (used[c]) continue;
            int k = count_new(ids + c * MCL_MAX_PARAMS, cfg[c].n, need, V, false);
            if (k > best_new) best = c, best_new = k;
        }
        if (best < 0) break; /* every pair covered */
        count_new(ids + best * MCL_MAX_PARAMS, cfg[best].n, need, V, true);
        used[best] = true;
        picked[n_picked++] = index[best];
    }
    qsort(picked, (size_t)n_picked, sizeof *picked, cmp_int);
    *size = n;
    *fitting = n_fit;
    free(cfg);
    free(index);
    free(ids);
    free(t);
    free(need);
    free(used);
    return n_picked;
}
