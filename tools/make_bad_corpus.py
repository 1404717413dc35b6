#!/usr/bin/env python3
"""Writes the checkpoint test data under tests/data/ (pure Python, deterministic).

Valid tiny models (d_model 8, 2 layers, d_state 4, d_conv 4, expand 2, dt_rank 1,
vocab 256) with random but well-scaled weights:
  tiny-model/               HF config, F16, tied, plus a byte-level BPE tokenizer.json
  tiny-model-bf16/          the same weights in BF16
  tiny-model-f32/           the same weights in F32
  tiny-model-sharded/       F16 split over 2 shards + model.safetensors.index.json
  tiny-model-state-spaces/  original mamba_ssm config (vocab 250 padded to 256),
                            backbone.embedding.weight
  tiny-model-untied/        tie_word_embeddings false (lm_head.weight), no conv bias

Broken model directories under bad/<case>/, one problem each, and bad/cases.tsv:
  case <TAB> file the message must name (relative to the case dir) <TAB> text it must contain
Every case must make `mambacl info -m bad/<case>` exit 1 with one line on stderr.

Usage: tools/make_bad_corpus.py [OUT_DIR]   (default: tests/data next to this script)
"""
import json
import math
import os
import random
import shutil
import struct
import sys

D_MODEL, N_LAYER, D_STATE, D_CONV, EXPAND, VOCAB = 8, 2, 4, 4, 2, 256
D_INNER = EXPAND * D_MODEL
DT_RANK = math.ceil(D_MODEL / 16)


# --------------------------------------------------------------------------- weights
def tiny_weights(vocab=VOCAB, tied=True, conv_bias=True, embed_name="backbone.embeddings.weight"):
    """[(name, shape, [float])] in the order HF writes them."""
    rng = random.Random(20240611)

    def uni(n, scale):
        return [rng.uniform(-scale, scale) for _ in range(n)]

    out = [(embed_name, [vocab, D_MODEL], uni(vocab * D_MODEL, 1.0))]
    for l in range(N_LAYER):
        p = f"backbone.layers.{l}."
        dt = [math.exp(rng.uniform(math.log(1e-3), math.log(1e-1))) for _ in range(D_INNER)]
        out += [
            (p + "mixer.A_log", [D_INNER, D_STATE], [math.log(n + 1) for _ in range(D_INNER) for n in range(D_STATE)]),
            (p + "mixer.D", [D_INNER], [1.0] * D_INNER),
        ]
        if conv_bias:
            out.append((p + "mixer.conv1d.bias", [D_INNER], uni(D_INNER, 0.5)))
        out += [
            (p + "mixer.conv1d.weight", [D_INNER, 1, D_CONV], uni(D_INNER * D_CONV, 0.5)),
            (p + "mixer.dt_proj.bias", [D_INNER], [d + math.log(-math.expm1(-d)) for d in dt]),
            (p + "mixer.dt_proj.weight", [D_INNER, DT_RANK], uni(D_INNER * DT_RANK, DT_RANK ** -0.5)),
            (p + "mixer.in_proj.weight", [2 * D_INNER, D_MODEL], uni(2 * D_INNER * D_MODEL, D_MODEL ** -0.5)),
            (p + "mixer.out_proj.weight", [D_MODEL, D_INNER], uni(D_MODEL * D_INNER, D_INNER ** -0.5)),
            (p + "mixer.x_proj.weight", [DT_RANK + 2 * D_STATE, D_INNER],
             uni((DT_RANK + 2 * D_STATE) * D_INNER, D_INNER ** -0.5)),
            (p + "norm.weight", [D_MODEL], [1.0 + x for x in uni(D_MODEL, 0.1)]),
        ]
    out.append(("backbone.norm_f.weight", [D_MODEL], [1.0 + x for x in uni(D_MODEL, 0.1)]))
    if not tied:
        out.append(("lm_head.weight", [vocab, D_MODEL], uni(vocab * D_MODEL, D_MODEL ** -0.5)))
    return out


