// The consensus TreeStore on the node's one RocksDB instance (column family "tree": block id ->
// encode_block, plus kTreeHighQcKey and kTreeHighTcKey). Private to storage/: the node reaches
// it through RocksChainStore::tree_store().
#pragma once

#include "ledger/consensus/tree_store.h"
#include "rocks_database.h"

namespace ledger::storage::detail {

class RocksTreeStore final : public consensus::TreeStore {
 public:
  // `db` must outlive this store (both are owned by RocksChainStore). `limits` bound the blocks
  // save() accepts and load() decodes (the chain store's Options::block_limits).
  RocksTreeStore(Database& db, const BlockLimits& limits) : db_(db), limits_(limits) {}
  RocksTreeStore(const RocksTreeStore&) = delete;
  RocksTreeStore& operator=(const RocksTreeStore&) = delete;

  // One synced WriteBatch: durable when this returns ok; kIoError otherwise. kInvalidArgument,
  // with nothing written, if a block exceeds the limits. An empty update writes nothing.
  Status save(const consensus::TreeUpdate& update) override;
  // Reads the column family through one iterator (one implicit snapshot). kCorruption naming
  // the key for bytes that do not decode, a block under another id, or an unexpected key.
  StatusOr<consensus::TreeSnapshot> load() const override;

 private:
  Database& db_;
  const BlockLimits limits_;
};

}  // namespace ledger::storage::detail
