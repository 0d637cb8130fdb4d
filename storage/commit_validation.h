// The checks every ChainStore makes before it writes a commit (include/ledger/storage/
// chain_store.h, ChainStore::commit). Private to storage/: RocksChainStore and
// MemoryChainStore both call validate_commit, so the two stores refuse the same commits with the
// same codes and messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ledger/core/block.h"
#include "ledger/storage/chain_store.h"

namespace ledger::storage::detail {

// What a store knows about itself when a commit arrives.
struct CommitTarget {
  std::string_view chain_id;            // the store's chain id
  std::optional<ChainTip> tip;          // nullopt before genesis
  bool height_stored = false;           // a block is already stored at the commit's height
  BlockLimits limits;                   // the bounds the store decodes stored blocks with
  std::size_t encoded_block_bytes = 0;  // encode_block(commit.block).size()
};

// Returns ok if `commit` may be appended to `target`, else, in this order of precedence:
//  - kAlreadyExists if the height is already stored (never an overwrite);
//  - kFailedPrecondition if the chain id differs, the height is not tip + 1 (0 on an empty
//    store), the parent id is not the tip's id (not checked for genesis, whose parent is the
//    genesis document hash), the results count differs from the transaction count, or the
//    accumulator digest differs from results.state_root;
//  - kInvalidArgument if the block exceeds `limits` (the store could not read it back), or if
//    its transactions do not hash to header.transactions_root (the block is not the one its
//    id and certificates speak for).
// Every message names the height and the values that disagree.
// The encoded header at the start of an encode_block form (a u32 length, then the header),
// copied out without reading the transactions; kCorruption naming `what` if it is not there.
StatusOr<Bytes> header_of_encoded_block(ByteView block, const std::string& what);

Status validate_commit(const BlockCommit& commit, const CommitTarget& target);

// What a store knows about itself when a batch arrives.
struct BatchTarget {
  std::string_view chain_id;    // the store's chain id
  std::optional<ChainTip> tip;  // nullopt before genesis
  BlockLimits limits;           // the bounds the store decodes stored blocks with
  // Whether a block is already stored at a height; an error (e.g. kIoError) ends validation.
  std::function<StatusOr<bool>(std::uint64_t height)> height_stored;
};

// validate_commit for every commit of `commits` in order, the commit before it standing in for
// the tip (the first one is checked against target.tip). `encoded_block_bytes[i]` is
// encode_block(commits[i].block).size(). Returns the first refusal; kInvalidArgument for an
// empty batch.
Status validate_batch(std::span<const BlockCommit> commits,
                      std::span<const std::size_t> encoded_block_bytes, const BatchTarget& target);

// Ok if `hold` (the publication hold after a batch whose last block is at `last_height`) names
// a stored height above genesis, or is nullopt; else kInvalidArgument naming both heights.
Status validate_hold(const std::optional<PublicationHold>& hold, std::uint64_t last_height);

}  // namespace ledger::storage::detail
