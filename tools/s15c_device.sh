#!/bin/bash
# session 15 call C: dlayer_seq probed on its own grid (call B: its probe failed on dlayer's 264 groups and every
# batch ran the chain; now it halves down to the grid that passes, and bench prints it): the tests (dlayer,
# decode), batches through dlayer_seq against DL_NSEQ=1 (the 4-launch chain) in the same call, and the
# rule's edges forced on (DL_NSEQ=8, DL_BATCH_MB=100000). Batch 1's kernel is call B's (measured there
# against main). Run from the checkout's root with .device and .shared carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
(meson setup build-gpu >/dev/null && ninja -C build-gpu >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; exit 1; }
el build
timeout 200 meson test -C build-gpu --no-rebuild dlayer decode --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u; grep -E "FAILED  \]|ERROR" $OUT/tests.log | head -12
grep -h "note:\|not ready" $OUT/tests.log | sort -u | head -5
el tests
B=.wt-base/build-gpu/mambacl; E=build-gpu/mambacl
d() { # tag binary config batch reps [env]
  env ${6:-} timeout 60 $2 bench --config $3 --decode-only --batch $4 --reps $5 2>&1 | grep -E '^decode|rror' |
    grep -v "ssm_step\|host enqueues" | sed 's/of roofline.*launches/launches/' | sed "s/^/$1 $3 /" | cut -c1-170; }
{
F=MAMBACL_TUNE_SET=DL_NSEQ=8,DL_BATCH_MB=100000; C=MAMBACL_TUNE_SET=DL_NSEQ=1
d new $E 130m 1 2
d new $E 130m 2 2; d chain $E 130m 2 2 $C
d new $E 130m 4 2; d chain $E 130m 4 2 $C
d on $E 130m 8 2 $F; d chain $E 130m 8 2 $C
d new $E 370m 2 2; d chain $E 370m 2 2 $C
d on $E 1.4b 2 2 $F; d chain $E 1.4b 2 2 $C
} 2>&1 | tee $OUT/bench.txt
el bench
