// What only the RocksDB store has: durability across reopen and crashes, the on-disk metadata
// checks, and detection of damaged data. Damage is made with the RocksDB API directly on the
// closed store's directory, as a disk fault or an operator's tool would, not through hooks.
#include "ledger/storage/rocks_chain_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "support/chain_fixture.h"
#include "support/raw_rocksdb.h"
#include "support/temp_dir.h"

namespace ledger::storage {

// Reaches the two halves of commit() so a test can stop between them.
class RocksChainStoreTestPeer {
 public:
  // Validates `commit` and builds its write batch, then destroys the batch unwritten: what a
  // process killed just before the write leaves behind.
  static Status prepare_and_drop(RocksChainStore& store, std::span<const BlockCommit> commits,
                                 const std::optional<PublicationHold>& hold = std::nullopt) {
    auto prepared = store.prepare(commits, hold);
    return prepared.status();
  }
  static Status prepare_and_drop(RocksChainStore& store, const BlockCommit& commit,
                                 const std::optional<PublicationHold>& hold = std::nullopt) {
    return prepare_and_drop(store, std::span(&commit, 1), hold);
  }
};

namespace {

using ledger::testing::be_u32;
using ledger::testing::be_u64;
using ledger::testing::raw_get;
using ledger::testing::raw_put;
using ledger::testing::TestChain;
using ::testing::HasSubstr;

constexpr char kChainId[] = "rocks-chain";
constexpr std::uint32_t kSignerCount = 3;
constexpr std::uint64_t kInitialBalance = 500'000;

std::map<Address, Account> allocation(const std::vector<Signer>& signers) {
  std::map<Address, Account> accounts;
  for (const Signer& signer : signers)
    accounts[signer.public_key()] = Account{kInitialBalance, 0};
  return accounts;
}

std::vector<Signer> make_signers() {
  std::vector<Signer> signers;
  for (std::uint32_t i = 0; i < kSignerCount; ++i)
    signers.push_back(ledger::testing::fixture_signer(i));
  return signers;
}

class RocksChainStoreTest : public ::testing::Test {
 protected:
  RocksChainStoreTest()
      : path_((dir_.path() / "db").string()),
        signers_(make_signers()),
        chain_(kChainId, allocation(signers_)) {}

  StatusOr<std::unique_ptr<RocksChainStore>> open(const std::string& chain_id = kChainId) {
    return RocksChainStore::open(path_, chain_id, RocksChainStore::Options{});
  }

  void open_ok() {
    auto store = open();
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(store).value();
  }

  void close() { store_.reset(); }

  // Opens, commits genesis and `blocks` blocks of transfers, and closes.
  void build_closed_chain(std::size_t blocks) {
    ASSERT_NO_FATAL_FAILURE(open_ok());
    ASSERT_TRUE(store_->commit(chain_.genesis(), std::nullopt).is_ok());
    for (std::size_t i = 0; i < blocks; ++i) {
      Status status = store_->commit(chain_.next(transfers()), std::nullopt);
      ASSERT_TRUE(status.is_ok()) << status.to_string();
    }
    close();
  }

  std::vector<SignedTransfer> transfers() const {
    const std::size_t k = chain_.commits().size();
    return {chain_.transfer(signers_[k % kSignerCount],
                            signers_[(k + 1) % kSignerCount].public_key(), 1000 + k)};
  }

  void expect_open_refused(StatusCode code, const std::vector<std::string>& fragments,
                           const std::string& chain_id = kChainId) {
    auto store = open(chain_id);
    ASSERT_FALSE(store.is_ok());
    EXPECT_EQ(store.status().code(), code) << store.status().to_string();
    for (const std::string& fragment : fragments)
      EXPECT_THAT(store.status().message(), HasSubstr(fragment));
  }

