#!/usr/bin/env python3
"""Markdown tables from `mambacl bench --json` files, for docs/performance.md.

usage: perf_tables.py LABEL=bench.json [LABEL=bench.json ...]
Prints: baselines, the scan kernel against the CUDA kernel, prefill and decode
throughput with the largest kernels, and time to first token.
"""
import json
import sys


def top(kernels, n=4):
    items = sorted(kernels.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{k} {v:.2f}" for k, v in items)


def main():
    runs = [(spec.split("=", 1)[0], json.load(open(spec.split("=", 1)[1]))) for spec in sys.argv[1:]]
    print("| run | device | copy GB/s | CLBlast SGEMM GFLOP/s |\n|---|---|---|---|")
    for label, d in runs:
        b = d["baselines"]
        print(f"| {label} | {d['device']['name']} | {b['copy_gbps']:.0f} | {b['sgemm_gflops']:.0f} |")
    label, d = runs[0]
    print(f"\nScan kernel alone ({label} run), d_state 16, dt_rank d_inner/32:\n")
    print("| (batch, d_inner, L) | ms | GB/s | % of copy | CUDA ms | speed-up vs CUDA |\n|---|---|---|---|---|---|")
    cuda = {"1x1536x128": 0.022, "1x1536x2048": 0.125, "1x1536x8192": 0.505, "1x5120x2048": 0.388,
            "8x1536x2048": 0.876, "16x2048x2048": 2.29, "64x1536x512": 1.76}
    for s in d.get("scan", []):
        c = cuda.get(s["shape"])
        print(f"| {s['shape']} | {s['ms']:.4f} | {s['gbps']:.0f} | {s['pct_copy']:.1f} | {c} | "
              f"{(c / s['ms']) if c else 0:.2f}x |")
    print("\nPrefill, batch 1 (kernel ms of one profiled run; CLBlast's events cover its last kernel only):\n")
    print("| model | L | ms | tokens/s | largest kernels (ms) |\n|---|---|---|---|---|")
    for label, d in runs:
        for p in d["prefill"]:
            print(f"| {label} | {p['L']:.0f} | {p['ms']:.2f} | {p['tokens_per_s']:.0f} | {top(p['kernels_ms'])} |")
    print("\nDecode (one token per sequence per step):\n")
    print("| model | batch | ms/step | tokens/s | weight MB/token | % of roofline | largest kernels (ms/step) |")
    print("|---|---|---|---|---|---|---|")
    for label, d in runs:
        for p in d["decode"]:
            print(f"| {label} | {p['batch']:.0f} | {p['ms_per_step']:.3f} | {p['tokens_per_s']:.0f} | "
                  f"{p['weight_bytes_per_token'] / 1e6:.1f} | {p['pct_roofline']:.1f} | {top(p['kernels_ms'], 3)} |")
    print("\nTime to first token (runtime creation + model load + 4-token prefill):\n")
    print("| run | model | without binary cache ms | with it ms |\n|---|---|---|---|")
    for label, d in runs:
        st = d.get("startup")
        if st:
            print(f"| {label} | {st['model'].split('/')[-1]} | {st['ttft_no_cache_ms']:.0f} | {st['ttft_cache_ms']:.0f} |")


if __name__ == "__main__":
    main()
