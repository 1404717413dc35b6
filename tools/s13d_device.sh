#!/bin/bash
# session 13 call D: greedy_pick gathers the next step's embedding row (no embed_gather launch after the first
# step) against the commit before it (.wt-base = b2c5917, pinned window reads), bench's chained greedy line;
# tests on the H200. Run from the checkout's root with .device, .shared and .wt-base carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
(cd .wt-base && meson setup build-gpu >/dev/null && ninja -C build-gpu mambacl >/tmp/base.log 2>&1; echo $? > /tmp/base.rc) &
(meson setup build-gpu >/dev/null && ninja -C build-gpu >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; exit 1; }
wait; el "builds, base rc $(cat /tmp/base.rc)"
timeout 150 meson test -C build-gpu --no-rebuild dlayer kernels run --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u; grep -E "FAILED  \]|ERROR" $OUT/tests.log | head -12
el tests
B=.wt-base/build-gpu/mambacl; E=build-gpu/mambacl
g() { # tag binary config
  timeout 80 $2 bench --config $3 --decode-only --batch 1 --reps 1 2>&1 |
    grep -oE '^decode +B=1 +[0-9.]+ ms/step|kernels [0-9.]+|chained on the device\): +[0-9.]+ ms/step +[0-9]+ tokens/s|rror.*' |
    sed 's/chained on the device): */greedy /; s/^decode *B=1 */host loop /' | tr '\n' ' ' | sed "s/^/$1 $3: /"; echo; }
{
g new $E 130m; g base $B 130m; g new $E 130m; g base $B 130m
g new $E 1.4b; g base $B 1.4b; g new $E 2.8b; g base $B 2.8b
} 2>&1 | tee $OUT/bench.txt
el bench
