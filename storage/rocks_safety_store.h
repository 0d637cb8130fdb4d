// The consensus SafetyStore on the node's one RocksDB instance (column family "safety").
// Private to storage/: the node reaches it through RocksChainStore::safety_store().
#pragma once

#include "ledger/consensus/safety_data.h"
#include "rocks_database.h"

namespace ledger::storage::detail {

class RocksSafetyStore final : public consensus::SafetyStore {
 public:
  // `db` must outlive this store (both are owned by RocksChainStore).
  explicit RocksSafetyStore(Database& db) : db_(db) {}
  RocksSafetyStore(const RocksSafetyStore&) = delete;
  RocksSafetyStore& operator=(const RocksSafetyStore&) = delete;

  // One synced RocksDB write: durable when this returns ok; kIoError otherwise.
  Status save(const consensus::SafetyData& data) override;
  // nullopt if nothing was ever saved; kCorruption if the stored bytes do not decode.
  StatusOr<std::optional<consensus::SafetyData>> load() const override;

 private:
  Database& db_;
};

}  // namespace ledger::storage::detail
