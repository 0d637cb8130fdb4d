#!/usr/bin/env bash
# Starts the nodes of a testnet made by `ledgerd testnet` in the background and waits until
# each one's gRPC API answers (docs/testnet.md).
#
#   testnet/start.sh DIR [NODE...]     NODE: node0, node1, ... or an index; default every node
#
# Each node runs `ledgerd start --home DIR/<node>` in its own session, output appended to
# DIR/<node>/ledgerd.log, process id in DIR/<node>/ledgerd.pid. Refuses (starting nothing) if a
# node's pid file names a running ledgerd. If a node exits or does not answer within
# $TESTNET_START_TIMEOUT seconds (30), prints the end of its log, stops the nodes it started
# and exits 1. Binaries: $LEDGER_BIN, else <repo>/build/bin.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

[[ $# -ge 1 ]] || die "usage: testnet/start.sh DIR [NODE...]"
open_testnet "$1"
shift
need_binaries

nodes=()
if [[ $# -eq 0 ]]; then
  mapfile -t nodes < <(node_names)
else
  for node in "$@"; do
    nodes+=("$(resolve_node "$node")")
  done
fi

trap 'stop_starting; exit 130' INT TERM
if ! start_nodes "${nodes[@]}"; then
  die "start failed; no node this command started is left running"
fi
echo "started ${#nodes[@]} node(s) of $testnet_dir: testnet/status.sh $testnet_dir shows them"
