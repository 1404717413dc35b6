#!/bin/bash
# On the GPU machine: build, capabilities, the GEMM tests and timings against
# PyTorch and CLBlast at the 1.4b prefill shapes (M = 2048). Logs in $OUT.
# usage: [BASE=DIR] bash tools/gemm_device.sh [quick|devices|configs|suite|bench CONFIG|base DIR CONFIG|
#        tuned CONFIG|torch|try SET...|benchtag TAG CONFIG|sweep|pick|with SET|gtests|parity LABEL]...
# (sweep: gemm_timing of $SWEEP (or the list below) at the 1.4b shapes, $DT weights (f16),
#  into $OUT/sweep.log; pick: tools/gemm_pick.py's choice of it into $OUT/pick.txt;
#  with SET: a tuning file applying SET (NAME=V,... ; the word 'pick': $OUT/pick.txt's set; 'none' removes it)
#  for the tests and the CLI; gtests: meson tests gemm, tuning, model_ref, forward;
#  parity LABEL: model_ref, forward and test_gemm's BF16 long parity, errors into $OUT/parity-LABEL.log)
# (BASE: start building the tree in DIR at once, for a later `base DIR CONFIG`)
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
bash .device/setup.sh >/dev/null 2>&1
[ -d ../shared ] || { [ -d .shared ] && ln -s "$PWD/.shared" ../shared; }
[ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null
ninja -C build-gpu >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
[ -n "${BASE:-}" ] && { (cd "$BASE" && { [ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null; } &&
                        ninja -C build-gpu mambacl >"$OUT/build-base.log" 2>&1) & }
export MAMBACL_DEVICE=${MAMBACL_DEVICE:-nvidia} MAMBACL_CACHE_DIR=${MAMBACL_CACHE_DIR:-/tmp/mclcache}
# the tuning files of `with` never outlive this script (a warm machine serves other calls next)
trap 'for d in build-gpu/tests/mcl-cache "$MAMBACL_CACHE_DIR"; do python3 tools/gemm_tunefile.py $TEMPLATE "$d" none >/dev/null; done' EXIT
SHAPES="2048,8192,2048 2048,2048,4096 2048,160,4096"
DT=${DT:-f16}
SWEEP=${SWEEP:-"GEMM_FUSE=1 GEMM_FUSE=2 GEMM_FUSE=1,GEMM_BK=16,GEMM_STAGES=4 GEMM_FUSE=2,GEMM_BK=16,GEMM_STAGES=3
  GEMM_FUSE=2,GEMM_SWZ=1,GEMM_STAGES=3 GEMM_BM=128,GEMM_BN=128,GEMM_BK=16,GEMM_WM=2,GEMM_WN=2
  GEMM_BM=128,GEMM_BN=128,GEMM_BK=16,GEMM_WM=2,GEMM_WN=4 GEMM_FUSE=2,GEMM_BM=128,GEMM_BN=128,GEMM_BK=16,GEMM_WM=2,GEMM_WN=2
  GEMM_FUSE=2,GEMM_BM=128,GEMM_BN=128,GEMM_BK=16,GEMM_WM=2,GEMM_WN=4 GEMM_BM=64,GEMM_BN=256,GEMM_BK=16,GEMM_WM=2,GEMM_WN=4
  GEMM_FUSE=2,GEMM_BM=64,GEMM_BN=256,GEMM_BK=16,GEMM_WM=2,GEMM_WN=4 GEMM_SPLIT=1 GEMM_SPLIT=1,GEMM_FUSE=2"}
TEMPLATE=docs/perf/gemm-h200-s4-tune.json
while [ $# -gt 0 ]; do
  echo "== step $1 $(date +%T)"
  case "$1" in
    quick) build-gpu/mambacl devices
           build-gpu/mambacl selftest 2>&1 | grep -v " ok " | tail -20
           meson test -C build-gpu --print-errorlogs --num-processes 1 gemm model_ref forward >"$OUT/quick.log" 2>&1
           grep -E "^ *[0-9]+/[0-9]+ |capability|probe|max abs|FAIL|rror" "$OUT/quick.log" | head -40 ;;
    configs) for s in $SHAPES; do
           build-gpu/gemm_timing ${s//,/ } bf16 10 --paths mma \
             --set GEMM_SWZ=0 --set GEMM_STAGES=3 --set GEMM_BK=16,GEMM_STAGES=4 \
             --set GEMM_BM=128,GEMM_BN=128,GEMM_BK=32,GEMM_WM=2,GEMM_WN=4 \
             --set GEMM_BM=128,GEMM_BN=128,GEMM_BK=16,GEMM_WM=2,GEMM_WN=4,GEMM_STAGES=3 \
             --set GEMM_SPLIT=1,GEMM_STAGES=3 2>&1 | grep -v "^device"
           build-gpu/gemm_timing ${s//,/ } f16 10 --paths mma,simt 2>&1 | grep -v "^device"
           build-gpu/gemm_timing ${s//,/ } f32 10 --paths clblast,simt 2>&1 | grep -v "^device"
         done
         python3 tools/torch_matmul.py $SHAPES ;;
    devices) build-gpu/mambacl devices; build-gpu/mambacl devices --json >"$OUT/devices.json" ;;
    suite) meson test -C build-gpu --print-errorlogs --num-processes 1 >"$OUT/suite.log" 2>&1
           grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:" "$OUT/suite.log"
           MAMBACL_DISABLE=mma meson test -C build-gpu --print-errorlogs --num-processes 1 >"$OUT/suite-nomma.log" 2>&1
           grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:" "$OUT/suite-nomma.log" ;;
    benchtag) shift; tag=$1; shift
              build-gpu/mambacl bench --config "$1" --reps 3 --json "$OUT/bench-$tag-$1.json" 2>&1 | grep -v "^scan" ;;
    bench) shift; build-gpu/mambacl bench --config "$1" --reps 3 --json "$OUT/bench-$1.json" 2>&1 | grep -v "^scan" ;;
    base) # base DIR CONFIG: the same bench built from the source tree DIR (the commit before this work)
          dir=$2 cfg=$3; shift 2; wait
          (cd "$dir" && { [ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null; } &&
           ninja -C build-gpu mambacl >>"$OUT/build-base.log" 2>&1) || { tail -20 "$OUT/build-base.log"; exit 1; }
          "$dir"/build-gpu/mambacl bench --config "$cfg" --reps 3 --json "$OUT/bench-base-$cfg.json" 2>&1 | grep -v "^scan" ;;
    tuned) # tuned CONFIG: bench, `tune --only gemm.cl` (stopped by SIGINT after 200 s: the finished
           # families are saved), bench again with the tuned file; the tuning JSON to $OUT
           shift; b=build-gpu/mambacl
           $b bench --config "$1" --reps 3 --json "$OUT/bench-untuned-$1.json" 2>&1 | grep -v "^scan"
           timeout -s INT 200 $b tune --config "$1" --only gemm.cl --reps 3 2>&1 | tr '\r' '\n' | grep -v "^tune "
           cp "$MAMBACL_CACHE_DIR"/tuning/*.json "$OUT/" 2>/dev/null
           $b bench --config "$1" --reps 3 --json "$OUT/bench-tuned-$1.json" 2>&1 | grep -v "^scan" ;;
    torch) python3 tools/torch_matmul.py $SHAPES ;;
    try) # try SET: gemm_timing of the mma path at the 1.4b shapes with --set SET (one SET per word)
         shift; sets=""; for s in $1; do sets="$sets --set $s"; done
         for s in $SHAPES; do build-gpu/gemm_timing ${s//,/ } bf16 10 --paths mma $sets 2>&1 | grep -v "^device"; done ;;
    sweep) sets=""; for x in $SWEEP; do sets="$sets --set $x"; done
           for sh in $SHAPES; do build-gpu/gemm_timing ${sh//,/ } $DT 10 --paths mma $sets 2>&1 | grep -v "^device"; done \
             | tee "$OUT/sweep.log" ;;
    pick) python3 tools/gemm_pick.py "$OUT/sweep.log" >"$OUT/pick.txt"; cat "$OUT/pick.txt" ;;
    with) shift; p=$(cat "$OUT/pick.txt" 2>/dev/null); [ "$p" = default ] && p=""
          set_=$(echo "${1//pick/$p}" | sed 's/^,//; s/,$//; s/,,/,/'); [ -z "$set_" ] && set_=none
          for d in build-gpu/tests/mcl-cache "$MAMBACL_CACHE_DIR"; do python3 tools/gemm_tunefile.py $TEMPLATE "$d" "$set_"; done
          build-gpu/mambacl devices | grep -i nvidia ;;
    gtests) meson test -C build-gpu --print-errorlogs --num-processes 1 gemm tuning model_ref forward >"$OUT/gtests.log" 2>&1
            cat build-gpu/meson-logs/testlog.txt >>"$OUT/gtests.log" # the passing tests' output too
            grep -E "^ *[0-9]+/[0-9]+ |gemm tuning space|gemm configurations|bf16 parity|max \|logit|Fail:" "$OUT/gtests.log" ;;
    parity) shift; log="$OUT/parity-$1.log"
            meson test -C build-gpu --print-errorlogs --num-processes 1 model_ref forward >"$log" 2>&1
            cat build-gpu/meson-logs/testlog.txt >>"$log"
            MCL_TEST_FILTER=test_bf16_long_parity meson test -C build-gpu --print-errorlogs --num-processes 1 gemm >>"$log" 2>&1
            cat build-gpu/meson-logs/testlog.txt >>"$log"
            grep -E "^ *[0-9]+/[0-9]+ |bf16 parity|max \|logit|max difference|argmax differs|expected" "$log" | head -30 ;;
    *) echo "unknown step $1"; exit 2 ;;
  esac
  shift
done
