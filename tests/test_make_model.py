#!/usr/bin/env python3
"""tools/make_model.py on the tiny shape (a few MB, seconds): the safetensors file read back by
hand (names, shapes, dtypes, contiguous offsets, 8-byte aligned data), the init rules (A_log,
dt bias, D, matrix ranges) from the F32 file, determinism by seed, and mambacl loading every
dtype: info's parameter count, finite logits with token 0's exactly 0 (the zero end-of-sequence
row; nonzero with --keep-eos), greedy `run` reaching its length limit."""
import argparse
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

ROOT = os.environ.get("MAMBACL_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), ".."))
TOOL = os.path.join(ROOT, "tools", "make_model.py")
SHARED = os.environ.get("MAMBACL_SHARED", os.path.join(ROOT, "..", "shared"))
TOKENIZER = os.path.join(SHARED, "tokenizers", "gpt-neox-20b", "tokenizer.json")
D_MODEL, N_LAYER, D_INNER, DT_RANK, D_STATE, VOCAB = 64, 2, 128, 4, 16, 50280


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def make(out, *extra):
    r = subprocess.run([sys.executable, TOOL, "--config", "tiny", "--out", out, "--tokenizer", TOKENIZER, *extra],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "make_model failed: " + r.stderr)


def expected_shapes():
    s = {"backbone.embeddings.weight": [VOCAB, D_MODEL], "backbone.norm_f.weight": [D_MODEL]}
    for l in range(N_LAYER):
        m = "backbone.layers.%d.mixer." % l
        s["backbone.layers.%d.norm.weight" % l] = [D_MODEL]
        s.update({m + "in_proj.weight": [2 * D_INNER, D_MODEL], m + "conv1d.weight": [D_INNER, 1, 4],
                  m + "conv1d.bias": [D_INNER], m + "x_proj.weight": [DT_RANK + 2 * D_STATE, D_INNER],
                  m + "dt_proj.weight": [D_INNER, DT_RANK], m + "dt_proj.bias": [D_INNER],
                  m + "A_log": [D_INNER, D_STATE], m + "D": [D_INNER], m + "out_proj.weight": [D_MODEL, D_INNER]})
    return s


def read_st(path, dtype, esize):
    """{name: (shape, raw bytes)}, checking the layout on the way."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    check((8 + n) % 8 == 0, "data section not 8-byte aligned")
    head = json.loads(raw[8:8 + n])
    check(head.pop("__metadata__", {}).get("format") == "pt", "metadata format")
    shapes = expected_shapes()
    check(sorted(head) == sorted(shapes), "tensor names differ: %s" % sorted(set(head) ^ set(shapes)))
    end, out = 0, {}
    for name in sorted(head, key=lambda k: head[k]["data_offsets"][0]):
        e = head[name]
        check(e["dtype"] == dtype and e["shape"] == shapes[name], "%s: %r" % (name, e))
        b, t = e["data_offsets"]
        check(b == end and t - b == math.prod(e["shape"]) * esize, "%s: offsets %r" % (name, e["data_offsets"]))
        end = t
        out[name] = (e["shape"], raw[8 + n + b:8 + n + t])
    check(len(raw) == 8 + n + end, "file size %d, header says %d" % (len(raw), 8 + n + end))
    return out


def check_values(t):
    """The init rules on the F32 file."""
    f = lambda name: struct.unpack("<%df" % (len(t[name][1]) // 4), t[name][1])  # noqa: E731
    m = "backbone.layers.1.mixer."
    a = f(m + "A_log")
    check(all(abs(a[i] - math.log(1 + i % D_STATE)) < 1e-6 for i in range(len(a))), "A_log != log(1..16)")
    dt = [math.log1p(math.exp(v)) for v in f(m + "dt_proj.bias")]
    check(all(0.99e-3 <= v <= 1.01e-1 for v in dt) and max(dt) / min(dt) > 10, "softplus(dt bias) range")
    for name, lo, hi in [(m + "D", 0.9, 1.1), ("backbone.norm_f.weight", 0.9, 1.1)]:
        check(all(lo <= v <= hi for v in f(name)), name + " outside 1 +- 0.1")
    for name, half in [(m + "in_proj.weight", 1 / math.sqrt(D_MODEL)), (m + "out_proj.weight", 1 / math.sqrt(D_INNER)),
                       ("backbone.embeddings.weight", 0.5)]:
        v = f(name)
        check(max(abs(x) for x in v) <= half * 1.0001, name + " outside +-%g" % half)
        check(max(v) > 0.8 * half and min(v) < -0.8 * half, name + " does not spread over +-%g" % half)
    check(all(x == 0 for x in f("backbone.embeddings.weight")[:D_MODEL]), "embedding row 0 is not zero")


def mambacl(binary, *args):
    r = subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "mambacl %s failed: %s" % (args[0], r.stderr))
    return r


def check_loads(binary, d, keep_eos=False):
    info = mambacl(binary, "info", "-m", d).stdout
    params = sum(math.prod(s) for s in expected_shapes().values())
    check("(%d)" % params in info, "info does not count %d parameters:\n%s" % (params, info))
    row = json.loads(mambacl(binary, "logits", "-m", d, "--ids", "11 22 33").stdout)["logits"][0]
    check(len(row) == VOCAB and all(math.isfinite(x) for x in row), "logits not finite")
    check(max(row) - min(row) > 1.0, "logits do not vary")
    check((row[0] != 0.0) if keep_eos else (row[0] == 0.0), "token 0's logit is %g" % row[0])
    if not keep_eos:
        err = mambacl(binary, "run", "-m", d, "-p", "Hello", "-n", "12", "--greedy").stderr
        check("generated: 12 tokens" in err, "greedy run stopped early: " + err[-300:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mambacl", required=True)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for dtype, name, esize in [("f32", "F32", 4), ("f16", "F16", 2), ("bf16", "BF16", 2)]:
            d = os.path.join(tmp, dtype)
            make(d, "--dtype", dtype)
            t = read_st(os.path.join(d, "model.safetensors"), name, esize)
            if dtype == "f32":
                check_values(t)
            cfg = json.load(open(os.path.join(d, "config.json")))
            check(cfg["model_type"] == "mamba" and cfg["hidden_size"] == D_MODEL and cfg["time_step_rank"] == DT_RANK,
                  "config.json: %r" % cfg)
            check_loads(a.mambacl, d)
            print("ok %s" % dtype)
        make(os.path.join(tmp, "again"))
        make(os.path.join(tmp, "seed2"), "--seed", "2")
        read = lambda d: open(os.path.join(tmp, d, "model.safetensors"), "rb").read()  # noqa: E731
        check(read("again") == read("f16"), "the same seed gave different files")
        check(read("seed2") != read("f16"), "another seed gave the same file")
        make(os.path.join(tmp, "eos"), "--keep-eos")
        check_loads(a.mambacl, os.path.join(tmp, "eos"), keep_eos=True)
        print("ok seeds, --keep-eos")


if __name__ == "__main__":
    main()
