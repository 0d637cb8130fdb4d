#!/usr/bin/env bash
# Installs every system package ledgerd needs to build, test and run on Debian 12.
# Idempotent: packages already present are left alone; apt is only called when one is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git clang-format
  librocksdb-dev
  libsecp256k1-dev
  libssl-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libboost-dev libboost-program-options-dev libboost-system-dev
  libgtest-dev libgmock-dev googletest
  libbenchmark-dev
  libspdlog-dev libfmt-dev
  libtomlplusplus-dev
  nlohmann-json3-dev
  jq procps
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
