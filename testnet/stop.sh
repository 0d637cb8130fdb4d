#!/usr/bin/env bash
# Stops the nodes of a testnet (docs/testnet.md).
#
#   testnet/stop.sh DIR [NODE]     NODE: node0, node1, ... or an index; default every node
#
# Sends SIGTERM (a paused node is resumed so that it can act on it), waits up to
# $TESTNET_STOP_TIMEOUT seconds (15) for the node to exit, then sends SIGKILL and says so.
# Removes the pid files. A node that is not running is reported and left alone.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

[[ $# -ge 1 && $# -le 2 ]] || die "usage: testnet/stop.sh DIR [NODE]"
open_testnet "$1"

if [[ $# -eq 2 ]]; then
  nodes=("$(resolve_node "$2")")
else
  mapfile -t nodes < <(node_names)
fi
stop_nodes "${nodes[@]}"
