#!/bin/bash
# On the GPU machine: issue 12's decode state update (branch step5). From a
# copy of this tree inside the lead's checkout (run's root, the "main" tree).
# Steps (each switched by an environment variable):
#   build this tree (build-gpu) and, MAIN=1, main in /tmp/bm; ANCHOR=1 times
#   the Triton anchor (.anchors/cuda-scan/bench.py) while they build;
#   TESTS="decode forward scan" on the GPU (TEST_S seconds at most);
#   tools/step_timing at STEP_SHAPES with each of STEP_SETS (';'-separated);
#   AUTO=1: the ssm_step.cl configuration with the least sum of the host's
#   choices over the shapes is given to the benches (MAMBACL_TUNE_SET);
#   `mambacl bench --decode-only --reps 3` for each CONFIG:ARGS of BENCH,
#   this tree and (MAIN=1) main, in the same call (ratios in one run).
# Results under $OUT (at most 8 files): anchor.json, step.txt, tests.log,
# bench.txt (bench output, per-kernel decode times), new-/main-*.json.
# usage: OUT=DIR [VAR=...] bash tools/step_device.sh
set -uo pipefail
OUT=${OUT:-/tmp/out}; MAIN_DIR=${MAIN_DIR:-..}
MAIN=${MAIN:-1}; ANCHOR=${ANCHOR:-1}; AUTO=${AUTO:-0}; TESTS=${TESTS-decode forward dlayer scan}
STEP_SHAPES=${STEP_SHAPES-1,4096,128 8,4096,128 64,4096,128 1,1536,48 8,1536,48 64,1536,48 1,5120,160}
STEP_SETS=${STEP_SETS-STEP_LPC=8;STEP_LPC=8 STEP_WG=256;STEP_LPC=16 STEP_WG=256}
BENCH=${BENCH-1.4b: 130m:}
mkdir -p "$OUT"
t0=$(date +%s); el() { echo "[$(( $(date +%s) - t0 )) s] $*" | tee -a "$OUT/bench.txt"; }
bash .device/setup.sh >/dev/null 2>&1
[ -d ../shared ] || { [ -d .shared ] && ln -s "$PWD/.shared" ../shared; }
export MAMBACL_DEVICE=nvidia MAMBACL_CACHE_DIR=/tmp/mclcache
[ "$ANCHOR" = 1 ] && { python3 .anchors/cuda-scan/bench.py -o "$OUT/anchor.json" >/tmp/anchor.log 2>&1 & anchor=$!; }
[ "$MAIN" = 1 ] && { ( [ -f /tmp/bm/build.ninja ] || meson setup /tmp/bm "$MAIN_DIR" >/dev/null
                       ninja -C /tmp/bm mambacl >/tmp/bm.log 2>&1 ) & main_build=$!; }
[ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null
ninja -C build-gpu >/tmp/build.log 2>&1 || { tail -30 /tmp/build.log; exit 1; }
[ "$MAIN" = 1 ] && { wait $main_build || tail -5 /tmp/bm.log; }
[ "$ANCHOR" = 1 ] && { wait $anchor || tail -5 /tmp/anchor.log; }
el "built"
if [ -n "$TESTS" ]; then
  timeout ${TEST_S:-100} meson test -C build-gpu --print-errorlogs --num-processes 4 $TESTS >"$OUT/tests.log" 2>&1
  grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:" "$OUT/tests.log"; el "tests"
fi
if [ -n "$STEP_SHAPES" ]; then
  sets=(); IFS=';' read -ra S <<<"$STEP_SETS"; for x in "${S[@]}"; do sets+=(--set "$x"); done
  build-gpu/step_timing --reps 50 $STEP_SHAPES "${sets[@]}" >"$OUT/step.txt" 2>&1; el "step_timing"
fi
TS=
if [ "$AUTO" = 1 ]; then
  TS=$(awk '$1=="step" && $11 ~ /\*$/ {k=""; for (i=14;i<=NF;i++) k=k" "$i; t[k]+=$12; n[k]++}
            END {for (k in t) if (n[k]>mx) mx=n[k];
                 for (k in t) if (n[k]==mx && (!f || t[k]<m)) {m=t[k]; b=k; f=1}
                 gsub(/-D/,"",b); gsub(/^ /,"",b); gsub(/ /,",",b); print b}' "$OUT/step.txt")
  el "chosen: $TS"
fi
A=; [ -s "$OUT/anchor.json" ] && A="--anchor $OUT/anchor.json"
for cb in $BENCH; do
  c=${cb%%:*}; args=${cb#*:}; args=${args//,/ }
  MAMBACL_TUNE_SET=$TS build-gpu/mambacl bench --config $c --decode-only --reps 3 $args $A --json "$OUT/new-$c.json" >>"$OUT/bench.txt" 2>&1
  el "bench new $c $args"
  [ "$MAIN" = 1 ] || continue
  /tmp/bm/mambacl bench --config $c --decode-only --reps 3 $args --json "$OUT/main-$c.json" >>"$OUT/bench.txt" 2>&1
  el "bench main $c $args"
done
python3 - "$OUT" >>"$OUT/bench.txt" 2>&1 <<'PY'
import json, sys, glob, os
for f in sorted(glob.glob(sys.argv[1] + "/*-*.json")):
    if "anchor" in f: continue
    for e in json.load(open(f)).get("decode", []):
        k = e.get("kernels_ms", {})
        top = " ".join("%s %.3f" % kv for kv in sorted(k.items(), key=lambda kv: -kv[1])[:6])
        print("%-14s B=%-3d %8.3f ms/step %8.0f tok/s | %s" % (os.path.basename(f), e["batch"], e["ms_per_step"], e["tokens_per_s"], top))
PY
grep -E "^(ssm_step|decode) |B=|chosen" "$OUT/bench.txt"
