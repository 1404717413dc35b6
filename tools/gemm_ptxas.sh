#!/bin/bash
# gemm_ptxas.sh "SET" ...: registers, spills and the main loop's SASS of
# gemm.cl's gemm_mma_bf16 per configuration, without a GPU: clang (Debian's,
# OpenCL C to PTX for nvptx64) + ptxas/cuobjdump/nvdisasm (PyPI:
# nvidia-cuda-nvcc, nvidia-cuda-cuobjdump, nvidia-cuda-nvdisasm; directory in
# $CUDA_BIN). A proxy: NVIDIA's OpenCL compiler makes its own PTX (its
# registers may differ); the loop's structure is what it shows. SET as for
# gemm_timing --set (NAME=V,NAME=V; "default" for none). Work files in $WORK.
set -uo pipefail
CUDA_BIN=${CUDA_BIN:-/tmp/cudatools/nvidia/cu13/bin}
WORK=${WORK:-/tmp/gemm_ptxas}
mkdir -p "$WORK"
here=$(cd "$(dirname "$0")/.." && pwd)
# OpenCL work-item functions as PTX special registers (clang's nvptx target has no OpenCL library)
cat >"$WORK/prelude.cl" <<'CL'
#define get_local_id(d) ((size_t)((d)==0?__nvvm_read_ptx_sreg_tid_x():(d)==1?__nvvm_read_ptx_sreg_tid_y():__nvvm_read_ptx_sreg_tid_z()))
#define get_group_id(d) ((size_t)((d)==0?__nvvm_read_ptx_sreg_ctaid_x():(d)==1?__nvvm_read_ptx_sreg_ctaid_y():__nvvm_read_ptx_sreg_ctaid_z()))
#define get_num_groups(d) ((size_t)((d)==0?__nvvm_read_ptx_sreg_nctaid_x():(d)==1?__nvvm_read_ptx_sreg_nctaid_y():__nvvm_read_ptx_sreg_nctaid_z()))
#define get_local_size(d) ((size_t)((d)==0?__nvvm_read_ptx_sreg_ntid_x():(d)==1?__nvvm_read_ptx_sreg_ntid_y():__nvvm_read_ptx_sreg_ntid_z()))
#define get_global_id(d) (get_group_id(d)*get_local_size(d)+get_local_id(d))
#define barrier(f) __nvvm_bar_sync(0)
#define mem_fence(f) __nvvm_membar_cta()
CL
cat "$WORK/prelude.cl" "$here/cl/common.cl" "$here/cl/prims.cl" "$here/cl/gemm.cl" >"$WORK/gemm.cl"
i=0
for set in "$@"; do
  D=""; [ "$set" != default ] && D=$(echo "$set" | sed 's/\([A-Z_0-9]*\)=\([0-9]*\)/-D\1=\2/g; s/,/ /g')
  f="$WORK/c$i"
  clang -x cl -cl-std=CL1.2 -target nvptx64-nvidia-nvcl -Xclang -finclude-default-header -Xclang -fgnu-keywords \
    '-Dvload_half(i,p)=0.0f' -O3 -S -Xclang -target-cpu -Xclang sm_80 -DMCL_CAP_MMA=1 -DMCL_CAP_PTX=1 $D \
    -o "$f.full.ptx" "$WORK/gemm.cl" || { echo "$set: clang failed"; continue; }
  python3 - "$f.full.ptx" "$f.ptx" <<'PY'
import sys  # gemm_mma_bf16 alone (the other kernels call OpenCL builtins clang leaves external)
s = open(sys.argv[1]).read()
i = s.index('.entry gemm_mma_bf16'); j = s.rfind('\n', 0, i) + 1
d, e = 0, s.index('{', i)
while True:
    d += {'{': 1, '}': -1}.get(s[e], 0)
    if d == 0: break
    e += 1
sh = [l for l in s.split('\n') if l.strip().startswith('.shared') and 'gemm_mma_bf16_$' in l]
open(sys.argv[2], 'w').write(s[:s.index('.address_size')] + '.address_size 64\n' + '\n'.join(sh) + '\n' + s[j:e + 1] + '\n')
PY
  v=$("$CUDA_BIN/ptxas" -arch=sm_90 -v "$f.ptx" -o "$f.cubin" 2>&1 | grep -E "stack|Used" | tr -s ' ' | tr '\n' ' ')
  PATH="$CUDA_BIN:$PATH" "$CUDA_BIN/cuobjdump" -sass "$f.cubin" >"$f.sass" 2>&1
  loop=$(python3 - "$f.sass" <<'PY'
import re, sys, collections  # the loop around the HMMAs: from a backward branch's target to it
ins = [(int(m.group(1), 16), m.group(2)) for m in
       (re.match(r'\s+/\*([0-9a-f]{4,})\*/\s+(.*?);', l) for l in open(sys.argv[1])) if m]
hm = [a for a, t in ins if 'HMMA' in t]
best = None
for a, t in ins:
    m = re.search(r'BRA (0x[0-9a-f]+)', t)
    if m and int(m.group(1), 16) < a and hm and int(m.group(1), 16) <= hm[0] and a >= hm[-1]:
        if best is None or a - int(m.group(1), 16) < best[1] - best[0]: best = (int(m.group(1), 16), a)
if not best: print('no loop found'); sys.exit()
body = [t for a, t in ins if best[0] <= a <= best[1]]
c = collections.Counter(re.sub(r'^@!?U?P\w+ ', '', t).split()[0].split('.')[0] for t in body)
print('loop %d instructions: HMMA %d LDSM %d LDGSTS %d BAR %d, integer/address %d' % (len(body), c['HMMA'], c['LDSM'],
      c['LDGSTS'], c['BAR'], sum(c[k] for k in ('IMAD', 'IADD3', 'VIADD', 'LEA', 'SHF', 'LOP3', 'SEL', 'ISETP', 'MOV', 'UIADD3', 'UIMAD', 'ULEA', 'USHF', 'ULOP3', 'USEL', 'UMOV'))))
PY
)
  echo "$set :: ${v:-ptxas failed} :: $loop"
  i=$((i + 1))
done
