#!/bin/bash
# session 17 call A (issue 12): dlayer's early L2 prefetches (DL_PF bit 2: W_out before the B -> C barrier;
# DL_PFA: passes of the next layer's W_in before phase D) against the default, the same binary, batch 1,
# interleaved; then test_dlayer (which runs both) on the H200. Run from the checkout's root with .device and
# .shared carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
build_gpu || exit 1
el build
{ for s in def DL_PF=2 DL_PFA=1 DL_PF=2,DL_PFA=1 DL_PF=2,DL_PFA=2 def DL_PF=2,DL_PFA=1; do v $s 1.4b; done; el 1.4b
  for s in def DL_PF=2 DL_PF=2,DL_PFA=1 def; do v $s 130m; done; el 130m
  for s in def DL_PF=2 DL_PF=2,DL_PFA=1 def; do v $s 2.8b; done; el 2.8b; } 2>&1 | grep -v "layers:" | tee $OUT/bench.txt
timeout 150 meson test -C build-gpu --no-rebuild dlayer --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u; grep -E "FAILED  \]|ERROR|rror" $OUT/tests.log | head -12
el done
