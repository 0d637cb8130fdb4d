// One suite, run against every ChainStore: RocksChainStore on a real RocksDB in a temporary
// directory, and MemoryChainStore. Each test checks one rule of the contract in
// include/ledger/storage/chain_store.h.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ledger/storage/memory_chain_store.h"
#include "ledger/storage/rocks_chain_store.h"
#include "support/chain_fixture.h"
#include "support/temp_dir.h"

namespace ledger::storage {
namespace {

using ledger::testing::TestChain;
using ::testing::HasSubstr;

constexpr char kChainId[] = "conformance-chain";
constexpr std::uint32_t kSignerCount = 4;
constexpr std::uint64_t kInitialBalance = 1'000'000;
// Small enough that a test can build a block over it.
constexpr BlockLimits kLimits{8, 1 << 20};

class RocksFactory {
 public:
  using Store = RocksChainStore;
  Status open() {
    RocksChainStore::Options options;
    options.block_limits = kLimits;
    auto store = RocksChainStore::open((dir_.path() / "db").string(), kChainId, options);
    if (!store.is_ok()) return store.status();
    store_ = std::move(store).value();
    return Status::ok();
  }
  Store& store() { return *store_; }

 private:
  ledger::testing::TempDir dir_;
  std::unique_ptr<RocksChainStore> store_;
};

class MemoryFactory {
 public:
  using Store = MemoryChainStore;
  Status open() {
    store_ = std::make_unique<MemoryChainStore>(kChainId, MemoryChainStore::Options{kLimits});
    return Status::ok();
  }
  Store& store() { return *store_; }

 private:
  std::unique_ptr<MemoryChainStore> store_;
};

std::vector<Signer> make_signers() {
  std::vector<Signer> signers;
  for (std::uint32_t i = 0; i < kSignerCount; ++i)
    signers.push_back(ledger::testing::fixture_signer(i));
  return signers;
}

std::map<Address, Account> allocation(const std::vector<Signer>& signers) {
  std::map<Address, Account> accounts;
  for (const Signer& signer : signers)
    accounts[signer.public_key()] = Account{kInitialBalance, 0};
  return accounts;
}

template <typename Factory>
class ChainStoreConformance : public ::testing::Test {
 protected:
  ChainStoreConformance() : signers_(make_signers()), chain_(kChainId, allocation(signers_)) {}

  void SetUp() override {
    Status opened = factory_.open();
    ASSERT_TRUE(opened.is_ok()) << opened.to_string();
  }

  typename Factory::Store& store() { return factory_.store(); }
  const Address& address(std::size_t i) const { return signers_[i].public_key(); }

  // Two transfers between neighbours, different for every height.
  std::vector<SignedTransfer> transfers() const {
    const std::size_t k = chain_.commits().size();
    const std::size_t from = k % kSignerCount;
    const std::size_t to = (k + 1) % kSignerCount;
    return {chain_.transfer(signers_[from], address(to), 100 + k),
            chain_.transfer(signers_[to], address(from), 7 * k)};
  }

  void commit_ok(const BlockCommit& commit) {
    Status status = store().commit(commit, std::nullopt);
    ASSERT_TRUE(status.is_ok()) << status.to_string();
  }

  // Commits genesis and `blocks` blocks of transfers.
  void commit_chain(std::size_t blocks) {
    ASSERT_NO_FATAL_FAILURE(commit_ok(chain_.genesis()));
    for (std::size_t i = 0; i < blocks; ++i)
      ASSERT_NO_FATAL_FAILURE(commit_ok(chain_.next(transfers())));
  }

  void commit_batch_ok(const std::vector<BlockCommit>& batch) {
    Status status = store().commit_batch(batch, std::nullopt);
    ASSERT_TRUE(status.is_ok()) << status.to_string();
  }

  // The next `blocks` blocks of transfers (the model advances), committed together by one
  // 2-chain as after a failed round: each shares the certificate of the last one, B0.
  std::vector<BlockCommit> next_batch(std::size_t blocks) {
    std::vector<BlockCommit> batch;
    for (std::size_t i = 0; i < blocks; ++i)
      batch.push_back(chain_.next(transfers()));
    for (BlockCommit& commit : batch)
      commit.commit_cert = batch.back().commit_cert;
    return batch;
  }

