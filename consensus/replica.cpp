// Replica: construction, proposals, votes, payloads and the timer. Certificates and commits are
// in replica_certificates.cpp, block fetching in replica_fetch.cpp.
#include "ledger/consensus/replica.h"

#include <algorithm>

#include "ledger/core/chain_id.h"

namespace ledger::consensus {
namespace {

std::string str(std::uint64_t v) {
  return std::to_string(v);
}

}  // namespace

const char* reject_reason_name(RejectReason reason) {
  switch (reason) {
    case RejectReason::kMalformed:
      return "malformed";
    case RejectReason::kWrongChain:
      return "wrong_chain";
    case RejectReason::kNonValidator:
      return "non_validator";
    case RejectReason::kBadSignature:
      return "bad_signature";
    case RejectReason::kInvalidCertificate:
      return "invalid_certificate";
    case RejectReason::kWrongLeader:
      return "wrong_leader";
    case RejectReason::kStaleRound:
      return "stale_round";
    case RejectReason::kFutureRound:
      return "future_round";
    case RejectReason::kNotNextLeader:
      return "not_next_leader";
    case RejectReason::kEquivocation:
      return "equivocation";
    case RejectReason::kInvalidBlock:
      return "invalid_block";
    case RejectReason::kUnsolicited:
      return "unsolicited";
    case RejectReason::kResourceExhausted:
      return "resource_exhausted";
    case RejectReason::kConflictsWithCommit:
      return "conflicts_with_commit";
    case RejectReason::kNotChecked:
      return "not_checked";
    case RejectReason::kSafetyRefused:
      return "safety_refused";
    case RejectReason::kBadPayload:
      return "bad_payload";
    case RejectReason::kInvalidPayload:
      return "invalid_payload";
  }
  return "unknown";
}

bool payload_verdict_refuses(const Status& verdict) {
  // Only the codes the host uses for "this block is wrong" refuse. Treating a transient failure
  // as a refusal loses the vote for the round; treating a refusal as transient costs at most
  // payload_check_attempts_max checks, and never a vote (each check refuses again).
  return verdict.code() == StatusCode::kInvalidArgument ||
         verdict.code() == StatusCode::kFailedPrecondition;
}

Status ReplicaConfig::validate() const {
  LEDGER_RETURN_IF_ERROR(validate_chain_id(chain_id).with_context("chain_id"));
  if (validators.size() == 0) return Status::invalid_argument("validators: empty");
  if (genesis.header.round != 0 || genesis.header.height != 0) {
    return Status::invalid_argument("genesis: must have round 0 and height 0");
  }
  if (genesis.header.chain_id != chain_id) {
    return Status::invalid_argument("genesis: chain id differs from chain_id");
  }
  LEDGER_RETURN_IF_ERROR(pacemaker.validate().with_context("pacemaker"));
  if (pending_blocks_max < 4) return Status::invalid_argument("pending_blocks_max: must be >= 4");
  if (vote_rounds_max < 2) return Status::invalid_argument("vote_rounds_max: must be >= 2");
  if (verified_certs_max < 1) return Status::invalid_argument("verified_certs_max: must be >= 1");
  if (failed_certs_max < 1) return Status::invalid_argument("failed_certs_max: must be >= 1");
  if (evidence_max < 1) return Status::invalid_argument("evidence_max: must be >= 1");
  if (proposals_seen_max < 2) return Status::invalid_argument("proposals_seen_max: must be >= 2");
  if (fetch_blocks_max < 1) return Status::invalid_argument("fetch_blocks_max: must be >= 1");
  if (fetches_inflight_max < 1) {
    return Status::invalid_argument("fetches_inflight_max: must be >= 1");
  }
  if (fetch_retry_ticks < 1) return Status::invalid_argument("fetch_retry_ticks: must be >= 1");
  if (fetch_attempts_max < 1) return Status::invalid_argument("fetch_attempts_max: must be >= 1");
  if (payload_check_attempts_max < 1) {
    return Status::invalid_argument("payload_check_attempts_max: must be >= 1");
  }
  return Status::ok();
}

MessageLimits ReplicaConfig::message_limits() const {
  MessageLimits limits;
  limits.block = block_limits;
  limits.fetch_blocks_max = fetch_blocks_max;
  limits.message_bytes_max = block_limits.bytes_max * fetch_blocks_max + 4096;
  return limits;
}

RecoveryData Replica::genesis_recovery(const ReplicaConfig& config) {
  RecoveryData r;
  r.committed_root = config.genesis;
  r.high_qc = genesis_qc(config.genesis);
  return r;
}

StatusOr<std::unique_ptr<Replica>> Replica::create(ReplicaConfig config, Signer signer,
                                                   SafetyStore& safety_store, RecoveryData recovery,
                                                   std::unique_ptr<LeaderElection> leaders) {
  LEDGER_RETURN_IF_ERROR(config.validate().with_context("replica config"));
  if (!config.validators.contains(signer.public_key())) {
    return Status::invalid_argument("signer " + signer.public_key().hex() +
                                    " is not in the validator set");
  }
  if (recovery.committed_root.header.chain_id != config.chain_id) {
    return Status::invalid_argument("recovery: committed root is of another chain");
  }
  CertificateVerifier verifier(config.chain_id, config.validators, genesis_qc(config.genesis),
                               config.verified_certs_max, config.failed_certs_max);
  if (Status s = verifier.verify_qc(recovery.high_qc); !s.is_ok()) {
    return s.with_context("recovery: high QC");
  }
  if (recovery.high_tc) {
    if (Status s = verifier.verify_tc(*recovery.high_tc); !s.is_ok()) {
      return s.with_context("recovery: high TC");
    }
  }
  const std::uint64_t tc_round = recovery.high_tc ? recovery.high_tc->round : 0;
  if (!checked_add(std::max(recovery.high_qc.round(), tc_round), 1)) {
    return Status::invalid_argument("recovery: certificate round overflows");
  }
  LEDGER_ASSIGN_OR_RETURN(SafetyRules safety, SafetyRules::create(std::move(signer), safety_store,
                                                                  std::move(verifier)));
  if (!leaders) leaders = std::make_unique<RoundRobinLeaders>(config.validators);
  return std::unique_ptr<Replica>(
      new Replica(std::move(config), std::move(safety), std::move(recovery), std::move(leaders)));
}

Replica::Replica(ReplicaConfig config, SafetyRules safety, RecoveryData recovery,
                 std::unique_ptr<LeaderElection> leaders)
    : config_(std::move(config)),
      safety_(std::move(safety)),
      leaders_(std::move(leaders)),
      tree_(std::move(recovery.committed_root), config_.pending_blocks_max),
      timer_(config_.pacemaker),
      pending_(config_.validators, config_.vote_rounds_max),
      high_qc_(std::move(recovery.high_qc)),
      high_tc_(std::move(recovery.high_tc)) {
  // Rebuild the tree: parents before children, so insert in round order; blocks that do not
  // connect to the committed root (pruned before the crash) are dropped.
  std::sort(recovery.blocks.begin(), recovery.blocks.end(),
            [](const Block& a, const Block& b) { return a.header.round < b.header.round; });
  for (const Block& b : recovery.blocks) {
    if (b.header.round <= tree_.committed_round()) continue;
    // Persisted blocks were accepted before, possibly with the certified-chain allowance.
    if (tree_.insert(b, b.id(), /*extends_certified=*/true).is_ok() &&
        b.header.parent_qc.round() > high_qc_.round()) {
      high_qc_ = b.header.parent_qc;  // was verified before it was persisted
    }
  }
  // A vote saved before the host persisted its high QC (a crash between the two) leaves the QC
  // that vote saw only in the safety data.
  const auto& one_chain_qc = safety_.data().one_chain_qc;
  if (one_chain_qc && one_chain_qc->round() > high_qc_.round()) high_qc_ = *one_chain_qc;
  const std::uint64_t tc_round = high_tc_ ? high_tc_->round : 0;
  current_round_ = std::max(high_qc_.round(), tc_round) + 1;  // checked in create()
  pending_.set_lowest_round(current_round_);
}

Actions Replica::start() {
  Actions out;
  timer_.arm(rounds_since_commit());
  maybe_request_payload(out);
  return out;
}

void Replica::reject(Actions& out, RejectReason reason, const PublicKey& from,
                     std::string message) {
  out.rejections.push_back(Rejection{reason, from, std::move(message)});
}

void Replica::record_evidence(Actions& out, Evidence evidence) {
  if (evidence_.size() >= config_.evidence_max) evidence_.pop_front();
  evidence_.push_back(evidence);
  out.evidence.push_back(std::move(evidence));
  LEDGER_ASSERT(evidence_.size() <= config_.evidence_max);
}

Actions Replica::on_message(const PublicKey& from, const Message& message) {
  struct Dispatch {
    Replica& r;
    const PublicKey& from;
    Actions operator()(const Proposal& m) { return r.on_proposal(from, m); }
    Actions operator()(const Vote& m) { return r.on_vote(from, m); }
    Actions operator()(const TimeoutMessage& m) { return r.on_timeout(from, m); }
    Actions operator()(const TimeoutCert& m) { return r.on_timeout_cert(from, m); }
    Actions operator()(const BlockRequest& m) { return r.on_block_request(from, m); }
    Actions operator()(const BlockResponse& m) { return r.on_block_response(from, m); }
  };
  return std::visit(Dispatch{*this, from}, message);
}

// ---- Proposals ----------------------------------------------------------------------------

bool Replica::check_proposal(Actions& out, const PublicKey& from, const Proposal& p,
                             const Hash& id) {
  const BlockHeader& h = p.block.header;
  if (h.chain_id != config_.chain_id) {
    reject(out, RejectReason::kWrongChain, from, "proposal for chain " + h.chain_id);
    return false;
  }
  if (h.round == 0 || h.height == 0) {
    reject(out, RejectReason::kMalformed, from, "proposal with round or height 0");
    return false;
  }
  if (!config_.validators.contains(h.proposer)) {
    reject(out, RejectReason::kNonValidator, from, "proposal by non-validator " + h.proposer.hex());
    return false;
  }
  if (h.proposer != leader(h.round)) {
    reject(out, RejectReason::kWrongLeader, from,
           "proposal for round " + str(h.round) + " by " + h.proposer.hex() + ", leader is " +
               leader(h.round).hex());
    return false;
  }
  if (!may_check(out, from, "proposal")) return false;
  if (!verify_signature(h.proposer, proposal_signing_hash(config_.chain_id, id, p.tc),
                        p.signature)) {
    charge_failed_check(from);
    reject(out, RejectReason::kBadSignature, from, "bad proposal signature, round " + str(h.round));
    return false;
  }
  const QuorumCert& qc = h.parent_qc;
  const bool qc_fits = h.parent_id == qc.block_id() && qc.round() < h.round;
  const bool needs_tc = qc_fits && qc.round() + 1 != h.round;
  if (!qc_fits || (needs_tc && (!p.tc || p.tc->round + 1 != h.round)) || (!needs_tc && p.tc)) {
    reject(out, RejectReason::kMalformed, from,
           "proposal round " + str(h.round) + ": parent, QC round " + str(qc.round()) +
               " and TC do not fit together");
    return false;
  }
  if (p.block.transactions.size() > config_.block_limits.transactions_max ||
      transactions_root(p.block.transactions) != h.transactions_root) {
    reject(out, RejectReason::kMalformed, from, "proposal transactions do not match the root");
    return false;
  }
  // Equivocation: a second, different block signed by the leader for the same round. Checked
  // before the certificates: the leader signed both, so whatever their certificates, the second
  // is refused, and a leader cannot make this replica verify a quorum of signatures per message.
  SignedHeader signed_header{h, p.tc, p.signature};
  auto seen = proposals_seen_.find(h.round);
  if (seen != proposals_seen_.end()) {
    if (seen->second.id == id) {  // the same proposal again
      // Its check failed transiently: this copy is the occasion to check again (the copy itself
      // is not used; the one kept is what the leader signed, like this one).
      if (checking_proposal_ && checking_proposal_->id == id) retry_payload_check(out);
      return false;
    }
    record_evidence(out, ProposalEquivocation{seen->second.signed_header, signed_header});
    reject(out, RejectReason::kEquivocation, from,
           "leader " + h.proposer.hex() + " proposed two blocks in round " + str(h.round));
    return false;
  }
  if (h.round + config_.proposals_seen_max > current_round_) {  // else too old to matter
    proposals_seen_.emplace(h.round, FirstProposal{std::move(signed_header), id});
    // Over the bound, the entry farthest from the current round goes: rounds far ahead first
    // (recorded before their certificates are verified, a leader could otherwise sign its way
    // through future rounds and push the current one out), then the oldest.
    while (proposals_seen_.size() > config_.proposals_seen_max) {
      auto last = std::prev(proposals_seen_.end());
      if (last->first > current_round_ + 1) {
        proposals_seen_.erase(last);
      } else {
        proposals_seen_.erase(proposals_seen_.begin());
      }
    }
  }
  // A proposal of a past round cannot be voted on; only certificates above this replica's make
  // it worth checking. Older rounds are not remembered (proposals_seen_max), so their leader
  // could otherwise sign any number of blocks, each with another valid signer subset of its QC:
  // a quorum of checks each, all valid, so its check budget would never be spent.
  const bool newer_certificate =
      qc.round() > high_qc_.round() || (p.tc && (!high_tc_ || p.tc->round > high_tc_->round));
  if (h.round < current_round_ && !newer_certificate) {
    reject(out, RejectReason::kStaleRound, from,
           "proposal for round " + str(h.round) + ", current round is " + str(current_round_));
    return false;
  }
  if (!may_check(out, from, "proposal QC", safety_.verifier().has_verdict(qc))) return false;
  const std::uint64_t checks = safety_.verifier().checks_run();
  if (Status s = safety_.verifier().verify_qc(qc); !s.is_ok()) {
    charge_failed_check(from, checks);
    reject(out, RejectReason::kInvalidCertificate, from, "proposal QC: " + s.message());
    return false;
  }
  if (p.tc) {
    if (!may_check(out, from, "proposal TC", safety_.verifier().has_verdict(*p.tc))) return false;
    if (Status s = safety_.verifier().verify_tc(*p.tc); !s.is_ok()) {
      charge_failed_check(from, checks);
      reject(out, RejectReason::kInvalidCertificate, from, "proposal TC: " + s.message());
      return false;
    }
  }
  return true;
}

Actions Replica::on_proposal(const PublicKey& from, const Proposal& proposal) {
  Actions out;
  const Hash id = proposal.block.id();
  if (check_proposal(out, from, proposal, id)) process_proposal(out, from, proposal, id);
  return out;
}

void Replica::process_proposal(Actions& out, const PublicKey& from, const Proposal& p,
                               const Hash& id) {
  const BlockHeader& h = p.block.header;
  // Blocks its certificates name that this replica lacks are asked of the proposer, whose
  // signature covers them, not of `from`: any validator can relay a signed proposal first and
  // then not answer (the fetch would wait fetch_retry_ticks, and the vote be lost).
  apply_qc(out, h.parent_qc, h.proposer);
  if (p.tc) apply_tc(out, *p.tc, h.proposer);
  if (h.round < current_round_) {
    reject(out, RejectReason::kStaleRound, from,
           "proposal for round " + str(h.round) + ", current round is " + str(current_round_));
    return;
  }
  if (h.round > current_round_) {  // cannot happen: a QC or TC of round-1 came with it
    reject(out, RejectReason::kFutureRound, from, "proposal for round " + str(h.round));
    return;
  }
  if (!tree_.contains(h.parent_id)) {
    if (h.parent_qc.round() <= tree_.committed_round()) {
      reject(out, RejectReason::kConflictsWithCommit, from,
             "proposal extends a block that is not on the committed chain");
      return;
    }
    waiting_proposal_ = std::make_pair(from, p);
    request_block(out, h.parent_id, h.parent_qc.round(), h.proposer);  // as above
    return;
  }
  if (config_.payload_checks && h.proposer != public_key()) {
    checking_proposal_ = PayloadCheckState{from, p, id};
    out.payload_check = PayloadCheck{p.block, id};
    return;
  }
  accept_proposal(out, from, p, id);
}

void Replica::accept_proposal(Actions& out, const PublicKey& from, const Proposal& p,
                              const Hash& id) {
  if (!insert_block(out, p.block, id, from)) return;
  vote_on(out, p.block, id, p.tc);
}

Actions Replica::on_payload_checked(const Hash& id, const Status& verdict) {
  Actions out;
  if (!checking_proposal_ || checking_proposal_->id != id || !checking_proposal_->awaiting) {
    return out;
  }
  const std::uint64_t round = checking_proposal_->proposal.block.header.round;
  if (!verdict.is_ok() && !payload_verdict_refuses(verdict)) {
    // This node could not judge the block: keep it, to check again (retry_payload_check).
    checking_proposal_->awaiting = false;
    if (checking_proposal_->attempts >= config_.payload_check_attempts_max) {
      reject(out, RejectReason::kResourceExhausted, checking_proposal_->from,
             "proposal " + id.hex() + " of round " + str(round) + ": payload check failed " +
                 str(checking_proposal_->attempts) + " times (payload_check_attempts_max), " +
                 "last: " + verdict.to_string());
      checking_proposal_.reset();
    }
    return out;
  }
  PayloadCheckState state = std::move(*checking_proposal_);
  checking_proposal_.reset();
  if (!verdict.is_ok()) {
    reject(out, RejectReason::kInvalidPayload, state.from,
           "proposal " + id.hex() + " of round " + str(round) + ": " + verdict.message());
    return out;
  }
  if (round != current_round_) return out;  // the round moved on while the host checked
  if (!tree_.contains(state.proposal.block.header.parent_id)) return out;  // evicted meanwhile
  accept_proposal(out, state.from, state.proposal, id);
  return out;
}

void Replica::retry_payload_check(Actions& out) {
  if (!checking_proposal_ || checking_proposal_->awaiting) return;
  PayloadCheckState& state = *checking_proposal_;
  LEDGER_ASSERT(state.attempts < config_.payload_check_attempts_max);
  if (state.proposal.block.header.round != current_round_ || out.payload_check) return;
  ++state.attempts;
  state.awaiting = true;
  out.payload_check = PayloadCheck{state.proposal.block, state.id};
}

bool Replica::vote_on(Actions& out, const Block& block, const Hash& id,
                      const std::optional<TimeoutCert>& tc) {
  const std::uint64_t round = block.header.round;
  if (round != current_round_) {
    reject(out, RejectReason::kStaleRound, public_key(),
           "no vote for block " + id.hex() + " of round " + str(round) + ": current round is " +
               str(current_round_));
    return false;
  }
  auto vote = safety_.sign_vote(block.header, id, tc);
  if (!vote.is_ok()) {
    reject(out, RejectReason::kSafetyRefused, public_key(),
           std::string("vote in round ") + str(round) +
               " refused: " + safety_error_name(vote.error().code) + ": " + vote.error().message);
    return false;
  }
  const auto next = checked_add(round, 1);
  if (!next) return true;  // no next leader to send to: the vote stays unsent
  const PublicKey& next_leader = leader(*next);
  if (next_leader == public_key()) {
    handle_vote(out, public_key(), vote.value());
  } else {
    out.messages.push_back(OutgoingMessage{next_leader, vote.value()});
  }
  return true;
}

// ---- Votes --------------------------------------------------------------------------------

Actions Replica::on_vote(const PublicKey& from, const Vote& vote) {
  Actions out;
  handle_vote(out, from, vote);
  return out;
}

void Replica::handle_vote(Actions& out, const PublicKey& from, const Vote& vote) {
  const std::uint64_t round = vote.data.round;
  const auto next = checked_add(round, 1);
  if (!next || leader(*next) != public_key()) {
    reject(out, RejectReason::kNotNextLeader, from,
           "vote for round " + str(round) + " sent to a replica that does not lead the next");
    return;
  }
  if (round < current_round_) {
    reject(out, RejectReason::kStaleRound, from,
           "vote for round " + str(round) + ", current round is " + str(current_round_));
    return;
  }
  if (pending_.contains(vote)) return;  // duplicate: already verified and counted
  // Before the signature check: a replayed far-future vote must cost nothing.
  if (!pending_.in_window(round)) {
    reject(out, RejectReason::kFutureRound, from,
           "vote for round " + str(round) + " is beyond the vote window");
    return;
  }
  if (!may_check(out, from, "vote")) return;
  if (Status s = safety_.verifier().verify_vote(vote); !s.is_ok()) {
    const bool validator = config_.validators.contains(vote.signer);
    if (validator) charge_failed_check(from);  // a non-validator signer costs no check
    reject(out, validator ? RejectReason::kBadSignature : RejectReason::kNonValidator, from,
           s.message());
    return;
  }
  VoteAddition added = pending_.add_vote(vote);
  switch (added.result) {
    case AddResult::kAdded:
    case AddResult::kDuplicate:
      return;
    case AddResult::kOutOfWindow:
      reject(out, RejectReason::kFutureRound, from,
             "vote for round " + str(round) + " is beyond the vote window");
      return;
    case AddResult::kEquivocation:
      record_evidence(out, VoteEquivocation{*added.conflicting, vote});
      reject(out, RejectReason::kEquivocation, from,
             "validator " + vote.signer.hex() + " voted twice in round " + str(round));
      return;
    case AddResult::kQuorum:
      on_qc_formed(out, *added.qc, from);
      return;
  }
}

// ---- Leading a round ----------------------------------------------------------------------

void Replica::maybe_request_payload(Actions& out) {
  if (leader(current_round_) != public_key()) return;
  if (payload_requested_round_ == current_round_ || proposed_round_ == current_round_) return;
  // Already voted or timed out here (e.g. restarted in this round): SafetyRules would refuse.
  if (safety_.data().last_voted_round >= current_round_) return;
  const Block* parent = tree_.find(high_qc_.block_id());
  if (parent == nullptr) {
    request_block(out, high_qc_.block_id(), high_qc_.round(), public_key());
    return;
  }
  payload_requested_round_ = current_round_;
  out.payload_request = PayloadRequest{current_round_, high_qc_.block_id(), parent->header.height,
                                       parent->header.timestamp_ms};
}

Actions Replica::on_payload(const Payload& payload) {
  Actions out;
  const Block* parent = tree_.find(high_qc_.block_id());
  std::string problem;
  if (payload.round != current_round_) {
    problem =
        "payload for round " + str(payload.round) + ", current round is " + str(current_round_);
  } else if (payload_requested_round_ != current_round_ || proposed_round_ == current_round_) {
    problem = "no payload was requested for round " + str(payload.round);
  } else if (parent == nullptr) {
    problem = "the parent block is not in the tree any more";
  } else if (payload.timestamp_ms <= parent->header.timestamp_ms) {
    problem = "timestamp " + str(payload.timestamp_ms) + " is not after the parent's " +
              str(parent->header.timestamp_ms);
  } else if (payload.transactions.size() > config_.block_limits.transactions_max) {
    problem = "more transactions than block_transactions_max";
  } else if (parent->header.height == UINT64_MAX) {
    problem = "height overflows";
  }
  if (!problem.empty()) {
    reject(out, RejectReason::kBadPayload, public_key(), problem);
    return out;
  }
  Block block;
  BlockHeader& h = block.header;
  h.chain_id = config_.chain_id;
  h.height = parent->header.height + 1;
  h.round = current_round_;
  h.parent_id = high_qc_.block_id();
  h.parent_qc = high_qc_;
  h.proposer = public_key();
  h.timestamp_ms = payload.timestamp_ms;
  block.transactions = payload.transactions;
  h.transactions_root = transactions_root(block.transactions);
  h.state_root = payload.state_root;
  std::optional<TimeoutCert> tc;
  if (high_qc_.round() + 1 != current_round_) {
    LEDGER_ASSERT(high_tc_ && high_tc_->round + 1 == current_round_);
    tc = high_tc_;
  }
  const Hash id = block.id();
  auto signature = safety_.sign_proposal(h, id, tc);
  proposed_round_ = current_round_;
  if (!signature.is_ok()) {
    reject(out, RejectReason::kSafetyRefused, public_key(),
           std::string("proposal refused: ") + safety_error_name(signature.error().code) + ": " +
               signature.error().message);
    return out;
  }
  Proposal proposal{std::move(block), std::move(tc), signature.value()};
  proposals_seen_.emplace(
      proposal.block.header.round,
      FirstProposal{SignedHeader{proposal.block.header, proposal.tc, proposal.signature}, id});
  if (!insert_block(out, proposal.block, id, public_key())) return out;
  // The proposal leaves together with the leader's own vote, which SafetyRules persisted; if
  // the vote is refused, the proposal is not sent either (a restart cannot re-propose).
  const std::size_t proposal_index = out.messages.size();
  out.messages.push_back(OutgoingMessage{std::nullopt, proposal});
  if (!vote_on(out, proposal.block, id, proposal.tc)) {
    out.messages.erase(out.messages.begin() + static_cast<std::ptrdiff_t>(proposal_index));
  }
  return out;
}

// ---- Time ---------------------------------------------------------------------------------

Actions Replica::on_tick() {
  Actions out;
  const bool fired = timer_.tick();
  retry_fetches(out);
  if (fired) local_timeout(out);
  retry_payload_check(out);  // after the timer: a round it ended drops the proposal
  return out;
}

}  // namespace ledger::consensus
