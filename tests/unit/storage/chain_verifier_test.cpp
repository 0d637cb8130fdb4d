// The chain verifier (ledgerd verify) over real RocksDB stores: a valid chain passes, and each
// kind of damage is reported as a problem at the right height, never a crash.
#include "ledger/storage/chain_verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ledger/storage/memory_chain_store.h"
#include "ledger/storage/rocks_chain_store.h"
#include "support/chain_fixture.h"
#include "support/raw_rocksdb.h"
#include "support/temp_dir.h"

namespace ledger::storage {
namespace {

using ledger::testing::fixture_signer;
using ledger::testing::TestChain;
using ::testing::HasSubstr;

constexpr char kChainId[] = "verify-chain";
constexpr std::uint32_t kValidatorCount = 4;
constexpr std::uint32_t kAccountCount = 3;  // fixture signers 10, 11, 12

std::vector<Signer> validator_signers() {
  std::vector<Signer> signers;
  for (std::uint32_t i = 0; i < kValidatorCount; ++i)
    signers.push_back(fixture_signer(i));
  return signers;
}

Genesis make_genesis() {
  Genesis g;
  g.chain_id = kChainId;
  g.genesis_time_ms = ledger::testing::kFixtureGenesisTimeMs;
  std::vector<Validator> validators;
  for (std::uint32_t i = 0; i < kValidatorCount; ++i) {
    validators.push_back({fixture_signer(i).public_key(), 1, "v" + std::to_string(i)});
  }
  g.validators = *ValidatorSet::create(validators);
  for (std::uint32_t i = 0; i < kAccountCount; ++i) {
    g.accounts.push_back({fixture_signer(10 + i).public_key(), 1'000'000});
  }
  std::sort(g.accounts.begin(), g.accounts.end(),
            [](const auto& a, const auto& b) { return a.address < b.address; });
  return g;
}

class ChainVerifierTest : public ::testing::Test {
 protected:
  ChainVerifierTest() : genesis_(make_genesis()), chain_(genesis_, validator_signers()) {
    const Signer a = fixture_signer(10), b = fixture_signer(11), c = fixture_signer(12);
    chain_.next({chain_.transfer(a, b.public_key(), 100)});
    chain_.next({chain_.transfer(b, c.public_key(), 50), chain_.transfer(c, a.public_key(), 7)});
    // A failing transaction (bad nonce) is recorded and re-executed like any other.
    chain_.next({chain_.transfer(a, c.public_key(), 1), chain_.transfer(a, c.public_key(), 1)});
    chain_.next({});
    chain_.next({chain_.transfer(c, b.public_key(), 2'000'000)});  // insufficient funds
  }

  std::string path() const { return (dir_.path() / "data").string(); }

  std::unique_ptr<RocksChainStore> open_store() {
    auto store = RocksChainStore::open(path(), kChainId, {genesis_.consensus.block_limits()});
    EXPECT_TRUE(store.is_ok()) << store.status().to_string();
    return store.is_ok() ? std::move(store).value() : nullptr;
  }

  // Commits every block of chain_ (or the first `count`) and closes the store.
  void store_chain(std::size_t count = SIZE_MAX) {
    auto store = open_store();
    ASSERT_NE(store, nullptr);
    for (std::size_t i = 0; i < chain_.commits().size() && i < count; ++i) {
      Status s = store->commit(chain_.commits()[i], std::nullopt);
      ASSERT_TRUE(s.is_ok()) << "height " << i << ": " << s.to_string();
    }
  }

  VerifyReport verify(const Genesis& genesis) {
    auto store = open_store();
    EXPECT_NE(store, nullptr);
    if (store == nullptr) return {};
    auto report = verify_chain(*store, genesis);
    EXPECT_TRUE(report.is_ok()) << report.status().to_string();
    return report.is_ok() ? *report : VerifyReport{};
  }
  VerifyReport verify() { return verify(genesis_); }

  static std::string describe(const VerifyReport& report) {
    std::string out;
    for (const auto& p : report.problems) {
      out += "height " + std::to_string(p.height) + ": " + p.message + "\n";
    }
    return out;
  }

