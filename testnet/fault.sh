#!/usr/bin/env bash
# Fault injection on one node of a running testnet (docs/testnet.md).
#
#   testnet/fault.sh DIR ACTION NODE       NODE: node0, node1, ... or an index
#
# ACTION:
#   kill        kill -9: a crash; the node restarts from its store (restart)
#   restart     start a killed or stopped node again and wait until it answers
#   pause       SIGSTOP: the process freezes, its connections stay open but silent
#   resume      SIGCONT: a paused node continues
#   disconnect  ledgerctl admin network off: the node closes every peer connection and refuses
#               new ones, its gRPC API keeps serving
#   reconnect   ledgerctl admin network on: it dials its peers again
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

usage="usage: testnet/fault.sh DIR kill|restart|pause|resume|disconnect|reconnect NODE"
[[ $# -eq 3 ]] || die "$usage"
open_testnet "$1"
action=$2
name=$(resolve_node "$3")
need_binaries

running_pid() {
  node_pid "$name" || die "$name is not running (testnet/fault.sh $testnet_dir restart $name starts it)"
}

case $action in
  kill)
    pid=$(running_pid)
    kill -KILL "$pid"
    wait_for_exit 5 "$name" || die "$name (pid $pid) still runs 5s after SIGKILL"
    rm -f "$(node_home "$name")/ledgerd.pid"
    echo "$name: killed (pid $pid)"
    ;;
  restart)
    if pid=$(node_pid "$name"); then
      die "$name is already running (pid $pid); kill or stop it first"
    fi
    trap 'stop_starting; exit 130' INT TERM
    start_nodes "$name" || die "$name did not restart"
    ;;
  pause)
    pid=$(running_pid)
    kill -STOP "$pid"
    echo "$name: paused (pid $pid); resume it with testnet/fault.sh $testnet_dir resume $name"
    ;;
  resume)
    pid=$(running_pid)
    kill -CONT "$pid"
    echo "$name: resumed (pid $pid)"
    ;;
  disconnect | reconnect)
    pid=$(running_pid)
    [[ $(process_state "$pid") != [Tt] ]] || die "$name is paused: resume it first"
    state=off
    [[ $action == reconnect ]] && state=on
    ctl "$name" admin network "$state" >/dev/null || die "$name: ledgerctl admin network $state failed"
    echo "$name: network $state"
    ;;
  *)
    die "unknown action '$action'; $usage"
    ;;
esac
