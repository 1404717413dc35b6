#!/bin/bash
# bar_device.sh: session 8's (bar8, issue 12) measurements of the persistent
# decode layer on the GPU machine, run from a copy of the branch's worktree
# inside the lead's checkout (.wt-bar8; the base is the checkout itself, ..).
# usage: bash tools/bar_device.sh micro|final     (logs into $OUT)
#   micro: bar_timing for every barrier variant (DL_BAR 0-3), test_dlayer
#          with the new variants, and `mambacl bench --config 130m
#          --decode-only --batch 1 --reps 3` of the base and of the branch
#          under several MAMBACL_TUNE_SET settings, all in one call;
#   final: the branch's test_dlayer, test_decode, test_forward, then the
#          base and the branch's defaults at 130m and at 1.4b with the
#          persistent layer forced (DL_MAX_DINNER=9999).
source tools/device_env.sh
build() { # dir, targets...
  local d=$1; shift
  (cd "$d" && { [ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null; } && ninja -C build-gpu "$@")
}
tests=(tests/test_dlayer)
[ "${1:-}" = final ] && tests+=(tests/test_decode tests/test_forward)
build .. mambacl >"$OUT/build-base.log" 2>&1 &
build . mambacl bar_timing "${tests[@]}" >"$OUT/build-new.log" 2>&1
rn=$?
wait $! 2>/dev/null; rb=$?
[ $rn -eq 0 ] || { tail -20 "$OUT/build-new.log"; exit 1; }
[ $rb -eq 0 ] || { tail -20 "$OUT/build-base.log"; exit 1; }
el "built"
bench() { # label, dir, cache (empty: $MCL_SHARED_CACHE), tunables, config
  local label=$1 d=$2 c=${3:-${MCL_SHARED_CACHE:-/tmp/mc}} set=$4 cfg=$5
  [ "${c#/}" = "$c" ] && c=/tmp/$c
  echo "== $label: MAMBACL_TUNE_SET=$set $cfg"
  MAMBACL_CACHE_DIR=$c MAMBACL_TUNE_SET=$set timeout 40 "$d/build-gpu/mambacl" bench --config "$cfg" \
    --decode-only --batch 1 --reps 3 2>&1 | grep --line-buffered -E "^decode|warn|error"
}
case "${1:-}" in
  micro)
    for s in DL_BAR=1,DL_PF=1 DL_BAR=3; do
      echo "== test_dlayer MAMBACL_TUNE_SET=$s"
      MAMBACL_TUNE_SET=$s timeout 60 meson test -C build-gpu --no-rebuild --print-errorlogs dlayer 2>&1 | tail -25
    done >"$OUT/tests.log" 2>&1
    grep -E "^==|^ *[0-9]+/[0-9]+ " "$OUT/tests.log"
    el "tests"
    for b in 0 1 2 3; do
      MAMBACL_CACHE_DIR=/tmp/mcn MAMBACL_TUNE_SET=DL_BAR=$b timeout 60 build-gpu/bar_timing --n 0,1,3,16,64 --launches 200 2>&1
    done | tee "$OUT/micro.log"
    el "micro"
    {
      bench base .. mcb "" 130m
      for s in DL_BAR=1 DL_BAR=1,DL_PF=1 DL_BAR=3,DL_PF=1 DL_SKIP=15 DL_BAR=1,DL_SKIP=15; do
        bench new . mcn "$s" 130m
      done
    } 2>&1 | tee "$OUT/bench.log"
    el "bench" ;;
  final)
    timeout 60 meson test -C build-gpu --no-rebuild --print-errorlogs --num-processes 3 dlayer decode forward \
      >"$OUT/tests.log" 2>&1
    grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:" "$OUT/tests.log"
    el "tests"
    export MCL_SHARED_CACHE=$PWD/build-gpu/tests/mcl-cache # the tests' compiled programs (base: all but dlayer hit)
    {
      bench base .. "" "" 130m
      bench new . "" "" 130m
      el "130m"
      for b in 0 1; do
        MAMBACL_CACHE_DIR=$MCL_SHARED_CACHE MAMBACL_TUNE_SET=DL_BAR=$b timeout 20 build-gpu/bar_timing \
          --groups 132,264 --n 0,1,16,64 --launches 100 2>&1
      done
      el "micro"
      bench base .. "" DL_MAX_DINNER=9999 1.4b
      bench new . "" DL_MAX_DINNER=9999 1.4b
      el "1.4b"
      for s in DL_BAR=0,DL_PF=0 DL_PF=0 DL_SKIP=15 DL_BAR=0,DL_PF=0,DL_SKIP=15; do bench new . "" "$s" 130m; done
      bench base-again .. "" "" 130m
    } 2>&1 | tee "$OUT/bench.log"
    el "bench" ;;
  *) echo "usage: bar_device.sh micro|final"; exit 2 ;;
esac
