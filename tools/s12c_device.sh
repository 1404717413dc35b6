#!/bin/bash
# session 12 call C: dlayer binding the arena once (one_buf) on top of call A's kernel changes: the H200 tests,
# the host's enqueue time per dlayer launch (tools/cltrace.c), base (.wt-base) vs this tree.
# Run from the checkout's root with .device, .shared and .wt-base carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
(cd .wt-base && meson setup build-gpu >/dev/null; ninja -C build-gpu mambacl >/tmp/base.log 2>&1; echo $? > /tmp/base.rc) &
(meson setup build-gpu >/dev/null; ninja -C build-gpu >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; exit 1; }
gcc -O2 -shared -fPIC tools/cltrace.c -o /tmp/cltrace.so -ldl || exit 1
wait; el "builds, base rc $(cat /tmp/base.rc)"
timeout 150 meson test -C build-gpu --no-rebuild dlayer decode forward model_ref --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u; grep -E "FAILED  \]" $OUT/tests.log | head -12
el tests
B=.wt-base/build-gpu/mambacl; E=build-gpu/mambacl
for c in 1.4b 130m; do
  LD_PRELOAD=/tmp/cltrace.so timeout 60 $E bench --config $c --decode-only --batch 1 --reps 3 2>&1 |
    grep -E "^decode|cltrace enqueue (dlayer|embed)|cltrace clEnqueue" | grep -v layers: | sed "s/^/trace $c /" | cut -c1-150
done
el traces
d() { # tag binary config batch [env]
  env ${5:-} timeout 90 $2 bench --config $3 --decode-only --batch $4 --reps 3 2>&1 | grep -E '^decode|rror' |
    grep -v "layers:" | sed 's/of roofline.*launches/launches/' | sed "s/^/$1 $3 /" | cut -c1-150; }
{
d new $E 1.4b 1; d base $B 1.4b 1; d new $E 130m 1; d base $B 130m 1; d new $E 2.8b 1; d base $B 2.8b 1
d new $E 1.4b 1; d base $B 1.4b 1
} 2>&1 | tee $OUT/bench.txt
el bench
