#include "gossip.h"

#include <spdlog/spdlog.h>

#include "envelope.h"
#include "ledger/core/bytes.h"
#include "ledger/core/encoding.h"

namespace ledger::node {
namespace {

namespace wire = ::ledger::p2p::v1;

}  // namespace

Gossip::Gossip(boost::asio::io_context& io, Config config, Hooks hooks,
               const std::atomic<bool>& stopping)
    : config_(config), hooks_(std::move(hooks)), stopping_(stopping), timer_(io) {}

Gossip::~Gossip() {
  admission_pool_.stop();
  admission_pool_.join();
}

void Gossip::start() {
  schedule();
}

void Gossip::stop() {
  timer_.cancel();
  admission_pool_.stop();
}

void Gossip::queue(const SignedTransfer& tx, const std::optional<PublicKey>& origin) {
  auto wire_bytes = std::make_shared<const Bytes>(encode_transaction(tx));
  std::lock_guard lock(mutex_);
  if (queue_.size() >= config_.batch_max * kQueueBatches) {
    if (dropped_++ % 10'000 == 0) {
      spdlog::warn(
          "p2p: gossip queue full ({} transactions); {} admitted transactions not "
          "gossiped so far",
          queue_.size(), dropped_);
    }
    return;
  }
  queue_.push_back(Item{std::move(wire_bytes), origin});
}

void Gossip::schedule() {
  timer_.expires_after(std::chrono::milliseconds(config_.interval_ms));
  timer_.async_wait([this](const boost::system::error_code& error) {
    if (error || stopping_) return;
    flush();
    schedule();
  });
}

void Gossip::flush() {
  std::vector<Item> items;
  {
    std::lock_guard lock(mutex_);
    items.swap(queue_);
  }
  if (items.empty()) return;
  for (const PublicKey& peer : hooks_.peers()) {
    wire::Envelope envelope;
    std::uint64_t bytes = 0;
    auto send = [&] {
      if (envelope.transactions().transactions_size() == 0) return;
      hooks_.send(peer, serialize(envelope));
      envelope.Clear();
      bytes = 0;
    };
    for (const Item& item : items) {
      if (item.origin && *item.origin == peer) continue;  // never echo back
      if (static_cast<std::size_t>(envelope.transactions().transactions_size()) >=
              config_.batch_max ||
          bytes + item.wire->size() > config_.bytes_max) {
        send();
      }
      envelope.mutable_transactions()->add_transactions(as_string(*item.wire));
      bytes += item.wire->size() + 4;
    }
    send();
  }
}

// Admission verifies signatures: done off the loop thread, so that a flood of gossip never
// delays consensus.
void Gossip::on_batch(const PublicKey& peer, std::vector<std::string> wires) {
  const std::size_t batch_max = config_.batch_max;
  if (wires.size() > batch_max) {
    spdlog::warn(
        "p2p: {} gossiped {} transactions in one batch, above p2p.gossip_batch_max {}; "
        "ignored",
        peer_name(peer), wires.size(), batch_max);
    return;
  }
  if (admission_backlog_.fetch_add(wires.size()) + wires.size() > batch_max * kQueueBatches) {
    admission_backlog_.fetch_sub(wires.size());
    spdlog::debug("p2p: admission backlog full; {} gossiped transactions from {} dropped",
                  wires.size(), peer_name(peer));
    return;
  }
  boost::asio::post(admission_pool_, [this, peer, wires = std::move(wires)] {
    std::size_t admitted = 0;
    std::size_t refused = 0;
    for (const std::string& bytes : wires) {
      auto tx = decode_transaction(as_bytes(bytes));
      const Status s = tx.is_ok() ? hooks_.admit(tx.value(), peer) : tx.status();
      if (s.is_ok()) {
        ++admitted;
      } else if (s.code() != StatusCode::kAlreadyExists) {
        ++refused;
        spdlog::debug("p2p: gossiped transaction from {} refused: {}", peer_name(peer),
                      s.message());
      }
    }
    admission_backlog_.fetch_sub(wires.size());
    if (refused > 0) {
      spdlog::debug("p2p: {} gossiped {} transactions: {} admitted, {} refused", peer_name(peer),
                    wires.size(), admitted, refused);
    }
  });
}

}  // namespace ledger::node
