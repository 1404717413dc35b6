#!/usr/bin/env python3
"""Aggregate decode speed of `mambacl serve` beside `mambacl run --batch-file` and `mambacl bench`.

For each client count N: N concurrent streaming greedy completions of --tokens tokens each (N
different prompts) against one server started with --parallel max(N). Per round it records
  aggregate     completion tokens of all N streams over the wall time from the first request to
                the last byte (client side: prefill, queueing, HTTP and SSE included)
  TTFT          time from sending a request to its first streamed byte; p50 and p99 over the N
  decode-only   the server's own rate inside decode steps, from /metrics: (generated tokens - N,
                the first token of each request comes from its prefill) / decode seconds
  run           `mambacl run --batch-file` of the same N prompts, same length: its decode tokens/s
                (decode steps only; the same scheduler-free batched loop the CLI uses)
Rounds are interleaved (every N, then again) so that a busy machine hurts all alike; medians are
reported. With --bench-json (the JSON of `mambacl bench --config SHAPE --decode-only` of the same
shape and dtype, measured in the same session) the table adds bench's batched decode at batch N
(bench has batch 1, 8, 64) and the ratios serve/bench: the server's overhead. Every stream is
checked: HTTP 200, [DONE], exactly --tokens completion tokens (a short one is reported). Loopback
only; a measurement tool, not a test.

  python3 tools/serve_bench.py --mambacl build/mambacl [-m MODEL] [--clients 1,8,32,64] [--tokens 128]
        [--repeat 3] [--bench-json bench.json] [--json out.json]
"""
import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "serve"))
import test_serve as ts  # noqa: E402


def make_prompts(n):
    """n different one-line prompts (the test prompts, numbered past the first 16)."""
    base = [p.replace("\n", " ") for p in ts.PROMPTS]
    return [base[i % len(base)] + ("" if i < len(base) else " %d" % i) for i in range(n)]


