#!/usr/bin/env bash
# The long fault loop: the durability test (tests/python/test_durability.py)
# with many kill -9 cycles during concurrent inserts (default 200; CI's ctest
# runs 20), then SIGTERM/restart and full-file-system checks.
#   scripts/fault-test.sh            # 200 cycles
#   scripts/fault-test.sh 1000       # more
source "$(dirname "$0")/common.sh"
setup_and_build gpudb-engine
GPUDB_PROTO="$BUILD_DIR/proto/gpudb.proto" exec "$REPO/.venv/bin/python" "$REPO/tests/python/test_durability.py" \
  "$BUILD_DIR/server/gpudb-engine" --cycles "${1:-200}"
