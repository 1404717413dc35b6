#!/bin/bash
# Quick start wrapper: installs what is missing, builds (incrementally) into
# build/, then runs the mambacl CLI with the given arguments.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/tools/deps.sh"
[ -f "$root/build/build.ninja" ] || meson setup "$root/build" "$root" >/dev/null
ninja -C "$root/build" >/dev/null
exec "$root/build/mambacl" "$@"