def one_stream(port, prompt, n, out):
    """Appends (ttft s, completion tokens, end time, error or None) of one streamed completion."""
    t0 = time.monotonic()
    first, tokens, err = None, 0, None
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        body = json.dumps({"prompt": prompt, "max_tokens": n, "temperature": 0, "stream": True,
                           "stream_options": {"include_usage": True}})
        c.request("POST", "/v1/completions", body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        buf = b""
        while True:
            chunk = r.read1(65536)
            if not chunk:
                break
            if first is None:
                first = time.monotonic() - t0
            buf += chunk
        c.close()
        if r.status != 200:
            err = "HTTP %d: %r" % (r.status, buf[:200])
        elif not buf.rstrip().endswith(b"data: [DONE]"):
            err = "stream did not end with [DONE]: %r" % buf[-200:]
        for block in buf.decode().split("\n\n"):
            if block.startswith("data: {"):
                ev = json.loads(block[6:])
                if ev.get("usage"):
                    tokens = ev["usage"]["completion_tokens"]
    except (OSError, ValueError, http.client.HTTPException) as e:
        err = "%s: %s" % (type(e).__name__, e)
    out.append((first, tokens, time.monotonic(), err))


def measure_server(srv, prompts, tokens):
    before = srv.metrics()
    out, threads = [], []
    t0 = time.monotonic()
    for p in prompts:
        th = threading.Thread(target=one_stream, args=(srv.port, p, tokens, out))
        th.start()
        threads.append(th)
    for th in threads:
        th.join()
    errors = [o[3] for o in out if o[3]]
    if errors:
        raise SystemExit("serve_bench: %d of %d streams failed, first: %s" % (len(errors), len(out), errors[0]))
    wall = max(o[2] for o in out) - t0
    after = srv.metrics()
    gen = after["mambacl_generation_tokens_total"] - before["mambacl_generation_tokens_total"]
    dec = after["mambacl_decode_seconds_total"] - before["mambacl_decode_seconds_total"]
    ttft = sorted(o[0] for o in out)
    got = [o[1] for o in out]
    return {"aggregate_tps": sum(got) / wall, "wall_s": wall, "ttft_p50_ms": 1e3 * statistics.median(ttft),
            "ttft_p99_ms": 1e3 * ttft[min(len(ttft) - 1, int(round(0.99 * (len(ttft) - 1))))],
            "decode_only_tps": (gen - len(prompts)) / dec if dec else 0.0,
            "tokens_min": min(got), "tokens_max": max(got)}


def measure_run(binary, model, prompts, tokens):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("".join(p + "\n" for p in prompts))
        path = f.name
    try:
        r = subprocess.run([binary, "run", "-m", model, "--batch-file", path, "-n", str(tokens), "--greedy"],
                           capture_output=True, text=True, timeout=600)
    finally:
        os.unlink(path)
    m = re.search(r"generated: (\d+) tokens, ([0-9.]+) tokens/s", r.stderr)
    if r.returncode != 0 or not m:
        raise SystemExit("serve_bench: mambacl run --batch-file failed (%d): %s" % (r.returncode, r.stderr[-500:]))
    return {"run_tps": float(m.group(2)), "run_tokens": int(m.group(1))}


def bench_decode(path):
    """{batch: tokens/s} of a `mambacl bench --json` file's decode section."""
    if not path:
        return {}
    with open(path) as f:
        d = json.load(f)
    return {int(e["batch"]): e["tokens_per_s"] for e in d.get("decode", [])}


def table(counts, med, bench, a):
    cols = ["clients", "serve aggregate tok/s", "TTFT p50 ms", "TTFT p99 ms", "serve decode-only tok/s",
            "run --batch-file tok/s", "bench decode tok/s", "aggregate / run", "aggregate / bench",
            "decode-only / bench"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for n in counts:
        m, b = med[n], bench.get(n)
        fmt = lambda v, f="%.1f": (f % v) if v is not None else "-"  # noqa: E731
        lines.append("| " + " | ".join([
            str(n), fmt(m["aggregate_tps"]), fmt(m["ttft_p50_ms"]), fmt(m["ttft_p99_ms"]),
            fmt(m["decode_only_tps"]), fmt(m["run_tps"]), fmt(b),
            fmt(m["aggregate_tps"] / m["run_tps"], "%.2f"),
            fmt(m["aggregate_tps"] / b if b else None, "%.2f"),
            fmt(m["decode_only_tps"] / b if b else None, "%.2f")]) + " |")
    lines.append("(medians of %d interleaved rounds, %d tokens per client, --parallel %d, model %s)" %
                 (a.repeat, a.tokens, a.parallel, a.model))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mambacl", required=True)
    ap.add_argument("-m", "--model", default=ts.MODEL)
    ap.add_argument("--clients", default="1,8,32,64")
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=3, help="rounds; medians are reported")
    ap.add_argument("--parallel", type=int, default=0, help="server --parallel (default: the most clients)")
    ap.add_argument("--no-run", action="store_true", help="skip the `mambacl run --batch-file` comparison")
    ap.add_argument("--bench-json", help="`mambacl bench --decode-only --json` of the same shape")
    ap.add_argument("--json", help="write every round and the medians here")
    a = ap.parse_args()
    ts.MODEL = a.model
    counts = [int(x) for x in a.clients.split(",")]
    a.parallel = a.parallel or max(counts)
    binary = os.path.abspath(a.mambacl)
    bench = bench_decode(a.bench_json)
    t0 = time.monotonic()
    srv = ts.Server(binary, "--parallel", str(a.parallel), "--max-tokens", str(a.tokens),
                    "--queue", str(max(64, max(counts))))
    print("serve_bench: server up in %.1f s" % (time.monotonic() - t0), flush=True)
    rounds = {n: [] for n in counts}
    try:
        for n in counts:  # warm-up: every batch size once, so each path is compiled and tuned
            measure_server(srv, make_prompts(n), 8)
        print("serve_bench: warm-up done at %.1f s" % (time.monotonic() - t0), flush=True)
        for r in range(a.repeat):  # interleaved, so that a busy machine hurts both sides alike
            for n in counts:
                got = measure_server(srv, make_prompts(n), a.tokens)
                if not a.no_run:
                    got.update(measure_run(binary, a.model, make_prompts(n), a.tokens))
                rounds[n].append(got)
                print("serve_bench: round %d, %d clients: %s (%.1f s)" %
                      (r + 1, n, json.dumps({k: round(v, 2) for k, v in got.items()}), time.monotonic() - t0),
                      flush=True)
    finally:
        srv.stop()
    med = {n: {k: statistics.median(g[k] for g in rounds[n]) for k in rounds[n][0]} for n in counts}
    for n in counts:
        med[n].setdefault("run_tps", float("nan"))
        short = min(g["tokens_min"] for g in rounds[n])
        if short != a.tokens:
            print("serve_bench: WARNING: %d clients: a stream got %d tokens, not %d" % (n, short, a.tokens))
    text = table(counts, med, bench, a)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"model": a.model, "tokens": a.tokens, "repeat": a.repeat, "parallel": a.parallel,
                       "clients": counts, "rounds": rounds, "median": med,
                       "bench_decode_tps": bench, "table": text}, f, indent=1)


if __name__ == "__main__":
    main()
