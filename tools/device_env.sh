# device_env.sh: the prologue every tools/*_device.sh shares, sourced on the
# GPU machine from the checkout's copy there (`source tools/device_env.sh`):
# strict mode without -e (each step says its own failure), $OUT made, t0 and
# el (elapsed-time echo), the packages of .device/ installed
# (../shared/device/README.md), ../shared pointing at the .shared copy that
# travels with the tree, and MAMBACL_DEVICE=nvidia. Scripts export their own
# cache directory and test switches after it.
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
t0=$(date +%s)
el() { echo "[$(( $(date +%s) - t0 )) s] $*"; }
bash .device/setup.sh >/dev/null 2>&1
[ -e ../shared ] || { [ -d .shared ] && ln -sfn "$PWD/.shared" ../shared; }
export MAMBACL_DEVICE=nvidia
