// One suite, run against every consensus TreeStore: RocksChainStore::tree_store() on a real
// RocksDB in a temporary directory, and MemoryTreeStore. Each test checks one promise of the
// contract in include/ledger/consensus/tree_store.h. What only the RocksDB store can show
// (damaged bytes on disk) is in rocks_tree_store_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "ledger/storage/memory_tree_store.h"
#include "ledger/storage/rocks_chain_store.h"
#include "support/chain_fixture.h"
#include "support/temp_dir.h"
#include "support/test_keys.h"

namespace ledger::storage {
namespace {

using consensus::TreeSnapshot;
using consensus::TreeStore;
using consensus::TreeUpdate;

constexpr char kChainId[] = "tree-conformance";
// Small enough that a test can build a block over either limit: a block of kTransactionsMax
// transfers encodes to more than kBytesMax bytes, and an empty block fits (both checked below).
constexpr std::uint32_t kTransactionsMax = 8;
constexpr std::uint64_t kBytesMax = 1024;
constexpr BlockLimits kLimits{kTransactionsMax, kBytesMax};

// reopen() is what a restart does to the store: the RocksDB store is closed and opened again
// in the same directory; the memory store is "durable" for as long as the object lives, so the
// simulator keeps the same object.
class RocksFactory {
 public:
  Status open() {
    store_.reset();  // releases the directory lock first
    RocksChainStore::Options options;
    options.block_limits = kLimits;
    auto store = RocksChainStore::open((dir_.path() / "db").string(), kChainId, options);
    if (!store.is_ok()) return store.status();
    store_ = std::move(store).value();
    return Status::ok();
  }
  Status reopen() { return open(); }
  TreeStore& store() { return store_->tree_store(); }

 private:
  ledger::testing::TempDir dir_;
  std::unique_ptr<RocksChainStore> store_;
};

class MemoryFactory {
 public:
  Status open() {
    store_ = std::make_unique<MemoryTreeStore>(MemoryTreeStore::Options{kLimits});
    return Status::ok();
  }
  Status reopen() { return Status::ok(); }
  TreeStore& store() { return *store_; }

 private:
  std::unique_ptr<MemoryTreeStore> store_;
};

Signer signer(std::uint32_t i) {
  return ledger::testing::fixture_signer(i);
}

// `count` transfers from signer 0, each different.
std::vector<SignedTransfer> transfers(std::size_t count) {
  std::vector<SignedTransfer> out;
  for (std::size_t i = 0; i < count; ++i)
    out.push_back(
        ledger::testing::make_transfer(signer(0), kChainId, i, signer(1).public_key(), 100 + i));
  return out;
}

Block genesis_block() {
  return ledger::testing::make_genesis_block(kChainId, sha256(as_bytes("state")),
                                             ledger::testing::fixture_document_hash(kChainId));
}

// A child of `parent`; `salt` makes siblings (forks at one height) differ.
Block child(const Block& parent, std::uint64_t salt = 0, std::size_t transaction_count = 0) {
  Block block = ledger::testing::make_child_block(
      parent, transfers(transaction_count), sha256(as_bytes("state after " + parent.id().hex())));
  block.header.round += salt;
  return block;
}

QuorumCert qc_for(const Block& block) {
  VoteData data{block.id(), block.header.round, block.header.parent_id,
                block.header.parent_qc.round()};
  std::vector<Signer> signers;
  for (std::uint32_t i = 0; i < 3; ++i)
    signers.push_back(signer(i));
  return ledger::testing::sign_qc(data, kChainId, signers);
}

TimeoutCert tc_at(std::uint64_t round, const QuorumCert& high_qc) {
  TimeoutCert tc;
  tc.round = round;
  tc.high_qc = high_qc;
  for (std::uint32_t i = 0; i < 3; ++i) {
    TimeoutCertEntry entry;
    entry.signer = signer(i).public_key();
    entry.high_qc_round = high_qc.round();
    entry.signature.bytes.fill(static_cast<std::uint8_t>(0x30 + i));
    tc.entries.push_back(entry);
  }
  std::sort(tc.entries.begin(), tc.entries.end(),
            [](const auto& a, const auto& b) { return a.signer.bytes < b.signer.bytes; });
  return tc;
}

std::vector<Hash> ids_of(const std::vector<Block>& blocks) {
  std::vector<Hash> ids;
  for (const Block& block : blocks)
    ids.push_back(block.id());
  return ids;
}

// `blocks` ordered as TreeSnapshot::blocks promises: by (height, id).
std::vector<Block> ordered(std::vector<Block> blocks) {
  std::sort(blocks.begin(), blocks.end(), [](const Block& a, const Block& b) {
    return std::make_tuple(a.header.height, a.id()) < std::make_tuple(b.header.height, b.id());
  });
  return blocks;
}

template <typename Factory>
class TreeStoreConformance : public ::testing::Test {
 protected:
  TreeStoreConformance() {
    // A small tree: genesis, two forks at height 1, a child of each fork, and a block at
    // height 3 above the first.
    blocks_.push_back(genesis_block());
    blocks_.push_back(child(blocks_[0], 0, 2));
    blocks_.push_back(child(blocks_[0], 1, 1));
    blocks_.push_back(child(blocks_[1], 0, 0));
    blocks_.push_back(child(blocks_[2], 0, 3));
    blocks_.push_back(child(blocks_[3], 0, 1));
  }

