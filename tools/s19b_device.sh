#!/bin/bash
# session 19 call B (issue 11): is 1.4b prefill slower than session 11's 39,951 tokens/s? Call A measured
# 36,489-36,643 at L=2048. The same bench (`bench --config 1.4b --prefill-only --reps 3`, F16 random weights)
# of three trees, interleaved twice: .wt-s11 (537d5c8, session 11's status table), .wt-base (cbb946e, this
# session's start) and the checkout (session 19's clamps of skipped loads). One log with every run's kernel
# lines. Then whether NVIDIA's OpenCL takes -cl-nv-maxrregcount at all: gemm_timing of the 128x128x32 block
# capped at 64 registers (it needs ~224: a cap that takes must spill and be far slower).
# Carry .device, .shared, .wt-base, .wt-s11.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache
for w in .wt-base .wt-s11; do (cd $w && meson setup build-gpu >/dev/null && ninja -C build-gpu mambacl >/tmp/$w.log 2>&1; echo "$w rc $?") & done
build_gpu || exit 1
wait; el builds
for r in 1 2; do
  for t in .wt-s11 .wt-base new; do
    bin=build-gpu/mambacl; [ $t = new ] || bin=$t/build-gpu/mambacl
    echo "=== $t run $r" >>$OUT/prefill-all.txt
    timeout 90 $bin bench --config 1.4b --prefill-only --reps 3 >>$OUT/prefill-all.txt 2>&1
    grep -A200 "=== $t run $r" $OUT/prefill-all.txt | grep -E "^prefill|rror" | sed "s/^/$t $r /"
  done
done
el prefill
B128="GEMM_BM=128,GEMM_BN=128,GEMM_BK=32,GEMM_SWZ=1"
timeout 100 build-gpu/gemm_timing 2048 8192 2048 bf16 20 --paths mma --set $B128 --set $B128,GEMM_MAXRREG=64 --set GEMM_MAXRREG=64 2>&1 | tee $OUT/cap.txt
el done
