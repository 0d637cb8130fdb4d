// One test per protocol rule of DESIGN.md section 3, against the Replica state machine.
#include "ledger/consensus/replica.h"

#include <gtest/gtest.h>

#include "consensus_test_util.h"

namespace ledger::consensus {
namespace {

using testing::rejected;
using testing::sent;
using testing::TestChain;

class ReplicaTest : public testing::ReplicaFixture {};

TEST_F(ReplicaTest, Proposal_VoteGoesToNextRoundLeader) {
  auto r = c_.replica(0, store_);
  (void)r->start();
  Actions a = propose(*r, b1_);
  ASSERT_EQ(a.messages.size(), 1u);
  EXPECT_EQ(a.messages[0].to, c_.key(2));  // leader of round 2
  auto votes = sent<Vote>(a);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].data.block_id, b1_.id());
  ASSERT_EQ(a.blocks_to_persist.size(), 1u);
  EXPECT_EQ(r->safety_data().last_voted_round, 1u);
}

// The payload check is data: the replica asks, the host answers with a new input.
TEST_F(ReplicaTest, Proposal_PayloadCheckIsAskedBeforeInsertingOrVoting) {
  auto r = c_.replica(0, store_, {}, /*payload_checks=*/true);
  (void)r->start();
  Actions a = propose(*r, b1_);
  ASSERT_TRUE(a.payload_check.has_value());
  EXPECT_EQ(a.payload_check->id, b1_.id());
  EXPECT_EQ(a.payload_check->block, b1_);
  EXPECT_TRUE(sent<Vote>(a).empty());
  EXPECT_TRUE(a.blocks_to_persist.empty());
  EXPECT_FALSE(r->tree().contains(b1_.id()));
}

TEST_F(ReplicaTest, Proposal_PayloadCheckRefusalMeansNoVoteAndNoBlock) {
  auto r = c_.replica(0, store_, {}, true);
  (void)r->start();
  (void)propose(*r, b1_);
  Actions a =
      r->on_payload_checked(b1_.id(), Status::invalid_argument("state root is not the state"));
  EXPECT_TRUE(rejected(a, RejectReason::kInvalidPayload));
  EXPECT_TRUE(sent<Vote>(a).empty());
  EXPECT_TRUE(a.blocks_to_persist.empty());
  EXPECT_FALSE(r->tree().contains(b1_.id()));
  EXPECT_EQ(r->safety_data().last_voted_round, 0u);
}

TEST_F(ReplicaTest, Proposal_PayloadCheckAcceptanceVotes) {
  auto r = c_.replica(0, store_, {}, true);
  (void)r->start();
  (void)propose(*r, b1_);
  Actions a = r->on_payload_checked(b1_.id(), Status::ok());
  EXPECT_EQ(sent<Vote>(a).size(), 1u);
  EXPECT_TRUE(r->tree().contains(b1_.id()));
  // A second verdict for the same block is ignored: nothing is awaited any more.
  Actions again = r->on_payload_checked(b1_.id(), Status::ok());
  EXPECT_TRUE(again.messages.empty());
}

TEST_F(ReplicaTest, Proposal_PayloadVerdictAfterTheRoundMovedOnIsIgnored) {
  auto r = c_.replica(0, store_, {}, true);
  (void)r->start();
  (void)propose(*r, b1_);
  (void)r->on_timeout_cert(c_.key(1), c_.tc(1, c_.gqc()));
  Actions a = r->on_payload_checked(b1_.id(), Status::ok());
  EXPECT_TRUE(sent<Vote>(a).empty());
  EXPECT_FALSE(r->tree().contains(b1_.id()));
}

// A transient verdict (this node could not judge: store error, parent state not available) is
// not a refusal: it used to be final for the round. The check is asked again on the next tick.
TEST_F(ReplicaTest, Proposal_TransientPayloadCheckFailureIsRetriedOnTick) {
  auto r = c_.replica(0, store_, {}, true);
  (void)r->start();
  (void)propose(*r, b1_);
  Actions a = r->on_payload_checked(b1_.id(), Status(StatusCode::kUnavailable, "store busy"));
  EXPECT_FALSE(rejected(a, RejectReason::kInvalidPayload));
  EXPECT_TRUE(sent<Vote>(a).empty());
  Actions tick = r->on_tick();
  ASSERT_TRUE(tick.payload_check.has_value());
  EXPECT_EQ(tick.payload_check->id, b1_.id());
  Actions ok = r->on_payload_checked(b1_.id(), Status::ok());
  EXPECT_EQ(sent<Vote>(ok).size(), 1u);
  EXPECT_TRUE(r->tree().contains(b1_.id()));
}

