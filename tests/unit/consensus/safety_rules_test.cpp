// One test per safety rule of DESIGN.md section 3, against SafetyRules alone.
#include "ledger/consensus/safety_rules.h"

#include <gtest/gtest.h>

#include "consensus_test_util.h"

namespace ledger::consensus {
namespace {

using testing::FlakySafetyStore;
using testing::TestChain;

class SafetyRulesTest : public ::testing::Test {
 protected:
  TestChain chain_;
  FlakySafetyStore store_;
  SafetyRules rules_ = chain_.safety_rules(1, store_);
  // b1 (round 1) on genesis, b2 (round 2) on b1.
  Block b1_ = chain_.block(chain_.genesis(), 1, chain_.gqc());
  QuorumCert qc1_ = chain_.qc(b1_);
  Block b2_ = chain_.block(b1_, 2, qc1_);
};

TEST_F(SafetyRulesTest, SafetyRules_RejectsRoundNotAboveLastVoted) {
  ASSERT_TRUE(rules_.sign_vote(b2_.header, b2_.id(), {}).is_ok());
  auto again = rules_.sign_vote(b1_.header, b1_.id(), {});
  ASSERT_FALSE(again.is_ok());
  EXPECT_EQ(again.error().code, SafetyErrorCode::kRoundNotAboveLastVoted);
  // The rule alone: equal is not above.
  SafetyData data;
  data.last_voted_round = 5;
  EXPECT_TRUE(SafetyRules::verify_and_update_last_vote_round(5, data).has_value());
  EXPECT_FALSE(SafetyRules::verify_and_update_last_vote_round(6, data).has_value());
  EXPECT_EQ(data.last_voted_round, 6u);
}

TEST_F(SafetyRulesTest, SafetyRules_ResignSameRoundReturnsCachedVote) {
  auto first = rules_.sign_vote(b1_.header, b1_.id(), {});
  ASSERT_TRUE(first.is_ok());
  const int saves = store_.saves();
  // Another block in the same round: the cached vote comes back, never a second signature.
  Block other = chain_.block(chain_.genesis(), 1, chain_.gqc(), 5000);
  auto second = rules_.sign_vote(other.header, other.id(), {});
  ASSERT_TRUE(second.is_ok());
  EXPECT_EQ(second.value(), first.value());
  EXPECT_EQ(second.value().data.block_id, b1_.id());
  EXPECT_EQ(store_.saves(), saves);
}

TEST_F(SafetyRulesTest, SafetyRules_NothingReleasedWhenPersistFails) {
  store_.set_fail(true);
  auto vote = rules_.sign_vote(b1_.header, b1_.id(), {});
  ASSERT_FALSE(vote.is_ok());
  EXPECT_EQ(vote.error().code, SafetyErrorCode::kPersistFailed);
  auto timeout = rules_.sign_timeout(1, chain_.gqc(), {});
  ASSERT_FALSE(timeout.is_ok());
  EXPECT_EQ(timeout.error().code, SafetyErrorCode::kPersistFailed);
  EXPECT_EQ(rules_.data(), SafetyData{});  // nothing changed in memory either
  store_.set_fail(false);
  EXPECT_TRUE(rules_.sign_vote(b1_.header, b1_.id(), {}).is_ok());
}

TEST_F(SafetyRulesTest, SafetyRules_PersistsBeforeReturning) {
  auto vote = rules_.sign_vote(b2_.header, b2_.id(), {});
  ASSERT_TRUE(vote.is_ok());
  auto stored = store_.load();
  ASSERT_TRUE(stored.is_ok());
  ASSERT_TRUE(stored.value().has_value());
  EXPECT_EQ(stored.value()->last_voted_round, 2u);
  EXPECT_EQ(stored.value()->one_chain_round, 1u);
  EXPECT_EQ(stored.value()->last_vote, vote.value());
}

TEST_F(SafetyRulesTest, Vote_RequiresParentQcOfPreviousRoundOrTc) {
  // Round 3 on a round-1 QC: needs a TC for round 2.
  Block b3 = chain_.block(b1_, 3, qc1_);
  auto refused = rules_.sign_vote(b3.header, b3.id(), {});
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.error().code, SafetyErrorCode::kNotExtendingPrevious);
  auto with_tc = rules_.sign_vote(b3.header, b3.id(), chain_.tc(2, qc1_));
  EXPECT_TRUE(with_tc.is_ok());
}

TEST_F(SafetyRulesTest, Vote_ViaTcRequiresQcAtLeastTcHighQc) {
  // The TC of round 2 shows a round-1 QC; a round-3 block on genesis goes below it.
  Block b3 = chain_.block(chain_.genesis(), 3, chain_.gqc());
  auto refused = rules_.sign_vote(b3.header, b3.id(), chain_.tc(2, qc1_));
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.error().code, SafetyErrorCode::kQcBelowTcHighQc);
}

