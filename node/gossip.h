// Transaction gossip (docs/p2p.md, "Transactions"): every transaction this node admits goes to
// every peer but the one it came from, in batches; batches from peers are admitted off the
// event loop thread.
//
// Inputs: queue() from any thread after an admission; on_batch() on the event loop thread for
// each Transactions frame; the flush timer (every p2p.gossip_interval_ms).
// Outputs: batches through Hooks::send to the peers Hooks::peers names; admissions through
// Hooks::admit on the admission thread; log lines.
//
// Limits: a batch holds at most p2p.gossip_batch_max transactions and fits a frame; at most
// kQueueBatches batches' worth wait to be sent (beyond it admitted transactions are not
// gossiped: they stay in this node's mempool and are proposed from here) and as many wait for
// admission (beyond it a peer's batch is dropped; the sender's mempool still holds it).
#pragma once

#include <utility>  // before Asio: Boost 1.74 Asio under GCC 12 in C++20 mode needs it

#include <atomic>
#include <boost/asio.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ledger/core/keys.h"
#include "ledger/core/status.h"
#include "ledger/core/transaction.h"

namespace ledger::node {

class Gossip {
 public:
  static constexpr std::size_t kQueueBatches = 16;

  struct Config {
    std::size_t batch_max = 1;      // p2p.gossip_batch_max
    std::uint64_t bytes_max = 0;    // a batch's transaction bytes: the frame limit less slack
    std::uint64_t interval_ms = 1;  // p2p.gossip_interval_ms
  };
  struct Hooks {
    std::function<Status(const SignedTransfer&, const PublicKey& origin)> admit;  // any thread
    std::function<std::vector<PublicKey>()> peers;  // connected peers (loop thread)
    std::function<void(const PublicKey&, std::shared_ptr<const Bytes>)> send;  // an envelope
  };

  // `stopping` is the node's shutdown flag; both must outlive this object.
  Gossip(boost::asio::io_context& io, Config config, Hooks hooks,
         const std::atomic<bool>& stopping);
  // Stops the admission thread and waits for an admission in progress to finish, while the
  // queue it may still append to is alive.
  ~Gossip();
  Gossip(const Gossip&) = delete;
  Gossip& operator=(const Gossip&) = delete;

  // Arms the flush timer (loop thread).
  void start();
  // Cancels the timer and stops the admission thread (admissions in progress refuse with
  // kUnavailable: the node is stopping).
  void stop();

  // Thread-safe: `tx` was admitted here (origin nullopt: from a client).
  void queue(const SignedTransfer& tx, const std::optional<PublicKey>& origin);
  // Loop thread: a peer's batch, still encoded.
  void on_batch(const PublicKey& peer, std::vector<std::string> wires);

 private:
  struct Item {
    std::shared_ptr<const Bytes> wire;  // canonical wire bytes
    std::optional<PublicKey> origin;    // nullopt: submitted to this node over gRPC
  };
  void schedule();
  void flush();

  Config config_;
  Hooks hooks_;
  const std::atomic<bool>& stopping_;
  boost::asio::steady_timer timer_;
  boost::asio::thread_pool admission_pool_{1};
  std::atomic<std::size_t> admission_backlog_{0};  // gossiped transactions waiting for it
  std::mutex mutex_;
  std::vector<Item> queue_;    // guarded by mutex_; at most batch_max * kQueueBatches
  std::uint64_t dropped_ = 0;  // guarded by mutex_
};

}  // namespace ledger::node