def encode(values, dtype):
    if dtype == "F32":
        return struct.pack(f"<{len(values)}f", *values)
    if dtype == "F16":
        return struct.pack(f"<{len(values)}e", *values)
    if dtype == "BF16":  # round to nearest even from the f32 bits
        out = bytearray()
        for v in values:
            u = struct.unpack("<I", struct.pack("<f", v))[0]
            u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
            out += struct.pack("<H", u)
        return bytes(out)
    raise ValueError(dtype)


def tensors_of(weights, dtype):
    """[(name, dtype, shape, bytes)]"""
    return [(n, dtype, s, encode(v, dtype)) for n, s, v in weights]


def safetensors_bytes(tensors, edit_header=None, metadata=True):
    """File image; edit_header(header dict) may break the header before writing."""
    header, data, off = {}, bytearray(), 0
    if metadata:
        header["__metadata__"] = {"format": "pt"}
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
        data += raw
        off += len(raw)
    if edit_header:
        header = edit_header(header) or header
    text = json.dumps(header, separators=(",", ":")) if not isinstance(header, (str, bytes)) else header
    hb = text.encode() if isinstance(text, str) else text
    hb += b" " * (-len(hb) % 8)
    return struct.pack("<Q", len(hb)) + hb + bytes(data)


# --------------------------------------------------------------------------- configs
def hf_config(**over):
    c = {
        "architectures": ["MambaForCausalLM"], "bos_token_id": 0, "conv_kernel": D_CONV, "eos_token_id": 0,
        "expand": EXPAND, "hidden_act": "silu", "hidden_size": D_MODEL, "intermediate_size": D_INNER,
        "layer_norm_epsilon": 1e-05, "model_type": "mamba", "num_hidden_layers": N_LAYER, "pad_token_id": 0,
        "residual_in_fp32": True, "state_size": D_STATE, "tie_word_embeddings": True, "time_step_rank": "auto",
        "use_bias": False, "use_conv_bias": True, "vocab_size": VOCAB,
    }
    c.update(over)
    return c


def ss_config(**over):
    c = {"d_model": D_MODEL, "n_layer": N_LAYER, "vocab_size": 250, "ssm_cfg": {"d_state": D_STATE},
         "rms_norm": True, "residual_in_fp32": True, "fused_add_norm": True, "pad_vocab_size_multiple": 8,
         "tie_embeddings": True}
    c.update(over)
    return c


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def tokenizer_json():
    b2u = bytes_to_unicode()
    level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
        "pre_tokenizer": level, "post_processor": None, "decoder": level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": {b2u[b]: b for b in range(256)}, "merges": []},
    }


# --------------------------------------------------------------------------- writing
def write(path, content):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(content, (bytes, bytearray)) else "w"
    with open(path, mode) as f:
        f.write(content)


def write_json(path, obj):
    write(path, json.dumps(obj, indent=2) + "\n")


def write_model(d, config, image):
    if config is not None:
        write_json(os.path.join(d, "config.json"), config) if not isinstance(config, (str, bytes)) \
            else write(os.path.join(d, "config.json"), config)
    if image is not None:
        write(os.path.join(d, "model.safetensors"), image)


def write_sharded(d, config, tensors, split, edit_index=None, edit_shard2=None):
    names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    parts = [tensors[:split], tensors[split:]]
    wm = {}
    for name, part in zip(names, parts):
        image = safetensors_bytes(part)
        if edit_shard2 and name == names[1]:
            image = edit_shard2(image)
        write(os.path.join(d, name), image)
        for t in part:
            wm[t[0]] = name
    index = {"metadata": {"total_size": sum(len(t[3]) for t in tensors)}, "weight_map": wm}
    if edit_index:
        index = edit_index(index)
    write_json(os.path.join(d, "config.json"), config)
    if isinstance(index, str):
        write(os.path.join(d, "model.safetensors.index.json"), index)
    else:
        write_json(os.path.join(d, "model.safetensors.index.json"), index)