  // Nothing of `batch` is stored: no block, id, certificate, results or transaction.
  void expect_none_of(const std::vector<BlockCommit>& batch) {
    for (const BlockCommit& commit : batch) {
      const std::uint64_t height = commit.block.header.height;
      EXPECT_EQ(store().block_at(height).status().code(), StatusCode::kNotFound) << height;
      EXPECT_EQ(store().commit_cert_at(height).status().code(), StatusCode::kNotFound) << height;
      EXPECT_EQ(store().results_at(height).status().code(), StatusCode::kNotFound) << height;
      EXPECT_EQ(store().height_of(commit.block.id()).status().code(), StatusCode::kNotFound);
      for (const SignedTransfer& tx : commit.block.transactions) {
        EXPECT_EQ(store().transaction_location(transaction_hash(tx)).status().code(),
                  StatusCode::kNotFound);
      }
    }
  }

  // A refused commit leaves the tip where it was and stores nothing of the block.
  void expect_refused(const BlockCommit& commit, StatusCode code) {
    const std::optional<ChainTip> before = store().tip();
    Status status = store().commit(commit, std::nullopt);
    EXPECT_EQ(status.code(), code) << status.to_string();
    EXPECT_EQ(store().tip(), before);
    EXPECT_EQ(store().height_of(commit.block.id()).status().code(), StatusCode::kNotFound);
    for (const SignedTransfer& tx : commit.block.transactions) {
      EXPECT_EQ(store().transaction_location(transaction_hash(tx)).status().code(),
                StatusCode::kNotFound);
    }
    const std::uint64_t next = before ? before->height + 1 : 0;
    EXPECT_EQ(store().block_at(next).status().code(), StatusCode::kNotFound);
  }

  void expect_accounts_match_model() {
    for (const auto& [address, account] : chain_.accounts()) {
      auto stored = store().account(address);
      ASSERT_TRUE(stored.is_ok()) << stored.status().to_string();
      EXPECT_EQ(*stored, account) << address.hex();
    }
    auto accumulator = store().accumulator();
    ASSERT_TRUE(accumulator.is_ok());
    EXPECT_EQ(*accumulator, chain_.accumulator());
  }

  Factory factory_;
  std::vector<Signer> signers_;
  TestChain chain_;
};

using StoreFactories = ::testing::Types<RocksFactory, MemoryFactory>;
class FactoryNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, RocksFactory> ? "Rocks" : "Memory";
  }
};
TYPED_TEST_SUITE(ChainStoreConformance, StoreFactories, FactoryNames);

TYPED_TEST(ChainStoreConformance, EmptyStore_HasNoTipAndTheEmptyAccumulator) {
  EXPECT_EQ(this->store().chain_id(), kChainId);
  EXPECT_FALSE(this->store().tip().has_value());
  auto accumulator = this->store().accumulator();
  ASSERT_TRUE(accumulator.is_ok());
  EXPECT_EQ(*accumulator, StateAccumulator());
  EXPECT_EQ(this->store().block_at(0).status().code(), StatusCode::kNotFound);
  std::size_t visited = 0;
  Status status = this->store().for_each_account([&](const Address&, const Account&) {
    ++visited;
    return Status::ok();
  });
  EXPECT_TRUE(status.is_ok());
  EXPECT_EQ(visited, 0u);
}

TYPED_TEST(ChainStoreConformance, Genesis_CommitSetsTipBlockCertAndAllocation) {
  const BlockCommit& genesis = this->chain_.genesis();
  ASSERT_NO_FATAL_FAILURE(this->commit_ok(genesis));
  EXPECT_EQ(this->store().tip(), (ChainTip{0, genesis.block.id()}));
  auto block = this->store().block_at(0);
  ASSERT_TRUE(block.is_ok()) << block.status().to_string();
  EXPECT_EQ(*block, genesis.block);
  auto cert = this->store().commit_cert_at(0);
  ASSERT_TRUE(cert.is_ok());
  EXPECT_EQ(*cert, genesis_qc(genesis.block));
  auto height = this->store().height_of(genesis.block.id());
  ASSERT_TRUE(height.is_ok());
  EXPECT_EQ(*height, 0u);
  this->expect_accounts_match_model();
}

