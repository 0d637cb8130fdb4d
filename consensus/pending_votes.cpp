#include "ledger/consensus/pending_votes.h"

#include <algorithm>

namespace ledger::consensus {

PendingVotes::PendingVotes(const ValidatorSet& validators, std::size_t rounds_max)
    : validators_(&validators), rounds_max_(rounds_max) {
  LEDGER_ASSERT(rounds_max_ >= 1);
}

void PendingVotes::set_lowest_round(std::uint64_t round) {
  if (round <= lowest_round_) return;
  lowest_round_ = round;
  votes_.erase(votes_.begin(), votes_.lower_bound(round));
  timeouts_.erase(timeouts_.begin(), timeouts_.lower_bound(round));
}

bool PendingVotes::in_window(std::uint64_t round) const {
  return round >= lowest_round_ && round - lowest_round_ < rounds_max_;
}

bool PendingVotes::contains(const Vote& vote) const {
  auto it = votes_.find(vote.data.round);
  if (it == votes_.end()) return false;
  auto v = it->second.by_signer.find(vote.signer);
  return v != it->second.by_signer.end() && v->second == vote;
}

bool PendingVotes::contains(const Timeout& timeout) const {
  auto it = timeouts_.find(timeout.round);
  if (it == timeouts_.end()) return false;
  auto t = it->second.by_signer.find(timeout.signer);
  return t != it->second.by_signer.end() && t->second == timeout;
}

bool PendingVotes::has_timeout_from(const PublicKey& signer, std::uint64_t round) const {
  auto it = timeouts_.find(round);
  return it != timeouts_.end() && it->second.by_signer.contains(signer);
}

VoteAddition PendingVotes::add_vote(const Vote& vote) {
  LEDGER_ASSERT(validators_->contains(vote.signer));
  VoteAddition out;
  if (!in_window(vote.data.round)) {
    out.result = AddResult::kOutOfWindow;
    return out;
  }
  RoundVotes& round = votes_[vote.data.round];
  auto [it, inserted] = round.by_signer.emplace(vote.signer, vote);
  if (!inserted) {
    if (it->second == vote) {
      out.result = AddResult::kDuplicate;
    } else {
      out.result = AddResult::kEquivocation;
      out.conflicting = it->second;
    }
    return out;
  }
  if (round.qc_formed) return out;
  // Sum the power of the signers of exactly this vote data (signers sorted by the map).
  QuorumCert qc;
  qc.data = vote.data;
  std::uint64_t power = 0;
  for (const auto& [signer, v] : round.by_signer) {
    if (v.data != vote.data) continue;
    power += validators_->power_of(signer);
    qc.signatures.push_back(SignerSignature{signer, v.signature});
  }
  if (power < validators_->quorum_power()) return out;
  round.qc_formed = true;
  out.result = AddResult::kQuorum;
  out.qc = std::move(qc);
  return out;
}

TimeoutAddition PendingVotes::add_timeout(const Timeout& timeout) {
  LEDGER_ASSERT(validators_->contains(timeout.signer));
  TimeoutAddition out;
  if (!in_window(timeout.round)) {
    out.result = AddResult::kOutOfWindow;
    return out;
  }
  RoundTimeouts& round = timeouts_[timeout.round];
  auto [it, inserted] = round.by_signer.emplace(timeout.signer, timeout);
  if (!inserted) {
    out.round_power = round.power;
    if (it->second == timeout) {
      out.result = AddResult::kDuplicate;
    } else {
      out.result = AddResult::kEquivocation;
      out.conflicting = it->second;
    }
    return out;
  }
  round.power += validators_->power_of(timeout.signer);
  out.round_power = round.power;
  if (round.tc_formed || round.power < validators_->quorum_power()) return out;
  TimeoutCert tc;
  tc.round = timeout.round;
  const Timeout* highest = nullptr;
  for (const auto& [signer, t] : round.by_signer) {
    tc.entries.push_back(TimeoutCertEntry{signer, t.high_qc.round(), t.signature});
    if (highest == nullptr || t.high_qc.round() > highest->high_qc.round()) highest = &t;
  }
  LEDGER_ASSERT(highest != nullptr);
  tc.high_qc = highest->high_qc;
  round.tc_formed = true;
  out.result = AddResult::kQuorum;
  out.tc = std::move(tc);
  return out;
}

}  // namespace ledger::consensus
