// The node's peer-to-peer shell (docs/p2p.md; docs/architecture.md): the transport's handler.
//
// Owns the Transport, the connected peers, the peer-status timer, the BlockService (answers to
// block requests) and the SyncDriver (block sync). Each frame is checked for kind, sender, size
// and "was it asked for" before it is parsed (issue 11 point 6), then routed: consensus
// messages to the ConsensusLoop, block requests to the BlockService, gossip batches to Gossip,
// status and sync to the SyncDriver.
//
// Inputs: the Transport::Handler calls (event loop thread); send_messages() from the
// ConsensusLoop; set_enabled() from any thread (the admin API).
// Outputs: frames through the transport; peer status every p2p.status_interval_ms and after
// commits; the connected peers for status() and the admin API (any thread, under a mutex).
#pragma once

#include <utility>  // before Asio: Boost 1.74 Asio under GCC 12 in C++20 mode needs it

#include <atomic>
#include <boost/asio.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "consensus_loop.h"
#include "gossip.h"
#include "ledger/node/block_service.h"
#include "ledger/node/chain_view.h"
#include "ledger/node/p2p/transport.h"
#include "ledger/rpc/admin_api.h"
#include "ledger/storage/rocks_chain_store.h"
#include "sync_driver.h"

namespace ledger::node {

class PeerNetwork final : public p2p::Transport::Handler {
 public:
  // Every reference must outlive this object. `validator`: the node key is a genesis validator.
  // `fail` stops the node with a fatal error.
  PeerNetwork(boost::asio::io_context& io, const NodeOptions& options, const PublicKey& node_id,
              bool validator, storage::RocksChainStore& store, ChainView& view,
              ConsensusLoop& consensus, Gossip& gossip, const std::atomic<bool>& stopping,
              std::function<void(const Status&)> fail);
  PeerNetwork(const PeerNetwork&) = delete;
  PeerNetwork& operator=(const PeerNetwork&) = delete;

  // Starts the transport (listen, dial) and the status timer. kInvalidArgument for a bad peer
  // address; the transport's errors as they are.
  Status start();
  // Stops the timers and the transport (loop thread).
  void stop();
  // Destroys the transport; after the event loop returned (its sockets belong to the loop).
  void close() { transport_.reset(); }

  // Loop thread.
  void send_messages(std::vector<consensus::OutgoingMessage> messages);
  void broadcast_status();
  bool send(const PublicKey& peer, std::shared_ptr<const Bytes> payload);
  std::vector<PublicKey> peer_keys() const;

  // Any thread.
  void set_enabled(bool enabled);
  rpc::NetworkView network_view() const;
  std::size_t peer_count() const;

  // p2p::Transport::Handler (loop thread).
  void on_connected(const PublicKey& peer) override;
  void on_disconnected(const PublicKey& peer) override;
  void on_frame(const PublicKey& peer, Bytes payload) override;

 private:
  // What this node knows of a connected peer. Its claimed height is kept by BlockSync.
  struct PeerState {
    bool validator = false;
  };

  void on_consensus_message(const PublicKey& peer, ByteView bytes);
  void answer_block_request(const PublicKey& peer, const consensus::BlockRequest& request);
  void schedule_status();
  void send_status(const PublicKey& peer);
  void publish_peers();              // the connected peers, for other threads
  static std::uint64_t steady_ms();  // the monotonic clock, for the block service's rates

  boost::asio::io_context& io_;
  const NodeOptions& options_;
  const PublicKey node_id_;
  const bool validator_;
  ChainView& view_;
  ConsensusLoop& consensus_;
  Gossip& gossip_;
  const std::atomic<bool>& stopping_;
  std::function<void(const Status&)> fail_;
  BlockService block_service_;
  // The smallest encoded header of this chain: every block and proof header in a sync response
  // is at least this long, so that a frame of tiny entries is refused before it is parsed.
  std::size_t sync_entry_bytes_min_;
  SyncDriver sync_;
  std::unique_ptr<p2p::Transport> transport_;
  boost::asio::steady_timer status_timer_;
  std::map<PublicKey, PeerState> peers_;

  mutable std::mutex mutex_;
  std::vector<PublicKey> connected_;  // guarded by mutex_
  bool enabled_ = true;               // guarded by mutex_
};

}  // namespace ledger::node
