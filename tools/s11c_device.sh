#!/bin/bash
# session 11 call C (the lead's last, ~4 minutes of device time left): main's dlayer/decode tests on the H200,
# 2.8b B=1 on the default dispatch (DL_MAX_DINNER 8192), 1.4b B=1 with one group per SM (DL_GPC=1), and the
# GEMM against cuBLAS (torch) at 1.4b's in_proj prefill shape.
# Run from the checkout's root with .device and .shared carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
(meson setup build-gpu >/dev/null 2>&1; timeout 200 ninja -C build-gpu >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; exit 1; }
el built
timeout 80 meson test -C build-gpu --no-rebuild dlayer decode --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u; grep -E "FAILED  \]" $OUT/tests.log | head
el tests
E=build-gpu/mambacl
d() { # tag config batch [env]
  env ${4:-} timeout 40 $E bench --config $2 --decode-only --batch $3 --reps 3 2>&1 | grep -E '^decode|rror' | grep -v "host enq" |
    sed 's/of roofline.*launches/launches/' | sed "s/^/$1 $2 /" | cut -c1-150; }
{ d def 2.8b 1; d def 1.4b 1; d gpc1 1.4b 1 MAMBACL_TUNE_SET=DL_GPC=1; } 2>&1 | tee $OUT/bench.txt
el bench
# issue 11's GEMM ratio at 1.4b's in_proj prefill shape (M = 2048), cuBLAS in the same call
timeout 30 build-gpu/gemm_timing 2048 8192 2048 bf16 20 --paths mma,clblast 2>&1 | tail -n 3 | tee $OUT/gemm.txt
timeout 40 python3 tools/torch_matmul.py 2048,8192,2048 2>&1 | grep bfloat16 | tee -a $OUT/gemm.txt
el gemm
