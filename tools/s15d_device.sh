#!/bin/bash
# session 15 call D: the work-group sum's shuffle path moved into prims.cl's mcl_local_group_sum (dlayer's and
# rgemv's copies gone): the tests that run those kernels (dlayer, decode) on the H200, and batch-1 decode against
# main (.wt-base, 818f226: the same code but for this change) in the same call. Run from the checkout's root
# with .device, .shared, .wt-base carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
build_pair || exit 1
B=.wt-base/build-gpu/mambacl; E=build-gpu/mambacl
{ d new $E 130m 1 2; d base $B 130m 1 2; d new $E 1.4b 1 2; d base $B 1.4b 1 2; } 2>&1 | tee $OUT/bench.txt
el bench
timeout 150 meson test -C build-gpu --no-rebuild dlayer decode --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u; grep -E "FAILED  \]|ERROR" $OUT/tests.log | head -12
el done
