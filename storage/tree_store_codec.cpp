#include "tree_store_codec.h"

#include <algorithm>
#include <string>
#include <tuple>

namespace ledger::storage::detail {
namespace {

std::string block_what(const Hash& id, const Block& block) {
  return "tree block " + id.hex() + " at height " + std::to_string(block.header.height);
}

}  // namespace

StatusOr<std::vector<EncodedTreeBlock>> encode_tree_blocks(const std::vector<Block>& blocks,
                                                           const BlockLimits& limits) {
  std::vector<EncodedTreeBlock> encoded;
  encoded.reserve(blocks.size());
  for (const Block& block : blocks) {
    EncodedTreeBlock entry{block.id(), encode_block(block)};
    const std::size_t transactions = block.transactions.size();
    if (transactions > limits.transactions_max) {
      return Status::invalid_argument(
          block_what(entry.id, block) + " has " + std::to_string(transactions) +
          " transactions, the store limit is " + std::to_string(limits.transactions_max));
    }
    if (entry.bytes.size() > limits.bytes_max) {
      return Status::invalid_argument(
          block_what(entry.id, block) + " is " + std::to_string(entry.bytes.size()) +
          " bytes, the store limit is " + std::to_string(limits.bytes_max));
    }
    encoded.push_back(std::move(entry));
  }
  return encoded;
}

StatusOr<Block> decode_tree_block(const Hash& key, ByteView bytes, const BlockLimits& limits) {
  auto block = decode_block(bytes, limits);
  if (!block.is_ok()) {
    return Status::corruption("stored tree block under key " + key.hex() +
                              " does not decode: " + block.status().message());
  }
  const Hash id = block->id();
  if (id != key) {
    return Status::corruption("stored tree block under key " + key.hex() + " has id " + id.hex());
  }
  return std::move(block).value();
}

StatusOr<QuorumCert> decode_tree_high_qc(ByteView bytes) {
  auto qc = decode_qc(bytes);
  if (!qc.is_ok()) {
    return Status::corruption("stored tree high_qc does not decode: " + qc.status().message());
  }
  return std::move(qc).value();
}

StatusOr<TimeoutCert> decode_tree_high_tc(ByteView bytes) {
  auto tc = decode_tc(bytes);
  if (!tc.is_ok()) {
    return Status::corruption("stored tree high_tc does not decode: " + tc.status().message());
  }
  return std::move(tc).value();
}

std::vector<Block> order_tree_blocks(std::vector<std::pair<Hash, Block>> keyed) {
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    return std::tie(a.second.header.height, a.first) < std::tie(b.second.header.height, b.first);
  });
  std::vector<Block> blocks;
  blocks.reserve(keyed.size());
  for (auto& [id, block] : keyed)
    blocks.push_back(std::move(block));
  return blocks;
}

}  // namespace ledger::storage::detail
