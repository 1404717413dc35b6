#!/bin/bash
# On the GPU machine: decode of two trees in one call, in the order base,
# new, new, base, so that drift within the call (clocks, a stall) shows as
# the two runs of one tree disagreeing rather than as a difference between
# the trees. Also the host's launch cost pieces (tools/launch_cost) of the
# new tree.
# usage: BASE=DIR bash tools/decode_compare.sh [CONFIG...]   (default: 130m 1.4b)
#   DIR: another checkout of mambacl (e.g. `git archive REV | tar -x -C .wt-base`,
#   carried to the machine); this tree is "new". Needs .device/setup.sh (the
#   packages, see ../shared/device/README.md). Logs into $OUT (two files: the
#   machine returns at most 8).
# Prints each run's decode lines: the mean ms per step, and where the tree's
# bench has them the median and slowest step and the host's enqueue time.
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
base=${BASE:?set BASE to the other tree}
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(130m 1.4b)
bash .device/setup.sh >/dev/null 2>&1
export MAMBACL_DEVICE=nvidia MAMBACL_CACHE_DIR=/tmp/mclcache
build() { # dir
  (cd "$1" && meson setup build-gpu >/dev/null && ninja -C build-gpu mambacl >/dev/null 2>&1) ||
    { echo "build failed in $1" >&2; exit 1; }
}
build "$base"
build .
ninja -C build-gpu launch_cost >/dev/null 2>&1 && timeout 30 build-gpu/launch_cost --n 2000 | tee "$OUT/launch.txt"
for c in "${configs[@]}"; do
  i=0
  for t in base new new base; do
    i=$((i + 1))
    dir=$([ $t = base ] && echo "$base" || echo .)
    timeout 120 "$dir/build-gpu/mambacl" bench --config "$c" --decode-only --reps 3 2>&1 | grep -E '^decode +B=[0-9]+ +([0-9]|host)' | sed "s/^/$c $i $t /"
  done
done | tee "$OUT/decode.txt"
