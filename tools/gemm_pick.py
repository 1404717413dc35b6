"""Picks the fastest gemm.cl configuration of a gemm_timing sweep log (lines
'<label> mma M .. N .. K .. dtype ..  T ms  R TFLOP/s  max err E (rel X)'):
the smallest sum of times over the shapes, among the labels timed at every
shape whose relative error stays within 4x the default's at each shape and
that keep the two-part split (GEMM_SPLIT=1 is a precision choice, never
picked). Prints the label ('default' when nothing is faster).
--rows M: only the lines of M rows; --weight N,K,W: a shape of N x K counts
W times in the sum (e.g. the LM head once per 48 layers' projections).
usage: python3 tools/gemm_pick.py SWEEP.log [--rows M] [--weight N,K,W]..."""
import re
import sys

pat = re.compile(r"^(\S+)\s+mma\s+M (\d+) N (\d+) K (\d+) dtype \S+\s+([\d.]+) ms .* \(rel ([\d.e+-]+)\)")
rows, weight, args = None, {}, sys.argv[2:]
while args:
    if args[0] == "--rows":
        rows, args = args[1], args[2:]
    elif args[0] == "--weight":
        n, k, w = args[1].split(",")
        weight[(n, k)], args = float(w), args[2:]
    else:
        sys.exit(f"unknown argument {args[0]}")
times, errs = {}, {}
for line in open(sys.argv[1]):
    m = pat.match(line)
    if not m or (rows and m.group(2) != rows):
        continue
    label, shape = m.group(1), m.group(2, 3, 4)
    times.setdefault(label, {})[shape] = float(m.group(5)) * weight.get(shape[1:], 1.0)
    errs.setdefault(label, {})[shape] = float(m.group(6))
base = times.get("default", {})
best, best_t = "default", sum(base.values()) if base else float("inf")
for label, t in times.items():
    if label == "default" or "GEMM_SPLIT=1" in label or set(t) != set(base):
        continue
    if any(errs[label][s] > 4 * errs["default"][s] + 1e-7 for s in t):
        continue
    if sum(t.values()) < best_t:
        best, best_t = label, sum(t.values())
print(best)
print(f"pick {best}: {best_t:.4f} ms over {len(base)} shapes (default {sum(base.values()):.4f} ms)", file=sys.stderr)