// ... or at once, when another copy of the same proposal arrives.
TEST_F(ReplicaTest, Proposal_TransientPayloadCheckFailureIsRetriedOnACopy) {
  auto r = c_.replica(0, store_, {}, true);
  (void)r->start();
  (void)propose(*r, b1_);
  (void)r->on_payload_checked(b1_.id(), Status::io_error("read failed"));
  Actions copy = propose(*r, b1_);
  ASSERT_TRUE(copy.payload_check.has_value());
  EXPECT_EQ(copy.payload_check->id, b1_.id());
  Actions ok = r->on_payload_checked(b1_.id(), Status::ok());
  EXPECT_EQ(sent<Vote>(ok).size(), 1u);
}

// An invalid verdict still refuses for the round: no re-check on tick or on a copy.
TEST_F(ReplicaTest, Proposal_InvalidPayloadVerdictIsFinalForTheRound) {
  for (const Status& verdict :
       {Status::invalid_argument("bad transaction signature"),
        Status(StatusCode::kFailedPrecondition, "ancestor does not execute")}) {
    storage::MemorySafetyStore store;
    auto r = c_.replica(0, store, {}, true);
    (void)r->start();
    (void)propose(*r, b1_);
    EXPECT_TRUE(rejected(r->on_payload_checked(b1_.id(), verdict), RejectReason::kInvalidPayload));
    EXPECT_FALSE(propose(*r, b1_).payload_check.has_value());
    EXPECT_FALSE(r->on_tick().payload_check.has_value());
    EXPECT_TRUE(sent<Vote>(r->on_payload_checked(b1_.id(), Status::ok())).empty());
    EXPECT_EQ(r->safety_data().last_voted_round, 0u);
  }
}

// Retries are bounded by payload_check_attempts_max, then refused with a clear rejection.
TEST_F(ReplicaTest, Proposal_TransientPayloadCheckRetriesAreBounded) {
  ReplicaConfig config = c_.config();
  config.payload_checks = true;
  config.payload_check_attempts_max = 3;
  auto r = Replica::create(config, Signer::create(testing::test_key(0)).value(), store_,
                           Replica::genesis_recovery(config))
               .value();
  (void)r->start();
  ASSERT_TRUE(propose(*r, b1_).payload_check.has_value());
  const Status transient(StatusCode::kNotFound, "parent state not available");
  EXPECT_TRUE(r->on_payload_checked(b1_.id(), transient).rejections.empty());
  ASSERT_TRUE(r->on_tick().payload_check.has_value());
  EXPECT_TRUE(r->on_payload_checked(b1_.id(), transient).rejections.empty());
  ASSERT_TRUE(r->on_tick().payload_check.has_value());
  Actions last = r->on_payload_checked(b1_.id(), transient);  // the third check
  EXPECT_TRUE(rejected(last, RejectReason::kResourceExhausted));
  EXPECT_FALSE(r->on_tick().payload_check.has_value());
  EXPECT_FALSE(propose(*r, b1_).payload_check.has_value());
  EXPECT_EQ(r->safety_data().last_voted_round, 0u);
}

TEST_F(ReplicaTest, Proposal_RejectsWrongLeader) {
  auto r = c_.replica(0, store_);
  Block wrong = b1_;
  wrong.header.proposer = c_.key(2);  // round 1 is validator 1's
  Proposal p;
  p.block = wrong;
  p.signature = testing::sign_det(c_.signer(2),
                                  proposal_signing_hash(testing::kChain, wrong.id(), std::nullopt));
  Actions a = r->on_proposal(c_.key(2), p);
  EXPECT_TRUE(rejected(a, RejectReason::kWrongLeader));
  EXPECT_TRUE(sent<Vote>(a).empty());
}

