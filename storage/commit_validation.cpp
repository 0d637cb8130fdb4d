#include "commit_validation.h"

#include <limits>
#include <string>

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
  return check_limits(commit, target);
}

}  // namespace ledger::storage::detail
