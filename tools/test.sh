#!/bin/bash
# Runs the whole test suite: installs what is missing, builds build/ (and the
# sanitizer build build-asan/ for the bad-input tests), then meson test.
# Kernel binaries are cached under build/ (MAMBACL_CACHE_DIR, POCL_CACHE_DIR),
# so a second run is fast.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/tools/deps.sh"
cd "$root"
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build
meson test -C build --print-errorlogs --num-processes 1
