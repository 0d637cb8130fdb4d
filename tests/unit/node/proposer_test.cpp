// Proposer (include/ledger/node/proposer.h): when a leader proposes, and what.
#include "ledger/node/proposer.h"

#include <gtest/gtest.h>

#include "ledger/node/signature_cache.h"
#include "ledger/storage/memory_chain_store.h"
#include "support/chain_fixture.h"
#include "support/test_keys.h"

namespace ledger::node {
namespace {

constexpr char kChainId[] = "proposer-test";

class ProposerTest : public ::testing::Test {
 protected:
  ProposerTest()
      : sender_(testing::test_signer(0x9e, 1)),
        chain_(kChainId, {{sender_.public_key(), Account{1'000, 0}}}),
        store_(kChainId) {
    EXPECT_TRUE(store_.commit(chain_.genesis(), std::nullopt).is_ok());
  }

  Proposer::Options options() const {
    Proposer::Options o;
    o.validators = 4;
    o.block_interval_ms = 100;
    o.empty_block_interval_ms = 500;
    return o;
  }
  // The payload request of a leader whose parent is the committed genesis, with this timestamp.
  consensus::PayloadRequest request(std::uint64_t parent_timestamp_ms) const {
    const Block& parent = chain_.genesis().block;
    return consensus::PayloadRequest{1, parent.id(), parent.header.height, parent_timestamp_ms};
  }
  static const Block* none(const Hash&) { return nullptr; }

  Signer sender_;
  testing::TestChain chain_;
  storage::MemoryChainStore store_;
  SignatureCache signatures_{64};
  Mempool mempool_{kChainId, MempoolLimits{}, signatures_};
  SpeculativeState speculative_{store_, signatures_.as_check(), 8};
};

// A parent in the past: the interval counts from its timestamp.
TEST_F(ProposerTest, Schedule_CountsTheIntervalFromThePastParentsTimestamp) {
  Proposer proposer(options(), mempool_, speculative_);
  constexpr std::uint64_t kNow = 1'000'000;
  auto schedule = proposer.schedule(request(kNow - 200), none, kNow);
  ASSERT_TRUE(schedule.is_ok()) << schedule.status().to_string();
  EXPECT_FALSE(schedule.value().has_work);
  EXPECT_EQ(schedule.value().ready_at_ms, kNow - 200 + 500);
}

// Adversarial review (liveness): the parent's leader chooses its timestamp, and validators
// accept one up to time_ahead_max_ms (30 s) ahead of their clocks. The next leader waited for
// that timestamp plus the interval: past its round timer, so the round timed out, and so did
// every later round whose leader built on the same certified parent, until the wall clock caught
// up. One Byzantine leader could stall the chain for about 30 s each time it led.
TEST_F(ProposerTest, Schedule_AParentTimestampAheadOfTheClockDoesNotHoldTheLeader) {
  Proposer proposer(options(), mempool_, speculative_);
  constexpr std::uint64_t kNow = 1'000'000;
  auto schedule = proposer.schedule(request(kNow + 29'000), none, kNow);
  ASSERT_TRUE(schedule.is_ok()) << schedule.status().to_string();
  EXPECT_LE(schedule.value().ready_at_ms, kNow + 500);
  // The block itself still follows its parent.
  auto payload = proposer.build(request(kNow + 29'000), kNow + 500);
  ASSERT_TRUE(payload.is_ok()) << payload.status().to_string();
  EXPECT_EQ(payload.value().timestamp_ms, kNow + 29'001);
}

}  // namespace
}  // namespace ledger::node
