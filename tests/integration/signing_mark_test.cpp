// Issue 11, point 8: a validator restarted with a fresh data directory and the same key used to
// start from last_voted_round 0 and could sign rounds it had signed before. The home directory
// keeps a mark (keys/validator-signed) outside data_dir; with the mark and no safety data, ledgerd
// refuses to start and says why.
#include <gtest/gtest.h>

#include <filesystem>

#include "harness.h"

namespace ledger::itest {
namespace {

namespace fs = std::filesystem;

TEST(SigningMark, FreshDataDirWithSameKey_RefusedNamingTheRisk) {
  DevNode node;
  node.start();
  ASSERT_TRUE(node.wait_for_height(2));
  EXPECT_EQ(node.stop(), 0) << node.log();
  const fs::path mark = node.home() / "keys" / "validator-signed";
  ASSERT_TRUE(fs::exists(mark));

  fs::remove_all(node.home() / "data");
  const auto refused = run_command({ledgerd_path(), "start", "--home", node.home().string()}, 30s);
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  EXPECT_NE(refused.output.find("has signed consensus messages on chain ledger-dev before"),
            std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("double signing"), std::string::npos) << refused.output;

  // The operator's way out, when the key truly never signed here: remove the mark.
  fs::remove(mark);
  node.start();
  EXPECT_TRUE(node.wait_for_height(2));
  EXPECT_TRUE(fs::exists(mark));
  EXPECT_EQ(node.stop(), 0) << node.log();
}

TEST(SigningMark, RestartWithItsDataDir_Starts) {
  DevNode node;
  node.start();
  ASSERT_TRUE(node.wait_for_height(1));
  EXPECT_EQ(node.stop(), 0) << node.log();
  node.start();
  const auto height = node.height();
  EXPECT_TRUE(node.wait_for_height(height + 1));
  EXPECT_EQ(node.stop(), 0) << node.log();
}

}  // namespace
}  // namespace ledger::itest
