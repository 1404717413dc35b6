#!/bin/bash
# (GEMM_MAXRREG was removed after call D: NVIDIA's OpenCL ignores -cl-nv-maxrregcount=N and refuses "-cl-nv-maxrregcount N"; docs/performance.md "Session 19")
# session 19 call D: call C found "-cl-nv-maxrregcount=N" ignored (ptxas's report unchanged: 128 registers for
# the default block, 233 for 128x128x32). The registry's cl_nv_compiler_options spells it with a space,
# "-cl-nv-maxrregcount N", which GEMM_MAXRREG now passes. gemm_timing with -cl-nv-verbose over capped sets: the
# report (gemm_mma_bf16's lines) and the time, at in_proj's and out_proj's prefill shapes.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache19d
build_gpu || exit 1
el build
B128="GEMM_BM=128,GEMM_BN=128,GEMM_BK=32,GEMM_SWZ=1"
for sh in "2048 8192 2048" "2048 2048 4096"; do
  timeout 120 build-gpu/gemm_timing $sh bf16 20 --paths mma --options -cl-nv-verbose --set GEMM_MAXRREG=64 \
    --set GEMM_MAXRREG=96 --set GEMM_MAXRREG=104 --set $B128 --set $B128,GEMM_MAXRREG=168 --set $B128,GEMM_MAXRREG=160 2>&1 |
    awk '/entry function .gemm_mma_bf16/{f=1} /^log/ && f && /Used|spill/{print} /Used/{f=0} !/^log/{print}' | cut -c1-200
done 2>&1 | tee $OUT/cap.txt
el done
