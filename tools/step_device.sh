#!/bin/bash
# On the GPU machine: issue 12's decode state update (branch step5). From a
# copy of this tree inside the lead's checkout (run's root, the "main" tree):
# builds both, times the Triton anchor (.anchors/cuda-scan/bench.py) while
# they build, then tools/step_timing (x_proj + ssm_step per layer), `mambacl
# bench --decode-only` of 1.4b and 130m for this tree and main in the same
# call (ratios in one run), and the GPU tests of the step. Results under
# $OUT (8 files): anchor.json, step.txt, {new,main}-{1.4b,130m}.json,
# bench.txt (bench output and the per-kernel decode times), tests.log.
# usage: OUT=DIR bash tools/step_device.sh [MAIN_DIR=..]
set -uo pipefail
OUT=${OUT:-/tmp/out}; MAIN=${1:-..}
mkdir -p "$OUT"
t0=$(date +%s); el() { echo "[$(( $(date +%s) - t0 )) s] $*" | tee -a "$OUT/bench.txt"; }
bash .device/setup.sh >/dev/null 2>&1
[ -d ../shared ] || { [ -d .shared ] && ln -s "$PWD/.shared" ../shared; }
export MAMBACL_DEVICE=nvidia MAMBACL_CACHE_DIR=/tmp/mclcache
python3 .anchors/cuda-scan/bench.py -o "$OUT/anchor.json" >/tmp/anchor.log 2>&1 &
anchor=$!
( [ -f /tmp/bm/build.ninja ] || meson setup /tmp/bm "$MAIN" >/dev/null; ninja -C /tmp/bm mambacl >/tmp/bm.log 2>&1 ) &
main_build=$!
[ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null
ninja -C build-gpu >/tmp/build.log 2>&1 || { tail -30 /tmp/build.log; exit 1; }
wait $main_build || tail -5 /tmp/bm.log
wait $anchor || tail -5 /tmp/anchor.log; el "built, anchor done"
if [ "${SKIP_STEP:-0}" != 1 ]; then
build-gpu/step_timing --reps 50 1,4096,128 8,4096,128 64,4096,128 1,1536,48 8,1536,48 64,1536,48 1,5120,160 \
  --set "STEP_LPC=8" --set "STEP_LPC=8 STEP_WG=256" --set "STEP_LPC=16 STEP_WG=256" --set "STEP_LPC=16 STEP_WG=64" \
  --set "STEP_LPC=4 STEP_WG=128" --set "STEP_LPC=32 STEP_WG=128" --set "STEP_SB=16" >"$OUT/step.txt" 2>&1
el "step_timing"
fi
A="--anchor $OUT/anchor.json"; [ -s "$OUT/anchor.json" ] || A=
for c in ${CONFIGS:-1.4b 130m}; do
  build-gpu/mambacl bench --config $c --decode-only --reps 3 $A --json "$OUT/new-$c.json" >>"$OUT/bench.txt" 2>&1
  el "bench new $c"
  [ "${SKIP_MAIN:-0}" = 1 ] && continue
  /tmp/bm/mambacl bench --config $c --decode-only --reps 3 --json "$OUT/main-$c.json" >>"$OUT/bench.txt" 2>&1
  el "bench main $c"
done
python3 - "$OUT" >>"$OUT/bench.txt" 2>&1 <<'PY'
import json, sys, glob, os
for f in sorted(glob.glob(sys.argv[1] + "/*-*.json")):
    if "anchor" in f: continue
    d = json.load(open(f))
    for e in d.get("decode", []):
        ks = {k[10:]: v for k, v in e.items() if k.startswith("kernel_ms:")}
        top = ", ".join("%s %.3f" % kv for kv in sorted(ks.items(), key=lambda kv: -kv[1])[:6])
        print("%-14s B=%-3d %8.3f ms/step %8.0f tok/s | %s" % (os.path.basename(f), e["batch"], e["ms_per_step"], e["tokens_per_s"], top))
PY
if [ "${SKIP_TESTS:-0}" != 1 ]; then
timeout ${TEST_S:-100} meson test -C build-gpu --print-errorlogs --num-processes 4 decode forward dlayer scan >"$OUT/tests.log" 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:" "$OUT/tests.log"; el "tests"
fi
grep -E "^(ssm_step|decode) |B=" "$OUT/bench.txt"