  testing::TempDir dir_;
  Genesis genesis_;
  TestChain chain_;
};

TEST_F(ChainVerifierTest, ValidChainPasses) {
  store_chain();
  VerifyReport report = verify();
  EXPECT_TRUE(report.ok()) << describe(report);
  EXPECT_EQ(report.blocks_checked, chain_.commits().size());
  EXPECT_EQ(report.transactions_checked, 6u);
}

TEST_F(ChainVerifierTest, ValidChainPassesOnTheMemoryStoreToo) {
  MemoryChainStore store(kChainId);
  for (const auto& commit : chain_.commits())
    ASSERT_TRUE(store.commit(commit, std::nullopt).is_ok());
  auto report = verify_chain(store, genesis_);
  ASSERT_TRUE(report.is_ok());
  EXPECT_TRUE(report->ok()) << describe(*report);
}

TEST_F(ChainVerifierTest, ProgressIsReportedForEveryHeight) {
  store_chain();
  auto store = open_store();
  std::vector<std::uint64_t> seen;
  VerifyOptions options;
  options.progress = [&](std::uint64_t height) { seen.push_back(height); };
  ASSERT_TRUE(verify_chain(*store, genesis_, options).is_ok());
  ASSERT_EQ(seen.size(), chain_.commits().size());
  for (std::size_t i = 0; i < seen.size(); ++i)
    EXPECT_EQ(seen[i], i);
}

TEST_F(ChainVerifierTest, CorruptedBlockBytesAreReportedNotCrashedOn) {
  store_chain();
  std::string value;
  ledger::testing::raw_get(path(), "blocks", ledger::testing::be_u64(2), value);
  ASSERT_GT(value.size(), 40u);
  value[value.size() / 2] ^= 0x5a;
  value.resize(value.size() - 3);
  ledger::testing::raw_put(path(), "blocks", ledger::testing::be_u64(2), value);

  VerifyReport report = verify();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problems.front().height, 2u);
  EXPECT_THAT(report.problems.front().message, HasSubstr("does not decode")) << describe(report);
  EXPECT_EQ(report.blocks_checked, chain_.commits().size());  // went on past the damage
}

TEST_F(ChainVerifierTest, AlteredTransactionIsReported) {
  store_chain();
  // Raise the amount of the first transfer of block 1: the block still decodes and its id (a
  // hash of the header) is unchanged, but the transactions root, the index and re-execution
  // stop matching.
  Block block = chain_.commits()[1].block;
  block.transactions[0].transfer.amount += 1;
  const Bytes bytes = encode_block(block);
  ledger::testing::raw_put(path(), "blocks", ledger::testing::be_u64(1),
                           std::string(bytes.begin(), bytes.end()));

  VerifyReport report = verify();
  ASSERT_FALSE(report.ok());
  const std::string all = describe(report);
  EXPECT_THAT(all, HasSubstr("height 1: transactions root does not match"));
  EXPECT_THAT(all, HasSubstr("height 1: transaction 0 is not indexed"));
  EXPECT_THAT(all, HasSubstr("height 1: re-executed results"));
}

TEST_F(ChainVerifierTest, AlteredHeaderBreaksTheHashLinks) {
  store_chain();
  // A later timestamp changes block 2's id: the id index no longer points at it and block 3's
  // parent id no longer matches.
  Block block = chain_.commits()[2].block;
  block.header.timestamp_ms += 1;
  const Bytes bytes = encode_block(block);
  ledger::testing::raw_put(path(), "blocks", ledger::testing::be_u64(2),
                           std::string(bytes.begin(), bytes.end()));

  VerifyReport report = verify();
  ASSERT_FALSE(report.ok());
  const std::string all = describe(report);
  EXPECT_THAT(all, HasSubstr("height 2: block id index"));
  EXPECT_THAT(all, HasSubstr("height 3: parent id"));
}

TEST_F(ChainVerifierTest, TamperedAccountIsReported) {
  store_chain();
  Account forged{999'999'999, 0};
  const Bytes bytes = encode_account(forged);
  const Address victim = fixture_signer(11).public_key();
  ledger::testing::raw_put(path(), "accounts",
                           std::string(victim.bytes.begin(), victim.bytes.end()),
                           std::string(bytes.begin(), bytes.end()));
  VerifyReport report = verify();
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(describe(report), HasSubstr("stored accounts differ"));
}

TEST_F(ChainVerifierTest, WrongResultsAreFoundByReExecution) {
  // Commit block 1 with a result code that execution would not give. The store accepts it
  // (it does not execute); the verifier's re-execution does not.
  BlockCommit bad = chain_.commits()[1];
  bad.results.codes[0] = TxResultCode::kInsufficientFunds;
  store_chain(1);
  {
    auto store = open_store();
    ASSERT_TRUE(store->commit(bad, std::nullopt).is_ok());
  }
  VerifyReport report = verify();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problems.front().height, 1u);
  EXPECT_THAT(report.problems.front().message, HasSubstr("re-executed results"));
}

TEST_F(ChainVerifierTest, CommitCertificateBelowQuorumIsReported) {
  BlockCommit weak = chain_.commits()[1];
  weak.commit_cert.signatures.resize(2);  // 2 of 4: below the quorum of 3
  store_chain(1);
  {
    auto store = open_store();
    ASSERT_TRUE(store->commit(weak, std::nullopt).is_ok());
  }
  VerifyReport report = verify();
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(describe(report),
              HasSubstr("height 1: commit certificate: QC power 2 is below quorum"));
}

TEST_F(ChainVerifierTest, CommitCertificateForAnotherBlockIsReported) {
  BlockCommit wrong = chain_.commits()[1];
  wrong.commit_cert = chain_.commits()[3].commit_cert;  // proves block 3, which is not stored
  store_chain(1);
  {
    auto store = open_store();
    ASSERT_TRUE(store->commit(wrong, std::nullopt).is_ok());
  }
  VerifyReport report = verify();
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(describe(report), HasSubstr("does not prove a 2-chain"));
}

TEST_F(ChainVerifierTest, AnotherGenesisDocumentIsReportedAtHeightZero) {
  store_chain();
  Genesis other = genesis_;
  other.accounts[0].balance += 1;
  VerifyReport report = verify(other);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problems.front().height, 0u);
  EXPECT_THAT(report.problems.front().message, HasSubstr("genesis block differs"));
}

TEST_F(ChainVerifierTest, SignatureChecksCanBeSkippedButStructureIsStillChecked) {
  BlockCommit weak = chain_.commits()[1];
  weak.commit_cert.signatures.resize(1);
  store_chain(1);
  {
    auto store = open_store();
    ASSERT_TRUE(store->commit(weak, std::nullopt).is_ok());
  }
  auto store = open_store();
  VerifyOptions options;
  options.check_signatures = false;
  auto report = verify_chain(*store, genesis_, options);
  ASSERT_TRUE(report.is_ok());
  EXPECT_TRUE(report->ok()) << describe(*report);
}

TEST_F(ChainVerifierTest, EmptyStoreIsAProblemNotAnError) {
  MemoryChainStore store(kChainId);
  auto report = verify_chain(store, genesis_);
  ASSERT_TRUE(report.is_ok());
  ASSERT_FALSE(report->ok());
  EXPECT_THAT(report->problems.front().message, HasSubstr("no blocks"));
}

}  // namespace
}  // namespace ledger::storage
