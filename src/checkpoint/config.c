/* config.json → mcl_config. Two forms are read:
 *  - Hugging Face MambaConfig (model_type "mamba"): hidden_size, num_hidden_layers,
 *    vocab_size, state_size, conv_kernel, expand, intermediate_size, time_step_rank,
 *    use_bias, use_conv_bias, layer_norm_epsilon, tie_word_embeddings, residual_in_fp32;
 *  - the original state-spaces form: d_model, n_layer, vocab_size, ssm_cfg {d_state,
 *    d_conv, expand, dt_rank, conv_bias, bias, layer}, rms_norm, residual_in_fp32,
 *    fused_add_norm, pad_vocab_size_multiple, tie_embeddings.
 * Missing optional fields take the defaults of those classes; every present field
 * must have the right JSON type and a sane value, or the field is named. */
#include "checkpoint/config.h"

#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/error.h"
#include "base/file.h"

/* Where fields are read from: an object, the file for messages, and a prefix
 * for nested objects ("ssm_cfg."). */
typedef struct reader {
    const cJSON *obj;
    const char *path;
    const char *prefix;
} reader;

static const char *json_type_name(const cJSON *v)
{
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "null";
}

/* A string value quoted in a message: at most 40 bytes, control characters
 * (cJSON lets raw ones through inside strings) replaced so that the message
 * stays one line. */
static const char *shown(const char *s, char buf[48])
{
    size_t n = strnlen(s, 40);
    for (size_t i = 0; i < n; i++) buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    buf[n] = '\0';
    return buf;
}

/* The field, or NULL when absent or null. Of duplicate keys the LAST one
 * counts, as in Python's json module (Hugging Face reads config.json with
 * it); cJSON's own lookup would give the first. */
static const cJSON *field(const reader *r, const char *key)
{
    const cJSON *v = NULL;
    for (const cJSON *e = r->obj->child; e; e = e->next)
        if (e->string && strcmp(e->string, key) == 0) v = e;
    return cJSON_IsNull(v) ? NULL : v;
}

static mcl_status missing(const reader *r, const char *key)
{
    return mcl_error_set(MCL_ERR_FORMAT, "%s: \"%s%s\" is missing", r->path, r->prefix, key);
}

/* An integer field in [lo, hi]; `def` when absent unless required. */
static mcl_status get_int(const reader *r, const char *key, bool required, int def, int lo, int hi, int *out)
{
    const cJSON *v = field(r, key);
    if (!v) {
        if (required) return missing(r, key);
        *out = def;
        return MCL_OK;
    }
    if (!cJSON_IsNumber(v))
        return mcl_error_set(MCL_ERR_FORMAT, "%s: \"%s%s\" must be an integer, got %s", r->path, r->prefix,
                             key, json_type_name(v));
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d))
        return mcl_error_set(MCL_ERR_FORMAT, "%s: \"%s%s\" must be an integer, got %g", r->path, r->prefix,
                             key, d);
    if (d < lo || d > hi)
        return mcl_error_set(MCL_ERR_FORMAT, "%s: \"%s%s\" = %.0f is out of range [%d, %d]", r->path,
                             r->prefix, key, d, lo, hi);
    *out = (int)d;
    return MCL_OK;
}

static mcl_status get_bool(const reader *r, const char *key, bool def, bool *out)
{
    const cJSON *v = field(r, key);
    if (!v) {
        *out = def;
        return MCL_OK;
    }
    if (!cJSON_IsBool(v))
        return mcl_error_set(MCL_ERR_FORMAT, "%s: \"%s%s\" must be true or false, got %s", r->path, r->prefix,
                             key, json_type_name(v));
    *out = cJSON_IsTrue(v);
    return MCL_OK;
}

/* A string field, NULL when absent. */
static mcl_status get_string(const reader *r, const char *key, const char **out)
{
    const cJSON *v = field(r, key);
    *out = NULL;
    if (!v) return MCL_OK;
    if (!cJSON_IsString(v))
        return mcl_error_set(MCL_ERR_FORMAT, "%s: \"%s%s\" must be a string, got %s", r->path, r->prefix, key,
                             json_type_name(v));
    *out = v->valuestring;
    return MCL_OK;
}

