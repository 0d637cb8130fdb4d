#include "ledger/node/block_service.h"

#include <algorithm>
#include <tuple>

#include "ledger/core/assert.h"

namespace ledger::node {

BlockService::BlockService(Options options, const storage::ChainStore& store)
    : options_(options), store_(store) {
  LEDGER_ASSERT(options_.requests_burst >= 1);
  LEDGER_ASSERT(options_.peers_max >= 1);
  LEDGER_ASSERT(options_.bytes_per_second >= 1 && options_.bytes_per_second <= std::uint64_t{1}
                                                                                   << 40);
}

void BlockService::refill(Bucket& b, std::uint64_t now_ms) const {
  if (now_ms <= b.updated_ms) return;
  const std::uint64_t full = std::uint64_t{options_.requests_burst} * 1000;
  const auto bytes_full = static_cast<std::int64_t>(options_.bytes_per_second);
  // An hour refills any bucket; the cap keeps the products below 2^63.
  const std::uint64_t elapsed = std::min<std::uint64_t>(now_ms - b.updated_ms, 3'600'000);
  b.milli_tokens = std::min(full, b.milli_tokens + elapsed * options_.requests_per_second);
  const auto refilled = static_cast<std::int64_t>(elapsed * options_.bytes_per_second / 1000);
  b.bytes = std::min(bytes_full, b.bytes + refilled);
  b.updated_ms = now_ms;
}

void BlockService::on_peer_gone(const PublicKey& peer) {
  if (auto it = buckets_.find(peer); it != buckets_.end()) it->second.connected = false;
}

void BlockService::evict_one(std::uint64_t now_ms) {
  LEDGER_ASSERT(!buckets_.empty());
  const std::uint64_t full = std::uint64_t{options_.requests_burst} * 1000;
  const auto bytes_full = static_cast<std::int64_t>(options_.bytes_per_second);
  // Lower is forgotten first: full, then disconnected, then refilled longest ago.
  auto rank = [&](const Bucket& bucket) {
    Bucket b = bucket;
    refill(b, now_ms);
    const bool is_full = b.milli_tokens >= full && b.bytes >= bytes_full;
    return std::tuple(!is_full, b.connected, bucket.updated_ms);
  };
  buckets_.erase(std::min_element(buckets_.begin(), buckets_.end(), [&](auto& a, auto& b) {
    return rank(a.second) < rank(b.second);
  }));
}

BlockService::Bucket* BlockService::take_token(const PublicKey& peer, std::uint64_t now_ms) {
  const std::uint64_t full = std::uint64_t{options_.requests_burst} * 1000;
  const auto bytes_full = static_cast<std::int64_t>(options_.bytes_per_second);
  auto it = buckets_.find(peer);
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.peers_max) evict_one(now_ms);
    it = buckets_.emplace(peer, Bucket{full, bytes_full, now_ms}).first;
  }
  Bucket& b = it->second;
  b.connected = true;
  refill(b, now_ms);
  LEDGER_ASSERT(buckets_.size() <= options_.peers_max);
  if (b.milli_tokens < 1000 || b.bytes <= 0) return nullptr;
  b.milli_tokens -= 1000;
  return &b;
}

std::optional<consensus::BlockResponse> BlockService::answer(const PublicKey& peer,
                                                             const consensus::BlockRequest& request,
                                                             const consensus::BlockTree* tree,
                                                             std::uint64_t now_ms) {
  Bucket* bucket = take_token(peer, now_ms);
  if (bucket == nullptr) {
    ++dropped_;
    return std::nullopt;
  }
  const std::size_t count = std::min<std::size_t>(request.count, options_.fetch_blocks_max);
  // The peer's bytes bound the answer, except that its first block always goes.
  const std::uint64_t budget =
      std::min(options_.response_bytes_max, static_cast<std::uint64_t>(bucket->bytes));
  consensus::BlockResponse response;
  std::uint64_t bytes = 0;
  auto fits = [&](const Block& block) {
    const std::uint64_t size = encode_block(block).size();
    const bool first = response.blocks.empty();
    if (bytes + size > (first ? options_.response_bytes_max : budget)) return false;
    bytes += size;
    return true;
  };
  bool cut = false;  // a block did not fit
  if (tree != nullptr) {
    for (Block& block : tree->chain_back(request.block_id, count)) {
      if (!fits(block)) {
        cut = true;
        break;
      }
      response.blocks.push_back(std::move(block));
    }
  }
  // The chain store extends the answer back through committed blocks: a node that lagged may
  // need them to connect a proposal.
  std::optional<std::uint64_t> height;
  if (cut) {
    // The answer is full.
  } else if (response.blocks.empty()) {
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
  bucket->bytes -= static_cast<std::int64_t>(bytes);
  return response;
}

}  // namespace ledger::node
