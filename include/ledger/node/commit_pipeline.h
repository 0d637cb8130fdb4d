// The commit pipeline: what happens to a block consensus (or block sync) committed
// (docs/architecture.md). Execute it on the committed tip (through SpeculativeState, which has
// usually executed it already), store it with its commit certificate in one synced write, evict
// what it made obsolete from the mempool. Publishing the new tip to queries and subscribers is
// the shell's job, after commit() returns.
// Inputs: a committed block, its id and its commit certificate. Output: OK, or an error after
// which the node must stop (an I/O or corruption error, or a safety violation: a different
// block already committed at that height).
//
// Thread-compatible: the event loop (or the simulator) calls it; the chain store may be read
// concurrently by other threads (it is thread-safe for reads).
#pragma once

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

  // Commits `block` (id `id`) on the tip. A block at or below the tip with the same id is
  // already committed (by block sync): OK, nothing done. Errors: kInternal "safety violation"
  // when another block is stored at that height; the store's and the executor's errors.
  Status commit(const Block& block, const Hash& id, const QuorumCert& commit_cert);

 private:
  storage::ChainStore& store_;
  SpeculativeState& speculative_;
  Mempool& mempool_;
};

}  // namespace ledger::node
