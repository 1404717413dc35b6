/* State files: one sequence's recurrent state (the conv and SSM state of
 * every layer, fp32) with a header that ties it to the model.
 *
 * Layout (little-endian, every field 8-byte aligned):
 *   "MCLSTATE"                 magic, 8 bytes
 *   u32 version (1), u32 header bytes (96)
 *   u64 config hash            mcl_config_fingerprint of the shape
 *   u64 weights hash           mcl_weights_fingerprint (mcl_model.fingerprint: small
 *                              tensors whole, samples of the matrices)
 *   u32 weight dtype, u32 state dtype (0 = F32)
 *   u32 n_layer, d_inner, d_conv, d_state
 *   u64 payload bytes          n_layer * (sum of the state tensors' elements) * 4
 *   u64 payload hash
 *   u32 architecture (mcl_config.arch), u32 0, u64 reserved (0) x 2
 *   payload: for each layer, each state tensor of the architecture in its
 *   order (Mamba-1: conv state [d_inner, d_conv-1], SSM state [d_inner,
 *   d_state]), fp32.
 * The size does not depend on how many tokens the state has seen. */
#include "model/state_io.h"
#include "model/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

#define STATE_MAGIC "MCLSTATE"
#define STATE_VERSION 1u
#define HEADER_BYTES 96u

/* ---- hashing: 4 lanes of multiply-rotate over 8-byte words (fast enough to
 * hash gigabytes at load), folded with the length. Not cryptographic: it
 * tells models apart, it does not authenticate them. ---------------------- */

typedef struct hash64 {
    uint64_t lane[4];
    uint64_t len;
} hash64;

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL

static uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static void hash_init(hash64 *h)
{
    for (int i = 0; i < 4; i++) h->lane[i] = P1 * (uint64_t)(i + 1) ^ P2;
    h->len = 0;
}

static uint64_t mix(uint64_t acc, uint64_t w) { return rotl64(acc ^ (w * P2), 31) * P1; }

static void hash_bytes(hash64 *h, const void *data, size_t n)
{
    const unsigned char *p = data;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, 32);
        for (int k = 0; k < 4; k++) h->lane[k] = mix(h->lane[k], w[k]);
    }
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h->lane[0] = mix(h->lane[0], w);
    }
    if (i < n) {
        uint64_t w = 0;
        memcpy(&w, p + i, n - i);
        h->lane[1] = mix(h->lane[1], w ^ (uint64_t)(n - i) << 56);
    }
    h->len += n;
}

static void hash_u64(hash64 *h, uint64_t v) { hash_bytes(h, &v, sizeof v); }

static uint64_t hash_final(const hash64 *h)
{
    uint64_t x = h->len * P1;
    for (int i = 0; i < 4; i++) x = mix(x, h->lane[i]);
    x ^= x >> 29;
    x *= P2;
    return x ^ (x >> 32);
}

#define FULL_HASH_BYTES (1u << 20) /* tensors up to this size are hashed whole */
#define EDGE_BYTES 4096u           /* of a larger one: its first and last bytes, */
#define N_WINDOWS 256              /* and this many evenly spaced windows */
#define WINDOW_BYTES 256u

/* A tensor's dtype, size and content: every byte of a small one (norms, A,
 * D, conv weights, biases), and about 72 KiB spread over a large matrix
 * (both ends and 256 windows), so that the fingerprint costs milliseconds,
 * not seconds, at load. Two checkpoints that differ only inside a large
 * matrix between the sampled windows share a fingerprint: a fine-tune or
 * another model changes every matrix, so this tells models apart. */
static void hash_tensor(hash64 *h, const mcl_host_tensor *t)
{
    hash_u64(h, t->data ? (uint64_t)t->dtype : 0xffu);
    hash_u64(h, t->data ? (uint64_t)t->n : 0);
    if (!t->data) return;
    size_t bytes = t->n * (t->dtype == MCL_DTYPE_F32 ? 4u : 2u);
    const unsigned char *p = t->data;
    if (bytes <= FULL_HASH_BYTES) {
        hash_bytes(h, p, bytes);
        return;
    }
    hash_bytes(h, p, EDGE_BYTES);
    hash_bytes(h, p + bytes - EDGE_BYTES, EDGE_BYTES);
    for (size_t i = 0; i < N_WINDOWS; i++) hash_bytes(h, p + i * ((bytes - WINDOW_BYTES) / (N_WINDOWS - 1)), WINDOW_BYTES);
}

