// Issue 11: crafted messages from a Byzantine validator against the paths around the voting rules
// (fetching, the block tree's bound, timeouts and their certificates, proposals relayed by
// others, restart after a crash between two saves). Each test is named after the rule it holds.
#include <gtest/gtest.h>

#include <deque>

#include "consensus_test_util.h"
#include "ledger/consensus/replica.h"
#include "ledger/core/transaction.h"

namespace ledger::consensus {
namespace {

using testing::rejected;
using testing::sent;
using testing::TestChain;

class ReplicaByzantineTest : public testing::ReplicaFixture {
 protected:
  // A validly signed transfer between two validator keys (content does not matter here).
  SignedTransfer transfer(std::uint64_t nonce) const {
    Transfer t;
    t.chain_id = std::string(testing::kChain);
    t.sender = c_.key(0);
    t.recipient = c_.key(1);
    t.nonce = nonce;
    t.amount = 7;
    return sign_transfer(t, c_.signer(0));
  }
  // Validator 0's replica from genesis, with a small tree bound.
  std::unique_ptr<Replica> replica_with_pending_blocks_max(std::size_t pending_blocks_max) {
    ReplicaConfig config = c_.config();
    config.pending_blocks_max = pending_blocks_max;
    return Replica::create(config, Signer::create(testing::test_key(0)).value(), store_,
                           Replica::genesis_recovery(config))
        .value();
  }
  // A certified chain without a 2-chain on genesis: blocks of rounds 1, 3, ..., `last_round`
  // (every even round ended in a TC), oldest first; `last_qc` certifies the last.
  std::vector<Block> chain_without_two_chain(std::uint64_t last_round, QuorumCert& last_qc) const {
    std::vector<Block> chain;
    Block parent = c_.genesis();
    QuorumCert parent_qc = c_.gqc();
    for (std::uint64_t round = 1; round <= last_round; round += 2) {
      chain.push_back(c_.block(parent, round, parent_qc));
      parent = chain.back();
      parent_qc = c_.qc(parent);
    }
    last_qc = parent_qc;
    return chain;
  }
  static std::vector<BlockRequest> requests_to(const Actions& a, const PublicKey& to) {
    std::vector<BlockRequest> out;
    for (const auto& m : a.messages) {
      const auto* r = std::get_if<BlockRequest>(&m.message);
      if (r != nullptr && m.to == to) out.push_back(*r);
    }
    return out;
  }
};

// Point 1: the block id covers the header only. A response with the certified header and other
// transactions must never enter the tree (it would be committed under the certified id).
TEST_F(ReplicaByzantineTest, Fetch_RefusesBlockWhoseTransactionsDoNotMatchTheRoot) {
  auto r = c_.replica(0, store_);
  Actions a = propose(*r, b2_);  // b1 unknown: asked of b2's sender, validator 2
  ASSERT_EQ(requests_to(a, c_.key(2)).size(), 1u);
  Block tampered = b1_;
  tampered.transactions.push_back(transfer(0));
  ASSERT_EQ(tampered.id(), b1_.id());  // same header, so the same id
  Actions bad = r->on_block_response(c_.key(2), BlockResponse{{tampered}});
  EXPECT_TRUE(rejected(bad, RejectReason::kMalformed));
  EXPECT_FALSE(r->tree().contains(b1_.id()));
  EXPECT_TRUE(sent<Vote>(bad).empty());
  EXPECT_TRUE(bad.blocks_to_persist.empty());
}

// Point 1: a bad response does not erase the fetch; the block is asked of another validator at
// the next tick, and the right block then gets the vote.
TEST_F(ReplicaByzantineTest, Fetch_BadResponseKeepsTheFetchAndAsksAnotherValidator) {
  auto r = c_.replica(0, store_);
  (void)propose(*r, b2_);
  Block tampered = b1_;
  tampered.transactions.push_back(transfer(0));
  (void)r->on_block_response(c_.key(2), BlockResponse{{tampered}});
  Actions tick = r->on_tick();
  auto again = sent<BlockRequest>(tick);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].block_id, b1_.id());
  const PublicKey asked = *tick.messages.at(0).to;
  EXPECT_NE(asked, c_.key(2));
  Actions good = r->on_block_response(asked, BlockResponse{{b1_}});
  EXPECT_TRUE(r->tree().contains(b1_.id()));
  auto votes = sent<Vote>(good);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].data.block_id, b2_.id());
}

// Last review: the fetch was erased as soon as a response from the asked validator had a block
// with matching transactions, before the certificate checks. A Byzantine validator asked for a
// block could first spend its own check budget for the round (one bad signature), then answer
// with the genuine block: its QC was not checked (kNotChecked), and the block was never asked of
// anyone else. The fetch now stays until the block is in the tree or waits as an orphan.
TEST_F(ReplicaByzantineTest, Fetch_ResponseNotCheckedKeepsTheFetchAndAsksAnotherValidator) {
  auto r = c_.replica(0, store_);
  (void)propose(*r, b3_);  // b2 unknown: asked of b3's leader, validator 3
  const std::uint64_t round = r->current_round();
  Timeout bad = c_.timeout(3, round, qc2_);
  bad.signature.bytes[0] ^= 1;
  ASSERT_TRUE(rejected(r->on_timeout(c_.key(3), {bad, {}}), RejectReason::kBadSignature));
  // The genuine b2, whose QC (for b1) this replica has not checked yet.
  EXPECT_TRUE(
      rejected(r->on_block_response(c_.key(3), BlockResponse{{b2_}}), RejectReason::kNotChecked));
  EXPECT_FALSE(r->tree().contains(b2_.id()));
  Actions tick = r->on_tick();
  auto again = sent<BlockRequest>(tick);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].block_id, b2_.id());
  const PublicKey asked = *tick.messages.at(0).to;
  EXPECT_NE(asked, c_.key(3));
  (void)r->on_block_response(asked, BlockResponse{{b2_, b1_}});
  EXPECT_TRUE(r->tree().contains(b2_.id()));
}

