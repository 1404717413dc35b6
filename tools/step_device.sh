#!/bin/bash
# On the GPU machine: issue 12's decode state update (session 6, branch
# step6: ssm_step_tile). From a copy of this tree inside the lead's checkout
# (run's root), with .device and .shared linked in. One call, in order:
#   build this tree (build-gpu);
#   tools/step_timing at STEP_SHAPES, the runtime's tunables and each of
#   STEP_SETS (';'-separated; "STEP_TILE=0" is ssm_step alone: the kernel
#   before this branch, same binary, same call);
#   ptxas -v of the cached ssm_step.cl programs (registers, spills);
#   TESTS on the GPU (TEST_S seconds at most);
#   `mambacl bench --decode-only` for each CONFIG:ARGS of BENCH with the
#   defaults and (OLD=1, the default) with MAMBACL_TUNE_SET=STEP_TILE=0 (ratios in one run; the
#   anchor's Triton figures from ANCHOR_JSON, an earlier call on this machine).
# Results under $OUT (at most 8 files): step.txt, ptxas.txt, tests.log,
# bench.txt, new-/old-CONFIG.json.
# usage: OUT=DIR [VAR=...] bash tools/step_device.sh
set -uo pipefail
OUT=${OUT:-/tmp/out}
TESTS=${TESTS-decode forward}
STEP_SHAPES=${STEP_SHAPES-8,4096,128 16,4096,128 32,4096,128 64,4096,128 16,1536,48 64,1536,48 64,5120,160}
STEP_SETS=${STEP_SETS-STEP_TILE=0;STEP_TILE=8;STEP_TILE=8 STEP_TPRE=1;STEP_TILE=8 STEP_TPRE=1 STEP_TJ=2;STEP_TILE=8 STEP_TJ=2;STEP_TILE=8 STEP_TWG=256;STEP_TILE=8 STEP_TSQ=2 STEP_TJ=2}
BENCH=${BENCH-1.4b:--batch,64}
ANCHOR_JSON=${ANCHOR_JSON-docs/perf/h200-s6-call1-anchor.json}
mkdir -p "$OUT"
t0=$(date +%s); el() { echo "[$(( $(date +%s) - t0 )) s] $*" | tee -a "$OUT/bench.txt"; }
bash .device/setup.sh >/dev/null 2>&1
[ -d ../shared ] || { [ -d .shared ] && ln -s "$PWD/.shared" ../shared; }
export MAMBACL_DEVICE=nvidia MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
[ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null
ninja -C build-gpu >/tmp/build.log 2>&1 || { tail -30 /tmp/build.log; exit 1; }
el "built"
if [ -n "$STEP_SHAPES" ]; then
  sets=(); IFS=';' read -ra S <<<"$STEP_SETS"; for x in "${S[@]}"; do sets+=(--set "$x"); done
  build-gpu/step_timing --reps ${REPS:-30} $STEP_SHAPES "${sets[@]}" >"$OUT/step.txt" 2>&1; el "step_timing"
  grep -E "^(tile|step) .*\*" "$OUT/step.txt" | head -60
fi
# the cache files in the order they were written: the runtime's tunables, then STEP_SETS in order
{ i=0; for f in $(ls -tr $(grep -l -a ssm_step_tile /tmp/mclcache/* 2>/dev/null) 2>/dev/null); do
    python3 - "$f" /tmp/k.ptx <<'PY'
import sys
d = open(sys.argv[1], 'rb').read(); i = d.find(b'//')
open(sys.argv[2], 'wb').write(d[i:].rstrip(b'\0') if i >= 0 else b'')
PY
    echo "== $i: $f"; i=$((i + 1))
    /usr/local/cuda/bin/ptxas -v -arch=sm_90 /tmp/k.ptx -o /dev/null 2>&1 | grep -E "Compiling|registers|spill" | head -12
  done; } >"$OUT/ptxas.txt" 2>&1
el "ptxas"
if [ -n "$TESTS" ]; then
  timeout ${TEST_S:-80} meson test -C build-gpu --print-errorlogs --num-processes 2 $TESTS >"$OUT/tests.log" 2>&1
  grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:" "$OUT/tests.log"; el "tests"
fi
A=; [ -s "$ANCHOR_JSON" ] && A="--anchor $ANCHOR_JSON"
for cb in $BENCH; do
  c=${cb%%:*}; args=${cb#*:}; args=${args//,/ }
  build-gpu/mambacl bench --config $c --decode-only --reps 3 $args $A --json "$OUT/new-$c.json" >>"$OUT/bench.txt" 2>&1
  el "bench new (defaults) $c $args"
  [ "${OLD:-1}" = 1 ] || continue
  MAMBACL_TUNE_SET=STEP_TILE=0 build-gpu/mambacl bench --config $c --decode-only --reps 3 $args $A \
    --json "$OUT/old-$c.json" >>"$OUT/bench.txt" 2>&1
  el "bench old (STEP_TILE=0) $c $args"
done
grep -E "^(ssm_step|decode) |^\[" "$OUT/bench.txt"
python3 - "$OUT" >>"$OUT/bench.txt" 2>&1 <<'PY'
import json, sys, glob, os
for f in sorted(glob.glob(sys.argv[1] + "/*-*.json")):
    for e in json.load(open(f)).get("decode", []):
        k = e.get("kernels_ms", {})
        top = " ".join("%s %.3f" % kv for kv in sorted(k.items(), key=lambda kv: -kv[1])[:6])
        print("%-14s B=%-3d %8.3f ms/step %8.0f tok/s | %s" % (os.path.basename(f), e["batch"], e["ms_per_step"], e["tokens_per_s"], top))
PY
grep -E "B=" "$OUT/bench.txt" | tail -4
