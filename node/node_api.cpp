// Node: the NodeApi methods the gRPC threads call. They read the chain store (concurrent reads
// are safe beside the loop's single committer), the mempool (internally locked) and the status
// snapshot (tip_mutex); they never touch the replica or the speculative state. The AdminApi
// methods post their work to the loop.
#include <spdlog/spdlog.h>

#include <utility>

#include "ledger/core/bytes.h"
#include "node_impl.h"

namespace ledger::node {

Status Node::submit(const SignedTransfer& tx) {
  return impl_->admit(tx, std::nullopt);
}

Status Node::Impl::admit(const SignedTransfer& tx, const std::optional<PublicKey>& origin) {
  if (stopping) return Status::unavailable("the node is shutting down");
  std::uint64_t height = 0;
  {
    std::lock_guard lock(tip_mutex);
    height = snapshot.height;
  }
  const storage::ChainStore& chain = *store;
  auto admitted = mempool.admit(
      tx, chain, [&chain](const Hash& hash) { return chain.transaction_location(hash).is_ok(); },
      height);
  if (!admitted.is_ok()) return admitted.status();
  queue_gossip(tx, origin);
  // A leader holding back an empty block proposes now that there is work.
  if (payload_waits_for_work.exchange(false)) {
    boost::asio::post(io, [this] {
      if (pending_payload) schedule_payload();
    });
  }
  return Status::ok();
}

// The chain store holds a batch from its write on, but readers see it only once the commit
// pipeline published its tip (after the write and the mempool eviction): everything below
// answers from heights <= latest_height(), read first, so that a block, a transaction and the
// certificates of a batch become visible together.
StatusOr<rpc::CommittedTx> Node::committed_transaction(const Hash& tx_hash) const {
  const Impl& n = *impl_;
  const std::uint64_t latest = latest_height();
  LEDGER_ASSIGN_OR_RETURN(const auto location, n.store->transaction_location(tx_hash));
  if (location.height > latest) {
    return Status::not_found(
        "transaction " + to_hex(tx_hash.bytes) + " is in block " + std::to_string(location.height) +
        ", which is being committed (latest is " + std::to_string(latest) + ")");
  }
  LEDGER_ASSIGN_OR_RETURN(const auto results, n.store->results_at(location.height));
  if (location.index >= results.codes.size()) {
    return Status::corruption("the index of transaction " + to_hex(tx_hash.bytes) +
                              " points past the results of height " +
                              std::to_string(location.height));
  }
  return rpc::CommittedTx{location.height, location.index, results.codes[location.index]};
}

StatusOr<rpc::TxLookup> Node::transaction(const Hash& tx_hash) const {
  const Impl& n = *impl_;
  auto committed = committed_transaction(tx_hash);
  if (committed.is_ok()) {
    LEDGER_ASSIGN_OR_RETURN(const Block block, n.store->block_at(committed.value().height));
    return rpc::TxLookup{block.transactions.at(committed.value().index), committed.value()};
  }
  if (committed.status().code() != StatusCode::kNotFound) return committed.status();
  if (auto pending = n.mempool.find(tx_hash)) return rpc::TxLookup{*pending, std::nullopt};
  // Between the batch write (and the mempool eviction) and the tip's publication the
  // transaction is in neither answer above: it is still pending to readers.
  auto location = n.store->transaction_location(tx_hash);
  if (location.is_ok()) {
    LEDGER_ASSIGN_OR_RETURN(const Block block, n.store->block_at(location.value().height));
    return rpc::TxLookup{block.transactions.at(location.value().index), std::nullopt};
  }
  if (location.status().code() != StatusCode::kNotFound) return location.status();
  return Status::not_found("transaction " + to_hex(tx_hash.bytes) +
                           " is neither pending nor committed");
}

StatusOr<rpc::AccountAt> Node::account(const Address& address) const {
  // Read the height first: the account is then as of that height or a later one.
  const std::uint64_t height = latest_height();
  LEDGER_ASSIGN_OR_RETURN(const Account account, impl_->store->account(address));
  return rpc::AccountAt{account, height};
}

StatusOr<rpc::BlockView> Node::block_at(std::uint64_t height) const {
  const Impl& n = *impl_;
  const std::uint64_t latest = latest_height();
  if (height > latest) {
    return Status::not_found("no block at height " + std::to_string(height) + " (latest is " +
                             std::to_string(latest) + ")");
  }
  rpc::BlockView view;
  LEDGER_ASSIGN_OR_RETURN(view.block, n.store->block_at(height));
  view.id = view.block.id();
  LEDGER_ASSIGN_OR_RETURN(view.results, n.store->results_at(height));
  LEDGER_ASSIGN_OR_RETURN(view.commit_cert, n.store->commit_cert_at(height));
  return view;
}

StatusOr<rpc::BlockView> Node::block_by_id(const Hash& id) const {
  auto height = impl_->store->height_of(id);
  if (!height.is_ok()) {
    if (height.status().code() == StatusCode::kNotFound) {
      return Status::not_found("no committed block with id " + to_hex(id.bytes));
    }
    return height.status();
  }
  return block_at(height.value());
}

std::uint64_t Node::latest_height() const {
  std::lock_guard lock(impl_->tip_mutex);
  return impl_->snapshot.height;
}

rpc::NodeStatusView Node::status() const {
  const Impl& n = *impl_;
  rpc::NodeStatusView view;
  view.chain_id = n.options.genesis.chain_id;
  view.node_id = n.node_id;
  view.validator = n.is_validator();
  {
    std::lock_guard lock(n.tip_mutex);
    view.latest_height = n.snapshot.height;
    view.latest_block_id = n.snapshot.block_id;
    view.latest_block_time_ms = n.snapshot.block_time_ms;
    view.current_round = n.snapshot.current_round;
  }
  view.mempool_size = n.mempool.size();
  view.mempool_bytes = n.mempool.bytes();
  {
    std::lock_guard lock(n.network_mutex);
    view.peer_count = n.connected_peers.size();
  }
  view.version = n.options.version;
  return view;
}

const ValidatorSet& Node::validators() const {
  return impl_->options.genesis.validators;
}

StatusOr<std::uint64_t> Node::wait_for_height(
    std::uint64_t height, std::chrono::steady_clock::time_point deadline) const {
  const Impl& n = *impl_;
  std::unique_lock lock(n.tip_mutex);
  n.tip_changed.wait_until(lock, deadline,
                           [&] { return n.stopping || n.snapshot.height >= height; });
  if (n.stopping) return Status::unavailable("the node is shutting down");
  return n.snapshot.height;
}

bool Node::shutting_down() const {
  return impl_->stopping;
}

Status Node::set_network_enabled(bool enabled) {
  Impl& n = *impl_;
  if (n.stopping) return Status::unavailable("the node is shutting down");
  {
    std::lock_guard lock(n.network_mutex);
    n.network_enabled = enabled;
  }
  boost::asio::post(n.io, [&n, enabled] {
    if (n.stopping || !n.transport) return;
    n.transport->set_enabled(enabled);
    spdlog::warn("p2p: networking turned {} through the admin API", enabled ? "on" : "off");
  });
  return Status::ok();
}

rpc::NetworkView Node::network() const {
  const Impl& n = *impl_;
  std::lock_guard lock(n.network_mutex);
  return rpc::NetworkView{n.network_enabled, n.connected_peers};
}

}  // namespace ledger::node
