#include "rocks_tree_store.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "exception_boundary.h"
#include "tree_store_codec.h"

namespace ledger::storage::detail {

Status RocksTreeStore::save(const consensus::TreeUpdate& update) {
  return guard_exceptions("save block tree", [&]() -> Status {
    if (update.empty()) return Status::ok();
    LEDGER_ASSIGN_OR_RETURN(std::vector<EncodedTreeBlock> blocks,
                            encode_tree_blocks(update.blocks, limits_));
    BatchBuilder builder(db_);
    for (const EncodedTreeBlock& block : blocks)
      builder.put(Column::kTree, array_key(block.id.bytes), block.bytes);
    if (update.high_qc) builder.put(Column::kTree, kTreeHighQcKey, encode_qc(*update.high_qc));
    if (update.high_tc) builder.put(Column::kTree, kTreeHighTcKey, encode_tc(*update.high_tc));
    // After the puts: a batch applies in order, so a block both stored and forgotten is gone.
    for (const Hash& id : update.forget)
      builder.remove(Column::kTree, array_key(id.bytes));
    LEDGER_RETURN_IF_ERROR(builder.status());
    return db_.write(builder.batch(), "block tree");
  });
}

StatusOr<consensus::TreeSnapshot> RocksTreeStore::load() const {
  using Result = StatusOr<consensus::TreeSnapshot>;
  return guard_exceptions("load block tree", [&]() -> Result {
    consensus::TreeSnapshot snapshot;
    std::vector<std::pair<Hash, Block>> blocks;
    std::unique_ptr<rocksdb::Iterator> it = db_.iterator(Column::kTree);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view key = it->key().ToStringView();
      const ByteView value = as_view(it->value().ToStringView());
      if (key.size() == Hash::kSize) {
        Hash id;
        std::copy(key.begin(), key.end(), id.bytes.begin());
        LEDGER_ASSIGN_OR_RETURN(Block block, decode_tree_block(id, value, limits_));
        blocks.emplace_back(id, std::move(block));
      } else if (key == kTreeHighQcKey) {
        LEDGER_ASSIGN_OR_RETURN(snapshot.high_qc, decode_tree_high_qc(value));
      } else if (key == kTreeHighTcKey) {
        LEDGER_ASSIGN_OR_RETURN(snapshot.high_tc, decode_tree_high_tc(value));
      } else {
        return Status::corruption("unexpected key " + to_hex(as_view(key)) +
                                  " in column family tree");
      }
    }
    if (!it->status().ok()) return from_rocks(it->status(), "scan block tree");
    snapshot.blocks = order_tree_blocks(std::move(blocks));
    return snapshot;
  });
}

}  // namespace ledger::storage::detail
