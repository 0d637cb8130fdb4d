#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and runs a single-validator dev
# chain in the foreground (`ledgerd dev`, home ~/.ledgerd-dev unless --home or $LEDGERD_HOME).
# Ctrl-C stops it cleanly; run it again to resume the same chain. Extra arguments go to
# `ledgerd dev` (e.g. --home /tmp/dev --log-level debug).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
build_dir=${LEDGER_BUILD_DIR:-build}
echo "run: binaries in $PWD/$build_dir/bin (ledgerd, ledgerctl)"
exec "$build_dir/bin/ledgerd" dev "$@"
