// SyncApplier (include/ledger/node/sync_applier.h): the one sync commit path of ledgerd and the
// simulator. Real components over in-memory stores: BlockSync checks a response, the commit
// pipeline stores each batch, the ChainView publishes it, a refused block is the peer's failure,
// a safety violation is fatal, and the replica is fed the last block committed.
#include "ledger/node/sync_applier.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "ledger/consensus/replica.h"
#include "ledger/core/encoding.h"
#include "ledger/node/consensus_driver.h"
#include "ledger/node/signature_cache.h"
#include "ledger/storage/memory_chain_store.h"
#include "ledger/storage/memory_safety_store.h"
#include "ledger/storage/memory_tree_store.h"
#include "support/chain_fixture.h"
#include "support/test_keys.h"

namespace ledger::node {
namespace {

using testing::TestChain;

constexpr char kChain[] = "applier-test";

std::vector<Signer> validator_signers() {
  std::vector<Signer> signers;
  for (std::uint8_t i = 1; i <= 4; ++i)
    signers.push_back(testing::test_signer(0x5a, i));
  return signers;
}

// Four validators of power 1; one funded sender.
Genesis make_genesis() {
  Genesis genesis;
  std::vector<Validator> members;
  for (const Signer& s : validator_signers()) {
    members.push_back(Validator{s.public_key(), 1, "v" + std::to_string(members.size())});
  }
  genesis.chain_id = kChain;
  genesis.genesis_time_ms = testing::kFixtureGenesisTimeMs;
  genesis.validators = ValidatorSet::create(members).value();
  genesis.accounts.push_back(GenesisAccount{testing::test_signer(0x5d, 1).public_key(), 1'000'000});
  return genesis;
}

class SyncApplierTest : public ::testing::Test {
 protected:
  SyncApplierTest() : chain_(std::make_unique<TestChain>(genesis_, validator_signers())) {
    const Status s = store_.commit(chain_->genesis(), std::nullopt);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    view_.publish(chain_->genesis().block, chain_->genesis().block.id(), 1);
  }

  BlockSyncConfig sync_config() const {
    BlockSyncConfig c;
    c.chain_id = kChain;
    c.validators = genesis_.validators;
    c.genesis_qc = genesis_qc(genesis_.genesis_block());
    c.block_limits = genesis_.consensus.block_limits();
    c.blocks_max = 8;
    c.proof_headers_max = 8;
    return c;
  }

  // Appends `count` blocks, each with one transfer, to `chain` and returns a response carrying
  // them (each its own batch: its certificate names it as B0).
  SyncResponseMessage response(TestChain& chain, std::uint64_t count) {
    SyncResponseMessage r;
    r.from_height = chain.last().block.header.height + 1;
    for (std::uint64_t i = 0; i < count; ++i) {
      const storage::BlockCommit& next =
          chain.next({chain.transfer(sender_, recipient_.public_key(), 7)});
      r.blocks.push_back({encode_block(next.block), encode_qc(next.commit_cert)});
    }
    r.committed_height = chain.last().block.header.height;
    return r;
  }

  // Asks `peer_` through BlockSync, as the shell does before a response can be accepted.
  void ask(std::uint64_t claimed_height) {
    (void)sync_.on_peer_status(peer_, claimed_height);
    const SyncOutput out = sync_.poll(*store_.tip(), now_);
    ASSERT_TRUE(out.request.has_value());
    ASSERT_EQ(out.request->peer, peer_);
  }

  // A replica restored from the stores, as ledgerd and the simulator restore one.
  std::unique_ptr<consensus::Replica> make_replica() {
    consensus::ReplicaConfig config;
    config.chain_id = kChain;
    config.validators = genesis_.validators;
    config.genesis = genesis_.genesis_block();
    config.block_limits = genesis_.consensus.block_limits();
    std::size_t stale = 0;
    auto recovery = load_recovery(store_, tree_, config.genesis, stale);
    EXPECT_TRUE(recovery.is_ok()) << recovery.status().to_string();
    auto replica = consensus::Replica::create(config, testing::test_signer(0x5a, 1), safety_,
                                              std::move(recovery).value());
    EXPECT_TRUE(replica.is_ok()) << replica.status().to_string();
    return std::move(replica).value();
  }

