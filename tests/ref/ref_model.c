/* Plain C reference of the Mamba-1 model, token by token, in double. */
#include "ref_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ref_layer {
    float *norm;     // [d_model]
    float *in_proj;  // [2*d_inner, d_model]
    float *conv_w;   // [d_inner, d_conv]
    float *conv_b;   // [d_inner] (zeros when the model has none)
    float *x_proj;   // [R+2N, d_inner]
    float *dt_w;     // [d_inner, R]
    float *dt_b;     // [d_inner]
    double *a;       // [d_inner, N]  A = -exp(A_log)
    float *d;        // [d_inner]
    float *out_proj; // [d_model, d_inner]
} ref_layer;

struct ref_model {
    mcl_config cfg;
    float *embed;     // [vocab, d_model]
    float *norm_f;    // [d_model]
    float *head;      // [vocab, d_model] (== embed when tied)
    ref_layer *layers;
    /* scratch of one step */
    double *h, *hn;   // [d_model]
    double *xz;       // [2*d_inner]
    double *xc, *y;   // [d_inner]
    double *dbc;      // [R+2N]
};

struct ref_state {
    double *conv; // [n_layer, d_inner, d_conv-1]
    double *ssm;  // [n_layer, d_inner, N]
};

static float *to_f32(const mcl_host_tensor *t, size_t n)
{
    float *out = calloc(n ? n : 1, sizeof *out);
    if (out && t->data)
        for (size_t i = 0; i < n; i++) out[i] = mcl_host_tensor_get(t, i);
    return out;
}

static bool load_layer(ref_layer *L, const mcl_weights *w, int l)
{
    const mcl_config *c = &w->cfg;
    size_t dm = (size_t)c->d_model, di = (size_t)c->d_inner, n = (size_t)c->d_state;
    size_t r = (size_t)c->dt_rank;
    L->norm = to_f32(mcl_weights_at(w, MCL_W_NORM, l), dm);
    L->in_proj = to_f32(mcl_weights_at(w, MCL_W_IN_PROJ, l), 2 * di * dm);
    L->conv_w = to_f32(mcl_weights_at(w, MCL_W_CONV_W, l), di * (size_t)c->d_conv);
    L->conv_b = to_f32(mcl_weights_at(w, MCL_W_CONV_B, l), di);
    L->x_proj = to_f32(mcl_weights_at(w, MCL_W_X_PROJ, l), (r + 2 * n) * di);
    L->dt_w = to_f32(mcl_weights_at(w, MCL_W_DT_W, l), di * r);
    L->dt_b = to_f32(mcl_weights_at(w, MCL_W_DT_B, l), di);
    L->d = to_f32(mcl_weights_at(w, MCL_W_D, l), di);
    L->out_proj = to_f32(mcl_weights_at(w, MCL_W_OUT_PROJ, l), dm * di);
    L->a = malloc(di * n * sizeof *L->a);
    if (L->a)
        for (size_t i = 0; i < di * n; i++)
            L->a[i] = -exp((double)mcl_host_tensor_get(mcl_weights_at(w, MCL_W_A_LOG, l), i));
    return L->norm && L->in_proj && L->conv_w && L->conv_b && L->x_proj && L->dt_w && L->dt_b &&
           L->d && L->out_proj && L->a;
}

ref_model *ref_model_create(const mcl_weights *w)
{
    const mcl_config *c = &w->cfg;
    ref_model *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cfg = *c;
    size_t dm = (size_t)c->d_model, di = (size_t)c->d_inner, v = (size_t)c->vocab_size;
    bool ok = true;
    const mcl_host_tensor *head = mcl_weights_at(w, MCL_W_LM_HEAD, 0);
    m->embed = to_f32(mcl_weights_at(w, MCL_W_EMBED, 0), v * dm);
    m->norm_f = to_f32(mcl_weights_at(w, MCL_W_NORM_F, 0), dm);
    m->head = head->data ? to_f32(head, v * dm) : m->embed;
    m->layers = calloc((size_t)c->n_layer, sizeof *m->layers);
    ok = m->embed && m->norm_f && m->head && m->layers;
    for (int l = 0; ok && l < c->n_layer; l++) ok = load_layer(&m->layers[l], w, l);
    m->h = calloc(dm, sizeof(double));
    m->hn = calloc(dm, sizeof(double));
    m->xz = calloc(2 * di, sizeof(double));
    m->xc = calloc(di, sizeof(double));
    m->y = calloc(di, sizeof(double));
    m->dbc = calloc((size_t)(c->dt_rank + 2 * c->d_state), sizeof(double));
    if (!ok || !m->h || !m->hn || !m->xz || !m->xc || !m->y || !m->dbc) {
        ref_model_free(m);
        return NULL;
    }
    return m;
}

void ref_model_free(ref_model *m)
{
    if (!m) return;
    for (int l = 0; m->layers && l < m->cfg.n_layer; l++) {
        ref_layer *L = &m->layers[l];
        free(L->norm); free(L->in_proj); free(L->conv_w); free(L->conv_b); free(L->x_proj);
        free(L->dt_w); free(L->dt_b); free(L->a); free(L->d); free(L->out_proj);
    }
    free(m->layers);
    if (m->head != m->embed) free(m->head);
    free(m->embed); free(m->norm_f);
    free(m->h); free(m->hn); free(m->xz); free(m->xc); free(m->y); free(m->dbc);
    free(m);
}

const mcl_config *ref_model_config(const ref_model *m) { return &m->cfg; }

static size_t conv_elems(const mcl_config *c)
{
    return (size_t)c->n_layer * (size_t)c->d_inner * (size_t)(c->d_conv - 1);
}

