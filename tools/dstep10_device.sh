#!/bin/bash
# dstep10_device.sh: session 10's (dstep10, issue 12) one call on the GPU
# machine, run from a copy of the branch's worktree inside the lead's
# checkout (.wt-dstep10): the tests dlayer, decode, forward, model_ref, then
# `mambacl bench --decode-only --batch 1 --reps 3` at 1.4b and 130m with
# DL_LPL=1 (one launch per layer, session 9's path), DL_LPL=8 and the default
# (all the layers of an arena: one launch), all in the same call. Logs into $OUT.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache-dstep10 MAMBACL_TEST_LONG=0
(timeout 120 meson setup build-gpu >/dev/null && timeout 150 ninja -C build-gpu >"$OUT/build.log" 2>&1) ||
  { tail -30 "$OUT/build.log"; exit 1; }
el "built"
timeout 170 meson test -C build-gpu --no-rebuild --print-errorlogs --num-processes 4 dlayer decode forward model_ref \
  >"$OUT/tests.log" 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" "$OUT/tests.log"
grep -E "FAILED  \]|fail_msg|error:" "$OUT/tests.log" | head -8
el "tests"
bench() { # config, DL_LPL ("" = default)
  local set="DL_LPL=$2"
  [ -n "$2" ] || set=""
  echo "== $1 MAMBACL_TUNE_SET=$set"
  MAMBACL_TUNE_SET=$set timeout 45 build-gpu/mambacl bench --config "$1" --decode-only --batch 1 --reps 3 2>&1 |
    grep --line-buffered -E "^decode|warn|error"
}
{
  for c in 1.4b 130m; do
    for l in 1 "" 8; do bench $c "$l"; done
    el "$c"
  done
  bench 1.4b 1
  el "1.4b again (drift)"
} 2>&1 | tee "$OUT/bench.log"
el "done"
