#!/bin/bash
# On the GPU machine: the scan's configuration sweep (tools/scan_timing --sweep)
# at the 7 shapes of `mambacl bench`, with the upstream CUDA anchor
# (.anchors/cuda-scan/bench.py) timed in the same call, before the sweep's
# timing phase. Variants are compiled first by parallel --build-only parts
# into the binary cache. Results under $OUT: anchor.json, sweep.log, build.log.
# usage: OUT=DIR bash tools/scan_device.sh [tests] [sweep] [pick] [bench CONFIG] [selftest] [timing B,D,L[,N,R]]
# (SCAN_NINJA_TARGETS: build only those, e.g. "scan_timing"; tests: SCAN_TESTS names the meson tests, default all; pick: scan_pick.py's tuning
# file into the binary cache's tuning folder, so that bench and timing use it)
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
bash .device/setup.sh >/dev/null 2>&1
[ -d ../shared ] || { [ -d .shared ] && ln -s "$PWD/.shared" ../shared; }
export MAMBACL_DEVICE=${MAMBACL_DEVICE:-nvidia} MAMBACL_CACHE_DIR=/tmp/mclcache
SHAPES=${SCAN_SHAPES:-"1,1536,128 1,1536,2048 1,1536,8192 1,5120,2048 8,1536,2048 16,2048,2048 64,1536,512"}
python3 .anchors/cuda-scan/bench.py -o "$OUT/anchor.json" >"$OUT/anchor.log" 2>&1 &
anchor=$!
t0=$(date +%s)
[ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null
ninja -C build-gpu ${SCAN_NINJA_TARGETS:-} >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
echo "build $(( $(date +%s) - t0 )) s"
while [ $# -gt 0 ]; do
  case "$1" in
    sweep) P=${SWEEP_PARTS:-12}; pids=""
           for i in $(seq 0 $((P - 1))); do
             timeout ${SWEEP_BUILD_S:-120} build-gpu/scan_timing --sweep $i/$P --build-only >/dev/null 2>"/tmp/sweep-build-$i.err" & pids="$pids $!"
           done
           wait $pids; cat /tmp/sweep-build-*.err >"$OUT/sweep-build.err"; echo "sweep compiled $(( $(date +%s) - t0 )) s"
           wait $anchor; echo "anchor done $(( $(date +%s) - t0 )) s"
           timeout ${SWEEP_TIME_S:-150} build-gpu/scan_timing --sweep $SHAPES >"$OUT/sweep.log" 2>&1
           grep -E "^(picked|best)" "$OUT/sweep.log"; echo "sweep timed $(( $(date +%s) - t0 )) s"
           [ -s "$OUT/sweep-build.err" ] || rm -f "$OUT/sweep-build.err" ;;
    pick)  # the sweep's winners per shape class into this device's tuning file (later runs load it)
           key=$(grep -P "^device\t" "$OUT/sweep.log" | cut -f2)
           mkdir -p /tmp/mclcache/tuning
           python3 tools/scan_pick.py "$OUT/sweep.log" "$OUT/scan-tuning.json" &&
             cp "$OUT/scan-tuning.json" "/tmp/mclcache/tuning/$key.json" ;;
    bench) shift; wait $anchor
           build-gpu/mambacl bench --config "$1" --reps ${BENCH_REPS:-3} --anchor "$OUT/anchor.json" --json "$OUT/bench-$1.json" 2>&1 | grep -v "^decode" | tail -40 ;;
    selftest) build-gpu/mambacl selftest 2>&1 | grep -E "scan|FAIL|fail" ;;
    timing) shift; build-gpu/scan_timing $(echo "$1" | tr , ' ') 2>&1 | tail -2 ;;
    tests) timeout ${TESTS_S:-600} meson test -C build-gpu --print-errorlogs --num-processes 1 ${SCAN_TESTS:-} >"$OUT/tests.log" 2>&1
           grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:" "$OUT/tests.log" ;;
    *) echo "unknown step $1"; exit 2 ;;
  esac
  shift
done
wait $anchor
cat "$OUT/anchor.json" 2>/dev/null | python3 -c "import json,sys; [print(r) for r in json.load(sys.stdin)['scan']]" 2>/dev/null
