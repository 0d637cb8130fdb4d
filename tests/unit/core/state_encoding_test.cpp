// Stored encodings of account state and block results (state.h).
#include <gtest/gtest.h>

#include <string>

#include "ledger/core/encoding.h"
#include "ledger/core/state.h"
#include "support/test_keys.h"

namespace ledger {
namespace {

using ledger::testing::contains;

TEST(AccountEncoding, IsBalanceThenNonceBigEndian) {
  Account a{0x0102030405060708ULL, 0x1112131415161718ULL};
  EXPECT_EQ(to_hex(encode_account(a)), "01020304050607081112131415161718");
}

TEST(AccountEncoding, RoundTrips) {
  for (const Account& a : {Account{}, Account{1, 0}, Account{0, 1}, Account{UINT64_MAX, UINT64_MAX},
                           Account{1'000'000, 42}}) {
    Bytes bytes = encode_account(a);
    EXPECT_EQ(bytes.size(), 16u);
    auto decoded = decode_account(bytes);
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    EXPECT_EQ(*decoded, a);
  }
}

TEST(AccountEncoding, DecodeRequiresExactlySixteenBytes) {
  Bytes bytes = encode_account({7, 9});
  for (std::size_t n = 0; n < 16; ++n) {
    auto decoded = decode_account(ByteView(bytes.data(), n));
    ASSERT_FALSE(decoded.is_ok()) << n;
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(decoded.status(), "truncated")) << decoded.status().message();
  }
  bytes.push_back(0);
  auto decoded = decode_account(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "account: 1 trailing bytes"))
      << decoded.status().message();
}

TEST(AccountEncoding, EmptyAccountIsZeroBalanceAndNonce) {
  EXPECT_TRUE(Account{}.is_empty());
  EXPECT_FALSE((Account{1, 0}).is_empty());
  EXPECT_FALSE((Account{0, 1}).is_empty());
}

BlockResults sample_results() {
  BlockResults r;
  r.codes = {TxResultCode::kSuccess,           TxResultCode::kBadNonce,
             TxResultCode::kInsufficientFunds, TxResultCode::kBalanceOverflow,
             TxResultCode::kNonceExhausted,    TxResultCode::kWrongChainId,
             TxResultCode::kBadSignature};
  r.state_root = sha256(as_bytes("state"));
  return r;
}

TEST(BlockResultsEncoding, RoundTrips) {
  BlockResults r = sample_results();
  Bytes bytes = encode_block_results(r);
  EXPECT_EQ(bytes.size(), 1u + 4 + r.codes.size() + 32);
  auto decoded = decode_block_results(bytes);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, r);
}

TEST(BlockResultsEncoding, RoundTripsEmpty) {
  BlockResults r;
  r.state_root = sha256(as_bytes("empty"));
  auto decoded = decode_block_results(encode_block_results(r));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, r);
}

TEST(BlockResultsEncoding, CodesAreStable) {
  EXPECT_EQ(static_cast<int>(TxResultCode::kSuccess), 0);
  EXPECT_EQ(static_cast<int>(TxResultCode::kBadSignature), 6);
  EXPECT_STREQ(tx_result_name(TxResultCode::kInsufficientFunds), "insufficient_funds");
  for (int v = 0; v <= 6; ++v)
    EXPECT_TRUE(is_known_tx_result(static_cast<std::uint8_t>(v))) << v;
  for (int v = 7; v <= 255; ++v)
    EXPECT_FALSE(is_known_tx_result(static_cast<std::uint8_t>(v))) << v;
}

TEST(BlockResultsEncoding, DecodeRejectsUnknownCode) {
  BlockResults r = sample_results();
  Bytes bytes = encode_block_results(r);
  bytes[1 + 4 + 3] = 7;  // fourth code
  auto decoded = decode_block_results(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "unknown result code 7 at index 3"))
      << decoded.status().message();

  bytes[1 + 4 + 3] = 0xff;
  EXPECT_EQ(decode_block_results(bytes).status().code(), StatusCode::kInvalidArgument);
}

TEST(BlockResultsEncoding, DecodeRejectsUnknownVersion) {
  Bytes bytes = encode_block_results(sample_results());
  bytes[0] = 2;
  auto decoded = decode_block_results(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_TRUE(contains(decoded.status(), "unknown block results version 2"))
      << decoded.status().message();
}

// The count is checked against the bytes present before anything is reserved for it.
TEST(BlockResultsEncoding, DecodeRejectsCountLargerThanRemainingBytes) {
  ByteWriter w;
  w.u8(1).u32(0xffffffffu).raw(Bytes(32, 0));
  auto decoded = decode_block_results(w.data());
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "result count 4294967295 exceeds the remaining bytes"))
      << decoded.status().message();

  ByteWriter off_by_one;
  off_by_one.u8(1).u32(3).raw(Bytes(2, 0));
  EXPECT_EQ(decode_block_results(off_by_one.data()).status().code(), StatusCode::kInvalidArgument);
}

TEST(BlockResultsEncoding, DecodeRejectsEveryTruncation) {
  Bytes bytes = encode_block_results(sample_results());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto decoded = decode_block_results(ByteView(bytes.data(), n));
    ASSERT_FALSE(decoded.is_ok()) << n;
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument) << n;
  }
}

TEST(BlockResultsEncoding, DecodeRejectsTrailingBytes) {
  Bytes bytes = encode_block_results(sample_results());
  bytes.push_back(0);
  auto decoded = decode_block_results(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "block results: 1 trailing bytes"))
      << decoded.status().message();
}

}  // namespace
}  // namespace ledger
