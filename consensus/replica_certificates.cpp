// Replica: applying verified QCs and TCs (rounds, high QC/TC, the 2-chain commit rule), forming
// certificates, and timing out.
#include <algorithm>

#include "ledger/consensus/replica.h"

namespace ledger::consensus {
namespace {

std::string str(std::uint64_t v) {
  return std::to_string(v);
}

}  // namespace

std::uint64_t Replica::rounds_since_commit() const {
  // In steady state a block commits two rounds after its own (2-chain), so the timer backs off
  // only for rounds beyond those two.
  const std::uint64_t committed = tree_.committed_round();
  return current_round_ > committed + 2 ? current_round_ - committed - 2 : 0;
}

// `qc` is verified. Moves high_qc, records a 2-chain commit, fetches the block if unknown.
void Replica::apply_qc(Actions& out, const QuorumCert& qc, const PublicKey& from) {
  if (qc.round() > high_qc_.round()) {
    high_qc_ = qc;
    out.high_qc_to_persist = qc;
  }
#ifdef LEDGER_TEST_BREAK_COMMIT_RULE
  // Negative control only (tests/sim): a 1-chain rule, any QC commits the block it certifies.
  // The simulator's agreement check must catch it.
  if (qc.round() > tree_.committed_round() &&
      (!pending_commit_ || qc.round() > pending_commit_->round())) {
    pending_commit_ = qc;
  }
#endif
  // 2-chain: QC(B1) with B1.round == B0.round + 1 commits B0 (qc.parent_id) and its ancestors.
  if (qc.round() > 0 && qc.data.parent_round + 1 == qc.round() &&
      qc.data.parent_round > tree_.committed_round() &&
      (!pending_commit_ || qc.round() > pending_commit_->round())) {
    pending_commit_ = qc;
  }
  if (qc.round() > tree_.committed_round() && !tree_.contains(qc.block_id()) &&
      !orphans_.contains(qc.block_id())) {
    request_block(out, qc.block_id(), qc.round(), from);
  }
  try_commit(out);
  advance_round(out);
}

// `tc` is verified.
void Replica::apply_tc(Actions& out, const TimeoutCert& tc, const PublicKey& from) {
  apply_qc(out, tc.high_qc, from);
  if (!high_tc_ || tc.round > high_tc_->round) {
    high_tc_ = tc;
    out.high_tc_to_persist = tc;
  }
  advance_round(out);
}

void Replica::advance_round(Actions& out) {
  const std::uint64_t tc_round = high_tc_ ? high_tc_->round : 0;
  const auto next = checked_add(std::max(high_qc_.round(), tc_round), 1);
  if (!next || *next <= current_round_) return;
  current_round_ = *next;
  timer_.arm(rounds_since_commit());
  pending_.set_lowest_round(current_round_);
  if (waiting_proposal_ && waiting_proposal_->second.block.header.round < current_round_) {
    waiting_proposal_.reset();
  }
  if (checking_proposal_ && checking_proposal_->proposal.block.header.round < current_round_) {
    checking_proposal_.reset();
  }
  maybe_request_payload(out);
  LEDGER_ASSERT(current_round_ > high_qc_.round());
  LEDGER_ASSERT(!high_tc_ || current_round_ > high_tc_->round);
}

void Replica::try_commit(Actions& out) {
  if (!pending_commit_) return;
  const QuorumCert qc = *pending_commit_;
#ifdef LEDGER_TEST_BREAK_COMMIT_RULE
  const std::uint64_t target_round = qc.round();
  const Hash& target = qc.block_id();
#else
  const std::uint64_t target_round = qc.data.parent_round;
  const Hash& target = qc.data.parent_id;
#endif
  if (target_round <= tree_.committed_round()) {
    pending_commit_.reset();
    return;
  }
  if (!tree_.contains(target)) return;  // being fetched (apply_qc asked for its child)
  std::vector<const Block*> path = tree_.path_from_root(target);
  LEDGER_ASSERT(!path.empty());
  for (const Block* b : path)
    out.commits.push_back(CommittedBlock{*b, qc});
  std::vector<Hash> forgotten = tree_.commit(target);
  out.blocks_to_forget.insert(out.blocks_to_forget.end(), forgotten.begin(), forgotten.end());
  pending_commit_.reset();
  const std::uint64_t committed = tree_.committed_round();
  std::erase_if(orphans_,
                [committed](const auto& entry) { return entry.second.header.round <= committed; });
  LEDGER_ASSERT(tree_.root_id() == target);
}

void Replica::on_qc_formed(Actions& out, const QuorumCert& qc, const PublicKey& from) {
  // Formed from verified votes; remembered so that proposals carrying it are not re-verified.
  if (Status s = safety_.verifier().verify_qc(qc); !s.is_ok()) {
    reject(out, RejectReason::kInvalidCertificate, from, "locally formed QC: " + s.message());
    return;
  }
  apply_qc(out, qc, from);
}

void Replica::on_tc_formed(Actions& out, const TimeoutCert& tc) {
  if (Status s = safety_.verifier().verify_tc(tc); !s.is_ok()) {
    reject(out, RejectReason::kInvalidCertificate, public_key(),
           "locally formed TC: " + s.message());
    return;
  }
  apply_tc(out, tc, public_key());
  out.messages.push_back(OutgoingMessage{std::nullopt, tc});
}

void Replica::local_timeout(Actions& out) {
  auto timeout = safety_.sign_timeout(current_round_, high_qc_, high_tc_);
  if (!timeout.is_ok()) {
    reject(out, RejectReason::kSafetyRefused, public_key(),
           "timeout in round " + str(current_round_) + " refused: " +
               safety_error_name(timeout.error().code) + ": " + timeout.error().message);
    return;
  }
  out.messages.push_back(OutgoingMessage{std::nullopt, TimeoutMessage{timeout.value(), high_tc_}});
  TimeoutAddition added = pending_.add_timeout(timeout.value());
  if (added.result == AddResult::kQuorum) on_tc_formed(out, *added.tc);
}

// Cheap checks first: a timeout costs at most one signature verification unless it brings a
// QC or TC this replica has not verified yet.
Actions Replica::on_timeout(const PublicKey& from, const TimeoutMessage& message) {
  Actions out;
  Timeout t = message.timeout;
  // Any verified QC for the same block stands in for the one carried (the signature covers only
  // its round): QCs from other signer subsets cost nothing.
  if (const QuorumCert* known = safety_.verifier().known_qc(t.high_qc.data)) t.high_qc = *known;
  // A newer high TC counts whatever the timeout carrying it (stale, duplicate, badly signed):
  // a TC is self-certifying. It is taken first, so a bad one ends the message before the
  // timeout costs anything, and a TC that failed before costs nothing (failed_certs_max). A high
  // TC not above this replica's is not looked at.
  const bool newer_tc = message.high_tc && (!high_tc_ || message.high_tc->round > high_tc_->round);
  if (newer_tc && !apply_tc_from(out, *message.high_tc, from)) return out;
  if (t.round < current_round_) {
    // Stale: the timeout itself cannot count, so it is not verified.
    reject(out, RejectReason::kStaleRound, from,
           "timeout for round " + str(t.round) + ", current round is " + str(current_round_));
    return out;
  }
  if (pending_.contains(t)) return out;  // a duplicate: verified and counted already
  if (!config_.validators.contains(t.signer)) {
    reject(out, RejectReason::kNonValidator, from, "timeout by non-validator " + t.signer.hex());
    return out;
  }
  // A timeout that cannot count (for a round its own high QC cannot bring this replica to, or
  // from a signer already counted in the round) is worth checking only for a high QC above this
  // replica's; otherwise it is refused before any check. Its signature covers only the QC's
  // round, so each valid QC a Byzantine validator holds (every block header carries one) would
  // otherwise cost a check, and, valid, never spend its check budget.
  if (t.high_qc.round() <= high_qc_.round()) {
    if (t.round > current_round_) {
      reject(out, RejectReason::kFutureRound, from,
             "timeout for round " + str(t.round) + " without a certificate for the round before");
      return out;
    }
    if (pending_.has_timeout_from(t.signer, t.round)) {
      reject(out, RejectReason::kEquivocation, from,
             "validator " + t.signer.hex() + " sent two timeouts in round " + str(t.round));
      return out;
    }
  }
  if (!may_check(out, from, "timeout")) return out;
  const std::uint64_t checks = safety_.verifier().checks_run();
  if (Status s = safety_.verifier().verify_timeout(t); !s.is_ok()) {
    charge_failed_check(from, checks);
    reject(out, RejectReason::kBadSignature, from, s.message());
    return out;
  }
  apply_qc(out, t.high_qc, from);
  if (t.round < current_round_) {  // its own high QC moved this replica past it
    reject(out, RejectReason::kStaleRound, from,
           "timeout for round " + str(t.round) + ", current round is " + str(current_round_));
    return out;
  }
  if (t.round > current_round_) {
    reject(out, RejectReason::kFutureRound, from,
           "timeout for round " + str(t.round) + " without a certificate for the round before");
    return out;
  }
  TimeoutAddition added = pending_.add_timeout(t);
  switch (added.result) {
    case AddResult::kAdded:
      // Timeouts from f+1 power: at least one honest validator gave up on this round.
      if (added.round_power >= config_.validators.f_plus_one_power() &&
          !(safety_.data().last_timeout && safety_.data().last_timeout->round == current_round_)) {
        local_timeout(out);
      }
      return out;
    case AddResult::kDuplicate:
    case AddResult::kOutOfWindow:
      return out;
    case AddResult::kEquivocation:
      reject(out, RejectReason::kEquivocation, from,
             "validator " + t.signer.hex() + " sent two timeouts in round " + str(t.round));
      return out;
    case AddResult::kQuorum:
      on_tc_formed(out, *added.tc);
      return out;
  }
  return out;
}

bool Replica::apply_tc_from(Actions& out, const TimeoutCert& tc, const PublicKey& from) {
  if (!may_check(out, from, "TC", safety_.verifier().has_verdict(tc))) return false;
  const std::uint64_t checks = safety_.verifier().checks_run();
  if (Status s = safety_.verifier().verify_tc(tc); !s.is_ok()) {
    charge_failed_check(from, checks);
    reject(out, RejectReason::kInvalidCertificate, from, "TC: " + s.message());
    return false;
  }
  apply_tc(out, tc, from);
  return true;
}

Actions Replica::on_timeout_cert(const PublicKey& from, const TimeoutCert& tc) {
  Actions out;
  if (high_tc_ && tc.round <= high_tc_->round) return out;  // nothing new
  apply_tc_from(out, tc, from);
  return out;
}

// ---- Check budget --------------------------------------------------------------------------

bool Replica::may_check(Actions& out, const PublicKey& from, const char* what, bool free) {
  if (free) return true;
  auto it = failed_check_round_.find(from);
  if (it == failed_check_round_.end() || it->second != current_round_) return true;
  reject(out, RejectReason::kNotChecked, from,
         std::string(what) +
             " not checked: this validator sent a signature or certificate that "
             "failed verification in round " +
             str(current_round_));
  return false;
}

void Replica::charge_failed_check(const PublicKey& from, std::uint64_t checks_before) {
  if (safety_.verifier().checks_run() != checks_before) charge_failed_check(from);
}

void Replica::charge_failed_check(const PublicKey& from) {
  // Only validators are remembered, so the map never outgrows the validator set; the replica's
  // own inputs are never refused.
  if (from == public_key() || !config_.validators.contains(from)) return;
  failed_check_round_[from] = current_round_;
}

}  // namespace ledger::consensus