/* dt rank: an integer or "auto" = ceil(d_model / 16). */
static mcl_status get_dt_rank(const reader *r, const char *key, int d_model, int *out)
{
    const cJSON *v = field(r, key);
    if (!v || (cJSON_IsString(v) && strcmp(v->valuestring, "auto") == 0)) {
        *out = (d_model + 15) / 16;
        return MCL_OK;
    }
    if (cJSON_IsString(v))
        return mcl_error_set(MCL_ERR_FORMAT, "%s: \"%s%s\" must be an integer or \"auto\"", r->path, r->prefix,
                             key);
    return get_int(r, key, true, 0, 1, MCL_CFG_MAX_D_MODEL, out);
}

static mcl_status check_epsilon(const reader *r, const char *key, double def, float *out)
{
    const cJSON *v = field(r, key);
    double d = def;
    if (v && !cJSON_IsNumber(v))
        return mcl_error_set(MCL_ERR_FORMAT, "%s: \"%s\" must be a number, got %s", r->path, key,
                             json_type_name(v));
    if (v) d = v->valuedouble;
    if (!isfinite(d) || d <= 0 || d >= 1)
        return mcl_error_set(MCL_ERR_FORMAT, "%s: \"%s\" = %g must be positive and below 1", r->path, key, d);
    if ((float)d <= 0) /* found by fuzz_config: 1e-85 is 0 as a float */
        return mcl_error_set(MCL_ERR_FORMAT, "%s: \"%s\" = %g is 0 in single precision", r->path, key, d);
    *out = (float)d;
    return MCL_OK;
}

/* d_inner = expand * d_model within its cap. */
static mcl_status inner_size(const reader *r, int expand, int d_model, int *out)
{
    long long v = (long long)expand * d_model;
    if (v > MCL_CFG_MAX_D_INNER)
        return mcl_error_set(MCL_ERR_FORMAT, "%s: expand x d_model = %lld is above the %d limit", r->path, v,
                             MCL_CFG_MAX_D_INNER);
    *out = (int)v;
    return MCL_OK;
}

static mcl_status refuse_bias(const reader *r, const char *key)
{
    return mcl_error_set(MCL_ERR_UNSUPPORTED,
                         "%s: \"%s%s\" is true: biases on in_proj/out_proj are not supported", r->path,
                         r->prefix, key);
}

/* The Hugging Face form. */
static mcl_status parse_hf(const reader *r, mcl_config *c, mcl_config_source *s)
{
    int expand = 2;
    const char *act = NULL;
    MCL_TRY(get_int(r, "hidden_size", true, 0, 1, MCL_CFG_MAX_D_MODEL, &c->d_model));
    MCL_TRY(get_int(r, "num_hidden_layers", true, 0, 1, MCL_CFG_MAX_N_LAYER, &c->n_layer));
    MCL_TRY(get_int(r, "vocab_size", true, 0, 1, MCL_CFG_MAX_VOCAB, &s->vocab_declared));
    MCL_TRY(get_int(r, "state_size", false, 16, 1, MCL_CFG_MAX_D_STATE, &c->d_state));
    MCL_TRY(get_int(r, "conv_kernel", false, 4, MCL_CFG_MIN_D_CONV, MCL_CFG_MAX_D_CONV, &c->d_conv));
    MCL_TRY(get_int(r, "expand", false, 2, 1, 64, &expand));
    MCL_TRY(inner_size(r, expand, c->d_model, &c->d_inner));
    MCL_TRY(get_int(r, "intermediate_size", false, c->d_inner, 1, MCL_CFG_MAX_D_INNER, &c->d_inner));
    MCL_TRY(get_dt_rank(r, "time_step_rank", c->d_model, &c->dt_rank));
    MCL_TRY(get_bool(r, "use_bias", false, &c->proj_bias));
    MCL_TRY(get_bool(r, "use_conv_bias", true, &c->conv_bias));
    MCL_TRY(check_epsilon(r, "layer_norm_epsilon", 1e-5, &c->norm_eps));
    MCL_TRY(get_bool(r, "tie_word_embeddings", true, &c->tie_embeddings));
    MCL_TRY(get_bool(r, "residual_in_fp32", true, &c->residual_in_fp32));
    MCL_TRY(get_string(r, "hidden_act", &act));
    char buf[48];
    if (act && strcmp(act, "silu") != 0)
        return mcl_error_set(MCL_ERR_UNSUPPORTED, "%s: \"hidden_act\" '%s' is not supported (silu only)",
                             r->path, shown(act, buf));
    if (c->proj_bias) return refuse_bias(r, "use_bias");
    s->form = MCL_CONFIG_FORM_HF;
    s->pad_multiple = 1;
    s->vocab_expected = s->vocab_declared;
    return MCL_OK;
}

