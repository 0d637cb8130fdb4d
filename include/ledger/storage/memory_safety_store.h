// In-memory SafetyStore for the deterministic simulator. save() is "durable" for as long as the
// object lives: the simulator models a crash by keeping the store and rebuilding the replica.
#pragma once

#include "ledger/consensus/safety_data.h"

namespace ledger::storage {

class MemorySafetyStore final : public consensus::SafetyStore {
 public:
  Status save(const consensus::SafetyData& data) override;
  StatusOr<std::optional<consensus::SafetyData>> load() const override;
  // How many times save() was called: lets tests check that nothing is signed unsaved.
  std::uint64_t save_count() const { return save_count_; }

 private:
  std::optional<Bytes> stored_;  // the encoded data, so load() exercises the decoder too
  std::uint64_t save_count_ = 0;
};

}  // namespace ledger::storage
