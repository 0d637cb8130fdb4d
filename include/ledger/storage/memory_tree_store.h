// In-memory TreeStore for the deterministic simulator. save() is "durable" for as long as the
// object lives: the simulator models a crash by keeping the store and rebuilding the replica.
// Blocks and certificates are kept encoded, so load() exercises the same decoders, limits and
// checks as the RocksDB store (RocksChainStore::tree_store()), and save() refuses the same
// blocks with the same messages.
//
// Thread-compatible (the TreeStore contract: the caller serialises access). Copyable: a copy is
// a snapshot of what had been saved.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "ledger/consensus/tree_store.h"

namespace ledger::storage {

class MemoryTreeStore final : public consensus::TreeStore {
 public:
  struct Options {
    // Bounds for the blocks save() accepts and load() decodes; as RocksChainStore::Options.
    BlockLimits block_limits;
  };

  explicit MemoryTreeStore(const Options& options = {}) : options_(options) {}

  // TreeStore::save. kInvalidArgument, with nothing stored, for a block over the limits;
  // otherwise either all of `update` is applied or (on an allocation failure, kInternal) none.
  Status save(const consensus::TreeUpdate& update) override;
  StatusOr<consensus::TreeSnapshot> load() const override;

  // How many times save() succeeded: lets tests check that what was sent had been saved.
  std::uint64_t save_count() const { return save_count_; }

 private:
  Options options_;
  std::map<Hash, Bytes> blocks_;  // block id -> encode_block; the key is the block's own id
  std::optional<Bytes> high_qc_;  // encode_qc of the last high_qc saved
  std::optional<Bytes> high_tc_;  // encode_tc of the last high_tc saved
  std::uint64_t save_count_ = 0;
};

}  // namespace ledger::storage
