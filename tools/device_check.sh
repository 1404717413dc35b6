#!/bin/bash
# On the GPU machine (see ../shared/device/README.md): build, run the test
# suite on the GPU, the timing tools and `mambacl bench`; logs go to $OUT.
# usage: bash tools/device_check.sh [tests|scan|gemv|bench CONFIG|tune CONFIG]...
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
bash .device/setup.sh >/dev/null 2>&1
# shared/ does not travel by itself: carry it as .shared and put it where the tests look.
[ -d ../shared ] || { [ -d .shared ] && ln -s "$PWD/.shared" ../shared; }
[ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null
ninja -C build-gpu >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
export MAMBACL_DEVICE=${MAMBACL_DEVICE:-nvidia} MAMBACL_CACHE_DIR=/tmp/mclcache
# the long cases of the tests (test_gemm: the 4100-token BF16 parity, every tuning candidate)
export MAMBACL_TEST_LONG=${MAMBACL_TEST_LONG:-1}
while [ $# -gt 0 ]; do
  case "$1" in
    tests) meson test -C build-gpu --print-errorlogs --num-processes 1 >"$OUT/tests.log" 2>&1
           grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:" "$OUT/tests.log" ;;
    scan) for s in "1 1536 128" "1 1536 2048" "1 1536 8192" "1 5120 2048" "8 1536 2048" "16 2048 2048" "64 1536 512"; do
            build-gpu/scan_timing $s 2>&1 | tail -2; done ;;
    gemv) for s in "8192 2048 1" "2048 4096 1" "160 4096 1" "50280 2048 1" "3072 768 1" "768 1536 1"; do
            build-gpu/gemv_timing $s f16 2>&1 | tail -1; done ;;
    bench) shift; build-gpu/mambacl bench --config "$1" --json "$OUT/bench-$1.json" --csv "$OUT/bench-$1.csv" 2>&1 ;;
    tune) shift; build-gpu/mambacl tune --config "$1" 2>&1 | tr '\r' '\n' | grep -v "^tune " ;
          cp /tmp/mclcache/tuning/*.json "$OUT/" 2>/dev/null ;;
    *) echo "unknown step $1"; exit 2 ;;
  esac
  shift
done
