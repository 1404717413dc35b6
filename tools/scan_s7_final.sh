#!/bin/bash
# Session 7's final device call (issue 13): this branch in .wt-scan7 and main's tree in .wt-base,
# both carried with .device and .anchors; run from the carried root:
#   cd .wt-scan7 && OUT=$OUT bash tools/scan_s7_final.sh
# The CUDA anchor, then: test_scan's pre-pass tests (MCL_TEST_FILTER), scan_timing --sweep with the
# built-in rows ('picked') and the SCAN_DTV 16 points of tools/scan_keep_s7b.txt, and the scan section
# of `mambacl bench --config 1.4b --anchor` for main (base) and this branch (new), one after the other.
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
ln -s ../.device ../.anchors . 2>/dev/null
bash .device/setup.sh >/dev/null 2>&1
export MAMBACL_DEVICE=nvidia
t0=$(date +%s)
python3 .anchors/cuda-scan/bench.py -o "$OUT/anchor.json" >/tmp/anchor.log 2>&1 &
anchor=$!
(cd ../.wt-base && meson setup build-gpu >/dev/null && ninja -C build-gpu mambacl >/tmp/base-build.log 2>&1) &
base=$!
{ meson setup build-gpu >/dev/null && ninja -C build-gpu mambacl scan_timing tests/test_scan >/tmp/new-build.log 2>&1; } ||
  { tail -20 /tmp/new-build.log; exit 1; }
export MAMBACL_CACHE_DIR=/tmp/mcl-new MCL_SWEEP_KEEP="$(cat tools/scan_keep_s7b.txt)"
pids=""
for i in 0 1 2 3; do timeout 60 build-gpu/scan_timing --sweep $i/4 --build-only >/dev/null 2>&1 & pids="$pids $!"; done
wait $base $pids
echo "built $(( $(date +%s) - t0 )) s"
wait $anchor
echo "anchor $(( $(date +%s) - t0 )) s"
MCL_TEST_FILTER="test_prefill_d*" timeout 90 build-gpu/tests/test_scan >"$OUT/tests.log" 2>&1
echo "test_scan rc $? $(( $(date +%s) - t0 )) s"; grep -E "^\[ +(OK|FAILED|PASSED) |max errors" "$OUT/tests.log"
timeout 60 build-gpu/scan_timing --sweep 1,1536,128 1,1536,2048 1,1536,8192 1,5120,2048 8,1536,2048 \
  16,2048,2048 64,1536,512 1,4096,2048 >"$OUT/sweep.log" 2>&1
echo "sweep $(( $(date +%s) - t0 )) s"; grep -E "^(picked|best|check.*BAD)" "$OUT/sweep.log" | cut -c1-60
for v in base new; do
  dir=$([ $v = base ] && echo ../.wt-base || echo .)
  MAMBACL_CACHE_DIR=/tmp/mcl-$v timeout 60 $dir/build-gpu/mambacl bench --config 1.4b --reps 5 \
    --anchor "$OUT/anchor.json" 2>&1 | grep -m 7 "^scan " >"$OUT/bench-$v.txt"
  echo "bench $v $(( $(date +%s) - t0 )) s"; cat "$OUT/bench-$v.txt"
done