README = """# {title}

Generated by `tools/make_bad_corpus.py`; do not edit by hand, rerun the script.
{body}
"""


def write_valid(out):
    w = tiny_weights()
    f16 = tensors_of(w, "F16")
    d = os.path.join(out, "tiny-model")
    write_model(d, hf_config(), safetensors_bytes(f16))
    write_json(os.path.join(d, "tokenizer.json"), tokenizer_json())
    write(os.path.join(d, "README.md"), README.format(
        title="tiny-model", body="A synthetic Mamba-1 model in Hugging Face format for tests: d_model 8, "
        "2 layers, d_state 4, d_conv 4, expand 2, dt_rank 1, vocab 256, F16, tied embeddings; random "
        "weights (seeded). tokenizer.json is a byte-level BPE with the 256 byte tokens and no merges.\n"))
    for dt in ("BF16", "F32"):
        write_model(os.path.join(out, "tiny-model-" + dt.lower()), hf_config(), safetensors_bytes(tensors_of(w, dt)))
    write_sharded(os.path.join(out, "tiny-model-sharded"), hf_config(), f16, 12)
    ss = tensors_of(tiny_weights(embed_name="backbone.embedding.weight"), "F16")
    write_model(os.path.join(out, "tiny-model-state-spaces"), ss_config(), safetensors_bytes(ss))
    untied = tensors_of(tiny_weights(tied=False, conv_bias=False), "F16")
    write_model(os.path.join(out, "tiny-model-untied"),
                hf_config(tie_word_embeddings=False, use_conv_bias=False), safetensors_bytes(untied))


