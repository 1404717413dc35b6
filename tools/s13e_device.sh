#!/bin/bash
# session 13 call E: the tree as it lands (selftest row of greedy_pick, MAMBACL_DISABLE through mcl_env_lists),
# on the H200: `mambacl selftest`, the suites that touch decode, and one greedy bench line per model.
source tools/device_env.sh
export MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
(meson setup build-gpu >/dev/null && ninja -C build-gpu >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; exit 1; }
el build
build-gpu/mambacl selftest 2>&1 | grep -E "FAIL|all kernels|greedy_pick" | head -5
timeout 170 meson test -C build-gpu --no-rebuild dlayer decode forward model_ref run --print-errorlogs >$OUT/tests.log 2>&1
grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u; grep -E "FAILED  \]|ERROR" $OUT/tests.log | head -12
el tests
for c in 130m 1.4b; do
  timeout 60 build-gpu/mambacl bench --config $c --decode-only --batch 1 --reps 1 2>&1 | grep -E "greedy|rror" | sed "s/^/$c /"
done
el bench
