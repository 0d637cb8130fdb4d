// The signing mark (node/signing_mark.h): written right before the first save of safety data,
// so that a validator that stopped before it ever signed restarts, and one that signed and then
// lost its data directory is refused.
#include "signing_mark.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "ledger/storage/memory_safety_store.h"
#include "support/temp_dir.h"

namespace ledger::node {
namespace {

namespace fs = std::filesystem;

consensus::SafetyData voted(std::uint64_t round) {
  consensus::SafetyData data;
  data.last_voted_round = round;
  return data;
}

class SigningMarkTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(home_.path() / "keys"); }
  fs::path mark() const { return home_.path() / "keys" / "validator-signed"; }
  MarkingSafetyStore store(consensus::SafetyStore& inner, const std::string& chain = "chain-a") {
    return MarkingSafetyStore(inner, home_.path(), chain, key_);
  }

  testing::TempDir home_;
  PublicKey key_ = Signer::create(SecretKey::generate().value()).value().public_key();
};

// Before the fix the mark was written when the node opened, so a validator stopped before its
// first vote (Ctrl-C at start, or SIGTERM right after start) was refused on restart.
TEST_F(SigningMarkTest, NothingSaved_NoMarkAndRestartAllowed) {
  storage::MemorySafetyStore inner;
  {
    MarkingSafetyStore first = store(inner);
    ASSERT_TRUE(first.check().is_ok());
  }
  EXPECT_FALSE(fs::exists(mark()));
  MarkingSafetyStore second = store(inner);
  EXPECT_TRUE(second.check().is_ok());
}

TEST_F(SigningMarkTest, FirstSave_WritesTheMarkFirst) {
  storage::MemorySafetyStore inner;
  MarkingSafetyStore marking = store(inner);
  consensus::SafetyData data;
  data.last_voted_round = 3;
  ASSERT_TRUE(marking.save(data).is_ok());
  EXPECT_TRUE(fs::exists(mark()));
  EXPECT_EQ(testing::mode_of(mark()), 0600u);
  EXPECT_EQ(inner.save_count(), 1u);
  data.last_voted_round = 4;
  ASSERT_TRUE(marking.save(data).is_ok());
  EXPECT_EQ(inner.save_count(), 2u);
}

TEST_F(SigningMarkTest, MarkWithoutSafetyData_Refused) {
  {
    storage::MemorySafetyStore signed_before;
    MarkingSafetyStore marking = store(signed_before);
    ASSERT_TRUE(marking.save(voted(7)).is_ok());
  }
  storage::MemorySafetyStore fresh;  // the data directory was replaced
  const Status refused = store(fresh).check();
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("double signing"), std::string::npos) << refused.to_string();
  EXPECT_NE(refused.message().find(mark().string()), std::string::npos) << refused.to_string();
}

TEST_F(SigningMarkTest, MarkOfAnotherChain_DoesNotRefuseAndIsReplacedOnSave) {
  {
    storage::MemorySafetyStore other;
    MarkingSafetyStore marking = store(other, "chain-b");
    ASSERT_TRUE(marking.save(voted(7)).is_ok());
  }
  storage::MemorySafetyStore fresh;
  MarkingSafetyStore marking = store(fresh);
  EXPECT_TRUE(marking.check().is_ok());
  ASSERT_TRUE(marking.save(voted(1)).is_ok());
  EXPECT_NE(testing::read_text(mark()).find("chain-a"), std::string::npos);
}

TEST_F(SigningMarkTest, MarkCannotBeWritten_SaveFailsAndNothingIsSaved) {
  fs::remove_all(home_.path() / "keys");
  storage::MemorySafetyStore inner;
  MarkingSafetyStore marking = store(inner);
  const Status failed = marking.save(voted(1));
  EXPECT_EQ(failed.code(), StatusCode::kIoError) << failed.to_string();
  EXPECT_EQ(inner.save_count(), 0u);
}

}  // namespace
}  // namespace ledger::node
