#!/usr/bin/env python3
"""The ten largest prefill kernels per L of `mambacl bench --json` files.

usage: bench_kernels.py DIR VARIANT...  (reads DIR/bench-VARIANT.json; used by
tools/pre8_device.sh and scan9_device.sh on the GPU machine)"""
import json
import sys


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    for v in argv[2:]:
        try:
            d = json.load(open(f"{argv[1]}/bench-{v}.json"))
        except Exception as e:  # a missing or cut-off file is reported, not fatal
            print(v, "no json", e)
            continue
        for e in d.get("prefill", []):
            k = e.get("kernels_ms", {})
            top = sorted(k.items(), key=lambda x: -x[1])[:10]
            print(v, e["L"], round(e["ms"], 3), {n: round(t, 2) for n, t in top})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