uint64_t mcl_weights_fingerprint(const mcl_weights *w)
{
    hash64 h;
    hash_init(&h);
    size_t n = mcl_weight_slots(&w->arch->weights, w->cfg.n_layer);
    for (size_t i = 0; i < n; i++) hash_tensor(&h, &w->t[i]);
    return hash_final(&h);
}

mcl_dtype mcl_weights_main_dtype(const mcl_weights *w)
{
    uint64_t per[3] = {0, 0, 0};
    size_t n = mcl_weight_slots(&w->arch->weights, w->cfg.n_layer);
    for (size_t i = 0; i < n; i++)
        if (w->t[i].data && (unsigned)w->t[i].dtype < 3) per[w->t[i].dtype] += w->t[i].n;
    int best = 0;
    for (int d = 1; d < 3; d++)
        if (per[d] > per[best]) best = d;
    return (mcl_dtype)best;
}

uint64_t mcl_config_fingerprint(const mcl_config *c)
{
    hash64 h;
    hash_init(&h);
    const int64_t v[] = {c->arch,    c->d_model,    c->n_layer,        c->d_inner, c->d_state,
                         c->d_conv,  c->dt_rank, c->vocab_size, c->tie_embeddings, c->conv_bias};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) hash_u64(&h, (uint64_t)v[i]);
    uint32_t eps;
    memcpy(&eps, &c->norm_eps, sizeof eps);
    hash_u64(&h, eps);
    return hash_final(&h);
}

/* ---- the file ------------------------------------------------------------ */

typedef struct state_header {
    char magic[8];
    uint32_t version, header_bytes;
    uint64_t config_hash, weights_hash;
    uint32_t weight_dtype, state_dtype;
    uint32_t n_layer, d_inner, d_conv, d_state;
    uint64_t payload_bytes, payload_hash;
    uint32_t arch, pad;
    uint64_t reserved[2];
} state_header;

_Static_assert(sizeof(state_header) == HEADER_BYTES, "state header layout");

/* Elements of every state tensor of one layer of one slot. */
static size_t layer_elems(const mcl_model *m)
{
    size_t n = 0;
    for (int i = 0; i < m->arch->n_states; i++) n += m->pool.slot_elems[i];
    return n;
}

static void header_make(const mcl_model *m, state_header *h)
{
    const mcl_config *c = &m->cfg;
    memset(h, 0, sizeof *h);
    memcpy(h->magic, STATE_MAGIC, 8);
    h->version = STATE_VERSION;
    h->header_bytes = HEADER_BYTES;
    h->config_hash = mcl_config_fingerprint(c);
    h->weights_hash = m->fingerprint;
    h->weight_dtype = (uint32_t)m->fingerprint_dtype;
    h->state_dtype = (uint32_t)MCL_DTYPE_F32;
    h->n_layer = (uint32_t)c->n_layer;
    h->d_inner = (uint32_t)c->d_inner;
    h->d_conv = (uint32_t)c->d_conv;
    h->d_state = (uint32_t)c->d_state;
    h->arch = (uint32_t)c->arch;
    h->payload_bytes = (uint64_t)c->n_layer * layer_elems(m) * sizeof(float);
}

/* Copies every state tensor of every layer of s's slot to (to_host) or
 * from buf [n_layer * layer_elems], in the file's order. */
