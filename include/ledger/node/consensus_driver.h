// The consensus driver: carries out a replica's Actions in the order the output contract
// requires (include/ledger/consensus/replica.h): persist (the tree store; the safety data is
// already saved), then send (the Outbox), then commit (the CommitPipeline), then forget blocks
// that left the tree; and it answers the replica's payload checks at once with the
// PayloadChecker, feeding the verdict back as a new input (docs/architecture.md).
//
// The driver reads no clock and owns no socket: the shell (Node, or the simulator) passes the
// time in and implements the Outbox. Timers (ticks, the proposal delay) are the shell's.
//
// Thread-compatible: the event loop (or the simulator) calls it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "ledger/consensus/replica.h"
#include "ledger/consensus/tree_store.h"
#include "ledger/node/commit_pipeline.h"
#include "ledger/node/payload_checker.h"
#include "ledger/node/speculative_state.h"
#include "ledger/storage/chain_store.h"

namespace ledger::node {

// Where the driver sends consensus messages (the shell's network).
class Outbox {
 public:
  virtual ~Outbox() = default;
  virtual void send(consensus::OutgoingMessage message) = 0;
};

// What a handle() call did, for the shell to publish and log.
struct DriverOutcome {
  // Newly stored, in order, all in one synced write: publish the tip once, after the last.
  std::vector<consensus::CommittedBlock> committed;
  std::optional<consensus::PayloadRequest> payload_request;
  std::vector<consensus::Rejection> rejections;
  std::size_t evidence = 0;  // equivocations recorded
};

class ConsensusDriver {
 public:
  // Every reference must outlive the driver.
  ConsensusDriver(consensus::TreeStore& tree_store, CommitPipeline& pipeline,
                  PayloadChecker& checker, SpeculativeState& speculative, Outbox& outbox);

  // Carries out `actions`, which `replica` returned, and appends to `outcome`. Errors are fatal
  // (a failed synced write, a safety violation): the shell must stop; nothing after the failing
  // step was done (in particular nothing was sent if persisting failed).
  Status handle(consensus::Replica& replica, consensus::Actions actions, std::uint64_t now_ms,
                DriverOutcome& outcome);

 private:
  consensus::TreeStore& tree_store_;
  CommitPipeline& pipeline_;
  PayloadChecker& checker_;
  SpeculativeState& speculative_;
  Outbox& outbox_;
};

// What a replica restarts from (consensus::RecoveryData): the committed tip of `chain`, the tree
// store's blocks above it and its certificates. The tip's commit certificate is a verified QC
// too: after block sync it may be the highest one known. Blocks at or below the committed round
// can never be used again: they are deleted from the tree store. `stale` receives their number.
StatusOr<consensus::RecoveryData> load_recovery(const storage::ChainStore& chain,
                                                consensus::TreeStore& tree_store,
                                                const Block& genesis, std::size_t& stale);

}  // namespace ledger::node