// Point 1: a response is accepted only from the validator asked.
TEST_F(ReplicaByzantineTest, Fetch_RefusesResponseFromValidatorNotAsked) {
  auto r = c_.replica(0, store_);
  (void)propose(*r, b2_);  // asks validator 2
  Block tampered = b1_;
  tampered.transactions.push_back(transfer(0));
  Actions other = r->on_block_response(c_.key(3), BlockResponse{{b1_}});
  EXPECT_TRUE(rejected(other, RejectReason::kUnsolicited));
  EXPECT_FALSE(r->tree().contains(b1_.id()));
  // The fetch survived the unsolicited answer: the asked validator's answer is taken.
  Actions asked = r->on_block_response(c_.key(2), BlockResponse{{b1_}});
  EXPECT_TRUE(r->tree().contains(b1_.id()));
  EXPECT_EQ(sent<Vote>(asked).size(), 1u);
}

// Point 1, inside a chain: an ancestor with other transactions ends the accepted prefix.
TEST_F(ReplicaByzantineTest, Fetch_ChainStopsAtAncestorWithOtherTransactions) {
  auto r = c_.replica(0, store_);
  Block b3 = c_.block(b2_, 3, qc2_);
  (void)propose(*r, b3);  // b2 unknown: asked of validator 3
  Block tampered = b1_;
  tampered.transactions.push_back(transfer(0));
  Actions a = r->on_block_response(c_.key(3), BlockResponse{{b2_, tampered}});
  EXPECT_TRUE(rejected(a, RejectReason::kMalformed));
  EXPECT_FALSE(r->tree().contains(b1_.id()));
  EXPECT_FALSE(r->tree().contains(b2_.id()));  // waits as an orphan for its real parent
  auto next = sent<BlockRequest>(a);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].block_id, b1_.id());
}

// Point 1: the tree itself refuses a block whose transactions do not match its root (a proposal
// of this replica's own, a recovered block, any path).
TEST(BlockTreeBodyTest, Insert_RefusesTransactionsThatDoNotMatchTheRoot) {
  TestChain c;
  BlockTree tree(c.genesis(), 8);
  Block b1 = c.block(c.genesis(), 1, c.gqc());
  Transfer t;
  t.chain_id = std::string(testing::kChain);
  t.sender = c.key(0);
  t.recipient = c.key(1);
  b1.transactions.push_back(sign_transfer(t, c.signer(0)));
  Status s = tree.insert(b1, b1.id());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.to_string();
  EXPECT_FALSE(tree.contains(b1.id()));
}

// Point 2: rounds that end in a TC each leave one uncertified proposal. With a small
// pending_blocks_max, the tree used to fill and every later proposal was refused for good.
TEST_F(ReplicaByzantineTest, Tree_EvictsUncertifiedBlocksSoFailedRoundsCannotFillIt) {
  ReplicaConfig config = c_.config();
  config.pending_blocks_max = 4;
  auto created = Replica::create(config, Signer::create(testing::test_key(0)).value(), store_,
                                 Replica::genesis_recovery(config));
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  auto r = std::move(created).value();
  std::size_t votes = 0;
  for (std::uint64_t round = 1; round <= 12; ++round) {
    if (round % 4 == 0) {  // this replica leads: let the round fail by TC
      (void)r->on_timeout_cert(c_.key(1), c_.tc(round, c_.gqc()));
      continue;
    }
    // Each round's leader proposes on genesis with the TC of the round before; nobody certifies.
    Block b = c_.block(c_.genesis(), round, c_.gqc(), 2000 + round);
    std::optional<TimeoutCert> tc;
    if (round > 1) tc = c_.tc(round - 1, c_.gqc());
    Actions a = propose(*r, b, tc);
    EXPECT_FALSE(rejected(a, RejectReason::kResourceExhausted)) << "round " << round;
    // Voted (the vote of a round before this replica's own is counted locally, not sent).
    if (r->safety_data().last_vote && r->safety_data().last_vote->data.block_id == b.id()) ++votes;
    EXPECT_LE(r->tree().size(), 4u);
    (void)r->on_timeout_cert(c_.key(1), c_.tc(round, c_.gqc()));
  }
  EXPECT_EQ(votes, 9u);  // every round it did not lead
}

// Point 2, found by the whole-node simulator (seed 52, 7 validators, small limits): when every
// other round fails, the certified chain never forms a 2-chain and alone fills the tree; nothing
// on it can be evicted, and the next proposal on it used to be refused for good.
TEST_F(ReplicaByzantineTest, Tree_ProposalOnTheCertifiedChainFitsWhenTheChainFillsTheTree) {
  auto r = replica_with_pending_blocks_max(4);
  Block parent = c_.genesis();
  QuorumCert parent_qc = c_.gqc();
  for (std::uint64_t round = 1; round <= 11; round += 2) {  // rounds 2, 4, ... end in a TC
    Block b = c_.block(parent, round, parent_qc);
    std::optional<TimeoutCert> tc;
    if (round > 1) tc = c_.tc(round - 1, parent_qc);
    Actions a = propose(*r, b, tc);
    EXPECT_FALSE(rejected(a, RejectReason::kResourceExhausted)) << "round " << round;
    EXPECT_TRUE(r->tree().contains(b.id())) << "round " << round;
    EXPECT_EQ(r->safety_data().last_voted_round, round);
    EXPECT_TRUE(a.commits.empty());
    parent = b;
    parent_qc = c_.qc(b);
  }
  EXPECT_EQ(r->tree().size(), 6u);  // above pending_blocks_max, below twice it
}

// The same allowance for fetched blocks: a replica that missed a certified chain without a
// 2-chain (every other round failed) fetches it whole, though it is longer than
// pending_blocks_max. Without the allowance the fifth block was refused and the replica could
// never vote on the chain again.
TEST_F(ReplicaByzantineTest, Fetch_ACertifiedChainLongerThanPendingBlocksMaxIsFetchedWhole) {
  auto r = replica_with_pending_blocks_max(4);
  QuorumCert parent_qc;
  const std::vector<Block> chain = chain_without_two_chain(11, parent_qc);
  const Block& parent = chain.back();
  // A timeout carrying QC(b11) names the chain's last block: asked of its sender.
  Actions named = r->on_timeout(c_.key(2), {c_.timeout(2, 12, parent_qc), {}});
  ASSERT_EQ(requests_to(named, c_.key(2)).size(), 1u);
  BlockResponse response;
  response.blocks.assign(chain.rbegin(), chain.rend());  // newest first
  Actions fetched = r->on_block_response(c_.key(2), response);
  EXPECT_FALSE(rejected(fetched, RejectReason::kResourceExhausted));
  for (const Block& b : chain)
    EXPECT_TRUE(r->tree().contains(b.id())) << b.header.round;
  EXPECT_EQ(r->tree().size(), 6u);  // all six fetched: above pending_blocks_max
  // The next leader's proposal on the chain gets the vote.
  Block next = c_.block(parent, 12, parent_qc);
  EXPECT_EQ(sent<Vote>(propose(*r, next)).size(), 1u);
}

