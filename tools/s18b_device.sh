#!/bin/bash
# session 18 call B (issue 12): what the persistent layer's floor is made of (DL_SKIP 15 = phases out; +16 the
# staging out; +32 the device-wide barriers out), each phase alone (DL_SKIP 14 = A only, 7 = D only), phase C
# in one pass at 2.8b (DL_LPC 8) and 512-item groups, the same binary, batch 1; then test_dlayer on the H200.
# Run from the checkout's root with .device and .shared carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
build_gpu || exit 1
el build
{ for s in def DL_SKIP=15 DL_SKIP=31 DL_SKIP=47 DL_SKIP=63 DL_SKIP=14 DL_SKIP=7 DL_WG=512 DL_WG=512,DL_GPC=1 def; do v $s 1.4b; done; el 1.4b
  for s in def DL_SKIP=15 DL_SKIP=31 DL_SKIP=47 DL_SKIP=14 DL_SKIP=7 DL_LPC=8 DL_WG=512 def; do v $s 2.8b; done; el 2.8b
  for s in def DL_SKIP=15 DL_SKIP=31 DL_SKIP=47 def; do v $s 130m; done; el 130m; } 2>&1 | tee $OUT/bench.txt
timeout 150 meson test -C build-gpu --no-rebuild dlayer --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u; grep -E "FAILED  \]|ERROR|rror" $OUT/tests.log | head -12
el done
