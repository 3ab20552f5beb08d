#!/usr/bin/env bash
# Installs what is missing, builds (Release) and runs the server in the
# foreground on 127.0.0.1 (gRPC port 9190, Kinetica's HTTP transport on 9191).
# Arguments go to the server:
#   scripts/run.sh --grpc-port=9190 --devices=host:2 --device-memory-limit=4G
#   scripts/run.sh --http-port=9191 --auth-file=users.txt   # users.txt: user:password lines
#   scripts/run.sh --help
source "$(dirname "$0")/common.sh"
setup_and_build gpudb-engine >&2
exec "$BUILD_DIR/server/gpudb-engine" "$@"
