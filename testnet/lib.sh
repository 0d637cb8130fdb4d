# shellcheck shell=bash
# Helpers shared by the testnet/ scripts (sourced, not run). docs/testnet.md describes them.
#
# A testnet directory is what `ledgerd testnet` writes: DIR/testnet.json lists the nodes, and
# each node's home DIR/<name> gets, while the scripts run it, ledgerd.log (its output, appended)
# and ledgerd.pid (its process id).
#
# Environment:
#   LEDGER_BIN               directory holding ledgerd and ledgerctl (default <repo>/build/bin,
#                            or <repo>/$LEDGER_BUILD_DIR/bin)
#   TESTNET_START_TIMEOUT    seconds start waits for every node's gRPC API (default 30)
#   TESTNET_STOP_TIMEOUT     seconds stop waits after SIGTERM before SIGKILL (default 15)

testnet_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ledger_bin=${LEDGER_BIN:-$testnet_repo/${LEDGER_BUILD_DIR:-build}/bin}
ledgerd=$ledger_bin/ledgerd
ledgerctl=$ledger_bin/ledgerctl
start_timeout=${TESTNET_START_TIMEOUT:-30}
stop_timeout=${TESTNET_STOP_TIMEOUT:-15}
# How many log lines a failure shows.
log_tail_lines=20

die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

warn() {
  echo "$(basename "$0"): $*" >&2
}

need_binaries() {
  local binary
  for binary in "$ledgerd" "$ledgerctl"; do
    [[ -x $binary ]] || die "$binary not found: build it (./scripts/build.sh) or set LEDGER_BIN to the directory holding ledgerd and ledgerctl"
  done
}

# Checks that $1 is a testnet directory and sets `testnet_dir` (absolute) and `manifest`.
open_testnet() {
  [[ -n ${1:-} ]] || die "no testnet directory given"
  command -v jq >/dev/null || die "jq is required (apt-get install jq)"
  [[ -f $1/testnet.json ]] || die "$1/testnet.json not found: create a testnet with ledgerd testnet --validators N --output $1"
  testnet_dir=$(cd "$1" && pwd)
  manifest=$testnet_dir/testnet.json
}

# The node names in index order, one per line.
node_names() {
  jq -r '.nodes[].name' "$manifest"
}

# node_field NAME FIELD: a field of the node's entry in testnet.json (rpc, p2p, key, home).
node_field() {
  jq -r --arg name "$1" --arg field "$2" '.nodes[] | select(.name == $name) | .[$field]' "$manifest"
}

