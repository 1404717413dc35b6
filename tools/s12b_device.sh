#!/bin/bash
# session 12 call B: where a batch-1 decode step's host time goes (tools/cltrace.c preloaded: every OpenCL
# call timed on the host, one line each), then base (.wt-base) vs this tree again, 2.8b included.
# Run from the checkout's root with .device, .shared and .wt-base carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
(cd .wt-base && meson setup build-gpu >/dev/null; ninja -C build-gpu mambacl >/tmp/base.log 2>&1; echo $? > /tmp/base.rc) &
(meson setup build-gpu >/dev/null; ninja -C build-gpu mambacl >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; exit 1; }
gcc -O2 -shared -fPIC tools/cltrace.c -o /tmp/cltrace.so -ldl || exit 1
wait; el "builds, base rc $(cat /tmp/base.rc)"
B=.wt-base/build-gpu/mambacl; E=build-gpu/mambacl
for c in 130m 1.4b; do
  CLTRACE_LOG=100000 LD_PRELOAD=/tmp/cltrace.so timeout 60 $E bench --config $c --decode-only --batch 1 --reps 3 \
    > $OUT/trace-$c.txt 2>&1
  grep -E "^decode" $OUT/trace-$c.txt | head -2 | cut -c1-150
done
el traces
d() { # tag binary config batch [env]
  env ${5:-} timeout 90 $2 bench --config $3 --decode-only --batch $4 --reps 3 2>&1 | grep -E '^decode|rror' |
    grep -v "layers:" | sed 's/of roofline.*launches/launches/' | sed "s/^/$1 $3 /" | cut -c1-150; }
{
d new $E 2.8b 1; d base $B 2.8b 1
d new $E 1.4b 1; d base $B 1.4b 1; d new $E 130m 1; d base $B 130m 1
d new $E 1.4b 1; d base $B 1.4b 1; d new $E 130m 1; d base $B 130m 1
} 2>&1 | tee $OUT/bench.txt
el bench
