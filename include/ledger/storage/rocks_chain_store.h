// The product ChainStore: the committed chain, its indexes, the account state, the consensus
// safety data and the uncommitted block tree in ONE RocksDB instance per node (DESIGN.md
// section 5).
//
// On-disk layout (schema kSchemaVersion = 3), one column family each:
//   blocks        height (u64 big-endian) -> encode_block            append-only
//   block_ids     block id                -> height (u64 BE)
//   tx_index      transaction hash        -> height (u64 BE) || index (u32 BE)
//   commit_certs  height (u64 BE)         -> encode_qc
//   results       height (u64 BE)         -> encode_block_results
//   accounts      address                 -> encode_account          empty accounts absent
//   safety        "safety_data"           -> encode_safety_data
//   tree          block id (32 bytes)     -> encode_block            uncommitted blocks
//                 "high_qc"               -> encode_qc               (7-byte keys: never an id)
//                 "high_tc"               -> encode_tc
//   meta          chain_id, schema_version (u32 BE), tip_height (u64 BE), tip_id,
//                 state_accumulator (StateAccumulator::encode),
//                 publication_hold (first_height u64 BE || b0_id || b0_round u64 BE; absent
//                 when there is no hold)
// A commit (of one block or a batch of consecutive blocks) is one WriteBatch written with
// sync, so after a crash at any instant the store reopens at the previous or the new tip,
// never between them, with the publication hold that goes with that tip. Schema 2 added
// "tree", schema 3 "publication_hold"; a database of another schema is refused (migrate or
// resync).
//
// Thread-safety: as ChainStore (reads concurrent with each other and with one committer).
// The object owns the RocksDB instance; it is neither copyable nor movable, and closing it
// (destruction) releases the directory lock.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "ledger/consensus/safety_data.h"
#include "ledger/consensus/tree_store.h"
#include "ledger/storage/chain_store.h"

namespace ledger::storage {

class RocksChainStore final : public ChainStore {
 public:
  struct Options {
    // Bounds for blocks read back from disk and for blocks accepted by commit(); take them
    // from the genesis consensus parameters (ConsensusParams::block_limits()).
    BlockLimits block_limits;
    // A missing directory (and missing column families) becomes an empty store. Off for
    // tools that must not create anything, e.g. `ledgerd verify`.
    bool create_if_missing = true;
    // RocksDB checks its files aggressively and refuses to open on any inconsistency.
    bool paranoid_checks = true;
  };

  // Opens (or creates) the store in directory `path` for chain `expected_chain_id`.
  //  - A new store records expected_chain_id and kSchemaVersion.
  //  - kInvalidArgument if expected_chain_id is not a valid chain id.
  //  - kFailedPrecondition if the database has another schema version (the message names both
  //    versions; checked before anything is created, so the database is left unchanged),
  //    belongs to another chain (names both chain ids), or, with create_if_missing off, has no
  //    metadata or lacks one of the column families (names them).
  //  - kCorruption if the metadata is inconsistent with the stored blocks (e.g. the tip names
  //    a block that is not stored or has another id, or the accumulator does not match).
  //  - kIoError (or kCorruption) with RocksDB's message if RocksDB cannot open the directory,
  //    e.g. because another process holds it.
  static StatusOr<std::unique_ptr<RocksChainStore>> open(const std::string& path,
                                                         const std::string& expected_chain_id,
                                                         const Options& options);

  ~RocksChainStore() override;
  RocksChainStore(const RocksChainStore&) = delete;
  RocksChainStore& operator=(const RocksChainStore&) = delete;

  const std::string& chain_id() const override { return chain_id_; }
  std::optional<ChainTip> tip() const override;

  // ChainStore::commit_batch. In addition kInvalidArgument if a block exceeds
  // Options::block_limits (it could never be read back). The transaction index keeps the first
  // location of a transaction hash: a replayed transaction (recorded as failed) does not move
  // it, also when both copies are in one batch. Every block of the batch, and the new tip, go
  // into one WriteBatch; RocksDB makes a WriteBatch visible to reads at once, and the cached
  // tip() moves only after the write. Returns once the batch is synced to disk. After a
  // kIoError RocksDB refuses further writes and the node must stop: a restart then finds the
  // batch either wholly committed (if the write reached the log before failing) or absent,
  // never in part.
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
  // Iterates over a consistent snapshot of the accounts taken when called.
  Status for_each_account(
      const std::function<Status(const Address&, const Account&)>& visit) const override;

  // The consensus safety data, kept in the "safety" column family of the same RocksDB instance;
  // each save() is one synced write. Owned by this store and valid for its lifetime.
  consensus::SafetyStore& safety_store();

  // The consensus block tree (uncommitted blocks, high QC, high TC), kept in the "tree" column
  // family of the same RocksDB instance; each save() is one synced WriteBatch. Blocks are
  // bounded by Options::block_limits on save() (kInvalidArgument) and on load() (kCorruption).
  // Owned by this store and valid for its lifetime; thread-compatible (the TreeStore contract),
  // independent of commit(). The tree and the chain are separate writes: the node forgets a
  // block from the tree only after commit() stored it, so after a crash a block may be in both
  // and recovery ignores the extra copy (docs/storage.md).
  consensus::TreeStore& tree_store();

 private:
  friend class RocksChainStoreTestPeer;  // tests: builds a commit's batch and drops it unwritten

  struct Impl;

  // A commit (batch) that passed validation, encoded into one write batch but not yet written.
  // Destroying it unwritten is exactly what a crash just before the write leaves behind.
  class PreparedCommit {
   public:
    PreparedCommit(PreparedCommit&&) noexcept;
    PreparedCommit& operator=(PreparedCommit&&) noexcept;
    ~PreparedCommit();

   private:
    friend class RocksChainStore;
    struct Batch;
    explicit PreparedCommit(std::unique_ptr<Batch> batch);
    std::unique_ptr<Batch> batch_;  // never null until moved from
  };

  RocksChainStore(std::string chain_id, const Options& options, std::unique_ptr<Impl> impl);

  // commit_batch() is prepare() then write(): validation and encoding, then the one synced
  // write.
  StatusOr<PreparedCommit> prepare(std::span<const BlockCommit> commits,
                                   const std::optional<PublicationHold>& hold) const;
  Status write(PreparedCommit prepared);

  const std::string chain_id_;
  const Options options_;
  std::unique_ptr<Impl> impl_;  // the database, the safety and tree stores, the cached tip
};

}  // namespace ledger::storage
