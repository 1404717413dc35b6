#!/bin/bash
# session 16 call B (issue 12): the vectorized greedy_pick and the session-16 H200 rows (rgemv RG_LPR 8 RG_NL 12,
# dlayer DL_UNR 3 at 130m) against main before them (.wt-base, 71d7646) in the same call, batch 1, and the tests
# that run those kernels on the H200. Run from the checkout's root with .device, .shared, .wt-base carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
build_pair || exit 1
B=.wt-base/build-gpu/mambacl; E=build-gpu/mambacl
{ for c in 130m 370m 1.4b 2.8b; do d new $E $c 1 2; d base $B $c 1 2; d new $E $c 1 2; done; } 2>&1 | tee $OUT/bench.txt
el bench
timeout 200 meson test -C build-gpu --no-rebuild kernels dlayer decode --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u; grep -E "FAILED  \]|ERROR" $OUT/tests.log | head -12
el done