/* ssm_cfg of the state-spaces form. */
static mcl_status parse_ssm_cfg(const reader *top, mcl_config *c)
{
    const cJSON *v = field(top, "ssm_cfg");
    if (v && !cJSON_IsObject(v))
        return mcl_error_set(MCL_ERR_FORMAT, "%s: \"ssm_cfg\" must be an object, got %s", top->path,
                             json_type_name(v));
    cJSON empty = {.type = cJSON_Object};
    reader r = {v ? v : &empty, top->path, "ssm_cfg."};
    const char *layer = NULL;
    int expand = 2;
    MCL_TRY(get_string(&r, "layer", &layer));
    char buf[48];
    if (layer && strcmp(layer, "Mamba1") != 0)
        return mcl_error_set(MCL_ERR_UNSUPPORTED, "%s: \"ssm_cfg.layer\" '%s' is not supported (Mamba1 only)",
                             r.path, shown(layer, buf));
    MCL_TRY(get_int(&r, "d_state", false, 16, 1, MCL_CFG_MAX_D_STATE, &c->d_state));
    MCL_TRY(get_int(&r, "d_conv", false, 4, MCL_CFG_MIN_D_CONV, MCL_CFG_MAX_D_CONV, &c->d_conv));
    MCL_TRY(get_int(&r, "expand", false, 2, 1, 64, &expand));
    MCL_TRY(inner_size(&r, expand, c->d_model, &c->d_inner));
    MCL_TRY(get_dt_rank(&r, "dt_rank", c->d_model, &c->dt_rank));
    MCL_TRY(get_bool(&r, "conv_bias", true, &c->conv_bias));
    MCL_TRY(get_bool(&r, "bias", false, &c->proj_bias));
    if (c->proj_bias) return refuse_bias(&r, "bias");
    return MCL_OK;
}

/* Fields of the state-spaces form that select blocks mambacl does not run. */
static mcl_status check_block_kind(const reader *r)
{
    bool rms = true, fused = true;
    int d_mlp = 0;
    MCL_TRY(get_bool(r, "rms_norm", true, &rms));
    if (!rms)
        return mcl_error_set(MCL_ERR_UNSUPPORTED, "%s: \"rms_norm\" is false: LayerNorm models are not supported",
                             r->path);
    MCL_TRY(get_bool(r, "fused_add_norm", true, &fused));
    MCL_TRY(get_int(r, "d_intermediate", false, 0, 0, MCL_CFG_MAX_D_INNER, &d_mlp));
    if (d_mlp != 0)
        return mcl_error_set(MCL_ERR_UNSUPPORTED, "%s: \"d_intermediate\" = %d: MLP blocks are not supported",
                             r->path, d_mlp);
    const cJSON *attn = field(r, "attn_layer_idx");
    if (attn && (!cJSON_IsArray(attn) || cJSON_GetArraySize(attn) != 0))
        return mcl_error_set(MCL_ERR_UNSUPPORTED, "%s: \"attn_layer_idx\" is not empty: attention layers are "
                             "not supported", r->path);
    return MCL_OK;
}

