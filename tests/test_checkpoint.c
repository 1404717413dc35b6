/* Checkpoint loading in-process: the default model, the tiny synthetic models
 * (F16, BF16, F32, sharded, state-spaces config, untied), config.json forms,
 * safetensors parsing from memory, and every broken directory through the
 * library (status class, one-line message, no leak under ASan). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/dtype.h"
#include "checkpoint/checkpoint.h"
#include "model/arch_mamba1.h"
#include "checkpoint/config.h"
#include "checkpoint/safetensors.h"

static char data_dir[1024], shared_model[1024];

static int setup(void **state)
{
    (void)state;
    const char *root = getenv("MAMBACL_SOURCE_ROOT");
    if (!root) return -1;
    snprintf(data_dir, sizeof data_dir, "%s/tests/data", root);
    snprintf(shared_model, sizeof shared_model, "%s/models/shakespeare-mamba", root);
    return 0;
}

static mcl_checkpoint *open_ok(const char *dir)
{
    mcl_checkpoint *ck = NULL;
    mcl_status st = mcl_checkpoint_open(dir, &ck);
    if (st != MCL_OK) fail_msg("%s: %s", dir, mcl_last_error());
    return ck;
}

static mcl_checkpoint *open_tiny(const char *name)
{
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/%s", data_dir, name);
    return open_ok(dir);
}

/* Element i of a tensor as float, whatever its dtype (data may be unaligned). */
static float value(const mcl_tensor *t, size_t i)
{
    const unsigned char *p = (const unsigned char *)t->data + i * mcl_dtype_size(t->dtype);
    if (t->dtype == MCL_DTYPE_F32) {
        float f;
        memcpy(&f, p, 4);
        return f;
    }
    uint16_t h = (uint16_t)(p[0] | p[1] << 8);
    if (t->dtype == MCL_DTYPE_BF16) {
        uint32_t u = (uint32_t)h << 16;
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    int e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0 ? ldexpf((float)m, -24) : ldexpf((float)(m | 1024), e - 25);
    return (h & 0x8000) ? -v : v;
}

static void assert_shape(const mcl_tensor *t, int ndim, int64_t a, int64_t b, int64_t c)
{
    assert_non_null(t);
    assert_int_equal(t->ndim, ndim);
    assert_int_equal(t->shape[0], a);
    if (ndim > 1) assert_int_equal(t->shape[1], b);
    if (ndim > 2) assert_int_equal(t->shape[2], c);
}

static void test_default_model(void **state)
{
    (void)state;
    mcl_checkpoint *ck = open_ok(shared_model);
    const mcl_config *c = mcl_checkpoint_config(ck);
    assert_int_equal(c->d_model, 256);
    assert_int_equal(c->n_layer, 6);
    assert_int_equal(c->d_inner, 512);
    assert_int_equal(c->d_state, 16);
    assert_int_equal(c->d_conv, 4);
    assert_int_equal(c->dt_rank, 16);
    assert_int_equal(c->vocab_size, 4096);
    assert_true(fabsf(c->norm_eps - 1e-5f) < 1e-9f);
    assert_true(c->tie_embeddings && c->conv_bias && !c->proj_bias);
    uint64_t params = mcl_checkpoint_param_count(ck);
    assert_int_equal(params, 3676928); /* "3.68 M" */
    assert_int_equal(mcl_checkpoint_dtype(ck), MCL_DTYPE_F16);
    assert_null(mcl_checkpoint_weight(ck, MCL_W_LM_HEAD, 0));
    assert_shape(mcl_checkpoint_weight(ck, MCL_W_EMBED, 0), 2, 4096, 256, 0);
    assert_shape(mcl_checkpoint_weight(ck, MCL_W_IN_PROJ, 5), 2, 1024, 256, 0);
    assert_shape(mcl_checkpoint_weight(ck, MCL_W_CONV_W, 3), 3, 512, 1, 4);
    assert_shape(mcl_checkpoint_weight(ck, MCL_W_X_PROJ, 0), 2, 48, 512, 0);
    assert_shape(mcl_checkpoint_weight(ck, MCL_W_DT_W, 0), 2, 512, 16, 0);
    assert_shape(mcl_checkpoint_weight(ck, MCL_W_A_LOG, 0), 2, 512, 16, 0);
    assert_shape(mcl_checkpoint_weight(ck, MCL_W_OUT_PROJ, 0), 2, 256, 512, 0);
    assert_shape(mcl_checkpoint_weight(ck, MCL_W_NORM_F, 0), 1, 256, 0, 0);
    /* matrices stay F16 (2 bytes), per-channel tensors become fp32 */
    uint64_t big = 4096 * 256 + 6 * (1024 * 256 + 48 * 512 + 512 * 16 + 256 * 512);
    uint64_t small = 256 + 6 * (256 + 512 * 4 + 512 + 512 + 512 * 16 + 512);
    uint64_t largest = 0;
    assert_int_equal(mcl_checkpoint_device_bytes(ck, &largest), big * 2 + small * 4);
    assert_int_equal(largest, 4096 * 256 * 2);
    assert_int_equal(big + small, params);
    /* the embedding's first bytes are those of the file's data section */
    const mcl_tensor *emb = mcl_checkpoint_weight(ck, MCL_W_EMBED, 0);
    char path[1200];
    snprintf(path, sizeof path, "%s/model.safetensors", shared_model);
    FILE *f = fopen(path, "rb");
    unsigned char hl[8], first[64];
    assert_non_null(f);
    assert_int_equal(fread(hl, 1, 8, f), 8);
    long hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen * 256 + hl[i];
    fseek(f, 8 + hlen, SEEK_SET); /* the embedding's data_offsets start at 0 */
    assert_int_equal(fread(first, 1, sizeof first, f), sizeof first);
    fclose(f);
    assert_memory_equal(emb->data, first, sizeof first);
    mcl_checkpoint_free(ck);
}

/* F16, BF16 and F32 copies hold the same numbers (to their precision). */
static void test_dtypes_agree(void **state)
{
    (void)state;
    mcl_checkpoint *h = open_tiny("tiny-model"), *b = open_tiny("tiny-model-bf16"), *f = open_tiny("tiny-model-f32");
    assert_int_equal(mcl_checkpoint_dtype(h), MCL_DTYPE_F16);
    assert_int_equal(mcl_checkpoint_dtype(b), MCL_DTYPE_BF16);
    assert_int_equal(mcl_checkpoint_dtype(f), MCL_DTYPE_F32);
    assert_int_equal(mcl_checkpoint_param_count(h), 3512);
    assert_int_equal(mcl_checkpoint_param_count(b), 3512);
    assert_int_equal(mcl_checkpoint_param_count(f), 3512);
    const mcl_config *c = mcl_checkpoint_config(h);
    assert_int_equal(c->dt_rank, 1); /* "auto" = ceil(8 / 16) */
    assert_int_equal(c->d_inner, 16);
    for (int l = 0; l < c->n_layer; l++)
        for (int id = 0; id < MCL_W_COUNT; id++) {
            const mcl_tensor *th = mcl_checkpoint_weight(h, id, l), *tb = mcl_checkpoint_weight(b, id, l),
                             *tf = mcl_checkpoint_weight(f, id, l);
            if (!th) {
                assert_true(id == MCL_W_LM_HEAD && !tb && !tf);
                continue;
            }
            size_t n = th->nbytes / 2;
            assert_int_equal(tf->nbytes, n * 4);
            assert_int_equal(tb->nbytes, n * 2);
            for (size_t i = 0; i < n; i++) {
                float x = value(tf, i);
                assert_true(fabsf(value(th, i) - x) <= 1e-3f * fabsf(x) + 1e-6f);
                assert_true(fabsf(value(tb, i) - x) <= 8e-3f * fabsf(x) + 1e-6f);
            }
        }
    /* F32 keeps its matrices at 4 bytes; F16/BF16 at 2; small ones fp32 in all */
    assert_true(mcl_checkpoint_device_bytes(f, NULL) > mcl_checkpoint_device_bytes(h, NULL));
    assert_int_equal(mcl_checkpoint_device_bytes(b, NULL), mcl_checkpoint_device_bytes(h, NULL));
    mcl_checkpoint_free(h);
    mcl_checkpoint_free(b);
    mcl_checkpoint_free(f);
}

/* The 2-shard copy binds every weight to the same bytes as the single file. */
static void test_sharded(void **state)
{
    (void)state;
    mcl_checkpoint *one = open_tiny("tiny-model"), *two = open_tiny("tiny-model-sharded");
    assert_int_equal(mcl_checkpoint_file_count(two), 2);
    assert_int_equal(mcl_checkpoint_param_count(two), mcl_checkpoint_param_count(one));
    for (int l = 0; l < 2; l++)
        for (int id = 0; id < MCL_W_COUNT; id++) {
            const mcl_tensor *a = mcl_checkpoint_weight(one, id, l), *b = mcl_checkpoint_weight(two, id, l);
            if (!a) continue;
            assert_non_null(b);
            assert_string_equal(a->name, b->name);
            assert_int_equal(a->nbytes, b->nbytes);
            assert_memory_equal(a->data, b->data, a->nbytes);
        }
    mcl_checkpoint_free(one);
    mcl_checkpoint_free(two);
}

/* Original mamba_ssm config: vocab 250 padded to 256, backbone.embedding.weight. */
static void test_state_spaces(void **state)
{
    (void)state;
    mcl_checkpoint *ck = open_tiny("tiny-model-state-spaces");
    const mcl_config *c = mcl_checkpoint_config(ck);
    assert_int_equal(mcl_checkpoint_source(ck)->form, MCL_CONFIG_FORM_STATE_SPACES);
    assert_int_equal(mcl_checkpoint_source(ck)->vocab_declared, 250);
    assert_int_equal(c->vocab_size, 256);
    assert_int_equal(c->d_state, 4);
    assert_true(c->tie_embeddings);
    assert_string_equal(mcl_checkpoint_weight(ck, MCL_W_EMBED, 0)->name, "backbone.embedding.weight");
    mcl_checkpoint_free(ck);
}

static void test_untied(void **state)
{
    (void)state;
    mcl_checkpoint *ck = open_tiny("tiny-model-untied");
    const mcl_config *c = mcl_checkpoint_config(ck);
    assert_false(c->tie_embeddings);
    assert_false(c->conv_bias);
    assert_shape(mcl_checkpoint_weight(ck, MCL_W_LM_HEAD, 0), 2, 256, 8, 0);
    assert_null(mcl_checkpoint_weight(ck, MCL_W_CONV_B, 0));
    assert_int_equal(mcl_checkpoint_param_count(ck), 3512 + 256 * 8 - 2 * 16);
    /* out-of-range lookups */
    assert_null(mcl_checkpoint_weight(ck, MCL_W_NORM, 2));
    assert_null(mcl_checkpoint_weight(ck, MCL_W_NORM, -1));
    assert_null(mcl_checkpoint_weight(ck, MCL_W_COUNT, 0));
    assert_non_null(mcl_checkpoint_weight(ck, MCL_W_EMBED, 99)); /* globals ignore the layer */
    mcl_checkpoint_free(ck);
}

static mcl_status parse(const char *json, mcl_config *c, mcl_config_source *s)
{
    return mcl_config_parse(json, strlen(json), "config.json", c, s);
}

static void test_config_forms(void **state)
{
    (void)state;
    mcl_config c;
    mcl_config_source s;
    /* HF defaults: time_step_rank auto, expand 2, state 16, conv 4, tied */
    assert_int_equal(parse("{\"model_type\":\"mamba\",\"hidden_size\":768,\"num_hidden_layers\":24,"
                           "\"vocab_size\":50280}", &c, &s), MCL_OK);
    assert_int_equal(c.dt_rank, 48);
    assert_int_equal(c.d_inner, 1536);
    assert_int_equal(c.d_state, 16);
    assert_int_equal(c.d_conv, 4);
    assert_true(c.tie_embeddings && c.conv_bias && c.residual_in_fp32);
    /* mamba-130m's original config: vocab 50277 padded by 8 to 50280 */
    assert_int_equal(parse("{\"d_model\": 768, \"n_layer\": 24, \"vocab_size\": 50277, \"ssm_cfg\": {},"
                           " \"rms_norm\": true, \"residual_in_fp32\": true, \"fused_add_norm\": true,"
                           " \"pad_vocab_size_multiple\": 8}", &c, &s), MCL_OK);
    assert_int_equal(s.form, MCL_CONFIG_FORM_STATE_SPACES);
    assert_int_equal(c.vocab_size, 50280);
    assert_int_equal(s.vocab_declared, 50277);
    assert_int_equal(c.dt_rank, 48);
    /* explicit ranks and ssm_cfg values; null means default */
    assert_int_equal(parse("{\"d_model\":64,\"n_layer\":2,\"vocab_size\":10,\"pad_vocab_size_multiple\":16,"
                           "\"ssm_cfg\":{\"d_state\":8,\"d_conv\":3,\"expand\":3,\"dt_rank\":5,\"conv_bias\":false,"
                           "\"layer\":\"Mamba1\"},\"tie_embeddings\":false}", &c, &s), MCL_OK);
    assert_int_equal(c.vocab_size, 16);
    assert_int_equal(c.d_inner, 192);
    assert_int_equal(c.dt_rank, 5);
    assert_int_equal(c.d_conv, 3);
    assert_false(c.conv_bias || c.tie_embeddings);
    assert_int_equal(parse("{\"hidden_size\":32,\"num_hidden_layers\":1,\"vocab_size\":7,\"intermediate_size\":48,"
                           "\"time_step_rank\":null,\"layer_norm_epsilon\":1e-6}", &c, &s), MCL_OK);
    assert_int_equal(c.d_inner, 48);
    assert_int_equal(c.dt_rank, 2);
    assert_true(fabsf(c.norm_eps - 1e-6f) < 1e-12f);
    /* refusals name the field */
    assert_int_equal(parse("{\"model_type\":\"mamba2\",\"hidden_size\":8}", &c, &s), MCL_ERR_UNSUPPORTED);
    assert_non_null(strstr(mcl_last_error(), "model_type"));
    assert_int_equal(parse("{\"hidden_size\":8,\"num_hidden_layers\":1,\"vocab_size\":4,\"use_bias\":true}", &c, &s),
                     MCL_ERR_UNSUPPORTED);
    assert_non_null(strstr(mcl_last_error(), "use_bias"));
    assert_int_equal(parse("{\"hidden_size\":8,\"num_hidden_layers\":true,\"vocab_size\":4}", &c, &s), MCL_ERR_FORMAT);
    assert_non_null(strstr(mcl_last_error(), "config.json: \"num_hidden_layers\" must be an integer"));
    assert_int_equal(mcl_config_parse("{\"hidden_size\":8}", 5, "c", &c, &s), MCL_ERR_FORMAT); /* cut */
    assert_int_equal(parse("{\"model_type\":\"falcon_mamba\",\"hidden_size\":8}", &c, &s), MCL_ERR_UNSUPPORTED);
    assert_non_null(strstr(mcl_last_error(), "Falcon-Mamba"));
    /* duplicate keys: the last one counts, as in Python's json (Hugging Face) */
    assert_int_equal(parse("{\"hidden_size\":8,\"num_hidden_layers\":1,\"vocab_size\":4,\"state_size\":8,"
                           "\"state_size\":32,\"num_hidden_layers\":3}", &c, &s), MCL_OK);
    assert_int_equal(c.d_state, 32);
    assert_int_equal(c.n_layer, 3);
    assert_int_equal(parse("{\"d_model\":8,\"n_layer\":1,\"vocab_size\":4,\"ssm_cfg\":{\"d_conv\":2,\"d_conv\":5}}",
                           &c, &s), MCL_OK);
    assert_int_equal(c.d_conv, 5);
    /* conv_kernel 1 (an empty conv state) is refused by config.json and field name */
    assert_int_equal(parse("{\"hidden_size\":8,\"num_hidden_layers\":1,\"vocab_size\":4,\"conv_kernel\":1}", &c, &s),
                     MCL_ERR_FORMAT);
    assert_non_null(strstr(mcl_last_error(), "config.json: \"conv_kernel\" = 1 is out of range [2,"));
    assert_int_equal(parse("{\"d_model\":8,\"n_layer\":1,\"vocab_size\":4,\"ssm_cfg\":{\"d_conv\":1}}", &c, &s),
                     MCL_ERR_FORMAT);
    assert_non_null(strstr(mcl_last_error(), "\"ssm_cfg.d_conv\" = 1"));
    /* a NUL (escaped or raw) would cut a value: "mamba\u0000x" is not "mamba" */
    assert_int_equal(parse("{\"model_type\":\"mamba\\u0000x\",\"hidden_size\":8,\"num_hidden_layers\":1,"
                           "\"vocab_size\":4}", &c, &s), MCL_ERR_FORMAT);
    assert_non_null(strstr(mcl_last_error(), "config.json: holds a NUL"));
    assert_int_equal(parse("{\"model_type\":\"a\\\\u0000\",\"hidden_size\":8}", &c, &s), MCL_ERR_UNSUPPORTED);
}

/* The architecture seam: config parsing names the architecture, unknown ones
 * are refused, and the Mamba-1 table's shape expressions and state sizes are
 * what the model implies. */
static void test_arch_table(void **state)
{
    (void)state;
    mcl_config c = {0};
    mcl_config_source s;
    c.arch = (mcl_arch_id)5;
    assert_int_equal(parse("{\"hidden_size\":64,\"num_hidden_layers\":3,\"vocab_size\":100}", &c, &s), MCL_OK);
    assert_int_equal(c.arch, MCL_ARCH_MAMBA1);
    const mcl_arch *a = NULL;
    assert_int_equal(mcl_arch_get(&c, &a), MCL_OK);
    assert_ptr_equal(a, &mcl_arch_mamba1);
    assert_int_equal(mcl_config_check(&c), MCL_OK);
    /* every row evaluates; globals first; shapes as config.json implies */
    int64_t shape[MCL_SHAPE_MAX_DIMS];
    for (int i = 0; i < a->weights.n; i++) {
        assert_true(mcl_shape_eval(a->weights.w[i].shape, &c, shape) > 0);
        assert_int_equal(a->weights.w[i].scope == MCL_WSCOPE_GLOBAL, i < a->weights.n_global);
    }
    assert_int_equal(mcl_shape_eval(a->weights.w[MCL_W_X_PROJ].shape, &c, shape), 2);
    assert_int_equal(shape[0], c.dt_rank + 2 * c.d_state);
    assert_int_equal(shape[1], c.d_inner);
    assert_int_equal(mcl_shape_eval(a->weights.w[MCL_W_CONV_W].shape, &c, shape), 3);
    assert_int_equal(shape[0] * shape[1] * shape[2], c.d_inner * c.d_conv);
    assert_int_equal(mcl_shape_eval("2*d_inner - 3 + d_conv*d_state, 1", &c, shape), 2);
    assert_int_equal(shape[0], 2 * c.d_inner - 3 + c.d_conv * c.d_state);
    /* malformed expressions and non-positive dimensions */
    assert_int_equal(mcl_shape_eval("d_inner,", &c, shape), -1);
    assert_int_equal(mcl_shape_eval("d_iner", &c, shape), -1);
    assert_int_equal(mcl_shape_eval("d_conv - 4", &c, shape), -1);
    assert_int_equal(mcl_shape_eval("1, 1, 1, 1, 1", &c, shape), -1);
    /* state per sequence: conv taps and SSM state of every layer, fp32 */
    assert_int_equal(mcl_arch_state_bytes(&c),
                     4ull * (uint64_t)c.n_layer * (uint64_t)c.d_inner * (uint64_t)(c.d_conv - 1 + c.d_state));
    c.arch = (mcl_arch_id)5;
    assert_int_equal(mcl_config_check(&c), MCL_ERR_UNSUPPORTED);
    assert_non_null(strstr(mcl_last_error(), "architecture 5"));
    assert_int_equal(mcl_arch_state_bytes(&c), 0);
}

/* A one-tensor file image in memory. */
static size_t image(unsigned char *buf, const char *header, size_t data_bytes)
{
    size_t h = strlen(header);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(buf + 8, header, h);
    memset(buf + 8 + h, 0x3c, data_bytes);
    return 8 + h + data_bytes;
}

static void test_safetensors_memory(void **state)
{
    (void)state;
    unsigned char buf[512];
    mcl_st_file *f = NULL;
    size_t n = image(buf, "{\"b\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[4,16]},"
                          "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                          "\"e\":{\"dtype\":\"BF16\",\"shape\":[0,5],\"data_offsets\":[16,16]},"
                          "\"__metadata__\":{\"format\":\"pt\"}}   ", 16);
    assert_int_equal(mcl_st_parse(buf, n, "mem", &f), MCL_OK);
    assert_int_equal(f->n_tensors, 3);
    assert_string_equal(f->tensors[0].name, "a"); /* sorted */
    const mcl_tensor *b = mcl_st_find(f, "b");
    assert_non_null(b);
    assert_int_equal(b->dtype, MCL_DTYPE_F16);
    assert_int_equal(b->nbytes, 12);
    assert_ptr_equal(b->data, buf + n - 12);
    assert_int_equal(mcl_st_find(f, "a")->ndim, 0);
    assert_int_equal(mcl_st_find(f, "e")->nbytes, 0);
    assert_null(mcl_st_find(f, "c"));
    mcl_st_free(f);
    /* two empty tensors at the same offset do not overlap */
    n = image(buf, "{\"x\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                   "\"y\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0);
    assert_int_equal(mcl_st_parse(buf, n, "mem", &f), MCL_OK);
    mcl_st_free(f);
    n = image(buf, "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                   "\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
    assert_int_equal(mcl_st_parse(buf, n, "mem", &f), MCL_ERR_FORMAT);
    assert_non_null(strstr(mcl_last_error(), "mem: tensors 'x' and 'y' have overlapping data ranges"));
    /* a control character in a name is not copied into the message */
    n = image(buf, "{\"a\\nb\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1);
    assert_int_equal(mcl_st_parse(buf, n, "mem", &f), MCL_ERR_UNSUPPORTED);
    assert_null(strchr(mcl_last_error(), '\n'));
    assert_null(f);
    /* a name with \u0000 (or a raw NUL) is refused, not cut at the NUL and matched as "a" */
    n = image(buf, "{\"a\\u0000b\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1);
    assert_int_equal(mcl_st_parse(buf, n, "mem", &f), MCL_ERR_FORMAT);
    assert_non_null(strstr(mcl_last_error(), "mem: header holds a NUL character"));
    assert_null(f);
    n = image(buf, "{\"aXb\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1);
    buf[8 + 3] = 0;
    assert_int_equal(mcl_st_parse(buf, n, "mem", &f), MCL_ERR_FORMAT);
    /* an escaped backslash before u0000 is text: accepted, the name kept whole */
    n = image(buf, "{\"a\\\\u0000\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
    assert_int_equal(mcl_st_parse(buf, n, "mem", &f), MCL_OK);
    assert_non_null(mcl_st_find(f, "a\\u0000"));
    assert_null(mcl_st_find(f, "a"));
    mcl_st_free(f);
}

/* Every broken directory fails through the library too, with a status of
 * the right class and a one-line message naming the case directory. */
static void test_bad_dirs(void **state)
{
    (void)state;
    char tsv[1200], line[2048];
    snprintf(tsv, sizeof tsv, "%s/bad/cases.tsv", data_dir);
    FILE *f = fopen(tsv, "r");
    assert_non_null(f);
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *name = strtok(line, "\t"), *file = strtok(NULL, "\t"), *text = strtok(NULL, "\t");
        assert_non_null(text);
        (void)file;
        char dir[1400];
        snprintf(dir, sizeof dir, "%s/bad/%s", data_dir, name);
        mcl_checkpoint *ck = (mcl_checkpoint *)&n; /* must be reset to NULL */
        mcl_status st = mcl_checkpoint_open(dir, &ck);
        if (st == MCL_OK || ck != NULL || !strstr(mcl_last_error(), text) || strchr(mcl_last_error(), '\n'))
            fail_msg("%s: status %s, message '%s'", name, mcl_status_name(st), mcl_last_error());
        if (strstr(name, "mamba2") || strstr(name, "dtype-i8") || strstr(name, "use-bias"))
            assert_int_equal(st, MCL_ERR_UNSUPPORTED);
        if (strcmp(name, "cfg-missing") == 0) assert_int_equal(st, MCL_ERR_IO);
        if (strncmp(name, "ck-", 3) == 0 && strcmp(name, "ck-no-weight-files") != 0) assert_int_equal(st, MCL_ERR_FORMAT);
        n++;
    }
    fclose(f);
    assert_true(n >= 25);
    mcl_checkpoint *ck = NULL;
    assert_int_equal(mcl_checkpoint_open(NULL, &ck), MCL_ERR_INVALID_ARG);
    mcl_checkpoint_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_model),
        cmocka_unit_test(test_dtypes_agree),
        cmocka_unit_test(test_sharded),
        cmocka_unit_test(test_state_spaces),
        cmocka_unit_test(test_untied),
        cmocka_unit_test(test_config_forms),
        cmocka_unit_test(test_arch_table),
        cmocka_unit_test(test_safetensors_memory),
        cmocka_unit_test(test_bad_dirs),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
