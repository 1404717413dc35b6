#!/bin/bash
# On the GPU machine (session 7, issues 11/12): the GEMM chain at the decode
# batches of 1.4b (M = 32, 64 rows; in_proj 8192x2048, x_proj 160x4096,
# out_proj 2048x4096, LM head 50280x2048, F16 weights). Logs into $OUT.
# usage: [BASE=DIR] bash tools/gemm_decode.sh STEP...
#   sweep          gemm_timing of $SWEEP (default: the list below) at those shapes -> $OUT/dsweep.log
#   pick           tools/gemm_pick.py per M (the LM head weighted 1/48: once per step against
#                  48 layers' projections) -> $OUT/pick-32.txt, $OUT/pick-64.txt
#   bench TAG B S  `mambacl bench --config 1.4b --decode-only --batch B --reps 3` (B 'all': no --batch) with
#                  MAMBACL_TUNE_SET=S (S 'pick': $OUT/pick-B.txt; 'none': no setting)
#                  -> $OUT/bench-TAG-bB.json
#   base B         the same bench built from the tree $BASE (built in the background from the start)
#   skred          test_gemm's GEMM_SKRED test (bitwise against gemm_reduce, simt and mma)
#   skredtime M S  gemm_timing of S and S,GEMM_SKRED=1 at M rows (in_proj, x_proj, out_proj)
#   tests          meson tests gemm, forward, model_ref, decode (each under a timeout)
# Every step runs under `timeout`, so a hang costs its limit, not the call.
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
bash .device/setup.sh >/dev/null 2>&1
[ -d ../shared ] || { [ -d .shared ] && ln -s "$PWD/.shared" ../shared; }
if [ -n "${BASE:-}" ]; then
  (cd "$BASE" && { [ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null; } &&
   ninja -C build-gpu mambacl >/tmp/build-base.log 2>&1; echo $? >/tmp/build-base.rc) &
fi
[ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null
ninja -C build-gpu >/tmp/build.log 2>&1 || { tail -30 /tmp/build.log; exit 1; }
export MAMBACL_DEVICE=${MAMBACL_DEVICE:-nvidia} MAMBACL_CACHE_DIR=${MAMBACL_CACHE_DIR:-/tmp/mclcache}
SHAPES="8192,2048 160,4096 2048,4096 50280,2048"
SWEEP=${SWEEP:-"GEMM_FUSE=1 GEMM_FUSE=2 GEMM_SKRED=1 GEMM_FUSE=2,GEMM_SKRED=1 GEMM_FUSE=1,GEMM_SKRED=1
  GEMM_SKRED=1,GEMM_SPLITK=16 GEMM_FUSE=2,GEMM_SKRED=1,GEMM_SPLITK=16 GEMM_FUSE=2,GEMM_SKRED=1,GEMM_SPLITK=32
  GEMM_FUSE=2,GEMM_SKRED=1,GEMM_SPLITK=16,GEMM_SKW=4 GEMM_FUSE=2,GEMM_SKRED=1,GEMM_SPLITK=32,GEMM_SKW=8
  GEMM_FUSE=2,GEMM_SKRED=1,GEMM_BM=32,GEMM_WM=1,GEMM_WN=4,GEMM_STAGES=3,GEMM_SPLITK=16
  GEMM_FUSE=2,GEMM_SKRED=1,GEMM_BM=32,GEMM_WM=1,GEMM_WN=4,GEMM_STAGES=3,GEMM_SPLITK=32,GEMM_SKW=4
  GEMM_FUSE=2,GEMM_SKRED=1,GEMM_BM=32,GEMM_BN=64,GEMM_WM=1,GEMM_WN=2,GEMM_STAGES=4,GEMM_SPLITK=16
  GEMM_FUSE=2,GEMM_SKRED=1,GEMM_BM=32,GEMM_BN=64,GEMM_BK=64,GEMM_SWZ=1,GEMM_WM=1,GEMM_WN=2,GEMM_SPLITK=16
  GEMM_FUSE=2,GEMM_SKRED=1,GEMM_BK=16,GEMM_STAGES=3,GEMM_SPLITK=16
  GEMM_FUSE=1,GEMM_SKRED=1,GEMM_BM=32,GEMM_WM=1,GEMM_WN=4,GEMM_STAGES=3,GEMM_SPLITK=16
  GEMM_SKRED=1,GEMM_BM=32,GEMM_WM=1,GEMM_WN=4,GEMM_STAGES=3,GEMM_SPLITK=16
  GEMM_FUSE=2,GEMM_SKRED=1,GEMM_BN=256,GEMM_WN=4,GEMM_BK=16,GEMM_SPLITK=16"}
bench() { # tag, batch, MAMBACL_TUNE_SET value, binary
  local set=$3
  [ "$set" = pick ] && { set=$(cat "$OUT/pick-$2.txt" 2>/dev/null); [ "$set" = default ] && set=""; }
  [ "$set" = none ] && set=""
  echo "bench $1 batch $2 MAMBACL_TUNE_SET=$set"
  local b=(--batch "$2"); [ "$2" = all ] && b=()
  MAMBACL_TUNE_SET=$set timeout ${BENCH_TIMEOUT:-150} "$4" bench --config 1.4b --decode-only "${b[@]}" --reps 3 \
    --json "$OUT/bench-$1-b$2.json" 2>&1 | grep -E "^decode|warn|rror"
  python3 -c 'import json,sys
for d in json.load(open(sys.argv[1]))["decode"]:
    print("  kernels ms/step:", " ".join(f"{k} {v:.3f}" for k, v in d["kernels_ms"].items()))' "$OUT/bench-$1-b$2.json"
}
while [ $# -gt 0 ]; do
  echo "== step $1 $(date +%T)"
  case "$1" in
    sweep) sets=""; for x in $SWEEP; do sets="$sets --set $x"; done
           for m in 64 32; do for sh in $SHAPES; do
             timeout 90 build-gpu/gemm_timing $m ${sh//,/ } f16 20 --paths mma $sets 2>&1 | grep -v "^device"
           done; done | tee "$OUT/dsweep.log" ;;
    pick) for m in 64 32; do
            python3 tools/gemm_pick.py "$OUT/dsweep.log" --rows $m --weight 50280,2048,0.0208 >"$OUT/pick-$m.txt"
            echo "M $m: $(cat "$OUT/pick-$m.txt")"; done ;;
    bench) bench "$2" "$3" "$4" build-gpu/mambacl; shift 3 ;;
    base) while [ ! -f /tmp/build-base.rc ]; do sleep 1; done
          [ "$(cat /tmp/build-base.rc)" = 0 ] || { tail -20 /tmp/build-base.log; exit 1; }
          bench base "$2" none "$BASE/build-gpu/mambacl"; shift ;;
    skred) MCL_TEST_FILTER=test_gemm_skred timeout 120 build-gpu/tests/test_gemm 2>&1 | tail -6 ;;
    skredtime) # skredtime M SET: gemm_timing of SET against SET,GEMM_SKRED=1 at the three layer shapes
           for sh in 8192,2048 160,4096 2048,4096; do
             timeout 60 build-gpu/gemm_timing $2 ${sh//,/ } f16 20 --paths mma --set $3 --set $3,GEMM_SKRED=1 2>&1 | grep -v "^device"
           done; shift 2 ;;
    tests) for t in gemm forward model_ref decode; do
             timeout 240 meson test -C build-gpu --print-errorlogs --num-processes 1 $t >"/tmp/t-$t.log" 2>&1
             echo "rc $? $(grep -E "^ *[0-9]+/[0-9]+ " /tmp/t-$t.log)"; grep -E "FAIL|differs|max abs|gemm tuning|gemm conf" /tmp/t-$t.log | head -8
           done ;;
    *) echo "unknown step $1"; exit 2 ;;
  esac
  shift
done
