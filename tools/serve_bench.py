#!/usr/bin/env python3
"""Aggregate decode speed of `mambacl serve` beside `mambacl run --batch-file`.

For each client count N: N concurrent streaming greedy completions of
--tokens tokens each (different prompts) against one server started with
--parallel max(N); reports the client-side aggregate tokens/s (all tokens
over the wall time from the first request to the last byte), time to first
token p50/p99, the server's own decode-only tokens/s (from /metrics:
generated tokens over time inside decode steps), and `mambacl run
--batch-file` of the same N prompts (its decode tokens/s line). Loopback
only; a measurement tool, not a test.

  python3 tools/serve_bench.py --mambacl build/mambacl [-m MODEL] [--clients 1,4,16] [--tokens 256]
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


def one_stream(port, prompt, n, out):
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    body = json.dumps({"prompt": prompt, "max_tokens": n, "temperature": 0, "stream": True,
                       "stream_options": {"include_usage": True}})
    c.request("POST", "/v1/completions", body=body, headers={"Content-Type": "application/json"})
    r = c.getresponse()
    first, tokens, buf = None, 0, b""
    while True:
        chunk = r.read1(65536)
        if not chunk:
            break
        if first is None:
            first = time.monotonic() - t0
        buf += chunk
    c.close()
    for block in buf.decode().split("\n\n"):
        if block.startswith("data: {"):
            ev = json.loads(block[6:])
            if ev.get("usage"):
                tokens = ev["usage"]["completion_tokens"]
    out.append((first, tokens, time.monotonic()))


def measure_server(srv, n, tokens):
    before = srv.metrics()
    out, threads = [], []
    t0 = time.monotonic()
    for i in range(n):
        th = threading.Thread(target=one_stream, args=(srv.port, ts.PROMPTS[i % len(ts.PROMPTS)], tokens, out))
        th.start()
        threads.append(th)
    for th in threads:
        th.join()
    wall = max(o[2] for o in out) - t0
    after = srv.metrics()
    gen = after["mambacl_generation_tokens_total"] - before["mambacl_generation_tokens_total"]
    dec = after["mambacl_decode_seconds_total"] - before["mambacl_decode_seconds_total"]
    ttft = sorted(o[0] for o in out)
    p99 = ttft[min(len(ttft) - 1, int(round(0.99 * (len(ttft) - 1))))]
    return sum(o[1] for o in out) / wall, statistics.median(ttft), p99, gen / dec if dec else 0.0


def measure_run(binary, model, n, tokens):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        for i in range(n):
            f.write(ts.PROMPTS[i % len(ts.PROMPTS)].replace("\n", " ") + "\n")
        path = f.name
    r = subprocess.run([binary, "run", "-m", model, "--batch-file", path, "-n", str(tokens), "--greedy"],
                       capture_output=True, text=True, timeout=600)
    os.unlink(path)
    m = re.search(r"generated: (\d+) tokens, ([0-9.]+) tokens/s", r.stderr)
    return float(m.group(2)) if m else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mambacl", required=True)
    ap.add_argument("-m", "--model", default=ts.MODEL)
    ap.add_argument("--clients", default="1,4,16")
    ap.add_argument("--tokens", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=3, help="rounds; medians are reported")
    a = ap.parse_args()
    ts.MODEL = a.model
    counts = [int(x) for x in a.clients.split(",")]
    binary = os.path.abspath(a.mambacl)
    srv = ts.Server(binary, "--parallel", str(max(counts)), "--max-tokens", str(a.tokens))
    got = {n: [] for n in counts}
    try:
        measure_server(srv, 1, 8)  # warm-up
        for _ in range(a.repeat):  # interleaved, so that a busy machine hurts both sides alike
            for n in counts:
                got[n].append(measure_server(srv, n, a.tokens) + (measure_run(binary, a.model, n, a.tokens),))
    finally:
        srv.stop()
    print("clients | serve aggregate tok/s | TTFT p50 ms | TTFT p99 ms | serve decode-only tok/s | "
          "run --batch-file decode tok/s | serve aggregate / run")
    for n in counts:
        agg, p50, p99, dec, run = (statistics.median(col) for col in zip(*got[n]))
        print("%7d | %21.1f | %11.1f | %11.1f | %23.1f | %29.1f | %.2f" %
              (n, agg, p50 * 1e3, p99 * 1e3, dec, run, agg / run))
    print("(medians of %d interleaved rounds, %d tokens per client)" % (a.repeat, a.tokens))


if __name__ == "__main__":
    main()
