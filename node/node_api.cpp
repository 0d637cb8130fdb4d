// Node: the NodeApi methods the gRPC threads call. Queries go to the ChainView (the published
// tip; chain store reads are safe beside the loop's single committer), submissions to the
// mempool (internally locked); they never touch the replica or the speculative state. The
// AdminApi methods post their work to the loop.
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
  // The state is read from the store, so its tip is the height it belongs to (for ttl_blocks);
  // the published height may trail it while block sync waits for a B0 (ChainView).
  const std::uint64_t height = store->tip()->height;
  const storage::ChainStore& chain = *store;
  auto admitted = mempool.admit(
      tx, chain, [&chain](const Hash& hash) { return chain.transaction_location(hash).is_ok(); },
      height);
  if (!admitted.is_ok()) return admitted.status();
  gossip.queue(tx, origin);
  // A leader holding back an empty block proposes now that there is work.
  consensus_loop.wake_proposer();
  return Status::ok();
}

// Queries are answered by the ChainView, at or below the published tip.
StatusOr<rpc::CommittedTx> Node::committed_transaction(const Hash& tx_hash) const {
  return impl_->view.committed_transaction(tx_hash);
}

StatusOr<rpc::TxLookup> Node::transaction(const Hash& tx_hash) const {
  return impl_->view.transaction(tx_hash);
}

StatusOr<rpc::AccountAt> Node::account(const Address& address) const {
  return impl_->view.account(address);
}

StatusOr<rpc::BlockView> Node::block_at(std::uint64_t height) const {
  return impl_->view.block_at(height);
}

StatusOr<rpc::BlockView> Node::block_by_id(const Hash& id) const {
  return impl_->view.block_by_id(id);
}

std::uint64_t Node::latest_height() const {
  return impl_->view.latest_height();
}

rpc::NodeStatusView Node::status() const {
  const Impl& n = *impl_;
  rpc::NodeStatusView view;
  view.chain_id = n.options.genesis.chain_id;
  view.node_id = n.node_id;
  view.validator = n.is_validator();
  const PublishedTip tip = n.view.tip();
  view.latest_height = tip.height;
  view.latest_block_id = tip.block_id;
  view.latest_block_time_ms = tip.block_time_ms;
  view.current_round = tip.current_round;
  view.mempool_size = n.mempool.size();
  view.mempool_bytes = n.mempool.bytes();
  view.peer_count = n.network->peer_count();
  view.version = n.options.version;
  return view;
}

const ValidatorSet& Node::validators() const {
  return impl_->options.genesis.validators;
}

StatusOr<std::uint64_t> Node::wait_for_height(
    std::uint64_t height, std::chrono::steady_clock::time_point deadline) const {
  return impl_->view.wait_for_height(height, deadline);
}

bool Node::shutting_down() const {
  return impl_->stopping;
}

Status Node::set_network_enabled(bool enabled) {
  Impl& n = *impl_;
  if (n.stopping) return Status::unavailable("the node is shutting down");
  n.network->set_enabled(enabled);
  return Status::ok();
}

rpc::NetworkView Node::network() const {
  return impl_->network->network_view();
}

}  // namespace ledger::node
