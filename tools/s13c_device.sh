#!/bin/bash
# session 13 call C: dlayer's grid and group size at 130m and 1.4b, now that the chained greedy decode makes a
# step's time the kernels' (bench's "greedy ... chained" line): work-groups per SM (DL_GPC: the probe halves
# from it) and DL_WG, DL_UNR. Run from the checkout's root with .device and .shared carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache
(meson setup build-gpu >/dev/null && ninja -C build-gpu mambacl >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; exit 1; }
el build
E=build-gpu/mambacl
g() { # config [tune-set]
  env ${2:+MAMBACL_TUNE_SET=$2} timeout 80 $E bench --config $1 --decode-only --batch 1 --reps 1 2>&1 |
    grep -oE '[0-9]+ work-groups|chained on the device\): +[0-9.]+ ms/step +[0-9]+ tokens/s|rror.*' |
    sed 's/chained on the device): *//' | tr '\n' ' ' | sed "s/^/$1 ${2:-default}: /"; echo; }
{
g 130m; g 130m DL_GPC=1; g 130m DL_WG=512,DL_GPC=1; g 130m DL_WG=512; g 130m DL_WG=128; g 130m DL_WG=1024,DL_GPC=1
g 130m DL_UNR=2; g 130m
g 1.4b; g 1.4b DL_GPC=1; g 1.4b DL_WG=512; g 1.4b DL_WG=128; g 1.4b
} 2>&1 | tee $OUT/sweep.txt
el sweep
