#!/bin/bash
# On the GPU machine (bind9, issue 12): the host's cost per decode launch.
# usage: OUT=$OUT bash tools/bind_device.sh call1|call2   (from this tree's root,
#   .device carried; call2 also needs BASE=DIR, another checkout built the same way)
# call1: tools/launch_cost and bench's host figure of the 130m chain (this tree).
# call2: launch_cost; batch-1 decode of 130m (the default and the chain:
#   MAMBACL_DISABLE=persistent) and 1.4b: base, new (records on), off (new
#   with MAMBACL_DISABLE=bind), new; 130m batch 8 base and new; test_bind and
#   test_forward on the GPU (test_decode calls the launchers, which the records
#   leave as they were).
# Logs into $OUT (at most 4 files).
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
bash .device/setup.sh >/dev/null 2>&1
[ -d ../shared ] || { [ -d .shared ] && ln -s "$PWD/.shared" ../shared; }
export MAMBACL_DEVICE=nvidia MAMBACL_CACHE_DIR=/tmp/mclcache
build() { # dir targets...
  local d=$1; shift
  (cd "$d" && { [ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null; } &&
   timeout 240 ninja -C build-gpu "$@" >"$OUT/build-$(basename "$d").log" 2>&1) ||
    { echo "build failed in $d"; tail -20 "$OUT/build-$(basename "$d").log"; exit 1; }
}
dec() { # dir config [--batch N] [VAR=value...]
  local d=$1 c=$2 b=(); shift 2
  [ "${1:-}" = --batch ] && { b=(--batch "$2"); shift 2; }
  env "$@" timeout 150 "$d/build-gpu/mambacl" bench --config "$c" --decode-only --reps 3 "${b[@]}" 2>&1 |
    grep -E 'decode +B=[0-9]+ '
}
case "${1:-}" in
  call1)
    build . mambacl launch_cost
    timeout 60 build-gpu/launch_cost --n 2000 2>&1 | tee "$OUT/launch.txt"
    { echo "== 130m chain (persistent off)"; dec . 130m MAMBACL_DISABLE=persistent
      echo "== 130m default"; dec . 130m; } 2>&1 | tee "$OUT/decode.txt" ;;
  call2)
    base=${BASE:?set BASE}
    build "$base" mambacl
    build . mambacl launch_cost tests/test_bind tests/test_forward
    timeout 60 build-gpu/launch_cost --n 2000 2>&1 | tee "$OUT/launch.txt"
    runs=("base $base" "new ." "off . bind" "new .")
    for run in "${runs[@]}"; do
      set -- $run
      echo "== 130m $1"; dec "$2" 130m --batch 1 ${3:+MAMBACL_DISABLE=$3}
      echo "== 130m-chain $1"; dec "$2" 130m --batch 1 MAMBACL_DISABLE=persistent${3:+,$3}
      echo "== 1.4b $1"; dec "$2" 1.4b --batch 1 ${3:+MAMBACL_DISABLE=$3}
    done 2>&1 | tee "$OUT/decode.txt"
    for run in "base $base" "new ."; do
      set -- $run
      echo "== 130m $1"; dec "$2" 130m --batch 8
    done 2>&1 | tee -a "$OUT/decode.txt"
    (timeout 150 meson test -C build-gpu --no-rebuild --print-errorlogs --num-processes 1 bind forward 2>&1 | tail -15) |
      tee "$OUT/tests.txt" ;;
  *) echo "usage: bind_device.sh call1|call2"; exit 2 ;;
esac
