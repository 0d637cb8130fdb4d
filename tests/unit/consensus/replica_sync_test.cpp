// Replica::on_synced_commit: blocks committed by block sync are fed to the replica, which
// re-roots its tree there (issue 11, point E). Crafted inputs, one rule per test.
#include <gtest/gtest.h>

#include <algorithm>

#include "consensus_test_util.h"
#include "ledger/consensus/replica.h"

namespace ledger::consensus {
namespace {

using testing::rejected;
using testing::sent;
using testing::TestChain;

class ReplicaSyncTest : public testing::ReplicaFixture {
 protected:
  QuorumCert qc3_ = c_.qc(b3_);
  Block b4_ = c_.block(b3_, 4, qc3_);
  QuorumCert qc4_ = c_.qc(b4_);
  Block b5_ = c_.block(b4_, 5, qc4_);
  QuorumCert qc5_ = c_.qc(b5_);
  Block b6_ = c_.block(b5_, 6, qc5_);

  static bool forgets(const Actions& a, const Hash& id) {
    return std::find(a.blocks_to_forget.begin(), a.blocks_to_forget.end(), id) !=
           a.blocks_to_forget.end();
  }
  // The peer a block request for `id` in `a` went to.
  static std::optional<PublicKey> asked_for(const Actions& a, const Hash& id) {
    for (const auto& m : a.messages) {
      const auto* request = std::get_if<BlockRequest>(&m.message);
      if (request != nullptr && request->block_id == id && m.to) return *m.to;
    }
    return std::nullopt;
  }
  // `a` commits b4 alone, under QC(b5) (b5 extends b4 by one round), and `r` is there.
  void expect_commits_b4_alone(const Replica& r, const Actions& a) const {
    ASSERT_EQ(a.commits.size(), 1u);
    EXPECT_EQ(a.commits[0].block, b4_);
    EXPECT_EQ(a.commits[0].commit_cert, qc5_);
    EXPECT_EQ(r.committed_id(), b4_.id());
  }
};

// Fed past its tip, a fresh replica re-roots at the synced block, raises high QC to the commit
// certificate (to be persisted), moves to the next round and fetches the certified block.
TEST_F(ReplicaSyncTest, SyncedCommit_PastTheTipReRootsRaisesHighQcAndRound) {
  auto r = c_.replica(3, store_);
  (void)r->start();
  Actions a = r->on_synced_commit(b3_, b3_.id(), qc4_);
  EXPECT_TRUE(a.rejections.empty());
  EXPECT_EQ(r->committed_id(), b3_.id());
  EXPECT_EQ(r->committed_height(), 3u);
  EXPECT_EQ(r->tree().size(), 0u);
  EXPECT_EQ(r->high_qc(), qc4_);
  ASSERT_TRUE(a.high_qc_to_persist.has_value());
  EXPECT_EQ(*a.high_qc_to_persist, qc4_);
  EXPECT_EQ(r->current_round(), 5u);
  EXPECT_TRUE(forgets(a, c_.genesis().id()));  // the old root left the tree
  EXPECT_TRUE(asked_for(a, b4_.id()).has_value());
  EXPECT_TRUE(a.commits.empty());  // the host committed b3 itself
  EXPECT_EQ(r->safety_data().last_voted_round, 0u);
}

// After sync the replica takes part as before: it fetches the certified block, votes on the
// next proposal and commits by the 2-chain rule from its new root.
TEST_F(ReplicaSyncTest, SyncedCommit_ThenVotesAndCommitsNormally) {
  auto r = c_.replica(3, store_);
  (void)r->start();
  Actions synced = r->on_synced_commit(b3_, b3_.id(), qc4_);
  const auto peer = asked_for(synced, b4_.id());
  ASSERT_TRUE(peer.has_value());
  EXPECT_TRUE(sent<Vote>(propose(*r, b5_)).empty());  // b4 is not here yet
  Actions fetched = r->on_block_response(*peer, BlockResponse{{b4_}});
  EXPECT_TRUE(fetched.rejections.empty());
  auto votes = sent<Vote>(fetched);  // the waiting proposal resumes
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].data.block_id, b5_.id());
  EXPECT_EQ(r->safety_data().last_voted_round, 5u);
  Actions next = propose(*r, b6_);  // QC(b5), 5 == 4 + 1: commits b4 only
  expect_commits_b4_alone(*r, next);
}

