#!/usr/bin/env bash
# Installs the Debian packages Tessel needs to build and test (PyTorch and
# torchvision are the test zoo's oracle, test/Zoo/). Idempotent: it only
# calls apt-get when a package is missing. Debian bookworm, as root (or with
# sudo). With --bench it also installs oneDNN, the layer benchmark's peer;
# with --models node and npm, which fetch ONNX Runtime for make bench-models.
set -euo pipefail

packages=(
  cmake ninja-build ccache python3 pkg-config
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools clang-22 lld-22
  libgtest-dev libomp-22-dev libzip-dev
  libonnx-dev libprotobuf-dev libonnx-testdata libclang-rt-22-dev
  python3-torch python3-torchvision
)
[ "${1:-}" = "--bench" ] && packages+=(libdnnl-dev)
# node and npm may come from elsewhere than Debian (NodeSource's nodejs
# bundles npm): the commands count, not the packages.
if [ "${1:-}" = "--models" ] && ! { command -v node && command -v npm; } > /dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "tessel: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
