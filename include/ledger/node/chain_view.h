// What readers see of the chain (host component; docs/architecture.md): the published tip, and
// every query answered at or below it.
//
// The chain store holds a commit batch from its write on, but readers see it only once the
// commit pipeline published its tip (after the synced write and the mempool eviction). Every
// answer here reads the published height first and answers from heights at or below it, so a
// block, its transactions and the certificates of its batch become visible together, and no
// answer depends on a block readers cannot see yet.
//
// Inputs (event loop thread): publish() after each commit batch, set_round() when the replica's
// round moves, shut_down() once (waiters wake with kUnavailable).
// Outputs (any thread): the queries below, and wait_for_height().
//
// Thread-safe: the published tip is guarded by a mutex; the chain store's reads and the
// mempool are thread-safe themselves.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "ledger/core/block.h"
#include "ledger/node/mempool.h"
#include "ledger/rpc/node_api.h"
#include "ledger/storage/chain_store.h"

namespace ledger::node {

// The published tip and the replica's round, as of one instant.
struct PublishedTip {
  std::uint64_t height = 0;
  Hash block_id;
  std::uint64_t block_time_ms = 0;
  std::uint64_t current_round = 0;
};

class ChainView {
 public:
  // `chain` and `mempool` must outlive this object.
  ChainView(const storage::ChainStore& chain, const Mempool& mempool)
      : chain_(chain), mempool_(mempool) {}
  ChainView(const ChainView&) = delete;
  ChainView& operator=(const ChainView&) = delete;

  // Makes every height up to `block`'s visible and wakes the waiters.
  void publish(const Block& block, const Hash& id, std::uint64_t current_round);
  void set_round(std::uint64_t current_round);
  // Waiters return kUnavailable from now on.
  void shut_down();

  PublishedTip tip() const;
  std::uint64_t latest_height() const;
  bool shutting_down() const;

  // Blocks until the published height reaches `height` (the height), the deadline passes (the
  // height then), or shut_down() (kUnavailable).
  StatusOr<std::uint64_t> wait_for_height(std::uint64_t height,
                                          std::chrono::steady_clock::time_point deadline) const;

  // The NodeApi queries (ledger/rpc/node_api.h), answered at or below the published height.
  // kNotFound names what is missing; kCorruption when the store's indexes disagree.
  StatusOr<rpc::CommittedTx> committed_transaction(const Hash& tx_hash) const;
  StatusOr<rpc::TxLookup> transaction(const Hash& tx_hash) const;  // committed, else pending
  StatusOr<rpc::AccountAt> account(const Address& address) const;
  StatusOr<rpc::BlockView> block_at(std::uint64_t height) const;
  StatusOr<rpc::BlockView> block_by_id(const Hash& id) const;

 private:
  const storage::ChainStore& chain_;
  const Mempool& mempool_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  PublishedTip tip_;       // guarded by mutex_
  bool stopping_ = false;  // guarded by mutex_
};

}  // namespace ledger::node
