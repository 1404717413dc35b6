#!/bin/bash
# session 11 call C (the lead's last): the merged tree's dlayer/decode tests on the H200, the persistent
# layer's grid at 1.4b B=1 (DL_GPC, DL_WG), batches 2-8 on the persistent path against MAMBACL_DISABLE=pbatch,
# the cost of phase C (the state update) inside a 1.4b layer (bar_timing --layer, DL_SKIP=4 leaves it out),
# and the GEMM against cuBLAS (torch) at the 1.4b prefill shapes.
# Run from the checkout's root with .device and .shared carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
(meson setup build-gpu >/dev/null 2>&1; timeout 200 ninja -C build-gpu >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; exit 1; }
el built
timeout 100 meson test -C build-gpu --no-rebuild dlayer decode --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u; grep -E "FAILED  \]" $OUT/tests.log | head
el tests
E=build-gpu/mambacl
d() { # tag config batch [env]
  env ${4:-} timeout 40 $E bench --config $2 --decode-only --batch $3 --reps 3 2>&1 | grep -E '^decode|rror' | grep -v "host enq" |
    sed 's/of roofline.*launches/launches/' | sed "s/^/$1 $2 /" | cut -c1-150; }
{
d def 1.4b 1; d gpc1 1.4b 1 MAMBACL_TUNE_SET=DL_GPC=1; d wg512 1.4b 1 MAMBACL_TUNE_SET=DL_WG=512,DL_GPC=1
d def 130m 8; d nopb 130m 8 MAMBACL_DISABLE=pbatch; d def 130m 4; d nopb 130m 4 MAMBACL_DISABLE=pbatch
d def 1.4b 4; d nopb 1.4b 4 MAMBACL_DISABLE=pbatch
} 2>&1 | tee $OUT/bench.txt
el bench
for s in 0 4 15; do echo "DL_SKIP=$s"; MAMBACL_TUNE_SET=DL_SKIP=$s timeout 40 build-gpu/bar_timing --layer 2048,4096,128,16 --copies 8 --launches 200 2>&1 | tail -n 3; done | tee $OUT/phase.txt
el all
# issue 11's GEMM ratio at the 1.4b prefill shapes (M = 2048: in_proj, x_proj, out_proj), cuBLAS in the same call
for s in "2048 8192 2048" "2048 160 4096" "2048 2048 4096"; do
  timeout 40 build-gpu/gemm_timing $s bf16 20 --paths mma,clblast 2>&1 | tail -n 3
done | tee $OUT/gemm.txt
timeout 60 python3 tools/torch_matmul.py 2048,8192,2048 2048,160,4096 2048,2048,4096 2>&1 | grep bfloat16 | tee -a $OUT/gemm.txt
el gemm
