// PayloadChecker (include/ledger/node/payload_checker.h): the host's check of another leader's
// payload, and which of its verdicts refuse a proposal for the round.
#include "ledger/node/payload_checker.h"

#include <gtest/gtest.h>

#include "ledger/consensus/replica.h"
#include "ledger/node/signature_cache.h"
#include "ledger/storage/memory_chain_store.h"
#include "support/chain_fixture.h"
#include "support/test_keys.h"

namespace ledger::node {
namespace {

constexpr char kChainId[] = "payload-checker-test";

class PayloadCheckerTest : public ::testing::Test {
 protected:
  PayloadCheckerTest()
      : sender_(testing::test_signer(0x7c, 1)),
        chain_(kChainId, {{sender_.public_key(), Account{1'000, 0}}}),
        store_(kChainId) {
    EXPECT_TRUE(store_.commit(chain_.genesis(), std::nullopt).is_ok());
  }

  // A block on the committed genesis with the right state root and this timestamp.
  Block child(std::uint64_t timestamp_ms) const {
    Block block = chain_.build({}).block;
    block.header.timestamp_ms = timestamp_ms;
    return block;
  }
  static const Block* none(const Hash&) { return nullptr; }

  Signer sender_;
  testing::TestChain chain_;
  storage::MemoryChainStore store_;
  SignatureCache signatures_{64};
  SpeculativeState speculative_{store_, signatures_.as_check(), 8};
  PayloadChecker checker_{{kChainId, 30'000}, signatures_, speculative_};
};

TEST_F(PayloadCheckerTest, Check_AcceptsAValidChild) {
  constexpr std::uint64_t kNow = 1'000'000;
  const Status verdict = checker_.check(child(kNow), kNow, none);
  EXPECT_TRUE(verdict.is_ok()) << verdict.to_string();
}

// Adversarial review (liveness): a Byzantine leader sets its block's
// timestamp as far ahead as the fastest honest clocks accept (time_ahead_max_ms), so that with
// the Byzantine votes its block is certified. The next (honest) leader's block must be later
// still (parent + 1 ms), so validators whose clocks are a little behind find it "too far ahead"
// and refuse it for the whole round with kInvalidArgument (payload_verdict_refuses), though
// their clocks would accept it a few ms later; with the Byzantine validators not voting, the
// honest leader's round fails, once per Byzantine-led round. "Ahead of my clock" is this node's
// view, not a property of the block: the verdict is transient (kUnavailable), so that the
// replica checks it again on its next ticks (payload_check_attempts_max), as for a parent state
// not available yet.
TEST_F(PayloadCheckerTest, Check_ATimestampAheadOfThisClockIsNotARefusal) {
  constexpr std::uint64_t kNow = 1'000'000;
  const Status verdict = checker_.check(child(kNow + 30'001), kNow, none);
  EXPECT_FALSE(verdict.is_ok());
  EXPECT_FALSE(consensus::payload_verdict_refuses(verdict)) << verdict.to_string();
}

}  // namespace
}  // namespace ledger::node