TYPED_TEST(ChainStoreConformance, Chain_EveryBlockIsReadableByHeightAndId) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(4));
  for (const BlockCommit& commit : this->chain_.commits()) {
    const std::uint64_t height = commit.block.header.height;
    auto block = this->store().block_at(height);
    ASSERT_TRUE(block.is_ok()) << block.status().to_string();
    EXPECT_EQ(*block, commit.block);
    auto raw = this->store().raw_block_at(height);
    ASSERT_TRUE(raw.is_ok());
    EXPECT_EQ(*raw, encode_block(commit.block));
    auto found = this->store().height_of(commit.block.id());
    ASSERT_TRUE(found.is_ok());
    EXPECT_EQ(*found, height);
  }
  EXPECT_EQ(this->store().tip(), (ChainTip{4, this->chain_.last().block.id()}));
}

// Block sync's proof headers are read with raw_header_at: the header alone, in its encode_header
// form, equal to the header inside the stored block.
TYPED_TEST(ChainStoreConformance, Chain_EveryHeaderIsReadableAlone) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(4));
  for (const BlockCommit& commit : this->chain_.commits()) {
    const std::uint64_t height = commit.block.header.height;
    auto header = this->store().raw_header_at(height);
    ASSERT_TRUE(header.is_ok()) << header.status().to_string();
    EXPECT_EQ(*header, encode_header(commit.block.header)) << height;
    auto decoded = decode_header(*header);
    ASSERT_TRUE(decoded.is_ok());
    EXPECT_EQ(block_id(*decoded), commit.block.id());
  }
  EXPECT_EQ(this->store().raw_header_at(5).status().code(), StatusCode::kNotFound);
}

TYPED_TEST(ChainStoreConformance, Chain_CertsResultsAndTransactionsAreIndexed) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(3));
  for (const BlockCommit& commit : this->chain_.commits()) {
    const std::uint64_t height = commit.block.header.height;
    auto cert = this->store().commit_cert_at(height);
    ASSERT_TRUE(cert.is_ok());
    EXPECT_EQ(*cert, commit.commit_cert);
    auto results = this->store().results_at(height);
    ASSERT_TRUE(results.is_ok());
    EXPECT_EQ(*results, commit.results);
    for (std::size_t i = 0; i < commit.block.transactions.size(); ++i) {
      auto location =
          this->store().transaction_location(transaction_hash(commit.block.transactions[i]));
      ASSERT_TRUE(location.is_ok()) << location.status().to_string();
      EXPECT_EQ(*location, (TxLocation{height, static_cast<std::uint32_t>(i)}));
    }
  }
}

TYPED_TEST(ChainStoreConformance, Chain_AccountsAndAccumulatorFollowTheTransfers) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(4));
  // The transfers moved funds: the state is not the allocation any more.
  EXPECT_NE(this->chain_.accounts(), allocation(this->signers_));
  this->expect_accounts_match_model();
  auto absent = this->store().account(ledger::testing::fixture_signer(99).public_key());
  ASSERT_TRUE(absent.is_ok());
  EXPECT_EQ(*absent, Account());
}

TYPED_TEST(ChainStoreConformance, ForEachAccount_VisitsEveryAccountInAddressOrder) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(2));
  std::vector<std::pair<Address, Account>> visited;
  Status status = this->store().for_each_account([&](const Address& a, const Account& account) {
    visited.emplace_back(a, account);
    return Status::ok();
  });
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  const auto& model = this->chain_.accounts();
  EXPECT_EQ(visited, (std::vector<std::pair<Address, Account>>(model.begin(), model.end())));
}

TYPED_TEST(ChainStoreConformance, ForEachAccount_StopsAtTheVisitorsError) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(0));
  std::size_t visited = 0;
  Status status = this->store().for_each_account([&](const Address&, const Account&) {
    ++visited;
    return Status::unavailable("visitor stops");
  });
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "visitor stops");
  EXPECT_EQ(visited, 1u);
}