  void SetUp() override {
    Status opened = factory_.open();
    ASSERT_TRUE(opened.is_ok()) << opened.to_string();
  }

  TreeStore& store() { return factory_.store(); }

  void save_ok(const TreeUpdate& update) {
    Status status = store().save(update);
    ASSERT_TRUE(status.is_ok()) << status.to_string();
  }

  TreeSnapshot load_ok() {
    auto snapshot = store().load();
    EXPECT_TRUE(snapshot.is_ok()) << snapshot.status().to_string();
    if (!snapshot.is_ok()) return {};
    return std::move(snapshot).value();
  }

  void reopen_ok() {
    Status reopened = factory_.reopen();
    ASSERT_TRUE(reopened.is_ok()) << reopened.to_string();
  }

  // The snapshot holds exactly `blocks` (in (height, id) order) and the given certificates.
  void expect_snapshot(const TreeSnapshot& snapshot, const std::vector<Block>& blocks,
                       const std::optional<QuorumCert>& high_qc,
                       const std::optional<TimeoutCert>& high_tc) {
    EXPECT_EQ(ids_of(snapshot.blocks), ids_of(ordered(blocks)));
    EXPECT_EQ(snapshot.blocks, ordered(blocks));
    EXPECT_EQ(snapshot.high_qc, high_qc);
    EXPECT_EQ(snapshot.high_tc, high_tc);
  }

  // A save that is refused for a block over the limits stores nothing of itself: not the
  // blocks within the limits, not the certificates, not the forgets.
  void expect_refused_with_nothing_stored(const Block& over, const std::string& fragment) {
    const QuorumCert first_qc = qc_for(blocks_[1]);
    const TimeoutCert first_tc = tc_at(4, first_qc);
    ASSERT_NO_FATAL_FAILURE(save_ok(TreeUpdate{{blocks_[0], blocks_[1]}, first_qc, first_tc, {}}));

    TreeUpdate update;
    update.blocks = {blocks_[2], over, blocks_[3]};
    update.high_qc = qc_for(blocks_[3]);
    update.high_tc = tc_at(9, *update.high_qc);
    update.forget = {blocks_[0].id()};
    Status status = store().save(update);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.to_string();
    EXPECT_TRUE(ledger::testing::contains(status, over.id().hex())) << status.to_string();
    EXPECT_TRUE(ledger::testing::contains(status, fragment)) << status.to_string();

    expect_snapshot(load_ok(), {blocks_[0], blocks_[1]}, first_qc, first_tc);
    ASSERT_NO_FATAL_FAILURE(reopen_ok());
    expect_snapshot(load_ok(), {blocks_[0], blocks_[1]}, first_qc, first_tc);
  }

