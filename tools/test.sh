#!/bin/bash
# Runs the whole test suite: installs what is missing, builds build/ and runs
# meson test; then the sanitizer build build-asan/ (ASan + UBSan) for the
# bad-input tests, and a short libFuzzer smoke run in build-fuzz/ (clang).
# Kernel binaries are cached under build/ (MAMBACL_CACHE_DIR, POCL_CACHE_DIR),
# so a second run is fast.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/tools/deps.sh"
cd "$root"
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build
meson test -C build --print-errorlogs --num-processes 1

# Bad input under AddressSanitizer + UndefinedBehaviorSanitizer. These tests
# need no OpenCL device, so PoCL's own allocations never reach LeakSanitizer.
asan_tests=(checkpoint bad_inputs tokenizer textstream)
[ -f build-asan/build.ninja ] ||
  meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
ninja -C build-asan mambacl "${asan_tests[@]/#/tests/test_}"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --no-rebuild --print-errorlogs --num-processes 1 "${asan_tests[@]}"

# mambacl serve under ASan + UBSan + LeakSanitizer (PoCL leaks nothing that
# LSan reports here): status codes, disconnects, shutdown, and the
# fuzz-style loop of 1000 mixed requests (tests/serve/test_serve.py).
for phase in http fuzz; do
  MAMBACL_CACHE_DIR="$root/build/tests/mcl-cache" POCL_CACHE_DIR="$root/build/pocl-cache" \
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    python3 tests/serve/test_serve.py --mambacl build-asan/mambacl --phase "$phase"
done

# libFuzzer smoke: each target for a fixed number of runs with a fixed seed
# (deterministic, so CI cannot fail at random), from its seeds; new inputs go
# to a scratch corpus, not into the source tree.
fuzz_targets=(safetensors config tokenizer)
[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true >/dev/null
ninja -C build-fuzz "${fuzz_targets[@]/#/tests/fuzz/fuzz_}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for t in "${fuzz_targets[@]}"; do
  mkdir -p "$scratch/$t" "tests/fuzz/seeds/$t"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
  echo "fuzz_$t: 200000 runs"
  if ! MAMBACL_SHARED="$root/../shared" "build-fuzz/tests/fuzz/fuzz_$t" -seed=1 -runs=200000 -max_total_time=30 -print_final_stats=1 "${dict[@]}" \
      -artifact_prefix="$scratch/" "$scratch/$t" "tests/fuzz/seeds/$t" >"$scratch/$t.log" 2>&1; then
    tail -n 60 "$scratch/$t.log" >&2
    echo "fuzz_$t found a failure" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units|^Done' "$scratch/$t.log" || true
done
