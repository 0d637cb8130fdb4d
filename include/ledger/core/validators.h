// The validator set fixed by genesis, and voting power arithmetic.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ledger/core/keys.h"

namespace ledger {

inline constexpr std::size_t kValidatorsMax = 1024;
// Keeps every sum of powers far from overflow.
inline constexpr std::uint64_t kTotalPowerMax = std::uint64_t{1} << 60;

struct Validator {
  PublicKey key;            // BIP340 x-only key; distinct within a set
  std::uint64_t power = 0;  // > 0
  std::string name;         // non-empty, distinct within a set, for logs and RPC only

  friend bool operator==(const Validator&, const Validator&) = default;
};

// Immutable after creation; thread-safe to read.
class ValidatorSet {
 public:
  // Fails with a message naming the bad entry: empty set, more than kValidatorsMax, a zero
  // power, a duplicate key or name, an invalid key, or a total above kTotalPowerMax.
  static StatusOr<ValidatorSet> create(std::vector<Validator> validators);

  std::size_t size() const { return validators_.size(); }
  const std::vector<Validator>& validators() const { return validators_; }
  const Validator& at(std::size_t index) const { return validators_.at(index); }
  std::optional<std::size_t> index_of(const PublicKey& key) const;
  bool contains(const PublicKey& key) const { return index_of(key).has_value(); }
  std::uint64_t power_of(const PublicKey& key) const;  // 0 for a non-member

  std::uint64_t total_power() const { return total_power_; }
  // More than 2/3 of the total: floor(2 * total / 3) + 1.
  std::uint64_t quorum_power() const { return quorum_power_; }
  // total - quorum + 1: enough that at least one honest validator is among them.
  std::uint64_t f_plus_one_power() const { return total_power_ - quorum_power_ + 1; }

  // Round-robin over the validators in genesis order.
  const Validator& leader_for_round(std::uint64_t round) const {
    LEDGER_ASSERT(!validators_.empty());
    return validators_[round % validators_.size()];
  }

  // An empty placeholder (e.g. in a default-constructed Genesis); create() never returns one.
  ValidatorSet() = default;

  friend bool operator==(const ValidatorSet&, const ValidatorSet&) = default;

 private:
  std::vector<Validator> validators_;  // genesis order; non-empty
  std::uint64_t total_power_ = 0;      // sum of powers, <= kTotalPowerMax
  std::uint64_t quorum_power_ = 0;     // floor(2 * total / 3) + 1
};

}  // namespace ledger
