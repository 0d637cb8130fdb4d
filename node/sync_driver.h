// Block sync's shell on the event loop (docs/p2p.md, "Block sync"; docs/architecture.md): the
// asking side BlockSync and the answering side SyncService, a timer, and the wire format.
//
// Inputs (event loop thread): on_peer_status() for each PeerStatus, on_peer_gone() when a
// connection closes, on_request() and on_response() for SyncRequest and SyncResponse frames
// (a response only from the peer asked: awaits_response_from() gates it before parsing), poll()
// when peers or the tip may have changed. Its own timer polls when BlockSync asks to.
// Outputs: requests and answers through Hooks::send; verified blocks committed through the
// ConsensusLoop (SyncApplier: one batch per shared commit certificate, published, fed to its
// replica); Hooks::committed after blocks were committed; Hooks::fail on a failed durable
// write; log lines.
#pragma once

#include <utility>  // before Asio: Boost 1.74 Asio under GCC 12 in C++20 mode needs it

#include <atomic>
#include <boost/asio.hpp>
#include <functional>
#include <memory>

#include "consensus_loop.h"
#include "ledger/node/block_sync.h"
#include "ledger/node/sync_service.h"
#include "ledger/storage/rocks_chain_store.h"

namespace ledger::p2p::v1 {
class SyncResponse;
}

namespace ledger::node {

class SyncDriver {
 public:
  struct Hooks {
    // Sends an Envelope to a peer; false when it is not connected.
    std::function<bool(const PublicKey&, std::shared_ptr<const Bytes>)> send;
    std::function<void()> committed;          // blocks were committed: tell peers
    std::function<void(const Status&)> fail;  // fatal: stop the node with it
  };

  // Every reference must outlive this object. `validator`: the node key is a genesis validator
  // (it leaves small gaps to consensus fetches); a full node syncs whenever a peer is ahead.
  // Sync answers stop at `view`'s published height (SyncService's servable height).
  SyncDriver(boost::asio::io_context& io, const NodeOptions& options, bool validator,
             storage::RocksChainStore& store, const ChainView& view, ConsensusLoop& consensus,
             const std::atomic<bool>& stopping, Hooks hooks);
  SyncDriver(const SyncDriver&) = delete;
  SyncDriver& operator=(const SyncDriver&) = delete;

  void stop();  // cancels the timer

  bool awaits_response_from(const PublicKey& peer) const {
    return block_sync_.awaits_response_from(peer);
  }
  void on_peer_status(const PublicKey& peer, std::uint64_t committed_height);
  void on_peer_gone(const PublicKey& peer);
  void on_request(const PublicKey& peer, const SyncRequestMessage& request);
  void on_response(const PublicKey& peer, const ::ledger::p2p::v1::SyncResponse& response);
  // Runs BlockSync's poll: sends the request it returns and re-arms the timer.
  void poll();

 private:
  storage::RocksChainStore& store_;
  ConsensusLoop& consensus_;
  const std::atomic<bool>& stopping_;
  Hooks hooks_;
  BlockSync block_sync_;
  SyncService sync_service_;
  boost::asio::steady_timer timer_;
};

}  // namespace ledger::node
