#include "ledger/storage/memory_chain_store.h"

#include <limits>
#include <mutex>

#include "commit_validation.h"
#include "exception_boundary.h"
#include "ledger/core/chain_id.h"

namespace ledger::storage {

// Every allocation of a batch happens while staging; publishing only splices map nodes and
// assigns values already built, so it cannot fail halfway.
struct MemoryChainStore::Staged {
  std::map<std::uint64_t, Bytes> blocks;
  std::map<Hash, std::uint64_t> block_heights;
  std::map<Hash, TxLocation> tx_locations;  // only hashes not indexed yet, at their first place
  std::map<std::uint64_t, QuorumCert> commit_certs;
  std::map<std::uint64_t, BlockResults> results;
  std::map<Address, Account> changed_accounts;  // the batch's last value of each; empty = delete
  std::map<Address, Account> new_accounts;      // non-empty accounts not stored yet
  StateAccumulator accumulator;                 // after the last block
  ChainTip tip;                                 // the last block
};

namespace {

std::string height_what(std::string_view thing, std::uint64_t height) {
  return std::string(thing) + " at height " + std::to_string(height);
}

template <typename Map, typename Key>
StatusOr<typename Map::mapped_type> find_or_not_found(const Map& map, const Key& key,
                                                      const std::string& what) {
  auto it = map.find(key);
  if (it == map.end()) return Status::not_found("no " + what);
  return it->second;
}

}  // namespace

MemoryChainStore::MemoryChainStore(std::string chain_id, const Options& options)
    : chain_id_(std::move(chain_id)), options_(options) {
  LEDGER_ASSERT(validate_chain_id(chain_id_).is_ok());
}

std::optional<ChainTip> MemoryChainStore::tip() const {
  std::shared_lock lock(mutex_);
  return tip_;
}

Status MemoryChainStore::commit_batch(std::span<const BlockCommit> commits,
                                      const std::optional<PublicationHold>& hold) {
  return detail::guard_exceptions("commit", [&]() -> Status {
    std::vector<Bytes> block_bytes;
    std::vector<std::size_t> sizes;
    for (const BlockCommit& commit : commits) {
      block_bytes.push_back(encode_block(commit.block));
      sizes.push_back(block_bytes.back().size());
    }
    std::unique_lock lock(mutex_);
    const detail::BatchTarget target{
        chain_id_, tip_, options_.block_limits,
        [this](std::uint64_t height) -> StatusOr<bool> { return blocks_.contains(height); }};
    LEDGER_RETURN_IF_ERROR(detail::validate_batch(commits, sizes, target));
    LEDGER_RETURN_IF_ERROR(detail::validate_hold(hold, commits.back().block.header.height));
    Staged staged = stage(commits, std::move(block_bytes));
    publish(staged, hold);
    return Status::ok();
  });
}

StatusOr<std::optional<PublicationHold>> MemoryChainStore::publication_hold() const {
  std::shared_lock lock(mutex_);
  return hold_;
}

MemoryChainStore::Staged MemoryChainStore::stage(std::span<const BlockCommit> commits,
                                                 std::vector<Bytes> block_bytes) const {
  LEDGER_ASSERT(!commits.empty() && commits.size() == block_bytes.size());
  Staged staged;
  for (std::size_t b = 0; b < commits.size(); ++b) {
    const BlockCommit& commit = commits[b];
    const Block& block = commit.block;
    const std::uint64_t height = block.header.height;
    staged.tip = ChainTip{height, block.id()};
    staged.blocks.emplace(height, std::move(block_bytes[b]));
    staged.block_heights.emplace(staged.tip.block_id, height);
    for (std::size_t i = 0; i < block.transactions.size(); ++i) {
      const Hash hash = transaction_hash(block.transactions[i]);
      if (tx_locations_.contains(hash)) continue;                     // the first location stays
      LEDGER_ASSERT(i <= std::numeric_limits<std::uint32_t>::max());  // validated block limits
      staged.tx_locations.try_emplace(hash, TxLocation{height, static_cast<std::uint32_t>(i)});
    }
    staged.commit_certs.emplace(height, commit.commit_cert);
    staged.results.emplace(height, commit.results);
    for (const auto& [address, account] : commit.changed_accounts)
      staged.changed_accounts.insert_or_assign(address, account);
  }
  for (const auto& [address, account] : staged.changed_accounts) {
    if (!account.is_empty() && !accounts_.contains(address)) {
      staged.new_accounts.emplace(address, account);
    }
  }
  staged.accumulator = commits.back().accumulator;
  return staged;
}

void MemoryChainStore::publish(Staged& staged, const std::optional<PublicationHold>& hold) {
  blocks_.merge(staged.blocks);
  block_heights_.merge(staged.block_heights);
  tx_locations_.merge(staged.tx_locations);
  commit_certs_.merge(staged.commit_certs);
  results_.merge(staged.results);
  for (const auto& [address, account] : staged.changed_accounts) {
    if (account.is_empty()) {
      accounts_.erase(address);
    } else if (auto it = accounts_.find(address); it != accounts_.end()) {
      it->second = account;
    }
  }
  accounts_.merge(staged.new_accounts);
  // Validation refused existing heights and ids, so every staged node moved.
  LEDGER_ASSERT(staged.blocks.empty() && staged.block_heights.empty());
  LEDGER_ASSERT(staged.tx_locations.empty() && staged.new_accounts.empty());
  accumulator_ = std::move(staged.accumulator);
  tip_ = staged.tip;
  hold_ = hold;  // trivially copyable: cannot fail either
}

StatusOr<Block> MemoryChainStore::block_at(std::uint64_t height) const {
  return detail::guard_exceptions("block_at", [&]() -> StatusOr<Block> {
    LEDGER_ASSIGN_OR_RETURN(Bytes bytes, raw_block_at(height));
    auto block = decode_block(bytes, options_.block_limits);
    if (!block.is_ok()) {
      return Status::corruption("stored " + height_what("block", height) +
                                " does not decode: " + block.status().message());
    }
    return std::move(block).value();
  });
}

StatusOr<Bytes> MemoryChainStore::raw_block_at(std::uint64_t height) const {
  return detail::guard_exceptions("raw_block_at", [&]() -> StatusOr<Bytes> {
    std::shared_lock lock(mutex_);
    return find_or_not_found(blocks_, height, height_what("block", height));
  });
}

StatusOr<Bytes> MemoryChainStore::raw_header_at(std::uint64_t height) const {
  return detail::guard_exceptions("raw_header_at", [&]() -> StatusOr<Bytes> {
    const std::string what = height_what("block", height);
    std::shared_lock lock(mutex_);
    const auto it = blocks_.find(height);
    if (it == blocks_.end()) return Status::not_found("no " + what);
    return detail::header_of_encoded_block(it->second, what);
  });
}

StatusOr<std::uint64_t> MemoryChainStore::height_of(const Hash& block_id) const {
  return detail::guard_exceptions("height_of", [&]() -> StatusOr<std::uint64_t> {
    std::shared_lock lock(mutex_);
    return find_or_not_found(block_heights_, block_id, "block with id " + block_id.hex());
  });
}

StatusOr<TxLocation> MemoryChainStore::transaction_location(const Hash& tx_hash) const {
  return detail::guard_exceptions("transaction_location", [&]() -> StatusOr<TxLocation> {
    std::shared_lock lock(mutex_);
    return find_or_not_found(tx_locations_, tx_hash, "transaction with hash " + tx_hash.hex());
  });
}

StatusOr<QuorumCert> MemoryChainStore::commit_cert_at(std::uint64_t height) const {
  return detail::guard_exceptions("commit_cert_at", [&]() -> StatusOr<QuorumCert> {
    std::shared_lock lock(mutex_);
    return find_or_not_found(commit_certs_, height, height_what("commit certificate", height));
  });
}

StatusOr<BlockResults> MemoryChainStore::results_at(std::uint64_t height) const {
  return detail::guard_exceptions("results_at", [&]() -> StatusOr<BlockResults> {
    std::shared_lock lock(mutex_);
    return find_or_not_found(results_, height, height_what("results", height));
  });
}

StatusOr<StateAccumulator> MemoryChainStore::accumulator() const {
  std::shared_lock lock(mutex_);
  return accumulator_;
}

StatusOr<Account> MemoryChainStore::account(const Address& address) const {
  std::shared_lock lock(mutex_);
  auto it = accounts_.find(address);
  return it == accounts_.end() ? Account() : it->second;
}

Status MemoryChainStore::for_each_account(
    const std::function<Status(const Address&, const Account&)>& visit) const {
  return detail::guard_exceptions("for_each_account", [&]() -> Status {
    std::map<Address, Account> snapshot;
    {
      std::shared_lock lock(mutex_);
      snapshot = accounts_;
    }
    for (const auto& [address, account] : snapshot)
      LEDGER_RETURN_IF_ERROR(visit(address, account));
    return Status::ok();
  });
}

}  // namespace ledger::storage
