#!/usr/bin/env bash
# The whole CPU benchmark set, in one command (under 15 minutes on 2 cores):
# installs what is missing, builds (Release), then runs
#   1. the kernel benchmarks (benchmarks/kernels_bench, host backend);
#   2. the job load harness (gpudb-bench);
#   3. our engine against DuckDB (benchmarks/compare_duckdb.py) at 1e6 and 1e7 rows,
#      over gRPC and through Kinetica's Python client over HTTP (--http);
#   4. binary inserts at each sync level beside memory-only, checkpoint rate
#      and recovery speed (insert-bench --storage; benchmarks/results/storage_bench.txt);
#   5. one table on --devices=host:2 beside host:1, one thread per device
#      (benchmarks/shard_bench.py at 1e7 rows);
#   6. joins, updates, deletes and upserts beside DuckDB (benchmarks/change_bench.py:
#      1e7 x 1e6 and 1e7 x 1e7 joins);
#   7. TPC-H queries 1, 3, 5, 6, 10, 12, 14 and 19 at scale factor 1 in SQL beside
#      DuckDB (benchmarks/tpch_bench.py);
# and rewrites the CPU sections of benchmarks/RESULTS.md (between the
# <!-- cpu:NAME:begin --> / <!-- cpu:NAME:end --> markers) with the figures,
# the date, the machine and the command.
#
# Environment:
#   GPUDB_BENCH_ROWS        sizes for the DuckDB comparison (default 1e6,1e7;
#                           1e6,1e7,1e8 needs ~12 GB of RAM and ~10 more minutes)
#   GPUDB_LOAD_BENCH_ARGS   arguments for gpudb-bench (default: --in_process --quiet:
#                           a server inside the harness, 4 clients x 100 trivial jobs)
#   GPUDB_BUILD_DIR, GPUDB_JOBS, GPUDB_CMAKE_ARGS: as for scripts/test.sh
source "$(dirname "$0")/common.sh"

# One function, read whole before it runs (so editing this file mid-run is harmless).
main() {
START=$(date +%s)
ROWS="${GPUDB_BENCH_ROWS:-1e6,1e7}"
COMMAND="scripts/bench.sh"
if [ -n "${GPUDB_BENCH_ROWS:-}" ]; then COMMAND="GPUDB_BENCH_ROWS=$ROWS $COMMAND"; fi
RESULTS_DIR="$REPO/benchmarks/results"
VENV="$REPO/.venv-bench"
mkdir -p "$RESULTS_DIR"

setup_venv "$VENV" "$REPO/benchmarks/requirements.txt"  # duckdb, numpy, matplotlib, grpcio
setup_and_build gpudb-engine kernels_bench gpudb-bench insert-bench

# OpenMP's threads spin briefly between kernels, then sleep (the server's
# own default, server/main.cc): an idle server takes no CPU from DuckDB
# between our jobs.
export GOMP_SPINCOUNT="${GOMP_SPINCOUNT:-10000}"
UPDATE=("$VENV/bin/python" "$REPO/benchmarks/update_results.py")

echo "== kernels_bench (host)"
"$BUILD_DIR/benchmarks/kernels_bench" --benchmark_out="$RESULTS_DIR/kernels_bench.json" \
  --benchmark_out_format=json
"${UPDATE[@]}" kernels "$RESULTS_DIR/kernels_bench.json" \
  --command "$COMMAND  # runs $(basename "$BUILD_DIR")/benchmarks/kernels_bench"

LOAD_ARGS="${GPUDB_LOAD_BENCH_ARGS:---in_process --quiet}"
echo "== gpudb-bench $LOAD_ARGS"
set +e
# shellcheck disable=SC2086  # the arguments are meant to split
timeout 180 "$BUILD_DIR/benchmarks/gpudb-bench" $LOAD_ARGS 2>&1 | tee "$RESULTS_DIR/load_bench.txt"
LOAD_STATUS=${PIPESTATUS[0]}
set -e
"${UPDATE[@]}" load "$RESULTS_DIR/load_bench.txt" --status "$LOAD_STATUS" \
  --command "$COMMAND  # runs gpudb-bench $LOAD_ARGS"

echo "== DuckDB side by side ($ROWS rows)"
GPUDB_PROTO="$BUILD_DIR/proto/gpudb.proto" "$VENV/bin/python" "$REPO/benchmarks/compare_duckdb.py" --server-binary "$BUILD_DIR/server/gpudb-engine" \
  --rows "$ROWS" --out-dir "$RESULTS_DIR"
"${UPDATE[@]}" duckdb "$RESULTS_DIR/compare_duckdb.json" \
  --command "$COMMAND  # runs benchmarks/compare_duckdb.py --rows $ROWS"
echo "== DuckDB side by side, through Kinetica's Python client over HTTP ($ROWS rows)"
GPUDB_PROTO="$BUILD_DIR/proto/gpudb.proto" "$VENV/bin/python" "$REPO/benchmarks/compare_duckdb.py" --server-binary "$BUILD_DIR/server/gpudb-engine" \
  --rows "$ROWS" --http --out-dir "$RESULTS_DIR"
"${UPDATE[@]}" duckdb_http "$RESULTS_DIR/compare_duckdb_http.json" \
  --command "$COMMAND  # runs benchmarks/compare_duckdb.py --rows $ROWS --http"

echo "== durability: inserts at each sync level, checkpoint, recovery"
"$BUILD_DIR/benchmarks/insert-bench" --rows=1e6,1e7 --runs=3 --only=grpc,http \
  --storage=memory,none,background,flush,fsync 2>&1 | tee "$RESULTS_DIR/storage_bench.txt"

echo "== shards: host:2 beside host:1, one thread per device"
GPUDB_BUILD_DIR="$BUILD_DIR" "$VENV/bin/python" "$REPO/benchmarks/shard_bench.py" \
  --server-binary "$BUILD_DIR/server/gpudb-engine" --rows 1e7 --out-dir "$RESULTS_DIR"
"${UPDATE[@]}" shards "$RESULTS_DIR/shard_bench.json" \
  --command "$COMMAND  # runs benchmarks/shard_bench.py --rows 1e7"

echo "== changes: joins, updates, deletes, upserts beside DuckDB"
GPUDB_BUILD_DIR="$BUILD_DIR" "$VENV/bin/python" "$REPO/benchmarks/change_bench.py" \
  --server-binary "$BUILD_DIR/server/gpudb-engine" --rows 1e7 --dim-rows 1e6 --out-dir "$RESULTS_DIR"
"${UPDATE[@]}" changes "$RESULTS_DIR/change_bench.json" \
  --command "$COMMAND  # runs benchmarks/change_bench.py --rows 1e7 --dim-rows 1e6"

echo "== TPC-H: queries 1 3 5 6 10 12 14 19 at scale factor 1 beside DuckDB"
GPUDB_BUILD_DIR="$BUILD_DIR" "$VENV/bin/python" "$REPO/benchmarks/tpch_bench.py" \
  --server-binary "$BUILD_DIR/server/gpudb-engine" --sf 1 --out-dir "$RESULTS_DIR"
"${UPDATE[@]}" tpch "$RESULTS_DIR/tpch_bench.json" \
  --command "$COMMAND  # runs benchmarks/tpch_bench.py --sf 1"

echo "== done in $(( $(date +%s) - START )) s; tables rewritten in benchmarks/RESULTS.md"
}

main "$@"