TEST_F(ReplicaTest, Proposal_RejectsBadSignature) {
  auto r = c_.replica(0, store_);
  Proposal p = c_.proposal(b1_);
  p.signature.bytes[3] ^= 0x10;
  Actions a = r->on_proposal(c_.key(1), p);
  EXPECT_TRUE(rejected(a, RejectReason::kBadSignature));
  EXPECT_TRUE(sent<Vote>(a).empty());
}

TEST_F(ReplicaTest, Proposal_RejectsTimestampNotAfterParent) {
  auto r = c_.replica(0, store_);
  (void)propose(*r, b1_);
  Block late = c_.block(b1_, 2, qc1_, b1_.header.timestamp_ms);
  Actions a = propose(*r, late);
  EXPECT_TRUE(rejected(a, RejectReason::kInvalidBlock));
  EXPECT_TRUE(sent<Vote>(a).empty());
}

TEST_F(ReplicaTest, Proposal_RequiresTcWhenQcIsNotOfPreviousRound) {
  auto r = c_.replica(0, store_);
  (void)propose(*r, b1_);
  Block b3 = c_.block(b1_, 3, qc1_);
  EXPECT_TRUE(rejected(propose(*r, b3), RejectReason::kMalformed));
  Actions ok = propose(*r, b3, c_.tc(2, qc1_));
  EXPECT_TRUE(ok.rejections.empty());
  EXPECT_EQ(r->current_round(), 3u);
  EXPECT_EQ(r->safety_data().last_voted_round, 3u);  // voted (its own vote: it leads round 4)
}

TEST_F(ReplicaTest, Proposal_StaleRoundRejected) {
  auto r = c_.replica(0, store_);
  (void)r->on_timeout_cert(c_.key(1), c_.tc(5, c_.gqc()));
  EXPECT_EQ(r->current_round(), 6u);
  EXPECT_TRUE(rejected(propose(*r, b1_), RejectReason::kStaleRound));
}

TEST_F(ReplicaTest, Equivocation_RecordedAsEvidence) {
  auto r = c_.replica(0, store_);
  Actions first = propose(*r, b1_);
  Block other = c_.block(c_.genesis(), 1, c_.gqc(), 4242);
  Actions second = propose(*r, other);
  EXPECT_TRUE(rejected(second, RejectReason::kEquivocation));
  ASSERT_EQ(second.evidence.size(), 1u);
  const auto& ev = std::get<ProposalEquivocation>(second.evidence[0]);
  EXPECT_EQ(block_id(ev.first.header), b1_.id());
  EXPECT_EQ(block_id(ev.second.header), other.id());
  EXPECT_TRUE(sent<Vote>(second).empty());
  EXPECT_EQ(r->evidence().size(), 1u);
}

TEST_F(ReplicaTest, Equivocation_DoubleVoteRecordedAsEvidence) {
  auto r = c_.replica(2, store_);  // leads round 2: collects round-1 votes
  Block other = c_.block(c_.genesis(), 1, c_.gqc(), 4242);
  EXPECT_TRUE(r->on_vote(c_.key(3), c_.vote(3, b1_)).rejections.empty());
  Actions a = r->on_vote(c_.key(3), c_.vote(3, other));
  EXPECT_TRUE(rejected(a, RejectReason::kEquivocation));
  ASSERT_EQ(a.evidence.size(), 1u);
  const auto& ev = std::get<VoteEquivocation>(a.evidence[0]);
  EXPECT_EQ(ev.first.data.block_id, b1_.id());
  EXPECT_EQ(ev.second.data.block_id, other.id());
}

TEST_F(ReplicaTest, Vote_RejectsNonValidator) {
  auto r = c_.replica(2, store_);
  Signer outsider = Signer::create(testing::test_key(40)).value();
  Vote v;
  v.data = VoteData{b1_.id(), 1, c_.genesis().id(), 0};
  v.signer = outsider.public_key();
  v.signature = testing::sign_det(outsider, vote_signing_hash(testing::kChain, v.data));
  EXPECT_TRUE(rejected(r->on_vote(outsider.public_key(), v), RejectReason::kNonValidator));
}

TEST_F(ReplicaTest, Vote_RejectedUnlessNextRoundLeader) {
  auto r = c_.replica(0, store_);  // does not lead round 2
  EXPECT_TRUE(rejected(r->on_vote(c_.key(3), c_.vote(3, b1_)), RejectReason::kNotNextLeader));
}