// Blocks of the tree that extend the synced block stay; those it supersedes leave.
TEST_F(ReplicaSyncTest, SyncedCommit_KeepsBlocksThatExtendTheNewRoot) {
  auto r = c_.replica(3, store_);
  (void)propose(*r, b1_);
  (void)propose(*r, b2_);
  (void)propose(*r, b3_);  // QC(b2) commits b1; the tree holds b2, b3
  ASSERT_EQ(r->committed_id(), b1_.id());
  Actions a = r->on_synced_commit(b2_, b2_.id(), qc3_);
  EXPECT_TRUE(a.rejections.empty());
  EXPECT_EQ(r->committed_id(), b2_.id());
  EXPECT_TRUE(r->tree().contains(b3_.id()));
  EXPECT_EQ(r->tree().size(), 1u);
  EXPECT_TRUE(forgets(a, b1_.id()));
  EXPECT_FALSE(forgets(a, b3_.id()));
  EXPECT_EQ(r->high_qc(), qc3_);
  EXPECT_EQ(r->current_round(), 4u);
}

// An uncommitted block of the tree that conflicts with the synced chain is dropped: it can never
// commit. (Two certified blocks at one height need more than f Byzantine signers; crafted here.)
TEST_F(ReplicaSyncTest, SyncedCommit_DropsTreeBlocksThatConflict) {
  auto r = c_.replica(3, store_);
  (void)propose(*r, b1_);
  ASSERT_TRUE(r->tree().contains(b1_.id()));
  Block other1 = c_.block(c_.genesis(), 1, c_.gqc(), 777'777);
  Block other2 = c_.block(other1, 2, c_.qc(other1));
  Actions a = r->on_synced_commit(other1, other1.id(), c_.qc(other2));
  EXPECT_TRUE(a.rejections.empty());
  EXPECT_EQ(r->committed_id(), other1.id());
  EXPECT_FALSE(r->tree().contains(b1_.id()));
  EXPECT_TRUE(forgets(a, b1_.id()));
}

// A block at the committed height other than the committed block is refused, and changes nothing.
TEST_F(ReplicaSyncTest, SyncedCommit_RejectsBlockConflictingWithTheCommittedRoot) {
  auto r = c_.replica(3, store_);
  (void)propose(*r, b1_);
  (void)propose(*r, b2_);
  (void)propose(*r, b3_);  // commits b1
  Block other1 = c_.block(c_.genesis(), 1, c_.gqc(), 777'777);
  Block other2 = c_.block(other1, 2, c_.qc(other1));
  Actions a = r->on_synced_commit(other1, other1.id(), c_.qc(other2));
  EXPECT_TRUE(rejected(a, RejectReason::kConflictsWithCommit));
  EXPECT_EQ(r->committed_id(), b1_.id());
  EXPECT_TRUE(r->tree().contains(b3_.id()));
  EXPECT_TRUE(a.blocks_to_forget.empty());
}

// The committed block again, or one below it, is a no-op.
TEST_F(ReplicaSyncTest, SyncedCommit_AtOrBelowTheCommittedHeightChangesNothing) {
  auto r = c_.replica(3, store_);
  (void)r->on_synced_commit(b3_, b3_.id(), qc4_);
  const std::uint64_t round = r->current_round();
  Actions same = r->on_synced_commit(b3_, b3_.id(), qc4_);
  Actions below = r->on_synced_commit(b2_, b2_.id(), qc3_);
  EXPECT_TRUE(same.rejections.empty() && same.messages.empty() && same.blocks_to_forget.empty());
  EXPECT_TRUE(below.rejections.empty() && below.messages.empty());
  EXPECT_EQ(r->committed_id(), b3_.id());
  EXPECT_EQ(r->current_round(), round);
}

// A certificate that is not a 2-chain, or whose B0 is below the block, does not commit it.
TEST_F(ReplicaSyncTest, SyncedCommit_RejectsCertificateThatDoesNotCommitTheBlock) {
  auto r = c_.replica(3, store_);
  Block b4_after_tc = c_.block(b2_, 4, qc2_);  // parent round 2, round 4: no 2-chain
  Actions not_two_chain = r->on_synced_commit(b2_, b2_.id(), c_.qc(b4_after_tc));
  EXPECT_TRUE(rejected(not_two_chain, RejectReason::kInvalidCertificate));
  Actions b0_below = r->on_synced_commit(b3_, b3_.id(), qc3_);  // QC(b3) commits b2 at most
  EXPECT_TRUE(rejected(b0_below, RejectReason::kInvalidCertificate));
  EXPECT_EQ(r->committed_id(), c_.genesis().id());
  EXPECT_EQ(r->current_round(), 1u);
}

TEST_F(ReplicaSyncTest, SyncedCommit_RejectsForgedCertificate) {
  auto r = c_.replica(3, store_);
  QuorumCert forged = qc4_;
  forged.signatures[0].signature.bytes[5] ^= 0x01;
  Actions a = r->on_synced_commit(b3_, b3_.id(), forged);
  EXPECT_TRUE(rejected(a, RejectReason::kInvalidCertificate));
  QuorumCert short_of_quorum = c_.qc(b4_, {0});
  Actions b = r->on_synced_commit(b3_, b3_.id(), short_of_quorum);
  EXPECT_TRUE(rejected(b, RejectReason::kInvalidCertificate));
  EXPECT_EQ(r->committed_id(), c_.genesis().id());
  EXPECT_EQ(r->high_qc(), c_.gqc());
}

TEST_F(ReplicaSyncTest, SyncedCommit_RejectsWrongIdOrChain) {
  auto r = c_.replica(3, store_);
  Actions wrong_id = r->on_synced_commit(b3_, b2_.id(), qc4_);
  EXPECT_TRUE(rejected(wrong_id, RejectReason::kMalformed));
  Block other_chain = b3_;
  other_chain.header.chain_id = "other-chain";
  Actions wrong_chain = r->on_synced_commit(other_chain, other_chain.id(), qc4_);
  EXPECT_TRUE(rejected(wrong_chain, RejectReason::kWrongChain));
  EXPECT_EQ(r->committed_id(), c_.genesis().id());
}

// The commit certificate of a batch may name a B0 above the synced block: that B0 commits as
// soon as it is in the tree.
TEST_F(ReplicaSyncTest, SyncedCommit_LaterB0CommitsOnceFetched) {
  auto r = c_.replica(3, store_);
  Actions a = r->on_synced_commit(b3_, b3_.id(), qc5_);  // B0 = b4, B1 = b5
  EXPECT_TRUE(a.rejections.empty());
  EXPECT_EQ(r->committed_id(), b3_.id());
  const auto peer = asked_for(a, b5_.id());
  ASSERT_TRUE(peer.has_value());
  Actions fetched = r->on_block_response(*peer, BlockResponse{{b5_, b4_}});
  expect_commits_b4_alone(*r, fetched);
}

// A fetch the synced root made moot is dropped at once (not at its retry deadline), and so is
// a proposal that waited for it: the commit certificate already moved the round past it.
TEST_F(ReplicaSyncTest, SyncedCommit_CancelsMootFetchAndStaleWaitingProposal) {
  auto r = c_.replica(1, store_);
  Actions waiting = propose(*r, b3_);  // b2 (and b1) unknown: fetched from b3's proposer
  ASSERT_TRUE(asked_for(waiting, b2_.id()).has_value());
  ASSERT_TRUE(r->awaits_block_response_from(c_.key(3)));
  Actions a = r->on_synced_commit(b2_, b2_.id(), qc3_);
  EXPECT_EQ(r->current_round(), 4u);
  EXPECT_TRUE(sent<Vote>(a).empty());
  const auto b3_peer = asked_for(a, b3_.id());  // QC(b3) is the high QC now: its block is needed
  ASSERT_TRUE(b3_peer.has_value());
  for (std::size_t i = 0; i < c_.size(); ++i) {
    if (c_.key(i) != *b3_peer) {
      EXPECT_FALSE(r->awaits_block_response_from(c_.key(i))) << i;
    }
  }
  // b3 arrives: it joins the tree on the new root, and nothing is voted for it (round 3 is past).
  Actions fetched = r->on_block_response(*b3_peer, BlockResponse{{b3_}});
  EXPECT_TRUE(r->tree().contains(b3_.id()));
  EXPECT_TRUE(sent<Vote>(fetched).empty());
  EXPECT_EQ(r->safety_data().last_voted_round, 0u);
}

// Safety data never moves backwards: a replica that voted in rounds the synced chain covers
// keeps its last voted round and does not vote there again.
TEST_F(ReplicaSyncTest, SyncedCommit_NeverLowersSafetyData) {
  auto r = c_.replica(1, store_);
  (void)propose(*r, b1_);
  (void)propose(*r, b2_);
  (void)propose(*r, b3_);
  ASSERT_EQ(r->safety_data().last_voted_round, 3u);
  const SafetyData before = r->safety_data();
  (void)r->on_synced_commit(b1_, b1_.id(), qc2_);
  (void)r->on_synced_commit(b2_, b2_.id(), qc3_);
  EXPECT_EQ(r->safety_data(), before);
  Block other3 = c_.block(b2_, 3, qc2_, 888'888);  // a second block of round 3
  EXPECT_TRUE(sent<Vote>(propose(*r, other3)).empty());
  EXPECT_EQ(r->safety_data().last_voted_round, 3u);
}

}  // namespace
}  // namespace ledger::consensus
