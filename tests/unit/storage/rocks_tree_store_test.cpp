// What only the RocksDB TreeStore (RocksChainStore::tree_store()) has: bytes on disk that can
// be damaged. The damage is written with the RocksDB API on the closed store's directory
// (tests/support/raw_rocksdb), as a disk fault or an operator's tool would. The rules both
// stores share are in tree_store_conformance_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ledger/storage/rocks_chain_store.h"
#include "support/chain_fixture.h"
#include "support/raw_rocksdb.h"
#include "support/temp_dir.h"

namespace ledger::storage {
namespace {

using consensus::TreeSnapshot;
using consensus::TreeUpdate;
using ledger::testing::raw_get;
using ledger::testing::raw_put;
using ::testing::HasSubstr;

constexpr char kChainId[] = "rocks-tree";
constexpr char kTree[] = "tree";

std::vector<SignedTransfer> transfers(std::size_t count) {
  const Signer from = ledger::testing::fixture_signer(0);
  const Address to = ledger::testing::fixture_signer(1).public_key();
  std::vector<SignedTransfer> out;
  for (std::size_t i = 0; i < count; ++i)
    out.push_back(ledger::testing::make_transfer(from, kChainId, i, to, 10 + i));
  return out;
}

std::string key_of(const Hash& id) {
  return std::string(id.bytes.begin(), id.bytes.end());
}

class RocksTreeStoreTest : public ::testing::Test {
 protected:
  RocksTreeStoreTest() : path_((dir_.path() / "db").string()) {
    genesis_ = ledger::testing::make_genesis_block(
        kChainId, sha256(as_bytes("state")), ledger::testing::fixture_document_hash(kChainId));
    first_ = ledger::testing::make_child_block(genesis_, transfers(2), sha256(as_bytes("s1")));
    second_ = ledger::testing::make_child_block(first_, transfers(5), sha256(as_bytes("s2")));
  }

  void open_ok(const BlockLimits& limits = {}) {
    store_.reset();
    RocksChainStore::Options options;
    options.block_limits = limits;
    auto store = RocksChainStore::open(path_, kChainId, options);
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(store).value();
  }

  void close() { store_.reset(); }

  // Saves genesis_, first_, second_ and a high QC, then closes the store.
  void build_closed_tree() {
    ASSERT_NO_FATAL_FAILURE(open_ok());
    TreeUpdate update;
    update.blocks = {genesis_, first_, second_};
    update.high_qc = ledger::testing::unsigned_qc(first_);
    Status saved = store_->tree_store().save(update);
    ASSERT_TRUE(saved.is_ok()) << saved.to_string();
    close();
  }

  // load() on the reopened store fails with kCorruption and a message containing `fragments`.
  void expect_load_corruption(const std::vector<std::string>& fragments,
                              const BlockLimits& limits = {}) {
    ASSERT_NO_FATAL_FAILURE(open_ok(limits));
    auto loaded = store_->tree_store().load();
    ASSERT_FALSE(loaded.is_ok());
    EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption) << loaded.status().to_string();
    for (const std::string& fragment : fragments)
      EXPECT_THAT(loaded.status().message(), HasSubstr(fragment));
  }

