// What both TreeStores (include/ledger/consensus/tree_store.h) do to the bytes they keep.
// Private to storage/: RocksTreeStore and MemoryTreeStore both call these, so the two stores
// refuse the same blocks and report the same damage with the same codes and messages.
#pragma once

#include <utility>
#include <vector>

#include "ledger/core/block.h"
#include "ledger/core/certificates.h"
#include "ledger/core/hash.h"
#include "ledger/core/status.h"

namespace ledger::storage::detail {

struct EncodedTreeBlock {
  Hash id;      // block.id(), the key it is stored under
  Bytes bytes;  // encode_block(block)
};

// Encodes every block of a save(). kInvalidArgument naming the first block (id and height) that
// has more than limits.transactions_max transactions or encodes to more than limits.bytes_max
// bytes: the store could never read it back, so nothing of the save may be written.
StatusOr<std::vector<EncodedTreeBlock>> encode_tree_blocks(const std::vector<Block>& blocks,
                                                           const BlockLimits& limits);

// The block stored under `key`. kCorruption naming the key if the bytes do not decode within
// `limits` or the block's id is not `key`.
StatusOr<Block> decode_tree_block(const Hash& key, ByteView bytes, const BlockLimits& limits);

// The stored high QC / high TC; kCorruption naming the key if the bytes do not decode.
StatusOr<QuorumCert> decode_tree_high_qc(ByteView bytes);
StatusOr<TimeoutCert> decode_tree_high_tc(ByteView bytes);

// The blocks of `keyed` (each with the id it was stored under, already checked to be its own)
// ordered by (height, id), as TreeSnapshot::blocks promises.
std::vector<Block> order_tree_blocks(std::vector<std::pair<Hash, Block>> keyed);

}  // namespace ledger::storage::detail
