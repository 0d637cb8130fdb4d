// The commit pipeline: what happens to blocks consensus (or block sync) committed
// (docs/architecture.md, docs/storage.md "Committing blocks"). Check each block's state root
// against the state after its parent, execute it (through SpeculativeState, which has usually
// executed it already), store the whole batch with its commit certificates and the publication
// hold it leaves (ChainView::hold_after, from the stored hold) in ONE synced
// ChainStore::commit_batch, then evict what it made obsolete from the mempool. Publishing the
// new tip to queries, subscribers and commit waiters is the shell's job, once, after commit()
// returns: readers see a batch all at once, never a block whose commit certificate names a block
// that is not committed yet (issue 11, point 9).
// Inputs: committed blocks. Output: the blocks newly stored (those at or below the tip were
// committed already, by block sync), or an error after which the node must stop.
//
// Thread-compatible: the event loop (or the simulator) calls it; the chain store may be read
// concurrently by other threads (it is thread-safe for reads).
#pragma once

#include <vector>

#include "ledger/consensus/replica.h"
#include "ledger/core/block.h"
#include "ledger/core/genesis.h"
#include "ledger/core/status.h"
#include "ledger/node/mempool.h"
#include "ledger/node/speculative_state.h"
#include "ledger/storage/chain_store.h"

namespace ledger::node {

// The genesis block as the chain store keeps it: no transactions, the allocation as state.
storage::BlockCommit genesis_commit(const Genesis& genesis);

class CommitPipeline {
 public:
  // Every reference must outlive the pipeline.
  CommitPipeline(storage::ChainStore& store, SpeculativeState& speculative, Mempool& mempool);

  // `blocks` are consecutive heights, each the child of the one before. Blocks that share a
  // commit certificate may come in several calls (block sync splits a batch longer than
  // room()): the publication hold keeps readers off a partial batch. Those at or below the tip must
  // be the stored blocks; the others, the first of which is the child of the tip, are stored as one
  // batch. Returns what was newly stored, in order. Errors, with nothing stored: kInternal "safety
  // violation" if a block at a stored height is not the stored block; kInvalidArgument if a
  // header's state root is not the state after its parent; an execution error; the store's
  // refusal or I/O error (also reading the publication hold). A mempool eviction error comes
  // after the batch is stored.
  StatusOr<std::vector<consensus::CommittedBlock>> commit(
      std::vector<consensus::CommittedBlock> blocks);
  // How many blocks not executed yet one commit() can take now: each is executed on the one
  // before it in the speculative state, whose entries consensus shares (kResourceExhausted past
  // them).
  std::size_t room() const { return speculative_.room(); }

 private:
  Status check_committed_already(const Block& block, const Hash& id) const;
  StatusOr<storage::BlockCommit> execute_for_commit(const consensus::CommittedBlock& committed,
                                                    const Hash& id);

  storage::ChainStore& store_;
  SpeculativeState& speculative_;
  Mempool& mempool_;
};

}  // namespace ledger::node
