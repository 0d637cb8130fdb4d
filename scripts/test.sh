#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
build_dir=${LEDGER_BUILD_DIR:-build}
ctest --test-dir "$build_dir" --output-on-failure -j "${LEDGER_JOBS:-$(nproc)}" "$@"
