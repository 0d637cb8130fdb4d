// Execution of blocks that are not committed yet: the state a proposal is built on and checked
// against (host component; docs/architecture.md).
//
// A block's header carries the state root AFTER ITS PARENT, so a leader building on a certified
// but uncommitted parent, and a validator checking such a proposal, need the state after
// uncommitted ancestors. This keeps, per executed block id, the block's own changes and the
// accumulator after it; an account read after block X walks X, its parent, ... down to the
// committed tip and then reads the chain store. The walk is as long as the uncommitted chain
// (two blocks in steady state, at most entries_for(pending_blocks_max)).
//
// Thread-compatible: only the node's event loop uses it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

#include "ledger/consensus/block_tree.h"
#include "ledger/core/block.h"
#include "ledger/core/state.h"
#include "ledger/storage/chain_store.h"

namespace ledger::node {

class SpeculativeState {
 public:
  struct Executed {
    Block block;
    ExecutionOutput output;  // results, changed accounts, accumulator after the block
    bool has_transactions() const { return !block.transactions.empty(); }
  };
  // Finds an uncommitted block by id (the replica's tree); nullptr if unknown.
  using BlockLookup = std::function<const Block*(const Hash& id)>;

  // `chain` and `signatures` must outlive this object.
  SpeculativeState(const storage::ChainStore& chain, SignatureCheck signatures,
                   std::size_t entries_max);

  // The entries_max for a replica with this pending_blocks_max: every block its tree can hold
  // (consensus::BlockTree::blocks_max), the proposal being checked and the one being built.
  static constexpr std::size_t entries_for(std::size_t pending_blocks_max) {
    return consensus::BlockTree::blocks_max(pending_blocks_max) + 2;
  }

  // The execution of block `id`, executing it (and any unexecuted uncommitted ancestors found
  // through `lookup`) first; nullptr when `id` is the committed tip (read the chain store).
  // kNotFound if an ancestor is neither executed, known to `lookup`, nor the committed tip;
  // kResourceExhausted past entries_max.
  StatusOr<const Executed*> execute(const Hash& id, const BlockLookup& lookup);
  // Executes `block` (whose parent must be the tip or executed) and remembers it.
  StatusOr<const Executed*> execute_block_on_parent(const Block& block, const Hash& id);

  // A reader of the state after block `id` (the committed tip or an executed block); valid
  // until the next call that changes this object. kNotFound if `id` is neither.
  StatusOr<std::unique_ptr<AccountReader>> reader_after(const Hash& id) const;
  StatusOr<StateAccumulator> accumulator_after(const Hash& id) const;

  // True if some block from `id` down to (excluding) the committed tip has transactions.
  bool uncommitted_transactions_below(const Hash& id) const;

  // Whether block `id` is executed and remembered (not the committed tip).
  bool executed(const Hash& id) const { return executed_.contains(id); }
  // Drops a block's entry (committed, so now read from the chain store, or pruned).
  void forget(const Hash& id);
  // Drops every entry (the committed tip moved by other means than these blocks).
  void clear() { executed_.clear(); }
  std::size_t size() const { return executed_.size(); }
  // Blocks that can still be executed before kResourceExhausted.
  std::size_t room() const {
    return executed_.size() < entries_max_ ? entries_max_ - executed_.size() : 0;
  }

 private:
  class Reader;
  const storage::ChainStore& chain_;
  SignatureCheck signatures_;
  const std::size_t entries_max_;
  std::unordered_map<Hash, Executed, HashHasher> executed_;  // by block id
};

}  // namespace ledger::node
