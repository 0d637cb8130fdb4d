// Durable store of the consensus block tree: the uncommitted blocks and the highest certificates
// the replica asked the host to persist (Actions::blocks_to_persist, high_qc_to_persist,
// high_tc_to_persist, blocks_to_forget). With the safety data and the committed chain it is
// everything RecoveryData needs, so a restarted validator resumes at max(high_qc, high_tc) + 1.
//
// Declared here, next to SafetyStore, because consensus defines what must survive a crash;
// storage implements it (RocksChainStore::tree_store(), MemoryTreeStore for the simulator).
// tests/unit/storage/tree_store_conformance_test.cpp runs one suite against both.
//
// Thread-compatible: the node's event loop is the only caller.
#pragma once

#include <optional>
#include <vector>

#include "ledger/core/block.h"
#include "ledger/core/certificates.h"
#include "ledger/core/hash.h"
#include "ledger/core/status.h"

namespace ledger::consensus {

// What one Actions asks to persist. Applied atomically and durably (synced) by save().
struct TreeUpdate {
  std::vector<Block> blocks;           // stored by id (Block::id()); storing one again is a no-op
  std::optional<QuorumCert> high_qc;   // replaces the stored high QC when set
  std::optional<TimeoutCert> high_tc;  // replaces the stored high TC when set
  std::vector<Hash> forget;            // ids to delete; unknown ids are ignored

  bool empty() const { return blocks.empty() && !high_qc && !high_tc && forget.empty(); }
};

// Everything save() has stored, as load() reads it back.
struct TreeSnapshot {
  std::vector<Block> blocks;  // every stored block, ordered by (height, id)
  std::optional<QuorumCert> high_qc;
  std::optional<TimeoutCert> high_tc;
};

class TreeStore {
 public:
  virtual ~TreeStore() = default;

  // One atomic, synced write: after a crash either all of `update` is visible or none of it.
  // A block in both `blocks` and `forget` ends up forgotten (forget applies last).
  // Errors: kIoError when the write fails (the node must then stop); kInvalidArgument if a
  // block exceeds the store's block limits.
  virtual Status save(const TreeUpdate& update) = 0;

  // Reads everything back. kCorruption (naming the key) if stored bytes do not decode or a
  // block is stored under an id that is not its own.
  virtual StatusOr<TreeSnapshot> load() const = 0;
};

}  // namespace ledger::consensus
