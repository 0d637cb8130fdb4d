#!/usr/bin/env bash
# One line per node of a testnet: its process, committed height, round, peers, whether its
# networking is on (admin network) and the latest block id (docs/testnet.md).
#
#   testnet/status.sh DIR
#
# STATE is up (answers on its gRPC address), down (no process), paused (SIGSTOP'd: fault.sh
# pause) or no-rpc (a process that does not answer yet, or answers as another node).
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

[[ $# -eq 1 ]] || die "usage: testnet/status.sh DIR"
open_testnet "$1"
need_binaries

format='%-8s %-8s %-7s %8s %8s %6s %4s  %s\n'
# shellcheck disable=SC2059 # the format is a constant
printf "$format" NODE PID STATE HEIGHT ROUND PEERS NET BLOCK
while read -r name; do
  pid=- state=down height=- round=- peers=- net=- block=-
  if pid=$(node_pid "$name"); then
    state=no-rpc
    if [[ $(process_state "$pid") == [Tt] ]]; then
      state=paused
    elif status=$(ctl "$name" status --json 2>/dev/null) &&
      [[ $(jq -r .node_id <<<"$status") == "$(node_field "$name" key)" ]]; then
      state=up
      read -r height round peers block < <(jq -r \
        '"\(.latest_height) \(.current_round) \(.peer_count) \(.latest_block_id[0:12])"' <<<"$status")
      if network=$(ctl "$name" admin network --json 2>/dev/null); then
        net=$(jq -r 'if .enabled then "on" else "off" end' <<<"$network")
      fi
    fi
  else
    pid=-
  fi
  # shellcheck disable=SC2059
  printf "$format" "$name" "$pid" "$state" "$height" "$round" "$peers" "$net" "$block"
done < <(node_names)
