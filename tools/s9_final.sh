#!/bin/bash
# session 9 final call (lead; run as .device/s9z.sh from the checkout root): merged main vs the session start (.wt-base = 8bd750e) in one call. Lesson: at most 8 files come back from $OUT, so tests.log and selftest.txt of that call were lost (10 files).
# usage: bash .device/s9z.sh [tests] [decode] [prefill] [anchor]
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
bash .device/setup.sh >/dev/null 2>&1
[ -d ../shared ] || ln -s "$PWD/.shared" ../shared
export MAMBACL_DEVICE=nvidia MAMBACL_CACHE_DIR=/tmp/mclcache MAMBACL_TEST_LONG=0
t0=$(date +%s)
(meson setup build-gpu >/dev/null && ninja -C build-gpu >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; exit 1; }
(cd .wt-base && meson setup build-gpu >/dev/null && ninja -C build-gpu mambacl >/dev/null 2>&1) || echo "base build failed"
echo "builds $(( $(date +%s) - t0 )) s"
has() { for b in "${ARGS[@]}"; do [ "$b" = "$1" ] && return 0; done; return 1; }
ARGS=("$@")
if has tests; then
  timeout 170 meson test -C build-gpu forward model_ref decode dlayer gemm scan --print-errorlogs >$OUT/tests.log 2>&1
  grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:|Timeout:" $OUT/tests.log | sort -u
  grep -E "FAILED  \]|fail" $OUT/tests.log | head -12
  timeout 60 build-gpu/mambacl selftest > $OUT/selftest.txt 2>&1; echo "selftest rc $?"; tail -3 $OUT/selftest.txt
  echo "tests $(( $(date +%s) - t0 )) s"
fi
if has decode; then
  for t in base end end base; do
    M=build-gpu/mambacl; [ $t = base ] && M=.wt-base/build-gpu/mambacl
    for c in 1.4b 130m; do
      timeout 80 $M bench --config $c --decode-only --reps 3 --json $OUT/bench-$t-$c.json 2>&1 | grep -E '^decode' | sed "s/^/$t $c /"
    done
  done > $OUT/bench.txt
  MAMBACL_TUNE_SET=DL_PF=1 timeout 60 build-gpu/mambacl bench --config 130m --decode-only --batch 1 --reps 3 2>&1 | grep -E '^decode' | sed "s/^/end-pf1 130m /" >> $OUT/bench.txt
  MAMBACL_TUNE_SET=DL_MAX_DINNER=2048 timeout 60 build-gpu/mambacl bench --config 1.4b --decode-only --batch 1 --reps 3 2>&1 | grep -E '^decode' | sed "s/^/end-chain 1.4b /" >> $OUT/bench.txt
  grep -v host $OUT/bench.txt | sed 's/of roofline.*launches/launches/'
  echo "decode $(( $(date +%s) - t0 )) s"
fi
if has prefill; then
  ANC=""; has anchor && timeout 100 python3 .anchors/cuda-scan/bench.py -o $OUT/anchor.json >/dev/null 2>&1 && ANC="--anchor $OUT/anchor.json"
  for t in base end ysplit; do
    M=build-gpu/mambacl; [ $t = base ] && M=.wt-base/build-gpu/mambacl
    TS=""; [ $t = ysplit ] && TS=SCAN_YSPLIT=1
    MAMBACL_TUNE_SET=$TS timeout 100 $M bench --config 1.4b --prefill-only --reps 3 $ANC --json $OUT/prefill-$t.json 2>&1 | grep -E '^(scan|prefill|gemm|  [a-z_]+ )' | sed "s/^/$t /"
  done | tee $OUT/prefill.txt | head -60
  echo "prefill $(( $(date +%s) - t0 )) s"
fi
