#include "ledger/node/commit_pipeline.h"

#include "ledger/core/assert.h"

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

Status CommitPipeline::commit(const Block& block, const Hash& id, const QuorumCert& commit_cert) {
  const auto tip = store_.tip();
  LEDGER_ASSERT(tip.has_value());
  if (block.header.height <= tip->height) {
    // Committed already (by block sync): the same block, or the chain has forked.
    LEDGER_ASSIGN_OR_RETURN(const Block stored, store_.block_at(block.header.height));
    if (stored.id() == id) return Status::ok();
    return Status::internal("safety violation: consensus committed block " + to_hex(id.bytes) +
                            " at height " + std::to_string(block.header.height) +
                            ", where the chain store holds " + to_hex(stored.id().bytes));
  }
  // The block's parent is the chain tip, so its execution is at hand (or cheap to redo).
  LEDGER_ASSIGN_OR_RETURN(const auto* executed, speculative_.execute_block_on_parent(block, id));
  storage::BlockCommit batch;
  batch.block = block;
  batch.commit_cert = commit_cert;
  batch.results = executed->output.results;
  batch.changed_accounts = executed->output.changed;
  batch.accumulator = executed->output.accumulator;
  LEDGER_RETURN_IF_ERROR(store_.commit(batch));
  speculative_.forget(id);
  if (Status s = mempool_.on_commit(block, store_); !s.is_ok()) {
    return Status(s.code(), "mempool eviction after height " + std::to_string(block.header.height) +
                                ": " + s.message());
  }
  return Status::ok();
}

}  // namespace ledger::node
