#!/bin/bash
# On the GPU machine: build, decode bench, gemv variants, the kernel and forward
# tests (the decode work of issue 12). usage: bash tools/decode_device.sh
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
bash .device/setup.sh >/dev/null 2>&1
[ -d ../shared ] || ln -s "$PWD/.shared" ../shared
export MAMBACL_DEVICE=nvidia MAMBACL_CACHE_DIR=/tmp/mclcache
t0=$(date +%s)
meson setup build-gpu >/dev/null && ninja -C build-gpu >$OUT/build.log 2>&1 || { tail -30 $OUT/build.log; exit 1; }
echo "build $(( $(date +%s)-t0 )) s"
build-gpu/mambacl bench --config 1.4b --decode-only --reps 5 2>&1 | tee $OUT/b14.txt
build-gpu/mambacl bench --config 130m --decode-only --reps 5 2>&1 | tee $OUT/b130.txt
echo "bench $(( $(date +%s)-t0 )) s"
{
for sh in "8192 2048 1" "2048 4096 1" "160 4096 1" "50280 2048 1" "768 1536 1"; do
  build-gpu/gemv_timing $sh f16 20 --set "GEMV_F16=2" --set "GEMV_UNR=8" --set "GEMV_LPR=64 GEMV_WG=128" --set "GEMV_RPL=2" --set "GEMV_WG=128" 2>&1 | grep -v device
done
for sh in "8192 2048 1" "50280 2048 1"; do for dt in bf16 f32; do
  build-gpu/gemv_timing $sh $dt 20 --set "GEMV_UNR=8" --set "GEMV_BT=1" --set "GEMV_LPR=64 GEMV_WG=128" 2>&1 | grep -v device
done; done
build-gpu/gemv_timing 8192 2048 8 f16 20 --set "GEMV_BT=4" 2>&1 | grep -v device
} 2>&1 | tee $OUT/gemv.txt
echo "gemv $(( $(date +%s)-t0 )) s"
meson test -C build-gpu --num-processes 4 --print-errorlogs forward kernels scan model_ref >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:" $OUT/tests.log
echo "total $(( $(date +%s)-t0 )) s"
