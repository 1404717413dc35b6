#!/bin/bash
# pre8's device calls (issue 11, the prefill passes around the GEMMs), run from the carried
# worktree: cd .wt-pre8 && OUT=$OUT bash tools/pre8_device.sh call1|call2
#  call1: build; test_kernels, test_gemm's presplit/mma cases, selftest; scan_timing of the dt
#         pre-pass at 1x4096x2048 (R 128) and 1x5120x2048 (R 160), F16 W_dt, SCAN_DTIN 2 and 3
#         over the built-in rows; gemm_timing of out_proj with GEMM_FUSE 1/2; then
#         `mambacl bench --config 1.4b --prefill-only --reps 3` with this branch's defaults
#         (new) and with MAMBACL_DISABLE=presplit MAMBACL_TUNE_SET=CONV_TT=0 (main's passes).
#  call2: main's tree in ../.wt-pre8-base and this branch built side by side; the H200 tests
#         (test_kernels, test_gemm, test_forward, test_model_ref, test_forward with
#         SCAN_DTIN=2,GEMM_GEMV_MAX_ROWS=0);
#         `mambacl bench --config 1.4b --reps 3` of base then new.
# Logs into $OUT (call.log, bench JSON, tests.log).
ln -s ../.device ../.shared ../.anchors . 2>/dev/null # run from a copy inside the checkout
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mcl-new
log() { echo "== $* ($(( $(date +%s) - t0 )) s)"; }

# The prefill kernels of $OUT/bench-{base,new}.json, the ten largest per L.
summary() { python3 tools/bench_kernels.py "$OUT" base new; }

call1() {
  { meson setup build-gpu >/dev/null && timeout 200 ninja -C build-gpu mambacl scan_timing gemm_timing \
      tests/test_gemm tests/test_kernels >"$OUT/build.log" 2>&1; } || { tail -30 "$OUT/build.log"; exit 1; }
  log built
  timeout 60 build-gpu/tests/test_kernels >"$OUT/tests.log" 2>&1; echo "test_kernels rc $?"
  for f in test_gemm_presplit test_gemm_mma test_gemm_split; do
    MCL_TEST_FILTER=$f timeout 60 build-gpu/tests/test_gemm >>"$OUT/tests.log" 2>&1; echo "$f rc $?"
  done
  grep -E "presplit|max abs err" "$OUT/tests.log" | head -20
  timeout 60 build-gpu/mambacl selftest 2>&1 | grep -E "rmsnorm|conv_prefill|gemm_split|FAIL|fail" | head
  log tests
  for s in "1 4096 2048 16 128" "1 5120 2048 16 160"; do
    for d in 3 2; do
      MCL_SCAN_WDT=f16 MCL_SCAN_BASE=picked MCL_SCAN_SET="SCAN_DTIN=$d" timeout 40 build-gpu/scan_timing $s 20 2>&1 |
        tail -2 | sed "s/^/dtin$d: /" | cut -c1-400
    done
  done
  log scan
  timeout 60 build-gpu/gemm_timing 2048 2048 4096 f16 20 --paths mma --set GEMM_FUSE=1 --set GEMM_FUSE=2 2>&1 | tail -4
  log gemm
  for v in new base; do
    if [ $v = base ]; then export MAMBACL_DISABLE=presplit MAMBACL_TUNE_SET=CONV_TT=0; fi
    timeout 90 build-gpu/mambacl bench --config 1.4b --prefill-only --reps 3 --json "$OUT/bench-$v.json" 2>&1 |
      grep -E "^prefill|^ +(in_proj|out_proj|x_proj)" | head -8 | sed "s/^/$v: /"
    log "bench $v"
  done
  unset MAMBACL_DISABLE MAMBACL_TUNE_SET
  summary
}

call2() {
  (cd ../.wt-pre8-base && meson setup build-gpu >/dev/null && timeout 250 ninja -C build-gpu mambacl >/tmp/base-build.log 2>&1) &
  base=$!
  { meson setup build-gpu >/dev/null && timeout 250 ninja -C build-gpu mambacl scan_timing tests/test_gemm \
      tests/test_kernels tests/test_forward tests/test_model_ref >"$OUT/build.log" 2>&1; } ||
    { tail -30 "$OUT/build.log"; exit 1; }
  wait $base || { tail -20 /tmp/base-build.log; }
  log built
  for t in test_kernels test_forward test_model_ref; do
    timeout 60 build-gpu/tests/$t >>"$OUT/tests.log" 2>&1; echo "$t rc $?"
  done
  for f in test_gemm_presplit test_gemm_mma test_bf16_long_parity; do
    MCL_TEST_FILTER=$f timeout 60 build-gpu/tests/test_gemm >>"$OUT/tests.log" 2>&1; echo "test_gemm $f rc $?"
  done
  # every prompt (2..14 tokens too) through the tensor-core GEMM (in_proj from rmsnorm_split) and
  # the scan's dt projection as SCAN_DTIN 2 (a GEMM on the tensor cores)
  MAMBACL_TUNE_SET=SCAN_DTIN=2,GEMM_GEMV_MAX_ROWS=0 timeout 60 build-gpu/tests/test_forward >>"$OUT/tests.log" 2>&1
  echo "test_forward SCAN_DTIN=2,GEMM_GEMV_MAX_ROWS=0 rc $?"
  grep -E "presplit|max abs err|FAILED|HF|parity" "$OUT/tests.log" | head -40
  log tests
  # the new rows' SCAN_DTIN 2 against the session-7 rows' 3 at 1.4b's layer scan, F32 and F16 W_dt
  for wdt in f32 f16; do
    for d in 3 2; do
      MCL_SCAN_WDT=$wdt MCL_SCAN_BASE=picked MCL_SCAN_SET="SCAN_DTIN=$d" timeout 30 build-gpu/scan_timing \
        1 4096 2048 16 128 20 2>&1 | tail -1 | sed "s/^/$wdt dtin$d: /"
    done
  done
  log scan
  for v in base new; do
    dir=$([ $v = base ] && echo ../.wt-pre8-base || echo .)
    MAMBACL_CACHE_DIR=/tmp/mcl-$v timeout 100 $dir/build-gpu/mambacl bench --config 1.4b --reps 3 \
      --json "$OUT/bench-$v.json" >"$OUT/bench-$v.txt" 2>&1
    log "bench $v"; grep -E "^prefill|^ +(in_proj|out_proj)|^decode" "$OUT/bench-$v.txt" | head -12
  done
  summary
}

"$1"
