#!/usr/bin/env bash
# Configures and builds ledgerd into build/ (or $LEDGER_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${LEDGER_BUILD_DIR:-build}
build_type=${LEDGER_BUILD_TYPE:-RelWithDebInfo}
jobs=${LEDGER_JOBS:-$(nproc)}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" "$@"
cmake --build "$build_dir" -j "$jobs"
