// SpeculativeState (include/ledger/node/speculative_state.h): the state after uncommitted blocks.
// Its bound must cover every block the replica's tree can hold: a proposal on the far end of a
// certified chain as long as BlockTree allows (twice pending_blocks_max, when every other round
// fails) is checked against the state after the whole chain.
#include "ledger/node/speculative_state.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "ledger/consensus/block_tree.h"
#include "ledger/node/signature_cache.h"
#include "ledger/storage/memory_chain_store.h"
#include "support/chain_fixture.h"
#include "support/test_keys.h"

namespace ledger::node {
namespace {

using testing::TestChain;

constexpr char kChainId[] = "speculative-test";

class SpeculativeStateTest : public ::testing::Test {
 protected:
  SpeculativeStateTest()
      : sender_(testing::test_signer(0x5e, 1)),
        recipient_(testing::test_signer(0x5e, 2)),
        chain_(kChainId, {{sender_.public_key(), Account{1'000, 0}}}),
        store_(kChainId) {
    EXPECT_TRUE(store_.commit(chain_.genesis(), std::nullopt).is_ok());
  }

  // `count` uncommitted blocks on the committed tip, one transfer each, oldest first; `after`
  // is the model state after the last.
  std::vector<Block> uncommitted_chain(std::size_t count, StateAccumulator& after) const {
    TestChain ahead = chain_;
    std::vector<Block> blocks;
    for (std::size_t i = 0; i < count; ++i) {
      blocks.push_back(ahead.next({ahead.transfer(sender_, recipient_.public_key(), 1)}).block);
    }
    after = ahead.accumulator();
    return blocks;
  }

  static SpeculativeState::BlockLookup lookup_in(const std::vector<Block>& blocks) {
    auto by_id = std::make_shared<std::map<Hash, Block>>();
    for (const Block& b : blocks)
      by_id->emplace(b.id(), b);
    return [by_id](const Hash& id) -> const Block* {
      auto it = by_id->find(id);
      return it == by_id->end() ? nullptr : &it->second;
    };
  }

  Signer sender_;
  Signer recipient_;
  TestChain chain_;
  storage::MemoryChainStore store_;
  SignatureCache signatures_{1024};
};

// Review finding: the host sized speculative execution by pending_blocks_max (+2), but the tree
// holds up to twice that on its certified chain; the proposal on such a chain could not be
// executed, so its payload check failed and the replica never voted on the chain again.
TEST_F(SpeculativeStateTest, EntriesFor_HoldsTheLongestChainTheTreeCanHoldAndItsProposal) {
  constexpr std::size_t kPending = 4;
  SpeculativeState state(store_, signatures_.as_check(), SpeculativeState::entries_for(kPending));
  StateAccumulator after;
  const std::vector<Block> blocks =  // the longest chain in the tree, and a proposal on it
      uncommitted_chain(consensus::BlockTree::blocks_max(kPending) + 1, after);
  auto executed = state.execute(blocks.back().id(), lookup_in(blocks));
  ASSERT_TRUE(executed.is_ok()) << executed.status().to_string();
  EXPECT_EQ(executed.value()->block.id(), blocks.back().id());
  EXPECT_EQ(executed.value()->output.accumulator, after);
  // The bound is still a bound: one block more than the tree can hold, with the one being built.
  SpeculativeState small(store_, signatures_.as_check(), SpeculativeState::entries_for(kPending));
  const std::vector<Block> longer =
      uncommitted_chain(SpeculativeState::entries_for(kPending) + 1, after);
  EXPECT_EQ(small.execute(longer.back().id(), lookup_in(longer)).status().code(),
            StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace ledger::node
