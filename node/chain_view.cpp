#include "ledger/node/chain_view.h"

#include "ledger/core/bytes.h"

namespace ledger::node {

void ChainView::publish(const Block& block, const Hash& id, std::uint64_t current_round) {
  {
    std::lock_guard lock(mutex_);
    tip_.height = block.header.height;
    tip_.block_id = id;
    tip_.block_time_ms = block.header.timestamp_ms;
    tip_.current_round = current_round;
  }
  changed_.notify_all();
}

bool ChainView::ends_batch(const Block& block, const Hash& id, const QuorumCert& commit_cert) {
  return block.header.height == 0 || commit_cert.data.parent_id == id ||
         commit_cert.data.block_id == id;
}

std::optional<storage::PublicationHold> ChainView::advance(
    std::optional<storage::PublicationHold> hold, const consensus::CommittedBlock& stored,
    const Hash& id) {
  const QuorumCert& cert = stored.commit_cert;
  const bool awaited = hold && hold->b0_id == id;
  if (ends_batch(stored.block, id, cert)) {
    if (awaited) hold.reset();
    return hold;
  }
  // Its B0 is above it, so not stored yet: a hold begins here unless one is active.
  if (!hold) {
    return storage::PublicationHold{stored.block.header.height, cert.data.parent_id,
                                    cert.data.parent_round};
  }
  // The awaited B0 itself, with the certificate of a later batch, keeps the hold's first height:
  // the blocks below it that awaited it are only publishable with it.
  if (awaited || cert.data.parent_round > hold->b0_round) {
    hold->b0_id = cert.data.parent_id;
    hold->b0_round = cert.data.parent_round;
  }
  return hold;
}

std::optional<storage::PublicationHold> ChainView::hold_after(
    std::optional<storage::PublicationHold> hold,
    std::span<const consensus::CommittedBlock> stored) {
  for (const consensus::CommittedBlock& committed : stored)
    hold = advance(hold, committed, committed.block.id());
  return hold;
}

bool ChainView::publish_batch(const std::vector<consensus::CommittedBlock>& stored,
                              std::uint64_t current_round) {
  const consensus::CommittedBlock* publishable = nullptr;
  Hash publishable_id;
  for (const consensus::CommittedBlock& committed : stored) {
    const Hash id = committed.block.id();
    hold_ = advance(hold_, committed, id);
    if (!hold_) {
      publishable = &committed;
      publishable_id = id;
    }
  }
  if (publishable == nullptr) return false;
  publish(publishable->block, publishable_id, current_round);
  return true;
}

// Below the hold's first height every block's B0 is stored at or below it (the hold began at
// the first block whose B0 was not stored); from it up, the hold's B0 is missing.
Status ChainView::publish_stored(std::uint64_t current_round) {
  const auto tip = chain_.tip();
  if (!tip) return Status::failed_precondition("the chain store holds no block");
  LEDGER_ASSIGN_OR_RETURN(const std::optional<storage::PublicationHold> hold,
                          chain_.publication_hold());
  std::uint64_t height = tip->height;
  if (hold) {
    if (hold->first_height == 0 || hold->first_height > tip->height) {
      return Status::corruption("the stored publication hold starts at height " +
                                std::to_string(hold->first_height) + ", the tip is at height " +
                                std::to_string(tip->height));
    }
    height = hold->first_height - 1;
  }
  LEDGER_ASSIGN_OR_RETURN(const Block block, chain_.block_at(height));
  hold_ = hold;
  publish(block, block.id(), current_round);
  return Status::ok();
}

void ChainView::set_round(std::uint64_t current_round) {
  std::lock_guard lock(mutex_);
  tip_.current_round = current_round;
}

void ChainView::shut_down() {
  {
    std::lock_guard lock(mutex_);  // waiters re-check stopping_ under the lock
    stopping_ = true;
  }
  changed_.notify_all();
}

PublishedTip ChainView::tip() const {
  std::lock_guard lock(mutex_);
  return tip_;
}

std::uint64_t ChainView::latest_height() const {
  std::lock_guard lock(mutex_);
  return tip_.height;
}

bool ChainView::shutting_down() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

StatusOr<std::uint64_t> ChainView::wait_for_height(
    std::uint64_t height, std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(mutex_);
  changed_.wait_until(lock, deadline, [&] { return stopping_ || tip_.height >= height; });
  if (stopping_) return Status::unavailable("the node is shutting down");
  return tip_.height;
}

StatusOr<rpc::CommittedTx> ChainView::committed_transaction(const Hash& tx_hash) const {
  const std::uint64_t latest = latest_height();
  LEDGER_ASSIGN_OR_RETURN(const auto location, chain_.transaction_location(tx_hash));
  if (location.height > latest) {
    return Status::not_found(
        "transaction " + to_hex(tx_hash.bytes) + " is in block " + std::to_string(location.height) +
        ", which is being committed (latest is " + std::to_string(latest) + ")");
  }
  LEDGER_ASSIGN_OR_RETURN(const auto results, chain_.results_at(location.height));
  if (location.index >= results.codes.size()) {
    return Status::corruption("the index of transaction " + to_hex(tx_hash.bytes) +
                              " points past the results of height " +
                              std::to_string(location.height));
  }
  return rpc::CommittedTx{location.height, location.index, results.codes[location.index]};
}

StatusOr<rpc::TxLookup> ChainView::transaction(const Hash& tx_hash) const {
  auto committed = committed_transaction(tx_hash);
  if (committed.is_ok()) {
    LEDGER_ASSIGN_OR_RETURN(const Block block, chain_.block_at(committed.value().height));
    return rpc::TxLookup{block.transactions.at(committed.value().index), committed.value()};
  }
  if (committed.status().code() != StatusCode::kNotFound) return committed.status();
  if (auto pending = mempool_.find(tx_hash)) return rpc::TxLookup{*pending, std::nullopt};
  // Between the batch write (and the mempool eviction) and the tip's publication the
  // transaction is in neither answer above: it is still pending to readers.
  auto location = chain_.transaction_location(tx_hash);
  if (location.is_ok()) {
    LEDGER_ASSIGN_OR_RETURN(const Block block, chain_.block_at(location.value().height));
    return rpc::TxLookup{block.transactions.at(location.value().index), std::nullopt};
  }
  if (location.status().code() != StatusCode::kNotFound) return location.status();
  return Status::not_found("transaction " + to_hex(tx_hash.bytes) +
                           " is neither pending nor committed");
}

StatusOr<rpc::AccountAt> ChainView::account(const Address& address) const {
  // The tip read before and after the account: unchanged, no commit landed in between (a commit
  // is one atomic write and heights only grow), so the account is the state after that tip.
  for (int attempt = 0; attempt < kAccountReadAttemptsMax; ++attempt) {
    const auto before = chain_.tip();
    if (!before) return Status::failed_precondition("the chain store holds no block");
    LEDGER_ASSIGN_OR_RETURN(const Account account, chain_.account(address));
    if (chain_.tip() == before) return rpc::AccountAt{account, before->height};
  }
  return Status::unavailable("account " + address.hex() + ": blocks kept being committed during " +
                             std::to_string(kAccountReadAttemptsMax) + " reads; try again");
}

StatusOr<rpc::BlockView> ChainView::block_at(std::uint64_t height) const {
  const std::uint64_t latest = latest_height();
  if (height > latest) {
    return Status::not_found("no block at height " + std::to_string(height) + " (latest is " +
                             std::to_string(latest) + ")");
  }
  rpc::BlockView view;
  LEDGER_ASSIGN_OR_RETURN(view.block, chain_.block_at(height));
  view.id = view.block.id();
  LEDGER_ASSIGN_OR_RETURN(view.results, chain_.results_at(height));
  LEDGER_ASSIGN_OR_RETURN(view.commit_cert, chain_.commit_cert_at(height));
  return view;
}

StatusOr<rpc::BlockView> ChainView::block_by_id(const Hash& id) const {
  auto height = chain_.height_of(id);
  if (!height.is_ok()) {
    if (height.status().code() == StatusCode::kNotFound) {
      return Status::not_found("no committed block with id " + to_hex(id.bytes));
    }
    return height.status();
  }
  return block_at(height.value());
}

}  // namespace ledger::node
