#!/bin/bash
# session 18 call D (issue 12): the flag barrier (DL_BAR=4: a word per group, release stores, every group's word
# polled by all work-items) against the default one-word barrier (DL_BAR 1): test_dlayer (test_barriers: DL_BAR=4
# bitwise against the counter tree, and its timeout), bar_timing's barrier loop for both, then the bench, the same
# binary, batch 1, interleaved. Run from the checkout's root with .device and .shared carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
build_gpu || exit 1
el build
timeout 120 meson test -C build-gpu --no-rebuild dlayer --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u; grep -E "FAILED  \]|ERROR|rror|differ" $OUT/tests.log | head -12
el tests
for b in 1 4; do MAMBACL_TUNE_SET=DL_BAR=$b timeout 40 build-gpu/bar_timing --groups 264 --n 0,16,64 --launches 100 2>&1 | tail -4 | sed "s/^/DL_BAR=$b /"; done | tee $OUT/bar.txt
el bar_timing
{ for s in def DL_BAR=4 def DL_BAR=4; do v $s 1.4b; done; el 1.4b
  for s in def DL_BAR=4; do v $s 130m; done; el 130m
  for s in DL_BAR=4 def; do v $s 2.8b; done; el 2.8b; } 2>&1 | grep -v "layers:" | tee $OUT/bench.txt
el done
