#!/bin/bash
# session 18 call A (issue 13): scan_warp with its state loop rolled (SCAN_SUNR 4 and 1: A and the carries in
# local memory, fewer registers live) against the unrolled loop (SUNR 16) and the runtime's pick, at the 7
# shapes of `mambacl bench` and 1x4096x2048, the upstream CUDA anchor in the same call; then test_scan's
# scan_warp tests on the H200. Run from the checkout's root with .device, .shared and .anchors carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache
python3 .anchors/cuda-scan/bench.py -o $OUT/anchor.json >/tmp/anchor.log 2>&1 &
anchor=$!
(meson setup build-gpu >/dev/null && ninja -C build-gpu scan_timing tests/test_scan >$OUT/build.log 2>&1) ||
  { tail -20 $OUT/build.log; exit 1; }
el build
SHAPES="1,1536,128 1,1536,2048 1,1536,8192 1,5120,2048 8,1536,2048 16,2048,2048 64,1536,512 1,4096,2048"
export MCL_SWEEP_KEEP='SCAN_DCH=(4|8|16|32) -DSCAN_NSG=1 -DSCAN_TT=4 -DSCAN_ITEMS=(4|8|16) .*-DSCAN_KEEPB=0 .*-DSCAN_DTIN=3 -DSCAN_PREF=[01] .*-DSCAN_WARP=1 -DSCAN_WL=(32|16) -DSCAN_SUNR=(16|4|1) -DSCAN_DTW=16 -DSCAN_DTV=8 '
pids=""
for i in $(seq 0 11); do
  timeout 150 build-gpu/scan_timing --sweep $i/12 --build-only >/dev/null 2>/tmp/sb-$i.err & pids="$pids $!"
done
wait $pids; cat /tmp/sb-*.err | sort | uniq -c | head -5; el "sweep compiled"
wait $anchor; el "anchor rc $?"
timeout 200 build-gpu/scan_timing --sweep $SHAPES >$OUT/sweep.log 2>&1; el "sweep timed rc $?"
grep -E "^(picked|best)" $OUT/sweep.log; grep -c "^check.* ok" $OUT/sweep.log; grep "^check" $OUT/sweep.log | grep -v " ok" | head -5
MAMBACL_SOURCE_ROOT=$PWD MAMBACL_SHARED=$PWD/../shared MCL_TEST_FILTER='*warp*' timeout 100 build-gpu/tests/test_scan >$OUT/tests.log 2>&1; el "test_scan warp rc $?"
grep -E "OK|FAILED|PASSED|rror" $OUT/tests.log | head
python3 -c "import json; [print(r) for r in json.load(open('$OUT/anchor.json'))['scan']]" 2>/dev/null
