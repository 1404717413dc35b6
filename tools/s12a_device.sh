#!/bin/bash
# session 12 call A: dlayer's fixed cost per layer (staging loads issued together, the group sum by shuffles,
# phase C's inputs and phases A/D's first weight chunk in flight across the device-wide barriers) against
# main (.wt-base, git archive of the base commit), one call. Run from the checkout's root with .device,
# .shared and .wt-base carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
(cd .wt-base && meson setup build-gpu >/dev/null && ninja -C build-gpu mambacl >/tmp/base.log 2>&1; echo $? > /tmp/base.rc) &
(meson setup build-gpu >/dev/null && ninja -C build-gpu >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; exit 1; }
wait; el "builds, base rc $(cat /tmp/base.rc)"
timeout 150 meson test -C build-gpu --no-rebuild dlayer decode forward --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u; grep -E "FAILED  \]" $OUT/tests.log | head -12
el tests
B=.wt-base/build-gpu/mambacl; E=build-gpu/mambacl
d() { # tag binary config batch [env]
  env ${5:-} timeout 50 $2 bench --config $3 --decode-only --batch $4 --reps 3 2>&1 | grep -E '^decode|rror' |
    grep -v "host enq" | sed 's/of roofline.*launches/launches/' | sed "s/^/$1 $3 /" | cut -c1-150; }
{
d base $B 1.4b 1; d new $E 1.4b 1; d base $B 130m 1; d new $E 130m 1
d base $B 2.8b 1; d new $E 2.8b 1
d base-skip15 $B 1.4b 1 MAMBACL_TUNE_SET=DL_SKIP=15; d new-skip15 $E 1.4b 1 MAMBACL_TUNE_SET=DL_SKIP=15
d new-skip6 $E 1.4b 1 MAMBACL_TUNE_SET=DL_SKIP=6; d base-skip6 $B 1.4b 1 MAMBACL_TUNE_SET=DL_SKIP=6
d new $E 1.4b 1; d base $B 1.4b 1; d new $E 130m 1; d base $B 130m 1
} 2>&1 | tee $OUT/bench.txt
el bench