static size_t ssm_elems(const mcl_config *c)
{
    return (size_t)c->n_layer * (size_t)c->d_inner * (size_t)c->d_state;
}

ref_state *ref_state_create(const ref_model *m)
{
    ref_state *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->conv = calloc(conv_elems(&m->cfg), sizeof(double));
    s->ssm = calloc(ssm_elems(&m->cfg), sizeof(double));
    if (!s->conv || !s->ssm) {
        ref_state_free(s);
        return NULL;
    }
    return s;
}

void ref_state_free(ref_state *s)
{
    if (!s) return;
    free(s->conv);
    free(s->ssm);
    free(s);
}

void ref_state_reset(const ref_model *m, ref_state *s)
{
    memset(s->conv, 0, conv_elems(&m->cfg) * sizeof(double));
    memset(s->ssm, 0, ssm_elems(&m->cfg) * sizeof(double));
}

void ref_state_copy(const ref_model *m, ref_state *dst, const ref_state *src)
{
    memcpy(dst->conv, src->conv, conv_elems(&m->cfg) * sizeof(double));
    memcpy(dst->ssm, src->ssm, ssm_elems(&m->cfg) * sizeof(double));
}

static double silu(double x) { return x / (1.0 + exp(-x)); }
static double softplus(double x) { return x > 20.0 ? x : log1p(exp(x)); }

/* out[o] = sum_i W[o, i] * x[i] (+ out[o] when acc). */
static void matvec(const float *w, const double *x, double *out, int rows, int cols, bool acc)
{
    for (int o = 0; o < rows; o++) {
        const float *row = w + (size_t)o * (size_t)cols;
        double s = 0.0;
        for (int i = 0; i < cols; i++) s += (double)row[i] * x[i];
        out[o] = acc ? out[o] + s : s;
    }
}

static void rmsnorm(const double *x, const float *w, double eps, double *out, int n)
{
    double ss = 0.0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    double r = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) out[i] = x[i] * r * (double)w[i];
}

/* Depthwise causal conv of one token: history from the state, then shift. */
static void conv_step(const ref_layer *L, const mcl_config *c, double *state, const double *x,
                      double *xc)
{
    int k = c->d_conv;
    for (int d = 0; d < c->d_inner; d++) {
        double *st = state + (size_t)d * (size_t)(k - 1);
        const float *w = L->conv_w + (size_t)d * (size_t)k;
        double acc = (double)L->conv_b[d] + (double)w[k - 1] * x[d];
        for (int j = 0; j < k - 1; j++) acc += (double)w[j] * st[j];
        for (int j = 0; j < k - 2; j++) st[j] = st[j + 1];
        st[k - 2] = x[d];
        xc[d] = silu(acc);
    }
}

/* Selective state update of one token; y gated by SiLU(z). */
static void ssm_step(const ref_layer *L, const mcl_config *c, double *state, const double *xc,
                     const double *dbc, const double *z, double *y)
{
    int r = c->dt_rank, n = c->d_state;
    const double *b = dbc + r, *cc = dbc + r + n;
    for (int d = 0; d < c->d_inner; d++) {
        double dt = L->dt_b[d];
        for (int i = 0; i < r; i++) dt += (double)L->dt_w[(size_t)d * (size_t)r + (size_t)i] * dbc[i];
        double delta = softplus(dt), acc = 0.0;
        double *s = state + (size_t)d * (size_t)n;
        for (int j = 0; j < n; j++) {
            s[j] = exp(delta * L->a[(size_t)d * (size_t)n + (size_t)j]) * s[j] + delta * b[j] * xc[d];
            acc += cc[j] * s[j];
        }
        y[d] = (acc + (double)L->d[d] * xc[d]) * silu(z[d]);
    }
}

static void layer_step(const ref_model *m, int l, ref_state *s)
{
    const mcl_config *c = &m->cfg;
    const ref_layer *L = &m->layers[l];
    size_t di = (size_t)c->d_inner;
    rmsnorm(m->h, L->norm, c->norm_eps, m->hn, c->d_model);
    matvec(L->in_proj, m->hn, m->xz, 2 * c->d_inner, c->d_model, false);
    conv_step(L, c, s->conv + (size_t)l * di * (size_t)(c->d_conv - 1), m->xz, m->xc);
    matvec(L->x_proj, m->xc, m->dbc, c->dt_rank + 2 * c->d_state, c->d_inner, false);
    ssm_step(L, c, s->ssm + (size_t)l * di * (size_t)c->d_state, m->xc, m->dbc, m->xz + di, m->y);
    matvec(L->out_proj, m->y, m->h, c->d_model, c->d_inner, true);
}

void ref_model_step(const ref_model *m, ref_state *s, int32_t token, double *logits)
{
    const mcl_config *c = &m->cfg;
    const float *e = m->embed + (size_t)token * (size_t)c->d_model;
    for (int i = 0; i < c->d_model; i++) m->h[i] = e[i];
    for (int l = 0; l < c->n_layer; l++) layer_step(m, l, s);
    if (!logits) return;
    rmsnorm(m->h, m->norm_f, c->norm_eps, m->hn, c->d_model);
    matvec(m->head, m->hn, logits, c->vocab_size, c->d_model, false);
}

void ref_model_forward(const ref_model *m, ref_state *s, const int32_t *tokens, int n,
                       double *logits, bool all)
{
    size_t v = (size_t)m->cfg.vocab_size;
    for (int t = 0; t < n; t++) {
        double *out = NULL;
        if (all) out = logits + (size_t)t * v;
        else if (t == n - 1) out = logits;
        ref_model_step(m, s, tokens[t], out);
    }
}
