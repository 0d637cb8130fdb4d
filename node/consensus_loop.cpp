#include "consensus_loop.h"

#include <spdlog/spdlog.h>

#include "ledger/core/assert.h"
#include "ledger/core/bytes.h"

namespace ledger::node {
namespace {

// A proposal whose timestamp is further ahead of this node's clock is refused.
constexpr std::uint64_t kBlockTimeAheadMaxMs = 30'000;

std::uint64_t wall_clock_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::string short_id(const Hash& id) {
  return to_hex(id.bytes).substr(0, 12);
}

}  // namespace

ConsensusLoop::ConsensusLoop(boost::asio::io_context& io, const NodeOptions& options,
                             consensus::ReplicaConfig replica_config,
                             storage::RocksChainStore& store, SignatureCache& signatures,
                             Mempool& mempool, ChainView& view, const std::atomic<bool>& stopping,
                             Hooks hooks)
    : io_(io),
      options_(options),
      replica_config_(std::move(replica_config)),
      store_(store),
      mempool_(mempool),
      view_(view),
      stopping_(stopping),
      hooks_(std::move(hooks)),
      speculative_(store, signatures.as_check(),
                   SpeculativeState::entries_for(replica_config_.pending_blocks_max)),
      checker_({options.genesis.chain_id, kBlockTimeAheadMaxMs}, signatures, speculative_),
      proposer_({options.genesis.consensus.block_limits(), options.genesis.validators.size(),
                 options.config.consensus.block_interval_ms,
                 options.config.consensus.empty_block_interval_ms},
                mempool, speculative_),
      pipeline_(store, speculative_, mempool),
      driver_(store.tree_store(), pipeline_, checker_, speculative_, *this),
      tick_timer_(io),
      payload_timer_(io) {}

// Recovery: the committed tip, the persisted tree and certificates, the safety data. The tip's
// commit certificate is a verified QC too: after block sync it may be the highest one known.
Status ConsensusLoop::restore(consensus::SafetyStore& safety) {
  std::size_t stale = 0;
  LEDGER_ASSIGN_OR_RETURN(
      auto recovery, load_recovery(store_, store_.tree_store(), replica_config_.genesis, stale));
  const std::uint64_t height = recovery.committed_root.header.height;
  const std::size_t recovered_blocks = recovery.blocks.size();
  LEDGER_ASSIGN_OR_RETURN(auto signer, Signer::create(options_.node_key));
  replica_.reset();
  speculative_.clear();
  pending_payload_.reset();
  payload_waits_for_work_ = false;
  LEDGER_ASSIGN_OR_RETURN(replica_, consensus::Replica::create(replica_config_, std::move(signer),
                                                               safety, std::move(recovery)));
  spdlog::info("consensus restored at height {} round {}: {} uncommitted blocks, {} stale dropped",
               height, replica_->current_round(), recovered_blocks, stale);
  return Status::ok();
}

void ConsensusLoop::start() {
  if (!replica_) return;  // a full node follows by block sync only
  next_tick_ = std::chrono::steady_clock::now();
  schedule_tick();
  handle(replica_->start());
}

void ConsensusLoop::stop() {
  tick_timer_.cancel();
  payload_timer_.cancel();
}

void ConsensusLoop::schedule_tick() {
  next_tick_ += std::chrono::milliseconds(options_.config.consensus.tick_ms);
  const auto now = std::chrono::steady_clock::now();
  if (next_tick_ < now) next_tick_ = now;  // after a stall, do not replay missed ticks in a burst
  tick_timer_.expires_at(next_tick_);
  tick_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error || stopping_) return;
    on_tick();
    if (!stopping_) schedule_tick();
  });
}

void ConsensusLoop::on_tick() {
  handle(replica_->on_tick());
  view_.set_round(replica_->current_round());
}

void ConsensusLoop::on_message(const PublicKey& from, const consensus::Message& message) {
  if (!replica_) return;
  handle(replica_->on_message(from, message));
  view_.set_round(replica_->current_round());
}

void ConsensusLoop::send(consensus::OutgoingMessage message) {
  std::vector<consensus::OutgoingMessage> one;
  one.push_back(std::move(message));
  hooks_.send(std::move(one));
}

// The replica's output contract, carried out by the driver; then what only the shell does:
// publish the tip, tell peers, log, arm the proposal timer.
void ConsensusLoop::handle(consensus::Actions actions) {
  if (stopping_) return;
  DriverOutcome outcome;
  const Status s = driver_.handle(*replica_, std::move(actions), wall_clock_ms(), outcome);
  published(outcome.committed);
  if (!s.is_ok()) return hooks_.fail(s);
  if (!outcome.committed.empty()) hooks_.committed();
  if (stopping_) return;
  log_rejections(outcome);
  if (outcome.payload_request) {
    pending_payload_ = outcome.payload_request;
    schedule_payload();
  }
}

