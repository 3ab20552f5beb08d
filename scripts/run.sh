#!/usr/bin/env bash
# Installs what is missing, builds (Release) and runs the server in the
# foreground on 127.0.0.1 (gRPC port 9190). Arguments go to the server:
#   scripts/run.sh --grpc-port=9190 --devices=host:2 --device-memory-limit=4G
#   scripts/run.sh --help
source "$(dirname "$0")/common.sh"
setup_and_build gpudb-engine >&2
exec "$BUILD_DIR/server/gpudb-engine" "$@"
