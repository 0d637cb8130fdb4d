#include "ledger/storage/memory_tree_store.h"

#include <utility>
#include <vector>

#include "exception_boundary.h"
#include "tree_store_codec.h"

namespace ledger::storage {

Status MemoryTreeStore::save(const consensus::TreeUpdate& update) {
  return detail::guard_exceptions("save block tree", [&]() -> Status {
    // Everything that allocates happens before the first change; applying the staged map only
    // splices its nodes, so a failure cannot leave half of the update applied.
    LEDGER_ASSIGN_OR_RETURN(std::vector<detail::EncodedTreeBlock> blocks,
                            detail::encode_tree_blocks(update.blocks, options_.block_limits));
    std::map<Hash, Bytes> staged;
    for (detail::EncodedTreeBlock& block : blocks)
      staged.try_emplace(block.id, std::move(block.bytes));
    std::optional<Bytes> high_qc;
    if (update.high_qc) high_qc = encode_qc(*update.high_qc);
    std::optional<Bytes> high_tc;
    if (update.high_tc) high_tc = encode_tc(*update.high_tc);

    blocks_.merge(staged);  // an id already stored keeps its (identical) bytes
    if (high_qc) high_qc_ = std::move(high_qc);
    if (high_tc) high_tc_ = std::move(high_tc);
    for (const Hash& id : update.forget)
      blocks_.erase(id);
    ++save_count_;
    return Status::ok();
  });
}

StatusOr<consensus::TreeSnapshot> MemoryTreeStore::load() const {
  using Result = StatusOr<consensus::TreeSnapshot>;
  return detail::guard_exceptions("load block tree", [&]() -> Result {
    consensus::TreeSnapshot snapshot;
    std::vector<std::pair<Hash, Block>> blocks;
    blocks.reserve(blocks_.size());
    for (const auto& [id, bytes] : blocks_) {
      LEDGER_ASSIGN_OR_RETURN(Block block,
                              detail::decode_tree_block(id, bytes, options_.block_limits));
      blocks.emplace_back(id, std::move(block));
    }
    snapshot.blocks = detail::order_tree_blocks(std::move(blocks));
    if (high_qc_) {
      LEDGER_ASSIGN_OR_RETURN(snapshot.high_qc, detail::decode_tree_high_qc(*high_qc_));
    }
    if (high_tc_) {
      LEDGER_ASSIGN_OR_RETURN(snapshot.high_tc, detail::decode_tree_high_tc(*high_tc_));
    }
    return snapshot;
  });
}

}  // namespace ledger::storage
