#!/usr/bin/env bash
# The README's testnet command: a local testnet of 4 validators in the foreground.
#
#   testnet/run.sh [DIR]          DIR defaults to ~/.ledgerd-testnet
#
# Creates the testnet in DIR if DIR/testnet.json does not exist (`ledgerd testnet
# --validators $TESTNET_VALIDATORS (4) --base-port $TESTNET_BASE_PORT (26656)`), starts every
# node (testnet/start.sh), prints how to use it, then one progress line every 2 seconds until
# Ctrl-C or SIGTERM, when it stops every node cleanly and exits 0. Run it again to resume the
# same chain. If a node fails to start, the end of its log is printed and nothing is left
# running (exit 1). $TESTNET_RUN_SECONDS (0: until interrupted) bounds the run.
#
# Without $LEDGER_BIN it first installs missing packages and builds, as scripts/run.sh does;
# with it, the binaries there are used as they are.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$HOME/.ledgerd-testnet}
validators=${TESTNET_VALIDATORS:-4}
base_port=${TESTNET_BASE_PORT:-26656}
run_seconds=${TESTNET_RUN_SECONDS:-0}
[[ $run_seconds =~ ^[0-9]+$ ]] || { echo "run.sh: TESTNET_RUN_SECONDS must be a whole number" >&2; exit 1; }

if [[ -z ${LEDGER_BIN:-} ]]; then
  (cd "$here/.." && ./scripts/install-deps.sh && ./scripts/build.sh)
fi
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"
need_binaries

if [[ ! -f $dir/testnet.json ]]; then
  "$ledgerd" testnet --validators "$validators" --base-port "$base_port" --output "$dir"
fi
open_testnet "$dir"

mapfile -t nodes < <(node_names)
"$here/start.sh" "$testnet_dir"

stopping=0
stop_all() {
  ((stopping)) && return
  stopping=1
  echo
  echo "run.sh: stopping every node"
  stop_nodes "${nodes[@]}"
}
on_signal() {
  stop_all
  exit 0
}
trap on_signal INT TERM
# Any other way out (an error in this script) stops the nodes too.
trap stop_all EXIT

rpc=$(node_field "${nodes[0]}" rpc)
faucet_key=$testnet_dir/$(jq -r .faucet.key_file "$manifest")
faucet=$(jq -r .faucet.address "$manifest")
addresses=""
for name in "${nodes[@]}"; do
  addresses+="${addresses:+, }$name $(node_field "$name" rpc)"
done
# The scripts as the user can type them from here.
scripts=$here
[[ $PWD == "$testnet_repo" ]] && scripts=testnet
cat <<INFO

testnet of ${#nodes[@]} validators running in $testnet_dir (chain $(jq -r .chain_id "$manifest"))
  gRPC:        $addresses
  faucet:      $faucet
  faucet key:  $faucet_key

In another terminal:
  export PATH=$ledger_bin:\$PATH
  ledgerctl status --node $rpc
  ledgerctl keys new alice
  ledgerctl send --node $rpc --from $faucet_key --to alice --amount 100
  $scripts/status.sh $testnet_dir              # every node: height, round, peers
  $scripts/fault.sh $testnet_dir kill node1    # also restart, pause, resume, disconnect, reconnect

Ctrl-C stops every node.

INFO

# One line per interval: the time and each node's committed height ('?' when it does not
# answer, 'down' without a process).
echo "committed height of each node, every 2 seconds:"
deadline=$((SECONDS + run_seconds))
while ((run_seconds == 0 || SECONDS < deadline)); do
  # Started first, so that a line comes every 2 seconds however long the queries take.
  sleep 2 &
  ticker=$!
  line=$(date +%H:%M:%S)
  for name in "${nodes[@]}"; do
    height=-
    if node_pid "$name" >/dev/null; then
      height=$(ctl "$name" status --json 2>/dev/null | jq -r .latest_height 2>/dev/null) || height='?'
      [[ -n $height ]] || height='?'
    else
      height=down
    fi
    line+="  $name=$height"
  done
  echo "$line"
  # wait, unlike a sleep in the foreground, returns at once when a signal arrives.
  wait "$ticker" || true
done
stop_all