  ledger::testing::TempDir dir_;
  std::string path_;
  std::vector<Signer> signers_;
  TestChain chain_;
  std::unique_ptr<RocksChainStore> store_;
};

TEST_F(RocksChainStoreTest, Open_FreshDirectoryRecordsChainIdAndSchemaVersion) {
  ASSERT_NO_FATAL_FAILURE(open_ok());
  EXPECT_FALSE(store_->tip().has_value());
  close();
  std::string chain_id;
  std::string schema_version;
  ASSERT_NO_FATAL_FAILURE(raw_get(path_, "meta", "chain_id", chain_id));
  ASSERT_NO_FATAL_FAILURE(raw_get(path_, "meta", "schema_version", schema_version));
  EXPECT_EQ(chain_id, kChainId);
  EXPECT_EQ(schema_version, be_u32(kSchemaVersion));
}

TEST_F(RocksChainStoreTest, Reopen_KeepsBlocksIndexesStateAndTip) {
  ASSERT_NO_FATAL_FAILURE(build_closed_chain(3));
  ASSERT_NO_FATAL_FAILURE(open_ok());
  EXPECT_EQ(store_->tip(), (ChainTip{3, chain_.last().block.id()}));
  for (const BlockCommit& commit : chain_.commits()) {
    const std::uint64_t height = commit.block.header.height;
    EXPECT_EQ(*store_->block_at(height), commit.block);
    EXPECT_EQ(*store_->height_of(commit.block.id()), height);
    EXPECT_EQ(*store_->commit_cert_at(height), commit.commit_cert);
    EXPECT_EQ(*store_->results_at(height), commit.results);
    for (std::size_t i = 0; i < commit.block.transactions.size(); ++i) {
      auto location = store_->transaction_location(transaction_hash(commit.block.transactions[i]));
      ASSERT_TRUE(location.is_ok());
      EXPECT_EQ(*location, (TxLocation{height, static_cast<std::uint32_t>(i)}));
    }
  }
  for (const auto& [address, account] : chain_.accounts())
    EXPECT_EQ(*store_->account(address), account);
  EXPECT_EQ(*store_->accumulator(), chain_.accumulator());
}

TEST_F(RocksChainStoreTest, Reopen_TheChainContinuesFromTheRecoveredTip) {
  ASSERT_NO_FATAL_FAILURE(build_closed_chain(2));
  ASSERT_NO_FATAL_FAILURE(open_ok());
  Status status = store_->commit(chain_.next(transfers()), std::nullopt);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(store_->tip(), (ChainTip{3, chain_.last().block.id()}));
}

TEST_F(RocksChainStoreTest, Reopen_KeepsSafetyData) {
  consensus::SafetyData data;
  data.last_voted_round = 12;
  data.one_chain_round = 11;
  ASSERT_NO_FATAL_FAILURE(open_ok());
  ASSERT_TRUE(store_->safety_store().save(data).is_ok());
  close();
  ASSERT_NO_FATAL_FAILURE(open_ok());
  auto loaded = store_->safety_store().load();
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, data);
}

TEST_F(RocksChainStoreTest, Open_RefusesAnotherSchemaVersionNamingBoth) {
  ASSERT_NO_FATAL_FAILURE(build_closed_chain(0));
  ASSERT_NO_FATAL_FAILURE(raw_put(path_, "meta", "schema_version", be_u32(kSchemaVersion + 41)));
  expect_open_refused(StatusCode::kFailedPrecondition,
                      {"schema version " + std::to_string(kSchemaVersion + 41),
                       "schema version " + std::to_string(kSchemaVersion)});
}

// Schema 1 had every column family but "tree". A schema-1 database is refused with a message
// naming both versions, whether or not the store may create things, and is left as it was: no
// "tree" column family is added, so the previous build can still open it.
class RocksChainStoreSchema1Test : public RocksChainStoreTest {
 protected:
  static std::vector<std::string> schema1_columns() {
    return {rocksdb::kDefaultColumnFamilyName,
            "blocks",
            "block_ids",
            "tx_index",
            "commit_certs",
            "results",
            "accounts",
            "safety",
            "meta"};
  }

  // A database laid out as a schema-1 build left it (metadata, no blocks), recording `version`.
  void write_schema1_database(std::uint32_t version = 1) {
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : schema1_columns())
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    rocksdb::Status opened = rocksdb::DB::Open(options, path_, descriptors, &handles, &raw);
    ASSERT_TRUE(opened.ok()) << opened.ToString();
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::ColumnFamilyHandle* meta = handles.back();
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), meta, "schema_version", be_u32(version)).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), meta, "chain_id", kChainId).ok());
    for (rocksdb::ColumnFamilyHandle* handle : handles)
      ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
    ASSERT_TRUE(db->Close().ok());
  }

  std::vector<std::string> stored_columns() const {
    std::vector<std::string> names;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path_, &names).ok());
    return names;
  }

  void expect_schema1_refused(bool create_if_missing) {
    ASSERT_NO_FATAL_FAILURE(write_schema1_database());
    ASSERT_EQ(kSchemaVersion, 3u);
    RocksChainStore::Options options;
    options.create_if_missing = create_if_missing;
    auto store = RocksChainStore::open(path_, kChainId, options);
    ASSERT_FALSE(store.is_ok());
    EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition) << store.status().to_string();
    EXPECT_THAT(store.status().message(),
                HasSubstr("the database has schema version 1 but this build reads schema "
                          "version 3; migrate or resync the data directory"));
    std::vector<std::string> stored = stored_columns();
    std::vector<std::string> expected = schema1_columns();
    std::sort(stored.begin(), stored.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(stored, expected);
  }
};

