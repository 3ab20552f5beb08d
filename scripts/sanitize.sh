#!/usr/bin/env bash
# Builds the host-only configuration (no CUDA) with sanitizers and runs the
# unit and end-to-end tests under them:
#
#   scripts/sanitize.sh [address|thread] [ctest arguments...]
#
# address (default): AddressSanitizer + UndefinedBehaviorSanitizer, in
#   build-asan/; any report fails its test (halt_on_error).
# thread: ThreadSanitizer, in build-tsan/; OpenMP's runtime (libgomp) is not
#   instrumented, so the host kernels run on one OpenMP thread
#   (OMP_NUM_THREADS=1) and their regions hide nothing from it. Debian's
#   Abseil is not instrumented either, so TSan cannot see absl::Mutex's
#   ordering and reports a race at nearly every use of one (the engine and
#   the server): only kernels_test is meaningful under it until Abseil is
#   built with -fsanitize=thread.
# Suppressions, each explained: scripts/sanitize/*.supp.
source "$(dirname "$0")/common.sh"
mode="${1:-address}"
shift || true
case "$mode" in
  address)
    # Every check halts the test (halt_on_error), but `null` is recoverable
    # so that its suppression (ubsan.supp) can apply.
    flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fsanitize-recover=null -fno-omit-frame-pointer"
    # allocator_may_return_null: the tests of device memory limits ask for
    # more than any machine has and expect a failure, not an abort.
    export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=1:allocator_may_return_null=1"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$REPO/scripts/sanitize/ubsan.supp"
    export LSAN_OPTIONS="suppressions=$REPO/scripts/sanitize/leaks.supp:print_suppressions=0"
    dir="$REPO/build-asan"
    ;;
  thread)
    flags="-fsanitize=thread"
    export TSAN_OPTIONS="halt_on_error=1:allocator_may_return_null=1:suppressions=$REPO/scripts/sanitize/thread.supp"
    export OMP_NUM_THREADS=1
    dir="$REPO/build-tsan"
    ;;
  *)
    echo "usage: scripts/sanitize.sh [address|thread] [ctest arguments...]" >&2
    exit 2
    ;;
esac
export GPUDB_BUILD_DIR="$dir"
BUILD_DIR="$dir"
# CMake takes the flags from the environment when it first configures.
export CXXFLAGS="$flags" CFLAGS="$flags" LDFLAGS="$flags"
export GPUDB_CMAKE_ARGS="-DGPUDB_CUDA=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo"
setup_python
setup_and_build
cd "$BUILD_DIR"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
ctest --output-on-failure -j "$JOBS" --timeout 1800 -E '^fuzz_' "$@"