  ledger::testing::TempDir dir_;
  std::string path_;
  Block genesis_;
  Block first_;
  Block second_;
  std::unique_ptr<RocksChainStore> store_;
};

TEST_F(RocksTreeStoreTest, Layout_BlocksUnderTheirIdAndCertificatesUnderTheirKeys) {
  ASSERT_NO_FATAL_FAILURE(build_closed_tree());
  std::string block;
  ASSERT_NO_FATAL_FAILURE(raw_get(path_, kTree, key_of(first_.id()), block));
  const Bytes expected = encode_block(first_);
  EXPECT_EQ(block, std::string(expected.begin(), expected.end()));
  std::string qc;
  ASSERT_NO_FATAL_FAILURE(raw_get(path_, kTree, "high_qc", qc));
  const Bytes expected_qc = encode_qc(ledger::testing::unsigned_qc(first_));
  EXPECT_EQ(qc, std::string(expected_qc.begin(), expected_qc.end()));
}

TEST_F(RocksTreeStoreTest, CorruptedBlockBytes_LoadReportsCorruptionNamingTheKey) {
  ASSERT_NO_FATAL_FAILURE(build_closed_tree());
  ASSERT_NO_FATAL_FAILURE(raw_put(path_, kTree, key_of(first_.id()), "\x01\x02 not a block"));
  expect_load_corruption({"stored tree block under key " + first_.id().hex(), "does not decode"});
}

TEST_F(RocksTreeStoreTest, TruncatedBlockBytes_LoadReportsCorruptionNamingTheKey) {
  ASSERT_NO_FATAL_FAILURE(build_closed_tree());
  const Bytes bytes = encode_block(second_);
  ASSERT_NO_FATAL_FAILURE(
      raw_put(path_, kTree, key_of(second_.id()), std::string(bytes.begin(), bytes.end() - 1)));
  expect_load_corruption({"stored tree block under key " + second_.id().hex(), "does not decode"});
}

TEST_F(RocksTreeStoreTest, BlockUnderAnotherId_LoadReportsCorruptionNamingBothIds) {
  ASSERT_NO_FATAL_FAILURE(build_closed_tree());
  const Hash wrong = sha256(as_bytes("not the id of this block"));
  const Bytes bytes = encode_block(first_);
  ASSERT_NO_FATAL_FAILURE(
      raw_put(path_, kTree, key_of(wrong), std::string(bytes.begin(), bytes.end())));
  expect_load_corruption(
      {"stored tree block under key " + wrong.hex() + " has id " + first_.id().hex()});
}

TEST_F(RocksTreeStoreTest, UnexpectedKey_LoadReportsCorruptionNamingTheKey) {
  ASSERT_NO_FATAL_FAILURE(build_closed_tree());
  // "high_qcx" is neither a 32-byte id nor one of the certificate keys.
  ASSERT_NO_FATAL_FAILURE(raw_put(path_, kTree, "high_qcx", "anything"));
  expect_load_corruption(
      {"unexpected key " + to_hex(as_bytes("high_qcx")), "in column family tree"});
}

TEST_F(RocksTreeStoreTest, ShortIdKey_LoadReportsCorruptionNamingTheKey) {
  ASSERT_NO_FATAL_FAILURE(build_closed_tree());
  const std::string short_key = key_of(first_.id()).substr(0, 31);
  const Bytes bytes = encode_block(first_);
  ASSERT_NO_FATAL_FAILURE(
      raw_put(path_, kTree, short_key, std::string(bytes.begin(), bytes.end())));
  expect_load_corruption({"unexpected key " + to_hex(as_bytes(short_key))});
}

TEST_F(RocksTreeStoreTest, CorruptedHighQc_LoadReportsCorruptionNamingTheKey) {
  ASSERT_NO_FATAL_FAILURE(build_closed_tree());
  ASSERT_NO_FATAL_FAILURE(raw_put(path_, kTree, "high_qc", "junk"));
  expect_load_corruption({"stored tree high_qc does not decode"});
}

TEST_F(RocksTreeStoreTest, CorruptedHighTc_LoadReportsCorruptionNamingTheKey) {
  ASSERT_NO_FATAL_FAILURE(build_closed_tree());
  ASSERT_NO_FATAL_FAILURE(raw_put(path_, kTree, "high_tc", "junk"));
  expect_load_corruption({"stored tree high_tc does not decode"});
}

TEST_F(RocksTreeStoreTest, BlockOverTheLimitsOfTheReopenedStore_LoadReportsCorruption) {
  ASSERT_NO_FATAL_FAILURE(build_closed_tree());
  // second_ has 5 transactions: fine for the default limits it was saved with, not for these.
  ASSERT_EQ(second_.transactions.size(), 5u);
  expect_load_corruption({"stored tree block under key " + second_.id().hex()},
                         BlockLimits{4, 1 << 20});
}

}  // namespace
}  // namespace ledger::storage
