#!/bin/bash
# session 14 call A: dlayer over a batch (the grid split into one part per sequence, DL_NSEQ) on the H200:
# the tests (dlayer, decode), batch 1 against main (.wt-base: no regression from the sequence loop), and
# batches 2, 4, 8 through the persistent launch against DL_NSEQ=1 (the 4-launch chain of main) in the same
# call. Run from the checkout's root with .device, .shared, .wt-base carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
(cd .wt-base && meson setup build-gpu >/dev/null && ninja -C build-gpu mambacl >/tmp/base.log 2>&1; echo $? > /tmp/base.rc) &
(meson setup build-gpu >/dev/null && ninja -C build-gpu >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; exit 1; }
wait; el "builds, base rc $(cat /tmp/base.rc)"
timeout 240 meson test -C build-gpu --no-rebuild dlayer decode --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u; grep -E "FAILED  \]|ERROR" $OUT/tests.log | head -12
el tests
B=.wt-base/build-gpu/mambacl; E=build-gpu/mambacl
d() { # tag binary config batch reps [env]
  env ${6:-} timeout 80 $2 bench --config $3 --decode-only --batch $4 --reps $5 2>&1 | grep -E '^decode|rror' |
    grep -v "ssm_step" | sed 's/of roofline.*launches/launches/' | sed "s/^/$1 $3 /" | cut -c1-170; }
{
d new $E 130m 1 3; d base $B 130m 1 3
d new $E 130m 8 3; d nseq1 $E 130m 8 3 MAMBACL_TUNE_SET=DL_NSEQ=1
d new $E 130m 2 2; d nseq1 $E 130m 2 2 MAMBACL_TUNE_SET=DL_NSEQ=1
d new $E 130m 4 2; d nseq1 $E 130m 4 2 MAMBACL_TUNE_SET=DL_NSEQ=1
d new $E 1.4b 1 2; d base $B 1.4b 1 2
d new $E 1.4b 4 2; d nseq1 $E 1.4b 4 2 MAMBACL_TUNE_SET=DL_NSEQ=1
d new16 $E 130m 16 2 MAMBACL_TUNE_SET=DL_NSEQ=16; d nseq1 $E 130m 16 2 MAMBACL_TUNE_SET=DL_NSEQ=1
} 2>&1 | tee $OUT/bench.txt
el bench
