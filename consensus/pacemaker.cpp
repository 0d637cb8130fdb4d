#include "ledger/consensus/pacemaker.h"

#include <algorithm>

namespace ledger::consensus {

PacemakerConfig PacemakerConfig::from_params(const ConsensusParams& params, std::uint64_t tick_ms) {
  LEDGER_ASSERT(tick_ms >= 1);
  PacemakerConfig config;
  config.round_timeout_ticks = std::max<std::uint64_t>(1, params.round_timeout_ms / tick_ms);
  config.multiplier_percent = params.round_timeout_multiplier_percent;
  config.backoff_max = params.round_timeout_backoff_max;
  return config;
}

Status PacemakerConfig::validate() const {
  if (round_timeout_ticks == 0 || round_timeout_ticks > kTimeoutTicksMax) {
    return Status::invalid_argument("round_timeout_ticks must be in 1..2^40");
  }
  if (multiplier_percent < 100 || multiplier_percent > 1000) {
    return Status::invalid_argument("round_timeout_multiplier_percent must be in 100..1000");
  }
  if (backoff_max > 32) return Status::invalid_argument("round_timeout_backoff_max must be <= 32");
  return Status::ok();
}

std::uint64_t round_timeout_ticks(const PacemakerConfig& config,
                                  std::uint64_t rounds_since_commit) {
  const std::uint64_t exponent = std::min<std::uint64_t>(rounds_since_commit, config.backoff_max);
  std::uint64_t ticks = std::min(config.round_timeout_ticks, PacemakerConfig::kTimeoutTicksMax);
  for (std::uint64_t i = 0; i < exponent; ++i) {
    // ticks <= 2^40 and multiplier <= 1000 < 2^10: the product fits in 64 bits.
    ticks = ticks * config.multiplier_percent / 100;
    if (ticks >= PacemakerConfig::kTimeoutTicksMax) return PacemakerConfig::kTimeoutTicksMax;
  }
  return std::max<std::uint64_t>(ticks, 1);
}

void RoundTimer::arm(std::uint64_t rounds_since_commit) {
  duration_ticks_ = round_timeout_ticks(config_, rounds_since_commit);
  deadline_ticks_ = now_ticks_ + duration_ticks_;  // now < 2^63 for any realistic uptime
  LEDGER_ASSERT(deadline_ticks_ > now_ticks_);
}

bool RoundTimer::tick() {
  ++now_ticks_;
  if (duration_ticks_ == 0 || now_ticks_ < deadline_ticks_) return false;
  deadline_ticks_ = now_ticks_ + duration_ticks_;
  return true;
}

}  // namespace ledger::consensus
