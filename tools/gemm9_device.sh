#!/bin/bash
# On the GPU machine (session 9, issue 11): why the mma GEMM runs at ~43% of
# its split ceiling. Logs into $OUT.
# usage: bash tools/gemm9_device.sh diag|final
#  diag: build gemm_timing; one gemm_timing process per 1.4b prefill shape
#        over $SETS (gemm.cl rebuilt per set, fresh program cache, so the
#        cache's gemm.cl binaries in time order are default, set 1, set 2, ...);
#        ptxas -arch=sm_90 -v of each binary (the PTX NVIDIA's OpenCL made:
#        registers, stack, spills per kernel), the SASS of gemm_mma_bf16 of
#        the default and of $SASS_SETS' binaries, cuBLAS (torch) at the same
#        shapes, and an ncu try on the default (hardware counters).
#  final: base (BASE, a tree built beside) and new: gemm_timing, tests, bench.
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
LOG="$OUT/gemm9-${1:-diag}.log"
exec > >(tee -a "$LOG") 2>&1
bash .device/setup.sh >/dev/null 2>&1
[ -d ../shared ] || { [ -d .shared ] && ln -s "$PWD/.shared" ../shared; }
export MAMBACL_DEVICE=nvidia
PTXAS=$(ls /usr/local/cuda*/bin/ptxas 2>/dev/null | tail -1)
[ -z "$PTXAS" ] && PTXAS=$(python3 -c "import triton,os;print(os.path.dirname(triton.__file__))")/backends/nvidia/bin/ptxas
CUOBJ=$(dirname "$PTXAS")/cuobjdump
[ -x "$CUOBJ" ] || CUOBJ=$(command -v cuobjdump)
echo "ptxas $PTXAS ($($PTXAS --version | tail -1)); cuobjdump $CUOBJ"
SHAPES="2048,8192,2048 2048,2048,4096 2048,160,4096"
B128="GEMM_BM=128,GEMM_BN=128" B256="GEMM_BM=128,GEMM_BN=256" NEW="GEMM_LDF=1,GEMM_FAST=1"
SETS=${SETS:-"GEMM_LDF=1 GEMM_FAST=1 $NEW
  $B128,GEMM_BK=32,GEMM_SWZ=1 $B128,GEMM_BK=32,GEMM_SWZ=1,$NEW $B128,GEMM_BK=16,GEMM_SWZ=1,GEMM_STAGES=3,$NEW
  $B256,GEMM_BK=16,GEMM_SWZ=1,GEMM_STAGES=3,GEMM_WN=4,$NEW $B256,GEMM_BK=16,GEMM_SWZ=1,GEMM_STAGES=3,GEMM_WM=4,$NEW
  $B256,GEMM_BK=16,GEMM_WN=4,$NEW $B128,GEMM_BK=16 GEMM_BM=64,GEMM_BN=256,GEMM_BK=16,GEMM_WN=4
  GEMM_STAGES=3,GEMM_SWZ=1,$NEW GEMM_BK=16,GEMM_STAGES=4,$NEW $B128,GEMM_BK=32,GEMM_SWZ=1,GEMM_WN=4,$NEW
  GEMM_FUSE=2,$B256,GEMM_BK=16,GEMM_SWZ=1,GEMM_STAGES=3,GEMM_WN=4,GEMM_LDF=1"}
# final: further points over the new defaults (GEMM_FAST=1), timed only
FSETS=${FSETS:-"$B128,GEMM_BK=32,GEMM_SWZ=1 GEMM_BM=64,GEMM_BN=64 GEMM_WM=1,GEMM_WN=4 GEMM_BK=16,GEMM_STAGES=3 GEMM_SWZ=1
  GEMM_BM=32,GEMM_WM=1,GEMM_WN=4"}
SASS_SETS=${SASS_SETS:-"default $NEW $B256,GEMM_BK=16,GEMM_SWZ=1,GEMM_STAGES=3,GEMM_WN=4,$NEW"}

case "${1:-diag}" in
  diag)
    [ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null
    timeout 240 ninja -C build-gpu gemm_timing >/tmp/build.log 2>&1 || { tail -30 /tmp/build.log; exit 1; }
    C=/tmp/g9cache; rm -rf $C; mkdir -p $C
    sets=""; for x in $SETS; do sets="$sets --set $x"; done
    echo "== gemm_timing $(date +%T)"
    P=/tmp/g9ptx; rm -rf $P; mkdir -p $P
    for sh in $SHAPES; do
      extra=""; [ "$sh" = "2048,8192,2048" ] && extra="--ptx $P"
      MAMBACL_CACHE_DIR=$C timeout 150 build-gpu/gemm_timing ${sh//,/ } bf16 20 --paths mma $extra $sets | grep -v "^device"
      if [ -n "$extra" ]; then
        # in parallel and bounded (session 9's call 1 ran them one by one, ~12 s each, and its
        # filter printed nothing: the raw head is kept now where the filter finds no line)
        (ls $P/gemm-*.ptx | xargs -P 8 -I{} sh -c 'f={}; timeout 40 '"$PTXAS"' -arch=sm_90 -v $f -o ${f%.ptx}.cubin >${f%.ptx}.v 2>&1'
         for f in $P/gemm-*.ptx; do
           v=${f%.ptx}.v; echo "-- ptxas $(basename $f): $(cat ${f%.ptx}.txt)"
           awk '/Compiling entry function .gemm_mma_bf16/{f=1} f{print} f&&/Used/{f=0}' $v | grep . || head -5 $v
         done >"$OUT/ptxas.log" 2>&1) &
      fi
    done
    echo "== torch $(date +%T)"
    timeout 60 python3 tools/torch_matmul.py $SHAPES
    wait
    cat "$OUT/ptxas.log"
    for f in $P/gemm-*.txt; do
      l=$(cat $f); n=$(basename $f .txt)
      case " $SASS_SETS " in *" $l "*)
        timeout 60 "$CUOBJ" -sass "$P/$n.cubin" 2>&1 |
          awk '/Function : /{f = /Function : gemm_mma_bf16/} f' >"$OUT/sass-$n.txt"
        x="$OUT/sass-$n.txt"
        echo "sass-$n.txt ($l): $(grep -c HMMA $x) HMMA, $(grep -c LDSM $x) LDSM, $(grep -c LDGSTS $x) LDGSTS, $(grep -c BAR $x) BAR, $(grep -c -E 'STL|LDL' $x) local, $(grep -c -E '^ +/\*[0-9a-f]+\*/' $x) instructions";;
      esac
    done
    echo "== ncu $(date +%T)"
    NCU=$(command -v ncu || ls /usr/local/cuda*/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
    if [ -n "$NCU" ]; then
      MAMBACL_CACHE_DIR=$C timeout 50 "$NCU" --clock-control none -k regex:gemm_mma --launch-skip 1 --launch-count 1 \
        --section SpeedOfLight --section MemoryWorkloadAnalysis --section WarpStateStats --section Occupancy \
        build-gpu/gemm_timing 2048 8192 2048 bf16 2 --paths mma >"$OUT/ncu.log" 2>&1
      echo "ncu rc $?"; grep -v "^==PROF==" "$OUT/ncu.log" | tail -80
      # the fastest set at in_proj, profiled the same way (its launches follow the default's 3)
      best=$(awk '/mma +M 2048 N 8192 K 2048/ && $1 != "default" {print $(NF-8), $1}' "$LOG" | sort -n | head -1 | cut -d' ' -f2)
      echo "ncu of the fastest in_proj set: $best"
      grep -q "Duration" "$OUT/ncu.log" && [ -n "$best" ] && MAMBACL_CACHE_DIR=$C timeout 50 "$NCU" --clock-control none -k regex:gemm_mma --launch-skip 4 --launch-count 1 \
        --section SpeedOfLight --section MemoryWorkloadAnalysis --section WarpStateStats --section Occupancy \
        build-gpu/gemm_timing 2048 8192 2048 bf16 2 --paths mma --set "$best" >"$OUT/ncu-best.log" 2>&1
      grep -v "^==PROF==" "$OUT/ncu-best.log" 2>/dev/null | tail -80
    fi
    ;;
  final)
    # base: the lead's checkout (main) at the root, built beside; new: this tree
    export MAMBACL_CACHE_DIR=/tmp/mclcache
    [ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null
    (cd .. && { [ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null; } &&
     nice -n 5 timeout 200 ninja -C build-gpu mambacl gemm_timing >/tmp/build-base.log 2>&1; echo "base build rc $?") &
    timeout 200 ninja -C build-gpu >/tmp/build.log 2>&1 || { tail -30 /tmp/build.log; exit 1; }
    wait
    echo "base $(git -C .. log --oneline -1 2>/dev/null || echo '(no git)')"
    echo "== gemm_timing base / new $(date +%T)"
    P=/tmp/g9ptx; rm -rf $P; mkdir -p $P
    sets=""; for x in ${FSETS:-}; do sets="$sets --set $x"; done
    for sh in $SHAPES; do
      [ -x ../build-gpu/gemm_timing ] && MAMBACL_CACHE_DIR=/tmp/mclbase timeout 60 ../build-gpu/gemm_timing ${sh//,/ } bf16 20 --paths mma | sed 's/^default /base    /' | grep -v "^device"
      extra=""; [ "$sh" = "2048,8192,2048" ] && extra="--ptx $P"
      timeout 90 build-gpu/gemm_timing ${sh//,/ } bf16 20 --paths mma $extra --set GEMM_FAST=0 $sets | grep -v "^device"
    done
    (for n in 0 1; do
       echo "-- ptxas gemm-$n.ptx: $(cat $P/gemm-$n.txt)"
       timeout 60 $PTXAS -arch=sm_90 -v $P/gemm-$n.ptx -o $P/gemm-$n.cubin >$P/gemm-$n.v 2>&1
       awk '/Compiling entry function .gemm_mma_bf16/{f=1} f{print} f&&/Used/{f=0}' $P/gemm-$n.v | grep . || head -5 $P/gemm-$n.v
     done >"$OUT/ptxas-final.log" 2>&1) &
    echo "== torch $(date +%T)"
    timeout 60 python3 tools/torch_matmul.py $SHAPES
    echo "== tests $(date +%T)"
    timeout 200 meson test -C build-gpu --print-errorlogs --num-processes 1 gemm forward model_ref >"$OUT/tests.log" 2>&1
    cat build-gpu/meson-logs/testlog.txt >>"$OUT/tests.log"
    grep -E "^ *[0-9]+/[0-9]+ |gemm configurations|GEMM_FAST|bf16 parity|max \|logit|Fail:" "$OUT/tests.log" | head -30
    echo "== bench $(date +%T)"
    [ -x ../build-gpu/mambacl ] && MAMBACL_CACHE_DIR=/tmp/mclbase timeout 120 ../build-gpu/mambacl bench --config 1.4b --prefill-only --reps 3 --json "$OUT/bench-base.json" 2>&1 | grep -v "^scan"
    timeout 120 build-gpu/mambacl bench --config 1.4b --prefill-only --reps 3 --json "$OUT/bench-new.json" 2>&1 | grep -v "^scan"
    wait; cat "$OUT/ptxas-final.log"
    ;;
  *) echo "unknown $1"; exit 2 ;;
esac
echo "== done $(date +%T)"
