#!/usr/bin/env bash
# The long load-and-soak run: starts gpudb-engine (host device, a fresh data
# directory with the default --sync=flush, --job-ttl=10s, --max-queued-jobs=64)
# and drives it with gpudb-soak (benchmarks/gpudb_soak.cc: 64 clients x 20,000
# mixed jobs, exactly-once accounting, memory back to its baseline), then
# stops it with SIGTERM, which must end it cleanly. Arguments go to gpudb-soak:
#   scripts/soak.sh                        # 64 clients x 20,000 steps
#   scripts/soak.sh --clients=8 --jobs=1000
# CTest runs a short one in process (gpudb_soak_short).
source "$(dirname "$0")/common.sh"
setup_and_build gpudb-engine gpudb-soak >&2
data="$(mktemp -d)"
port="${SOAK_PORT:-9290}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
"$BUILD_DIR/server/gpudb-engine" --devices=host --grpc-port="$port" --http-port=0 --data-dir="$data" \
  --job-ttl=10s --max-queued-jobs=64 > "$data/server.log" 2>&1 &
server=$!
trap 'kill -9 $server 2>/dev/null; rm -rf "$data"' EXIT
status=0
"$BUILD_DIR/benchmarks/gpudb-soak" --target="127.0.0.1:$port" "$@" || status=$?
# With the clients gone too: the server's resident memory once the last
# tombstones have expired (twice the TTL).
sleep 25
echo "soak: server resident memory with no client connected: $(awk '/VmRSS/ {printf "%.1f MiB", $2 / 1024}' /proc/$server/status)"
kill -TERM $server
if ! wait $server; then
  echo "soak: the server did not stop cleanly on SIGTERM; its log:" >&2
  tail -20 "$data/server.log" >&2
  status=1
fi
exit $status