TEST_F(ReplicaTest, Qc_FormedAtQuorumPowerAdvancesRound) {
  auto r = c_.replica(2, store_);
  (void)r->start();
  Actions own = propose(*r, b1_);  // its own vote is counted locally
  EXPECT_TRUE(own.messages.empty());
  Actions one = r->on_vote(c_.key(0), c_.vote(0, b1_));
  EXPECT_EQ(r->current_round(), 1u);
  EXPECT_FALSE(one.payload_request.has_value());
  Actions quorum = r->on_vote(c_.key(1), c_.vote(1, b1_));
  EXPECT_EQ(r->current_round(), 2u);
  EXPECT_EQ(r->high_qc().block_id(), b1_.id());
  ASSERT_TRUE(quorum.payload_request.has_value());
  EXPECT_EQ(quorum.payload_request->round, 2u);
  EXPECT_EQ(quorum.payload_request->parent_id, b1_.id());
}

TEST_F(ReplicaTest, Leader_ProposesOnPayloadWithItsOwnVote) {
  auto r = c_.replica(1, store_);  // leads round 1
  Actions start = r->start();
  ASSERT_TRUE(start.payload_request.has_value());
  Payload payload{1, {}, sha256(as_bytes("root")), 5000};
  Actions a = r->on_payload(payload);
  ASSERT_EQ(a.messages.size(), 2u);
  const auto* proposal = std::get_if<Proposal>(&a.messages[0].message);
  ASSERT_NE(proposal, nullptr);
  EXPECT_FALSE(a.messages[0].to.has_value());  // broadcast
  EXPECT_EQ(proposal->block.header.round, 1u);
  EXPECT_EQ(proposal->block.header.timestamp_ms, 5000u);
  const auto* vote = std::get_if<Vote>(&a.messages[1].message);
  ASSERT_NE(vote, nullptr);
  EXPECT_EQ(vote->data.block_id, proposal->block.id());
  EXPECT_EQ(a.messages[1].to, c_.key(2));
  // A second payload for the same round is refused: one proposal per round.
  EXPECT_TRUE(rejected(r->on_payload(payload), RejectReason::kBadPayload));
}

TEST_F(ReplicaTest, Payload_RejectsTimestampNotAfterParent) {
  auto r = c_.replica(1, store_);
  (void)r->start();
  Payload payload{1, {}, Hash{}, c_.genesis().header.timestamp_ms};
  Actions a = r->on_payload(payload);
  EXPECT_TRUE(rejected(a, RejectReason::kBadPayload));
  EXPECT_TRUE(a.messages.empty());
}

TEST_F(ReplicaTest, Commit_TwoChainWithConsecutiveRounds) {
  auto r = c_.replica(0, store_);
  EXPECT_TRUE(propose(*r, b1_).commits.empty());
  EXPECT_TRUE(propose(*r, b2_).commits.empty());  // QC(b1): one-chain only
  Actions a = propose(*r, b3_);                   // QC(b2), b2.round == b1.round + 1
  ASSERT_EQ(a.commits.size(), 1u);
  EXPECT_EQ(a.commits[0].block, b1_);
  EXPECT_EQ(a.commits[0].commit_cert, qc2_);
  EXPECT_EQ(r->committed_id(), b1_.id());
  EXPECT_EQ(r->committed_height(), 1u);
}

TEST_F(ReplicaTest, Commit_NotWithoutConsecutiveRounds) {
  auto r = c_.replica(0, store_);
  (void)propose(*r, b1_);
  Block b3 = c_.block(b1_, 3, qc1_);
  EXPECT_TRUE(propose(*r, b3, c_.tc(2, qc1_)).commits.empty());
  QuorumCert qc3 = c_.qc(b3);
  Block b4 = c_.block(b3, 4, qc3);
  EXPECT_TRUE(propose(*r, b4).commits.empty());  // QC(b3): 3 != 1 + 1
  Block b5 = c_.block(b4, 5, c_.qc(b4));
  Actions a = propose(*r, b5);  // QC(b4): 4 == 3 + 1 commits b3 and its ancestor b1
  ASSERT_EQ(a.commits.size(), 2u);
  EXPECT_EQ(a.commits[0].block, b1_);
  EXPECT_EQ(a.commits[1].block, b3);
}

