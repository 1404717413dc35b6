#!/bin/bash
# session 19 call C: (1) registers as NVIDIA's own ptxas reports them (gemm_timing --options -cl-nv-verbose: the
# build log of each set), with and without -cl-nv-maxrregcount (GEMM_MAXRREG); (2) the 1.4b prefill of this
# session's start (.wt-base, cbb946e) against the checkout (scan.cl's clamps reverted), interleaved twice;
# (3) the checkout's greedy decode at 1.4b and test_forward / test_model_ref on the H200.
# Carry .device, .shared, .wt-base.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache19c MAMBACL_TEST_LONG=0
(cd .wt-base && meson setup build-gpu >/dev/null 2>&1; ninja -C build-gpu mambacl >/tmp/base.log 2>&1; echo "base rc $?") &
build_gpu || exit 1
wait; el builds
B128="GEMM_BM=128,GEMM_BN=128,GEMM_BK=32,GEMM_SWZ=1"
timeout 100 build-gpu/gemm_timing 2048 8192 2048 bf16 20 --paths mma --options -cl-nv-verbose --set GEMM_FAST=1 \
  --set GEMM_MAXRREG=64 --set $B128 --set $B128,GEMM_MAXRREG=64 2>&1 | tee $OUT/regs.txt | cut -c1-220 | head -60
el regs
for r in 1 2; do
  for t in .wt-base new; do
    bin=build-gpu/mambacl; [ $t = new ] || bin=$t/build-gpu/mambacl
    timeout 90 $bin bench --config 1.4b --prefill-only --reps 3 2>&1 | grep -E "^prefill|rror" | sed "s/^/$t $r /"
  done
done 2>&1 | tee $OUT/prefill.txt
el prefill
v def 1.4b | tee $OUT/decode.txt
el decode
timeout 200 meson test -C build-gpu --no-rebuild forward model_ref --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u
el done
