// Aggregation of verified votes into QCs and of verified timeouts into TCs, by voting power.
//
// Only rounds in [lowest, lowest + rounds_max) are kept (the replica moves `lowest` to its
// current round), and each validator counts once per round, so memory is bounded by
// rounds_max * validators. A second, different vote from one validator in one round is returned
// as equivocation with both signed votes. Inputs must already be verified (signature, signer in
// the set): this class only counts.
//
// Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <variant>

#include "ledger/core/certificates.h"
#include "ledger/core/validators.h"

namespace ledger::consensus {

enum class AddResult : std::uint8_t {
  kAdded,         // counted, no quorum yet (or quorum already formed earlier)
  kDuplicate,     // the same vote/timeout again: ignored
  kEquivocation,  // a different one from the same signer in the round: not counted
  kOutOfWindow,   // round below the window or too far above it: not kept
  kQuorum,        // this one completed a QC/TC, returned alongside
};

struct VoteAddition {
  AddResult result = AddResult::kAdded;
  std::optional<QuorumCert> qc;     // with kQuorum
  std::optional<Vote> conflicting;  // with kEquivocation: the vote counted first
};

struct TimeoutAddition {
  AddResult result = AddResult::kAdded;
  std::optional<TimeoutCert> tc;       // with kQuorum
  std::uint64_t round_power = 0;       // power of distinct timeouts for the round so far
  std::optional<Timeout> conflicting;  // with kEquivocation
};

class PendingVotes {
 public:
  PendingVotes(const ValidatorSet& validators, std::size_t rounds_max);

  // Drops every round below `round`; later adds below it are kOutOfWindow.
  void set_lowest_round(std::uint64_t round);
  std::uint64_t lowest_round() const { return lowest_round_; }

  // Whether exactly this vote is already counted (lets the caller skip re-verification).
  bool contains(const Vote& vote) const;
  bool contains(const Timeout& timeout) const;
  // Whether `signer` already has a timeout counted for `round` (any other one from it is an
  // equivocation or a copy with another high QC, and cannot count).
  bool has_timeout_from(const PublicKey& signer, std::uint64_t round) const;

  VoteAddition add_vote(const Vote& vote);
  TimeoutAddition add_timeout(const Timeout& timeout);

  std::size_t rounds_kept() const { return votes_.size() + timeouts_.size(); }
  // Whether a vote or timeout of `round` would be kept (not kOutOfWindow): callers check this
  // before spending a signature verification on the message.
  bool in_window(std::uint64_t round) const;

 private:
  struct RoundVotes {
    std::map<PublicKey, Vote> by_signer;  // first vote of each signer
    bool qc_formed = false;               // a QC was already returned for this round
  };
  struct RoundTimeouts {
    std::map<PublicKey, Timeout> by_signer;  // first timeout of each signer
    std::uint64_t power = 0;                 // sum of powers of by_signer
    bool tc_formed = false;
  };
  const ValidatorSet* validators_;  // non-owning; outlives this
  std::size_t rounds_max_;          // >= 1
  std::uint64_t lowest_round_ = 0;
  std::map<std::uint64_t, RoundVotes> votes_;        // keys in the window
  std::map<std::uint64_t, RoundTimeouts> timeouts_;  // keys in the window
};

}  // namespace ledger::consensus
