#!/usr/bin/env bash
# Checks DESIGN.md section 1: includes point one way, core <- consensus <- storage <- node,
# and core <- rpc <- node.
# Exits non-zero listing every offending include.
set -u
root=${1:?usage: include_direction_test.sh PROJECT_ROOT}
cd "$root" || exit 2
failures=0

check() {  # check DESCRIPTION PATTERN DIR...
  local description=$1 pattern=$2
  shift 2
  local hits
  hits=$(grep -rnE "$pattern" "$@" 2>/dev/null)
  if [[ -n "$hits" ]]; then
    echo "FAIL: $description"
    echo "$hits"
    failures=$((failures + 1))
  fi
}

core_dirs=(core include/ledger/core)
consensus_dirs=(consensus include/ledger/consensus)
storage_dirs=(storage include/ledger/storage)
# The rpc library (not the ledgerctl client binary in rpc/ledgerctl/, which sits above all).
rpc_dirs=(include/ledger/rpc)
for f in rpc/*.cpp rpc/*.h; do [[ -e $f ]] && rpc_dirs+=("$f"); done

check "core includes another ledger module" '#include "ledger/(consensus|storage|node|rpc)/' "${core_dirs[@]}"
check "consensus includes storage/node/rpc" '#include "ledger/(storage|node|rpc)/' "${consensus_dirs[@]}"
check "storage includes node/rpc" '#include "ledger/(node|rpc)/' "${storage_dirs[@]}"
check "rpc includes consensus/storage/node" '#include "ledger/(consensus|storage|node)/' "${rpc_dirs[@]}"
check "ledgerctl includes node (it links ledger_files, not the node library)" '#include "ledger/node/' rpc/ledgerctl
check "consensus or core uses I/O, threads or a clock" \
  '#include <(rocksdb/|boost/asio|grpc|thread>|mutex>|chrono>|fstream>|random>)' \
  "${core_dirs[@]}" "${consensus_dirs[@]}"
check "a public header leaks RocksDB" '#include <rocksdb/' include/ledger

if ((failures > 0)); then
  echo "$failures include-direction rule(s) broken"
  exit 1
fi
echo "include direction: ok"
