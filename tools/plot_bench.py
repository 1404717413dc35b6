#!/usr/bin/env python3
"""Plot prefill and decode throughput from `mambacl bench --csv` files.

usage: plot_bench.py OUT.png LABEL=FILE.csv [LABEL=FILE.csv ...]
Left: prefill tokens/s against the sequence length L (batch 1).
Right: decode tokens/s against the batch size.
One line per CSV (e.g. one per model shape). Needs matplotlib.
"""
import csv
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    prefill, decode = {}, {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            sec, name, metric, value = row["section"], row["name"], row["metric"], float(row["value"])
            if sec == "prefill" and metric == "tokens_per_s":
                prefill[int(name[1:])] = value
            if sec == "decode" and metric == "tokens_per_s":
                decode[int(name[1:])] = value
    return prefill, decode


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = sys.argv[1]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for spec in sys.argv[2:]:
        label, path = spec.split("=", 1)
        prefill, decode = read(path)
        xs = sorted(prefill)
        ax1.plot(xs, [prefill[x] for x in xs], marker="o", label=label)
        bs = sorted(decode)
        ax2.plot(bs, [decode[b] for b in bs], marker="o", label=label)
    ax1.set(xscale="log", yscale="log", xlabel="prompt length L (batch 1)", ylabel="prefill tokens/s",
            title="Prefill throughput")
    ax2.set(xscale="log", yscale="log", xlabel="batch (sequences decoded together)",
            ylabel="decode tokens/s", title="Decode throughput")
    for ax in (ax1, ax2):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
