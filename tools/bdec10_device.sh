#!/bin/bash
# On the GPU machine (session 10, bdec10: decode batches 32-64 of 1.4b):
# main (the copy's root, built beside) against this branch in one call.
#   benches  `mambacl bench --config C --decode-only --batch B --reps 3`: 1.4b B=64 and 32, 130m B=64,
#            base and new, and new with MAMBACL_DISABLE=slabs (the same binary without the fused
#            reductions) -> $OUT/bench.txt (+ per-kernel ms), JSON of 1.4b B=64 base/new
#   tests    meson test decode forward gemm on the new tree -> $OUT/tests.log
#   sweep    gemm_timing M=64 at x_proj / in_proj / out_proj (GEMM_SKN and a few tiles) -> $OUT/sweep.log
# Every step under `timeout`.
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
bash .device/setup.sh >/dev/null 2>&1
[ -e ../shared ] || ln -sfn "$PWD/.shared" ../shared
export MAMBACL_DEVICE=nvidia MAMBACL_CACHE_DIR=/tmp/mclcache-bdec10 MAMBACL_TEST_LONG=0
t0=$(date +%s)
(cd .. && { [ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null; } &&
 timeout 120 ninja -C build-gpu mambacl >/tmp/build-base.log 2>&1; echo $? >/tmp/build-base.rc) &
{ [ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null; } && timeout 120 ninja -C build-gpu >/tmp/build.log 2>&1 ||
  { tail -30 /tmp/build.log; exit 1; }
wait
echo "build $(( $(date +%s) - t0 )) s, base rc $(cat /tmp/build-base.rc)"
bench() { # tag model batch binary [env]
  local tag=$1 c=$2 b=$3 bin=$4; shift 4
  env "$@" timeout 60 "$bin" bench --config "$c" --decode-only --batch "$b" --reps 3 --json "/tmp/b-$tag.json" 2>&1 |
    grep -E '^decode|rror' | sed "s/^/$tag $c /"
  python3 -c 'import json,sys
for d in json.load(open(sys.argv[1]))["decode"]:
    print("   kernels ms/step:", " ".join(f"{k} {v:.3f}" for k, v in d["kernels_ms"].items()))' "/tmp/b-$tag.json" 2>/dev/null
}
{
  bench base64 1.4b 64 ../build-gpu/mambacl
  bench new64 1.4b 64 build-gpu/mambacl
  bench noslab64 1.4b 64 build-gpu/mambacl MAMBACL_DISABLE=slabs
  bench base32 1.4b 32 ../build-gpu/mambacl
  bench new32 1.4b 32 build-gpu/mambacl
  bench base130 130m 64 ../build-gpu/mambacl
  bench new130 130m 64 build-gpu/mambacl
  bench new64b 1.4b 64 build-gpu/mambacl
  bench base64b 1.4b 64 ../build-gpu/mambacl
} > "$OUT/bench.txt" 2>&1
cp /tmp/b-base64.json "$OUT/bench-base-b64.json" 2>/dev/null; cp /tmp/b-new64.json "$OUT/bench-new-b64.json" 2>/dev/null
grep -E 'ms/step|kernels' "$OUT/bench.txt" | sed 's/of roofline.*launches/launches/'
echo "benches $(( $(date +%s) - t0 )) s"
timeout 130 meson test -C build-gpu decode forward gemm --print-errorlogs --num-processes 1 >"$OUT/tests.log" 2>&1
echo "tests rc $?"; grep -E "^ *[0-9]+/[0-9]+ |FAILED  \]|ERROR:" "$OUT/tests.log" | head -12
echo "tests $(( $(date +%s) - t0 )) s"
{
  timeout 25 build-gpu/gemm_timing 64 160 4096 f16 20 --paths mma --set GEMM_FUSE=1,GEMM_SKN=8 \
    --set GEMM_FUSE=1,GEMM_SKN=16 --set GEMM_FUSE=1,GEMM_SKN=32 --set GEMM_FUSE=2,GEMM_SKN=32
  for sh in "8192 2048" "2048 4096"; do
    timeout 25 build-gpu/gemm_timing 64 $sh f16 20 --paths mma --set GEMM_FUSE=1 --set GEMM_FUSE=1,GEMM_STAGES=3 \
      --set GEMM_FUSE=1,GEMM_SKW=4 --set GEMM_FUSE=1,GEMM_BM=32,GEMM_WM=1,GEMM_WN=4,GEMM_STAGES=3 \
      --set GEMM_FUSE=1,GEMM_BM=32,GEMM_BN=64,GEMM_WM=1,GEMM_WN=2,GEMM_STAGES=4
  done
} 2>&1 | grep -v '^device' > "$OUT/sweep.log"
cat "$OUT/sweep.log" | awk '{print $1, $5, $7, $9, $13, $14}'
echo "all $(( $(date +%s) - t0 )) s"
