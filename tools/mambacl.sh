#!/bin/bash
# Quick start wrapper: installs what is missing, builds (incrementally) into
# build/, then runs the mambacl CLI with the given arguments.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/tools/deps.sh"
# The build's output goes to a log; on failure the log's end is shown.
mkdir -p "$root/build"
log="$root/build/mambacl-build.log"
build() {
    { [ -f "$root/build/build.ninja" ] || meson setup "$root/build" "$root"; } >"$log" 2>&1 &&
        ninja -C "$root/build" >>"$log" 2>&1
}
if [ ! -x "$root/build/mambacl" ]; then echo "mambacl.sh: building mambacl (first run)..." >&2; fi
if ! build; then
    echo "mambacl.sh: the build failed; the end of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
fi
exec "$root/build/mambacl" "$@"