TEST_F(RocksChainStoreSchema1Test, Open_RefusesASchema1DatabaseAndLeavesItAsItWas) {
  expect_schema1_refused(true);
}

TEST_F(RocksChainStoreSchema1Test, Open_WithoutCreateIfMissingRefusesASchema1DatabaseByVersion) {
  expect_schema1_refused(false);
}

TEST_F(RocksChainStoreSchema1Test, Open_CurrentSchemaWithoutTheTreeColumnFamily) {
  ASSERT_NO_FATAL_FAILURE(write_schema1_database(kSchemaVersion));
  RocksChainStore::Options options;
  options.create_if_missing = false;
  auto refused = RocksChainStore::open(path_, kChainId, options);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition)
      << refused.status().to_string();
  EXPECT_THAT(refused.status().message(), HasSubstr("no column family tree"));
  // Allowed to create things, the store adds the column family and works.
  ASSERT_NO_FATAL_FAILURE(open_ok());
  auto loaded = store_->tree_store().load();
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_TRUE(loaded->blocks.empty());
  close();
  const std::vector<std::string> columns = stored_columns();
  EXPECT_NE(std::find(columns.begin(), columns.end(), "tree"), columns.end());
}

TEST_F(RocksChainStoreTest, Open_RefusesAnotherChainIdNamingBoth) {
  ASSERT_NO_FATAL_FAILURE(build_closed_chain(1));
  expect_open_refused(StatusCode::kFailedPrecondition, {"'rocks-chain'", "'other-chain'"},
                      "other-chain");
}

TEST_F(RocksChainStoreTest, Open_RefusesAnInvalidChainId) {
  expect_open_refused(StatusCode::kInvalidArgument, {"chain id"}, "bad chain id!");
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(RocksChainStoreTest, Open_WithoutCreateIfMissingRefusesAMissingDirectory) {
  RocksChainStore::Options options;
  options.create_if_missing = false;
  auto store = RocksChainStore::open(path_, kChainId, options);
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), StatusCode::kIoError) << store.status().to_string();
  EXPECT_THAT(store.status().message(), HasSubstr(path_));
  EXPECT_FALSE(std::filesystem::exists(path_ + "/CURRENT"));
}

TEST_F(RocksChainStoreTest, Open_RefusesADirectoryAnotherStoreHolds) {
  ASSERT_NO_FATAL_FAILURE(open_ok());
  auto second = open();
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIoError) << second.status().to_string();
}

TEST_F(RocksChainStoreTest, TornWrite_UnwrittenBatchLeavesThePreviousTip) {
  ASSERT_NO_FATAL_FAILURE(build_closed_chain(2));
  const std::map<Address, Account> accounts_before = chain_.accounts();
  ASSERT_NO_FATAL_FAILURE(open_ok());
  const BlockCommit& lost = chain_.next(transfers());
  ASSERT_TRUE(RocksChainStoreTestPeer::prepare_and_drop(*store_, lost).is_ok());
  close();  // the "crash"

  ASSERT_NO_FATAL_FAILURE(open_ok());
  EXPECT_EQ(store_->tip(), (ChainTip{2, chain_.commits()[2].block.id()}));
  EXPECT_EQ(store_->block_at(3).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->commit_cert_at(3).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->results_at(3).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->height_of(lost.block.id()).status().code(), StatusCode::kNotFound);
  for (const SignedTransfer& tx : lost.block.transactions) {
    EXPECT_EQ(store_->transaction_location(transaction_hash(tx)).status().code(),
              StatusCode::kNotFound);
  }
  for (const auto& [address, account] : accounts_before)
    EXPECT_EQ(*store_->account(address), account);
  EXPECT_EQ(*store_->accumulator(), chain_.commits()[2].accumulator);
  // The lost block can be committed again once the node restarts.
  Status status = store_->commit(lost, std::nullopt);
  EXPECT_TRUE(status.is_ok()) << status.to_string();
}