TYPED_TEST(ChainStoreConformance, Commit_EmptyAccountDeletesIt) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(0));
  const TestChain& chain = this->chain_;
  std::map<Address, Account> changed{{this->address(1), Account()}};
  Block block =
      ledger::testing::make_child_block(chain.last().block, {}, chain.last().results.state_root);
  BlockCommit commit = ledger::testing::make_block_commit(std::move(block), {}, changed,
                                                          chain.accounts(), chain.accumulator());
  ASSERT_NO_FATAL_FAILURE(this->commit_ok(commit));
  auto account = this->store().account(this->address(1));
  ASSERT_TRUE(account.is_ok());
  EXPECT_EQ(*account, Account());
  std::size_t visited = 0;
  ASSERT_TRUE(this->store()
                  .for_each_account([&](const Address& a, const Account&) {
                    EXPECT_NE(a, this->address(1));
                    ++visited;
                    return Status::ok();
                  })
                  .is_ok());
  EXPECT_EQ(visited, kSignerCount - 1);
  EXPECT_EQ(*this->store().accumulator(), commit.accumulator);
}

TYPED_TEST(ChainStoreConformance, TxIndex_KeepsTheFirstLocationOfARepeatedTransaction) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(0));
  const SignedTransfer first = this->chain_.transfer(this->signers_[0], this->address(1), 5);
  ASSERT_NO_FATAL_FAILURE(this->commit_ok(this->chain_.next({first})));
  const SignedTransfer second = this->chain_.transfer(this->signers_[2], this->address(3), 6);
  const BlockCommit& replay = this->chain_.next({first, second, second});
  ASSERT_EQ(replay.results.codes[0], TxResultCode::kBadNonce);
  ASSERT_NO_FATAL_FAILURE(this->commit_ok(replay));
  auto first_location = this->store().transaction_location(transaction_hash(first));
  ASSERT_TRUE(first_location.is_ok());
  EXPECT_EQ(*first_location, (TxLocation{1, 0}));
  auto second_location = this->store().transaction_location(transaction_hash(second));
  ASSERT_TRUE(second_location.is_ok());
  EXPECT_EQ(*second_location, (TxLocation{2, 1}));
}

TYPED_TEST(ChainStoreConformance, Commit_RefusesExistingHeightAndKeepsTheStoredBlock) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(2));
  auto stored = this->store().raw_block_at(1);
  ASSERT_TRUE(stored.is_ok());
  TestChain fork(kChainId, allocation(this->signers_));
  BlockCommit other = fork.build({fork.transfer(this->signers_[3], this->address(0), 1)});
  ASSERT_EQ(other.block.header.height, 1u);
  ASSERT_NE(other.block.id(), this->chain_.commits()[1].block.id());

  Status status = this->store().commit(other, std::nullopt);
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.to_string();
  EXPECT_EQ(*this->store().raw_block_at(1), *stored);
  EXPECT_EQ(this->store().tip(), (ChainTip{2, this->chain_.last().block.id()}));
  EXPECT_EQ(this->store().height_of(other.block.id()).status().code(), StatusCode::kNotFound);
  this->expect_accounts_match_model();
}

TYPED_TEST(ChainStoreConformance, Commit_RefusesGenesisTwice) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(1));
  Status status = this->store().commit(this->chain_.genesis(), std::nullopt);
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.to_string();
  EXPECT_EQ(this->store().tip()->height, 1u);
}

TYPED_TEST(ChainStoreConformance, Commit_RefusesNonGenesisOnAnEmptyStore) {
  this->expect_refused(this->chain_.build(this->transfers()), StatusCode::kFailedPrecondition);
}

TYPED_TEST(ChainStoreConformance, Commit_RefusesAParentOtherThanTheTip) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(2));
  BlockCommit commit = this->chain_.build(this->transfers());
  commit.block.header.parent_id = this->chain_.commits()[1].block.id();
  this->expect_refused(commit, StatusCode::kFailedPrecondition);
}

TYPED_TEST(ChainStoreConformance, Commit_RefusesAGapInHeight) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(1));
  TestChain ahead = this->chain_;
  ahead.next({});
  BlockCommit commit = ahead.build({});
  ASSERT_EQ(commit.block.header.height, 3u);
  this->expect_refused(commit, StatusCode::kFailedPrecondition);
}

