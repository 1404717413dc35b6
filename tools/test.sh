#!/bin/bash
# Runs the whole test suite: installs what is missing, builds build/ and runs
# meson test; then every suite again in the sanitizer build build-asan/
# (ASan + UBSan + LeakSanitizer, PoCL's and LLVM's own leaks suppressed by
# tools/lsan.supp), the kernels under Oclgrind (tools/oclgrind.sh: the CI
# subset), and a short seeded libFuzzer smoke run of every fuzz target in
# build-fuzz/ (clang; in the background beside the build-asan suites). Kernel binaries are cached under build/ and
# build-asan/ (MAMBACL_CACHE_DIR, POCL_CACHE_DIR), so a second run is fast.
# Prints the time of each stage.
#
# The meson suites mostly wait on PoCL compiling a kernel, one core of the
# CI's two; so the sanitizer and fuzz builds run meanwhile (one compile job,
# nice 19: the tests keep the CPU when they want it), then the longest cold
# suites (bg_suites) on that core beside the others, and the Oclgrind stage
# (one thread) runs beside the build-asan suites the same way. Their logs are under build/ci-*.log, printed when they fail;
# a failing background stage fails the run after the stages that follow it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/tools/deps.sh"
cd "$root"
stage_start=$SECONDS
stage() { echo "test.sh: $1 took $((SECONDS - stage_start)) s" >&2; stage_start=$SECONDS; }
failed=()
bg_pids=()
scratch=""
# On any exit: stop the background stages still running, drop the scratch corpus.
cleanup() {
  for p in ${bg_pids[@]+"${bg_pids[@]}"}; do
    pkill -P "$p" 2>/dev/null || true
    kill "$p" 2>/dev/null || true
  done
  [ -z "$scratch" ] || rm -rf "$scratch"
}
trap cleanup EXIT
# bg_wait NAME PID LOG: waits for the background stage, prints its log if it failed.
bg_wait() {
  if wait "$2"; then
    echo "test.sh: $1 (in the background) passed" >&2
  else
    echo "test.sh: $1 (in the background) FAILED; its log ($3):" >&2
    tail -n 80 "$3" >&2
    failed+=("$1")
  fi
}
fuzz_targets=(safetensors config tokenizer tokenizer_json tunedb)
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build
[ -f build-asan/build.ninja ] ||
  meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true >/dev/null
# fuzz_request (the server's request bodies) exists where the server is built
ninja -C build-fuzz -t query tests/fuzz/fuzz_request >/dev/null 2>&1 && fuzz_targets+=(request)
bg_start=$SECONDS
( nice -n 19 ninja -j1 -C build-asan && nice -n 19 ninja -j1 -C build-fuzz "${fuzz_targets[@]/#/tests/fuzz/fuzz_}" &&
  echo "built build-asan and build-fuzz in $((SECONDS - bg_start)) s" ) >build/ci-builds.log 2>&1 &
builds_pid=$!
bg_pids+=("$builds_pid")
# Once those builds are done the second core would idle while the suites
# compile kernels one at a time, so the suites of bg_suites (the longest cold:
# each builds many programs of its own) run meanwhile in a second meson test
# (logs build/meson-logs/testlog-bg.*); the others run here. Their caches are
# safe to share: mambacl's binary cache writes a temporary file and renames it,
# PoCL's cache does the same, and the suites that clear a cache use their own.
bg_suites=(limits decode leak)
fg_suites=()
for t in $(meson test -C build --no-rebuild --list 2>/dev/null); do
  [[ " ${bg_suites[*]} " == *" $t "* ]] || fg_suites+=("$t")
done
( while kill -0 "$builds_pid" 2>/dev/null; do sleep 2; done
  meson test -C build --no-rebuild --logbase testlog-bg --print-errorlogs --num-processes 1 "${bg_suites[@]}" ) \
  >build/ci-bgtests.log 2>&1 &
bgtests_pid=$!
bg_pids+=("$bgtests_pid")
meson test -C build --no-rebuild --print-errorlogs --num-processes 1 "${fg_suites[@]}"
bg_wait "meson test of ${bg_suites[*]}" "$bgtests_pid" build/ci-bgtests.log
grep -E "^ *[0-9]+/[0-9]+ " build/ci-bgtests.log >&2 || true
stage "meson test (build)"
bg_wait "build-asan and build-fuzz builds" "$builds_pid" build/ci-builds.log
tail -n 1 build/ci-builds.log >&2

# Every suite under AddressSanitizer + UndefinedBehaviorSanitizer, with
# LeakSanitizer on: leaks that PoCL, LLVM, CLBlast or the ICD loader keep for
# the process's life are suppressed by library (tools/lsan.supp), so a leak
# of mambacl's own memory still fails. PoCL's kernel cache and mambacl's
# binary cache are copied from build/: PoCL's is keyed by the kernel source,
# build options and device, mambacl's by the source, build options, device,
# driver and platform (runtime/program.c), neither by the host binary, so
# build/'s kernels are the ones build-asan/ would compile (the sanitizers
# instrument the host code only). Only the top-level binaries are copied (no
# tuning/ file). asan_skip lists suites that cannot run under the sanitizers
# (none today).
asan_skip=()
ninja -C build-asan
mkdir -p build-asan/pocl-cache build-asan/tests/mcl-cache
[ -d build/pocl-cache ] && cp -rn build/pocl-cache/. build-asan/pocl-cache/ 2>/dev/null || true
[ -d build/tests/mcl-cache ] &&
  find build/tests/mcl-cache -maxdepth 1 -type f -name '*.bin' -exec cp -n -t build-asan/tests/mcl-cache/ {} + 2>/dev/null || true
