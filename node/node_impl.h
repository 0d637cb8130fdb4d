// Node's private state: the composition root's components (the stores, Mempool, ChainView,
// ConsensusLoop, Gossip, PeerNetwork), wired together by node.cpp, which opens and runs them;
// node_api.cpp serves gRPC from them.
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
#include "peer_network.h"
#include "signing_mark.h"

namespace ledger::node {

struct Node::Impl {
  Impl(NodeOptions opts, std::unique_ptr<storage::RocksChainStore> store,
       consensus::ReplicaConfig replica_config);

  bool is_validator() const { return validator_node; }
  // Admits a transaction from a client (origin nullopt) or a peer, and queues it for gossip.
  // Thread-safe.
  Status admit(const SignedTransfer& tx, const std::optional<PublicKey>& origin);

  // ---- node.cpp: the event loop thread ----
  void fail(const Status& status);  // a fatal error: stop with it
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
  ChainView view;                // what gRPC readers see: the published tip (thread-safe)
  ConsensusLoop consensus_loop;  // the replica and its timers (loop thread; wake_proposer: any)
  Gossip gossip;                 // queue: any thread; batches: loop thread
  std::unique_ptr<PeerNetwork> network;  // the transport and its routing (set by open)

  boost::asio::signal_set signals{io};
  Status fatal;  // loop thread only
  bool run_called = false;
  // Declared last, so destroyed first: gRPC threads read the members above until it is gone
  // (run() may return early, on an error, with the server still serving).
  std::unique_ptr<rpc::RpcServer> rpc_server;
};

}  // namespace ledger::node