TYPED_TEST(ChainStoreConformance, Commit_RefusesAnotherChainId) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(1));
  BlockCommit commit = this->chain_.build(this->transfers());
  commit.block.header.chain_id = "another-chain";
  this->expect_refused(commit, StatusCode::kFailedPrecondition);
}

TYPED_TEST(ChainStoreConformance, Commit_RefusesAResultsCountMismatch) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(1));
  BlockCommit commit = this->chain_.build(this->transfers());
  commit.results.codes.pop_back();
  this->expect_refused(commit, StatusCode::kFailedPrecondition);
}

TYPED_TEST(ChainStoreConformance, Commit_RefusesAnAccumulatorThatIsNotTheStateRoot) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(1));
  BlockCommit commit = this->chain_.build(this->transfers());
  commit.accumulator.add(ledger::testing::fixture_signer(50).public_key(), Account{1, 0});
  this->expect_refused(commit, StatusCode::kFailedPrecondition);
  this->expect_accounts_match_model();
}

TYPED_TEST(ChainStoreConformance, Commit_RefusesABlockOverTheLimits) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(0));
  std::vector<SignedTransfer> transactions;
  for (std::uint64_t i = 0; i <= kLimits.transactions_max; ++i)
    transactions.push_back(this->chain_.transfer(this->signers_[0], this->address(1), 1, i));
  this->expect_refused(this->chain_.build(transactions), StatusCode::kInvalidArgument);
}

TYPED_TEST(ChainStoreConformance, Reads_AbsentThingsAreNotFound) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(1));
  const Hash unknown = sha256(as_bytes("nothing has this hash"));
  EXPECT_EQ(this->store().block_at(2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().raw_block_at(2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().raw_header_at(2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().height_of(unknown).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().transaction_location(unknown).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().commit_cert_at(2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().results_at(2).status().code(), StatusCode::kNotFound);
}

TYPED_TEST(ChainStoreConformance, Commit_RefusesTransactionsThatDoNotMatchTheRoot) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(1));
  // A block whose transactions were swapped for others after its header was made: its id (a
  // hash of the header) and any certificate over it still speak for the original ones.
  BlockCommit commit = this->chain_.build(this->transfers());
  const SignedTransfer other = this->chain_.transfer(this->signers_[2], this->address(3), 999);
  commit.block.transactions.back() = other;
  const Status status = this->store().commit(commit, std::nullopt);
  EXPECT_THAT(status.message(), HasSubstr("block 2 has 2 transactions whose root"));
  EXPECT_THAT(status.message(), HasSubstr("is not its header's transactions root"));
  this->expect_refused(commit, StatusCode::kInvalidArgument);
  this->expect_accounts_match_model();
}

TYPED_TEST(ChainStoreConformance, CommitBatch_StoresEveryBlockAndMovesTheTipToTheLast) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(1));
  const std::vector<BlockCommit> batch = this->next_batch(3);
  ASSERT_NO_FATAL_FAILURE(this->commit_batch_ok(batch));
  EXPECT_EQ(this->store().tip(), (ChainTip{4, batch.back().block.id()}));
  for (const BlockCommit& commit : batch) {
    const std::uint64_t height = commit.block.header.height;
    EXPECT_EQ(*this->store().block_at(height), commit.block);
    EXPECT_EQ(*this->store().height_of(commit.block.id()), height);
    EXPECT_EQ(*this->store().commit_cert_at(height), batch.back().commit_cert);
    EXPECT_EQ(*this->store().results_at(height), commit.results);
    for (std::size_t i = 0; i < commit.block.transactions.size(); ++i) {
      auto location =
          this->store().transaction_location(transaction_hash(commit.block.transactions[i]));
      ASSERT_TRUE(location.is_ok()) << location.status().to_string();
      EXPECT_EQ(*location, (TxLocation{height, static_cast<std::uint32_t>(i)}));
    }
  }
  // Accounts touched by several blocks of the batch hold the value after the last.
  this->expect_accounts_match_model();
  // And the chain goes on from the batch's last block.
  ASSERT_NO_FATAL_FAILURE(this->commit_ok(this->chain_.next(this->transfers())));
  EXPECT_EQ(this->store().tip()->height, 5u);
}

