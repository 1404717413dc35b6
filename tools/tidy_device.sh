#!/bin/bash
# On the GPU machine: proves a kernel-source refactor that should change no
# result (session 7's tidy7: prims.cl's mcl_mma_16816 for gemm.cl and
# gemv_mma.cl, common.cl's conv epilogue for gemv.cl and gemv_mma.cl,
# ssm_step.cl's staging loops) against BASE, the same tree without it (e.g.
# the first parent of the merge, `git archive M^1 | tar -x -C .base`),
# carried along. Builds both (build-gpu, BASE/build-gpu-base) at once, then
# runs the steps given; logs in $OUT (at most 8 files come back).
# usage: BASE=DIR bash tools/tidy_device.sh STEP...
#   ptx    the same gemm_timing, gemv_timing and step_timing runs in both
#          trees, each with its own binary cache; NVIDIA's program binaries
#          are PTX text, so for each program file the set of payload hashes
#          of the two caches is compared ("same": every configuration built
#          gives the same PTX), and against a second run of this tree (the
#          control: DIFF there means the binaries are not comparable, as
#          PoCL's); the differing files' PTX goes to ptx-diff.tgz
#   time   the same timings again, base then new then base, one log (ratios
#          from one call; the PTX step already compiled both)
#   tests  meson test gemm decode forward_gmma kernels (this tree; decode
#          holds test_gmma_batches, test_step_tile, test_step_configs)
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
if [ -z "${BASE:-}" ] || [ ! -d "$BASE" ]; then echo "BASE=DIR (the tree without the change) is required" >&2; exit 2; fi
bash .device/setup.sh >/dev/null 2>&1
[ -d ../shared ] || { [ -d .shared ] && ln -s "$PWD/.shared" ../shared; }
{ [ -f build-gpu/build.ninja ] || meson setup build-gpu >/dev/null; ninja -C build-gpu >"$OUT/build.log" 2>&1; } &
{ cd "$BASE" && { [ -f build-gpu-base/build.ninja ] || meson setup build-gpu-base >/dev/null; } &&
  ninja -C build-gpu-base >"$OUT/build-base.log" 2>&1; } &
wait
for l in build build-base; do
  grep -qE "error:|FAILED" "$OUT/$l.log" && { tail -30 "$OUT/$l.log"; exit 1; }
done
export MAMBACL_DEVICE=${MAMBACL_DEVICE:-nvidia}
NEW=$PWD/build-gpu
OLD=$(cd "$BASE" && pwd)/build-gpu-base

# The workload of both steps: 1.4b's in_proj as a prefill GEMM (mma path, both
# 16-bit types), its decode projections at B 8 (gemv_mma.cl: gmma_in with the
# conv epilogue, gmma accumulating) and B 1 (gemv.cl's gemv_in_1 with it), and
# the state update at B 1 and 32 (ssm_step_parts, ssm_step_tile).
workload() { # build dir
  local b=$1
  for dt in bf16 f16; do timeout 60 "$b/gemm_timing" 2048 8192 2048 $dt 20 --paths mma 2>&1 | tail -n 2; done
  timeout 30 "$b/gemv_timing" 8192 2048 8 f16 50 --kernel in 2>&1 | tail -n 1
  timeout 30 "$b/gemv_timing" 2048 4096 8 bf16 50 --kernel acc 2>&1 | tail -n 1
  timeout 30 "$b/gemv_timing" 8192 2048 1 f16 50 --kernel in 2>&1 | tail -n 1
  timeout 60 "$b/step_timing" 1,4096,128 32,4096,128 2>&1 | grep -E "^(step|tile).*\*" | head -n 8
}

# The sorted payload hashes (PTX text behind cache.c's 56-byte header) of
# program file $2 in cache $1.
payloads() {
  for f in "$1"/"$2"-*.bin; do [ -f "$f" ] && tail -c +57 "$f" | sha256sum | cut -c1-16; done | sort -u
}

while [ $# -gt 0 ]; do
  case "$1" in
    ptx) rm -rf /tmp/tidy-cache-new /tmp/tidy-cache-old /tmp/tidy-cache-ctl /tmp/tidy-ptx
         MAMBACL_CACHE_DIR=/tmp/tidy-cache-old workload "$OLD" >"$OUT/ptx-run.log" 2>&1
         MAMBACL_CACHE_DIR=/tmp/tidy-cache-new workload "$NEW" >>"$OUT/ptx-run.log" 2>&1
         # the control: this tree once more into a third cache (the compiler's output is deterministic
         # where it says same; PoCL's binaries are not: they grow with the kernels run)
         MAMBACL_CACHE_DIR=/tmp/tidy-cache-ctl workload "$NEW" >>"$OUT/ptx-run.log" 2>&1
         for tag in $(for f in /tmp/tidy-cache-new/*.cl-*.bin /tmp/tidy-cache-old/*.cl-*.bin; do
                        [ -e "$f" ] && n=${f##*/} && echo "${n%%-*}"; done | sort -u); do
           a=$(payloads /tmp/tidy-cache-old "$tag" | tr '\n' ' '); b=$(payloads /tmp/tidy-cache-new "$tag" | tr '\n' ' ')
           c=$(payloads /tmp/tidy-cache-ctl "$tag" | tr '\n' ' ')
           ctl=$([ "$b" = "$c" ] && echo same || echo DIFF)
           if [ "$a" = "$b" ]; then echo "ptx $tag same ($(wc -w <<<"$a") binaries; control $ctl)"
           else echo "ptx $tag DIFF (base $(wc -w <<<"$a"), new $(wc -w <<<"$b"); control $ctl)"; fi
         done | tee "$OUT/ptx.txt"
         grep -o "^ptx [^ ]* DIFF" "$OUT/ptx.txt" | cut -d' ' -f2 | while read -r tag; do
           for d in old new; do for f in "/tmp/tidy-cache-$d/$tag"-*.bin; do
             n=${f##*/}; mkdir -p "/tmp/tidy-ptx/$d" && tail -c +57 "$f" >"/tmp/tidy-ptx/$d/${n%.bin}.ptx"; done; done
         done
         [ -d /tmp/tidy-ptx ] && tar -czf "$OUT/ptx-diff.tgz" -C /tmp tidy-ptx ;;
    time) for b in "$OLD" "$NEW" "$OLD"; do echo "== $b"; MAMBACL_CACHE_DIR=/tmp/tidy-cache-$([ "$b" = "$NEW" ] && echo new || echo old) workload "$b"; done >"$OUT/time.log" 2>&1
          grep -E "^==|TFLOP|us|GB/s" "$OUT/time.log" | head -n 60 ;;
    tests) MAMBACL_CACHE_DIR=/tmp/tidy-cache-new meson test -C build-gpu --print-errorlogs --num-processes 1 gemm decode forward_gmma kernels >"$OUT/tests.log" 2>&1
           grep -E "^ *[0-9]+/[0-9]+ |Ok:|Fail:" "$OUT/tests.log" ;;
    *) echo "unknown step $1"; exit 2 ;;
  esac
  shift
done
