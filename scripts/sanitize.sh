#!/usr/bin/env bash
# Builds the host-only configuration (no CUDA) with sanitizers and runs the
# unit and end-to-end tests under them:
#
#   scripts/sanitize.sh [address|thread] [ctest arguments...]
#
# address (default): AddressSanitizer + UndefinedBehaviorSanitizer, in
#   build-asan/; any report fails its test (halt_on_error).
# thread: ThreadSanitizer, in build-tsan/. TSan sees an ordering only
#   where instrumented code makes it, so Abseil (absl::Mutex, CondVar,
#   Notification, Status) is rebuilt with -fsanitize=thread from Debian's own
#   source package of the installed version (downloaded once into
#   build-tsan/abseil/, about 5 minutes on 2 cores) and the build links it
#   and runs on it, gRPC's included (LD_LIBRARY_PATH). OpenMP's runtime
#   (libgomp) is not instrumented, so the host kernels run on one OpenMP
#   thread (OMP_NUM_THREADS=1) and their regions hide nothing from it.
# Suppressions, each explained: scripts/sanitize/*.supp.
source "$(dirname "$0")/common.sh"

# `build_instrumented_abseil PREFIX`: Debian's source package of the
# installed libabsl-dev (its patches applied, so the same options and ABI),
# checked against its .dsc, built with $CXXFLAGS as shared libraries of the
# same sonames, installed under PREFIX. Once; kept while the version is.
build_instrumented_abseil() {
  local prefix="$1" version upstream work f
  version="$(dpkg-query -W -f='${Version}' libabsl-dev)"
  [[ -f "$prefix/version" && "$(cat "$prefix/version")" == "$version" ]] && return 0
  echo "== building Abseil $version with $CXXFLAGS into $prefix"
  command -v curl >/dev/null || DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends curl
  upstream="${version%-*}"
  work="$prefix.src"
  rm -rf "$prefix" "$work"
  mkdir -p "$work"
  # The archive's pool, or the security archive's for a security update.
  local pool="http://deb.debian.org/debian/pool/main/a/abseil"
  curl -fsS -o "$work/abseil_$version.dsc" "$pool/abseil_$version.dsc" 2>/dev/null || {
    pool="http://security.debian.org/debian-security/pool/updates/main/a/abseil"
    curl -fsS -o "$work/abseil_$version.dsc" "$pool/abseil_$version.dsc"
  }
  for f in "abseil_$upstream.orig.tar.gz" "abseil_$version.debian.tar.xz"; do
    curl -fsS -o "$work/$f" "$pool/$f"
    grep -q "$(cd "$work" && sha256sum "$f" | cut -d' ' -f1) $(stat -c %s "$work/$f") $f" "$work/abseil_$version.dsc" ||
      { echo "sanitize.sh: $f does not match its .dsc" >&2; exit 1; }
  done
  dpkg-source --no-check -x "$work/abseil_$version.dsc" "$work/src" >/dev/null
  cmake -S "$work/src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_STANDARD=17 \
    -DBUILD_SHARED_LIBS=ON -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
  cmake --build "$work/build" -j "$JOBS"
  cmake --install "$work/build" >/dev/null
  echo "$version" > "$prefix/version"
  rm -rf "$work"
}
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
    # history_size: the longest memory of old accesses, so that a report
    # names both stacks (the suppressions match on either).
    export TSAN_OPTIONS="halt_on_error=1:allocator_may_return_null=1:history_size=7:suppressions=$REPO/scripts/sanitize/thread.supp"
    export OMP_NUM_THREADS=1
    dir="$REPO/build-tsan"
    abseil="$dir/abseil"
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
if [[ -n "${abseil:-}" ]]; then
  install_packages
  build_instrumented_abseil "$abseil"
  GPUDB_CMAKE_ARGS+=" -DCMAKE_PREFIX_PATH=$abseil"
  export LD_LIBRARY_PATH="$abseil/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
setup_python
setup_and_build
cd "$BUILD_DIR"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
ctest --output-on-failure -j "$JOBS" --timeout 1800 -E '^fuzz_' "$@"