/* The original state-spaces (mamba_ssm) form. */
static mcl_status parse_state_spaces(const reader *r, mcl_config *c, mcl_config_source *s)
{
    MCL_TRY(get_int(r, "d_model", true, 0, 1, MCL_CFG_MAX_D_MODEL, &c->d_model));
    MCL_TRY(get_int(r, "n_layer", true, 0, 1, MCL_CFG_MAX_N_LAYER, &c->n_layer));
    MCL_TRY(get_int(r, "vocab_size", true, 0, 1, MCL_CFG_MAX_VOCAB, &s->vocab_declared));
    MCL_TRY(get_int(r, "pad_vocab_size_multiple", false, 8, 1, 65536, &s->pad_multiple));
    MCL_TRY(check_block_kind(r));
    MCL_TRY(parse_ssm_cfg(r, c));
    MCL_TRY(get_bool(r, "residual_in_fp32", true, &c->residual_in_fp32));
    MCL_TRY(get_bool(r, "tie_embeddings", true, &c->tie_embeddings));
    c->norm_eps = 1e-5f; /* mamba_ssm's RMSNorm default; not in its config */
    long long padded = ((long long)s->vocab_declared + s->pad_multiple - 1) / s->pad_multiple * s->pad_multiple;
    if (padded > MCL_CFG_MAX_VOCAB)
        return mcl_error_set(MCL_ERR_FORMAT, "%s: padded \"vocab_size\" %lld is above the %d limit", r->path,
                             padded, MCL_CFG_MAX_VOCAB);
    s->form = MCL_CONFIG_FORM_STATE_SPACES;
    s->vocab_expected = (int)padded;
    return MCL_OK;
}

/* model_type -> the architecture: absent or "mamba" is Mamba-1; the other
 * Mamba family members are named in the refusal. A new architecture is a row
 * here plus its file src/model/arch_*.c (docs/architecture.md). */
static mcl_status check_model_type(const reader *r, mcl_config *c)
{
    static const struct { const char *model_type, *what; } refused[] = {
        {"mamba2", "Mamba-2"},
        {"falcon_mamba", "Falcon-Mamba"},
    };
    const char *mt = NULL;
    MCL_TRY(get_string(r, "model_type", &mt));
    c->arch = MCL_ARCH_MAMBA1;
    if (!mt || strcmp(mt, "mamba") == 0) return MCL_OK;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (strcmp(mt, refused[i].model_type) == 0)
            return mcl_error_set(MCL_ERR_UNSUPPORTED,
                                 "%s: \"model_type\" '%s' is not supported (%s; mambacl runs Mamba-1)",
                                 r->path, mt, refused[i].what);
    char buf[48];
    return mcl_error_set(MCL_ERR_UNSUPPORTED, "%s: \"model_type\" '%s' is not supported (only 'mamba')", r->path,
                         shown(mt, buf));
}

static mcl_status parse_root(const cJSON *root, const char *path, mcl_config *c, mcl_config_source *s)
{
    reader r = {root, path, ""};
    MCL_TRY(check_model_type(&r, c));
    if (field(&r, "hidden_size")) return parse_hf(&r, c, s);
    if (field(&r, "d_model")) return parse_state_spaces(&r, c, s);
    return mcl_error_set(MCL_ERR_FORMAT, "%s: neither \"hidden_size\" nor \"d_model\" is present", path);
}

mcl_status mcl_config_parse(const char *text, size_t len, const char *path, mcl_config *cfg,
                            mcl_config_source *src)
{
    mcl_config c = {0};
    mcl_config_source s = {0};
    const char *end = NULL;
    cJSON *root = len ? cJSON_ParseWithLengthOpts(text, len, &end, 0) : NULL;
    if (!root) return mcl_error_set(MCL_ERR_FORMAT, "%s: not valid JSON%s", path, len ? "" : " (empty file)");
    while (end && end < text + len && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t')) end++;
    mcl_status st;
    if (end != text + len) st = mcl_error_set(MCL_ERR_FORMAT, "%s: bytes after the JSON value", path);
    else if (!cJSON_IsObject(root)) st = mcl_error_set(MCL_ERR_FORMAT, "%s: not a JSON object", path);
    else if (mcl_json_has_nul(text, len))
        st = mcl_error_set(MCL_ERR_FORMAT, "%s: holds a NUL character (\\u0000 or a 0 byte) in a string", path);
    else st = parse_root(root, path, &c, &s);
    cJSON_Delete(root);
    if (st != MCL_OK) return st;
    c.vocab_size = s.vocab_expected;
    *cfg = c;
    if (src) *src = s;
    return MCL_OK;
}
