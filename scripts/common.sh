# Shared by scripts/run.sh and scripts/test.sh: install what is missing (the
# Debian packages, then .venv with the Python clients and pyarrow), then
# configure and build. Source it; it defines `setup_and_build [targets...]`.

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${GPUDB_BUILD_DIR:-$REPO/build}"
JOBS="${GPUDB_JOBS:-$(nproc)}"

# Debian packages the build and the tests need.
APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libsnappy-dev libxxhash-dev nlohmann-json3-dev libcpp-httplib-dev libssl-dev clang
  libgtest-dev libbenchmark-dev libpg-query-dev
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then missing+=(python3-venv); fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# `setup_venv DIR REQUIREMENTS`: a virtual environment in DIR with the
# packages of REQUIREMENTS, refreshed whenever that file changes.
setup_venv() {
  local venv="$1" requirements="$2"
  local stamp="$venv/requirements.sha256"
  if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
  if ! sha256sum --status -c "$stamp" 2>/dev/null; then
    echo "== installing $(basename "$requirements") into $(basename "$venv")"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    sha256sum "$requirements" > "$stamp"
  fi
}

# The Python test clients (grpcio, gpudb, ...) in .venv, and pyarrow, whose
# wheel carries the Arrow C++ headers and libraries the build links
# (engine/io; CMakeLists.txt finds them through .venv/bin/python).
setup_python() { setup_venv "$REPO/.venv" "$REPO/tests/python/requirements.txt"; }

setup_and_build() {
  install_packages
  setup_python  # before configuring: the build needs .venv's pyarrow
  # ccache keyed on paths relative to the checkout, so another clone hits it.
  export CCACHE_BASEDIR="$REPO"
  export CCACHE_NOHASHDIR=1
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    cmake -S "$REPO" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache \
      ${GPUDB_CMAKE_ARGS:-}
  fi
  cmake --build "$BUILD_DIR" -j "$JOBS" ${1:+--target "$@"}
}