// Review finding: a certified chain longer than pending_blocks_max (the allowance above) must
// survive a restart; recovery used to insert without the allowance and drop the rest.
TEST_F(ReplicaByzantineTest, Restart_KeepsACertifiedChainLongerThanPendingBlocksMax) {
  ReplicaConfig config = c_.config();
  config.pending_blocks_max = 4;
  RecoveryData recovery = Replica::genesis_recovery(config);
  Block parent = c_.genesis();
  QuorumCert parent_qc = c_.gqc();
  for (std::uint64_t round = 1; round <= 11; round += 2) {
    Block b = c_.block(parent, round, parent_qc);
    recovery.blocks.push_back(b);
    parent = b;
    parent_qc = c_.qc(b);
  }
  recovery.high_qc = parent_qc;  // certifies the sixth block
  auto r = Replica::create(config, Signer::create(testing::test_key(0)).value(), store_,
                           std::move(recovery))
               .value();
  EXPECT_EQ(r->tree().size(), 6u);
  EXPECT_TRUE(r->tree().contains(parent.id()));
}

TEST(BlockTreeEvictTest, Evict_LowestRoundLeafFirstNeverTheKeptPathOrRoot) {
  TestChain c;
  BlockTree tree(c.genesis(), 8);
  Block b1 = c.block(c.genesis(), 1, c.gqc());
  Block b2 = c.block(b1, 2, c.qc(b1));
  Block side = c.block(c.genesis(), 3, c.gqc(), 4000);
  Block side_child = c.block(side, 4, c.qc(side));
  for (const Block* b : {&b1, &b2, &side, &side_child})
    ASSERT_TRUE(tree.insert(*b, b->id()).is_ok());
  // Keep b2's path: the side branch goes, leaf first, then its parent.
  auto evicted = tree.evict({b2.id()}, 1);
  ASSERT_EQ(evicted.size(), 1u);
  EXPECT_EQ(evicted[0], side_child.id());
  evicted = tree.evict({b2.id()}, 5);
  ASSERT_EQ(evicted.size(), 1u);
  EXPECT_EQ(evicted[0], side.id());
  EXPECT_TRUE(tree.evict({b2.id()}, 5).empty());
  EXPECT_TRUE(tree.contains(b1.id()));
  EXPECT_TRUE(tree.contains(b2.id()));
}

// Point 4: unservable fetches (blocks abandoned by a TC, named by a Byzantine timeout's QC) used
// to hold their slots forever. They are given up after fetch_attempts_max validators, and a
// block that waited for a slot is then asked for.
TEST_F(ReplicaByzantineTest, Fetch_GivesUpUnservableBlocksAndFreesTheSlot) {
  ReplicaConfig config = c_.config();
  config.fetches_inflight_max = 1;
  config.fetch_attempts_max = 2;
  config.fetch_retry_ticks = 1;
  config.pacemaker.round_timeout_ticks = 1000;
  auto r = Replica::create(config, Signer::create(testing::test_key(0)).value(), store_,
                           Replica::genesis_recovery(config))
               .value();
  // An abandoned block of round 6 that nobody will serve, named by a valid TC of round 7.
  Block abandoned = c_.block(c_.genesis(), 6, c_.gqc(), 6000);
  Actions first = r->on_timeout_cert(c_.key(3), c_.tc(7, c_.qc(abandoned)));
  ASSERT_EQ(sent<BlockRequest>(first).size(), 1u);
  EXPECT_EQ(r->current_round(), 8u);
  // Round 9's proposal builds on b_p (round 5, unknown) with a TC of round 8 (hqc 6 <= 5? no:
  // the TC's high QC is genesis). Its parent must wait: the only slot is taken.
  Block bp = c_.block(c_.genesis(), 5, c_.gqc(), 5000);
  QuorumCert qcp = c_.qc(bp);
  (void)r->on_timeout_cert(c_.key(3), c_.tc(8, c_.gqc()));
  Block b9 = c_.block(bp, 9, qcp);
  Actions waiting = propose(*r, b9, c_.tc(8, c_.gqc()));
  EXPECT_TRUE(sent<BlockRequest>(waiting).empty());
  bool asked_parent = false;
  bool gave_up = false;
  for (int tick = 0; tick < 10 && !asked_parent; ++tick) {
    Actions a = r->on_tick();
    gave_up = gave_up || rejected(a, RejectReason::kResourceExhausted);
    for (const auto& req : sent<BlockRequest>(a))
      asked_parent |= req.block_id == bp.id();
  }
  EXPECT_TRUE(gave_up);
  EXPECT_TRUE(asked_parent);
}

// Point 4: a full fetch table gives way to a block of a higher round.
TEST_F(ReplicaByzantineTest, Fetch_HigherRoundTakesTheSlotOfALowerOne) {
  ReplicaConfig config = c_.config();
  config.fetches_inflight_max = 1;
  auto r = Replica::create(config, Signer::create(testing::test_key(0)).value(), store_,
                           Replica::genesis_recovery(config))
               .value();
  Block low = c_.block(c_.genesis(), 3, c_.gqc(), 3000);
  Block high = c_.block(c_.genesis(), 6, c_.gqc(), 6000);
  ASSERT_EQ(sent<BlockRequest>(r->on_timeout_cert(c_.key(3), c_.tc(4, c_.qc(low)))).size(), 1u);
  auto second = sent<BlockRequest>(r->on_timeout_cert(c_.key(3), c_.tc(7, c_.qc(high))));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].block_id, high.id());
}

