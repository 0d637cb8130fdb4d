// Verified transaction signatures, cached by transaction hash (DESIGN.md section 2, step 4):
// each transaction's signature is verified at most once per node, whether it arrives by RPC,
// in a proposal, or is executed at commit.
//
// Only valid signatures are cached (an invalid one is rejected where it arrives and costs its
// sender the verification). Bounded by `entries_max`, oldest insertion evicted first.
//
// Thread-safety: safe for concurrent use; verification runs outside the internal mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <unordered_set>

#include "ledger/core/hash.h"
#include "ledger/core/state.h"
#include "ledger/core/transaction.h"

namespace ledger::node {

class SignatureCache {
 public:
  // `entries_max` >= 1 (asserted; the config validates it).
  explicit SignatureCache(std::size_t entries_max);
  SignatureCache(const SignatureCache&) = delete;
  SignatureCache& operator=(const SignatureCache&) = delete;

  // True when tx's signature is valid. `tx_hash` must be transaction_hash(tx) (the caller has
  // it already; asserted before a new entry is cached). A cached hash answers without verifying.
  // A transfer with invalid fields is not valid (the one-argument form needs valid fields to
  // hash them; blocks and the mempool only hold such).
  bool verify(const SignedTransfer& tx, const Hash& tx_hash);
  bool verify(const SignedTransfer& tx) { return verify(tx, transaction_hash(tx)); }

  // The adaptor execute_block() takes.
  SignatureCheck as_check() {
    return [this](const SignedTransfer& tx) { return verify(tx); };
  }

  std::size_t size() const;
  std::uint64_t verifications() const;  // real signature verifications performed so far
  std::uint64_t hits() const;           // answers from the cache

 private:
  const std::size_t entries_max_;
  mutable std::mutex mutex_;
  std::unordered_set<Hash, HashHasher> valid_;  // guarded by mutex_
  std::deque<Hash> order_;                      // guarded; insertion order, for eviction
  std::uint64_t verifications_ = 0;             // guarded
  std::uint64_t hits_ = 0;                      // guarded
};

}  // namespace ledger::node
