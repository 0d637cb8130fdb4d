// Hex encoding of byte strings (bytes.h) and of hashes (hash.h).
#include <gtest/gtest.h>

#include <string>

#include "ledger/core/bytes.h"
#include "ledger/core/hash.h"

namespace ledger {
namespace {

TEST(Hex, EncodesLowercaseTwoCharactersPerByte) {
  Bytes bytes = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
  EXPECT_EQ(to_hex(bytes), "00017f80abff");
  EXPECT_EQ(to_hex(Bytes{}), "");
}

TEST(Hex, RoundTripsEveryByteValue) {
  Bytes all(256);
  for (int i = 0; i < 256; ++i)
    all[i] = static_cast<std::uint8_t>(i);
  std::string hex = to_hex(all);
  ASSERT_EQ(hex.size(), 512u);
  auto back = from_hex(hex);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, all);
}

TEST(Hex, DecodesEmptyString) {
  auto bytes = from_hex("");
  ASSERT_TRUE(bytes.is_ok());
  EXPECT_TRUE(bytes->empty());
}

TEST(Hex, DecodesEitherCase) {
  auto lower = from_hex("abcdef");
  auto upper = from_hex("ABCDEF");
  auto mixed = from_hex("aBcDeF");
  ASSERT_TRUE(lower.is_ok());
  ASSERT_TRUE(upper.is_ok());
  ASSERT_TRUE(mixed.is_ok());
  EXPECT_EQ(*lower, (Bytes{0xab, 0xcd, 0xef}));
  EXPECT_EQ(*upper, *lower);
  EXPECT_EQ(*mixed, *lower);
}

TEST(Hex, RejectsOddLength) {
  for (std::string_view odd : {"0", "abc", "00112"}) {
    auto bytes = from_hex(odd);
    ASSERT_FALSE(bytes.is_ok()) << odd;
    EXPECT_EQ(bytes.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(bytes.status().message().find("odd length"), std::string::npos)
        << bytes.status().message();
  }
}

TEST(Hex, RejectsBadCharacterAndNamesItsPosition) {
  struct Case {
    std::string_view hex;
    std::size_t position;
  };
  const Case cases[] = {{"g0", 0},   {"0g", 1},   {"0011zz", 4}, {"00112 ", 5},
                        {"0x12", 1}, {"ab-d", 2}, {"abc\xff", 3}};
  for (const Case& c : cases) {
    auto bytes = from_hex(c.hex);
    ASSERT_FALSE(bytes.is_ok()) << c.hex;
    EXPECT_EQ(bytes.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(bytes.status().message().find("position " + std::to_string(c.position)),
              std::string::npos)
        << c.hex << ": " << bytes.status().message();
  }
}

TEST(HexFixed, DecodesExactLength) {
  auto fixed = from_hex_fixed<3>("0a0b0c");
  ASSERT_TRUE(fixed.is_ok());
  EXPECT_EQ(*fixed, (std::array<std::uint8_t, 3>{0x0a, 0x0b, 0x0c}));
}

TEST(HexFixed, RejectsWrongLength) {
  for (std::string_view hex : {"", "0a0b", "0a0b0c0d", "0a0b0"}) {
    auto fixed = from_hex_fixed<3>(hex);
    ASSERT_FALSE(fixed.is_ok()) << hex;
    EXPECT_EQ(fixed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(fixed.status().message().find("expected 6 hex characters"), std::string::npos)
        << fixed.status().message();
  }
}

TEST(HexFixed, RejectsBadCharacterOfRightLength) {
  auto fixed = from_hex_fixed<3>("0a0b0z");
  ASSERT_FALSE(fixed.is_ok());
  EXPECT_EQ(fixed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(fixed.status().message().find("position 5"), std::string::npos);
}

TEST(HashHex, RoundTrips) {
  Hash h = sha256(as_bytes("abc"));
  EXPECT_EQ(h.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto back = Hash::from_hex(h.hex());
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, h);
}

TEST(HashHex, RejectsWrongLength) {
  const std::string good(64, 'a');
  for (const std::string& hex : {good.substr(0, 62), good + "aa", std::string()}) {
    auto h = Hash::from_hex(hex);
    ASSERT_FALSE(h.is_ok()) << hex;
    EXPECT_EQ(h.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(HashHex, RejectsBadCharacter) {
  std::string hex(64, '0');
  hex[10] = 'q';
  auto h = Hash::from_hex(hex);
  ASSERT_FALSE(h.is_ok());
  EXPECT_EQ(h.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(h.status().message().find("position 10"), std::string::npos);
}

TEST(HashHex, ZeroHashIsZero) {
  auto h = Hash::from_hex(std::string(64, '0'));
  ASSERT_TRUE(h.is_ok());
  EXPECT_TRUE(h->is_zero());
  EXPECT_FALSE(sha256({}).is_zero());
}

}  // namespace
}  // namespace ledger