// Review finding: proposals are remembered before their certificates are verified, so a leader
// could sign proposals for many future rounds (with bogus TCs) and push the current round out
// of proposals_seen_: equivocation in the current round then went unnoticed.
TEST_F(ReplicaByzantineTest, Proposal_FarFutureProposalsDoNotEvictTheCurrentRound) {
  auto r = c_.replica(0, store_);
  for (std::uint64_t round = 5; round <= 5 + 4 * 80; round += 4) {  // validator 1 leads these
    Block future = c_.block(c_.genesis(), round, c_.gqc());
    TimeoutCert bogus = c_.tc(round - 1, c_.gqc(), {1});  // one signer: below quorum
    EXPECT_TRUE(rejected(propose(*r, future, bogus), RejectReason::kInvalidCertificate));
  }
  (void)propose(*r, b1_);
  Block other = c_.block(c_.genesis(), 1, c_.gqc(), 4242);
  Actions second = propose(*r, other);
  EXPECT_TRUE(rejected(second, RejectReason::kEquivocation));
  EXPECT_EQ(second.evidence.size(), 1u);
}

// Point 7: a vote for a round beyond the vote window is refused before its signature is
// checked (attacker review: replaying one signed far-future vote cost a verification per copy).
TEST_F(ReplicaByzantineTest, Vote_BeyondTheWindowRefusedBeforeItsSignatureIsChecked) {
  auto r = c_.replica(0, store_);
  const std::uint64_t round = 4 * 1000 + 3;  // replica 0 leads round + 1
  Block future = c_.block(c_.genesis(), round, c_.gqc());
  for (int copy = 0; copy < 3; ++copy) {
    Vote v = c_.vote(1, future);
    v.signature.bytes[copy] ^= 1;  // a different bad signature each copy
    Actions a = r->on_vote(c_.key(1), v);
    EXPECT_TRUE(rejected(a, RejectReason::kFutureRound));
    EXPECT_FALSE(rejected(a, RejectReason::kBadSignature));
  }
}

// Point 7: a stale timeout is refused before any signature is checked (it used to verify its
// high QC first, so a flood of stale timeouts cost a quorum of verifications each).
TEST_F(ReplicaByzantineTest, Timeout_StaleRefusedBeforeAnyVerification) {
  auto r = c_.replica(0, store_);
  (void)r->on_timeout_cert(c_.key(1), c_.tc(5, c_.gqc()));
  ASSERT_EQ(r->current_round(), 6u);
  Timeout t = c_.timeout(1, 2, c_.gqc());
  t.signature.bytes[0] ^= 1;
  Actions a = r->on_timeout(c_.key(1), {t, {}});
  EXPECT_TRUE(rejected(a, RejectReason::kStaleRound));
  EXPECT_FALSE(rejected(a, RejectReason::kBadSignature));
}

// Point 7: a QC already verified for the same block and round stands in for the one a timeout
// carries (its signature covers only the round), so QCs from other signer subsets cost nothing.
TEST_F(ReplicaByzantineTest, Timeout_KnownQcStandsInForAnotherSignerSubset) {
  auto r = c_.replica(0, store_);
  (void)propose(*r, b1_);
  (void)propose(*r, b2_);  // verifies qc1 (validators 0, 1, 2)
  ASSERT_EQ(r->current_round(), 2u);
  (void)r->on_timeout_cert(c_.key(1), c_.tc(2, qc1_));
  ASSERT_EQ(r->current_round(), 3u);
  Timeout t = c_.timeout(1, 3, qc1_);
  t.high_qc = c_.qc(b1_, {1, 2, 3});                // another subset, same vote data
  t.high_qc.signatures[0].signature.bytes[5] ^= 1;  // and not even valid
  Actions a = r->on_timeout(c_.key(1), {t, {}});
  EXPECT_TRUE(a.rejections.empty()) << a.rejections.at(0).message;
}

// Point 8: a duplicate timeout still delivers a newer high TC.
TEST_F(ReplicaByzantineTest, Timeout_DuplicateStillAppliesItsNewerHighTc) {
  auto r = c_.replica(0, store_);
  (void)r->on_timeout_cert(c_.key(1), c_.tc(2, c_.gqc()));
  ASSERT_EQ(r->current_round(), 3u);
  Timeout t = c_.timeout(1, 3, c_.gqc());
  (void)r->on_timeout(c_.key(1), {t, {}});
  (void)r->on_timeout(c_.key(1), {t, c_.tc(4, c_.gqc())});
  EXPECT_EQ(r->current_round(), 5u);
}

// Point 8: the proposal signature binds its TC. A copy relayed with another valid TC (one whose
// high QC is above the block's QC, so the vote rule refuses it) used to be taken first and then
// shadow the leader's own copy, deduplicated by block id: no vote.
TEST_F(ReplicaByzantineTest, Proposal_RelayedCopyWithAnotherTcCannotBlockTheVote) {
  auto r = c_.replica(0, store_);
  (void)propose(*r, b1_);
  (void)propose(*r, b2_);
  Block b5 = c_.block(b1_, 5, qc1_);  // leader of round 5: validator 1
  Proposal real = c_.proposal(b5, c_.tc(4, qc1_));
  Proposal relayed = real;
  relayed.tc = c_.tc(4, qc2_);
  Actions a = r->on_proposal(c_.key(3), relayed);
  EXPECT_TRUE(rejected(a, RejectReason::kBadSignature));
  Actions b = r->on_proposal(c_.key(1), real);
  auto votes = sent<Vote>(b);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].data.block_id, b5.id());
}

// Point 8: safety data saved with a vote, then a crash before the host persisted the high QC.
// The restarted replica must still be able to time out (its high QC must not be below
// one_chain_round).
TEST_F(ReplicaByzantineTest, Restart_AfterCrashBetweenSavesCanStillTimeOut) {
  {
    auto r = c_.replica(0, store_);
    (void)propose(*r, b1_);
    ASSERT_EQ(sent<Vote>(propose(*r, b2_)).size(), 1u);  // one_chain_round = 1
    ASSERT_EQ(r->safety_data().one_chain_round, 1u);
  }
  // Nothing the host persists survived: the tree store is empty, the high QC is genesis'.
  auto r = c_.replica(0, store_, Replica::genesis_recovery(c_.config()));
  (void)r->start();
  std::vector<TimeoutMessage> timeouts;
  for (int tick = 0; tick < 40 && timeouts.empty(); ++tick) {
    Actions a = r->on_tick();
    EXPECT_FALSE(rejected(a, RejectReason::kSafetyRefused)) << a.rejections.at(0).message;
    timeouts = sent<TimeoutMessage>(a);
  }
  ASSERT_EQ(timeouts.size(), 1u);
  EXPECT_EQ(timeouts[0].timeout.round, 2u);
  EXPECT_EQ(timeouts[0].timeout.high_qc, qc1_);
}

