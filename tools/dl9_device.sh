#!/bin/bash
# dl9_device.sh: session 9's (dl9, issue 12) measurements of the persistent
# decode layer at 1.4b on the GPU machine, run from a copy of the branch's
# worktree inside the lead's checkout (.wt-dl9; the base is the checkout, ..).
# usage: bash tools/dl9_device.sh diag|final     (logs into $OUT)
#   diag:  bar_timing --layer (the whole layer, 4 copies of 1.4b's shapes,
#          F16) under DL_SKIP masks and variants (DL_ST, DL_UNR, DL_WG/GPC),
#          ptxas -v of each configuration's dlayer PTX (registers, spills),
#          then `mambacl bench --config 1.4b --decode-only --batch 1 --reps 3`
#          of the chain and of the persistent layer forced, all in one call;
#   final: the branch's test_dlayer, test_decode, test_forward; base (the
#          checkout) and branch benches at 1.4b and 130m in the same call
#          (defaults: the branch's 1.4b runs the persistent layer, the
#          base's the chain), then bar_timing --layer of the branch.
source tools/device_env.sh
PTXAS=$(ls /usr/local/cuda*/bin/ptxas 2>/dev/null | head -1)
[ -n "$PTXAS" ] || PTXAS=$(python3 -c "import triton, os; print(os.path.dirname(triton.__file__))" 2>/dev/null)/backends/nvidia/bin/ptxas
build() { # dir, targets...
  local d=$1; shift
  (cd "$d" && { [ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null; } && ninja -C build-gpu "$@")
}
# registers and spills of the newest dlayer program in cache dir $1, and its local/global load forms
regs() {
  local f
  f=$(ls -t "$1"/*dlayer*.bin 2>/dev/null | head -1)
  [ -n "$f" ] || { echo "  ptxas: no dlayer binary in $1"; return; }
  python3 - "$f" /tmp/dl.ptx <<'EOF'
import sys
d = open(sys.argv[1], 'rb').read()
i = d.find(b'.version')
j = d.rfind(b'//', 0, i) if i > 0 else -1
open(sys.argv[2], 'wb').write(d[j if j >= 0 else max(i, 0):].split(b'\0')[0])
EOF
  echo "  ptxas: $("$PTXAS" -arch=sm_90 -v /tmp/dl.ptx -o /tmp/dl.cubin 2>&1 | grep -E "registers|spill|rror" | head -4 | tr '\n' ' ' | tr -s ' ')"
  echo "  ptx: ld.shared.v4 $(grep -c 'ld.shared.v4' /tmp/dl.ptx), ld.shared scalar $(grep -E 'ld.shared.(f32|u32|b32)' /tmp/dl.ptx | grep -vc v4), ld.global v4 $(grep -c 'ld.global.*v4' /tmp/dl.ptx)"
}
layer() { # label, tune set, shape
  local set=$2 shape=${3:-2048,4096,128,16}
  echo "== $1 MAMBACL_TUNE_SET=$set shape $shape"
  MAMBACL_CACHE_DIR=/tmp/mc MAMBACL_TUNE_SET=$set timeout 30 "${BT:-build-gpu/bar_timing}" --layer "$shape" --copies 4 \
    --launches 200 2>&1 | grep -v '^device'
  regs /tmp/mc
}
bench() { # label, dir, tunables, config [disable]
  local label=$1 d=$2 set=$3 cfg=$4 dis=${5:-}
  echo "== $label: MAMBACL_TUNE_SET=$set MAMBACL_DISABLE=$dis $cfg"
  MAMBACL_CACHE_DIR=/tmp/mc MAMBACL_TUNE_SET=$set MAMBACL_DISABLE=$dis timeout 60 "$d/build-gpu/mambacl" bench \
    --config "$cfg" --decode-only --batch 1 --reps 3 2>&1 | grep --line-buffered -E "^decode|warn|error"
}
case "${1:-}" in
  diag)
    build . mambacl bar_timing >"$OUT/build.log" 2>&1 || { tail -20 "$OUT/build.log"; exit 1; }
    el "built"
    {
      layer default ""
      for m in 1 2 4 8 15 6 9; do layer skip "DL_SKIP=$m"; done
      layer st "DL_ST=1"
      layer st "DL_ST=1,DL_UNR=8"
      layer st "DL_ST=1,DL_UNR=2"
      layer st "DL_ST=1,DL_SKIP=15"
      layer st "DL_ST=1,DL_SKIP=6"
      layer st "DL_ST=1,DL_WG=128,DL_GPC=8"
      layer st "DL_ST=1,DL_WG=128,DL_GPC=8,DL_UNR=8"
      layer st "DL_ST=1,DL_PF=0"
      el "layers 1.4b"
      layer default "" 768,1536,48,16
      layer st "DL_ST=1" 768,1536,48,16
      el "layers 130m"
    } 2>&1 | tee "$OUT/layer.log"
    {
      bench chain . "" 1.4b
      bench forced-st1 . "DL_MAX_DINNER=9999,DL_ST=1" 1.4b
      el "bench"
    } 2>&1 | tee "$OUT/bench.log" ;;
  final)
    build .. mambacl >"$OUT/build-base.log" 2>&1 &
    build . mambacl bar_timing tests/test_dlayer tests/test_decode tests/test_forward >"$OUT/build-new.log" 2>&1
    rn=$?
    wait $! 2>/dev/null; rb=$?
    [ $rn -eq 0 ] || { tail -20 "$OUT/build-new.log"; exit 1; }
    [ $rb -eq 0 ] || { tail -20 "$OUT/build-base.log"; exit 1; }
    el "built"
    timeout 70 meson test -C build-gpu --no-rebuild --print-errorlogs --num-processes 3 dlayer decode forward \
      >"$OUT/tests.log" 2>&1
    grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:" "$OUT/tests.log"
    el "tests"
    {
      bench new . "" 1.4b
      bench base .. "" 1.4b
      el "1.4b"
      bench new . "" 130m
      bench base .. "" 130m
      el "130m"
      layer new ""
      layer new "" 768,1536,48,16
      el "layers"
    } 2>&1 | tee "$OUT/bench.log" ;;
  *) echo "usage: dl9_device.sh diag|final"; exit 2 ;;
esac
el "done"
