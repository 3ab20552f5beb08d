#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test (ctest):
# kernels, engine and server unit tests, the gRPC end-to-end tests and the
# Python client test. Tests that need a GPU skip themselves without one.
source "$(dirname "$0")/common.sh"
setup_python
setup_and_build
cd "$BUILD_DIR"
ctest --output-on-failure -j "$JOBS" --timeout 900
