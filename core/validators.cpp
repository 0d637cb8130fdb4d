#include "ledger/core/validators.h"

#include <set>

namespace ledger {

StatusOr<ValidatorSet> ValidatorSet::create(std::vector<Validator> validators) {
  if (validators.empty()) return Status::invalid_argument("validator set is empty");
  if (validators.size() > kValidatorsMax) {
    return Status::invalid_argument("validator set has " + std::to_string(validators.size()) +
                                    " validators, the limit is " + std::to_string(kValidatorsMax));
  }
  std::set<PublicKey> keys;
  std::set<std::string> names;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < validators.size(); ++i) {
    const Validator& v = validators[i];
    const std::string where = "validators[" + std::to_string(i) + "]";
    if (!v.key.is_valid()) {
      return Status::invalid_argument(where + ".public_key: not a valid secp256k1 x-only key");
    }
    if (v.power == 0) return Status::invalid_argument(where + ".power: must be positive");
    if (v.name.empty()) return Status::invalid_argument(where + ".name: must not be empty");
    if (!keys.insert(v.key).second) {
      return Status::invalid_argument(where + ".public_key: duplicate key " + v.key.hex());
    }
    if (!names.insert(v.name).second) {
      return Status::invalid_argument(where + ".name: duplicate name '" + v.name + "'");
    }
    if (v.power > kTotalPowerMax || total > kTotalPowerMax - v.power) {
      return Status::invalid_argument(where + ".power: total voting power exceeds " +
                                      std::to_string(kTotalPowerMax));
    }
    total += v.power;
  }
  ValidatorSet set;
  set.validators_ = std::move(validators);
  set.total_power_ = total;
  // total <= 2^60, so 2 * total cannot overflow.
  set.quorum_power_ = 2 * total / 3 + 1;
  LEDGER_ASSERT(set.quorum_power_ <= set.total_power_);
  return set;
}

std::optional<std::size_t> ValidatorSet::index_of(const PublicKey& key) const {
  for (std::size_t i = 0; i < validators_.size(); ++i) {
    if (validators_[i].key == key) return i;
  }
  return std::nullopt;
}

std::uint64_t ValidatorSet::power_of(const PublicKey& key) const {
  auto index = index_of(key);
  return index ? validators_[*index].power : 0;
}

}  // namespace ledger
