#!/usr/bin/env bash
# Fuzzes one decoder or parser with libFuzzer (clang's -fsanitize=fuzzer,
# with AddressSanitizer and UndefinedBehaviorSanitizer):
#
#   scripts/fuzz.sh TARGET SECONDS     run TARGET for SECONDS, growing its corpus
#   scripts/fuzz.sh TARGET replay      run TARGET once over its corpus (what CI does)
#   scripts/fuzz.sh list               the targets
#
# Targets are tests/fuzz/<TARGET>_fuzz.cc, built from the few sources they
# need (no CMake, no CUDA, no gRPC; tests/fuzz/no_device.cc stands in for
# the kernels' device side) into build-fuzz/. Runs start from the
# seeds in tests/fuzz/corpus/<TARGET>/ and the corpus grown by earlier runs,
# build-fuzz/corpus/<TARGET>/ (where new finds go; too big for the
# repository). A crash, a leak, a run over 1 s or over 2 GB of memory stops
# the run and leaves the input in build-fuzz/<TARGET>-crash-*: make it a test.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$REPO/build-fuzz"
CXX="${FUZZ_CXX:-clang++}"

declare -A SOURCES=(
  [json]="engine/api/json.cc"
  [avro]="engine/api/avro.cc engine/api/json.cc engine/api/options.cc engine/api/schema.cc server/avro_codec.cc"
  [sql_nesting]="engine/sql/kinetica_words.cc"
  [type_definition]="engine/table/types.cc engine/api/json.cc"
  [expression]="engine/expr/parser.cc engine/expr/lexer.cc engine/table/types.cc engine/api/json.cc"
  [records]="tests/fuzz/no_device.cc engine/table/record_codec.cc engine/table/dates.cc engine/table/host_column.cc engine/table/types.cc engine/api/avro.cc engine/api/json.cc engine/api/schema.cc"
)

if [[ "${1:-}" == "list" || $# -lt 2 ]]; then
  echo "usage: scripts/fuzz.sh TARGET SECONDS|replay; targets: ${!SOURCES[*]}" >&2
  [[ "${1:-}" == "list" ]] && exit 0 || exit 2
fi
target="$1"
mode="$2"
[[ -n "${SOURCES[$target]:-}" ]] || { echo "fuzz.sh: no target '$target' (${!SOURCES[*]})" >&2; exit 2; }
command -v "$CXX" >/dev/null || { echo "fuzz.sh: $CXX not found (apt-get install clang)" >&2; exit 2; }

mkdir -p "$OUT"
binary="$OUT/${target}_fuzz"
# The API's definition, embedded as CMake does (engine/api/CMakeLists.txt).
generated="$OUT/endpoints_json.$target.cc"
{
  echo 'namespace engine {'
  echo 'extern const char kEndpointsJson[];'
  printf 'const char kEndpointsJson[] = R"gpudb_api('
  cat "$REPO/engine/api/endpoints.json"
  echo ')gpudb_api";'
  echo '}  // namespace engine'
} > "$generated.new"
cmp -s "$generated.new" "$generated" || mv "$generated.new" "$generated"
rm -f "$generated.new"

sources=()
for s in ${SOURCES[$target]}; do sources+=("$REPO/$s"); done
[[ "$target" == "avro" || "$target" == "records" ]] && sources+=("$generated")
newest=$(ls -t "$REPO/tests/fuzz/${target}_fuzz.cc" "${sources[@]}" "$0" | head -1)
if [[ ! -x "$binary" || "$newest" -nt "$binary" ]]; then
  echo "fuzz.sh: building $binary" >&2
  # shellcheck disable=SC2046
  "$CXX" -std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I"$REPO" "$REPO/tests/fuzz/${target}_fuzz.cc" "${sources[@]}" -o "$binary" \
    $(pkg-config --libs absl_status absl_statusor absl_strings absl_str_format absl_time absl_flat_hash_map \
      absl_flat_hash_set)
fi

seeds="$REPO/tests/fuzz/corpus/$target"
corpus="$OUT/corpus/$target"
mkdir -p "$corpus"
cd "$OUT"
flags=(-timeout=1 -rss_limit_mb=2048 -artifact_prefix="$OUT/${target}-" -print_final_stats=1)
if [[ "$mode" == "replay" ]]; then
  # The seeds (and any grown corpus) once, then a short run from them.
  "$binary" "${flags[@]}" -runs=0 "$seeds" "$corpus"
  "$binary" "${flags[@]}" -max_total_time="${FUZZ_CI_SECONDS:-20}" "$corpus" "$seeds"
else
  "$binary" "${flags[@]}" -max_total_time="$mode" "$corpus" "$seeds"
fi