// The shared certificate of a batch names its last block, B0 (see next_batch in the conformance
// suite); after a reopen, the tip is that last block and every certificate rests on a stored
// block.
TEST_F(RocksChainStoreTest, Batch_ReopensAtItsLastBlock) {
  ASSERT_NO_FATAL_FAILURE(build_closed_chain(1));
  std::vector<BlockCommit> batch;
  for (int i = 0; i < 3; ++i)
    batch.push_back(chain_.next(transfers()));
  for (BlockCommit& commit : batch)
    commit.commit_cert = batch.back().commit_cert;
  ASSERT_NO_FATAL_FAILURE(open_ok());
  Status status = store_->commit_batch(batch, std::nullopt);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  close();

  ASSERT_NO_FATAL_FAILURE(open_ok());
  EXPECT_EQ(store_->tip(), (ChainTip{4, batch.back().block.id()}));
  for (const BlockCommit& commit : batch) {
    const std::uint64_t height = commit.block.header.height;
    EXPECT_EQ(*store_->block_at(height), commit.block);
    auto cert = store_->commit_cert_at(height);
    ASSERT_TRUE(cert.is_ok()) << cert.status().to_string();
    EXPECT_EQ(*store_->height_of(cert->data.parent_id), 4u);
  }
  for (const auto& [address, account] : chain_.accounts())
    EXPECT_EQ(*store_->account(address), account);
  EXPECT_EQ(*store_->accumulator(), chain_.accumulator());
}

