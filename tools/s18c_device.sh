#!/bin/bash
# session 18 call C (issue 12): dlayer's tagged hand-over (DL_LL=1: phases poll tagged words instead of
# device-wide barriers) against the default, the same binary, batch 1, interleaved; test_dlayer first (its
# test_layers_per_launch compares DL_LL=1 with DL_LPL=1 bit for bit). Run from the checkout's root with .device
# and .shared carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
(meson setup build-gpu >/dev/null && ninja -C build-gpu >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; exit 1; }
el build
timeout 120 meson test -C build-gpu --no-rebuild dlayer --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u; grep -E "FAILED  \]|ERROR|rror|differ" $OUT/tests.log | head -12
el tests
E=build-gpu/mambacl
v() { local set=$1 c=$2; if [ "$set" = def ]; then d def $E $c 1 2; else MAMBACL_TUNE_SET=$set d "$set" $E $c 1 2; fi; }
{ for s in def DL_LL=1 def DL_LL=1; do v $s 1.4b; done; el 1.4b
  for s in def DL_LL=1; do v $s 130m; done; el 130m
  for s in def DL_LL=1; do v $s 2.8b; done; el 2.8b; } 2>&1 | grep -v "layers:" | tee $OUT/bench.txt
el done