TYPED_TEST(ChainStoreConformance, CommitBatch_GenesisAndBlocksInOneBatch) {
  std::vector<BlockCommit> batch{this->chain_.genesis()};
  for (const BlockCommit& commit : this->next_batch(2))
    batch.push_back(commit);
  ASSERT_NO_FATAL_FAILURE(this->commit_batch_ok(batch));
  EXPECT_EQ(this->store().tip(), (ChainTip{2, batch.back().block.id()}));
  EXPECT_EQ(*this->store().block_at(0), this->chain_.genesis().block);
  this->expect_accounts_match_model();
}

TYPED_TEST(ChainStoreConformance, CommitBatch_TxIndexKeepsTheFirstLocationWithinTheBatch) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(0));
  const SignedTransfer first = this->chain_.transfer(this->signers_[0], this->address(1), 5);
  std::vector<BlockCommit> batch{this->chain_.next({first})};
  batch.push_back(this->chain_.next({first}));  // a replay, recorded as failed
  ASSERT_EQ(batch.back().results.codes[0], TxResultCode::kBadNonce);
  ASSERT_NO_FATAL_FAILURE(this->commit_batch_ok(batch));
  auto location = this->store().transaction_location(transaction_hash(first));
  ASSERT_TRUE(location.is_ok()) << location.status().to_string();
  EXPECT_EQ(*location, (TxLocation{1, 0}));
}

TYPED_TEST(ChainStoreConformance, CommitBatch_ABadBlockInTheMiddleLeavesNothingOfTheBatch) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(2));
  const ChainTip before = *this->store().tip();
  const std::map<Address, Account> accounts_before = this->chain_.accounts();
  const StateAccumulator accumulator_before = this->chain_.accumulator();
  std::vector<BlockCommit> batch = this->next_batch(3);
  batch[1].results.codes.pop_back();  // block 4 of the chain, 2 of the batch

  const Status status = this->store().commit_batch(batch, std::nullopt);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.to_string();
  EXPECT_THAT(status.message(), HasSubstr("block 2 of a batch of 3: block 4 has 2 transactions"));
  EXPECT_EQ(this->store().tip(), before);
  this->expect_none_of(batch);
  for (const auto& [address, account] : accounts_before)
    EXPECT_EQ(*this->store().account(address), account) << address.hex();
  EXPECT_EQ(*this->store().accumulator(), accumulator_before);
}

TYPED_TEST(ChainStoreConformance, CommitBatch_ALastBlockWithSwappedTransactionsLeavesNothing) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(1));
  const ChainTip before = *this->store().tip();
  std::vector<BlockCommit> batch = this->next_batch(2);
  std::swap(batch[1].block.transactions[0], batch[1].block.transactions[1]);

  const Status status = this->store().commit_batch(batch, std::nullopt);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.to_string();
  EXPECT_THAT(status.message(), HasSubstr("block 2 of a batch of 2: block 3 has 2 transactions"));
  EXPECT_EQ(this->store().tip(), before);
  this->expect_none_of(batch);
}

TYPED_TEST(ChainStoreConformance, CommitBatch_EachBlockMustExtendThePreviousOne) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(1));
  const ChainTip before = *this->store().tip();
  std::vector<BlockCommit> batch = this->next_batch(3);
  // Block 3 (the second of the batch) names the tip as its parent, not block 2.
  batch[1].block.header.parent_id = before.block_id;
  Status status = this->store().commit_batch(batch, std::nullopt);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.to_string();
  EXPECT_THAT(status.message(), HasSubstr("block 2 of a batch of 3: block 3 parent id"));
  EXPECT_EQ(this->store().tip(), before);
  this->expect_none_of(batch);

  // A gap: the first and the third block of a batch.
  batch = {this->chain_.commits()[2], this->chain_.commits()[4]};
  status = this->store().commit_batch(batch, std::nullopt);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.to_string();
  EXPECT_THAT(status.message(), HasSubstr("block height 4 is not the next height 3"));
  EXPECT_EQ(this->store().tip(), before);
  this->expect_none_of(batch);
}

