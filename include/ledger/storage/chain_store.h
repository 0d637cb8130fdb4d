// The committed chain: blocks by height, their commit certificates and results, the indexes,
// and the account state they produced (DESIGN.md section 5).
//
// Two implementations behind this interface: RocksChainStore (storage/rocks_chain_store.h), the
// product, and MemoryChainStore (storage/memory_chain_store.h) for the deterministic simulator.
// tests/unit/storage/chain_store_conformance_test.cpp runs one suite against both.
//
// Thread-safety: reads may run concurrently with each other and with one writer; commits are
// serialised by the caller (the node's single commit path).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "ledger/core/block.h"
#include "ledger/core/certificates.h"
#include "ledger/core/state.h"

namespace ledger::storage {

// Bumped whenever the on-disk layout changes; a database of another version is refused.
// 2: the "tree" column family (the consensus block tree, RocksChainStore::tree_store()).
// 3: the publication hold (PublicationHold) in "meta".
inline constexpr std::uint32_t kSchemaVersion = 3;

struct ChainTip {
  std::uint64_t height = 0;
  Hash block_id;
  friend bool operator==(const ChainTip&, const ChainTip&) = default;
};

struct TxLocation {
  std::uint64_t height = 0;
  std::uint32_t index = 0;
  friend bool operator==(const TxLocation&, const TxLocation&) = default;
};

// Everything committing one block writes, in one atomic, synced batch.
struct BlockCommit {
  Block block;
  // The QC that proves the block committed: a QC for a block B1 whose parent B0 is this block or
  // a committed descendant of it, with B1.round == B0.round + 1 (the 2-chain rule). Genesis:
  // genesis_qc(block). Blocks committed together as ancestors share their batch's QC.
  QuorumCert commit_cert;
  BlockResults results;                         // results.codes.size() == block.transactions.size()
  std::map<Address, Account> changed_accounts;  // empty Account = delete
  StateAccumulator accumulator;  // state after the block; digest == results.state_root
};

// Why readers may not see the tip yet (the publication rule, include/ledger/node/chain_view.h):
// stored blocks whose commit certificate names a B0 that is not stored. Written with the blocks
// that change it, so at open it says what may be published without reading any certificate,
// whatever the configuration was when the blocks arrived.
struct PublicationHold {
  // The lowest stored block whose B0 was not stored when the hold began: every height below it
  // may be published, none from it up while the hold lasts. 1 <= first_height <= the tip.
  std::uint64_t first_height = 0;
  // The B0 of highest round that blocks stored since first_height await, not stored yet. B0s
  // lie on one chain: once it is stored every lower one is, and the hold ends.
  Hash b0_id;
  std::uint64_t b0_round = 0;
  friend bool operator==(const PublicationHold&, const PublicationHold&) = default;
};

class ChainStore : public AccountReader {
 public:
  ~ChainStore() override = default;

  virtual const std::string& chain_id() const = 0;
  // nullopt until the genesis block is committed.
  virtual std::optional<ChainTip> tip() const = 0;

  // Appends consecutive blocks in ONE atomic, synced write: readers (tip() and every read
  // below) see either none of the batch or all of it, never a prefix. Blocks committed by one
  // 2-chain share a commit certificate that names the last of them (B0), so a block of such a
  // group must be committed in the same batch as B0 (a reader of the first block's certificate
  // must be able to read B0).
  // Every block is validated as if the one before it in the batch were the tip (the first one
  // against the store's tip). Refused, with nothing of the batch written, if any block is:
  //  - kAlreadyExists if its height is already stored (never an overwrite);
  //  - kFailedPrecondition if its height is not tip + 1 (0 for an empty store), the parent id
  //    is not the tip's id, the chain id differs, the results count does not match, or the
  //    accumulator digest differs from results.state_root;
  //  - kInvalidArgument if the block exceeds the store's block limits, or its transactions do
  //    not match header.transactions_root (the message names the height).
  // kInvalidArgument for an empty batch. kIoError if the write failed; then nothing of the
  // batch is visible. A refusal has the code and message a one-block commit of the offending
  // block would get, after "block <i> of a batch of <n>: " when the batch has several blocks.
  // `hold` is the publication hold as it stands after the batch (node::ChainView::hold_after
  // plans it), written in the same atomic write: present, it replaces the stored one; nullopt,
  // the stored one is deleted. kInvalidArgument (nothing written) if hold->first_height is 0 or
  // above the batch's last height. A refused batch leaves the stored hold as it was.
  virtual Status commit_batch(std::span<const BlockCommit> commits,
                              const std::optional<PublicationHold>& hold) = 0;
  // A batch of one block.
  Status commit(const BlockCommit& commit, const std::optional<PublicationHold>& hold) {
    return commit_batch(std::span(&commit, 1), hold);
  }
  // The hold the last written batch left; nullopt when none (and before genesis). kCorruption
  // if the stored hold does not decode; kIoError if it cannot be read.
  virtual StatusOr<std::optional<PublicationHold>> publication_hold() const = 0;

  // kNotFound when absent; kCorruption when stored bytes do not decode.
  virtual StatusOr<Block> block_at(std::uint64_t height) const = 0;
  virtual StatusOr<Bytes> raw_block_at(std::uint64_t height) const = 0;
  // The header of the block at `height` in its encode_header form, without the transactions
  // (what a block-sync proof header is): never copies or decodes the transactions. kNotFound
  // when absent; kCorruption when the stored block does not start with a readable header.
  virtual StatusOr<Bytes> raw_header_at(std::uint64_t height) const = 0;
  virtual StatusOr<std::uint64_t> height_of(const Hash& block_id) const = 0;
  virtual StatusOr<TxLocation> transaction_location(const Hash& tx_hash) const = 0;
  virtual StatusOr<QuorumCert> commit_cert_at(std::uint64_t height) const = 0;
  virtual StatusOr<BlockResults> results_at(std::uint64_t height) const = 0;
  // The accumulator after the tip; the empty accumulator before genesis.
  virtual StatusOr<StateAccumulator> accumulator() const = 0;
  // AccountReader: the account as of the tip; Account{} when absent.
  StatusOr<Account> account(const Address& address) const override = 0;
  // Visits every stored account in address order; stops early with the visitor's error.
  virtual Status for_each_account(
      const std::function<Status(const Address&, const Account&)>& visit) const = 0;
};

}  // namespace ledger::storage