node_home() {
  local home
  home=$(node_field "$1" home)
  if [[ $home == /* ]]; then echo "$home"; else echo "$testnet_dir/$home"; fi
}

# Accepts "node2" or "2"; prints the node's name, or dies naming the nodes there are.
resolve_node() {
  local wanted=$1 name
  [[ $wanted =~ ^[0-9]+$ ]] && wanted=node$wanted
  while read -r name; do
    if [[ $name == "$wanted" ]]; then
      echo "$name"
      return 0
    fi
  done < <(node_names)
  die "no node '$1' in $manifest (nodes: $(node_names | paste -sd " " -))"
}

# The process state letter of pid $1 (R, S, D, T stopped, Z zombie, ...), empty if gone.
process_state() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  # The command name is in parentheses and may hold spaces: the state follows the last ')'.
  stat=${stat##*) }
  echo "${stat%% *}"
}

# Prints the pid of NAME's ledgerd if its pid file names a live ledgerd process; fails
# otherwise (no file, a stale id, a process of another program, a zombie).
node_pid() {
  local file pid comm state
  file=$(node_home "$1")/ledgerd.pid
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [[ $comm == ledgerd ]] || return 1
  state=$(process_state "$pid")
  [[ -n $state && $state != Z && $state != X ]] || return 1
  echo "$pid"
}

# ledgerctl against NAME's gRPC address, with a short deadline: ctl NAME ARGS...
ctl() {
  local name=$1
  shift
  "$ledgerctl" "$@" --node "$(node_field "$name" rpc)" --timeout 2 </dev/null
}

# Whether NAME's gRPC API answers as that node (not another process on its port).
node_answers() {
  local status
  status=$(ctl "$1" status --json 2>/dev/null) || return 1
  [[ $(jq -r .node_id <<<"$status") == "$(node_field "$1" key)" ]]
}

show_log_tail() {
  local log
  log=$(node_home "$1")/ledgerd.log
  echo "--- last $log_tail_lines lines of $log ---" >&2
  tail -n "$log_tail_lines" "$log" >&2 2>/dev/null || true
  echo "---" >&2
}

# Starts NAME in the background in its own session (so that a Ctrl-C meant for a script does
# not reach it), output appended to its ledgerd.log, pid in its ledgerd.pid. Prints the pid.
launch_node() {
  local name=$1 home pid
  home=$(node_home "$name")
  echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) testnet: ledgerd start --home $home ===" >>"$home/ledgerd.log"
  setsid "$ledgerd" start --home "$home" </dev/null >>"$home/ledgerd.log" 2>&1 &
  pid=$!
  echo "$pid" >"$home/ledgerd.pid"
  # Until setsid has exec'd ledgerd the process has another name, which node_pid would take
  # for a stale pid file.
  local deadline=$((SECONDS + 5))
  while [[ $(cat "/proc/$pid/comm" 2>/dev/null) != ledgerd ]] && kill -0 "$pid" 2>/dev/null &&
    ((SECONDS < deadline)); do
    sleep 0.05
  done
  echo "$pid"
}

# wait_for_exit SECONDS NAMES...: polls until none of NAMES runs; fails if one still does.
wait_for_exit() {
  local deadline=$((SECONDS + $1)) name running
  shift
  while true; do
    running=0
    for name in "$@"; do
      node_pid "$name" >/dev/null && running=1
    done
    ((running)) || return 0
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# Sends SIGTERM to every running node of NAMES (resuming paused ones, or the signal would wait),
# waits up to stop_timeout seconds polling, then SIGKILLs what is left. Removes the pid files.
stop_nodes() {
  local name pid deadline
  local -A pids=()
  for name in "$@"; do
    if pid=$(node_pid "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      kill -CONT "$pid" 2>/dev/null || true
      pids[$name]=$pid
      echo "$name: stopping (pid $pid)"
    else
      echo "$name: not running"
      rm -f "$(node_home "$name")/ledgerd.pid"
    fi
  done
  deadline=$((SECONDS + stop_timeout))
  while ((${#pids[@]} > 0)); do
    for name in "${!pids[@]}"; do
      if ! node_pid "$name" >/dev/null; then
        echo "$name: stopped"
        rm -f "$(node_home "$name")/ledgerd.pid"
        unset "pids[$name]"
      fi
    done
    ((${#pids[@]} > 0)) || break
    if ((SECONDS >= deadline)); then
      for name in "${!pids[@]}"; do
        warn "$name: still running ${stop_timeout}s after SIGTERM: sending SIGKILL (pid ${pids[$name]})"
        kill -KILL "${pids[$name]}" 2>/dev/null || true
      done
      wait_for_exit 5 "${!pids[@]}" || warn "still running 5s after SIGKILL: ${!pids[*]}"
      for name in "${!pids[@]}"; do
        echo "$name: killed"
        rm -f "$(node_home "$name")/ledgerd.pid"
      done
      break
    fi
    sleep 0.2
  done
}

# The nodes start_nodes has launched and not yet seen up: what a script's INT/TERM trap stops
# (stop_starting).
starting_nodes=()

stop_starting() {
  if ((${#starting_nodes[@]} > 0)); then
    stop_nodes "${starting_nodes[@]}" >&2
    starting_nodes=()
  fi
}

# Starts NAMES (none may be running) and waits up to start_timeout seconds until each answers
# on its gRPC address as itself. On any failure, reports the node with the tail of its log,
# stops the nodes this call started, and returns 1.
start_nodes() {
  local name pid deadline
  local -A waiting=()
  for name in "$@"; do
    if pid=$(node_pid "$name"); then
      warn "$name is already running (pid $pid): stop it first (testnet/stop.sh $testnet_dir $name)"
      return 1
    fi
  done
  for name in "$@"; do
    pid=$(launch_node "$name")
    starting_nodes+=("$name")
    waiting[$name]=$pid
    echo "$name: started (pid $pid, rpc $(node_field "$name" rpc), log $(node_home "$name")/ledgerd.log)"
  done
  deadline=$((SECONDS + start_timeout))
  while ((${#waiting[@]} > 0)); do
    for name in "${!waiting[@]}"; do
      if ! node_pid "$name" >/dev/null; then
        warn "$name exited while starting"
        show_log_tail "$name"
        stop_starting
        return 1
      fi
      if node_answers "$name"; then
        echo "$name: up"
        unset "waiting[$name]"
      fi
    done
    ((${#waiting[@]} > 0)) || break
    if ((SECONDS >= deadline)); then
      for name in "${!waiting[@]}"; do
        warn "$name: its gRPC API ($(node_field "$name" rpc)) did not answer within ${start_timeout}s"
        show_log_tail "$name"
      done
      stop_starting
      return 1
    fi
    sleep 0.25
  done
  starting_nodes=()
}
