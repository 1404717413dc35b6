#!/bin/bash
# session 16 call A (issue 12, batch-1 decode): where the greedy step's time goes per kernel (bench's new
# profiled greedy line), the LM head (rgemv_in without conv) at the released d_model with other row-team shapes
# (gemv_timing --kernel head --set), and dlayer's row-team tunables never swept on the H200 (DL_LPR, DL_UNR 3/5/6)
# through MAMBACL_TUNE_SET, greedy tokens/s in the same call. Run from the checkout's root with .device, .shared
# carried.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
(meson setup build-gpu >/dev/null && ninja -C build-gpu >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; exit 1; }
el build
E=build-gpu/mambacl
g() { # tag config batch [TUNE_SET]: the B=1 lines of bench
  MAMBACL_TUNE_SET="${4:-}" timeout 90 $E bench --config $2 --decode-only --batch $3 --reps 2 --json $OUT/$1-$2.json 2>&1 |
    grep -E '^decode|rror|refused' | grep -v "ssm_step\|host enqueues" | sed 's/of roofline.*launches/launches/' |
    sed "s/^/$1 $2 /" | cut -c1-240; }
{
  g def 130m 1
  for s in "RG_LPR=8,RG_NL=12" "RG_LPR=16,RG_NL=6" "DL_UNR=3" "DL_LPR=16" "DL_LPR=16,DL_UNR=6" "DL_WG=512,DL_UNR=3"; do
    g "$s" 130m 1 "$s"; done
  el 130m
  g def 1.4b 1
  for s in "DL_LPR=16" "DL_LPR=16,DL_UNR=8" "DL_UNR=5" "DL_UNR=6"; do g "$s" 1.4b 1 "$s"; done
  el 1.4b
  g def 2.8b 1
  for s in "DL_UNR=5" "DL_UNR=3" "DL_LPR=16,DL_UNR=5" "RG_NL=10"; do g "$s" 2.8b 1 "$s"; done
  el 2.8b
} 2>&1 | tee $OUT/bench.txt
G=build-gpu/gemv_timing
for I in 768 1024 2048 2560; do
  timeout 100 $G 50280 $I 1 f16 30 --kernel head --read --set "RG_LPR=16 RG_NL=6" --set "RG_LPR=8 RG_NL=12" \
    --set "RG_LPR=8 RG_NL=6" --set "RG_LPR=16 RG_NL=4" --set "RG_LPR=8 RG_NL=12 RG_GPC=16" --set "RG_GPC=16" \
    --set "RG_WG=256 RG_LPR=8 RG_NL=12" --set "RG_NL=4" --set "RG_NL=10" --set "RG_LPR=16 RG_NL=10" 2>&1 | sed "s/^/head I=$I /"
done 2>&1 | tee $OUT/head.txt
el done
