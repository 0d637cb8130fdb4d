// A local testnet: N validator homes on one machine that share one genesis document
// (`ledgerd testnet`, docs/testnet.md). The layout of the output directory:
//   <dir>/node0 … <dir>/node{N-1}   complete homes (home.h), moniker and validator name "node<i>"
//   <dir>/faucet.json               the funded faucet account's key file, mode 0600
//   <dir>/testnet.json              what the testnet/ scripts read (below), written last
//
// Node i listens for peers on host:(base_port + 10*i) and for gRPC on host:(base_port + 10*i
// + 1); its p2p.peers lists every other node, and rpc.admin is on (fault injection).
//
// testnet.json (paths relative to the directory that holds it):
//   {"chain_id": "...", "validators": N,
//    "nodes": [{"name": "node0", "home": "node0", "rpc": "127.0.0.1:26657",
//               "p2p": "127.0.0.1:26656", "key": "<64 hex node key>"}, ...],
//    "faucet": {"key_file": "faucet.json", "address": "<64 hex>"}}
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/core/keys.h"
#include "ledger/core/status.h"

namespace ledger::node {

inline constexpr std::uint64_t kTestnetValidatorsMax = 64;
inline constexpr std::string_view kTestnetChainIdDefault = "ledger-testnet";
inline constexpr std::uint32_t kTestnetBasePortDefault = 26656;
// Ports between two nodes: node i uses base + kTestnetPortStride*i (p2p) and that + 1 (rpc).
inline constexpr std::uint32_t kTestnetPortStride = 10;
inline constexpr std::string_view kTestnetManifestName = "testnet.json";
inline constexpr std::string_view kTestnetFaucetKeyName = "faucet.json";
// The file testnet/start.sh writes with a running node's process id (checked by --force).
inline constexpr std::string_view kTestnetPidFileName = "ledgerd.pid";

struct TestnetOptions {
  std::filesystem::path output;  // the testnet directory; created if absent
  std::uint64_t validators = 4;  // 1..kTestnetValidatorsMax
  std::string chain_id = std::string(kTestnetChainIdDefault);
  std::uint64_t base_port = kTestnetBasePortDefault;  // 1..65535, every node's ports must fit
  // Where every node listens and is dialed: an IP literal or name on this machine; loopback,
  // since rpc.admin requires it. An IPv6 literal may be given with or without brackets.
  std::string host = "127.0.0.1";
  // Replace a testnet in a non-empty output directory: for each node<i> written, deletes its
  // data/, ledgerd.log, ledgerd.pid and rpc.address and rewrites its config, genesis and keys;
  // rewrites faucet.json and testnet.json. Anything else in the directory is left alone.
  bool force = false;
  std::uint64_t genesis_time_ms = 0;  // 0: now
};

struct TestnetNode {
  std::string name;            // "node<i>": moniker and validator name
  std::filesystem::path home;  // <output>/node<i>
  std::string p2p_address;     // host:port
  std::string rpc_address;     // host:port
  PublicKey key;               // node and validator key
};

struct TestnetResult {
  std::vector<TestnetNode> nodes;  // in index order
  std::filesystem::path faucet_key_file;
  PublicKey faucet_address;
  std::filesystem::path manifest;  // <output>/testnet.json
};

// Creates the testnet. Every argument is checked before anything is written:
// kInvalidArgument for a validator count outside 1..kTestnetValidatorsMax, a base port of 0 or
// one whose last port passes 65535, a bad chain id or host (the message names the flag);
// kAlreadyExists if `output` is not empty and !force; kFailedPrecondition under force if a
// node's ledgerd.pid names a running ledgerd (stop the testnet first); kIoError naming the path
// on system failure (a partly written testnet: run again with force). Not safe to run twice at
// once on one directory.
StatusOr<TestnetResult> init_testnet(const TestnetOptions& options);

}  // namespace ledger::node