SyncApplied ConsensusLoop::on_sync_response(BlockSync& sync, const PublicKey& peer,
                                            const SyncResponseMessage& response, SyncTime now) {
  SyncApplier applier(sync, pipeline_, view_);
  SyncApplied applied = applier.on_response(peer, response, *store_.tip(), now, replica_.get());
  log_committed(applied.stored);
  if (applied.replica_actions) {
    handle(std::move(*applied.replica_actions));
    applied.replica_actions.reset();
    view_.set_round(replica_->current_round());
  }
  return applied;
}

// Readers see a batch only now, all at once: the tip is published once, at the end of the last
// whole batch (ChainView::publish_batch).
void ConsensusLoop::published(const std::vector<consensus::CommittedBlock>& stored) {
  if (stored.empty()) return;
  view_.publish_batch(stored, current_round());
  log_committed(stored);
}

// One line per block; "batch=i/n" within a run of blocks that share a commit certificate.
void ConsensusLoop::log_committed(const std::vector<consensus::CommittedBlock>& stored) const {
  for (std::size_t first = 0, end = 0; first < stored.size(); first = end) {
    end = first + 1;
    while (end < stored.size() && stored[end].commit_cert == stored[first].commit_cert)
      ++end;
    const std::size_t size = end - first;
    for (std::size_t i = first; i < end; ++i) {
      const Block& block = stored[i].block;
      spdlog::info("committed height={} round={} txs={} id={} mempool={}{}", block.header.height,
                   block.header.round, block.transactions.size(), short_id(block.id()),
                   mempool_.size(),
                   size > 1 ? " batch=" + std::to_string(i - first + 1) + "/" + std::to_string(size)
                            : std::string());
    }
  }
}

void ConsensusLoop::log_rejections(const DriverOutcome& outcome) {
  for (const auto& rejection : outcome.rejections) {
    // A vote or timeout that arrives after its round was left is normal with several
    // validators (the quorum formed without it): not worth a warning.
    const bool routine = rejection.reason == consensus::RejectReason::kStaleRound;
    spdlog::log(routine ? spdlog::level::debug : spdlog::level::warn,
                "consensus rejected input from {}: {}: {}",
                to_hex(rejection.from.bytes).substr(0, 12),
                consensus::reject_reason_name(rejection.reason), rejection.message);
  }
  for (std::size_t i = 0; i < outcome.evidence; ++i) {
    spdlog::warn("equivocation evidence recorded ({} kept)", replica_->evidence().size());
  }
}

const Block* ConsensusLoop::find_uncommitted(const Hash& id) const {
  return replica_ ? replica_->tree().find(id) : nullptr;
}

// ---- Proposing --------------------------------------------------------------------------

void ConsensusLoop::wake_proposer() {
  if (!payload_waits_for_work_.exchange(false)) return;
  boost::asio::post(io_, [this] {
    if (pending_payload_) schedule_payload();
  });
}

void ConsensusLoop::schedule_payload() {
  if (!pending_payload_ || stopping_) return;
  const std::uint64_t now_ms = wall_clock_ms();
  auto schedule = proposer_.schedule(
      *pending_payload_, [this](const Hash& id) { return find_uncommitted(id); }, now_ms);
  if (!schedule.is_ok()) {
    spdlog::error("cannot execute the parent of round {}: {}", pending_payload_->round,
                  schedule.status().to_string());
    pending_payload_.reset();
    return;
  }
  const std::uint64_t ready_ms = schedule.value().ready_at_ms;
  payload_waits_for_work_ = !schedule.value().has_work;
  // Through the timer even when due now: the loop then serves ticks between blocks instead of
  // proposing recursively.
  payload_timer_.expires_after(
      std::chrono::milliseconds(ready_ms > now_ms ? ready_ms - now_ms : 0));
  payload_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error || stopping_) return;
    propose_payload();
  });
}

void ConsensusLoop::propose_payload() {
  if (!pending_payload_ || stopping_) return;
  const consensus::PayloadRequest request = *pending_payload_;
  pending_payload_.reset();
  payload_waits_for_work_ = false;
  payload_timer_.cancel();
  if (request.round != replica_->current_round()) return;  // the round moved on
  auto payload = proposer_.build(request, wall_clock_ms());
  if (!payload.is_ok()) {
    spdlog::error("cannot build the block of round {}: {}", request.round,
                  payload.status().to_string());
    return;
  }
  handle(replica_->on_payload(payload.value()));
}

}  // namespace ledger::node
