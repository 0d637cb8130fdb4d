#include "ledger/node/block_service.h"

#include <algorithm>

#include "ledger/core/assert.h"

namespace ledger::node {

BlockService::BlockService(Options options, const storage::ChainStore& store)
    : options_(options), store_(store) {
  LEDGER_ASSERT(options_.requests_burst >= 1);
  LEDGER_ASSERT(options_.peers_max >= 1);
}

bool BlockService::take_token(const PublicKey& peer, std::uint64_t now_ms) {
  const std::uint64_t full = std::uint64_t{options_.requests_burst} * 1000;
  auto it = buckets_.find(peer);
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.peers_max) buckets_.erase(buckets_.begin());
    it = buckets_.emplace(peer, Bucket{full, now_ms}).first;
  }
  Bucket& b = it->second;
  if (now_ms > b.updated_ms) {
    const std::uint64_t elapsed = std::min<std::uint64_t>(now_ms - b.updated_ms, 3'600'000);
    b.milli_tokens = std::min(full, b.milli_tokens + elapsed * options_.requests_per_second);
    b.updated_ms = now_ms;
  }
  if (b.milli_tokens < 1000) return false;
  b.milli_tokens -= 1000;
  LEDGER_ASSERT(buckets_.size() <= options_.peers_max);
  return true;
}

std::optional<consensus::BlockResponse> BlockService::answer(const PublicKey& peer,
                                                             const consensus::BlockRequest& request,
                                                             const consensus::BlockTree* tree,
                                                             std::uint64_t now_ms) {
  if (!take_token(peer, now_ms)) {
    ++dropped_;
    return std::nullopt;
  }
  const std::size_t count = std::min<std::size_t>(request.count, options_.fetch_blocks_max);
  consensus::BlockResponse response;
  std::uint64_t bytes = 0;
  auto fits = [&](const Block& block) {
    bytes += encode_block(block).size();
    return bytes <= options_.response_bytes_max;
  };
  if (tree != nullptr) {
    for (Block& block : tree->chain_back(request.block_id, count)) {
      if (!fits(block)) return response;
      response.blocks.push_back(std::move(block));
    }
  }
  // The chain store extends the answer back through committed blocks: a node that lagged may
  // need them to connect a proposal.
  std::optional<std::uint64_t> height;
  if (response.blocks.empty()) {
    if (auto h = store_.height_of(request.block_id); h.is_ok()) height = h.value();
  } else if (response.blocks.size() < count) {
    if (auto h = store_.height_of(response.blocks.back().header.parent_id); h.is_ok()) {
      height = h.value();
    }
  }
  while (height && *height > 0 && response.blocks.size() < count) {
    auto block = store_.block_at(*height);
    if (!block.is_ok() || !fits(block.value())) break;
    response.blocks.push_back(std::move(block).value());
    --*height;
  }
  return response;
}

}  // namespace ledger::node