TEST_F(SafetyRulesTest, Vote_RefusedInRoundAlreadyTimedOut) {
  ASSERT_TRUE(rules_.sign_timeout(1, chain_.gqc(), {}).is_ok());
  auto refused = rules_.sign_vote(b1_.header, b1_.id(), {});
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.error().code, SafetyErrorCode::kRoundNotAboveLastVoted);
}

TEST_F(SafetyRulesTest, Vote_RefusesForgedQc) {
  Block forged = b2_;
  forged.header.parent_qc.signatures[0].signature.bytes[0] ^= 1;
  auto refused = rules_.sign_vote(forged.header, forged.id(), {});
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.error().code, SafetyErrorCode::kInvalidCertificate);
  EXPECT_EQ(rules_.data().last_voted_round, 0u);
}

TEST_F(SafetyRulesTest, Timeout_RefusedBelowLastVotedRound) {
  ASSERT_TRUE(rules_.sign_vote(b2_.header, b2_.id(), {}).is_ok());
  auto refused = rules_.sign_timeout(1, chain_.gqc(), {});
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.error().code, SafetyErrorCode::kTimeoutBelowLastVoted);
}

TEST_F(SafetyRulesTest, Timeout_AfterVoteInSameRoundAllowed) {
  ASSERT_TRUE(rules_.sign_vote(b1_.header, b1_.id(), {}).is_ok());
  auto timeout = rules_.sign_timeout(1, chain_.gqc(), {});
  ASSERT_TRUE(timeout.is_ok());
  EXPECT_EQ(rules_.data().last_voted_round, 1u);
}

TEST_F(SafetyRulesTest, Timeout_RoundMustFollowHighQcOrHighTc) {
  auto refused = rules_.sign_timeout(5, chain_.gqc(), {});
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.error().code, SafetyErrorCode::kTimeoutRoundNotNext);
  EXPECT_TRUE(rules_.sign_timeout(5, chain_.gqc(), chain_.tc(4, chain_.gqc())).is_ok());
}

TEST_F(SafetyRulesTest, Timeout_RequiresHighQcAtLeastOneChainRound) {
  ASSERT_TRUE(rules_.sign_vote(b2_.header, b2_.id(), {}).is_ok());  // one_chain_round = 1
  auto refused = rules_.sign_timeout(3, chain_.gqc(), chain_.tc(2, chain_.gqc()));
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.error().code, SafetyErrorCode::kHighQcBelowOneChain);
}

TEST_F(SafetyRulesTest, Timeout_ResentUnchangedInSameRound) {
  auto first = rules_.sign_timeout(1, chain_.gqc(), {});
  ASSERT_TRUE(first.is_ok());
  const int saves = store_.saves();
  auto again = rules_.sign_timeout(1, chain_.gqc(), {});
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again.value(), first.value());
  EXPECT_EQ(store_.saves(), saves);
}

TEST_F(SafetyRulesTest, Proposal_SignedOncePerRound) {
  TestChain& c = chain_;
  // Validator 1 leads round 1.
  auto sig = rules_.sign_proposal(b1_.header, b1_.id(), std::nullopt);
  ASSERT_TRUE(sig.is_ok());
  Block other = c.block(c.genesis(), 1, c.gqc(), 7000);
  auto second = rules_.sign_proposal(other.header, other.id(), std::nullopt);
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.error().code, SafetyErrorCode::kAlreadyProposed);
  auto not_ours =
      rules_.sign_proposal(b2_.header, b2_.id(), std::nullopt);  // round 2 is validator 2's
  ASSERT_FALSE(not_ours.is_ok());
  EXPECT_EQ(not_ours.error().code, SafetyErrorCode::kNotProposer);
}

TEST_F(SafetyRulesTest, SafetyRules_RestartKeepsLastVotedRound) {
  ASSERT_TRUE(rules_.sign_vote(b2_.header, b2_.id(), {}).is_ok());
  SafetyRules restarted = chain_.safety_rules(1, store_);
  EXPECT_EQ(restarted.data().last_voted_round, 2u);
  Block other = chain_.block(b1_, 2, qc1_, 9000);
  auto again = restarted.sign_vote(other.header, other.id(), {});
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again.value().data.block_id, b2_.id());  // the cached vote, not a new one
}

}  // namespace
}  // namespace ledger::consensus
