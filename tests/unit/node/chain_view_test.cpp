// ChainView (include/ledger/node/chain_view.h): readers see only what is published. A block the
// store already holds stays invisible (its transaction pending, its height not found) until the
// loop publishes the tip that covers it (issue 11, point 9); waiters wake on publication and on
// shutdown.
#include "ledger/node/chain_view.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <vector>

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
    ASSERT_NO_FATAL_FAILURE(open_store());
    ASSERT_TRUE(store_->commit(chain_.genesis(), std::nullopt).is_ok());
    mempool_ = std::make_unique<Mempool>(kChainId, MempoolLimits{}, signatures_);
    view_ = std::make_unique<ChainView>(*store_, *mempool_);
    view_->publish(chain_.genesis().block, chain_.genesis().block.id(), 1);
  }

  void open_store() {
    auto store = RocksChainStore::open((dir_.path() / "db").string(), kChainId, {});
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(store).value();
  }

  // A restart, or a crash (nothing is written after a commit returns): closes the store and the
  // view, reopens the store from the same directory and publishes what it holds.
  void reopen() {
    view_.reset();
    store_.reset();
    ASSERT_NO_FATAL_FAILURE(open_store());
    view_ = std::make_unique<ChainView>(*store_, *mempool_);
    const Status published = view_->publish_stored(5);
    ASSERT_TRUE(published.is_ok()) << published.to_string();
  }

  // Writes `commit` as one batch of its own, with the publication hold it leaves, as the commit
  // pipeline writes a batch; publishes nothing.
  void write(const storage::BlockCommit& commit) {
    auto before = store_->publication_hold();
    ASSERT_TRUE(before.is_ok()) << before.status().to_string();
    const consensus::CommittedBlock stored{commit.block, commit.commit_cert};
    const Status s = store_->commit(commit, ChainView::hold_after(before.value(), {&stored, 1}));
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }

  // Writes `commit`, then what publish_batch says.
  bool store_and_publish(const storage::BlockCommit& commit) {
    write(commit);
    return view_->publish_batch({consensus::CommittedBlock{commit.block, commit.commit_cert}}, 2);
  }

  // Writes the next block with one transfer to the store, without publishing it.
  const storage::BlockCommit& write_next() {
    const SignedTransfer tx = chain_.transfer(sender_, recipient_.public_key(), 5);
    const storage::BlockCommit& next = chain_.next({tx});
    write(next);
    return next;
  }

  std::optional<storage::PublicationHold> stored_hold() const {
    auto hold = store_->publication_hold();
    EXPECT_TRUE(hold.is_ok()) << hold.status().to_string();
    return hold.is_ok() ? hold.value() : std::nullopt;
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

std::vector<consensus::CommittedBlock> just(const storage::BlockCommit& commit) {
  return {committed(commit)};
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

  write(batch[0]);
  write(batch[1]);
  EXPECT_FALSE(view_->publish_batch({committed(batch[0]), committed(batch[1])}, 2));
  EXPECT_EQ(view_->latest_height(), 0u);
  EXPECT_EQ(view_->block_at(1).status().code(), StatusCode::kNotFound);

  write(batch[2]);
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
  write(first);
  write(second);

  ASSERT_TRUE(view_->publish_stored(4).is_ok());
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

// The same store at open: publish_stored publishes the height below the block that waits for
// its B0, though block 2 above it ends its batch.
TEST_F(ChainViewTest, PublishStored_StopsBelowABlockWaitingForAFarB0) {
  TestChain ahead = chain_;
  storage::BlockCommit waiting = ahead.next({ahead.transfer(sender_, recipient_.public_key(), 1)});
  const storage::BlockCommit whole = ahead.next({});
  const storage::BlockCommit b0 = ahead.build({});
  waiting.commit_cert = cert_committing(b0.block);
  write(waiting);
  write(whole);

  ASSERT_TRUE(view_->publish_stored(4).is_ok());
  EXPECT_EQ(view_->latest_height(), 0u);
  // And it remembers the B0 it waits for: storing it publishes everything.
  EXPECT_TRUE(store_and_publish(b0));
  EXPECT_EQ(view_->latest_height(), 3u);
}

// Before the hold was stored, publish_stored trusted that a B0 was at most `span` blocks above
// its block, span coming from the configuration (p2p frame and sync limits, pending blocks): an
// operator who lowered them between runs shrank it, the walk from the tip stopped above block 1,
// and the tip was published while block 1's certificate named a block the store did not hold
// (readers: "cannot be read"). Block 1 here waits for a B0 80 blocks ahead, above 70 blocks
// that each end their batch; no configuration is involved any more.
TEST_F(ChainViewTest, PublishStored_HoldSurvivesAReopenWithoutAConfigBound) {
  constexpr std::uint64_t kAbove = 70;
  TestChain ahead = chain_;
  storage::BlockCommit waiting = ahead.next({ahead.transfer(sender_, recipient_.public_key(), 1)});
  std::vector<storage::BlockCommit> above;
  for (std::uint64_t i = 0; i < kAbove; ++i)
    above.push_back(ahead.next({}));
  for (int i = 0; i < 9; ++i)
    ahead.next({});
  const storage::BlockCommit b0 = ahead.next({});
  waiting.commit_cert = cert_committing(b0.block);
  write(waiting);
  for (const storage::BlockCommit& commit : above)
    write(commit);
  EXPECT_EQ(stored_hold(), (storage::PublicationHold{1, b0.block.id(), b0.block.header.round}));

  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(store_->tip()->height, kAbove + 1);
  EXPECT_EQ(view_->latest_height(), 0u);
  EXPECT_EQ(view_->block_at(1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(view_->tip().current_round, 5u);
}

// Once its B0 is stored the hold ends: the tip is published, the store holds no hold, and a
// reopen publishes the tip too.
TEST_F(ChainViewTest, PublishStored_AfterTheB0IsStoredTheTipIsPublishedAndTheHoldIsGone) {
  TestChain ahead = chain_;
  storage::BlockCommit waiting = ahead.next({ahead.transfer(sender_, recipient_.public_key(), 1)});
  const storage::BlockCommit whole = ahead.next({});
  const storage::BlockCommit b0 = ahead.next({});
  waiting.commit_cert = cert_committing(b0.block);
  write(waiting);
  write(whole);
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(view_->latest_height(), 0u);

  EXPECT_TRUE(store_and_publish(b0));
  EXPECT_EQ(view_->latest_height(), 3u);
  EXPECT_EQ(stored_hold(), std::nullopt);
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(view_->latest_height(), 3u);
  EXPECT_EQ(view_->tip().block_id, b0.block.id());
}

// A crash after any commit (the batch written, its publication lost) reopens at a height that
// keeps the rule and is never below what was published before.
TEST_F(ChainViewTest, PublishStored_ACrashBetweenTwoCommitsKeepsTheRule) {
  const storage::BlockCommit& whole = write_next();
  ASSERT_TRUE(view_->publish_batch({committed(whole)}, 2));
  TestChain ahead = chain_;
  storage::BlockCommit first = ahead.next({ahead.transfer(sender_, recipient_.public_key(), 1)});
  storage::BlockCommit second = ahead.next({ahead.transfer(sender_, recipient_.public_key(), 1)});
  const storage::BlockCommit b0 = ahead.next({});
  first.commit_cert = cert_committing(b0.block);
  second.commit_cert = cert_committing(b0.block);

  write(first);
  ASSERT_NO_FATAL_FAILURE(reopen());  // crash before block 3 arrives
  EXPECT_EQ(view_->latest_height(), 1u);
  write(second);
  ASSERT_NO_FATAL_FAILURE(reopen());  // crash before B0 arrives
  EXPECT_EQ(view_->latest_height(), 1u);
  EXPECT_EQ(stored_hold(), (storage::PublicationHold{2, b0.block.id(), b0.block.header.round}));
  write(b0);
  ASSERT_NO_FATAL_FAILURE(reopen());  // crash before B0 was published
  EXPECT_EQ(view_->latest_height(), 4u);
  for (std::uint64_t h = 1; h <= 4; ++h) {
    auto view = view_->block_at(h);
    ASSERT_TRUE(view.is_ok()) << h;
    EXPECT_TRUE(view_->block_by_id(view.value().commit_cert.data.parent_id).is_ok()) << h;
  }
}

// The awaited B0 may itself arrive with the genuine certificate of a later batch: the blocks
// that awaited it are publishable only with it, so the hold keeps its first height and waits
// for the later B0.
TEST_F(ChainViewTest, HoldAfter_TheAwaitedB0WithALaterCertificateKeepsTheFirstHeight) {
  TestChain ahead = chain_;
  storage::BlockCommit waiting = ahead.next({});
  storage::BlockCommit b0 = ahead.next({});
  const storage::BlockCommit later_b0 = ahead.next({});
  waiting.commit_cert = cert_committing(b0.block);
  b0.commit_cert = cert_committing(later_b0.block);

  const auto after_waiting = ChainView::hold_after(std::nullopt, just(waiting));
  EXPECT_EQ(after_waiting, (storage::PublicationHold{1, b0.block.id(), b0.block.header.round}));
  const auto after_b0 = ChainView::hold_after(after_waiting, just(b0));
  EXPECT_EQ(after_b0,
            (storage::PublicationHold{1, later_b0.block.id(), later_b0.block.header.round}));
  EXPECT_EQ(ChainView::hold_after(after_b0, just(later_b0)), std::nullopt);

  write(waiting);
  write(b0);
  EXPECT_EQ(stored_hold(), after_b0);
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(view_->latest_height(), 0u) << "block 1's certificate names block 2, at 2 > 1";
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
