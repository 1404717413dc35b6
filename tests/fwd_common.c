/* Helpers of the forward-pass tests. */
#include "fwd_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) buf[n] = '\0';
    fclose(f);
    return buf;
}

static int ints(const cJSON *arr, int32_t *out, int cap)
{
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n > cap) return -1;
    for (int i = 0; i < n; i++) out[i] = (int32_t)cJSON_GetArrayItem(arr, i)->valuedouble;
    return n;
}

static bool parse_case(const cJSON *e, fwd_case *c)
{
    const cJSON *logits = cJSON_GetObjectItem(e, "last_logits");
    c->n_ids = ints(cJSON_GetObjectItem(e, "ids"), c->ids, FWD_MAX_PROMPT);
    if (c->n_ids <= 0) return false;
    if (ints(cJSON_GetObjectItem(e, "argmax"), c->argmax, FWD_MAX_PROMPT) != c->n_ids) return false;
    if (ints(cJSON_GetObjectItem(e, "greedy_ids"), c->greedy, FWD_GREEDY) != FWD_GREEDY) return false;
    c->vocab = cJSON_GetArraySize(logits);
    c->last_logits = malloc((size_t)c->vocab * sizeof(float));
    if (!c->last_logits || !cJSON_IsArray(logits)) return false;
    int i = 0;
    for (const cJSON *v = logits->child; v; v = v->next) c->last_logits[i++] = (float)v->valuedouble;
    return true;
}

int fwd_cases_load(fwd_case **out)
{
    const char *shared = getenv("MAMBACL_SHARED");
    char path[4096];
    snprintf(path, sizeof path, "%s/reference/shakespeare-mamba.json", shared ? shared : "../shared");
    char *text = read_all(path);
    if (!text) {
        fprintf(stderr, "cannot read %s\n", path);
        return 0;
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    int n = cJSON_GetArraySize(root);
    fwd_case *cases = calloc((size_t)(n ? n : 1), sizeof *cases);
    int ok = 0;
    for (int i = 0; cases && i < n; i++, ok++)
        if (!parse_case(cJSON_GetArrayItem(root, i), &cases[i])) break;
    cJSON_Delete(root);
    if (ok != n || n == 0) {
        fprintf(stderr, "malformed reference file %s\n", path);
        fwd_cases_free(cases, n);
        return 0;
    }
    *out = cases;
    return n;
}

void fwd_cases_free(fwd_case *cases, int n)
{
    for (int i = 0; cases && i < n; i++) free(cases[i].last_logits);
    free(cases);
}

const char *fwd_model_dir(void)
{
    static char path[4096];
    const char *root = getenv("MAMBACL_SOURCE_ROOT");
    snprintf(path, sizeof path, "%s/models/shakespeare-mamba", root ? root : ".");
    return path;
}

int fwd_argmax_f(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

int fwd_argmax_d(const double *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}
