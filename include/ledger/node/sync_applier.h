// What a node does with a sync response (host component; docs/architecture.md, "Block sync"):
// BlockSync checks it, the verified blocks go through the CommitPipeline one batch per shared
// commit certificate (in parts when a batch is longer than the pipeline's room), each part is
// published through the ChainView (which holds back a batch until its B0), a block the executor
// refuses is the peer's failure, and the replica is fed the last block committed
// (Replica::on_synced_commit). ledgerd's SyncDriver (through its ConsensusLoop) and the
// simulator's SimHost both call this one component, so the simulator runs the node's sync
// commit path, not a copy of it.
//
// Pure: no socket, timer, thread, clock or log. The time comes in; what happened comes out as
// data (SyncApplied): notes to log, the blocks stored, whether the failure is fatal, and the
// replica's Actions for the shell to carry out through its ConsensusDriver.
//
// Thread-compatible: the event loop (or the simulator) calls it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ledger/consensus/replica.h"
#include "ledger/core/keys.h"
#include "ledger/core/status.h"
#include "ledger/node/block_sync.h"
#include "ledger/node/chain_view.h"
#include "ledger/node/commit_pipeline.h"
#include "ledger/storage/chain_store.h"

namespace ledger::node {

// What applying one sync response did.
struct SyncApplied {
  std::vector<SyncNote> notes;  // BlockSync's on the response, then on a refused commit
  // Newly stored, in height order; each batch was published once it was stored.
  std::vector<consensus::CommittedBlock> stored;
  // Blocks of the verified groups committed, those consensus had committed already included.
  std::uint64_t committed = 0;
  // The last block committed with its certificate (what the replica is fed), even when a later
  // group failed.
  std::optional<consensus::CommittedBlock> last;
  // OK, or the commit pipeline's error that stopped the commits. kIoError, kCorruption and
  // kInternal (a safety violation) are fatal; kResourceExhausted (this node's speculative state
  // full) is this node's and is only noted; any other (a state root that is not the state after
  // the parent, above all) is the peer's fault and was reported to BlockSync.
  Status status;
  bool fatal = false;  // the node must stop with `status`
  // Replica::on_synced_commit's output, when a replica was given and `last` is above its
  // committed height, unless fatal: carry it out through the ConsensusDriver.
  std::optional<consensus::Actions> replica_actions;
};

class SyncApplier {
 public:
  // Every reference must outlive this object.
  SyncApplier(BlockSync& sync, CommitPipeline& pipeline, ChainView& view)
      : sync_(sync), pipeline_(pipeline), view_(view) {}
  SyncApplier(const SyncApplier&) = delete;
  SyncApplier& operator=(const SyncApplier&) = delete;

  // A SyncResponse from `peer`, fields as received; `tip` is the chain store's committed tip
  // now. `replica` is null on a full node. Never fails as a call: errors are in the result.
  SyncApplied on_response(const PublicKey& peer, const SyncResponseMessage& response,
                          const storage::ChainTip& tip, SyncTime now, consensus::Replica* replica);

 private:
  // Commits and publishes `groups` in order; stops at the first error.
  Status commit(std::vector<SyncCommitGroup> groups, std::uint64_t current_round,
                SyncApplied& applied);

  BlockSync& sync_;
  CommitPipeline& pipeline_;
  ChainView& view_;
};

}  // namespace ledger::node
