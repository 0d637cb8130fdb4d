#include "ledger/storage/memory_safety_store.h"

namespace ledger::storage {

Status MemorySafetyStore::save(const consensus::SafetyData& data) {
#ifdef LEDGER_TEST_DROP_SAFETY_SAVES
  // Negative control only (tests/sim): a store that reports success and keeps nothing. The
  // simulator's crash-restart signing check must catch it.
  (void)data;
  ++save_count_;
  return Status::ok();
#endif
  stored_ = consensus::encode_safety_data(data);
  ++save_count_;
  return Status::ok();
}

StatusOr<std::optional<consensus::SafetyData>> MemorySafetyStore::load() const {
  if (!stored_) return std::optional<consensus::SafetyData>();
  auto data = consensus::decode_safety_data(*stored_);
  if (!data.is_ok()) return Status::corruption(data.status().message());
  return std::optional<consensus::SafetyData>(std::move(data).value());
}

}  // namespace ledger::storage