TYPED_TEST(ChainStoreConformance, CommitBatch_RefusesABatchOverlappingTheStoredChain) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(2));
  std::vector<BlockCommit> batch{this->chain_.commits()[2]};
  batch.push_back(this->chain_.build(this->transfers()));
  const Status status = this->store().commit_batch(batch, std::nullopt);
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.to_string();
  EXPECT_EQ(this->store().tip()->height, 2u);
  EXPECT_EQ(this->store().block_at(3).status().code(), StatusCode::kNotFound);
}

TYPED_TEST(ChainStoreConformance, CommitBatch_RefusesAnEmptyBatch) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(1));
  const Status status = this->store().commit_batch({}, std::nullopt);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.to_string();
  EXPECT_EQ(this->store().tip()->height, 1u);
}

// Issue 11, point 9: the commit certificate of every block names a block B0 (its parent_id)
// that is the block itself or a later block of its batch. A reader that finds a block, through
// the tip or by height, must find that B0 too, or it would serve a certificate resting on a
// block that is not committed yet.
TYPED_TEST(ChainStoreConformance, CommitBatch_ConcurrentReadersNeverSeeAPrefix) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(0));
  constexpr std::size_t kBatches = 40;
  constexpr std::size_t kBatchBlocks = 3;
  std::vector<std::vector<BlockCommit>> batches;
  for (std::size_t i = 0; i < kBatches; ++i)
    batches.push_back(this->next_batch(kBatchBlocks));

  ChainStore& store = this->store();
  std::atomic<bool> done{false};
  std::atomic<std::size_t> rounds{0};
  std::mutex problems_mutex;
  std::vector<std::string> problems;
  auto problem = [&](const std::string& what) {
    std::lock_guard lock(problems_mutex);
    if (problems.size() < 10) problems.push_back(what);
  };
  // The certificate at `height` (found) must rest on a stored block.
  auto check_cert = [&](std::uint64_t height, const QuorumCert& cert) {
    auto b0 = store.height_of(cert.data.parent_id);
    if (!b0.is_ok()) {
      problem("height " + std::to_string(height) + ": " + b0.status().to_string());
    } else if (*b0 < height) {
      problem("height " + std::to_string(height) + ": B0 below the block");
    }
  };
  std::thread reader([&] {
    while (!done.load()) {
      const std::optional<ChainTip> tip = store.tip();
      if (!tip) continue;
      // Everything up to the tip, and the last batch in particular, is readable.
      const std::uint64_t low = tip->height > kBatchBlocks ? tip->height - kBatchBlocks : 0;
      for (std::uint64_t h = low; h <= tip->height; ++h) {
        if (!store.block_at(h).is_ok()) problem("no block at " + std::to_string(h));
        auto cert = store.commit_cert_at(h);
        if (!cert.is_ok()) {
          problem("no certificate at " + std::to_string(h) + " with tip " +
                  std::to_string(tip->height));
        } else if (h > 0) {
          check_cert(h, *cert);
        }
      }
      // A block found above the tip (written, tip not moved yet) brings its B0 along too.
      if (auto cert = store.commit_cert_at(tip->height + 1); cert.is_ok()) {
        check_cert(tip->height + 1, *cert);
      }
      rounds.fetch_add(1);
    }
  });
  for (const auto& batch : batches) {
    const std::size_t seen = rounds.load();
    const Status status = store.commit_batch(batch, std::nullopt);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    // The reader runs while the batch is written and reads the state after it at least once
    // (a whole round started after the commit) before the next one.
    while (rounds.load() < seen + 2)
      std::this_thread::yield();
  }
  done.store(true);
  reader.join();
  EXPECT_EQ(store.tip()->height, kBatches * kBatchBlocks);
  EXPECT_TRUE(problems.empty()) << problems.size()
                                << " problems, first: " << (problems.empty() ? "" : problems[0]);
}

PublicationHold sample_hold(std::uint64_t first_height, std::string_view b0, std::uint64_t round) {
  return PublicationHold{first_height, sha256(as_bytes(b0)), round};
}

TYPED_TEST(ChainStoreConformance, PublicationHold_NoneUntilABatchWritesOne) {
  auto empty = this->store().publication_hold();
  ASSERT_TRUE(empty.is_ok()) << empty.status().to_string();
  EXPECT_EQ(*empty, std::nullopt);
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(1));
  EXPECT_EQ(*this->store().publication_hold(), std::nullopt);
}

