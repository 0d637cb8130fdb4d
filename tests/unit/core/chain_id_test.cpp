// Chain id validation (chain_id.h): 1..50 characters of [A-Za-z0-9._-].
#include "ledger/core/chain_id.h"

#include <gtest/gtest.h>

#include <string>

namespace ledger {
namespace {

TEST(ChainId, AcceptsValidIds) {
  for (std::string_view id :
       {"a", "Z", "0", "ledgerd-dev", "mainnet-1", "test_net.v2", "A.b-C_d.9", "..", "-", "_"}) {
    Status s = validate_chain_id(id);
    EXPECT_TRUE(s.is_ok()) << id << ": " << s.to_string();
  }
}

TEST(ChainId, AcceptsEveryAllowedCharacter) {
  std::string all = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
  for (char c : all) {
    EXPECT_TRUE(validate_chain_id(std::string(1, c)).is_ok()) << c;
  }
}

TEST(ChainId, AcceptsExactlyFiftyCharacters) {
  EXPECT_TRUE(validate_chain_id(std::string(kChainIdBytesMax, 'x')).is_ok());
}

TEST(ChainId, RejectsEmpty) {
  Status s = validate_chain_id("");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("empty"), std::string::npos) << s.message();
}

TEST(ChainId, RejectsFiftyOneCharacters) {
  Status s = validate_chain_id(std::string(kChainIdBytesMax + 1, 'x'));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("51"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("50"), std::string::npos) << s.message();
}

TEST(ChainId, RejectsBadCharactersAndNamesThePosition) {
  struct Case {
    std::string id;
    std::size_t position;
  };
  const Case cases[] = {
      {"ledger dev", 6}, {"ledger/dev", 6},           {"!abc", 0},  {"abc:", 3}, {"caf\xc3\xa9", 3},
      {"a+b", 1},        {std::string("a\0b", 3), 1}, {"tab\t", 3},
  };
  for (const Case& c : cases) {
    Status s = validate_chain_id(c.id);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.id;
    EXPECT_NE(s.message().find("position " + std::to_string(c.position)), std::string::npos)
        << c.id << ": " << s.message();
  }
}

TEST(ChainId, NamesTheFirstBadCharacter) {
  Status s = validate_chain_id("ab cd!ef");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("position 2"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace ledger
