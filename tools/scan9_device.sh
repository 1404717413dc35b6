#!/bin/bash
# scan9's device call (issues 11/13: the passes around the scan), run from the carried worktree
# with main's tree beside it in ../.wt-scan9-base:
#   cd .wt-scan9 && OUT=$OUT bash tools/scan9_device.sh
# Builds both trees side by side; the H200 tests of this branch (test_scan's dt-choice, y-parts
# and dtin cases, the scan selftests, test_forward, test_model_ref); then `mambacl bench --config
# 1.4b --prefill-only --reps 3` of base, of new, and of new with MAMBACL_TUNE_SET=SCAN_YSPLIT=1
# (split: the scan writing out_proj's split A; with SPLIT=0 not run), and the ten largest
# prefill kernels of each. Logs into $OUT: build.log, tests.log, bench-{base,new,split}.{json,txt}.
ln -s ../.device ../.shared ../.anchors . 2>/dev/null # run from a copy inside the checkout
source tools/device_env.sh
log() { echo "== $* ($(( $(date +%s) - t0 )) s)"; }

summary() { python3 tools/bench_kernels.py "$OUT" base new split; }

(cd ../.wt-scan9-base && meson setup build-gpu >/dev/null && timeout 150 ninja -C build-gpu mambacl >/tmp/base-build.log 2>&1) &
base=$!
{ meson setup build-gpu >/dev/null && timeout 150 ninja -C build-gpu mambacl tests/test_scan tests/test_forward \
    tests/test_model_ref >"$OUT/build.log" 2>&1; } || { tail -30 "$OUT/build.log"; exit 1; }
wait $base || tail -20 /tmp/base-build.log
log built
export MAMBACL_CACHE_DIR=/tmp/mcl-new
for f in test_dt_mode_rule test_prefill_dt_choice test_prefill_ysplit test_prefill_split_next ${EXTRA_TESTS:-}; do
  MCL_TEST_FILTER=$f timeout 40 build-gpu/tests/test_scan >>"$OUT/tests.log" 2>&1; echo "$f rc $?"
done
grep -E "scan_prefill_split|max errors" "$OUT/tests.log" | head -8
timeout 60 build-gpu/mambacl selftest 2>&1 | grep -E "kernel scan|FAIL|fail" | head -12
for t in test_forward test_model_ref; do
  timeout 50 build-gpu/tests/$t >>"$OUT/tests.log" 2>&1; echo "$t rc $?"
done
log tests
vs="base new"
[ "${SPLIT:-1}" = 1 ] && vs="$vs split"
for v in $vs; do
  b=build-gpu/mambacl
  [ $v = base ] && b=../.wt-scan9-base/build-gpu/mambacl
  set=${MAMBACL_TUNE_SET:-}
  [ $v = split ] && set=SCAN_YSPLIT=1
  MAMBACL_TUNE_SET=$set MAMBACL_CACHE_DIR=/tmp/mcl-$v timeout 60 $b bench --config 1.4b --prefill-only --reps 3 --json "$OUT/bench-$v.json" \
    >"$OUT/bench-$v.txt" 2>&1
  echo "bench $v rc $?"; grep -E "^prefill|tokens/s" "$OUT/bench-$v.txt" | head -6 | sed "s/^/$v: /"
  log "bench $v"
done
summary
