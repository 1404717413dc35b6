#!/bin/bash
# ptx_compare.sh REV: here, without a GPU, compares the PTX that clang
# (clang-15, target nvptx64-nvidia-nvcl, sm_86: its newest; asm accepted as
# __asm__) makes of each kernel file of cl/ at git revision REV and in the
# working tree, assembled as the runtime does (common.cl, prims.cl, the file)
# with the H200's capability defines, in a few configurations per file; every
# helper is forced inline (NVIDIA's compiler inlines them). A check before a
# refactor goes to the GPU that should change no instruction: "same" is
# byte-identical PTX. It is not NVIDIA's compiler: tools/tidy_device.sh
# compares the H200's own PTX.
# usage: bash tools/ptx_compare.sh REV [OUTDIR]   (exit status 1 when any differs)
set -uo pipefail
rev=${1:?usage: ptx_compare.sh REV [OUTDIR]}
out=${2:-$(mktemp -d)}
root=$(cd "$(dirname "$0")/.." && pwd)
command -v clang-15 >/dev/null || { echo "clang-15 is needed (apt-get install clang-15)" >&2; exit 2; }
mkdir -p "$out/old" "$out/new" "$out/src"
git -C "$root" archive "$rev" cl | tar -x -C "$out/src" || exit 2
caps=(-DMCL_CAP_FP16=1 -DMCL_CAP_SUBGROUPS=0 -DMCL_CAP_PTX=1 -DMCL_CAP_MMA=1 -DMCL_SUBGROUP_SIZE=0 -DMCL_WARP_SIZE=32)
ptx() { # cl dir, file, output, defines...
  local d=$1 f=$2 o=$3; shift 3
  cat "$d/common.cl" "$d/prims.cl" "$d/$f" >"$o.cl"
  clang-15 -x cl -cl-std=CL1.2 -target nvptx64-nvidia-nvcl -march=sm_86 -Xclang -finclude-default-header -O3 -S \
    -Dasm=__asm__ '-Dinline=static inline __attribute__((always_inline))' "${caps[@]}" "$@" "$o.cl" -o "$o.ptx" \
    2>"$o.err" && rm -f "$o.cl" "$o.err"
}
diffs=0
check() { # name, file, defines...
  local n=$1 f=$2; shift 2
  ptx "$out/src/cl" "$f" "$out/old/$n" "$@"
  ptx "$root/cl" "$f" "$out/new/$n" "$@"
  if [ ! -f "$out/old/$n.ptx" ] || [ ! -f "$out/new/$n.ptx" ]; then echo "$n ($f $*): does not compile (see $out)"
  elif cmp -s "$out/old/$n.ptx" "$out/new/$n.ptx"; then echo "$n ($f $*): same"; return
  else echo "$n ($f $*): DIFF ($(diff "$out/old/$n.ptx" "$out/new/$n.ptx" | grep -c '^[<>]') lines)"; fi
  diffs=$((diffs + 1))
}
check gemm_def gemm.cl
check gemm_fuse gemm.cl -DGEMM_FUSE=1 -DGEMM_STAGES=3
check gemm_s1 gemm.cl -DGEMM_SPLIT=1 -DGEMM_SWZ=1 -DGEMM_BK=64 -DGEMM_STAGES=4
check gemm_small gemm.cl -DGEMM_BM=32 -DGEMM_BN=64 -DGEMM_WM=1 -DGEMM_WN=2 -DGEMM_BK=16
check gemm_nomma gemm.cl -DMCL_CAP_MMA=0
check gmma_def gemv_mma.cl
check gmma_mt2 gemv_mma.cl -DGMMA_WARPS=4 -DGMMA_NT=1 -DGMMA_UNR=2 -DGMMA_MT=2
check gmma_emu gemv_mma.cl -DMCL_CAP_MMA=0 -DMCL_CAP_PTX=0 -DGMMA_WARPS=2 -DGMMA_MT=2 -DGMMA_NT=1
check gemv_def gemv.cl
check gemv_bt gemv.cl -DGEMV_WG=128 -DGEMV_LPR=32 -DGEMV_RPL=2 -DGEMV_BT=4 -DGEMV_UNR=2
check gemv_cpu gemv.cl -DMCL_CAP_MMA=0 -DMCL_CAP_PTX=0 -DGEMV_WG=4 -DGEMV_LPR=1 -DGEMV_RPL=16
check step_def ssm_step.cl
check step_gpu ssm_step.cl -DSTEP_WG=128 -DSTEP_LPC=16 -DSTEP_SB=4 -DSTEP_TWG=128 -DSTEP_TSQ=4 -DSTEP_TJ=1 -DSTEP_FAST_EXP=1
check step_cpu ssm_step.cl -DMCL_CAP_PTX=0 -DSTEP_LPC=1 -DSTEP_TWG=16 -DSTEP_TSQ=8 -DSTEP_TJ=4
check step_pre ssm_step.cl -DSTEP_WG=128 -DSTEP_LPC=16 -DSTEP_SB=4 -DSTEP_TWG=128 -DSTEP_TSQ=4 -DSTEP_TJ=1 -DSTEP_TPRE=1
check step_tree ssm_step.cl -DMCL_CAP_PTX=0 -DMCL_CAP_MMA=0 -DSTEP_WG=64 -DSTEP_LPC=8 -DSTEP_SB=2
check dlayer_tree dlayer.cl -DMCL_CAP_PTX=0 -DMCL_CAP_MMA=0 -DDL_WG=64 -DDL_LPR=8 -DDL_LPC=4
check rgemv_def rgemv.cl
check rgemv_tree rgemv.cl -DMCL_CAP_PTX=0 -DMCL_CAP_MMA=0
for f in cgemv dlayer scan xstep conv copy norm convert; do
  check "${f}_def" $f.cl -DCOPY_WG=64 -DNORM_WG=64 -DCONVERT_WG=64 -DCONV_WG=64
done
echo "$diffs configuration(s) differ; PTX in $out/old and $out/new"
[ "$diffs" -eq 0 ]