# --------------------------------------------------------------------------- bad cases
def bad_cases():
    """{case: (writer(dir), file named, text)}"""
    f16 = tensors_of(tiny_weights(), "F16")
    good = safetensors_bytes(f16)
    cfg = hf_config()
    hlen = struct.unpack("<Q", good[:8])[0]
    cases = {}

    def st(name, image, text, config=cfg):
        cases[name] = (lambda d: write_model(d, config, image), "model.safetensors", text)

    def hdr(name, edit, text):
        st(name, safetensors_bytes(f16, edit_header=edit), text)

    def entry(name_):
        return lambda h: h[name_]

    def set_entry(tname, key, value):
        def edit(h):
            h[tname][key] = value
        return edit

    emb = "backbone.embeddings.weight"
    inp = "backbone.layers.0.mixer.in_proj.weight"
    # --- the safetensors container
    st("st-empty-file", b"", "too short")
    st("st-five-bytes", good[:5], "too short")
    st("st-header-length-zero", struct.pack("<Q", 0) + good[8:], "header length is 0")
    st("st-header-length-beyond-file", struct.pack("<Q", len(good)) + good[8:], "reaches past the end of the file")
    st("st-header-length-u64-max", struct.pack("<Q", 2 ** 64 - 1) + good[8:], "reaches past the end of the file")
    st("st-truncated-in-header", good[:8 + hlen // 2], "reaches past the end of the file")
    st("st-truncated-in-data", good[:len(good) - 100], "reach past the data section")
    st("st-header-only", good[:8 + hlen], "reach past the data section")
    hdr("st-header-not-json", lambda h: '{"a": [1, 2', "not valid JSON")
    hdr("st-header-binary-garbage", lambda h: b"\xff\xfe\x00garbage\x01", "not valid JSON")
    hdr("st-header-json-array", lambda h: "[1, 2, 3]", "header JSON is not an object")
    hdr("st-header-json-string", lambda h: '"model"', "header JSON is not an object")
    hdr("st-header-trailing-bytes", lambda h: json.dumps(h) + " }x", "bytes after its JSON value")
    hdr("st-metadata-not-object", lambda h: {**h, "__metadata__": [1]}, "\"__metadata__\" is not an object")
    hdr("st-entry-not-object", lambda h: {**h, emb: [1, 2]}, "entry is not an object")
    hdr("st-dtype-i8", set_entry(emb, "dtype", "I8"), "dtype 'I8' is not supported")
    hdr("st-dtype-f64", set_entry(emb, "dtype", "F64"), "dtype 'F64' is not supported")
    hdr("st-dtype-not-string", set_entry(emb, "dtype", 16), "\"dtype\" is not a string")
    hdr("st-dtype-missing", lambda h: h[emb].pop("dtype") and None, "\"dtype\" is not a string")
    hdr("st-shape-not-array", set_entry(emb, "shape", "256x8"), "\"shape\" is not an array")
    hdr("st-shape-negative", set_entry(emb, "shape", [-256, -8]), "not a non-negative integer")
    hdr("st-shape-fraction", set_entry(emb, "shape", [256.5, 8]), "not a non-negative integer")
    hdr("st-shape-overflow", set_entry(emb, "shape", [2 ** 40, 2 ** 40, 2 ** 40]), "overflows")
    hdr("st-shape-five-dims", set_entry(emb, "shape", [256, 8, 1, 1, 1]), "5 dimensions")
    hdr("st-shape-size-mismatch", set_entry(emb, "shape", [128, 8]), "data_offsets span")
    hdr("st-offsets-outside-file", set_entry(emb, "data_offsets", [0, 10 ** 9]), "reach past the data section")
    hdr("st-offsets-reversed", set_entry(emb, "data_offsets", [4096, 0]), "reversed")
    hdr("st-offsets-not-integers", set_entry(emb, "data_offsets", ["0", "4096"]), "\"data_offsets\" is not a pair")
    hdr("st-offsets-three", set_entry(emb, "data_offsets", [0, 4096, 8192]), "\"data_offsets\" is not a pair")
    hdr("st-offsets-negative", set_entry(emb, "data_offsets", [-4096, 0]), "\"data_offsets\" is not a pair")

    def overlap(h):
        b, e = h["backbone.layers.0.mixer.D"]["data_offsets"]
        h["backbone.layers.0.mixer.conv1d.bias"]["data_offsets"] = [b, e]
    hdr("st-overlapping-ranges", overlap, "overlapping data ranges")

    def duplicate(h):  # a repeated JSON key, written by hand
        text = json.dumps(h)
        first = json.dumps({emb: h[emb]})[1:-1]
        return text[:-1] + ", " + first + "}"
    hdr("st-duplicate-tensor", duplicate, "appears twice")

    cases["st-is-a-directory"] = (lambda d: (write_model(d, cfg, None),
                                             write(os.path.join(d, "model.safetensors", "README"), "a dir\n")),
                                  "model.safetensors", "not a regular file")

    # --- tensors against the config
    def swap(name, shape, values_from=None):
        out = []
        for t in f16:
            if t[0] == name:
                n = 1
                for s in shape:
                    n *= s
                out.append((name, "F16", shape, encode([0.5] * n, "F16")))
            else:
                out.append(t)
        return out
    st("ck-in-proj-shape", safetensors_bytes(swap(inp, [30, 8])), "has shape [30, 8] but config.json implies [32, 8]")
    st("ck-in-proj-transposed", safetensors_bytes(swap(inp, [8, 32])), "has shape [8, 32]")
    st("ck-conv-weight-2d", safetensors_bytes(swap("backbone.layers.1.mixer.conv1d.weight", [16, 4])),
       "implies [16, 1, 4]")
    st("ck-embedding-rows", safetensors_bytes(swap(emb, [255, 8])), "implies [256, 8]")
    st("ck-config-dt-rank", good, "implies [10, 16]", config=hf_config(time_step_rank=2))
    st("ck-config-state-size", good, "implies [17, 16]", config=hf_config(state_size=8))
    st("ck-config-more-layers", good, "'backbone.layers.2.norm.weight' is missing",
       config=hf_config(num_hidden_layers=3))
    st("ck-config-fewer-layers", good, "unexpected tensor 'backbone.layers.1.", config=hf_config(num_hidden_layers=1))
    st("ck-missing-tensor", safetensors_bytes([t for t in f16 if t[0] != "backbone.layers.1.mixer.D"]),
       "'backbone.layers.1.mixer.D' is missing")
    st("ck-missing-norm-f", safetensors_bytes([t for t in f16 if t[0] != "backbone.norm_f.weight"]),
       "'backbone.norm_f.weight' is missing")
    st("ck-extra-tensor", safetensors_bytes(f16 + [("backbone.layers.0.mixer.in_proj.bias", "F16", [32],
                                                     encode([0.0] * 32, "F16"))]),
       "unexpected tensor 'backbone.layers.0.mixer.in_proj.bias'")
    st("ck-lm-head-but-tied", safetensors_bytes(f16 + [("lm_head.weight", "F16", [VOCAB, D_MODEL],
                                                         encode([0.0] * VOCAB * D_MODEL, "F16"))]),
       "unexpected tensor 'lm_head.weight'")
    st("ck-untied-without-lm-head", good, "'lm_head.weight' is missing", config=hf_config(tie_word_embeddings=False))
    st("ck-conv-bias-not-in-config", good, "unexpected tensor 'backbone.layers.0.mixer.conv1d.bias'",
       config=hf_config(use_conv_bias=False))
    st("ck-both-embedding-names", safetensors_bytes(f16 + [("backbone.embedding.weight", "F16", [VOCAB, D_MODEL],
                                                             encode([0.0] * VOCAB * D_MODEL, "F16"))]),
       "unexpected tensor 'backbone.embedding.weight'")
    st("ck-no-tensors", safetensors_bytes([]), "'backbone.embeddings.weight' is missing")
    cases["ck-no-weight-files"] = (lambda d: write_model(d, cfg, None), ".", "neither model.safetensors")

    # --- config.json
    def c(name, config, text, image=good):
        cases[name] = (lambda d: write_model(d, config, image), "config.json", text)
    cases["cfg-missing"] = (lambda d: write_model(d, None, good), "config.json", "cannot open")
    cases["cfg-is-a-directory"] = (lambda d: (write_model(d, None, good),
                                              write(os.path.join(d, "config.json", "README"), "a dir\n")),
                                   "config.json", "not a regular file")
    c("cfg-empty-file", "", "not valid JSON (empty file)")
    c("cfg-not-json", "hidden_size = 8\n", "not valid JSON")
    c("cfg-truncated-json", json.dumps(cfg)[:40], "not valid JSON")
    c("cfg-json-array", "[]", "not a JSON object")
    c("cfg-empty-object", "{}", "neither \"hidden_size\" nor \"d_model\"")
    c("cfg-trailing-bytes", json.dumps(cfg) + "\n}", "bytes after the JSON value")
    c("cfg-hidden-size-string", hf_config(hidden_size="8"), "\"hidden_size\" must be an integer, got a string")
    c("cfg-hidden-size-fraction", hf_config(hidden_size=8.5), "\"hidden_size\" must be an integer")
    c("cfg-layers-negative", hf_config(num_hidden_layers=-2), "\"num_hidden_layers\" = -2 is out of range")
    c("cfg-state-size-zero", hf_config(state_size=0), "\"state_size\" = 0 is out of range")
    c("cfg-conv-kernel-array", hf_config(conv_kernel=[4]), "\"conv_kernel\" must be an integer, got an array")
    c("cfg-conv-kernel-one", hf_config(conv_kernel=1), "\"conv_kernel\" = 1 is out of range [2, 64]")
    c("cfg-vocab-huge", hf_config(vocab_size=10 ** 9), "\"vocab_size\" = 1000000000 is out of range")
    c("cfg-vocab-missing", {k: v for k, v in cfg.items() if k != "vocab_size"}, "\"vocab_size\" is missing")
    c("cfg-hidden-size-huge", hf_config(hidden_size=1 << 20), "\"hidden_size\" = 1048576 is out of range")
    c("cfg-layers-huge", hf_config(num_hidden_layers=100000), "\"num_hidden_layers\" = 100000 is out of range")
    c("cfg-expand-too-wide", hf_config(hidden_size=65536, expand=64, intermediate_size=None), "expand x d_model")
    c("cfg-tie-string", hf_config(tie_word_embeddings="yes"), "\"tie_word_embeddings\" must be true or false")
    c("cfg-time-step-rank-word", hf_config(time_step_rank="big"), "\"time_step_rank\" must be an integer or \"auto\"")
    c("cfg-epsilon-zero", hf_config(layer_norm_epsilon=0), "\"layer_norm_epsilon\" = 0 must be positive")
    c("cfg-epsilon-negative", hf_config(layer_norm_epsilon=-1e-5), "\"layer_norm_epsilon\" = -1e-05 must be positive")
    c("cfg-epsilon-underflow", hf_config(layer_norm_epsilon=1e-85), "\"layer_norm_epsilon\" = 1e-85 is 0 in single")
    c("cfg-epsilon-string", hf_config(layer_norm_epsilon="1e-5"), "\"layer_norm_epsilon\" must be a number")
    c("cfg-model-type-mamba2", hf_config(model_type="mamba2"), "\"model_type\" 'mamba2' is not supported")
    c("cfg-model-type-llama", hf_config(model_type="llama"), "\"model_type\" 'llama' is not supported")
    c("cfg-model-type-number", hf_config(model_type=1), "\"model_type\" must be a string")
    c("cfg-use-bias", hf_config(use_bias=True), "\"use_bias\" is true")
    c("cfg-hidden-act-gelu", hf_config(hidden_act="gelu"), "\"hidden_act\" 'gelu' is not supported")
    c("cfg-ss-layernorm", ss_config(rms_norm=False), "\"rms_norm\" is false")
    c("cfg-ss-mamba2-layer", ss_config(ssm_cfg={"layer": "Mamba2"}), "\"ssm_cfg.layer\" 'Mamba2' is not supported")
    # a raw newline inside a JSON string (cJSON accepts it): found by fuzz_config
    c("cfg-ss-layer-control-char", '{"d_model": 8, "n_layer": 2, "vocab_size": 250, "ssm_cfg": {"layer": "Mam\nba2"}}',
      "\"ssm_cfg.layer\" 'Mam?ba2' is not supported")
    c("cfg-ss-ssm-cfg-list", ss_config(ssm_cfg=[16]), "\"ssm_cfg\" must be an object")
    c("cfg-ss-d-state-string", ss_config(ssm_cfg={"d_state": "16"}), "\"ssm_cfg.d_state\" must be an integer")
    c("cfg-ss-bias", ss_config(ssm_cfg={"bias": True}), "\"ssm_cfg.bias\" is true")
    c("cfg-ss-mlp-blocks", ss_config(d_intermediate=64), "\"d_intermediate\" = 64")
    c("cfg-ss-attention", ss_config(attn_layer_idx=[1]), "\"attn_layer_idx\" is not empty")
    c("cfg-ss-padded-vocab-huge", ss_config(vocab_size=1 << 22, pad_vocab_size_multiple=65535),
      "padded \"vocab_size\"")
    c("cfg-ss-pad-zero", ss_config(pad_vocab_size_multiple=0), "\"pad_vocab_size_multiple\" = 0 is out of range")

    # --- sharded checkpoints
    def ix(name, text, split=12, edit_index=None, edit_shard2=None, tensors=f16):
        cases[name] = (lambda d: write_sharded(d, cfg, tensors, split, edit_index, edit_shard2),
                       "model.safetensors.index.json", text)

    def drop_shard2(d):
        os.remove(os.path.join(d, "model-00002-of-00002.safetensors"))
    cases["idx-missing-shard"] = (lambda d: (write_sharded(d, cfg, f16, 12), drop_shard2(d)),
                                  "model.safetensors.index.json", "model-00002-of-00002.safetensors: cannot open")
    ix("idx-not-json", "not valid JSON", edit_index=lambda i: "{\"weight_map\": ")
    ix("idx-json-array", "not a JSON object", edit_index=lambda i: "[]")
    ix("idx-weight-map-missing", "\"weight_map\" is missing", edit_index=lambda i: {"metadata": {}})
    ix("idx-weight-map-list", "\"weight_map\" is not an object", edit_index=lambda i: {"weight_map": ["a"]})
    ix("idx-weight-map-empty", "\"weight_map\" is empty", edit_index=lambda i: {"weight_map": {}})
    ix("idx-shard-name-number", "is not a file name string",
       edit_index=lambda i: {"weight_map": {**i["weight_map"], emb: 1}})
    ix("idx-shard-path-traversal", "is not a plain file name",
       edit_index=lambda i: {"weight_map": {**i["weight_map"], emb: "../tiny-model/model.safetensors"}})
    ix("idx-tensor-in-wrong-shard", "is not in its shard",
       edit_index=lambda i: {"weight_map": {**i["weight_map"], emb: "model-00002-of-00002.safetensors"}})
    ix("idx-tensor-unlisted", "is not listed for it in weight_map",
       edit_index=lambda i: {"weight_map": {k: v for k, v in i["weight_map"].items() if k != inp}})
    ix("idx-listed-tensor-absent", "is not in its shard",
       edit_index=lambda i: {"weight_map": {**i["weight_map"], "lm_head.weight": "model-00001-of-00002.safetensors"}})
    ix("idx-shard-name-control-char", "is not a plain file name",
       edit_index=lambda i: json.dumps(i)[:-2] + ', "lm_head.weight": "model\n.safetensors"}}')
    ix("idx-duplicate-entry", "appears twice in weight_map",
       edit_index=lambda i: json.dumps(i)[:-2] + ', "' + emb + '": "model-00001-of-00002.safetensors"}}')
    ix("idx-shard-truncated", "reach past the data section", edit_shard2=lambda b: b[:-64])
    ix("idx-shard-bad-dtype", "dtype 'I8' is not supported",
       edit_shard2=lambda b: b.replace(b'"F16"', b'"I8" ', 1))
    return cases


def write_bad(out):
    bad = os.path.join(out, "bad")
    if os.path.isdir(bad):
        shutil.rmtree(bad)
    os.makedirs(bad)
    rows = []
    for name, (writer, named, text) in sorted(bad_cases().items()):
        d = os.path.join(bad, name)
        os.makedirs(d)
        writer(d)
        assert "\t" not in text and "\n" not in text
        rows.append(f"{name}\t{named}\t{text}\n")
    write(os.path.join(bad, "cases.tsv"), "".join(rows))
    write(os.path.join(bad, "README.md"), README.format(
        title="Broken model directories",
        body="One problem per directory; `cases.tsv` lists each case, the file its error message must name "
             "(relative to the case directory, `.` for the directory itself) and a text the message must "
             "contain. tests/test_bad_inputs.c runs `mambacl info -m` on each and wants exit code 1 and one "
             "line on stderr.\n"))
    return len(rows)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                               "..", "tests", "data")
    out = os.path.normpath(out)
    for name in os.listdir(out) if os.path.isdir(out) else []:
        if name.startswith("tiny-model"):
            shutil.rmtree(os.path.join(out, name))
    write_valid(out)
    n = write_bad(out)
    print(f"wrote 6 valid tiny models and {n} broken model directories under {out}")


if __name__ == "__main__":
    main()