asan_tests=()
for t in $(meson test -C build-asan --no-rebuild --list 2>/dev/null); do
  [[ " ${asan_skip[*]} " == *" $t "* ]] || asan_tests+=("$t")
done

# The kernels under Oclgrind: data races, invalid and uninitialized accesses,
# API misuse (the CI subset; tools/oclgrind.sh full is the sweep), beside the
# build-asan suites (it uses build/ only).
ninja -C build mambacl kernel_sweep >/dev/null
ocl_start=$SECONDS
( nice -n 19 bash tools/oclgrind.sh ci && echo "oclgrind took $((SECONDS - ocl_start)) s" ) >build/ci-oclgrind.log 2>&1 &
ocl_pid=$!
bg_pids+=("$ocl_pid")
# libFuzzer smoke: each target for a fixed number of runs with a fixed seed
# (deterministic, so CI cannot fail at random), from its seeds; new inputs go
# to a scratch corpus, not into the source tree. It runs in the background
# beside the build-asan suites (nice 19, like Oclgrind); its log is
# build/ci-fuzz.log.
fuzz_smoke() {
  ninja -C build-fuzz "${fuzz_targets[@]/#/tests/fuzz/fuzz_}" >/dev/null || return 1
  for t in "${fuzz_targets[@]}"; do
    mkdir -p "$scratch/$t" "tests/fuzz/seeds/$t"
    dict=()
    [ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
    [ "$t" = tokenizer_json ] && dict+=(-max_len=4096)
    echo "fuzz_$t: 100000 runs"
    if ! MAMBACL_SHARED="$root/../shared" "build-fuzz/tests/fuzz/fuzz_$t" -seed=1 -runs=100000 -max_total_time=30 -print_final_stats=1 "${dict[@]}" \
        -artifact_prefix="$scratch/" "$scratch/$t" "tests/fuzz/seeds/$t" >"$scratch/$t.log" 2>&1; then
      tail -n 60 "$scratch/$t.log"
      echo "fuzz_$t found a failure"
      return 1
    fi
    grep -E '^stat::number_of_executed_units|^Done' "$scratch/$t.log" || true
  done
}
scratch=$(mktemp -d)
fuzz_start=$SECONDS
( renice -n 19 -p "$BASHPID" >/dev/null; fuzz_smoke && echo "fuzz smoke took $((SECONDS - fuzz_start)) s" ) \
  >build/ci-fuzz.log 2>&1 &
fuzz_pid=$!
bg_pids+=("$fuzz_pid")
# intercept_tls_get_addr=0: gcc 12's sanitizer runtime takes a dynamic TLS block
# whose start lies sizeof(its glibc 2.19 header) past a page boundary for one
# with that header, reads a range from the two words before it, and
# LeakSanitizer's tracer dies scanning that range ("Tracer caught signal 11"
# after every test passed; google/sanitizers#1322). Where malloc puts the
# block decides it: it was the occasional crash asan_rerun.py lets run again,
# and in session 18 test_scan hit it on every warm run (its rerun too). Off,
# LSan no longer scans dlopen'ed modules' dynamic TLS (PoCL's kernel
# libraries); leaks in our code are still found (static TLS, stacks, globals).
san_opts=detect_leaks=1:intercept_tls_get_addr=0
asan_test() {
  ASAN_OPTIONS=$san_opts LSAN_OPTIONS="suppressions=$root/tools/lsan.supp:print_suppressions=0" \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-asan --no-rebuild --print-errorlogs --num-processes 1 "$@"
}
if ! asan_test "${asan_tests[@]}"; then
  # A suite whose only failure is LeakSanitizer's own crash at exit (its
  # tracer thread, with PoCL's threads alive) runs once more; any real finding
  # fails here (tools/asan_rerun.py says which and why).
  again=$(python3 tools/asan_rerun.py build-asan/meson-logs/testlog.json) || exit 1
  [ -n "$again" ] || exit 1
  echo "test.sh: LeakSanitizer crashed (not a finding) in: $again; running them again" >&2
  # shellcheck disable=SC2086
  asan_test $again
fi
stage "meson test (build-asan: ${#asan_tests[@]} suites)"
bg_wait oclgrind "$ocl_pid" build/ci-oclgrind.log
tail -n 2 build/ci-oclgrind.log >&2
stage "oclgrind (after the build-asan suites)"

# mambacl serve under ASan + UBSan + LeakSanitizer (PoCL leaks nothing that
# LSan reports here): status codes, disconnects, shutdown, and the
# fuzz-style loop of 1000 mixed requests (tests/serve/test_serve.py).
for phase in http fuzz; do
  MAMBACL_CACHE_DIR="$root/build/tests/mcl-cache" POCL_CACHE_DIR="$root/build/pocl-cache" \
    ASAN_OPTIONS=$san_opts UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    python3 tests/serve/test_serve.py --mambacl build-asan/mambacl --phase "$phase"
done

bg_wait "fuzz smoke" "$fuzz_pid" build/ci-fuzz.log
grep -E '^fuzz_|^stat::number_of_executed_units' build/ci-fuzz.log >&2 || true
stage "fuzz smoke (after the serve tests)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "test.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