TEST_F(ReplicaTest, Timeout_FromFPlusOnePowerTimesOutAtOnce) {
  auto r = c_.replica(0, store_);
  (void)r->start();
  Actions one = r->on_timeout(c_.key(1), {c_.timeout(1, 1, c_.gqc()), {}});
  EXPECT_TRUE(sent<TimeoutMessage>(one).empty());
  Actions two = r->on_timeout(c_.key(2), {c_.timeout(2, 1, c_.gqc()), {}});
  auto own = sent<TimeoutMessage>(two);
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0].timeout.signer, c_.key(0));
  EXPECT_EQ(own[0].timeout.round, 1u);
}

TEST_F(ReplicaTest, Tc_FormedAtQuorumAdvancesRoundAndIsBroadcast) {
  auto r = c_.replica(0, store_);
  (void)r->start();
  (void)r->on_timeout(c_.key(1), {c_.timeout(1, 1, c_.gqc()), {}});
  Actions a = r->on_timeout(c_.key(2), {c_.timeout(2, 1, c_.gqc()), {}});
  auto tcs = sent<TimeoutCert>(a);
  ASSERT_EQ(tcs.size(), 1u);
  EXPECT_EQ(tcs[0].round, 1u);
  EXPECT_TRUE(verify_tc(tcs[0], testing::kChain, c_.validators(), c_.gqc()).is_ok());
  EXPECT_EQ(r->current_round(), 2u);
  ASSERT_TRUE(a.high_tc_to_persist.has_value());
}

TEST_F(ReplicaTest, Timeout_RejectsBadSignature) {
  auto r = c_.replica(0, store_);
  Timeout t = c_.timeout(1, 1, c_.gqc());
  t.signature.bytes[0] ^= 1;
  EXPECT_TRUE(rejected(r->on_timeout(c_.key(1), {t, {}}), RejectReason::kBadSignature));
}

TEST_F(ReplicaTest, Pacemaker_TimerFiresThenResendsSameTimeout) {
  auto r = c_.replica(0, store_);  // round_timeout_ticks = 10
  (void)r->start();
  for (int i = 0; i < 9; ++i)
    EXPECT_TRUE(sent<TimeoutMessage>(r->on_tick()).empty());
  auto first = sent<TimeoutMessage>(r->on_tick());
  ASSERT_EQ(first.size(), 1u);
  for (int i = 0; i < 9; ++i)
    EXPECT_TRUE(sent<TimeoutMessage>(r->on_tick()).empty());
  auto again = sent<TimeoutMessage>(r->on_tick());
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].timeout, first[0].timeout);
}

TEST_F(ReplicaTest, Pacemaker_RoundIsMaxOfHighQcAndHighTcPlusOne) {
  auto r = c_.replica(0, store_);
  (void)r->on_timeout_cert(c_.key(1), c_.tc(3, c_.gqc()));
  EXPECT_EQ(r->current_round(), 4u);
  (void)propose(*r, b1_);  // stale, but its QC is still applied
  EXPECT_EQ(r->current_round(), 4u);
}

TEST(PacemakerTest, Pacemaker_BackoffCapped) {
  PacemakerConfig c;
  c.round_timeout_ticks = 100;
  c.multiplier_percent = 150;
  c.backoff_max = 3;
  EXPECT_EQ(round_timeout_ticks(c, 0), 100u);
  EXPECT_EQ(round_timeout_ticks(c, 1), 150u);
  EXPECT_EQ(round_timeout_ticks(c, 2), 225u);
  EXPECT_EQ(round_timeout_ticks(c, 3), 337u);
  EXPECT_EQ(round_timeout_ticks(c, 4), 337u);
  EXPECT_EQ(round_timeout_ticks(c, UINT64_MAX), 337u);
  c.multiplier_percent = 1000;
  c.backoff_max = 32;
  c.round_timeout_ticks = PacemakerConfig::kTimeoutTicksMax;
  EXPECT_EQ(round_timeout_ticks(c, 32), PacemakerConfig::kTimeoutTicksMax);
}

