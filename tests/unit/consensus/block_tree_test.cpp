// The tree of uncommitted blocks: links, bound, and pruning on commit.
#include "ledger/consensus/block_tree.h"

#include <gtest/gtest.h>

#include "consensus_test_util.h"

namespace ledger::consensus {
namespace {

using testing::TestChain;

TEST(BlockTreeTest, BlockTree_PrunesBranchesThatCannotCommit) {
  TestChain c;
  BlockTree tree(c.genesis(), 16);
  Block a1 = c.block(c.genesis(), 1, c.gqc());
  Block b2 = c.block(c.genesis(), 2, c.gqc());  // a competing branch on genesis
  Block a3 = c.block(a1, 3, c.qc(a1));
  ASSERT_TRUE(tree.insert(a1, a1.id()).is_ok());
  ASSERT_TRUE(tree.insert(b2, b2.id()).is_ok());
  ASSERT_TRUE(tree.insert(a3, a3.id()).is_ok());
  EXPECT_EQ(tree.size(), 3u);
  auto forgotten = tree.commit(a1.id());
  EXPECT_EQ(tree.root_id(), a1.id());
  EXPECT_EQ(tree.committed_round(), 1u);
  EXPECT_FALSE(tree.contains(b2.id()));  // cannot commit any more
  EXPECT_TRUE(tree.contains(a3.id()));
  EXPECT_EQ(forgotten.size(), 2u);  // genesis (old root) and b2
  EXPECT_EQ(tree.size(), 1u);
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

}  // namespace
}  // namespace ledger::consensus
