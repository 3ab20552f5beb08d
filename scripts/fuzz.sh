#!/usr/bin/env bash
# Fuzzes one decoder or parser with libFuzzer (clang's -fsanitize=fuzzer,
# with AddressSanitizer and UndefinedBehaviorSanitizer):
#
#   scripts/fuzz.sh TARGET SECONDS     run TARGET for SECONDS, growing its corpus
#   scripts/fuzz.sh TARGET replay      run TARGET once over its corpus (what CI does)
#   scripts/fuzz.sh list               the targets
#   FUZZ_FORK=N scripts/fuzz.sh ...    N worker processes (libFuzzer's -fork)
#   FUZZ_WORKERS=N scripts/fuzz.sh ... N independent processes sharing the
#                                      corpus (libFuzzer's -jobs; their logs in
#                                      build-fuzz/fuzz-K.log): no restarts, as
#                                      -fork has, for a slow target
#   FUZZ_SANITIZE=leak,undefined ...   other sanitizers than address,undefined
#                                      (a faster long run that still finds
#                                      leaks, crashes and undefined behaviour)
#   FUZZ_FLAGS="-entropic=0" ...       more of libFuzzer's flags
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
  [records]="tests/fuzz/no_device.cc engine/table/record_codec.cc engine/table/dates.cc engine/table/subtypes.cc engine/table/host_column.cc engine/table/types.cc engine/api/avro.cc engine/api/json.cc engine/api/schema.cc"
  [sql]="engine/sql/select.cc engine/sql/kinetica_words.cc engine/expr/text.cc engine/api/json.cc"
  [loader]="tests/fuzz/no_device.cc engine/io/reader.cc engine/io/csv_reader.cc engine/io/json_reader.cc engine/io/parquet_reader.cc engine/io/arrow_columns.cc engine/io/cells.cc engine/table/record_codec.cc engine/table/dates.cc engine/table/subtypes.cc engine/table/host_column.cc engine/table/types.cc engine/api/avro.cc engine/api/json.cc engine/api/schema.cc"
  [request]="tests/fuzz/no_device.cc server/codec.cc server/proto_json.cc server/avro_codec.cc engine/api/avro.cc engine/api/json.cc engine/api/options.cc engine/api/schema.cc"
)
# Targets that need the API's embedded definition, and the libraries beyond
# Abseil that targets link (linker flags).
NEEDS_ENDPOINTS=" avro records request loader "
ABSL="absl_status absl_statusor absl_strings absl_str_format absl_time absl_flat_hash_map absl_flat_hash_set"
declare -A LIBS=(
  [request]="-lprotobuf -lsnappy"
  [sql]="-lpg_query -labsl_civil_time"
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
sanitize="${FUZZ_SANITIZE:-address,undefined}"
suffix=""
[[ "$sanitize" == "address,undefined" ]] || suffix=".${sanitize//,/-}"
binary="$OUT/${target}_fuzz$suffix"
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
[[ "$NEEDS_ENDPOINTS" == *" $target "* ]] && sources+=("$generated")
includes=(-I"$REPO")
if [[ "$target" == "request" ]]; then
  # The protobuf messages, generated as proto/CMakeLists.txt does: gen_proto
  # writes gpudb.proto from the API's definition, protoc its C++.
  gen="$OUT/gen"
  mkdir -p "$gen/proto"
  if [[ ! -f "$gen/proto/gpudb.pb.cc" || "$generated" -nt "$gen/proto/gpudb.pb.cc" ||
        "$REPO/proto/gpudb.proto.in" -nt "$gen/proto/gpudb.pb.cc" ]]; then
    echo "fuzz.sh: generating gpudb.proto" >&2
    # shellcheck disable=SC2046
    "$CXX" -std=c++17 -O1 -I"$REPO" "$REPO/proto/gen_proto.cc" "$REPO/engine/api/schema.cc" "$REPO/engine/api/json.cc" \
      "$generated" -o "$gen/gen_proto" $(pkg-config --libs $ABSL)
    "$gen/gen_proto" "$REPO/proto/gpudb.proto.in" "$gen/proto/gpudb.proto"
    protoc --cpp_out="$gen/proto" -I "$gen/proto" "$gen/proto/gpudb.proto"
  fi
  sources+=("$gen/proto/gpudb.pb.cc")
  includes+=(-I"$gen")
fi
std=c++17
if [[ "$target" == "loader" ]]; then
  # Arrow's C++ headers and libraries from the pyarrow wheel in .venv, as
  # CMakeLists.txt finds them (engine/io builds at C++20).
  python="${GPUDB_ARROW_PYTHON:-$REPO/.venv/bin/python}"
  read -r arrow_include arrow_libdir arrow_so < <("$python" -c \
    'import pyarrow as pa; print(pa.get_include(), pa.get_library_dirs()[0], pa.cpp_build_info.so_version)') ||
    { echo "fuzz.sh: $python has no pyarrow (scripts/test.sh installs it)" >&2; exit 2; }
  std=c++20
  includes+=(-isystem "$arrow_include")
  LIBS[loader]="$arrow_libdir/libparquet.so.$arrow_so $arrow_libdir/libarrow.so.$arrow_so -Wl,-rpath,$arrow_libdir"
fi
# Each source is compiled alone, in parallel, through ccache when there is
# one (so another target, a rebuild after a header changed, or a fresh clone
# reuses what it can: always rebuilt then); without ccache, the binary is
# rebuilt when a source or this script is newer.
export CCACHE_BASEDIR="$REPO" CCACHE_NOHASHDIR=1
launcher=()
command -v ccache >/dev/null && launcher=(ccache)
all_sources=("$REPO/tests/fuzz/${target}_fuzz.cc" "${sources[@]}")
newest=$(ls -t "${all_sources[@]}" "$0" | head -1)
if [[ ${#launcher[@]} -gt 0 || ! -x "$binary" || "$newest" -nt "$binary" ]]; then
  echo "fuzz.sh: building $binary" >&2
  cflags=(-std=$std -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,"$sanitize" -fno-sanitize-recover=undefined)
  objdir="$OUT/obj/$target$suffix"
  mkdir -p "$objdir"
  objects=()
  for source in "${all_sources[@]}"; do
    relative="${source#"$REPO"/}"
    object="$objdir/${relative//\//_}.o"
    objects+=("$object")
    if [[ "$source" == "$OUT"/gen/* ]]; then
      # Generated protobuf messages: trusted and large, built plain.
      "${launcher[@]}" "$CXX" -std=$std -O1 "${includes[@]}" -c "$source" -o "$object" &
    else
      "${launcher[@]}" "$CXX" "${cflags[@]}" "${includes[@]}" -c "$source" -o "$object" &
    fi
    while (( $(jobs -rp | wc -l) >= ${FUZZ_JOBS:-$(nproc)} )); do wait -n; done
  done
  while (( $(jobs -rp | wc -l) > 0 )); do wait -n; done
  runtime=()
  if [[ ",$sanitize," == *,leak,* && ",$sanitize," == *,undefined,* ]]; then
    # clang 14 links no UBSan runtime beside LeakSanitizer's: name it.
    dir="$("$CXX" -print-runtime-dir)"
    runtime=("$dir/libclang_rt.ubsan_standalone-x86_64.a" "$dir/libclang_rt.ubsan_standalone_cxx-x86_64.a")
  fi
  # shellcheck disable=SC2046
  "$CXX" "${cflags[@]}" "${objects[@]}" "${runtime[@]}" -o "$binary" $(pkg-config --libs $ABSL) ${LIBS[$target]:-}
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
  # FUZZ_FORK=N: N worker processes in one run (libFuzzer's -fork), for a
  # target too slow for one core.
  # shellcheck disable=SC2086
  "$binary" "${flags[@]}" ${FUZZ_FORK:+-fork="$FUZZ_FORK"} \
    ${FUZZ_WORKERS:+-jobs="$FUZZ_WORKERS" -workers="$FUZZ_WORKERS"} ${FUZZ_FLAGS:-} \
    -max_total_time="$mode" "$corpus" "$seeds"
fi
