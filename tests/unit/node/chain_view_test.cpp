// ChainView (include/ledger/node/chain_view.h): readers see only what is published. A block the
// store already holds stays invisible (its transaction pending, its height not found) until the
// loop publishes the tip that covers it (issue 11, point 9); waiters wake on publication and on
// shutdown.
#include "ledger/node/chain_view.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>

#include "ledger/node/signature_cache.h"
#include "ledger/storage/rocks_chain_store.h"
#include "support/chain_fixture.h"
#include "support/temp_dir.h"
#include "support/test_keys.h"

namespace ledger::node {
namespace {

using namespace std::chrono_literals;
using storage::RocksChainStore;
using testing::TestChain;

constexpr char kChainId[] = "view-test";

class ChainViewTest : public ::testing::Test {
 protected:
  ChainViewTest()
      : sender_(testing::test_signer(0x76, 1)),
        recipient_(testing::test_signer(0x76, 2)),
        chain_(kChainId, {{sender_.public_key(), Account{1'000, 0}}}) {}

  void SetUp() override {
    auto store = RocksChainStore::open((dir_.path() / "db").string(), kChainId, {});
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(store).value();
    ASSERT_TRUE(store_->commit(chain_.genesis()).is_ok());
    mempool_ = std::make_unique<Mempool>(kChainId, MempoolLimits{}, signatures_);
    view_ = std::make_unique<ChainView>(*store_, *mempool_);
    view_->publish(chain_.genesis().block, chain_.genesis().block.id(), 1);
  }

  // Writes `commit` to the store, as one batch of its own, then what publish_batch says.
  bool store_and_publish(const storage::BlockCommit& commit) {
    EXPECT_TRUE(store_->commit(commit).is_ok());
    return view_->publish_batch({consensus::CommittedBlock{commit.block, commit.commit_cert}}, 2);
  }

  // Writes the next block with one transfer to the store, without publishing it.
  const storage::BlockCommit& write_next() {
    const SignedTransfer tx = chain_.transfer(sender_, recipient_.public_key(), 5);
    const storage::BlockCommit& next = chain_.next({tx});
    EXPECT_TRUE(store_->commit(next).is_ok());
    return next;
  }

  testing::TempDir dir_;
  Signer sender_;
  Signer recipient_;
  TestChain chain_;
  SignatureCache signatures_{1024};
  std::unique_ptr<RocksChainStore> store_;
  std::unique_ptr<Mempool> mempool_;
  std::unique_ptr<ChainView> view_;
};

TEST_F(ChainViewTest, WrittenButNotPublished_IsInvisibleToEveryQuery) {
  const storage::BlockCommit& written = write_next();
  const Hash tx_hash = transaction_hash(written.block.transactions.at(0));
  const Hash id = written.block.id();

  EXPECT_EQ(view_->latest_height(), 0u);
  EXPECT_EQ(view_->block_at(1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(view_->block_by_id(id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(view_->committed_transaction(tx_hash).status().code(), StatusCode::kNotFound);
  auto lookup = view_->transaction(tx_hash);
  ASSERT_TRUE(lookup.is_ok()) << lookup.status().to_string();
  EXPECT_FALSE(lookup.value().committed.has_value()) << "still pending to readers";

  view_->publish(written.block, id, 3);
  EXPECT_EQ(view_->latest_height(), 1u);
  ASSERT_TRUE(view_->block_at(1).is_ok());
  EXPECT_EQ(view_->block_by_id(id).value().id, id);
  EXPECT_EQ(view_->committed_transaction(tx_hash).value().height, 1u);
  EXPECT_TRUE(view_->transaction(tx_hash).value().committed.has_value());
  EXPECT_EQ(view_->tip().current_round, 3u);
}

TEST_F(ChainViewTest, WaitForHeight_WakesOnPublishAndOnShutdown) {
  const storage::BlockCommit& written = write_next();
  auto waiter = std::async(std::launch::async, [this] {
    return view_->wait_for_height(1, std::chrono::steady_clock::now() + 30s);
  });
  view_->publish(written.block, written.block.id(), 2);
  auto reached = waiter.get();
  ASSERT_TRUE(reached.is_ok()) << reached.status().to_string();
  EXPECT_EQ(reached.value(), 1u);

  auto stopped = std::async(std::launch::async, [this] {
    return view_->wait_for_height(5, std::chrono::steady_clock::now() + 30s);
  });
  view_->shut_down();
  EXPECT_EQ(stopped.get().status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(view_->shutting_down());
}

TEST_F(ChainViewTest, WaitForHeight_ReturnsTheHeightAtTheDeadline) {
  auto waited = view_->wait_for_height(3, std::chrono::steady_clock::now() + 20ms);
  ASSERT_TRUE(waited.is_ok());
  EXPECT_EQ(waited.value(), 0u);
}

// A commit certificate whose 2-chain commits `b0` (a later block than the ones that carry it).
QuorumCert cert_committing(const Block& b0) {
  QuorumCert cert;
  cert.data.parent_id = b0.id();
  cert.data.parent_round = b0.header.round;
  cert.data.round = b0.header.round + 1;
  cert.data.block_id = Hash{};  // B1, the child of B0 (not stored)
  cert.data.block_id.bytes[0] = 0xb1;
  return cert;
}

consensus::CommittedBlock committed(const storage::BlockCommit& commit) {
  return consensus::CommittedBlock{commit.block, commit.commit_cert};
}

// Block sync may store the first part of a batch cut across responses: its certificate names a
// B0 that is not stored yet. Before the fix the tip moved to it, and a reader resolving the
// certificate met "cannot be read" (issue 11 point 9, on a syncing node; found by the
// simulator's validity check).
TEST_F(ChainViewTest, PartOfABatch_StaysUnpublishedUntilItsB0IsStored) {
  TestChain ahead = chain_;
  std::vector<storage::BlockCommit> batch;
  for (int i = 0; i < 3; ++i) {
    batch.push_back(ahead.next({ahead.transfer(sender_, recipient_.public_key(), 1)}));
  }
  const QuorumCert cert = cert_committing(batch.back().block);
  for (auto& commit : batch)
    commit.commit_cert = cert;

  ASSERT_TRUE(store_->commit(batch[0]).is_ok());
  ASSERT_TRUE(store_->commit(batch[1]).is_ok());
  EXPECT_FALSE(view_->publish_batch({committed(batch[0]), committed(batch[1])}, 2));
  EXPECT_EQ(view_->latest_height(), 0u);
  EXPECT_EQ(view_->block_at(1).status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(store_->commit(batch[2]).is_ok());
  EXPECT_TRUE(view_->publish_batch({committed(batch[2])}, 2));
  EXPECT_EQ(view_->latest_height(), 3u);
  auto last = view_->block_at(3);
  ASSERT_TRUE(last.is_ok());
  EXPECT_EQ(last.value().commit_cert, cert);
}

TEST_F(ChainViewTest, PublishStored_StopsBelowAPartialBatchAtOpen) {
  const storage::BlockCommit whole = write_next();  // its certificate names itself
  TestChain ahead = chain_;
  storage::BlockCommit first = ahead.next({ahead.transfer(sender_, recipient_.public_key(), 1)});
  storage::BlockCommit second = ahead.next({ahead.transfer(sender_, recipient_.public_key(), 1)});
  const storage::BlockCommit b0 = ahead.next({});
  first.commit_cert = second.commit_cert = cert_committing(b0.block);
  ASSERT_TRUE(store_->commit(first).is_ok());
  ASSERT_TRUE(store_->commit(second).is_ok());

  ASSERT_TRUE(view_->publish_stored(4, batch_span_max(16, 64)).is_ok());
  EXPECT_EQ(view_->latest_height(), whole.block.header.height);
  EXPECT_EQ(view_->tip().block_id, whole.block.id());
}

// A sync peer may answer block 1 with the genuine certificate of a later batch, whose B0 (block
// 4) proof headers link to it; honest peers then send blocks 2 and 3, each ending its own
// batch. Before the fix block 2 was published while block 1's certificate named a block the
// store did not hold, and the RPC server's commit_cert_height_of(1) failed with "cannot be
// read" (issue 11, point 9).
TEST_F(ChainViewTest, FarAheadCertificate_HoldsPublicationUntilItsB0IsStored) {
  TestChain ahead = chain_;
  std::vector<storage::BlockCommit> blocks;
  for (int i = 0; i < 4; ++i) {
    blocks.push_back(ahead.next({ahead.transfer(sender_, recipient_.public_key(), 1)}));
  }
  blocks[0].commit_cert = cert_committing(blocks[3].block);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(store_and_publish(blocks[i])) << "height " << i + 1;
  }
  EXPECT_EQ(view_->latest_height(), 0u);
  EXPECT_EQ(view_->block_at(2).status().code(), StatusCode::kNotFound);

  EXPECT_TRUE(store_and_publish(blocks[3]));
  EXPECT_EQ(view_->latest_height(), 4u);
  // Every certificate a reader meets names a block it can read.
  for (std::uint64_t h = 1; h <= 4; ++h) {
    auto view = view_->block_at(h);
    ASSERT_TRUE(view.is_ok()) << h;
    EXPECT_TRUE(view_->block_by_id(view.value().commit_cert.data.parent_id).is_ok()) << h;
  }
}

// The same store at open: publish_stored walks down past block 2 (which ends its batch) to the
// height below the block that waits for its B0.
TEST_F(ChainViewTest, PublishStored_StopsBelowABlockWaitingForAFarB0) {
  TestChain ahead = chain_;
  storage::BlockCommit waiting = ahead.next({ahead.transfer(sender_, recipient_.public_key(), 1)});
  const storage::BlockCommit whole = ahead.next({});
  const storage::BlockCommit b0 = ahead.build({});
  waiting.commit_cert = cert_committing(b0.block);
  ASSERT_TRUE(store_->commit(waiting).is_ok());
  ASSERT_TRUE(store_->commit(whole).is_ok());

  ASSERT_TRUE(view_->publish_stored(4, batch_span_max(16, 64)).is_ok());
  EXPECT_EQ(view_->latest_height(), 0u);
  // And it remembers the B0 it waits for: storing it publishes everything.
  EXPECT_TRUE(store_and_publish(b0));
  EXPECT_EQ(view_->latest_height(), 3u);
}

// The store keeps one state, after its tip. Before the fix the answer named the published
// height (0) with the state after height 1, which the reader could not see yet.
TEST_F(ChainViewTest, Account_NamesTheHeightItsStateIsOf) {
  const Account before = view_->account(sender_.public_key()).value().account;
  write_next();  // stored, not published: the sender paid 5
  auto read = view_->account(sender_.public_key());
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(view_->latest_height(), 0u);
  EXPECT_EQ(read.value().height, 1u);
  EXPECT_EQ(read.value().account.balance, before.balance - 5);
  EXPECT_EQ(read.value().account.nonce, before.nonce + 1);
}

TEST_F(ChainViewTest, EndsBatch_NamesItselfAsB0OrAsCertified) {
  const storage::BlockCommit& next = write_next();
  const Hash id = next.block.id();
  EXPECT_TRUE(ChainView::ends_batch(next.block, id, next.commit_cert));  // certifies it
  QuorumCert as_b0 = cert_committing(next.block);
  EXPECT_TRUE(ChainView::ends_batch(next.block, id, as_b0));
  TestChain ahead = chain_;
  const storage::BlockCommit later = ahead.next({});
  EXPECT_FALSE(ChainView::ends_batch(next.block, id, cert_committing(later.block)));
}

}  // namespace
}  // namespace ledger::node