TEST_F(ReplicaTest, Pacemaker_BackoffGrowsWithoutCommitAndResetsAfter) {
  auto r = c_.replica(0, store_);
  (void)r->start();
  EXPECT_EQ(r->timer_duration_ticks(), 10u);
  (void)r->on_timeout_cert(c_.key(1), c_.tc(3, c_.gqc()));  // round 4, nothing committed
  EXPECT_EQ(r->timer_duration_ticks(), 22u);                // 10 * 1.5^2
  // Progress: b5..b7 on consecutive rounds commit b5; the round after resets the backoff.
  Block b5 = c_.block(c_.genesis(), 5, c_.gqc());
  (void)r->on_timeout_cert(c_.key(1), c_.tc(4, c_.gqc()));
  (void)propose(*r, b5, c_.tc(4, c_.gqc()));
  Block b6 = c_.block(b5, 6, c_.qc(b5));
  (void)propose(*r, b6);
  Block b7 = c_.block(b6, 7, c_.qc(b6));
  Actions a = propose(*r, b7);
  ASSERT_EQ(a.commits.size(), 1u);
  EXPECT_EQ(r->current_round(), 7u);
  (void)r->on_timeout_cert(c_.key(1), c_.tc(7, c_.qc(b6)));
  EXPECT_EQ(r->current_round(), 8u);
  EXPECT_EQ(r->timer_duration_ticks(), 15u);  // k = 8 - 5 - 2 = 1
}

TEST_F(ReplicaTest, Restart_ResumesAtHighestCertificatePlusOne) {
  RecoveryData rec = Replica::genesis_recovery(c_.config());
  rec.blocks = {b2_, b1_};  // any order
  rec.high_qc = qc1_;
  auto r = c_.replica(0, store_, rec);
  EXPECT_EQ(r->current_round(), 2u);  // b2's parent QC is qc1; QC(b2) is unknown
  EXPECT_EQ(r->tree().size(), 2u);
  rec.high_qc = qc2_;
  rec.high_tc = c_.tc(4, qc2_);
  auto r2 = c_.replica(0, store_, rec);
  EXPECT_EQ(r2->current_round(), 5u);
}

TEST_F(ReplicaTest, Restart_DoesNotVoteAgainInVotedRound) {
  {
    auto r = c_.replica(0, store_);
    ASSERT_EQ(sent<Vote>(propose(*r, b1_)).size(), 1u);
  }
  RecoveryData rec = Replica::genesis_recovery(c_.config());  // the block was not persisted
  auto r = c_.replica(0, store_, rec);
  EXPECT_EQ(r->current_round(), 1u);
  Block other = c_.block(c_.genesis(), 1, c_.gqc(), 999'999);
  Actions a = propose(*r, other);
  auto votes = sent<Vote>(a);
  ASSERT_EQ(votes.size(), 1u);  // the cached vote for b1, re-sent: never a vote for `other`
  EXPECT_EQ(votes[0].data.block_id, b1_.id());
}

TEST_F(ReplicaTest, Fetch_RequestsMissingParentThenVotes) {
  auto r = c_.replica(0, store_);
  Actions a = propose(*r, b2_);  // b1 unknown
  auto requests = sent<BlockRequest>(a);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].block_id, b1_.id());
  EXPECT_EQ(a.messages[0].to, c_.key(2));
  EXPECT_TRUE(sent<Vote>(a).empty());
  Actions b = r->on_block_response(c_.key(2), BlockResponse{{b1_}});
  auto votes = sent<Vote>(b);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].data.block_id, b2_.id());
}

TEST_F(ReplicaTest, Fetch_RejectsUnsolicitedResponse) {
  auto r = c_.replica(0, store_);
  Actions a = r->on_block_response(c_.key(2), BlockResponse{{b2_}});
  EXPECT_TRUE(rejected(a, RejectReason::kUnsolicited));
  EXPECT_FALSE(r->tree().contains(b2_.id()));
}

TEST_F(ReplicaTest, Fetch_AnswersFromTheTree) {
  auto r = c_.replica(0, store_);
  (void)propose(*r, b1_);
  (void)propose(*r, b2_);
  Actions a = r->on_block_request(c_.key(3), BlockRequest{b2_.id(), 5});
  auto responses = sent<BlockResponse>(a);
  ASSERT_EQ(responses.size(), 1u);
  ASSERT_EQ(responses[0].blocks.size(), 3u);  // b2, b1, genesis (the committed root)
  EXPECT_EQ(responses[0].blocks[0], b2_);
  EXPECT_EQ(responses[0].blocks[1], b1_);
}

}  // namespace
}  // namespace ledger::consensus