// Review finding (CPU amplification): a stale timeout carrying a bogus "newer" high TC used to be
// verified again on every copy (its signature, then the TC's quorum): one Byzantine validator
// could resend it forever. A certificate that failed is remembered (failed_certs_max) and costs
// nothing the next time; the stale timeout itself is never verified.
TEST_F(ReplicaByzantineTest, Timeout_StaleCopiesOfABadHighTcAreVerifiedOnce) {
  auto r = c_.replica(0, store_);
  (void)r->on_timeout_cert(c_.key(1), c_.tc(2, c_.gqc()));
  ASSERT_EQ(r->current_round(), 3u);
  TimeoutCert bogus = c_.tc(10, c_.gqc());
  bogus.entries.back().signature.bytes[3] ^= 1;
  const TimeoutMessage stale{c_.timeout(1, 2, c_.gqc()), bogus};
  const std::uint64_t before = r->certificate_checks_run();
  for (int copy = 0; copy < 100; ++copy) {
    Actions a = r->on_timeout(c_.key(1), stale);
    EXPECT_TRUE(rejected(a, RejectReason::kInvalidCertificate)) << "copy " << copy;
  }
  EXPECT_EQ(r->certificate_checks_run() - before, 1u);
  EXPECT_EQ(r->current_round(), 3u);
}

// Review finding: a duplicate timeout (already counted) carrying a bogus newer high TC.
TEST_F(ReplicaByzantineTest, Timeout_DuplicateCopiesOfABadHighTcAreVerifiedOnce) {
  auto r = c_.replica(0, store_);
  (void)r->on_timeout_cert(c_.key(1), c_.tc(2, c_.gqc()));
  const Timeout t = c_.timeout(1, 3, c_.gqc());
  ASSERT_TRUE(r->on_timeout(c_.key(1), {t, {}}).rejections.empty());
  TimeoutCert bogus = c_.tc(10, c_.gqc());
  bogus.entries.front().signature.bytes[3] ^= 1;
  const std::uint64_t before = r->certificate_checks_run();
  for (int copy = 0; copy < 100; ++copy) {
    Actions a = r->on_timeout(c_.key(1), {t, bogus});
    EXPECT_TRUE(rejected(a, RejectReason::kInvalidCertificate)) << "copy " << copy;
  }
  EXPECT_EQ(r->certificate_checks_run() - before, 1u);
  // A duplicate whose high TC is not above this replica's costs nothing at all.
  const std::uint64_t after_bad = r->certificate_checks_run();
  for (int copy = 0; copy < 100; ++copy)
    EXPECT_TRUE(r->on_timeout(c_.key(1), {t, c_.tc(2, c_.gqc(), {1, 2, 3})}).rejections.empty());
  EXPECT_EQ(r->certificate_checks_run(), after_bad);
}

// Review finding: a current-round timeout whose high QC is invalid, resent: the QC's quorum is
// checked once; later copies are refused before even the timeout's own signature is checked.
TEST_F(ReplicaByzantineTest, Timeout_RepeatedBadHighQcIsVerifiedOnce) {
  auto r = c_.replica(0, store_);
  (void)r->on_timeout_cert(c_.key(1), c_.tc(2, c_.gqc()));
  ASSERT_EQ(r->current_round(), 3u);
  Timeout t = c_.timeout(1, 3, qc1_);
  t.high_qc.signatures.back().signature.bytes[7] ^= 1;
  const std::uint64_t before = r->certificate_checks_run();
  for (int copy = 0; copy < 100; ++copy) {
    Actions a = r->on_timeout(c_.key(1), {t, {}});
    // After the first, its sender's check budget for the round is spent (CheckBudget_*).
    EXPECT_TRUE(rejected(a, copy == 0 ? RejectReason::kBadSignature : RejectReason::kNotChecked))
        << "copy " << copy;
  }
  EXPECT_EQ(r->certificate_checks_run() - before, 2u);  // the timeout signature, the QC
  EXPECT_EQ(r->high_qc(), c_.gqc());
}

// Attacker review (point 7): the failed-certificate cache recognises a certificate by its bytes,
// so a Byzantine validator that changes one bad signature byte per copy (or the signer subset)
// made every copy cost a quorum of signature checks. Once a signature or certificate it sent has
// failed, nothing more it sends is checked until the round moves; an honest validator is not
// affected, and the budget comes back in the next round.
TEST_F(ReplicaByzantineTest, CheckBudget_VariedBadCertificatesCostOneCheckPerRound) {
  auto r = c_.replica(0, store_);
  (void)r->on_timeout_cert(c_.key(2), c_.tc(2, c_.gqc()));
  ASSERT_EQ(r->current_round(), 3u);
  const std::uint64_t before = r->certificate_checks_run();
  for (int copy = 0; copy < 50; ++copy) {
    Timeout t = c_.timeout(1, 3, qc1_);
    t.high_qc.signatures.back().signature.bytes[copy % 32] ^= static_cast<std::uint8_t>(1 + copy);
    Actions a = r->on_timeout(c_.key(1), {t, {}});
    ASSERT_EQ(a.rejections.size(), 1u) << "copy " << copy;
    EXPECT_EQ(a.rejections[0].reason,
              copy == 0 ? RejectReason::kBadSignature : RejectReason::kNotChecked)
        << "copy " << copy;
    TimeoutCert bogus = c_.tc(10 + copy, c_.gqc());
    bogus.entries.back().signature.bytes[5] ^= 1;
    EXPECT_TRUE(rejected(r->on_timeout_cert(c_.key(1), bogus), RejectReason::kNotChecked));
  }
  EXPECT_EQ(r->certificate_checks_run() - before, 2u);  // the first timeout's signature and QC
  EXPECT_EQ(r->high_qc(), c_.gqc());
  EXPECT_EQ(r->current_round(), 3u);
  // Another validator is checked as before: its timeout counts.
  EXPECT_TRUE(r->on_timeout(c_.key(2), {c_.timeout(2, 3, c_.gqc()), {}}).rejections.empty());
  EXPECT_EQ(r->certificate_checks_run() - before, 3u);
  // The round moves: validator 1 is checked again, once.
  (void)r->on_timeout_cert(c_.key(2), c_.tc(3, c_.gqc()));
  ASSERT_EQ(r->current_round(), 4u);
  const std::uint64_t next_round = r->certificate_checks_run();
  Timeout t = c_.timeout(1, 4, qc1_);
  t.high_qc.signatures.front().signature.bytes[0] ^= 1;
  EXPECT_TRUE(rejected(r->on_timeout(c_.key(1), {t, {}}), RejectReason::kBadSignature));
  t.high_qc.signatures.front().signature.bytes[1] ^= 1;
  EXPECT_TRUE(rejected(r->on_timeout(c_.key(1), {t, {}}), RejectReason::kNotChecked));
  EXPECT_EQ(r->certificate_checks_run() - next_round, 2u);
}

