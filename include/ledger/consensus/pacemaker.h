// The pacemaker: logical time, round timers with exponential backoff, and leader election.
//
// Time is ticks: the core has no clock. The node turns a steady timer into on_tick() calls and
// converts the genesis round_timeout_ms into ticks (PacemakerConfig::from_params). Nothing here
// can break safety: a wrong timer or a wrong leader only costs liveness, because every signature
// goes through SafetyRules.
#pragma once

#include <cstdint>
#include <memory>

#include "ledger/core/genesis.h"
#include "ledger/core/keys.h"
#include "ledger/core/status.h"
#include "ledger/core/validators.h"

namespace ledger::consensus {

// Rounds are checked: every "next round" goes through this.
inline std::optional<std::uint64_t> checked_add(std::uint64_t a, std::uint64_t b) {
  if (a > UINT64_MAX - b) return std::nullopt;
  return a + b;
}

struct PacemakerConfig {
  std::uint64_t round_timeout_ticks = 100;  // >= 1: the timer of a round after progress
  std::uint32_t multiplier_percent = 150;   // 100..1000: growth per round without a commit
  std::uint32_t backoff_max = 6;            // 0..32: the exponent cap
  // Every armed timer is at most this long (keeps the arithmetic far from overflow).
  static constexpr std::uint64_t kTimeoutTicksMax = std::uint64_t{1} << 40;

  // round_timeout_ms / tick_ms ticks (at least 1), with the genesis multiplier and cap.
  static PacemakerConfig from_params(const ConsensusParams& params, std::uint64_t tick_ms);
  Status validate() const;
};

// base * (multiplier/100)^min(k, cap), k = rounds since the last commit; integer arithmetic,
// capped at kTimeoutTicksMax.
std::uint64_t round_timeout_ticks(const PacemakerConfig& config, std::uint64_t rounds_since_commit);

// The round timer. Thread-compatible.
class RoundTimer {
 public:
  explicit RoundTimer(PacemakerConfig config) : config_(config) {}

  // Arms the timer for a round entered `rounds_since_commit` rounds after the last commit.
  void arm(std::uint64_t rounds_since_commit);
  // Advances logical time by one tick. Returns true when the armed timer expires; it is then
  // re-armed with the same duration, so it fires again (a re-sent timeout) if the round does
  // not change.
  bool tick();

  std::uint64_t now_ticks() const { return now_ticks_; }
  std::uint64_t deadline_ticks() const { return deadline_ticks_; }
  std::uint64_t duration_ticks() const { return duration_ticks_; }

 private:
  PacemakerConfig config_;
  std::uint64_t now_ticks_ = 0;       // ticks since the replica was created
  std::uint64_t duration_ticks_ = 0;  // of the armed timer, <= kTimeoutTicksMax
  std::uint64_t deadline_ticks_ = 0;  // now_ticks_ < deadline_ticks_ while armed
};

// Who leads a round. An interface so that reputation-based election can replace round-robin.
class LeaderElection {
 public:
  virtual ~LeaderElection() = default;
  virtual const PublicKey& leader(std::uint64_t round) const = 0;
};

// ValidatorSet::leader_for_round: round-robin in genesis order.
class RoundRobinLeaders final : public LeaderElection {
 public:
  explicit RoundRobinLeaders(ValidatorSet validators) : validators_(std::move(validators)) {}
  const PublicKey& leader(std::uint64_t round) const override {
    return validators_.leader_for_round(round).key;
  }

 private:
  ValidatorSet validators_;
};

}  // namespace ledger::consensus
