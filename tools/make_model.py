#!/usr/bin/env python3
"""Writes a Hugging Face-format Mamba-1 checkpoint with random weights of a released shape.

  python3 tools/make_model.py --config 1.4b --out /tmp/mamba-1.4b [--dtype f16|bf16|f32] [--seed N]

The directory gets config.json (as transformers writes it for MambaForCausalLM), model.safetensors
(one file, tensors sorted by name, written by hand: 8-byte header length, JSON header padded to 8
bytes, data) and tokenizer.json (GPT-NeoX-20B, the tokenizer of every state-spaces checkpoint,
copied from ../shared/tokenizers/gpt-neox-20b). Shapes: ../shared/README.md's table, and `tiny`
(d_model 64, 2 layers, the full 50280 vocabulary: a few MB, for tests).

The values follow the rules of `mambacl bench --config` (src/model/weights.c, the init columns of
src/model/arch_mamba1.c), so that decode is numerically sane: matrices uniform in +-scale/sqrt(fan_in)
(in_proj, x_proj, out_proj scale 1, dt_proj 0.5, conv1d 1 over d_conv), embeddings +-0.5, norms and
D 1 +- 0.1, conv bias +-0.1, A_log = log(1..16) on every row, dt bias = softplus^-1(dt) with dt
log-uniform in [1e-3, 1e-1] (Mamba's init). They are not bitwise those of bench's generator. Only
the standard library is used (no numpy on the CI machine): each distinct scale has a pool of 2^18
values drawn once, and a large tensor is a run of 16384-value blocks taken at random offsets of its
pool, which writes gigabytes in seconds; the values of a tensor are uniform, though not independent.
Embedding row 0 (<|endoftext|>, the end-of-sequence token) is zero: its tied logit is then always 0,
below the largest of the other 50279, so greedy decode of random weights runs to its length limit
as a benchmark needs (--keep-eos gives it random values like the other rows).
"""
import argparse
import json
import math
import os
import random
import shutil
import struct
import sys
import time

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared")
TOKENIZER = os.path.join(SHARED, "tokenizers", "gpt-neox-20b", "tokenizer.json")

# name: d_model, n_layer, dt_rank (d_inner = 2 d_model, d_state 16, d_conv 4, vocab 50280)
SHAPES = {"130m": (768, 24, 48), "370m": (1024, 48, 64), "790m": (1536, 48, 96), "1.4b": (2048, 48, 128),
          "2.8b": (2560, 64, 160), "tiny": (64, 2, 4)}
VOCAB, D_STATE, D_CONV = 50280, 16, 4
DTYPES = {"f16": ("F16", 2, "float16"), "bf16": ("BF16", 2, "bfloat16"), "f32": ("F32", 4, "float32")}
POOL = 1 << 18   # values per pool
BLOCK = 1 << 14  # values per block copied from a pool


def pack(values, dtype):
    """The bytes of a list of floats in dtype (bf16: round to nearest even from f32)."""
    if dtype == "f16":
        return struct.pack("<%de" % len(values), *values)
    f32 = struct.pack("<%df" % len(values), *values)
    if dtype == "f32":
        return f32
    words = struct.unpack("<%dI" % len(values), f32)
    return struct.pack("<%dH" % len(values), *(((w + 0x7FFF + ((w >> 16) & 1)) >> 16) & 0xFFFF for w in words))


def hf_config(name, dtype):
    d_model, n_layer, dt_rank = SHAPES[name]
    return {
        "architectures": ["MambaForCausalLM"], "bos_token_id": 0, "conv_kernel": D_CONV, "dtype": DTYPES[dtype][2],
        "eos_token_id": 0, "expand": 2, "hidden_act": "silu", "hidden_size": d_model, "initializer_range": 0.1,
        "intermediate_size": 2 * d_model, "layer_norm_epsilon": 1e-05, "model_type": "mamba",
        "num_hidden_layers": n_layer, "pad_token_id": 0, "rescale_prenorm_residual": False,
        "residual_in_fp32": True, "state_size": D_STATE, "tie_word_embeddings": True, "time_step_floor": 0.0001,
        "time_step_init_scheme": "random", "time_step_max": 0.1, "time_step_min": 0.001,
        "time_step_rank": dt_rank, "time_step_scale": 1.0, "transformers_version": "5.17.0",
        "use_associative_scan": True, "use_bias": False, "use_cache": True, "use_conv_bias": True,
        "use_mambapy": False, "vocab_size": VOCAB,
    }


