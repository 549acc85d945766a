#!/usr/bin/env bash
# Installs, from Debian 12 packages, whatever the build, the tests and the demo need and is missing.
# Idempotent: packages already installed are not touched; with nothing missing it does no apt work.
# Usage: scripts/install-deps.sh [--dry-run]
set -euo pipefail

PACKAGES=(
  # toolchain (gcc's ASan/UBSan/TSan runtimes come with build-essential); ccache keeps CI's
  # several build directories (release, asan, tsan, fuzz) incremental across clean clones
  build-essential cmake ninja-build pkg-config git ca-certificates ccache
  # scripts/build-tsan-deps.sh fetches Debian source packages from the mirror
  curl
  # libFuzzer targets (make fuzz): clang and its runtime libraries (libclang_rt.fuzzer)
  clang libclang-rt-14-dev
  # Qt 6: Widgets, Network, Test (qt6-base-dev), Charts (needs libqt6opengl6-dev for its CMake config)
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev libgl-dev
  # gRPC + protobuf: gRPC's CMake config fails without protobuf-compiler-grpc
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  # gRPC's CMake project needs libprotoc when scripts/build-tsan-deps.sh builds it with TSan
  libprotoc-dev
  # kernel datapath
  libnl-3-dev libnl-route-3-dev libnftables-dev nftables iproute2
  # libraries
  libspdlog-dev libfmt-dev libyaml-cpp-dev libcli11-dev libcpp-httplib-dev libssl-dev zlib1g-dev
  # runtime bits: nft service names need netbase; procps for pgrep/ps in tests
  netbase procps python3 iputils-ping
  # screenshots of the console and the demo without a display
  xvfb xauth
  # tests/package: a fresh Debian 12 root for installing the .debs (dpkg-shlibdeps comes with build-essential)
  debootstrap
)

dry_run=0
[[ "${1:-}" == "--dry-run" ]] && dry_run=1

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: missing: ${missing[*]}"
if [[ $dry_run -eq 1 ]]; then exit 0; fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: run as root (or install the packages above)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${#missing[@]} packages"
