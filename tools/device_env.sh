# device_env.sh: the prologue every tools/*_device.sh shares, sourced on the
# GPU machine from the checkout's copy there (`source tools/device_env.sh`):
# strict mode without -e (each step says its own failure), $OUT made, t0 and
# el (elapsed-time echo), the packages of .device/ installed
# (../shared/device/README.md), ../shared pointing at the .shared copy that
# travels with the tree, and MAMBACL_DEVICE=nvidia. Scripts export their own
# cache directory and test switches after it. build_pair and d (below) are
# the base-against-new build and bench line of the s15d/s16b calls; build_gpu and
# v (below) the one-tree build and the tuning-variant bench line of s17a/s18b/s18d.
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
t0=$(date +%s)
el() { echo "[$(( $(date +%s) - t0 )) s] $*"; }
bash .device/setup.sh >/dev/null 2>&1
[ -e ../shared ] || { [ -d .shared ] && ln -sfn "$PWD/.shared" ../shared; }
export MAMBACL_DEVICE=nvidia

# build_pair: builds .wt-base (the base, mambacl only; in the background) and the
# checkout (everything) into build-gpu/ of each; returns 1 with the checkout's
# build log tail when that fails, else waits for the base and says its status.
build_pair() {
  (cd .wt-base && meson setup build-gpu >/dev/null && ninja -C build-gpu mambacl >/tmp/base.log 2>&1; echo $? > /tmp/base.rc) &
  (meson setup build-gpu >/dev/null && ninja -C build-gpu >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; return 1; }
  wait; el "builds, base rc $(cat /tmp/base.rc)"
}

# d TAG BINARY CONFIG BATCH REPS: the decode lines of `bench --decode-only`,
# prefixed with TAG and CONFIG (per-kernel and host lines left out).
d() {
  timeout 60 $2 bench --config $3 --decode-only --batch $4 --reps $5 2>&1 | grep -E '^decode|rror' |
    grep -v "ssm_step\|host enqueues" | sed 's/of roofline.*launches/launches/' | sed "s/^/$1 $3 /" | cut -c1-200; }

# build_gpu: the checkout (everything) into build-gpu/, the log in $OUT/build.log;
# returns 1 with the log's tail when that fails.
build_gpu() {
  (meson setup build-gpu >/dev/null && ninja -C build-gpu >$OUT/build.log 2>&1) || { tail -20 $OUT/build.log; return 1; }
}

# v SET CONFIG: d's lines for build-gpu/mambacl at batch 1, 2 reps, with
# MAMBACL_TUNE_SET=SET (SET "def": the defaults), tagged SET.
v() {
  if [ "$1" = def ]; then d def build-gpu/mambacl $2 1 2; else MAMBACL_TUNE_SET=$1 d "$1" build-gpu/mambacl $2 1 2; fi
}