static mcl_status move_slots(const mcl_state *s, float *buf, bool to_host)
{
    mcl_model *m = s->model;
    float *p = buf;
    for (int l = 0; l < m->cfg.n_layer; l++)
        for (int i = 0; i < m->arch->n_states; i++) {
            mcl_kern_state v = mcl_state_view(m, i, l);
            size_t e = m->pool.slot_elems[i], off = ((size_t)v.off + (size_t)s->slot * e) * 4;
            cl_int err = to_host ? clEnqueueReadBuffer(m->rt->queue, v.buf, CL_TRUE, off, e * 4, p, 0, NULL, NULL)
                                 : clEnqueueWriteBuffer(m->rt->queue, v.buf, CL_TRUE, off, e * 4, p, 0, NULL, NULL);
            if (err != CL_SUCCESS)
                return mcl_error_cl(err, "%s(%s, layer %d)", to_host ? "clEnqueueReadBuffer" : "clEnqueueWriteBuffer",
                                    m->arch->states[i].name, l);
            p += e;
        }
    return MCL_OK;
}

static uint64_t payload_hash(const void *buf, size_t n)
{
    hash64 h;
    hash_init(&h);
    hash_bytes(&h, buf, n);
    return hash_final(&h);
}

mcl_status mcl_state_save(const mcl_state *s, const char *path)
{
    if (!s || !path) return mcl_error_set(MCL_ERR_INVALID_ARG, "mcl_state_save: NULL argument");
    state_header h;
    header_make(s->model, &h);
    float *buf = malloc(h.payload_bytes ? h.payload_bytes : 1);
    if (!buf) return mcl_error_set(MCL_ERR_NOMEM, "mcl_state_save: out of host memory (%llu bytes)",
                                   (unsigned long long)h.payload_bytes);
    mcl_status st = move_slots(s, buf, true);
    if (st == MCL_OK) {
        h.payload_hash = payload_hash(buf, h.payload_bytes);
        FILE *f = fopen(path, "wb");
        if (!f) st = mcl_error_set(MCL_ERR_IO, "%s: cannot create the state file: %s", path, strerror(errno));
        else {
            bool ok = fwrite(&h, sizeof h, 1, f) == 1 && fwrite(buf, 1, h.payload_bytes, f) == h.payload_bytes;
            ok = (fclose(f) == 0) && ok;
            if (!ok) {
                st = mcl_error_set(MCL_ERR_IO, "%s: cannot write the state file: %s", path, strerror(errno));
                remove(path);
            }
        }
    }
    free(buf);
    return st;
}

/* Compares a file's header with the model's; a message naming the difference. */
static mcl_status header_check(const char *path, const state_header *got, const state_header *want)
{
    if (memcmp(got->magic, STATE_MAGIC, 8) != 0)
        return mcl_error_set(MCL_ERR_FORMAT, "%s: not a mambacl state file (no MCLSTATE magic)", path);
    if (got->version != STATE_VERSION || got->header_bytes != HEADER_BYTES)
        return mcl_error_set(MCL_ERR_FORMAT, "%s: state file version %u, this mambacl reads version %u", path,
                             got->version, STATE_VERSION);
    if (got->config_hash != want->config_hash || got->arch != want->arch || got->n_layer != want->n_layer ||
        got->d_inner != want->d_inner ||
        got->d_conv != want->d_conv || got->d_state != want->d_state)
        return mcl_error_set(MCL_ERR_INVALID_ARG,
                             "%s: saved from another model (n_layer %u, d_inner %u, d_state %u; this model: "
                             "n_layer %u, d_inner %u, d_state %u, or another config)",
                             path, got->n_layer, got->d_inner, got->d_state, want->n_layer, want->d_inner,
                             want->d_state);
    if (got->state_dtype != want->state_dtype)
        return mcl_error_set(MCL_ERR_UNSUPPORTED, "%s: state stored as %s, this runtime keeps states in %s", path,
                             got->state_dtype <= 2 ? mcl_dtype_name((mcl_dtype)got->state_dtype) : "an unknown type",
                             mcl_dtype_name((mcl_dtype)want->state_dtype));
    if (got->weight_dtype != want->weight_dtype)
        return mcl_error_set(MCL_ERR_INVALID_ARG,
                             "%s: saved from this model's shape with %s weights; this model's weights are %s",
                             path,
                             got->weight_dtype <= 2 ? mcl_dtype_name((mcl_dtype)got->weight_dtype) : "unknown",
                             mcl_dtype_name((mcl_dtype)want->weight_dtype));
    if (got->weights_hash != want->weights_hash)
        return mcl_error_set(MCL_ERR_INVALID_ARG,
                             "%s: saved from another model (same shape, different weights: hash %016llx, this "
                             "model %016llx)",
                             path, (unsigned long long)got->weights_hash, (unsigned long long)want->weights_hash);
    if (got->payload_bytes != want->payload_bytes)
        return mcl_error_set(MCL_ERR_FORMAT, "%s: payload of %llu bytes, expected %llu", path,
                             (unsigned long long)got->payload_bytes, (unsigned long long)want->payload_bytes);
    return MCL_OK;
}