  Factory factory_;
  std::vector<Block> blocks_;
};

using StoreFactories = ::testing::Types<RocksFactory, MemoryFactory>;
class FactoryNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, RocksFactory> ? "Rocks" : "Memory";
  }
};
TYPED_TEST_SUITE(TreeStoreConformance, StoreFactories, FactoryNames);

TYPED_TEST(TreeStoreConformance, EmptyStore_LoadsNoBlocksAndNoCertificates) {
  this->expect_snapshot(this->load_ok(), {}, std::nullopt, std::nullopt);
}

TYPED_TEST(TreeStoreConformance, EmptyUpdate_SucceedsAndStoresNothing) {
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{}));
  this->expect_snapshot(this->load_ok(), {}, std::nullopt, std::nullopt);
}

TYPED_TEST(TreeStoreConformance, Load_ReturnsEveryBlockOrderedByHeightThenId) {
  const std::vector<Block>& b = this->blocks_;
  // Saved out of order, across several saves, with forks at heights 1 and 2.
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{b[5], b[2]}, {}, {}, {}}));
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{b[4], b[0], b[3], b[1]}, {}, {}, {}}));
  const TreeSnapshot snapshot = this->load_ok();
  ASSERT_EQ(snapshot.blocks.size(), b.size());
  for (std::size_t i = 1; i < snapshot.blocks.size(); ++i) {
    const Block& before = snapshot.blocks[i - 1];
    const Block& after = snapshot.blocks[i];
    EXPECT_LT(std::make_tuple(before.header.height, before.id()),
              std::make_tuple(after.header.height, after.id()));
  }
  this->expect_snapshot(snapshot, b, std::nullopt, std::nullopt);
}

TYPED_TEST(TreeStoreConformance, Save_StoringABlockAgainIsANoOp) {
  const std::vector<Block>& b = this->blocks_;
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{b[0], b[1]}, {}, {}, {}}));
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{b[1], b[1], b[2]}, {}, {}, {}}));
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{b[0]}, {}, {}, {}}));
  this->expect_snapshot(this->load_ok(), {b[0], b[1], b[2]}, std::nullopt, std::nullopt);
}

TYPED_TEST(TreeStoreConformance, Save_HighQcIsReplacedOnlyWhenSet) {
  const std::vector<Block>& b = this->blocks_;
  const QuorumCert first = qc_for(b[1]);
  const QuorumCert second = qc_for(b[3]);
  ASSERT_NE(first, second);
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{b[0]}, first, {}, {}}));
  this->expect_snapshot(this->load_ok(), {b[0]}, first, std::nullopt);
  // Updates without a high QC keep the stored one.
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{b[1]}, {}, {}, {}}));
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{}, {}, tc_at(5, first), {b[1].id()}}));
  EXPECT_EQ(this->load_ok().high_qc, first);
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{}, second, {}, {}}));
  EXPECT_EQ(this->load_ok().high_qc, second);
}

TYPED_TEST(TreeStoreConformance, Save_HighTcIsReplacedOnlyWhenSet) {
  const std::vector<Block>& b = this->blocks_;
  const TimeoutCert first = tc_at(3, qc_for(b[1]));
  const TimeoutCert second = tc_at(7, qc_for(b[3]));
  ASSERT_NE(first, second);
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{}, {}, first, {}}));
  this->expect_snapshot(this->load_ok(), {}, std::nullopt, first);
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{b[0]}, qc_for(b[0]), {}, {}}));
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{}, {}, {}, {b[0].id()}}));
  EXPECT_EQ(this->load_ok().high_tc, first);
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{}, {}, second, {}}));
  EXPECT_EQ(this->load_ok().high_tc, second);
}

TYPED_TEST(TreeStoreConformance, Forget_DeletesTheBlocksAndKeepsTheRest) {
  const std::vector<Block>& b = this->blocks_;
  const QuorumCert qc = qc_for(b[3]);
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{b, qc, {}, {}}));
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{}, {}, {}, {b[0].id(), b[2].id()}}));
  this->expect_snapshot(this->load_ok(), {b[1], b[3], b[4], b[5]}, qc, std::nullopt);
}

