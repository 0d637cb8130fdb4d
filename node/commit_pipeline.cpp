#include "ledger/node/commit_pipeline.h"

#include "ledger/core/assert.h"
#include "ledger/node/chain_view.h"

namespace ledger::node {

storage::BlockCommit genesis_commit(const Genesis& genesis) {
  storage::BlockCommit commit;
  commit.block = genesis.genesis_block();
  commit.commit_cert = genesis_qc(commit.block);
  commit.accumulator = genesis.genesis_state();
  commit.results.state_root = commit.accumulator.digest();
  for (const auto& account : genesis.accounts) {
    commit.changed_accounts[account.address] = Account{account.balance, 0};
  }
  return commit;
}

CommitPipeline::CommitPipeline(storage::ChainStore& store, SpeculativeState& speculative,
                               Mempool& mempool)
    : store_(store), speculative_(speculative), mempool_(mempool) {}

// Blocks at or below the tip were committed by block sync before consensus got to them.
Status CommitPipeline::check_committed_already(const Block& block, const Hash& id) const {
  LEDGER_ASSIGN_OR_RETURN(const Block stored, store_.block_at(block.header.height));
  if (stored.id() == id) return Status::ok();
  return Status::internal("safety violation: consensus committed block " + to_hex(id.bytes) +
                          " at height " + std::to_string(block.header.height) +
                          ", where the chain store holds " + to_hex(stored.id().bytes));
}

StatusOr<storage::BlockCommit> CommitPipeline::execute_for_commit(
    const consensus::CommittedBlock& committed, const Hash& id) {
  const Block& block = committed.block;
  // The parent is the tip or the block before this one in the batch, both executed (or cheap
  // to redo from the store).
  LEDGER_ASSIGN_OR_RETURN(const auto parent_state,
                          speculative_.accumulator_after(block.header.parent_id));
  if (parent_state.digest() != block.header.state_root) {
    return Status::invalid_argument(
        "block at height " + std::to_string(block.header.height) + " has state root " +
        to_hex(block.header.state_root.bytes).substr(0, 12) + ", the state after its parent is " +
        to_hex(parent_state.digest().bytes).substr(0, 12));
  }
  LEDGER_ASSIGN_OR_RETURN(const auto* executed, speculative_.execute_block_on_parent(block, id));
  storage::BlockCommit commit;
  commit.block = block;
  commit.commit_cert = committed.commit_cert;
  commit.results = executed->output.results;
  commit.changed_accounts = executed->output.changed;
  commit.accumulator = executed->output.accumulator;
  return commit;
}

StatusOr<std::vector<consensus::CommittedBlock>> CommitPipeline::commit(
    std::vector<consensus::CommittedBlock> blocks) {
  std::vector<consensus::CommittedBlock> stored;
  if (blocks.empty()) return stored;
  const auto tip = store_.tip();
  LEDGER_ASSERT(tip.has_value());
  std::size_t first = 0;
  for (; first < blocks.size() && blocks[first].block.header.height <= tip->height; ++first) {
    LEDGER_RETURN_IF_ERROR(check_committed_already(blocks[first].block, blocks[first].block.id()));
  }
  if (first == blocks.size()) return stored;
  // The hold is read from the store, not from the ChainView: the shell publishes once after
  // its whole round of commits (several, when a payload check feeds the replica again), while
  // each batch must be written with the hold the batches before it left.
  LEDGER_ASSIGN_OR_RETURN(const std::optional<storage::PublicationHold> hold_before,
                          store_.publication_hold());

  std::vector<storage::BlockCommit> batch;
  std::vector<Hash> ids;
  std::vector<Hash> executed_here;  // entries this call added to the speculative state
  auto undo = [&] {
    for (const Hash& added : executed_here)
      speculative_.forget(added);
  };
  batch.reserve(blocks.size() - first);
  for (std::size_t i = first; i < blocks.size(); ++i) {
    const Hash id = blocks[i].block.id();
    if (!speculative_.executed(id)) executed_here.push_back(id);
    auto commit = execute_for_commit(blocks[i], id);
    if (!commit.is_ok()) {
      undo();
      return commit.status();
    }
    batch.push_back(std::move(commit).value());
    ids.push_back(id);
  }
  const auto hold = ChainView::hold_after(hold_before, std::span(blocks).subspan(first));
  if (Status s = store_.commit_batch(batch, hold); !s.is_ok()) {
    undo();
    return s;
  }
  for (const Hash& id : ids)
    speculative_.forget(id);
  // The store is at the state after the whole batch, later than some of its blocks: a nonce a
  // later block committed is committed too, so evicting by it is right.
  for (const storage::BlockCommit& commit : batch) {
    if (Status s = mempool_.on_commit(commit.block, store_); !s.is_ok()) {
      return Status(s.code(), "mempool eviction after height " +
                                  std::to_string(commit.block.header.height) + ": " + s.message());
    }
  }
  stored.assign(std::make_move_iterator(blocks.begin() + static_cast<std::ptrdiff_t>(first)),
                std::make_move_iterator(blocks.end()));
  return stored;
}

}  // namespace ledger::node
