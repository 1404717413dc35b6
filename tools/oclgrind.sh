#!/bin/bash
# Runs the kernels under Oclgrind (a simulated OpenCL device that reports data
# races, invalid and uninitialized accesses and API misuse) and summarizes
# the findings per kernel (tools/oclgrind_report.py); fails on any finding
# not listed in tools/oclgrind_known.txt.
#   tools/oclgrind.sh          CI subset (~1 min on 2 cores): every kernel's
#                              selftest, up to 4 configurations per tuning
#                              space, one emulated small device, and the
#                              tiny models' prefill + decode through the CLI
#   tools/oclgrind.sh full     the sweep: every configuration of every tuning
#                              space under 5 device limits (work-group 8..1024,
#                              local memory 32/64 KiB); run it before closing a
#                              kernel change (~10 min)
# Checks: --data-races --check-api everywhere; --uninitialized on the kernel
# sweep. Oclgrind 21.10's uninitialized-value plugin stops at LLVM's `freeze`
# instruction (the optimizer's DivRemPairs pass makes one for every x/y next
# to x%y), so those runs pass -cl-opt-disable to the simulator's compiler,
# which then emits none; on the model's forward pass the plugin itself
# crashes (SIGSEGV in Uninitialized::instructionExecuted), so the forward
# pass runs without it. Oclgrind is selected with MAMBACL_DEVICE=oclgrind
# (its library replaces the OpenCL ICD loader in this process only; it is
# never an installed ICD, so never a default device).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=${1:-ci}
command -v oclgrind >/dev/null || { echo "oclgrind not installed (apt-get install oclgrind)" >&2; exit 1; }
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build mambacl kernel_sweep >/dev/null
out=build/oclgrind
mkdir -p "$out"
log="$out/$mode.log"
: >"$log"
export MAMBACL_DEVICE=oclgrind MAMBACL_NO_CACHE=1
og=(oclgrind --data-races --check-api --num-threads 1)
uninit=(--uninitialized --build-options -cl-opt-disable)

sweep() { # label, oclgrind limit options..., -- kernel_sweep options...
  local label=$1; shift
  local lim=()
  while [ "$1" != -- ]; do lim+=("$1"); shift; done
  shift
  echo "sweep: run limits $label -" >>"$log"
  echo "oclgrind: sweep $label $*"
  if ! "${og[@]}" "${uninit[@]}" "${lim[@]}" build/kernel_sweep "$@" >>"$log" 2>&1; then
    echo "oclgrind: kernel_sweep failed under limits $label (see $log)" >&2
    grep -E "FAIL" "$log" | tail -n 20 >&2 || true
    return 1
  fi
}

forward() { # model dir, then the CLI arguments
  local dir=$1; shift
  echo "sweep: run forward $dir -" >>"$log"
  echo "oclgrind: forward $dir $*"
  "${og[@]}" build/mambacl "$@" >>"$log" 2>&1 || { echo "oclgrind: forward pass failed on $dir" >&2; return 1; }
}

fail=0
if [ "$mode" = full ]; then
  sweep device -- || fail=1
  sweep wg256-lm64k --max-wgsize 256 --local-mem-size 65536 -- || fail=1
  sweep wg64-lm32k --max-wgsize 64 --local-mem-size 32768 -- || fail=1
  sweep wg32-lm32k --max-wgsize 32 --local-mem-size 32768 -- || fail=1
  sweep wg16-lm64k --max-wgsize 16 --local-mem-size 65536 -- || fail=1
  sweep wg8-lm32k --max-wgsize 8 --local-mem-size 32768 -- || fail=1
elif [ "$mode" = ci ]; then
  sweep device -- --max 4 || fail=1
  sweep wg64-lm32k --max-wgsize 64 --local-mem-size 32768 -- --max 2 || fail=1
else
  echo "usage: tools/oclgrind.sh [ci|full]" >&2
  exit 2
fi
for m in tiny-model tiny-model-bf16 tiny-model-f32 tiny-model-untied; do
  forward "tests/data/$m" logits -m "tests/data/$m" --ids "1 2 3 4 5 6 7" || fail=1
done
forward tests/data/tiny-model run -m tests/data/tiny-model -p "ab cd" -n 6 --greedy || fail=1
# the scan's dt pre-pass (scan_dt; scan_dt_gather + the GEMM; scan_dt2, DTV 4, with scan_warp) and
# prefetch, off by default here; scan_warp (SCAN_WARP; its lanes' scan through local memory here)
# with 32 and 8 time-lanes (the second with its state loop rolled, SCAN_SUNR 1)
warp=SCAN_WARP=1,SCAN_DCH=4,SCAN_NSG=1,SCAN_TT=4,SCAN_KEEPB=0
for set in SCAN_DTIN=1,SCAN_PREF=1 SCAN_DTIN=2,SCAN_PREF=1 "SCAN_DTIN=3,SCAN_ITEMS=2,$warp" \
    "SCAN_DTIN=2,SCAN_WL=8,SCAN_ITEMS=3,SCAN_PREF=1,SCAN_SUNR=1,$warp"; do
  MAMBACL_TUNE_SET=$set forward tests/data/tiny-model logits -m tests/data/tiny-model --ids "1 2 3 4 5 6 7" || fail=1
done
# gemv_mma.cl (emulated mma: the indexing, tails and local memory of the tensor-core path) on the
# 7-row prefills, off by default here
for m in tiny-model tiny-model-bf16; do
  MAMBACL_TUNE_SET=GMMA_MAX_B=64,GMMA_WARPS=2 forward "tests/data/$m" logits -m "tests/data/$m" --ids "1 2 3 4 5 6 7" || fail=1
done
python3 tools/oclgrind_report.py "$log" tools/oclgrind_known.txt || fail=1
exit $fail
