// The in-memory ChainStore for the deterministic simulator: the same contract, validation,
// error codes and messages as RocksChainStore (both call one shared validation), without a
// disk. "Durable" means for as long as the object lives: the simulator models a crash by
// keeping the store and rebuilding the replica.
//
// Blocks are kept in their encoded form and decoded on every read, so block_at exercises the
// same decoder and limits as the RocksDB store.
//
// Thread-safety: as ChainStore (reads concurrent with each other and with one committer).
// Neither copyable nor movable.
#pragma once

#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "ledger/storage/chain_store.h"
#include "ledger/storage/memory_safety_store.h"

namespace ledger::storage {

class MemoryChainStore final : public ChainStore {
 public:
  struct Options {
    // Bounds for blocks accepted by commit() and decoded by block_at().
    BlockLimits block_limits;
  };

  // An empty store for `chain_id`, which must be a valid chain id (asserted: configuration is
  // validated before it reaches the store).
  explicit MemoryChainStore(std::string chain_id, const Options& options = {});
  MemoryChainStore(const MemoryChainStore&) = delete;
  MemoryChainStore& operator=(const MemoryChainStore&) = delete;

  const std::string& chain_id() const override { return chain_id_; }
  std::optional<ChainTip> tip() const override;

  // ChainStore::commit_batch, with RocksChainStore's additions: kInvalidArgument for a block
  // over Options::block_limits, and the transaction index keeps a hash's first location (also
  // within a batch). The whole batch, and the hold, become visible under one exclusive lock: a
  // reader sees all of it or none of it.
  Status commit_batch(std::span<const BlockCommit> commits,
                      const std::optional<PublicationHold>& hold) override;
  StatusOr<std::optional<PublicationHold>> publication_hold() const override;

  StatusOr<Block> block_at(std::uint64_t height) const override;
  StatusOr<Bytes> raw_block_at(std::uint64_t height) const override;
  StatusOr<Bytes> raw_header_at(std::uint64_t height) const override;
  StatusOr<std::uint64_t> height_of(const Hash& block_id) const override;
  StatusOr<TxLocation> transaction_location(const Hash& tx_hash) const override;
  StatusOr<QuorumCert> commit_cert_at(std::uint64_t height) const override;
  StatusOr<BlockResults> results_at(std::uint64_t height) const override;
  StatusOr<StateAccumulator> accumulator() const override;
  StatusOr<Account> account(const Address& address) const override;
  // Visits a copy of the accounts taken when called, so `visit` may call back into the store.
  Status for_each_account(
      const std::function<Status(const Address&, const Account&)>& visit) const override;

  // The safety data store that lives beside this chain store (as RocksChainStore::
  // safety_store()). Owned by this store and valid for its lifetime; not synchronised (the
  // SafetyStore contract: callers serialise access).
  MemorySafetyStore& safety_store() { return safety_; }

 private:
  // Everything a batch adds, built before any of it is made visible.
  struct Staged;
  Staged stage(std::span<const BlockCommit> commits, std::vector<Bytes> block_bytes) const;
  void publish(Staged& staged, const std::optional<PublicationHold>& hold);

  const std::string chain_id_;
  const Options options_;
  mutable std::shared_mutex mutex_;  // guards everything below except safety_

  std::map<std::uint64_t, Bytes> blocks_;             // height -> encode_block; heights 0..tip
  std::map<Hash, std::uint64_t> block_heights_;       // block id -> height, one per stored block
  std::map<Hash, TxLocation> tx_locations_;           // tx hash -> first location it appeared at
  std::map<std::uint64_t, QuorumCert> commit_certs_;  // same keys as blocks_
  std::map<std::uint64_t, BlockResults> results_;     // same keys as blocks_
  std::map<Address, Account> accounts_;               // no empty account is stored
  StateAccumulator
      accumulator_;              // digest == results_ at the tip's state root; empty before genesis
  std::optional<ChainTip> tip_;  // the last entry of blocks_; nullopt before genesis
  std::optional<PublicationHold> hold_;  // as the last batch left it; first_height <= tip_
  MemorySafetyStore safety_;
};

}  // namespace ledger::storage
