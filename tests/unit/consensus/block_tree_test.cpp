// The tree of uncommitted blocks: links, bound, and pruning on commit.
#include "ledger/consensus/block_tree.h"

#include <gtest/gtest.h>

#include "consensus_test_util.h"

namespace ledger::consensus {
namespace {

using testing::TestChain;

// A tree with two branches on genesis: a1 <- a3, and b2.
class ForkedTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tree_.insert(a1_, a1_.id()).is_ok());
    ASSERT_TRUE(tree_.insert(b2_, b2_.id()).is_ok());
    ASSERT_TRUE(tree_.insert(a3_, a3_.id()).is_ok());
  }

  TestChain c_;
  BlockTree tree_{c_.genesis(), 16};
  Block a1_ = c_.block(c_.genesis(), 1, c_.gqc());
  Block b2_ = c_.block(c_.genesis(), 2, c_.gqc());  // a competing branch on genesis
  Block a3_ = c_.block(a1_, 3, c_.qc(a1_));
};

TEST_F(ForkedTreeTest, BlockTree_PrunesBranchesThatCannotCommit) {
  EXPECT_EQ(tree_.size(), 3u);
  auto forgotten = tree_.commit(a1_.id());
  EXPECT_EQ(tree_.root_id(), a1_.id());
  EXPECT_EQ(tree_.committed_round(), 1u);
  EXPECT_FALSE(tree_.contains(b2_.id()));  // cannot commit any more
  EXPECT_TRUE(tree_.contains(a3_.id()));
  EXPECT_EQ(forgotten.size(), 2u);  // genesis (old root) and b2
  EXPECT_EQ(tree_.size(), 1u);
}

// BlockTree::reroot (Replica::on_synced_commit): the root moves to a block block sync committed.
TEST_F(ForkedTreeTest, BlockTree_RerootInTheTreeKeepsDescendants) {
  auto dropped = tree_.reroot(a1_, a1_.id());
  EXPECT_EQ(tree_.root_id(), a1_.id());
  EXPECT_TRUE(tree_.contains(a3_.id()));
  EXPECT_FALSE(tree_.contains(b2_.id()));
  EXPECT_EQ(dropped.size(), 2u);  // genesis and b2
}

TEST(BlockTreeTest, BlockTree_RefusesBrokenLinks) {
  TestChain c;
  BlockTree tree(c.genesis(), 16);
  Block orphan = c.block(c.block(c.genesis(), 1, c.gqc()), 2, c.gqc());
  EXPECT_EQ(tree.insert(orphan, orphan.id()).code(), StatusCode::kFailedPrecondition);
  Block same_ts = c.block(c.genesis(), 1, c.gqc(), c.genesis().header.timestamp_ms);
  EXPECT_EQ(tree.insert(same_ts, same_ts.id()).code(), StatusCode::kFailedPrecondition);
  Block bad_height = c.block(c.genesis(), 1, c.gqc());
  bad_height.header.height = 7;
  EXPECT_EQ(tree.insert(bad_height, bad_height.id()).code(), StatusCode::kFailedPrecondition);
}

TEST(BlockTreeTest, BlockTree_BoundedByPendingBlocksMax) {
  TestChain c;
  BlockTree tree(c.genesis(), 2);
  for (std::uint64_t ts = 2000; ts < 2002; ++ts) {
    Block b = c.block(c.genesis(), 1, c.gqc(), ts);
    ASSERT_TRUE(tree.insert(b, b.id()).is_ok());
  }
  Block third = c.block(c.genesis(), 1, c.gqc(), 3000);
  EXPECT_EQ(tree.insert(third, third.id()).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(tree.size(), 2u);
}

TEST(BlockTreeTest, BlockTree_PathAndChainBack) {
  TestChain c;
  BlockTree tree(c.genesis(), 16);
  Block a1 = c.block(c.genesis(), 1, c.gqc());
  Block a2 = c.block(a1, 2, c.qc(a1));
  ASSERT_TRUE(tree.insert(a1, a1.id()).is_ok());
  ASSERT_TRUE(tree.insert(a2, a2.id()).is_ok());
  auto path = tree.path_from_root(a2.id());
  ASSERT_EQ(path.size(), 2u);
  EXPECT_EQ(*path[0], a1);
  EXPECT_EQ(*path[1], a2);
  EXPECT_EQ(tree.chain_back(a2.id(), 2).size(), 2u);
  EXPECT_EQ(tree.chain_back(a2.id(), 10).size(), 3u);  // stops at the root
}

TEST(BlockTreeTest, BlockTree_RerootOutsideTheTreeDropsEverything) {
  TestChain c;
  BlockTree tree(c.genesis(), 16);
  Block a1 = c.block(c.genesis(), 1, c.gqc());
  Block a2 = c.block(a1, 2, c.qc(a1));
  Block a3 = c.block(a2, 3, c.qc(a2));
  ASSERT_TRUE(tree.insert(a1, a1.id()).is_ok());
  auto dropped = tree.reroot(a3, a3.id());  // a2 never reached this tree
  EXPECT_EQ(tree.root_id(), a3.id());
  EXPECT_EQ(tree.size(), 0u);
  EXPECT_EQ(tree.committed_round(), 3u);
  EXPECT_EQ(dropped.size(), 2u);  // genesis and a1
  Block a4 = c.block(a3, 4, c.qc(a3));
  EXPECT_TRUE(tree.insert(a4, a4.id()).is_ok());  // the new root takes children
}

}  // namespace
}  // namespace ledger::consensus