TEST_F(RocksChainStoreTest, TornWrite_UnwrittenBatchLeavesNothingOfIt) {
  ASSERT_NO_FATAL_FAILURE(build_closed_chain(1));
  const std::map<Address, Account> accounts_before = chain_.accounts();
  const BlockCommit tip = chain_.last();
  std::vector<BlockCommit> batch;
  for (int i = 0; i < 2; ++i)
    batch.push_back(chain_.next(transfers()));
  ASSERT_NO_FATAL_FAILURE(open_ok());
  ASSERT_TRUE(RocksChainStoreTestPeer::prepare_and_drop(*store_, batch).is_ok());
  close();  // the "crash"

  ASSERT_NO_FATAL_FAILURE(open_ok());
  EXPECT_EQ(store_->tip(), (ChainTip{1, tip.block.id()}));
  for (const BlockCommit& commit : batch) {
    EXPECT_EQ(store_->block_at(commit.block.header.height).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(store_->height_of(commit.block.id()).status().code(), StatusCode::kNotFound);
  }
  for (const auto& [address, account] : accounts_before)
    EXPECT_EQ(*store_->account(address), account);
  EXPECT_EQ(*store_->accumulator(), tip.accumulator);
}

// The hold is written in the batch's one WriteBatch: it is durable with the blocks it covers,
// and a batch lost in a crash loses its hold with it.
TEST_F(RocksChainStoreTest, PublicationHold_SurvivesAReopenAndAnUnwrittenBatchLeavesTheOldOne) {
  ASSERT_NO_FATAL_FAILURE(build_closed_chain(1));
  const PublicationHold held{2, sha256(as_bytes("b0 far ahead")), 31};
  ASSERT_NO_FATAL_FAILURE(open_ok());
  Status status = store_->commit(chain_.next(transfers()), held);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  close();

  ASSERT_NO_FATAL_FAILURE(open_ok());
  auto read = store_->publication_hold();
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(*read, held);
  const BlockCommit& lost = chain_.next(transfers());
  ASSERT_TRUE(RocksChainStoreTestPeer::prepare_and_drop(*store_, lost, std::nullopt).is_ok());
  close();  // the "crash"

  ASSERT_NO_FATAL_FAILURE(open_ok());
  EXPECT_EQ(store_->tip()->height, 2u);
  EXPECT_EQ(*store_->publication_hold(), held);
  status = store_->commit(lost, std::nullopt);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  close();
  ASSERT_NO_FATAL_FAILURE(open_ok());
  EXPECT_EQ(*store_->publication_hold(), std::nullopt);
}

TEST_F(RocksChainStoreTest, CorruptedPublicationHold_ReportsCorruption) {
  ASSERT_NO_FATAL_FAILURE(build_closed_chain(1));
  ASSERT_NO_FATAL_FAILURE(raw_put(path_, "meta", "publication_hold", "too short"));
  ASSERT_NO_FATAL_FAILURE(open_ok());
  auto read = store_->publication_hold();
  EXPECT_EQ(read.status().code(), StatusCode::kCorruption) << read.status().to_string();
  EXPECT_THAT(read.status().message(), HasSubstr("publication_hold is 9 bytes, expected 48"));
}

TEST_F(RocksChainStoreTest, CorruptedBlockBytes_BlockAtReportsCorruption) {
  ASSERT_NO_FATAL_FAILURE(build_closed_chain(3));
  const std::string garbage = "\x01\x02 not a block";
  ASSERT_NO_FATAL_FAILURE(raw_put(path_, "blocks", be_u64(1), garbage));
  ASSERT_NO_FATAL_FAILURE(open_ok());
  auto block = store_->block_at(1);
  ASSERT_FALSE(block.is_ok());
  EXPECT_EQ(block.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(block.status().message(), HasSubstr("height 1"));
  auto raw = store_->raw_block_at(1);
  ASSERT_TRUE(raw.is_ok());
  EXPECT_EQ(std::string(raw->begin(), raw->end()), garbage);
  EXPECT_EQ(*store_->block_at(2), chain_.commits()[2].block);
}

TEST_F(RocksChainStoreTest, CorruptedStoredValues_ReadsReportCorruption) {
  ASSERT_NO_FATAL_FAILURE(build_closed_chain(1));
  const Address& address = signers_[0].public_key();
  ASSERT_NO_FATAL_FAILURE(raw_put(path_, "commit_certs", be_u64(0), "junk"));
  ASSERT_NO_FATAL_FAILURE(
      raw_put(path_, "accounts", std::string(address.bytes.begin(), address.bytes.end()), "short"));
  ASSERT_NO_FATAL_FAILURE(raw_put(path_, "safety", "safety_data", "junk"));
  ASSERT_NO_FATAL_FAILURE(open_ok());
  EXPECT_EQ(store_->commit_cert_at(0).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(store_->account(address).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(
      store_->for_each_account([](const Address&, const Account&) { return Status::ok(); }).code(),
      StatusCode::kCorruption);
  EXPECT_EQ(store_->safety_store().load().status().code(), StatusCode::kCorruption);
}

TEST_F(RocksChainStoreTest, CorruptedTipBlock_ReportedOnOpen) {
  ASSERT_NO_FATAL_FAILURE(build_closed_chain(2));
  ASSERT_NO_FATAL_FAILURE(raw_put(path_, "blocks", be_u64(2), "garbage"));
  expect_open_refused(StatusCode::kCorruption, {"height 2", "does not decode"});
}

TEST_F(RocksChainStoreTest, InconsistentTip_MissingBlockReportedOnOpen) {
  ASSERT_NO_FATAL_FAILURE(build_closed_chain(2));
  ASSERT_NO_FATAL_FAILURE(raw_put(path_, "meta", "tip_height", be_u64(7)));
  expect_open_refused(StatusCode::kCorruption,
                      {"meta tip is height 7", "last stored block is at height 2"});
}

TEST_F(RocksChainStoreTest, InconsistentTip_WrongIdReportedOnOpen) {
  ASSERT_NO_FATAL_FAILURE(build_closed_chain(2));
  ASSERT_NO_FATAL_FAILURE(raw_put(path_, "meta", "tip_id", std::string(32, '\xab')));
  expect_open_refused(StatusCode::kCorruption,
                      {"meta tip is height 2", chain_.last().block.id().hex()});
}

TEST_F(RocksChainStoreTest, InconsistentTip_BlockBeyondTheTipReportedOnOpen) {
  ASSERT_NO_FATAL_FAILURE(build_closed_chain(1));
  std::string block;
  ASSERT_NO_FATAL_FAILURE(raw_get(path_, "blocks", be_u64(1), block));
  ASSERT_NO_FATAL_FAILURE(raw_put(path_, "blocks", be_u64(2), block));
  expect_open_refused(StatusCode::kCorruption, {"last stored block is at height 2"});
}

TEST_F(RocksChainStoreTest, InconsistentAccumulator_ReportedOnOpen) {
  ASSERT_NO_FATAL_FAILURE(build_closed_chain(1));
  ASSERT_NO_FATAL_FAILURE(raw_put(path_, "meta", "state_accumulator",
                                  std::string(StateAccumulator::kEncodedSize, '\0')));
  expect_open_refused(StatusCode::kCorruption, {"accumulator digest"});
}

}  // namespace
}  // namespace ledger::storage