// The same budget covers bad vote signatures sent to the next leader, and a validator's bad
// proposal signature: the second bad input of the round is not checked, a good one from another
// validator still counts.
TEST_F(ReplicaByzantineTest, CheckBudget_BadVotesAndProposalsSpendIt) {
  // Votes for b1 (round 1) go to the leader of round 2, validator 2.
  auto r = c_.replica(2, store_);
  (void)propose(*r, b1_);
  Vote bad = c_.vote(1, b1_);
  bad.signature.bytes[4] ^= 1;
  EXPECT_TRUE(rejected(r->on_vote(c_.key(1), bad), RejectReason::kBadSignature));
  bad.signature.bytes[5] ^= 1;
  EXPECT_TRUE(rejected(r->on_vote(c_.key(1), bad), RejectReason::kNotChecked));
  // Even its valid vote is not checked in this round: it spent its budget.
  EXPECT_TRUE(rejected(r->on_vote(c_.key(1), c_.vote(1, b1_)), RejectReason::kNotChecked));
  EXPECT_TRUE(r->on_vote(c_.key(3), c_.vote(3, b1_)).rejections.empty());

  // A relayed proposal with a bad signature (validator 3 relays round 2's): the next copy from
  // the same validator is not checked; the leader's own copy is.
  auto p = c_.replica(0, store_);
  (void)propose(*p, b1_);
  Proposal forged{b2_, std::nullopt, {}};
  forged.signature.bytes[0] = 1;
  EXPECT_TRUE(rejected(p->on_proposal(c_.key(3), forged), RejectReason::kBadSignature));
  EXPECT_TRUE(rejected(p->on_proposal(c_.key(3), forged), RejectReason::kNotChecked));
  Actions good = propose(*p, b2_);
  EXPECT_FALSE(rejected(good, RejectReason::kNotChecked));
  EXPECT_EQ(sent<Vote>(good).size(), 1u);
}

// The failed-certificate cache is bounded by failed_certs_max, oldest evicted first, and never
// remembers a valid certificate as failed.
TEST(CertificateVerifierTest, FailedCerts_BoundedOldestEvictedFirst) {
  TestChain c;
  CertificateVerifier v(std::string(testing::kChain), c.validators(), c.gqc(), 16,
                        /*failed_certs_max=*/2);
  auto bad_tc = [&](std::uint64_t round) {
    TimeoutCert tc = c.tc(round, c.gqc());
    tc.entries.front().signature.bytes[0] ^= 1;
    return tc;
  };
  for (std::uint64_t round : {5, 6, 7})
    EXPECT_FALSE(v.verify_tc(bad_tc(round)).is_ok());
  EXPECT_EQ(v.failed_count(), 2u);
  EXPECT_EQ(v.checks_run(), 3u);
  EXPECT_FALSE(v.verify_tc(bad_tc(7)).is_ok());  // remembered: no check
  EXPECT_EQ(v.checks_run(), 3u);
  EXPECT_FALSE(v.verify_tc(bad_tc(5)).is_ok());  // evicted: checked again
  EXPECT_EQ(v.checks_run(), 4u);
  EXPECT_TRUE(v.verify_tc(c.tc(5, c.gqc())).is_ok());
  EXPECT_EQ(v.failed_count(), 2u);
}

// Review finding: the safety data's one_chain_qc (version 2) was taken as the high QC on restart
// without verification: a corrupted or tampered safety store could inject a certificate.
TEST_F(ReplicaByzantineTest, Restart_RefusesSafetyDataWhoseOneChainQcDoesNotVerify) {
  SafetyData data;
  data.last_voted_round = 2;
  data.one_chain_round = 1;
  data.one_chain_qc = qc1_;
  data.one_chain_qc->signatures.front().signature.bytes[9] ^= 1;
  ASSERT_TRUE(store_.save(data).is_ok());
  ReplicaConfig config = c_.config();
  auto r = Replica::create(config, Signer::create(testing::test_key(0)).value(), store_,
                           Replica::genesis_recovery(config));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().to_string();
  EXPECT_NE(r.status().message().find("one_chain_qc"), std::string::npos) << r.status().to_string();
}

// The same with a QC below quorum (signed by one validator only) and with a round that is not
// one_chain_round; the untampered QC is accepted and becomes the high QC.
TEST_F(ReplicaByzantineTest, Restart_OneChainQcMustHaveQuorumAndItsRound) {
  ReplicaConfig config = c_.config();
  std::deque<storage::MemorySafetyStore> stores;  // outlive the replicas
  auto create = [&](const SafetyData& data) {
    EXPECT_TRUE(stores.emplace_back().save(data).is_ok());
    return Replica::create(config, Signer::create(testing::test_key(0)).value(), stores.back(),
                           Replica::genesis_recovery(config));
  };
  SafetyData data;
  data.last_voted_round = 2;
  data.one_chain_round = 1;
  data.one_chain_qc = c_.qc(b1_, {2});
  EXPECT_EQ(create(data).status().code(), StatusCode::kCorruption);
  data.one_chain_qc = qc2_;  // round 2, not one_chain_round (the store's decoder sees it too)
  EXPECT_EQ(create(data).status().code(), StatusCode::kCorruption);
  data.one_chain_qc = qc1_;
  auto good = create(data);
  ASSERT_TRUE(good.is_ok()) << good.status().to_string();
  EXPECT_EQ(good.value()->high_qc(), qc1_);
}