static mcl_status read_payload(FILE *f, const char *path, const state_header *h, float *buf)
{
    size_t got = fread(buf, 1, h->payload_bytes, f);
    if (got != h->payload_bytes)
        return mcl_error_set(MCL_ERR_FORMAT, "%s: truncated state file (%zu of %llu payload bytes)", path, got,
                             (unsigned long long)h->payload_bytes);
    if (fgetc(f) != EOF) return mcl_error_set(MCL_ERR_FORMAT, "%s: bytes after the end of the state", path);
    if (payload_hash(buf, h->payload_bytes) != h->payload_hash)
        return mcl_error_set(MCL_ERR_FORMAT, "%s: corrupt state file (payload hash mismatch)", path);
    return MCL_OK;
}

mcl_status mcl_state_load(mcl_state *s, const char *path)
{
    if (!s || !path) return mcl_error_set(MCL_ERR_INVALID_ARG, "mcl_state_load: NULL argument");
    state_header want, got;
    header_make(s->model, &want);
    FILE *f = fopen(path, "rb");
    if (!f) return mcl_error_set(MCL_ERR_IO, "%s: cannot open the state file: %s", path, strerror(errno));
    size_t n = fread(&got, 1, sizeof got, f);
    mcl_status st = MCL_OK;
    if (n >= 8 && memcmp(got.magic, STATE_MAGIC, 8) != 0)
        st = mcl_error_set(MCL_ERR_FORMAT, "%s: not a mambacl state file (no MCLSTATE magic)", path);
    else if (n != sizeof got)
        st = mcl_error_set(MCL_ERR_FORMAT, "%s: truncated state file (%zu of %u header bytes)", path, n,
                           HEADER_BYTES);
    if (st == MCL_OK) st = header_check(path, &got, &want);
    float *buf = st == MCL_OK ? malloc(want.payload_bytes ? want.payload_bytes : 1) : NULL;
    if (st == MCL_OK && !buf) st = mcl_error_set(MCL_ERR_NOMEM, "mcl_state_load: out of host memory");
    if (st == MCL_OK) st = read_payload(f, path, &got, buf);
    fclose(f);
    if (st == MCL_OK) st = move_slots(s, buf, false);
    free(buf);
    return st;
}

mcl_status mcl_state_file_check(const char *path, const mcl_config *cfg)
{
    state_header got;
    FILE *f = fopen(path, "rb");
    if (!f) return mcl_error_set(MCL_ERR_IO, "%s: cannot open the state file: %s", path, strerror(errno));
    size_t n = fread(&got, 1, sizeof got, f);
    fclose(f);
    if (n < 8 || memcmp(got.magic, STATE_MAGIC, 8) != 0)
        return mcl_error_set(MCL_ERR_FORMAT, "%s: not a mambacl state file (no MCLSTATE magic)", path);
    if (n != sizeof got)
        return mcl_error_set(MCL_ERR_FORMAT, "%s: truncated state file (%zu of %u header bytes)", path, n,
                             HEADER_BYTES);
    if (got.version != STATE_VERSION)
        return mcl_error_set(MCL_ERR_FORMAT, "%s: state file version %u, this mambacl reads version %u", path,
                             got.version, STATE_VERSION);
    if (got.config_hash != mcl_config_fingerprint(cfg))
        return mcl_error_set(MCL_ERR_INVALID_ARG,
                             "%s: saved from another model (n_layer %u, d_inner %u, d_state %u; this model: "
                             "n_layer %d, d_inner %d, d_state %d, or another config)",
                             path, got.n_layer, got.d_inner, got.d_state, cfg->n_layer, cfg->d_inner, cfg->d_state);
    return MCL_OK;
}
