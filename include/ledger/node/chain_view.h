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
// a block whose certificate names a B0 that is not stored yet: the first part of a batch cut
// across responses, or a block a peer answered with the genuine certificate of a later batch
// (BlockSync accepts it: proof headers link the block to that B0, up to proof_headers_max
// blocks ahead). The publication rule: a height h is published only when every stored block at
// or below h has its certificate's B0 stored at or below h. So a reader never meets a
// certificate naming a block it cannot read (issue 11, point 9).
//
// The rule is kept through a publication hold (storage::PublicationHold): from the first stored
// block whose B0 is not stored, nothing is published until the highest-round B0 the blocks
// stored since await is stored. The commit pipeline plans the hold a batch leaves
// (hold_after()) and the chain store writes it in the same atomic write as the batch, so at
// open publish_stored() reads it instead of any certificate, and what it publishes depends on
// no configuration (p2p frame or sync limits, pending_blocks_max) that may have changed since.
// Published heights never go down, across restarts too: while a hold lasts nothing at or above
// its first height is published, and the hold is durable with the blocks it covers, so
// publish_stored() publishes the height published before a crash or a higher one.
//
// Inputs (event loop thread): publish_batch() after each commit, publish_stored() at open,
// set_round() when the replica's round moves, shut_down() once (waiters wake with kUnavailable).
// Outputs (any thread): the queries below, and wait_for_height().
//
// Thread-safe: the published tip is guarded by a mutex; the chain store's reads and the
// mempool are thread-safe themselves. The publish_* calls come from one thread (the event loop);
// hold_after() is pure and may be called from any.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
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

  // Makes every height up to `block`'s visible and wakes the waiters. The caller keeps the
  // publication rule (tests; the node uses the two calls below).
  void publish(const Block& block, const Hash& id, std::uint64_t current_round);
  // The publication hold after `stored` (consecutive blocks, in height order) are written right
  // above the blocks `hold` was planned for: pure, the same rule publish_batch() applies. A
  // block that is the awaited B0 ends the hold if it ends its batch; a block that does not end
  // its batch awaits its B0, which starts a hold at its height when none is active (else keeps
  // the hold's first height) and becomes the hold's B0 if its round is higher (B0s lie on one
  // chain: the highest one stored means every lower one is). The commit pipeline writes the
  // result with the batch (storage::ChainStore::commit_batch).
  static std::optional<storage::PublicationHold> hold_after(
      std::optional<storage::PublicationHold> hold,
      std::span<const consensus::CommittedBlock> stored);
  // `stored` were just written, in height order, right above the blocks of the previous calls
  // (every stored block passes through here or publish_stored()): publishes the last of them
  // the publication rule allows, the last one after which no hold is active. False (nothing
  // published) when it allows none. O(|stored|), no store read.
  bool publish_batch(const std::vector<consensus::CommittedBlock>& stored,
                     std::uint64_t current_round);
  // At open: publishes the highest stored height the publication rule allows, from the stored
  // publication hold: the tip when there is none, else the height below its first height; and
  // takes the hold over for publish_batch(). Reads the hold and one block, whatever the
  // chain's length. kCorruption if the hold's first height is 0 or above the tip; store read
  // errors as they are.
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
  // The store keeps one state, after its tip, which may be above the published height (a
  // batch between its write and its publication, or blocks waiting for their B0): the answer
  // names the height the state is of, the store's tip then, which is never below the published
  // height. kUnavailable if commits kept landing during kAccountReadAttemptsMax reads.
  StatusOr<rpc::AccountAt> account(const Address& address) const;
  static constexpr int kAccountReadAttemptsMax = 8;
  StatusOr<rpc::BlockView> block_at(std::uint64_t height) const;
  StatusOr<rpc::BlockView> block_by_id(const Hash& id) const;

 private:
  const storage::ChainStore& chain_;
  const Mempool& mempool_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  PublishedTip tip_;       // guarded by mutex_
  bool stopping_ = false;  // guarded by mutex_
  // The hold after every block stored so far (publish_stored(), then each publish_batch()):
  // nothing at or above hold_->first_height is published while it lasts. Publishing thread
  // only.
  std::optional<storage::PublicationHold> hold_;
  // hold_after() for one block, whose id is `id`.
  static std::optional<storage::PublicationHold> advance(
      std::optional<storage::PublicationHold> hold, const consensus::CommittedBlock& stored,
      const Hash& id);
};

}  // namespace ledger::node
