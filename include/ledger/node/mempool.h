// The mempool: admitted, not yet committed transfers (DESIGN.md section 2, steps 2-3).
//
// Admission (admit), in this order, the first failure being the answer:
//   0. format    validate_transfer (chain id syntax, memo size, keys) kInvalidArgument
//   1. size      wire size <= Limits::tx_bytes_max                 kInvalidArgument
//   2. chain id  == the node's chain id                             kInvalidArgument
//   3. duplicate same hash pending                                  kAlreadyExists
//                same hash already committed (tx index)             kAlreadyExists
//   4. signature verify_transfer_signature, through SignatureCache  kInvalidArgument
//   5. nonce     committed_nonce <= nonce < committed_nonce + nonce_window
//                                                                   kFailedPrecondition
//                another transaction pending at (sender, nonce)     kAlreadyExists
//   6. funds     amount <= the sender's committed balance           kFailedPrecondition
//   7. capacity  txs_max, bytes_max, per_sender_max                 kResourceExhausted
// Committed state is read through the AccountReader given to admit() (the chain store); a read
// failure is returned as it is. Step 0 makes admit() safe for any SignedTransfer (the encoders
// assert valid fields); a decoded transaction always passes it. docs/mempool.md lists the
// messages.
//
// Selection (select): the leader pulls, per sender in order of first arrival, consecutive nonces
// starting at the sender's nonce in the state the block will execute on (after its parent,
// which may include uncommitted ancestors), up to the block's count and byte limits. A sender
// with a gap at that nonce contributes nothing; the first transaction that does not fit ends
// the selection. A sender's arrival is when it last went from no pending transaction to one.
//
// Eviction (on_commit): after each committed block, every pending transaction of a touched
// sender whose nonce is below its new committed nonce, and every transaction included in the
// block, leaves; so does every transaction admitted more than ttl_blocks blocks ago.
//
// Thread-safety: all methods are safe to call concurrently (one internal mutex; signature checks
// run outside it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ledger/core/block.h"
#include "ledger/core/hash.h"
#include "ledger/core/state.h"
#include "ledger/core/status.h"
#include "ledger/core/transaction.h"
#include "ledger/node/signature_cache.h"

namespace ledger::node {

struct MempoolLimits {
  std::size_t txs_max = 50'000;                  // pending transactions
  std::size_t bytes_max = 64 * 1024 * 1024;      // pending wire bytes
  std::size_t per_sender_max = 1'000;            // pending transactions of one sender
  std::uint64_t nonce_window = 1'000;            // admitted nonces above the committed one
  std::size_t tx_bytes_max = kTransferBytesMax;  // from genesis transaction_bytes_max
  std::uint64_t ttl_blocks = 600;                // evicted when this many blocks old

  // Names the first bad field, e.g. "mempool.txs_max: must be at least 1".
  Status validate() const;
};

// Where a transaction is known to be committed (answers duplicate checks).
using CommittedLookup = std::function<bool(const Hash& tx_hash)>;

class Mempool {
 public:
  // `signatures` must outlive the mempool; `limits` must validate() (asserted).
  Mempool(std::string chain_id, MempoolLimits limits, SignatureCache& signatures);
  Mempool(const Mempool&) = delete;
  Mempool& operator=(const Mempool&) = delete;

  // See the admission order above. `committed_height` is the tip the state was read at (for
  // ttl_blocks). Returns the transaction's hash when admitted.
  StatusOr<Hash> admit(const SignedTransfer& tx, const AccountReader& committed_state,
                       const CommittedLookup& is_committed, std::uint64_t committed_height);

  // The pending transaction with this hash, if any.
  std::optional<SignedTransfer> find(const Hash& tx_hash) const;

  // Transactions for a block whose parent state is `state` (see Selection above), within
  // `limits` (count, and bytes counted as each transaction's wire size). Does not remove them.
  // Errors only if `state` fails to read. `state` is read without holding the mutex, a batch of
  // senders at a time, so admissions are not held up by it; each sender's run of nonces is
  // taken under the mutex in one piece.
  StatusOr<std::vector<SignedTransfer>> select(const BlockLimits& limits,
                                               const AccountReader& state) const;

  // Evicts what `block` (now committed at its height) made obsolete; `committed_state` is the
  // state after it.
  Status on_commit(const Block& block, const AccountReader& committed_state);

  std::size_t size() const;
  std::size_t bytes() const;
  const MempoolLimits& limits() const { return limits_; }

 private:
  struct Entry {
    SignedTransfer tx;
    Hash hash;
    std::size_t wire_bytes = 0;
    std::uint64_t admitted_height = 0;
    std::multimap<std::uint64_t, Hash>::iterator expiry;  // this entry's node in by_height_
  };
  struct Sender {
    std::map<std::uint64_t, Entry> by_nonce;  // pending, keyed by nonce; never empty
    std::uint64_t arrival = 0;                // its key in by_arrival_
  };
  struct Location {
    Address sender;
    std::uint64_t nonce = 0;
  };
  // Everything admit() learns before taking the lock for the final checks.
  struct Candidate;

  Status admit_locked(const Candidate& candidate);
  void insert_locked(const Candidate& candidate);
  // Removes one entry (and its sender once empty); true when the sender went with it.
  bool erase_locked(std::map<Address, Sender>::iterator sender,
                    std::map<std::uint64_t, Entry>::iterator entry);
  void erase_by_hash_locked(const Hash& tx_hash);  // no-op if not pending
  void evict_below_nonce_locked(const Address& sender, std::uint64_t nonce);
  void evict_expired_locked(std::uint64_t height);
  // Appends `sender`'s consecutive nonces from `nonce` while they fit; false once one does not.
  bool take_locked(const Sender& sender, std::uint64_t nonce, const BlockLimits& limits,
                   std::vector<SignedTransfer>& out, std::uint64_t& out_bytes) const;

  const std::string chain_id_;
  const MempoolLimits limits_;
  SignatureCache& signatures_;

  mutable std::mutex mutex_;
  std::map<Address, Sender> senders_;                       // guarded by mutex_; no empty Sender
  std::map<std::uint64_t, Address> by_arrival_;             // guarded; one per Sender
  std::unordered_map<Hash, Location, HashHasher> by_hash_;  // guarded; one per Entry
  std::multimap<std::uint64_t, Hash> by_height_;  // guarded; admitted height -> hash, per Entry
  std::size_t bytes_ = 0;                         // guarded; sum of wire_bytes
  std::uint64_t next_arrival_ = 0;                // guarded; strictly increasing
};

}  // namespace ledger::node
