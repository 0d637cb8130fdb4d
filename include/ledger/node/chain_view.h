// What readers see of the chain (host component; docs/architecture.md): the published tip, and
// every query answered at or below it.
//
// The chain store holds a commit batch from its write on, but readers see it only once the
// commit pipeline published its tip (after the synced write and the mempool eviction). Every
// answer here reads the published height first and answers from heights at or below it, so a
// block, its transactions and the certificates of its batch become visible together, and no
// answer depends on a block readers cannot see yet.
//
// A batch ends at B0, the block its commit certificate's 2-chain commits. Block sync may store
// the first part of a batch cut across responses (BlockSync checked it with proof headers): its
// last block's certificate then names a B0 that is not stored yet. Such blocks stay unpublished
// until the rest of the batch is stored, so that a reader never meets a certificate naming a
// block it cannot read.
//
// Inputs (event loop thread): publish_batch() after each commit, publish_stored() at open,
// set_round() when the replica's round moves, shut_down() once (waiters wake with kUnavailable).
// Outputs (any thread): the queries below, and wait_for_height().
//
// Thread-safe: the published tip is guarded by a mutex; the chain store's reads and the
// mempool are thread-safe themselves.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "ledger/consensus/replica.h"
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

  // Whether `block` (id `id`) ends its commit batch: its certificate names it as B0 or as the
  // block it certifies; genesis always does.
  static bool ends_batch(const Block& block, const Hash& id, const QuorumCert& commit_cert);

  // Makes every height up to `block`'s visible and wakes the waiters. `block` must end a batch.
  void publish(const Block& block, const Hash& id, std::uint64_t current_round);
  // `stored` were just written, in height order: publishes the last of them that ends a batch.
  // False (nothing published) when none does.
  bool publish_batch(const std::vector<consensus::CommittedBlock>& stored,
                     std::uint64_t current_round);
  // At open: publishes the highest stored block that ends a batch (the tip, unless block sync
  // stopped inside a batch). Store read errors as they are.
  Status publish_stored(std::uint64_t current_round);
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