TYPED_TEST(TreeStoreConformance, Forget_UnknownIdsAreIgnored) {
  const std::vector<Block>& b = this->blocks_;
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{b[0], b[1]}, {}, {}, {}}));
  const Hash unknown = sha256(as_bytes("no block has this id"));
  // Unknown alone, unknown beside a known id, and an id forgotten twice.
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{}, {}, {}, {unknown}}));
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{}, {}, {}, {unknown, b[0].id(), b[0].id()}}));
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{}, {}, {}, {b[0].id()}}));
  this->expect_snapshot(this->load_ok(), {b[1]}, std::nullopt, std::nullopt);
}

TYPED_TEST(TreeStoreConformance, Save_ABlockBothStoredAndForgottenEndsUpForgotten) {
  const std::vector<Block>& b = this->blocks_;
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{b[0]}, {}, {}, {}}));
  // b[0] was already stored, b[1] is new: both are in `blocks` and in `forget`.
  ASSERT_NO_FATAL_FAILURE(
      this->save_ok(TreeUpdate{{b[0], b[1], b[2]}, {}, {}, {b[1].id(), b[0].id()}}));
  this->expect_snapshot(this->load_ok(), {b[2]}, std::nullopt, std::nullopt);
  ASSERT_NO_FATAL_FAILURE(this->reopen_ok());
  this->expect_snapshot(this->load_ok(), {b[2]}, std::nullopt, std::nullopt);
}

TYPED_TEST(TreeStoreConformance, Save_RefusesABlockOverTransactionsMaxAndStoresNothing) {
  const Block over = child(this->blocks_[1], 5, kTransactionsMax + 1);
  this->expect_refused_with_nothing_stored(over, "has " + std::to_string(kTransactionsMax + 1) +
                                                     " transactions, the store limit is " +
                                                     std::to_string(kTransactionsMax));
}

TYPED_TEST(TreeStoreConformance, Save_RefusesABlockOverBytesMaxAndStoresNothing) {
  const Block over = child(this->blocks_[1], 5, kTransactionsMax);
  ASSERT_EQ(over.transactions.size(), kTransactionsMax);  // within the count limit
  const std::size_t size = encode_block(over).size();
  ASSERT_GT(size, kBytesMax);
  this->expect_refused_with_nothing_stored(
      over,
      "is " + std::to_string(size) + " bytes, the store limit is " + std::to_string(kBytesMax));
}

TYPED_TEST(TreeStoreConformance, Save_AcceptsTheLargestBlockWithinTheLimits) {
  // The largest block of the fixture that fits both limits: as many transfers as fit in
  // kBytesMax, never more than kTransactionsMax.
  Block fits = child(this->blocks_[0], 5, 0);
  for (std::size_t n = 1; n <= kTransactionsMax; ++n) {
    Block bigger = child(this->blocks_[0], 5, n);
    if (encode_block(bigger).size() > kBytesMax) break;
    fits = std::move(bigger);
  }
  ASSERT_FALSE(fits.transactions.empty());
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{fits}, {}, {}, {}}));
  ASSERT_NO_FATAL_FAILURE(this->reopen_ok());
  this->expect_snapshot(this->load_ok(), {fits}, std::nullopt, std::nullopt);
}

TYPED_TEST(TreeStoreConformance, Reopen_KeepsBlocksCertificatesAndForgets) {
  const std::vector<Block>& b = this->blocks_;
  const QuorumCert qc = qc_for(b[4]);
  const TimeoutCert tc = tc_at(8, qc_for(b[3]));
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{b, qc_for(b[1]), {}, {}}));
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{}, qc, tc, {b[0].id(), b[1].id()}}));
  ASSERT_NO_FATAL_FAILURE(this->reopen_ok());
  this->expect_snapshot(this->load_ok(), {b[2], b[3], b[4], b[5]}, qc, tc);
  // The reopened store goes on from what it loaded.
  ASSERT_NO_FATAL_FAILURE(this->save_ok(TreeUpdate{{b[0]}, {}, {}, {b[5].id()}}));
  ASSERT_NO_FATAL_FAILURE(this->reopen_ok());
  this->expect_snapshot(this->load_ok(), {b[0], b[2], b[3], b[4]}, qc, tc);
}

}  // namespace
}  // namespace ledger::storage
