#!/bin/bash
# (GEMM_MAXRREG was removed after call D: NVIDIA's OpenCL ignores -cl-nv-maxrregcount=N and refuses "-cl-nv-maxrregcount N"; docs/performance.md "Session 19")
# session 19 call A (issue 11): the mma GEMM under a register cap (GEMM_MAXRREG, passed as NVIDIA's
# -cl-nv-maxrregcount) and the 128x128x32 block with GEMM_FAST alone, the two leads session 9 left
# (docs/performance.md "gemm9"). gemm_timing at the three 1.4b prefill shapes over $SETS (gemm.cl rebuilt per
# set), ptxas -v of each set's PTX (registers, spills: did the cap take?), cuBLAS in the same call, an ncu try,
# then test_gemm (its configurations include two capped ones), the 1.4b prefill bench of the default against
# the fastest set at in_proj, and test_scan (session 18's scan_dt2 clamp and session 19's, not yet run on the H200).
# Run from the checkout's root with .device and .shared carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
build_gpu || exit 1
el build
PTXAS=$(ls /usr/local/cuda*/bin/ptxas 2>/dev/null | tail -1)
[ -z "$PTXAS" ] && PTXAS=$(python3 -c "import triton,os;print(os.path.dirname(triton.__file__))" 2>/dev/null)/backends/nvidia/bin/ptxas
echo "ptxas: $PTXAS"
SHAPES="2048,8192,2048 2048,2048,4096"
B128="GEMM_BM=128,GEMM_BN=128,GEMM_BK=32,GEMM_SWZ=1"
SETS=${SETS:-"GEMM_MAXRREG=96 GEMM_MAXRREG=104 GEMM_MAXRREG=112 GEMM_MAXRREG=128
  $B128 $B128,GEMM_MAXRREG=168 $B128,GEMM_MAXRREG=160 $B128,GEMM_MAXRREG=128 $B128,GEMM_WM=4
  $B128,GEMM_WM=4,GEMM_MAXRREG=96 GEMM_BN=256,GEMM_SWZ=1,GEMM_WN=4"}
sets=""; for x in $SETS; do sets="$sets --set $x"; done
P=/tmp/s19ptx; rm -rf $P; mkdir -p $P
for sh in $SHAPES; do
  extra=""; [ "$sh" = "2048,8192,2048" ] && extra="--ptx $P"
  timeout 150 build-gpu/gemm_timing ${sh//,/ } bf16 20 --paths mma $extra $sets | grep -v "^device"
done 2>&1 | tee $OUT/gemm.txt
el gemm_timing
timeout 60 python3 tools/torch_matmul.py $SHAPES 2>&1 | tee -a $OUT/gemm.txt
el torch
if [ -x "$PTXAS" ]; then # in the background, on the CPU, while the GPU runs the rest
  ( ls $P/gemm-*.ptx | xargs -P 8 -I{} sh -c 'f={}; timeout 40 '"$PTXAS"' -arch=sm_90 -v $f -o ${f%.ptx}.cubin >${f%.ptx}.v 2>&1'
    for f in $P/gemm-*.ptx; do
      v=${f%.ptx}.v
      echo "-- $(cat ${f%.ptx}.txt): maxnreg in PTX: $(grep -m1 -o 'maxnreg [0-9]*' $f || echo none)"
      awk '/Compiling entry function .gemm_mma_bf16/{f=1} f&&/Used|spill/{print} f&&/Used/{f=0}' $v | grep . || head -3 $v
    done >$OUT/ptxas.txt 2>&1 ) &
fi
NCU=$(command -v ncu || ls /usr/local/cuda*/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
if [ -n "$NCU" ]; then
  timeout 60 "$NCU" --clock-control none -k regex:gemm_mma --launch-skip 1 --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section WarpStateStats \
    build-gpu/gemm_timing 2048 8192 2048 bf16 2 --paths mma >$OUT/ncu.txt 2>&1
  echo "ncu rc $?"; grep -v "^==PROF==" $OUT/ncu.txt | tail -60
fi
el ncu
timeout 150 meson test -C build-gpu --no-rebuild gemm --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:|configurations|FAILED" $OUT/tests.log | sort -u
el tests
best=$(awk '/M 2048 N 8192 K 2048/ && $1 != "default" {print $11, $1}' $OUT/gemm.txt | sort -n | head -1 | cut -d' ' -f2)
echo "fastest set at in_proj: $best"
for s in def "$best" def "$best"; do
  if [ "$s" = def ]; then timeout 90 build-gpu/mambacl bench --config 1.4b --prefill-only --reps 3 2>&1 | grep -E "^prefill|rror" | sed "s/^/def /"
  else MAMBACL_TUNE_SET=$s timeout 90 build-gpu/mambacl bench --config 1.4b --prefill-only --reps 3 2>&1 | grep -E "^prefill|rror" | sed "s/^/$s /"; fi
done 2>&1 | tee $OUT/prefill.txt
el prefill
wait; cat $OUT/ptxas.txt
timeout 150 build-gpu/tests/test_scan >$OUT/test_scan.log 2>&1; echo "test_scan rc $?"
grep -E "PASSED|FAILED|ERROR" $OUT/test_scan.log | head
el done
