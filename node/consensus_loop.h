// The consensus side of the node's event loop (docs/architecture.md): the replica inside its
// host components, driven by two timers.
//
// Owns the Replica and what carries out its Actions (ConsensusDriver, PayloadChecker,
// SpeculativeState, Proposer, CommitPipeline), the tick timer (Replica::on_tick every tick_ms)
// and the proposal timer (the Proposer says when a requested payload is due).
//
// Inputs (event loop thread): restore() at open; start() once the loop runs; on_message() for
// each decoded consensus message from a validator; on_sync_response() for each sync response
// (committed through SyncApplier); wake_proposer() from any thread when a transaction was
// admitted.
// Outputs: consensus messages through Hooks::send, the published tip through the ChainView,
// Hooks::committed after every published batch, Hooks::fail on a fatal error (a failed durable
// write); log lines for rejections and evidence.
//
// A full node (its key is not a genesis validator) has no replica: only on_sync_response()
// works.
#pragma once

#include <utility>  // before Asio: Boost 1.74 Asio under GCC 12 in C++20 mode needs it

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "ledger/consensus/replica.h"
#include "ledger/node/chain_view.h"
#include "ledger/node/commit_pipeline.h"
#include "ledger/node/consensus_driver.h"
#include "ledger/node/mempool.h"
#include "ledger/node/node.h"
#include "ledger/node/payload_checker.h"
#include "ledger/node/proposer.h"
#include "ledger/node/signature_cache.h"
#include "ledger/node/speculative_state.h"
#include "ledger/node/sync_applier.h"
#include "ledger/storage/rocks_chain_store.h"

namespace ledger::node {

class ConsensusLoop final : public Outbox {
 public:
  struct Hooks {
    std::function<void(std::vector<consensus::OutgoingMessage>)> send;  // to the peers named
    std::function<void()> committed;                                    // a batch was published
    std::function<void(const Status&)> fail;  // fatal: stop the node with it
  };

  // Every reference must outlive this object; `stopping` is the node's shutdown flag.
  ConsensusLoop(boost::asio::io_context& io, const NodeOptions& options,
                consensus::ReplicaConfig replica_config, storage::RocksChainStore& store,
                SignatureCache& signatures, Mempool& mempool, ChainView& view,
                const std::atomic<bool>& stopping, Hooks hooks);
  ConsensusLoop(const ConsensusLoop&) = delete;
  ConsensusLoop& operator=(const ConsensusLoop&) = delete;

  // Builds the replica from what the stores hold: the committed tip, the persisted tree and
  // certificates, the safety data in `safety` (which must outlive this object).
  Status restore(consensus::SafetyStore& safety);
  // Arms the tick timer and starts the replica (no-op without a replica).
  void start();
  // Cancels both timers.
  void stop();

  void on_message(const PublicKey& from, const consensus::Message& message);
  // A sync response from `peer` to `sync`'s request: SyncApplier checks it, commits and
  // publishes the verified blocks and feeds the replica the last one; this logs each block
  // committed and carries out the replica's Actions. The caller logs the notes and stops the
  // node on a fatal result.
  SyncApplied on_sync_response(BlockSync& sync, const PublicKey& peer,
                               const SyncResponseMessage& response, SyncTime now);
  // Thread-safe: a transaction was admitted; a leader holding back an empty block proposes now.
  void wake_proposer();

  // The Outbox of the driver: one message, sent through Hooks::send.
  void send(consensus::OutgoingMessage message) override;

  const consensus::Replica* replica() const { return replica_.get(); }
  consensus::Replica* replica() { return replica_.get(); }
  const consensus::ReplicaConfig& replica_config() const { return replica_config_; }
  std::uint64_t current_round() const { return replica_ ? replica_->current_round() : 0; }
  // Carries out `actions` (fatal errors go to Hooks::fail).
  void handle(consensus::Actions actions);

 private:
  void schedule_tick();
  void on_tick();
  void log_rejections(const DriverOutcome& outcome);
  void schedule_payload();
  void propose_payload();
  // Publishes the end of the last whole batch of `stored`, and a log line per block.
  void published(const std::vector<consensus::CommittedBlock>& stored);
  void log_committed(const std::vector<consensus::CommittedBlock>& stored) const;
  const Block* find_uncommitted(const Hash& id) const;

  boost::asio::io_context& io_;
  const NodeOptions& options_;
  consensus::ReplicaConfig replica_config_;
  storage::RocksChainStore& store_;
  Mempool& mempool_;
  ChainView& view_;
  const std::atomic<bool>& stopping_;
  Hooks hooks_;

  SpeculativeState speculative_;
  PayloadChecker checker_;
  Proposer proposer_;
  CommitPipeline pipeline_;
  ConsensusDriver driver_;
  std::unique_ptr<consensus::Replica> replica_;  // null on a full node

  boost::asio::steady_timer tick_timer_;
  boost::asio::steady_timer payload_timer_;
  std::chrono::steady_clock::time_point next_tick_;
  std::optional<consensus::PayloadRequest> pending_payload_;
  std::atomic<bool> payload_waits_for_work_{false};  // an empty block is being delayed
};

}  // namespace ledger::node
