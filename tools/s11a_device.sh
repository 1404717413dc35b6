#!/bin/bash
# session 11 call A: dstep11 (main + dstep10 + DL_MULTI; root) vs main ec021a5 (.wt-base), one call
# (committed as tools/s11a_device.sh; run from the checkout's root with .device, .shared and, for a, .wt-base
# (git archive of the base commit) carried; b also carries .anchors)
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
(cd .wt-base && meson setup build-gpu >/dev/null && ninja -C build-gpu mambacl >/tmp/base.log 2>&1; echo $? > /tmp/base.rc) &
(meson setup build-gpu >/dev/null && ninja -C build-gpu >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; exit 1; }
wait; echo "builds $(( $(date +%s) - t0 )) s, base rc $(cat /tmp/base.rc)"
timeout 170 meson test -C build-gpu dlayer decode forward model_ref --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u
grep -E "FAILED  \]" $OUT/tests.log | head -12
timeout 60 build-gpu/mambacl selftest > $OUT/selftest.txt 2>&1; echo "selftest rc $?"; grep -vE " ok " $OUT/selftest.txt | tail -8
echo "tests $(( $(date +%s) - t0 )) s"
B=.wt-base/build-gpu/mambacl; E=build-gpu/mambacl
d() { # tag binary config batch [env]
  env ${5:-} timeout 60 $2 bench --config $3 --decode-only --batch $4 --reps 3 2>&1 | grep -E '^decode|rror' | sed "s/^/$1 $3 /"; }
{
d base $B 1.4b 1; d end $E 1.4b 1; d end-multi0 $E 1.4b 1 MAMBACL_TUNE_SET=DL_MULTI=0
d base $B 130m 1; d end $E 130m 1
d end $E 2.8b 1; d end-dl8192 $E 2.8b 1 MAMBACL_TUNE_SET=DL_MAX_DINNER=8192
d base $B 130m 8; d end $E 130m 8
d end $E 1.4b 1; d base $B 1.4b 1
} > $OUT/bench.txt
grep -v "host enq" $OUT/bench.txt | sed 's/of roofline.*launches/launches/' | cut -c1-160
grep "host enq" $OUT/bench.txt | sed 's/ (unprofiled).*//' | cut -c1-110
echo "decode $(( $(date +%s) - t0 )) s"
{
d end $E 1.4b 64; d end-noslabs $E 1.4b 64 MAMBACL_DISABLE=slabs
d end-skn8 $E 1.4b 64 MAMBACL_TUNE_SET=GEMM_SKN=8; d end-skn16 $E 1.4b 64 MAMBACL_TUNE_SET=GEMM_SKN=16
d end2 $E 1.4b 64; d end-noslabs2 $E 1.4b 64 MAMBACL_DISABLE=slabs
} > $OUT/bench64.txt
grep -v "host enq" $OUT/bench64.txt | sed 's/of roofline.*launches/launches/' | cut -c1-160
echo "all $(( $(date +%s) - t0 )) s"