// The hold a batch states replaces the stored one; nullopt deletes it.
TYPED_TEST(ChainStoreConformance, PublicationHold_EachBatchLeavesTheHoldItStates) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(0));
  const PublicationHold first = sample_hold(1, "b0 far ahead", 40);
  Status status = this->store().commit(this->chain_.next(this->transfers()), first);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  auto read = this->store().publication_hold();
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(*read, first);

  const PublicationHold raised = sample_hold(1, "b0 further ahead", 52);
  status = this->store().commit_batch(this->next_batch(2), raised);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(*this->store().publication_hold(), raised);

  status = this->store().commit(this->chain_.next(this->transfers()), std::nullopt);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(*this->store().publication_hold(), std::nullopt);
}

TYPED_TEST(ChainStoreConformance, PublicationHold_ARefusedBatchLeavesTheHoldAsItWas) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(0));
  const PublicationHold held = sample_hold(1, "awaited b0", 9);
  ASSERT_TRUE(this->store().commit(this->chain_.next(this->transfers()), held).is_ok());
  std::vector<BlockCommit> batch = this->next_batch(2);
  batch[1].results.codes.pop_back();

  Status status = this->store().commit_batch(batch, std::nullopt);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.to_string();
  EXPECT_EQ(*this->store().publication_hold(), held);
  status = this->store().commit_batch(batch, sample_hold(1, "another b0", 11));
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.to_string();
  EXPECT_EQ(*this->store().publication_hold(), held);
}

// The hold is validated with the blocks and written with them: one that names no stored height
// above genesis refuses the whole batch, and nothing of it is written.
TYPED_TEST(ChainStoreConformance, PublicationHold_OutsideTheStoredHeightsRefusesTheBatch) {
  ASSERT_NO_FATAL_FAILURE(this->commit_chain(1));
  const ChainTip before = *this->store().tip();
  const std::vector<BlockCommit> batch = this->next_batch(2);  // heights 2 and 3
  for (const std::uint64_t first_height : {std::uint64_t{0}, std::uint64_t{4}}) {
    const Status status = this->store().commit_batch(batch, sample_hold(first_height, "b0", 7));
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.to_string();
    EXPECT_THAT(status.message(),
                HasSubstr("publication hold starts at height " + std::to_string(first_height)));
    EXPECT_EQ(this->store().tip(), before);
    this->expect_none_of(batch);
    EXPECT_EQ(*this->store().publication_hold(), std::nullopt);
  }
  const Status status = this->store().commit_batch(batch, sample_hold(3, "b0", 7));
  EXPECT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(*this->store().publication_hold(), sample_hold(3, "b0", 7));
}

consensus::SafetyData sample_safety_data(std::uint64_t round) {
  consensus::SafetyData data;
  data.last_voted_round = round;
  data.one_chain_round = round - 1;
  Vote vote;
  vote.data.block_id = sha256(as_bytes("voted block"));
  vote.data.round = round;
  vote.data.parent_id = sha256(as_bytes("parent block"));
  vote.data.parent_round = round - 1;
  vote.signer = ledger::testing::fixture_signer(0).public_key();
  vote.signature.bytes.fill(0x5a);
  data.last_vote = vote;
  Timeout timeout;
  timeout.round = round;
  timeout.high_qc.data = vote.data;
  timeout.high_qc.data.round = round - 1;
  timeout.signer = vote.signer;
  timeout.signature.bytes.fill(0x17);
  data.last_timeout = timeout;
  return data;
}

TYPED_TEST(ChainStoreConformance, Safety_NothingSavedLoadsAsNullopt) {
  auto loaded = this->store().safety_store().load();
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_FALSE(loaded->has_value());
}

TYPED_TEST(ChainStoreConformance, Safety_LoadReturnsTheLastSavedData) {
  consensus::SafetyStore& safety = this->store().safety_store();
  ASSERT_TRUE(safety.save(sample_safety_data(7)).is_ok());
  ASSERT_TRUE(safety.save(sample_safety_data(9)).is_ok());
  auto loaded = safety.load();
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, sample_safety_data(9));
}

}  // namespace
}  // namespace ledger::storage