  Signer sender_ = testing::test_signer(0x5d, 1);
  Signer recipient_ = testing::test_signer(0x5d, 3);
  PublicKey peer_ = testing::test_signer(0x5d, 2).public_key();
  Genesis genesis_ = make_genesis();
  std::unique_ptr<TestChain> chain_;
  storage::MemoryChainStore store_{kChain};
  storage::MemoryTreeStore tree_;
  storage::MemorySafetyStore safety_;
  SignatureCache signatures_{1024};
  Mempool mempool_{kChain, MempoolLimits{}, signatures_};
  SpeculativeState speculative_{store_, signatures_.as_check(), 64};
  CommitPipeline pipeline_{store_, speculative_, mempool_};
  ChainView view_{store_, mempool_};
  BlockSync sync_{sync_config()};
  SyncApplier applier_{sync_, pipeline_, view_};
  SyncTime now_ = SyncTime{} + std::chrono::seconds(100);
};

TEST_F(SyncApplierTest, VerifiedBlocks_AreStoredAndPublishedBatchByBatch) {
  const SyncResponseMessage r = response(*chain_, 3);
  ask(3);
  const SyncApplied applied = applier_.on_response(peer_, r, *store_.tip(), now_, nullptr);

  ASSERT_TRUE(applied.status.is_ok()) << applied.status.to_string();
  EXPECT_FALSE(applied.fatal);
  EXPECT_EQ(applied.committed, 3u);
  ASSERT_EQ(applied.stored.size(), 3u);
  EXPECT_EQ(applied.stored.back().block.id(), chain_->last().block.id());
  ASSERT_TRUE(applied.last.has_value());
  EXPECT_EQ(applied.last->block.header.height, 3u);
  EXPECT_EQ(applied.last->commit_cert, chain_->last().commit_cert);
  EXPECT_FALSE(applied.replica_actions.has_value()) << "no replica on a full node";
  EXPECT_EQ(store_.tip()->height, 3u);
  EXPECT_EQ(view_.latest_height(), 3u);
  EXPECT_EQ(view_.account(sender_.public_key()).value().account.nonce, 3u);
}

TEST_F(SyncApplierTest, Replica_IsFedTheLastBlockCommitted) {
  std::unique_ptr<consensus::Replica> replica = make_replica();
  const SyncResponseMessage r = response(*chain_, 2);
  ask(2);
  SyncApplied applied = applier_.on_response(peer_, r, *store_.tip(), now_, replica.get());

  ASSERT_TRUE(applied.status.is_ok()) << applied.status.to_string();
  ASSERT_TRUE(applied.replica_actions.has_value());
  EXPECT_TRUE(applied.replica_actions->rejections.empty());
  EXPECT_EQ(replica->committed_height(), 2u);
  EXPECT_EQ(replica->high_qc(), chain_->last().commit_cert);
}

TEST_F(SyncApplierTest, WrongStateRoot_IsThePeersFailureAndKeepsWhatWasStored) {
  std::unique_ptr<consensus::Replica> replica = make_replica();
  SyncResponseMessage r = response(*chain_, 1);
  // A second block whose header the validators certified over another state.
  storage::BlockCommit bad = chain_->build({});
  bad.block.header.state_root.bytes[0] ^= 0x01;
  const VoteData child{sha256(as_bytes("child of the bad block")), bad.block.header.round + 1,
                       bad.block.id(), bad.block.header.round};
  r.blocks.push_back(
      {encode_block(bad.block), encode_qc(testing::sign_qc(child, kChain, validator_signers()))});
  r.committed_height = 2;
  ask(2);
  SyncApplied applied = applier_.on_response(peer_, r, *store_.tip(), now_, replica.get());

  EXPECT_EQ(applied.status.code(), StatusCode::kInvalidArgument) << applied.status.to_string();
  EXPECT_FALSE(applied.fatal);
  EXPECT_EQ(applied.stored.size(), 1u);
  EXPECT_EQ(view_.latest_height(), 1u);
  EXPECT_EQ(sync_.failures_of(peer_), 1u) << "BlockSync heard of the refusal";
  ASSERT_TRUE(applied.last.has_value());
  EXPECT_EQ(applied.last->block.header.height, 1u);
  EXPECT_TRUE(applied.replica_actions.has_value()) << "what was stored is still fed";
  EXPECT_EQ(replica->committed_height(), 1u);
}

TEST_F(SyncApplierTest, SafetyViolation_IsFatalAndFeedsNothing) {
  std::unique_ptr<consensus::Replica> replica = make_replica();
  TestChain fork = *chain_;
  const SyncResponseMessage r = response(fork, 1);
  const storage::ChainTip asked_at = *store_.tip();
  ask(1);
  // Meanwhile this node committed another block at height 1 (as consensus would, were a quorum
  // to break safety): the synced block conflicts with the store.
  ASSERT_TRUE(store_.commit(chain_->next({}), std::nullopt).is_ok());
  SyncApplied applied = applier_.on_response(peer_, r, asked_at, now_, replica.get());

  EXPECT_EQ(applied.status.code(), StatusCode::kInternal) << applied.status.to_string();
  EXPECT_TRUE(applied.fatal);
  EXPECT_TRUE(applied.stored.empty());
  EXPECT_FALSE(applied.replica_actions.has_value());
  EXPECT_EQ(sync_.failures_of(peer_), 0u) << "not the peer's failure";
}

// The commit pipeline under the applier (and the consensus driver) writes each batch with the
// publication hold the stored batches leave, read from the store: the driver may commit
// several batches before the shell publishes once, so the view's hold lags behind the store's.
// Block 1 carries a certificate naming block 3 as its B0; nothing is published until the end.
TEST_F(SyncApplierTest, CommitPipeline_WritesEachBatchWithTheHoldTheStoredBatchesLeave) {
  const storage::BlockCommit first =
      chain_->next({chain_->transfer(sender_, recipient_.public_key(), 7)});
  const storage::BlockCommit whole = chain_->next({});
  const storage::BlockCommit b0 = chain_->next({});
  const storage::BlockCommit after = chain_->next({});
  QuorumCert far;
  far.data = VoteData{sha256(as_bytes("B1, the child of block 3")), b0.block.header.round + 1,
                      b0.block.id(), b0.block.header.round};
  const storage::PublicationHold held{1, b0.block.id(), b0.block.header.round};
  std::vector<consensus::CommittedBlock> stored;
  auto commit = [&](const storage::BlockCommit& c, const QuorumCert& cert) {
    auto newly = pipeline_.commit({consensus::CommittedBlock{c.block, cert}});
    ASSERT_TRUE(newly.is_ok()) << newly.status().to_string();
    stored.insert(stored.end(), newly->begin(), newly->end());
  };

  ASSERT_NO_FATAL_FAILURE(commit(first, far));
  EXPECT_EQ(store_.publication_hold().value(), held);
  ASSERT_NO_FATAL_FAILURE(commit(whole, whole.commit_cert));
  EXPECT_EQ(store_.publication_hold().value(), held);
  ASSERT_NO_FATAL_FAILURE(commit(b0, b0.commit_cert));
  EXPECT_EQ(store_.publication_hold().value(), std::nullopt);
  ASSERT_NO_FATAL_FAILURE(commit(after, after.commit_cert));
  EXPECT_EQ(store_.publication_hold().value(), std::nullopt);

  EXPECT_EQ(view_.latest_height(), 0u);
  EXPECT_TRUE(view_.publish_batch(stored, 2));
  EXPECT_EQ(view_.latest_height(), 4u);
}

// Review: a commit group was executed whole in the speculative state before its write, whose
// entries are sized by this node's pending_blocks_max. An honest batch can be twice the voters'
// pending_blocks_max, so a longer group failed with kResourceExhausted on every retry, and each
// time the peer that sent it was penalised: with pending_blocks_max 16 and the default
// sync_blocks_max 64, every honest peer. A batch longer than the room is now written in parts
// (the publication rule keeps it from readers until its B0), and a full speculative state is
// not the peer's fault.
TEST_F(SyncApplierTest, BatchLongerThanTheSpeculativeRoom_IsWrittenInPartsWithoutBlamingThePeer) {
  SpeculativeState small{store_, signatures_.as_check(), 1};
  CommitPipeline pipeline{store_, small, mempool_};
  SyncApplier applier{sync_, pipeline, view_};
  // Three blocks under the last one's certificate: one batch, B0 = height 3.
  SyncResponseMessage r = response(*chain_, 3);
  for (SyncResponseMessage::Item& item : r.blocks)
    item.commit_cert = encode_qc(chain_->last().commit_cert);
  ask(3);
  const SyncApplied applied = applier.on_response(peer_, r, *store_.tip(), now_, nullptr);

  ASSERT_TRUE(applied.status.is_ok()) << applied.status.to_string();
  EXPECT_EQ(applied.committed, 3u);
  EXPECT_EQ(store_.tip()->height, 3u);
  EXPECT_EQ(view_.latest_height(), 3u);
  EXPECT_EQ(sync_.failures_of(peer_), 0u);
  EXPECT_EQ(small.size(), 0u);
}

// With no room at all (consensus holds every entry), nothing is committed and the peer is not
// blamed: the note says why.
TEST_F(SyncApplierTest, SpeculativeStateFull_IsNotThePeersFailure) {
  SpeculativeState none{store_, signatures_.as_check(), 1};
  TestChain proposal = *chain_;  // consensus's own uncommitted block takes the one entry
  const storage::BlockCommit& own = proposal.next({});
  ASSERT_TRUE(none.execute_block_on_parent(own.block, own.block.id()).is_ok());
  ASSERT_EQ(none.room(), 0u);
  CommitPipeline pipeline{store_, none, mempool_};
  SyncApplier applier{sync_, pipeline, view_};
  const SyncResponseMessage r = response(*chain_, 2);
  ask(2);
  const SyncApplied applied = applier.on_response(peer_, r, *store_.tip(), now_, nullptr);

  EXPECT_EQ(applied.status.code(), StatusCode::kResourceExhausted) << applied.status.to_string();
  EXPECT_FALSE(applied.fatal);
  EXPECT_EQ(store_.tip()->height, 0u);
  EXPECT_EQ(sync_.failures_of(peer_), 0u);
  ASSERT_FALSE(applied.notes.empty());
  EXPECT_NE(applied.notes.back().text.find("cannot commit what"), std::string::npos);
}

TEST_F(SyncApplierTest, RefusedResponse_CommitsNothingAndSaysWhy) {
  SyncResponseMessage r = response(*chain_, 2);
  r.blocks.pop_back();
  r.blocks.push_back(r.blocks.front());  // heights not consecutive
  ask(2);
  const SyncApplied applied = applier_.on_response(peer_, r, *store_.tip(), now_, nullptr);

  EXPECT_TRUE(applied.status.is_ok());
  EXPECT_EQ(applied.committed, 0u);
  EXPECT_TRUE(applied.stored.empty());
  EXPECT_FALSE(applied.last.has_value());
  EXPECT_FALSE(applied.notes.empty());
  EXPECT_EQ(sync_.failures_of(peer_), 1u);
  EXPECT_EQ(store_.tip()->height, 0u);
}

}  // namespace
}  // namespace ledger::node
