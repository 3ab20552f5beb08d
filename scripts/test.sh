#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test (ctest):
# kernels, engine and server unit tests, the gRPC end-to-end tests and the
# Python client test. Tests that need a GPU skip themselves without one.
source "$(dirname "$0")/common.sh"
setup_python
setup_and_build
cd "$BUILD_DIR"
# Host devices run Thrust on OpenMP; with many test processes sharing few
# cores, spinning OpenMP threads starve each other.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
ctest --output-on-failure -j "$JOBS" --timeout 900
