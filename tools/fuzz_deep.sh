#!/bin/bash
# Deep fuzzing run (not part of CI, which keeps a seeded smoke in tools/test.sh):
# every libFuzzer target for RUNS executions (default 10 million) from its
# seeds, one process at a time, corpora kept under CORPUS_DIR (default
# build-fuzz/corpus) so that a later run continues from them. Prints each
# target's execution count and time; exits non-zero when a target finds a
# crash, leak or assertion (the reproducer is in CORPUS_DIR/crash-*).
#   tools/fuzz_deep.sh [target...]     (default: every target)
#   RUNS=1000000 tools/fuzz_deep.sh tunedb
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${RUNS:-10000000}
corpus_dir=${CORPUS_DIR:-$root/build-fuzz/corpus}
targets=("$@")
[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true >/dev/null
if [ ${#targets[@]} -eq 0 ]; then
  targets=(tunedb config safetensors tokenizer_json tokenizer)
  # fuzz_request (the server's request bodies) exists where the server is built
  ninja -C build-fuzz -t query tests/fuzz/fuzz_request >/dev/null 2>&1 && targets+=(request)
fi
ninja -C build-fuzz "${targets[@]/#/tests/fuzz/fuzz_}" >/dev/null
export MAMBACL_SHARED=${MAMBACL_SHARED:-$root/../shared}
status=0
for t in "${targets[@]}"; do
  mkdir -p "$corpus_dir/$t"
  args=(-runs="$runs" -print_final_stats=1 -artifact_prefix="$corpus_dir/crash-$t-")
  [ -f "tests/fuzz/$t.dict" ] && args+=("-dict=tests/fuzz/$t.dict")
  [ "$t" = tokenizer_json ] && args+=(-max_len=4096)   # small tokenizers: thousands of runs a second
  log="$corpus_dir/$t.log"
  start=$(date +%s)
  if "build-fuzz/tests/fuzz/fuzz_$t" "${args[@]}" "$corpus_dir/$t" "tests/fuzz/seeds/$t" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED; status=1
  fi
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  echo "fuzz_$t: $result, ${execs:-?} executions in $(( $(date +%s) - start )) s," \
       "corpus $(find "$corpus_dir/$t" -type f | wc -l) inputs (log $log)"
done
exit $status
