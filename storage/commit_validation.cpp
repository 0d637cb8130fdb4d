#include "commit_validation.h"

#include <limits>
#include <string>

#include "ledger/core/assert.h"
#include "ledger/core/encoding.h"

namespace ledger::storage::detail {
namespace {

std::string quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

Status check_position(const BlockHeader& header, const std::optional<ChainTip>& tip) {
  if (!tip) {
    if (header.height == 0) return Status::ok();
    return Status::failed_precondition("block height " + std::to_string(header.height) +
                                       " cannot be committed to an empty store: the first "
                                       "block must be genesis (height 0)");
  }
  if (tip->height == std::numeric_limits<std::uint64_t>::max()) {
    return Status::failed_precondition("the chain is at the maximum height " +
                                       std::to_string(tip->height));
  }
  const std::uint64_t next = tip->height + 1;
  if (header.height != next) {
    return Status::failed_precondition("block height " + std::to_string(header.height) +
                                       " is not the next height " + std::to_string(next) +
                                       " (tip is " + std::to_string(tip->height) + ")");
  }
  if (header.parent_id != tip->block_id) {
    return Status::failed_precondition(
        "block " + std::to_string(header.height) + " parent id " + header.parent_id.hex() +
        " is not the tip id " + tip->block_id.hex() + " at height " + std::to_string(tip->height));
  }
  return Status::ok();
}

Status check_results(const BlockCommit& commit) {
  const std::uint64_t height = commit.block.header.height;
  const std::size_t transactions = commit.block.transactions.size();
  if (commit.results.codes.size() != transactions) {
    return Status::failed_precondition("block " + std::to_string(height) + " has " +
                                       std::to_string(transactions) + " transactions but " +
                                       std::to_string(commit.results.codes.size()) + " results");
  }
  const Hash digest = commit.accumulator.digest();
  if (digest != commit.results.state_root) {
    return Status::failed_precondition("block " + std::to_string(height) + " accumulator digest " +
                                       digest.hex() + " differs from the results state root " +
                                       commit.results.state_root.hex());
  }
  return Status::ok();
}

Status check_limits(const BlockCommit& commit, const CommitTarget& target) {
  const std::uint64_t height = commit.block.header.height;
  const std::size_t transactions = commit.block.transactions.size();
  if (transactions > target.limits.transactions_max) {
    return Status::invalid_argument(
        "block " + std::to_string(height) + " has " + std::to_string(transactions) +
        " transactions, the store limit is " + std::to_string(target.limits.transactions_max));
  }
  if (target.encoded_block_bytes > target.limits.bytes_max) {
    return Status::invalid_argument(
        "block " + std::to_string(height) + " is " + std::to_string(target.encoded_block_bytes) +
        " bytes, the store limit is " + std::to_string(target.limits.bytes_max));
  }
  return Status::ok();
}

// Defence in depth (issue 11, point 1): consensus and block sync check the root before a block
// gets here, but the store is the last place a block with swapped transactions can be stopped
// before it is served under a header (and an id, and certificates) that speak for others.
Status check_transactions_root(const BlockCommit& commit) {
  const BlockHeader& header = commit.block.header;
  const Hash root = transactions_root(commit.block.transactions);
  if (root != header.transactions_root) {
    return Status::invalid_argument(
        "block " + std::to_string(header.height) + " has " +
        std::to_string(commit.block.transactions.size()) + " transactions whose root " +
        root.hex() + " is not its header's transactions root " + header.transactions_root.hex());
  }
  return Status::ok();
}

}  // namespace

Status validate_commit(const BlockCommit& commit, const CommitTarget& target) {
  const BlockHeader& header = commit.block.header;
  if (target.height_stored) {
    return Status::already_exists("a block is already stored at height " +
                                  std::to_string(header.height) +
                                  "; stored blocks are never "
                                  "overwritten");
  }
  if (header.chain_id != target.chain_id) {
    return Status::failed_precondition("block chain id " + quoted(header.chain_id) +
                                       " is not this store's chain id " + quoted(target.chain_id));
  }
  LEDGER_RETURN_IF_ERROR(check_position(header, target.tip));
  LEDGER_RETURN_IF_ERROR(check_results(commit));
  LEDGER_RETURN_IF_ERROR(check_limits(commit, target));
#ifdef LEDGER_TEST_SKIP_TX_ROOT_CHECK  // negative control only (tests/sim)
  (void)&check_transactions_root;
  return Status::ok();
#else
  return check_transactions_root(commit);
#endif
}

Status validate_batch(std::span<const BlockCommit> commits,
                      std::span<const std::size_t> encoded_block_bytes, const BatchTarget& target) {
  LEDGER_ASSERT(commits.size() == encoded_block_bytes.size());
  LEDGER_ASSERT(target.height_stored != nullptr);
  if (commits.empty()) return Status::invalid_argument("a batch must commit at least one block");
  std::optional<ChainTip> tip = target.tip;
  for (std::size_t i = 0; i < commits.size(); ++i) {
    const BlockCommit& commit = commits[i];
    LEDGER_ASSIGN_OR_RETURN(const bool stored, target.height_stored(commit.block.header.height));
    const CommitTarget one{target.chain_id, tip, stored, target.limits, encoded_block_bytes[i]};
    Status valid = validate_commit(commit, one);
    if (!valid.is_ok()) {
      if (commits.size() == 1) return valid;
      return valid.with_context("block " + std::to_string(i + 1) + " of a batch of " +
                                std::to_string(commits.size()));
    }
    tip = ChainTip{commit.block.header.height, commit.block.id()};
  }
  return Status::ok();
}

Status validate_hold(const std::optional<PublicationHold>& hold, std::uint64_t last_height) {
  if (!hold || (hold->first_height >= 1 && hold->first_height <= last_height)) return Status::ok();
  return Status::invalid_argument("the publication hold starts at height " +
                                  std::to_string(hold->first_height) +
                                  ", which is not a stored height above genesis once the batch "
                                  "ending at height " +
                                  std::to_string(last_height) + " is written");
}

StatusOr<Bytes> header_of_encoded_block(ByteView block, const std::string& what) {
  ByteReader reader(block);
  ByteView header;
  if (Status s = reader.view32("block header", block.size(), header); !s.is_ok()) {
    return Status::corruption("stored " + what + ": " + s.message());
  }
  return Bytes(header.begin(), header.end());
}

}  // namespace ledger::storage::detail
