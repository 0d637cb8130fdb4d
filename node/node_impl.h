// Node's private state: the composition root's components (ChainView, ConsensusLoop, Gossip,
// SyncDriver, BlockService, Mempool, the stores) and the peer-network shell that routes frames
// among them (network.cpp). node.cpp opens and runs it; node_api.cpp serves gRPC from it.
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

#include "consensus_loop.h"
#include "gossip.h"
#include "ledger/consensus/replica.h"
#include "ledger/node/block_service.h"
#include "ledger/node/chain_view.h"
#include "ledger/node/mempool.h"
#include "ledger/node/node.h"
#include "ledger/node/p2p/transport.h"
#include "ledger/node/signature_cache.h"
#include "ledger/rpc/server.h"
#include "ledger/storage/rocks_chain_store.h"
#include "signing_mark.h"
#include "sync_driver.h"

namespace ledger::node {

// What this node knows of a connected peer (loop thread only). Its claimed height is kept by
// BlockSync.
struct PeerState {
  bool validator = false;
};

struct Node::Impl : p2p::Transport::Handler {
  Impl(NodeOptions opts, std::unique_ptr<storage::RocksChainStore> store,
       consensus::ReplicaConfig replica_config);

  bool is_validator() const { return validator_node; }
  // Admits a transaction from a client (origin nullopt) or a peer, and queues it for gossip.
  // Thread-safe.
  Status admit(const SignedTransfer& tx, const std::optional<PublicKey>& origin);

  // ---- network.cpp: the p2p side of the event loop thread ----
  Status start_network();
  void stop_network();
  void on_connected(const PublicKey& peer) override;
  void on_disconnected(const PublicKey& peer) override;
  void on_frame(const PublicKey& peer, Bytes payload) override;
  void send_messages(std::vector<consensus::OutgoingMessage> messages);
  void on_consensus_message(const PublicKey& peer, ByteView bytes);
  void answer_block_request(const PublicKey& peer, const consensus::BlockRequest& request);
  void schedule_status();
  void broadcast_status();
  void send_status(const PublicKey& peer);
  void publish_network();

  // ---- node.cpp: the event loop thread ----
  void fail(const Status& status);   // a fatal error: stop with it
  static std::uint64_t steady_ms();  // the loop's monotonic clock, for rate limits
  void begin_shutdown();

  // Declared first: the timers and the consensus loop below are built on it.
  boost::asio::io_context io;
  std::atomic<bool> stopping{false};  // shared with gRPC threads

  NodeOptions options;
  PublicKey node_id;
  bool validator_node = false;  // the node key is a genesis validator (set by open)
  std::unique_ptr<storage::RocksChainStore> store;
  std::unique_ptr<MarkingSafetyStore> safety_store;  // over store's; validators only (open)
  SignatureCache signatures;
  Mempool mempool;
  ChainView view;  // what gRPC readers see: the published tip (thread-safe)
  BlockService block_service;
  ConsensusLoop consensus_loop;  // the replica and its timers (loop thread; wake_proposer: any)
  Gossip gossip;                 // queue: any thread; batches: loop thread
  std::unique_ptr<rpc::RpcServer> rpc_server;
  std::unique_ptr<p2p::Transport> transport;  // loop thread only

  boost::asio::signal_set signals{io};
  boost::asio::steady_timer status_timer{io};
  std::map<PublicKey, PeerState> peers;  // loop thread only: connected peers
  std::unique_ptr<SyncDriver> sync;      // loop thread only; start_network
  Status fatal;                          // loop thread only
  bool run_called = false;

  // Shared with gRPC threads.
  mutable std::mutex network_mutex;
  std::vector<PublicKey> connected_peers;  // guarded by network_mutex
  bool network_enabled = true;             // guarded by network_mutex
};

}  // namespace ledger::node
