#!/usr/bin/env bash
# The GPU check, in two steps, for a lent GPU machine that has nvcc, CMake and
# ninja but none of our Debian packages and no network:
#
#   scripts/gpu-check.sh bundle   (here) build with CUDA and put the test
#                                 binaries, the kernel benchmark and every
#                                 shared library they need (the loader and
#                                 libc included) into .gpu-bundle/
#   scripts/gpu-check.sh run      (there, with .gpu-bundle carried) run the
#                                 test suite on GPU devices and the kernel
#                                 benchmark, then print a short table
#
# The device tool: run(command="scripts/gpu-check.sh run", carry=[".gpu-bundle"]).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
BUNDLE="$REPO/.gpu-bundle"
BINARIES=(tests/kernels/kernels_test tests/engine/engine_test tests/server/server_test
          benchmarks/kernels_bench server/gpudb-engine)

bundle() {
  # Without Arrow (GPUDB_ARROW=OFF): its libraries alone are 60 MB, past what
  # the device tool carries, and the loading endpoints are not what this checks.
  export GPUDB_BUILD_DIR="$REPO/build-gpu" GPUDB_CMAKE_ARGS="-DGPUDB_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DGPUDB_ARROW=OFF"
  source "$REPO/scripts/common.sh"
  setup_and_build kernels_test engine_test server_test kernels_bench gpudb-engine
  command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] || { echo "no nvcc: not a CUDA build" >&2; exit 1; }
  rm -rf "$BUNDLE" && mkdir -p "$BUNDLE/bin" "$BUNDLE/lib"
  for b in "${BINARIES[@]}"; do
    cp "$BUILD_DIR/$b" "$BUNDLE/bin/"
    strip "$BUNDLE/bin/$(basename "$b")"
    # Every library the binary loads, glibc and the loader too: the GPU
    # machine's own may be older. libcuda comes from that machine's driver.
    ldd "$BUILD_DIR/$b" | awk '/=>/ {print $3} /ld-linux/ {print $1}' | grep -v libcuda | while read -r lib; do
      [ -f "$lib" ] && cp -Ln "$lib" "$BUNDLE/lib/" 2>/dev/null || true
    done
  done
  # glibc's compatibility stubs: the driver's libcuda may ask for them, and
  # they must come from the same glibc as the bundled libc.
  for stub in libdl.so.2 libpthread.so.0 librt.so.1; do
    cp -Ln "/lib/x86_64-linux-gnu/$stub" "$BUNDLE/lib/" 2>/dev/null || true
  done
  strip --strip-unneeded "$BUNDLE"/lib/*.so* 2>/dev/null || true
  du -sh "$BUNDLE"
  local mib=$(( $(du -sk "$BUNDLE" | cut -f1) / 1024 ))
  if [ "$mib" -gt 60 ]; then echo "bundle is ${mib} MiB; the device tool carries at most 64 MiB" >&2; exit 1; fi
}

run() {
  [ -d "$BUNDLE/bin" ] || { echo "no .gpu-bundle: run 'scripts/gpu-check.sh bundle' here first" >&2; exit 1; }
  local out="${OUT:-/tmp/gpu-check}" && mkdir -p "$out"
  # The driver's libcuda, wherever this machine keeps it.
  local driver_dirs
  driver_dirs=$( (ldconfig -p 2>/dev/null | awk '/libcuda\.so\.1/ {print $NF}'; \
                  ls /usr/local/nvidia/lib64/libcuda.so.1 /usr/lib/x86_64-linux-gnu/libcuda.so.1 2>/dev/null; true) \
                | xargs -r -n1 dirname | sort -u | paste -sd:)
  local libs="$BUNDLE/lib${driver_dirs:+:$driver_dirs}"
  local loader="$BUNDLE/lib/ld-linux-x86-64.so.2"
  bin() { local b="$1"; shift; "$loader" --library-path "$libs" "$BUNDLE/bin/$b" "$@"; }
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"

  declare -A result
  for t in kernels_test engine_test server_test; do
    if GPUDB_TEST_DEVICES="${GPUDB_TEST_DEVICES:-cuda}" bin "$t" --gtest_brief=1 >"$out/$t.log" 2>&1; then result[$t]=PASS; else result[$t]=FAIL; fi
    tail -n 3 "$out/$t.log"
  done
  bin kernels_bench --benchmark_filter='cuda' --benchmark_min_time=0.2 \
    --benchmark_out="$out/kernels_bench.json" --benchmark_out_format=json >"$out/kernels_bench.txt" 2>&1 || true

  echo
  echo "| check | result |"
  echo "|---|---|"
  for t in kernels_test engine_test server_test; do
    local passed skipped failed
    passed=$(grep -Eo 'PASSED  \] [0-9]+' "$out/$t.log" | grep -Eo '[0-9]+$' || echo 0)
    skipped=$(grep -Eo 'SKIPPED \] [0-9]+' "$out/$t.log" | grep -Eo '[0-9]+$' || echo 0)
    failed=$(grep -Eo 'FAILED  \] [0-9]+' "$out/$t.log" | grep -Eo '[0-9]+$' || echo 0)
    echo "| $t (devices: ${GPUDB_TEST_DEVICES:-cuda}) | ${result[$t]}: $passed passed, $skipped skipped, $failed failed |"
  done
  echo
  echo "kernel benchmark (CUDA):"
  grep -E 'cuda' "$out/kernels_bench.txt" | head -n 40 || cat "$out/kernels_bench.txt" | tail -n 20
}

case "${1:-}" in
  bundle) bundle ;;
  run) run ;;
  *) echo "usage: scripts/gpu-check.sh bundle|run" >&2; exit 2 ;;
esac
