#!/bin/bash
# On the GPU machine: the gemv measurements of issue 12 in one call. Builds
# this tree (build-gpu) and, when BASE names another source tree (the
# baseline, e.g. the lead's checkout that `run` sends), that one in
# BASE/build-gpu-base, at the same time; then runs the steps given, logs in
# $OUT. Each step has a time limit so one call cannot run away.
# usage: [BASE=DIR] bash tools/gemv_device.sh STEP...
# At most 8 files come back from a call: everything of gemv_timing goes to
# gemv.log, the tests to tests.log, each bench to a .log and a .json.
#   shapes   gemv_timing of this tree: the 1.4b and 130m decode shapes, every
#            kernel of gemv.cl, f16 (--space where the shape is large),
#            bf16, f32; the same f16 defaults with MAMBACL_DISABLE=ptx
#   sets     --set variants (SETS, SETS3: see set_variants)
#   base     gemv_timing of BASE at the same shapes (gemv only: the old tool)
#   bench    `mambacl bench --decode-only --reps 3` of 1.4b and 130m (and BASE)
#   tests    meson test forward kernels decode model_ref, then kernels and
#            decode again with MAMBACL_DISABLE=ptx (the fallbacks)
#   alltests the whole suite
#   rgemv    rgemv.cl (session 8) at the in_proj / out_proj / LM head shapes of
#            1.4b and 2.8b (f16, bf16, f32) and 130m (f16): default vs the old
#            gemv.cl kernels (--old) vs read_f4 of W (--read)
#   rsets    f16 at the 1.4b shapes with RG_* variants (RGSETS, ';'-separated)
#   rtests   test_decode's rgemv (again with MAMBACL_DISABLE=ptx if it fails),
#            gemv_in and gemv_split cases, test_kernels' gemv cases
#   ftests   test_forward (FT_TIMEOUT seconds)
#   bench1   `mambacl bench --decode-only --batch 1 --reps 3` of 1.4b and 130m, BASE and
#            this tree alternately (bench1-*.log)
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
bash .device/setup.sh >/dev/null 2>&1
[ -d ../shared ] || { [ -d .shared ] && ln -s "$PWD/.shared" ../shared; }
{ [ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null; ninja -C build-gpu >"$OUT/build.log" 2>&1; } &
if [ -n "${BASE:-}" ]; then
  { cd "$BASE" && { [ -f build-gpu-base/build.ninja ] || meson setup build-gpu-base >/dev/null; } &&
    ninja -C build-gpu-base >"$OUT/build-base.log" 2>&1; } &
fi
wait
tail -3 "$OUT/build.log" | grep -q "error" && { tail -30 "$OUT/build.log"; exit 1; }
export MAMBACL_DEVICE=${MAMBACL_DEVICE:-nvidia} MAMBACL_CACHE_DIR=/tmp/mclcache-gemv
T=build-gpu/gemv_timing
# kernel O I: the decode projections of 1.4b, then 130m
BIG=("in 8192 2048" "gemv 2048 4096" "head 50280 2048" "split 160 4096" "gemv 8192 2048")
SMALL=("in 3072 768" "gemv 768 1536" "head 50280 768" "split 80 1536")
big_shapes() {
  for s in "${BIG[@]}"; do
    read -r k o i <<<"$s"
    timeout 60 $T $o $i 1 f16 20 --kernel $k --space | tail -n +2
    for dt in bf16 f32; do timeout 20 $T $o $i 1 $dt 20 --kernel $k | tail -1; done
    MAMBACL_DISABLE=ptx timeout 20 $T $o $i 1 f16 20 --kernel $k | tail -1 | sed 's/^/noptx /'
    timeout 20 $T $o $i 4 f16 20 --kernel $k | tail -1
    [ $k = gemv ] && timeout 20 $T $o $i 1 f16 20 --tile | tail -1
  done
}
small_shapes() {
  for s in "${SMALL[@]}"; do
    read -r k o i <<<"$s"
    for dt in f16 bf16 f32; do timeout 20 $T $o $i 1 $dt 20 --kernel $k | tail -1; done
    MAMBACL_DISABLE=ptx timeout 20 $T $o $i 1 f16 20 --kernel $k | tail -1 | sed 's/^/noptx /'
  done
}
# SETS ("A=1 B=2;C=3"): f16 at every shape; SETS3: also bf16 and f32 at the
# large ones; the defaults with MAMBACL_DISABLE=ptx and at batch 4 too
set_variants() {
  local args=() args3=() v
  IFS=';' read -ra vs <<<"${SETS:-}"
  for v in "${vs[@]}"; do args+=(--set "$v"); done
  IFS=';' read -ra vs <<<"${SETS3:-}"
  for v in "${vs[@]}"; do args3+=(--set "$v"); done
  for s in "${BIG[@]}" "${SMALL[@]}"; do
    read -r k o i <<<"$s"
    timeout 60 $T $o $i 1 f16 20 --kernel $k "${args[@]}" | tail -n +2
    MAMBACL_DISABLE=ptx timeout 20 $T $o $i 1 f16 20 --kernel $k | tail -1 | sed 's/^/noptx /'
    [ $k = gemv ] && timeout 20 $T $o $i 1 f16 20 --tile | tail -1
  done
  for s in "${BIG[@]}"; do
    read -r k o i <<<"$s"
    for dt in bf16 f32; do timeout 60 $T $o $i 1 $dt 20 --kernel $k "${args3[@]}" | tail -n +2; done
    timeout 20 $T $o $i 4 f16 20 --kernel $k | tail -1
  done
}
RBIG=("in 8192 2048" "acc 2048 4096" "head 50280 2048")
RBIG28=("in 10240 2560" "acc 2560 5120" "head 50280 2560")
rgemv_shapes() {
  for s in "${RBIG[@]}" "${RBIG28[@]}"; do
    read -r k o i <<<"$s"
    for dt in f16 bf16 f32; do timeout 30 $T $o $i 1 $dt 20 --kernel $k --old --read | tail -n +2; done
  done
  for s in "in 3072 768" "acc 768 1536" "head 50280 768"; do
    read -r k o i <<<"$s"
    timeout 30 $T $o $i 1 f16 20 --kernel $k --old --read | tail -n +2
  done
}
rgemv_sets() {
  local args=() v
  IFS=';' read -ra vs <<<"${RGSETS:-}"
  for v in "${vs[@]}"; do args+=(--set "$v"); done
  for s in "${RBIG[@]}"; do
    read -r k o i <<<"$s"
    timeout 90 $T $o $i 1 f16 20 --kernel $k "${args[@]}" | tail -n +2
  done
}
while [ $# -gt 0 ]; do
  case "$1" in
    rgemv) rgemv_shapes >>"$OUT/gemv.log" 2>&1 ;;
    rsets) rgemv_sets >>"$OUT/gemv.log" 2>&1 ;;
    rtests) { MCL_TEST_FILTER="test_rgemv" timeout 60 build-gpu/tests/test_decode || {
                echo "== again with MAMBACL_DISABLE=ptx"; MAMBACL_DISABLE=ptx MCL_TEST_FILTER="test_rgemv" timeout 60 build-gpu/tests/test_decode; }
              MCL_TEST_FILTER="test_gemv*" timeout 60 build-gpu/tests/test_decode
              MCL_TEST_FILTER="test_gemv*" timeout 60 build-gpu/tests/test_kernels; } >"$OUT/tests.log" 2>&1
            grep -E "PASSED|FAILED|ERROR|==" "$OUT/tests.log" ;;
    ftests) { echo "== meson test forward"; timeout ${FT_TIMEOUT:-60} meson test -C build-gpu --print-errorlogs \
                --num-processes 1 forward; } >>"$OUT/tests.log" 2>&1; grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:" "$OUT/tests.log" ;;
    bench1)
      for c in ${BENCH_CONFIGS:-1.4b 130m}; do
        for r in 1 2; do
          [ -n "${BASE:-}" ] && { echo "== base $c"; timeout 120 "$BASE/build-gpu-base/mambacl" bench --config $c \
            --decode-only --batch 1 --reps 3; } >>"$OUT/bench1-$c.log" 2>&1
          { echo "== new $c"; timeout 120 build-gpu/mambacl bench --config $c --decode-only --batch 1 --reps 3; } \
            >>"$OUT/bench1-$c.log" 2>&1
          [ "${BENCH_ONCE:-0}" = 1 ] && break
        done
      done ;;
    shapes) { big_shapes; small_shapes; } >>"$OUT/gemv.log" 2>&1 ;;
    sets) set_variants >>"$OUT/gemv.log" 2>&1 ;;
    base)
      { for s in "8192 2048" "2048 4096" "50280 2048" "160 4096" "768 1536"; do echo "base $s"
          for dt in f16 bf16 f32; do timeout 20 "$BASE/build-gpu-base/gemv_timing" $s 1 $dt 20 | tail -1; done
        done; } >>"$OUT/gemv.log" 2>&1 ;;
    bench)
      for c in 1.4b 130m; do
        timeout 120 build-gpu/mambacl bench --config $c --decode-only --reps 3 --json "$OUT/bench-$c.json" \
          >"$OUT/bench-$c.log" 2>&1
        [ -n "${BASE:-}" ] && timeout 120 "$BASE/build-gpu-base/mambacl" bench --config $c --decode-only --reps 3 \
          >"$OUT/bench-base-$c.log" 2>&1
      done ;;
    tests) timeout ${TEST_TIMEOUT:-400} meson test -C build-gpu --print-errorlogs --num-processes 1 forward kernels decode model_ref \
             >"$OUT/tests.log" 2>&1
           MAMBACL_DISABLE=ptx timeout 120 meson test -C build-gpu --print-errorlogs --num-processes 1 kernels decode \
             >>"$OUT/tests.log" 2>&1; grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:" "$OUT/tests.log" ;;
    alltests) timeout 550 meson test -C build-gpu --print-errorlogs --num-processes 1 >"$OUT/tests.log" 2>&1
             grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:" "$OUT/tests.log" ;;
    *) echo "unknown step $1"; exit 2 ;;
  esac
  shift
done