// Review finding (fetch): a missing parent was asked of whoever delivered the proposal. A
// Byzantine validator relaying an honest leader's signed proposal first, then never answering,
// delayed the parent by fetch_retry_ticks and cost the vote. The proposer, who built on the
// parent, is asked; the relayer's answer is unsolicited.
TEST_F(ReplicaByzantineTest, Fetch_MissingParentIsAskedOfTheProposerNotTheRelayer) {
  auto r = c_.replica(0, store_);
  Actions a = r->on_proposal(c_.key(3), c_.proposal(b2_));  // led by validator 2, relayed by 3
  EXPECT_EQ(requests_to(a, c_.key(2)).size(), 1u);
  EXPECT_TRUE(requests_to(a, c_.key(3)).empty());
  EXPECT_TRUE(
      rejected(r->on_block_response(c_.key(3), BlockResponse{{b1_}}), RejectReason::kUnsolicited));
  Actions answered = r->on_block_response(c_.key(2), BlockResponse{{b1_}});
  auto votes = sent<Vote>(answered);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].data.block_id, b2_.id());
}

// Review finding (block tree): making room evicted the parent of the proposal whose payload the
// host was checking, so a certified block fetched meanwhile (here named by a timeout's high QC)
// cost the vote: the OK verdict then found no parent. The parent is kept like high_qc's path.
TEST_F(ReplicaByzantineTest, Tree_EvictionKeepsTheParentOfTheProposalBeingChecked) {
  ReplicaConfig config = c_.config();
  config.pending_blocks_max = 4;
  config.payload_checks = true;
  RecoveryData recovery = Replica::genesis_recovery(config);
  const Block& g = c_.genesis();
  Block x = c_.block(g, 1, c_.gqc());        // the parent of the proposal checked
  Block h = c_.block(g, 2, c_.gqc());        // certified: high QC
  Block w = c_.block(g, 2, c_.gqc(), 2222);  // evictable leaves of higher rounds than x
  Block y = c_.block(g, 3, c_.gqc(), 3333);
  recovery.blocks = {x, h, w, y};
  recovery.high_qc = c_.qc(h);
  auto r = Replica::create(config, Signer::create(testing::test_key(0)).value(), store_,
                           std::move(recovery))
               .value();
  ASSERT_EQ(r->tree().size(), 4u);
  (void)r->on_timeout_cert(c_.key(1), c_.tc(4, c_.qc(x)));
  ASSERT_EQ(r->current_round(), 5u);
  Block p = c_.block(x, 5, c_.qc(x));  // led by validator 1, justified by the TC of round 4
  ASSERT_TRUE(propose(*r, p, c_.tc(4, c_.qc(x))).payload_check.has_value());
  // Meanwhile a certified block z on h (no 2-chain: rounds 2 and 4) is named and fetched.
  Block z = c_.block(h, 4, c_.qc(h));
  Actions named = r->on_timeout(c_.key(2), {c_.timeout(2, 5, c_.qc(z)), {}});
  ASSERT_EQ(requests_to(named, c_.key(2)).size(), 1u);
  Actions fetched = r->on_block_response(c_.key(2), BlockResponse{{z}});
  EXPECT_TRUE(r->tree().contains(z.id()));
  EXPECT_TRUE(r->tree().contains(x.id()));
  EXPECT_LE(r->tree().size(), 4u);
  Actions ok = r->on_payload_checked(p.id(), Status::ok());
  auto votes = sent<Vote>(ok);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].data.block_id, p.id());
}

// Review finding: a certificate whose signers cannot reach quorum power (here one validator, or
// one validator listed three times) used to have its signatures checked before its power; each
// new such certificate cost up to a quorum of checks. It is now refused before any.
TEST_F(ReplicaByzantineTest, Certificate_BelowQuorumPowerCostsNoSignatureCheck) {
  auto r = c_.replica(0, store_);
  const std::uint64_t before = r->certificate_checks_run();
  for (std::uint64_t round = 10; round < 20; ++round) {
    TimeoutCert lone = c_.tc(round, c_.gqc(), {1});
    Actions a = r->on_timeout_cert(c_.key(1), lone);
    EXPECT_TRUE(rejected(a, RejectReason::kInvalidCertificate));
    TimeoutCert repeated = lone;
    repeated.entries = {lone.entries[0], lone.entries[0], lone.entries[0]};
    EXPECT_TRUE(
        rejected(r->on_timeout_cert(c_.key(1), repeated), RejectReason::kInvalidCertificate));
  }
  Timeout t = c_.timeout(1, 2, c_.qc(b1_, {1}));
  (void)r->on_timeout_cert(c_.key(1), c_.tc(1, c_.gqc()));
  ASSERT_EQ(r->current_round(), 2u);
  const std::uint64_t before_timeout = r->certificate_checks_run();
  EXPECT_TRUE(rejected(r->on_timeout(c_.key(1), {t, {}}), RejectReason::kBadSignature));
  EXPECT_EQ(r->certificate_checks_run() - before_timeout, 1u);  // the timeout's own signature
  EXPECT_EQ(before_timeout - before, 1u);                       // the valid TC of round 1
  EXPECT_EQ(r->current_round(), 2u);
}

// Adversarial review (valid but useless certificates escape the check budget): a timeout's
// signature covers only its high QC's round, so a Byzantine validator whose timeout for the round
// is already counted could resend it with any other valid QC it holds (every block header carries
// one; the verified-QC cache holds verified_certs_max). Each copy cost its signature and the QC's
// quorum, all valid, so the budget was never spent, and then it was refused as an equivocation.
// A second timeout from a signer already counted in the round is refused before any check.
TEST_F(ReplicaByzantineTest, Timeout_SecondTimeoutOfASignerIsRefusedBeforeAnyCheck) {
  auto r = c_.replica(0, store_);
  (void)r->on_timeout_cert(c_.key(2), c_.tc(3, qc2_));
  ASSERT_EQ(r->current_round(), 4u);
  ASSERT_TRUE(r->on_timeout(c_.key(1), {c_.timeout(1, 4, qc2_), {}}).rejections.empty());
  const std::uint64_t before = r->certificate_checks_run();
  for (const auto& subset :
       std::vector<std::vector<std::size_t>>{{0, 1, 2}, {0, 1, 3}, {1, 2, 3}}) {
    Actions a = r->on_timeout(c_.key(1), {c_.timeout(1, 4, c_.qc(b1_, subset)), {}});
    EXPECT_TRUE(rejected(a, RejectReason::kEquivocation));
  }
  EXPECT_EQ(r->certificate_checks_run(), before);
  // Another validator's timeout still counts, whatever its high QC.
  EXPECT_TRUE(r->on_timeout(c_.key(3), {c_.timeout(3, 4, qc1_), {}}).rejections.empty());
}

