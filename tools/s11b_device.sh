#!/bin/bash
# session 11 call B: issue 13's scan shapes with the CUDA anchor in the same call, prefill figures, scan/gemm tests
# (committed as tools/s11b_device.sh; run from the checkout's root with .device, .shared and, for a, .wt-base
# (git archive of the base commit) carried; b also carries .anchors)
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
(meson setup build-gpu >/dev/null 2>&1; ninja -C build-gpu >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; exit 1; }
echo "build $(( $(date +%s) - t0 )) s"
timeout 120 python3 .anchors/cuda-scan/bench.py -o $OUT/anchor.json > /tmp/anchor.log 2>&1; echo "anchor rc $?"; tail -n 12 /tmp/anchor.log
echo "anchor $(( $(date +%s) - t0 )) s"
timeout 200 build-gpu/mambacl bench --config 1.4b --anchor $OUT/anchor.json --reps 3 --json $OUT/bench14.json > $OUT/bench14.txt 2>&1
echo "bench rc $?"; grep -vE "^ +[a-z_0-9]+ +[0-9.]+ ms" $OUT/bench14.txt | grep -v "host enq" | cut -c1-170 | head -60
echo "bench $(( $(date +%s) - t0 )) s"
for c in 130m 2.8b; do timeout 70 build-gpu/mambacl bench --config $c --prefill-only --reps 3 2>&1 | grep -E '^prefill' | sed "s/^/$c /"; done > $OUT/prefill.txt
cat $OUT/prefill.txt | cut -c1-150
echo "prefill $(( $(date +%s) - t0 )) s"
timeout $(( 470 - ($(date +%s) - t0) )) meson test -C build-gpu scan --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u; grep -E "FAILED  \]" $OUT/tests.log | head
echo "all $(( $(date +%s) - t0 )) s"
