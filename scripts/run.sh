#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and runs a local testnet of 4
# validators in the foreground (testnet/run.sh; homes in ~/.ledgerd-testnet unless a directory
# is given). It prints how to point ledgerctl at it and one line of every node's height every
# 2 seconds; Ctrl-C stops every node cleanly. Run it again to resume the same chain.
# For a single-validator dev chain instead: build/bin/ledgerd dev.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
build_dir=${LEDGER_BUILD_DIR:-build}
echo "run: binaries in $PWD/$build_dir/bin (ledgerd, ledgerctl)"
LEDGER_BIN="$PWD/$build_dir/bin" exec ./testnet/run.sh "$@"
