#include "ledger/node/signature_cache.h"

#include "ledger/core/assert.h"

namespace ledger::node {

SignatureCache::SignatureCache(std::size_t entries_max) : entries_max_(entries_max) {
  LEDGER_ASSERT(entries_max_ >= 1);
}

bool SignatureCache::verify(const SignedTransfer& tx, const Hash& tx_hash) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (valid_.contains(tx_hash)) {
      ++hits_;
      return true;
    }
  }
  // Outside the lock: a verification costs tens of microseconds, a lookup far less. Two threads
  // may verify the same transaction at once; both count, and only one entry is kept.
  const bool valid = verify_transfer_signature(tx);
  // Only a valid transaction can be hashed (the encoder asserts valid fields); a wrong hash
  // here would let another transaction answer for this one, so it is checked before caching.
  if (valid) LEDGER_ASSERT(tx_hash == transaction_hash(tx));

  std::lock_guard<std::mutex> lock(mutex_);
  ++verifications_;
  if (!valid || !valid_.insert(tx_hash).second) return valid;
  order_.push_back(tx_hash);
  while (order_.size() > entries_max_) {
    valid_.erase(order_.front());
    order_.pop_front();
  }
  LEDGER_ASSERT(valid_.size() == order_.size());
  return true;
}

std::size_t SignatureCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return valid_.size();
}

std::uint64_t SignatureCache::verifications() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return verifications_;
}

std::uint64_t SignatureCache::hits() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return hits_;
}

}  // namespace ledger::node
