#!/bin/bash
# On the GPU machine: the server benchmark of issue 14. Builds mambacl with
# `serve` (fails if the build has none), writes a random 1.4b-shaped F16
# checkpoint (tools/make_model.py), measures `mambacl bench -m` batched
# decode at 1, 8, 32, 64 on it, then tools/serve_bench.py at 1, 8, 32, 64
# concurrent streaming clients (beside `mambacl run --batch-file` of the same
# prompts). Results in $OUT: serve-1.4b.json, serve-1.4b.txt (the table),
# bench-1.4b-decode.json, serve_device.log (every stage's time).
# usage: [COMMIT=sha] [SHAPE=1.4b] [TOKENS=128] [REPEAT=3] [CLIENTS=1,8,32,64] bash tools/serve_device.sh
# (a rehearsal elsewhere: SKIP_SETUP=1 BUILD=build MAMBACL_DEVICE=cpu SHAPE=tiny ...)
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
SHAPE=${SHAPE:-1.4b} TOKENS=${TOKENS:-128} REPEAT=${REPEAT:-3} CLIENTS=${CLIENTS:-1,8,32,64}
BUILD=${BUILD:-build-gpu} MODEL=/tmp/mamba-$SHAPE
t0=$(date +%s)
stage() { echo "== $(( $(date +%s) - t0 )) s: $*"; }
fail() { echo "serve_device: $*"; exit 1; }

main() {
stage "setup (commit ${COMMIT:-unknown})"
[ -n "${SKIP_SETUP:-}" ] || bash .device/setup.sh >/dev/null 2>&1 || fail "setup.sh failed"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null
python3 -c "import safetensors; print('python safetensors', safetensors.__version__)" 2>/dev/null ||
  echo "python safetensors: not installed"
export MAMBACL_DEVICE=${MAMBACL_DEVICE:-nvidia} MAMBACL_CACHE_DIR=/tmp/mclcache

stage "build"
[ -f $BUILD/build.ninja ] || meson setup $BUILD -Dserve=enabled -Dtests=disabled >"$OUT/build.log" 2>&1 ||
  { tail -30 "$OUT/build.log"; fail "meson setup failed"; }
ninja -C $BUILD mambacl >>"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; fail "build failed"; }
$BUILD/mambacl serve --help | head -1 | grep -q "usage: mambacl serve" || fail "this build has no serve"

stage "model $SHAPE"
tok=""
for t in .tok/tokenizer.json ../shared/tokenizers/gpt-neox-20b/tokenizer.json; do [ -f "$t" ] && tok=$t && break; done
[ -n "$tok" ] || fail "no GPT-NeoX tokenizer.json (.tok/ or ../shared/tokenizers/gpt-neox-20b/)"
python3 tools/make_model.py --config "$SHAPE" --out "$MODEL" --tokenizer "$tok" || fail "make_model failed"
$BUILD/mambacl info -m "$MODEL" | grep -E "parameters|dtype|device" || fail "mambacl info failed"

stage "bench -m $MODEL --decode-only"
$BUILD/mambacl bench -m "$MODEL" --decode-only --reps 5 --json "$OUT/bench-$SHAPE-decode.json" ||
  fail "bench failed"

stage "serve_bench (clients $CLIENTS, $TOKENS tokens, $REPEAT rounds)"
python3 tools/serve_bench.py --mambacl $BUILD/mambacl -m "$MODEL" --clients "$CLIENTS" --tokens "$TOKENS" \
  --repeat "$REPEAT" --bench-json "$OUT/bench-$SHAPE-decode.json" --json "$OUT/serve-$SHAPE.json" ||
  fail "serve_bench failed"
python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['table'])" "$OUT/serve-$SHAPE.json" >"$OUT/serve-$SHAPE.txt"
stage "done"
}
main 2>&1 | tee "$OUT/serve_device.log"
