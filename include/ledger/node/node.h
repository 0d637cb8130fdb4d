// A running ledgerd node: the composition root (DESIGN.md section 1).
//
// One event loop thread (Boost.Asio) owns the consensus replica, the speculative executor and
// the commit path. It turns a steady timer into replica ticks, answers payload requests from
// the mempool, carries out every Actions in the replica's order (persist, send, commit), and
// commits each block with its results, indexes and state in one synced RocksDB WriteBatch.
// The same loop runs the peer-to-peer transport (peer_network.cpp, docs/p2p.md): consensus messages
// to and from validators, transaction gossip, peer status and block sync. A node whose key is
// not a genesis validator has no replica: it follows the chain by block sync only.
// gRPC threads call the NodeApi methods concurrently; they touch only the mempool, the chain
// store's read side and the status snapshot.
//
// Shutdown (SIGINT/SIGTERM or stop()): submissions are refused with kUnavailable and waiters
// wake, the gRPC server stops accepting calls, the handler in progress (at most one block
// commit) finishes, timers are cancelled, run() returns OK and the store is closed (every
// commit was already synced).
//
// A failed RocksDB write is fatal: run() returns the error and the node must exit; after a
// restart the block is either wholly committed or absent.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "ledger/core/genesis.h"
#include "ledger/core/keys.h"
#include "ledger/core/status.h"
#include "ledger/node/config.h"
#include "ledger/rpc/admin_api.h"
#include "ledger/rpc/node_api.h"

namespace ledger::node {

struct NodeOptions {
  std::filesystem::path home;  // rpc.address is written here
  NodeConfig config;           // validated, apply_genesis() done
  Genesis genesis;
  SecretKey node_key;
  std::string version;
  bool handle_signals = true;  // SIGINT/SIGTERM stop the node
};

class Node final : public rpc::NodeApi, public rpc::AdminApi {
 public:
  // Opens (or creates) the store under config.data_dir, commits genesis into an empty store,
  // checks that a non-empty store holds this genesis, and restores consensus from what was
  // persisted (validators only). kFailedPrecondition if the store belongs to another genesis;
  // kInvalidArgument if p2p.frame_bytes_max cannot carry a full block; store errors as they
  // are.
  static StatusOr<std::unique_ptr<Node>> open(NodeOptions options);
  ~Node() override;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Starts the gRPC server and the p2p transport and runs the event loop on the calling thread
  // until stop() or a signal. OK on a graceful stop; the fatal error otherwise. Call once.
  Status run();
  // Thread-safe and async-signal-unsafe; may be called from any thread, any number of times.
  void stop();

  // rpc::NodeApi (thread-safe).
  Status submit(const SignedTransfer& tx) override;
  StatusOr<rpc::TxLookup> transaction(const Hash& tx_hash) const override;
  StatusOr<rpc::CommittedTx> committed_transaction(const Hash& tx_hash) const override;
  StatusOr<rpc::AccountAt> account(const Address& address) const override;
  StatusOr<rpc::BlockView> block_at(std::uint64_t height) const override;
  StatusOr<rpc::BlockView> block_by_id(const Hash& id) const override;
  std::uint64_t latest_height() const override;
  rpc::NodeStatusView status() const override;
  const ValidatorSet& validators() const override;
  StatusOr<std::uint64_t> wait_for_height(
      std::uint64_t height, std::chrono::steady_clock::time_point deadline) const override;
  bool shutting_down() const override;

  // rpc::AdminApi (thread-safe): served only with config rpc.admin.
  Status set_network_enabled(bool enabled) override;
  rpc::NetworkView network() const override;

 private:
  struct Impl;
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ledger::node
