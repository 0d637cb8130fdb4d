// Node's private state, shared by node.cpp (startup, event loop, actions) and node_api.cpp
// (the NodeApi methods gRPC threads call).
#pragma once

#include <utility>  // before Asio: Boost 1.74 Asio under GCC 12 in C++20 mode needs it

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "ledger/consensus/replica.h"
#include "ledger/node/block_service.h"
#include "ledger/node/block_sync.h"
#include "ledger/node/commit_pipeline.h"
#include "ledger/node/consensus_driver.h"
#include "ledger/node/mempool.h"
#include "ledger/node/node.h"
#include "ledger/node/p2p/transport.h"
#include "ledger/node/payload_checker.h"
#include "ledger/node/proposer.h"
#include "ledger/node/signature_cache.h"
#include "ledger/node/speculative_state.h"
#include "ledger/node/sync_service.h"
#include "ledger/rpc/server.h"
#include "ledger/storage/rocks_chain_store.h"

namespace ledger::p2p::v1 {
class SyncResponse;
}

namespace ledger::node {

// What GetStatus reports about consensus and the tip; written by the loop, read by gRPC.
struct StatusSnapshot {
  std::uint64_t height = 0;
  Hash block_id;
  std::uint64_t block_time_ms = 0;
  std::uint64_t current_round = 0;
};

// A transaction admitted here, to be sent to every peer but the one it came from.
struct GossipItem {
  std::shared_ptr<const Bytes> wire;  // canonical wire bytes
  std::optional<PublicKey> origin;    // nullopt: submitted to this node over gRPC
};

// What this node knows of a connected peer (loop thread only). Its claimed height is kept by
// BlockSync.
struct PeerState {
  bool validator = false;
};

// The driver's Outbox as a function (the node's send_messages).
class FunctionOutbox final : public Outbox {
 public:
  explicit FunctionOutbox(std::function<void(consensus::OutgoingMessage)> send)
      : send_(std::move(send)) {}
  void send(consensus::OutgoingMessage message) override { send_(std::move(message)); }

 private:
  std::function<void(consensus::OutgoingMessage)> send_;
};

struct Node::Impl : p2p::Transport::Handler {
  Impl(NodeOptions opts, std::unique_ptr<storage::RocksChainStore> store);

  bool is_validator() const { return validator_node; }
  // Admits a transaction from a client (origin nullopt) or a peer, and queues it for gossip.
  // Thread-safe.
  Status admit(const SignedTransfer& tx, const std::optional<PublicKey>& origin);
  void queue_gossip(const SignedTransfer& tx, const std::optional<PublicKey>& origin);
  // Builds the replica from what the stores hold (at open; after block sync the replica is fed
  // with on_synced_commit instead).
  Status restore_replica();

  // ---- network.cpp: the p2p side of the event loop thread ----
  Status start_network();
  void stop_network();
  void on_connected(const PublicKey& peer) override;
  void on_disconnected(const PublicKey& peer) override;
  void on_frame(const PublicKey& peer, Bytes payload) override;
  void send_messages(std::vector<consensus::OutgoingMessage> messages);
  void on_consensus_message(const PublicKey& peer, ByteView bytes);
  void answer_block_request(const PublicKey& peer, const consensus::BlockRequest& request);
  void on_transactions(const PublicKey& peer, std::vector<std::string> wires);
  void schedule_gossip();
  void flush_gossip();
  void schedule_status();
  void broadcast_status();
  void send_status(const PublicKey& peer);
  // Block sync: the shell around BlockSync (asking) and SyncService (answering).
  void start_sync();
  void drive_sync();  // polls BlockSync, sends its request, re-arms sync_timer
  void on_sync_request(const PublicKey& peer, const SyncRequestMessage& request);
  void on_sync_response(const PublicKey& peer, const ::ledger::p2p::v1::SyncResponse& response);
  // Commits `groups` in order; `committed` counts the blocks and `last` is the last block
  // committed with its certificate (what the replica is fed), even when a later group fails.
  Status commit_synced(std::vector<SyncCommitGroup> groups, std::uint64_t& committed,
                       std::optional<consensus::CommittedBlock>& last);
  void publish_network();

  // ---- node.cpp: the event loop thread ----
  Status start_consensus();
  void schedule_tick();
  void on_tick();
  void handle(consensus::Actions actions);
  void log_rejections(const DriverOutcome& outcome);
  void schedule_payload();
  void propose_payload();
  void fail(const Status& status);   // a fatal error: stop with it
  static std::uint64_t steady_ms();  // the loop's monotonic clock, for rate limits
  void begin_shutdown();
  const Block* find_uncommitted(const Hash& id) const;
  // Block sync's commits: through the pipeline (one batch per call; blocks that share a commit
  // certificate must come in one call), then published.
  Status commit_blocks(std::vector<consensus::CommittedBlock> blocks);
  // publish_tip once for the last of `stored`, and a log line per block.
  void published(const std::vector<consensus::CommittedBlock>& stored);
  void publish_tip(const Block& block, const Hash& id);

  NodeOptions options;
  PublicKey node_id;
  bool validator_node = false;  // the node key is a genesis validator (set by open)
  std::unique_ptr<storage::RocksChainStore> store;
  SignatureCache signatures;
  Mempool mempool;
  SpeculativeState speculative;
  PayloadChecker checker;
  Proposer proposer;
  CommitPipeline pipeline;
  BlockService block_service;
  FunctionOutbox outbox;  // to send_messages (loop thread)
  ConsensusDriver driver;
  std::unique_ptr<consensus::Replica> replica;  // created by Node::open
  consensus::ReplicaConfig replica_config;
  std::unique_ptr<rpc::RpcServer> rpc_server;
  std::unique_ptr<p2p::Transport> transport;  // loop thread only

  boost::asio::io_context io;
  boost::asio::steady_timer tick_timer{io};
  boost::asio::steady_timer payload_timer{io};
  boost::asio::signal_set signals{io};
  boost::asio::steady_timer gossip_timer{io};
  boost::asio::steady_timer status_timer{io};
  boost::asio::steady_timer sync_timer{io};
  std::map<PublicKey, PeerState> peers;                      // loop thread only: connected peers
  std::unique_ptr<BlockSync> block_sync;                     // loop thread only; start_sync
  std::unique_ptr<SyncService> sync_service;                 // loop thread only; start_sync
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
  // One thread admits gossiped transactions (signature checks off the loop thread).
  boost::asio::thread_pool admission_pool{1};
  std::atomic<std::size_t> admission_backlog{0};  // gossiped transactions waiting for it
  std::mutex gossip_mutex;
  std::vector<GossipItem> gossip_queue;  // guarded by gossip_mutex; bounded (kGossipQueueFactor)
  std::uint64_t gossip_dropped = 0;      // guarded by gossip_mutex
  mutable std::mutex network_mutex;
  std::vector<PublicKey> connected_peers;  // guarded by network_mutex
  bool network_enabled = true;             // guarded by network_mutex
};

}  // namespace ledger::node
