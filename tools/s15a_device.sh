#!/bin/bash
# session 15 call A: dlayer over a batch with the 2-D grid (parts = dimension 1; session 14's 1-D grid
# lost half the co-resident groups at 1.4b) and the batch rule (DL_NSEQ 4, DL_BATCH_MB 32) on the H200:
# the tests (dlayer, decode), batch 1 against main (.wt-base: groups and speed restored?), batches through
# the persistent launch against DL_NSEQ=1 (the 4-launch chain) in the same call, and the rule's edges
# (130m B=6, 370m B=2/4, 1.4b B=2 forced on with DL_BATCH_MB=100000). Run from the checkout's root with
# .device, .shared, .wt-base carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
(cd .wt-base && meson setup build-gpu >/dev/null && ninja -C build-gpu mambacl >/tmp/base.log 2>&1; echo $? > /tmp/base.rc) &
(meson setup build-gpu >/dev/null && ninja -C build-gpu >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; exit 1; }
wait; el "builds, base rc $(cat /tmp/base.rc)"
timeout 200 meson test -C build-gpu --no-rebuild dlayer decode --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u; grep -E "FAILED  \]|ERROR" $OUT/tests.log | head -12
el tests
B=.wt-base/build-gpu/mambacl; E=build-gpu/mambacl
d() { # tag binary config batch reps [env]
  env ${6:-} timeout 60 $2 bench --config $3 --decode-only --batch $4 --reps $5 2>&1 | grep -E '^decode|rror' |
    grep -v "ssm_step\|host enqueues" | sed 's/of roofline.*launches/launches/' | sed "s/^/$1 $3 /" | cut -c1-170; }
{
d new $E 1.4b 1 2; d base $B 1.4b 1 2
d new $E 130m 1 2; d base $B 130m 1 2
d new $E 130m 2 2; d nseq1 $E 130m 2 2 MAMBACL_TUNE_SET=DL_NSEQ=1
d new $E 130m 4 2; d nseq1 $E 130m 4 2 MAMBACL_TUNE_SET=DL_NSEQ=1
d on6 $E 130m 6 2 MAMBACL_TUNE_SET=DL_NSEQ=8,DL_BATCH_MB=100000; d new $E 130m 6 2
d new $E 130m 8 2
d new $E 370m 2 2; d nseq1 $E 370m 2 2 MAMBACL_TUNE_SET=DL_NSEQ=1
d on4 $E 370m 4 2 MAMBACL_TUNE_SET=DL_BATCH_MB=100000; d new $E 370m 4 2
d on2 $E 1.4b 2 2 MAMBACL_TUNE_SET=DL_BATCH_MB=100000; d new $E 1.4b 2 2
} 2>&1 | tee $OUT/bench.txt
el bench