// Adversarial review: a timeout for a future round whose own high QC cannot bring this replica
// to that round can never count, yet its signature and its QC were checked first (all valid: the
// budget was never spent); a Byzantine validator could sign one per (round, QC) pair. Such a
// timeout is refused before any check unless its high QC is above this replica's.
TEST_F(ReplicaByzantineTest, Timeout_FutureRoundItsQcCannotReachIsRefusedBeforeAnyCheck) {
  auto r = c_.replica(0, store_);
  (void)r->on_timeout_cert(c_.key(2), c_.tc(3, qc2_));
  ASSERT_EQ(r->current_round(), 4u);
  const std::uint64_t before = r->certificate_checks_run();
  for (std::uint64_t round = 5; round < 20; ++round) {
    for (const auto& subset :
         std::vector<std::vector<std::size_t>>{{0, 1, 2}, {0, 1, 3}, {1, 2, 3}}) {
      Actions a = r->on_timeout(c_.key(1), {c_.timeout(1, round, c_.qc(b1_, subset)), {}});
      EXPECT_TRUE(rejected(a, RejectReason::kFutureRound)) << "round " << round;
    }
  }
  EXPECT_EQ(r->certificate_checks_run(), before);
  // A timeout whose high QC is of the round before it still moves this replica there and counts.
  const QuorumCert qc3 = c_.qc(b3_);
  const Block b4 = c_.block(b3_, 4, qc3);
  const QuorumCert qc4 = c_.qc(b4);
  Actions a = r->on_timeout(c_.key(1), {c_.timeout(1, 5, qc4), {}});
  EXPECT_TRUE(a.rejections.empty()) << a.rejections.at(0).message;
  EXPECT_EQ(r->current_round(), 5u);
}

// Adversarial review: proposals are remembered for equivocation only for proposals_seen_max
// rounds, so the leader of an older round could sign any number of blocks for it, each with
// another valid variant of its parent's QC (another signer subset): each cost the QC's quorum
// before being refused as stale. A stale proposal whose certificates are not above this
// replica's is refused before they are checked.
TEST_F(ReplicaByzantineTest, Proposal_StaleOneIsRefusedBeforeItsCertificatesAreChecked) {
  auto r = c_.replica(0, store_);
  (void)r->on_timeout_cert(c_.key(2), c_.tc(99, qc2_));
  ASSERT_EQ(r->current_round(), 100u);
  ASSERT_EQ(r->high_qc(), qc2_);
  const std::uint64_t before = r->certificate_checks_run();
  const std::vector<std::vector<std::size_t>> subsets{
      {0, 1, 2}, {0, 1, 3}, {0, 2, 3}, {1, 2, 3}, {0, 1, 2, 3}};
  for (std::size_t i = 0; i < subsets.size(); ++i) {
    Block b = c_.block(b1_, 2, c_.qc(b1_, subsets[i]), 5000 + i);  // round 2: validator 2 leads
    Actions a = propose(*r, b);
    EXPECT_TRUE(rejected(a, RejectReason::kStaleRound)) << "variant " << i;
  }
  EXPECT_EQ(r->certificate_checks_run(), before);
}

// A stale proposal still delivers a QC above this replica's high QC.
TEST_F(ReplicaByzantineTest, Proposal_StaleOneStillDeliversANewerQc) {
  auto r = c_.replica(0, store_);
  (void)r->on_timeout_cert(c_.key(2), c_.tc(9, c_.gqc()));
  ASSERT_EQ(r->current_round(), 10u);
  Actions a = propose(*r, b2_);
  EXPECT_TRUE(rejected(a, RejectReason::kStaleRound));
  EXPECT_EQ(r->high_qc(), qc1_);
}

// Adversarial review of the check budget: a Byzantine validator relaying an honest validator's
// signed message, altered so that it fails a check, spends its own budget, never the signer's
// (the budget is keyed by the authenticated sender); the honest copy still counts.
TEST_F(ReplicaByzantineTest, CheckBudget_AnAlteredRelayOfAnHonestMessageChargesTheRelayer) {
  auto r = c_.replica(0, store_);
  (void)r->on_timeout_cert(c_.key(2), c_.tc(2, c_.gqc()));
  ASSERT_EQ(r->current_round(), 3u);
  // Validator 3 relays validator 2's timeout with a forged high QC of the same round.
  const Timeout honest = c_.timeout(2, 3, qc1_);
  Timeout altered = honest;
  altered.high_qc.signatures.back().signature.bytes[9] ^= 1;
  EXPECT_TRUE(rejected(r->on_timeout(c_.key(3), {altered, {}}), RejectReason::kBadSignature));
  EXPECT_TRUE(rejected(r->on_timeout(c_.key(3), {honest, {}}), RejectReason::kNotChecked));
  Actions a = r->on_timeout(c_.key(2), {honest, {}});
  EXPECT_TRUE(a.rejections.empty()) << a.rejections.at(0).message;
  EXPECT_EQ(r->high_qc(), qc1_);
  // Its vote, altered by a relayer, likewise (replica 0 leads round 4: votes of round 3).
  Vote vote = c_.vote(2, c_.block(b2_, 3, qc2_));
  Vote bad = vote;
  bad.signature.bytes[1] ^= 1;
  storage::MemorySafetyStore other_store;
  auto leader = c_.replica(0, other_store);
  (void)leader->on_timeout_cert(c_.key(2), c_.tc(2, qc1_));
  EXPECT_TRUE(rejected(leader->on_vote(c_.key(1), bad), RejectReason::kBadSignature));
  EXPECT_TRUE(leader->on_vote(c_.key(2), vote).rejections.empty());
}

}  // namespace
}  // namespace ledger::consensus
