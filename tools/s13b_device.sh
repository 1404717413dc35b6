#!/bin/bash
# session 13 call B (after A: the reads of a chained window go to pinned memory, the timeout flag once): mcl_decode_greedy (src/model/chain.c: greedy steps chained on the device, greedy_pick +
# dlayer's halt word) on the H200: the tests, bench's B=1 lines (the host loop of mcl_decode and the chained
# greedy run in the same process), main (.wt-base) beside it, and `mambacl run --greedy` chained vs
# MAMBACL_DISABLE=chain (the same text). Run from the checkout's root with .device, .shared, .wt-base carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
(cd .wt-base && meson setup build-gpu >/dev/null && ninja -C build-gpu mambacl >/tmp/base.log 2>&1; echo $? > /tmp/base.rc) &
(meson setup build-gpu >/dev/null && ninja -C build-gpu >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; exit 1; }
wait; el "builds, base rc $(cat /tmp/base.rc)"
timeout 200 meson test -C build-gpu --no-rebuild dlayer run --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u; grep -E "FAILED  \]|ERROR" $OUT/tests.log | head -12
el tests
B=.wt-base/build-gpu/mambacl; E=build-gpu/mambacl
d() { # tag binary config batch [env]
  env ${5:-} timeout 80 $2 bench --config $3 --decode-only --batch $4 --reps 3 2>&1 | grep -E '^decode|rror' |
    grep -v "host enq" | sed 's/of roofline.*launches/launches/' | sed "s/^/$1 $3 /" | cut -c1-160; }
{
d new $E 130m 1; d new $E 1.4b 1; d base $B 130m 1; d base $B 1.4b 1; d new $E 2.8b 1; d new $E 130m 1
d new-nochain $E 130m 1 MAMBACL_DISABLE=chain
} 2>&1 | tee $OUT/bench.txt
el bench
M=.shared/models/shakespeare-mamba
for v in chain nochain; do
  env $([ $v = nochain ] && echo MAMBACL_DISABLE=chain) $E run -m $M -p "ROMEO:" -n 300 --greedy > $OUT/run-$v.txt 2> /tmp/run-$v.err
  echo "run $v rc $?: $(grep -o 'generated:[^|]*' /tmp/run-$v.err)"
done
cmp $OUT/run-chain.txt $OUT/run-nochain.txt && echo "run: chained and host-loop text identical ($(wc -c < $OUT/run-chain.txt) bytes)"
el done
gcc -O2 -shared -fPIC tools/cltrace.c -o /tmp/cltrace.so -ldl &&
  LD_PRELOAD=/tmp/cltrace.so timeout 60 $E bench --config 130m --decode-only --batch 1 --reps 3 > $OUT/trace-130m.txt 2>&1
grep -E "^decode" $OUT/trace-130m.txt | cut -c1-150; grep -vE "^decode|^\[" $OUT/trace-130m.txt | head -30
el trace
