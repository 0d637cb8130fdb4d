#include "rocks_safety_store.h"

#include "exception_boundary.h"

namespace ledger::storage::detail {

Status RocksSafetyStore::save(const consensus::SafetyData& data) {
  return guard_exceptions("save safety data", [&]() -> Status {
    BatchBuilder builder(db_);
    builder.put(Column::kSafety, kSafetyKey, consensus::encode_safety_data(data));
    LEDGER_RETURN_IF_ERROR(builder.status());
    return db_.write(builder.batch(), "safety data");
  });
}

StatusOr<std::optional<consensus::SafetyData>> RocksSafetyStore::load() const {
  using Result = StatusOr<std::optional<consensus::SafetyData>>;
  return guard_exceptions("load safety data", [&]() -> Result {
    LEDGER_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                            db_.get(Column::kSafety, kSafetyKey, "safety data"));
    if (!stored) return std::optional<consensus::SafetyData>();
    auto data = consensus::decode_safety_data(as_view(*stored));
    if (!data.is_ok()) {
      return Status::corruption("stored safety data does not decode: " + data.status().message());
    }
    return std::optional<consensus::SafetyData>(std::move(data).value());
  });
}

}  // namespace ledger::storage::detail
