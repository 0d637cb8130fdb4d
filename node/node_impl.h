// Node's private state, shared by node.cpp (startup, event loop, actions) and node_api.cpp
// (the NodeApi methods gRPC threads call).
#pragma once

#include <utility>  // before Asio: Boost 1.74 Asio under GCC 12 in C++20 mode needs it

#include <atomic>
#include <boost/asio.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

#include "ledger/consensus/replica.h"
#include "ledger/node/mempool.h"
#include "ledger/node/node.h"
#include "ledger/node/signature_cache.h"
#include "ledger/rpc/server.h"
#include "ledger/storage/rocks_chain_store.h"
#include "speculative_state.h"

namespace ledger::node {

// What GetStatus reports about consensus and the tip; written by the loop, read by gRPC.
struct StatusSnapshot {
  std::uint64_t height = 0;
  Hash block_id;
  std::uint64_t block_time_ms = 0;
  std::uint64_t current_round = 0;
};

struct Node::Impl {
  Impl(NodeOptions opts, std::unique_ptr<storage::RocksChainStore> store);

  // ---- node.cpp: the event loop thread ----
  Status start_consensus();
  void schedule_tick();
  void on_tick();
  void handle(consensus::Actions actions);
  Status persist(const consensus::Actions& actions);
  Status commit(const consensus::CommittedBlock& committed);
  void forget(const std::vector<Hash>& ids);
  void log_rejections(const consensus::Actions& actions);
  void schedule_payload();
  void propose_payload();
  bool has_work(const consensus::PayloadRequest& request) const;
  StatusOr<consensus::Payload> build_payload(const consensus::PayloadRequest& request);
  void fail(const Status& status);  // a fatal error: stop with it
  void begin_shutdown();
  const Block* find_uncommitted(const Hash& id) const;
  void publish_tip(const Block& block, const Hash& id);

  NodeOptions options;
  PublicKey node_id;
  std::unique_ptr<storage::RocksChainStore> store;
  SignatureCache signatures;
  Mempool mempool;
  SpeculativeState speculative;
  std::unique_ptr<consensus::Replica> replica;  // created by Node::open
  consensus::ReplicaConfig replica_config;
  std::unique_ptr<rpc::RpcServer> rpc_server;

  boost::asio::io_context io;
  boost::asio::steady_timer tick_timer{io};
  boost::asio::steady_timer payload_timer{io};
  boost::asio::signal_set signals{io};
  std::optional<consensus::PayloadRequest> pending_payload;  // loop thread only
  std::chrono::steady_clock::time_point next_tick;           // loop thread only
  Status fatal;                                              // loop thread only
  bool run_called = false;

  // Shared with gRPC threads.
  std::atomic<bool> stopping{false};
  std::atomic<bool> payload_waits_for_work{false};  // an empty block is being delayed
  mutable std::mutex tip_mutex;
  mutable std::condition_variable tip_changed;
  StatusSnapshot snapshot;  // guarded by tip_mutex
};

}  // namespace ledger::node