def tensor_specs(name):
    """(tensor name, shape, rule) of every tensor; rule: ('uniform', base, half_width) or a special."""
    d_model, n_layer, dt_rank = SHAPES[name]
    d_inner = 2 * d_model
    specs = [("backbone.embeddings.weight", [VOCAB, d_model], ("embed", 0.0, 0.5)),
             ("backbone.norm_f.weight", [d_model], ("uniform", 1.0, 0.1))]
    for l in range(n_layer):
        p = "backbone.layers.%d." % l
        m = p + "mixer."
        specs += [
            (p + "norm.weight", [d_model], ("uniform", 1.0, 0.1)),
            (m + "in_proj.weight", [2 * d_inner, d_model], ("uniform", 0.0, 1.0 / math.sqrt(d_model))),
            (m + "conv1d.weight", [d_inner, 1, D_CONV], ("uniform", 0.0, 1.0 / math.sqrt(D_CONV))),
            (m + "conv1d.bias", [d_inner], ("uniform", 0.0, 0.1)),
            (m + "x_proj.weight", [dt_rank + 2 * D_STATE, d_inner], ("uniform", 0.0, 1.0 / math.sqrt(d_inner))),
            (m + "dt_proj.weight", [d_inner, dt_rank], ("uniform", 0.0, 0.5 / math.sqrt(dt_rank))),
            (m + "dt_proj.bias", [d_inner], ("dt_bias",)),
            (m + "A_log", [d_inner, D_STATE], ("a_log",)),
            (m + "D", [d_inner], ("uniform", 1.0, 0.1)),
            (m + "out_proj.weight", [d_model, d_inner], ("uniform", 0.0, 1.0 / math.sqrt(d_inner))),
        ]
    return sorted(specs)


class Writer:
    """Produces the bytes of each tensor by its rule (see the module comment)."""

    def __init__(self, dtype, seed, keep_eos):
        self.dtype, self.rng, self.keep_eos = dtype, random.Random(seed), keep_eos
        self.esize = DTYPES[dtype][1]
        self.pools = {}

    def pool(self, base, half):
        key = (base, half)
        if key not in self.pools:
            u = self.rng.random
            self.pools[key] = memoryview(pack([base + half * (2.0 * u() - 1.0) for _ in range(POOL)], self.dtype))
        return self.pools[key]

    def small(self, rule, n, row):
        u = self.rng.random
        if rule[0] == "a_log":
            return pack([math.log(1 + i % row) for i in range(n)], self.dtype)
        if rule[0] == "dt_bias":
            out = []
            for _ in range(n):
                dt = math.exp(math.log(1e-3) + u() * (math.log(1e-1) - math.log(1e-3)))
                out.append(dt + math.log(-math.expm1(-dt)))
            return pack(out, self.dtype)
        return pack([rule[1] + rule[2] * (2.0 * u() - 1.0) for _ in range(n)], self.dtype)

    def write(self, f, rule, shape):
        n = math.prod(shape)
        if rule[0] in ("a_log", "dt_bias") or n <= BLOCK:
            f.write(self.small(rule, n, shape[-1]))
            return
        pool, done = self.pool(rule[1], rule[2]), 0
        if rule[0] == "embed" and not self.keep_eos:
            f.write(bytes(shape[-1] * self.esize))  # row 0: the end-of-sequence token
            done = shape[-1]
        while done < n:
            k = min(BLOCK, n - done)
            off = self.rng.randrange(POOL - k + 1) * self.esize
            f.write(pool[off:off + k * self.esize])
            done += k


def write_safetensors(path, specs, writer, meta):
    header, off = {"__metadata__": meta}, 0
    for name, shape, _ in specs:
        size = math.prod(shape) * writer.esize
        header[name] = {"dtype": DTYPES[writer.dtype][0], "shape": shape, "data_offsets": [off, off + size]}
        off += size
    hj = json.dumps(header, separators=(",", ":")).encode()
    hj += b" " * (-(8 + len(hj)) % 8)
    tmp = path + ".part"
    with open(tmp, "wb", buffering=1 << 22) as f:
        f.write(struct.pack("<Q", len(hj)) + hj)
        for _, shape, rule in specs:
            writer.write(f, rule, shape)
    if os.path.getsize(tmp) != 8 + len(hj) + off:
        raise SystemExit("make_model: %s has the wrong size" % tmp)
    os.replace(tmp, path)
    return off


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, choices=sorted(SHAPES))
    ap.add_argument("--out", required=True, help="directory to write (created; files in it replaced)")
    ap.add_argument("--dtype", default="f16", choices=sorted(DTYPES))
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--tokenizer", default=TOKENIZER, help="tokenizer.json to copy (default: GPT-NeoX-20B)")
    ap.add_argument("--keep-eos", action="store_true", help="random embedding row for token 0 too")
    a = ap.parse_args()
    if not os.path.isfile(a.tokenizer):
        sys.exit("make_model: no tokenizer at %s (give --tokenizer)" % a.tokenizer)
    t0 = time.monotonic()
    os.makedirs(a.out, exist_ok=True)
    shutil.copyfile(a.tokenizer, os.path.join(a.out, "tokenizer.json"))
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(hf_config(a.config, a.dtype), f, indent=2, sort_keys=True)
        f.write("\n")
    meta = {"format": "pt", "generator": "mambacl tools/make_model.py", "shape": a.config, "seed": str(a.seed),
            "weights": "random"}
    size = write_safetensors(os.path.join(a.out, "model.safetensors"), tensor_specs(a.config),
                             Writer(a.dtype, a.seed, a.keep_eos), meta)
    print("make_model: %s %s, %.2f GB of weights, in %s (%.1f s)" %
          (a.config, a.dtype, size / 1e9, a.out, time.monotonic() - t0))


if __name__ == "__main__":
    main()
