// The canonical binary encoding (encoding.h): big-endian integers, length-prefixed strings,
// domain tags, and a reader that never reads past its input.
#include "ledger/core/encoding.h"

#include <gtest/gtest.h>

#include <string>
#include "support/test_keys.h"

namespace ledger {
namespace {

using ledger::testing::contains;

TEST(ByteWriter, WritesIntegersBigEndian) {
  ByteWriter w;
  w.u8(0x01).u16(0x0203).u32(0x04050607).u64(0x08090a0b0c0d0e0fULL);
  EXPECT_EQ(to_hex(w.data()), "0102030405060708090a0b0c0d0e0f");
}

TEST(ByteWriter, WritesLengthPrefixes) {
  ByteWriter w;
  Bytes payload = {0xaa, 0xbb};
  w.string8("hi").bytes16(payload).bytes32(payload).raw(payload);
  EXPECT_EQ(to_hex(w.data()),
            "02"
            "6869"
            "0002aabb"
            "00000002aabb"
            "aabb");
}

TEST(ByteWriter, WritesFixedArrayWithoutPrefix) {
  ByteWriter w;
  w.fixed(std::array<std::uint8_t, 3>{1, 2, 3});
  EXPECT_EQ(to_hex(w.data()), "010203");
}

TEST(ByteReader, ReadsBackWhatTheWriterWrote) {
  ByteWriter w;
  w.u8(0xfe)
      .u16(0xfedc)
      .u32(0xfedcba98u)
      .u64(0xfedcba9876543210ULL)
      .string8("ledger")
      .bytes16(Bytes{1, 2, 3})
      .bytes32(Bytes{4, 5})
      .fixed(std::array<std::uint8_t, 2>{6, 7})
      .bytes32(Bytes{8, 9, 10});
  Bytes bytes = std::move(w).take();

  ByteReader r(bytes);
  std::uint8_t a = 0;
  std::uint16_t b = 0;
  std::uint32_t c = 0;
  std::uint64_t d = 0;
  std::string s;
  Bytes b16, b32;
  std::array<std::uint8_t, 2> fixed{};
  ByteView view;
  ASSERT_TRUE(r.u8("a", a).is_ok());
  ASSERT_TRUE(r.u16("b", b).is_ok());
  ASSERT_TRUE(r.u32("c", c).is_ok());
  ASSERT_TRUE(r.u64("d", d).is_ok());
  ASSERT_TRUE(r.string8("s", s).is_ok());
  ASSERT_TRUE(r.bytes16("b16", 16, b16).is_ok());
  ASSERT_TRUE(r.bytes32("b32", 16, b32).is_ok());
  ASSERT_TRUE(r.fixed("fixed", fixed).is_ok());
  ASSERT_TRUE(r.view32("view", 16, view).is_ok());
  EXPECT_EQ(a, 0xfe);
  EXPECT_EQ(b, 0xfedc);
  EXPECT_EQ(c, 0xfedcba98u);
  EXPECT_EQ(d, 0xfedcba9876543210ULL);
  EXPECT_EQ(s, "ledger");
  EXPECT_EQ(b16, (Bytes{1, 2, 3}));
  EXPECT_EQ(b32, (Bytes{4, 5}));
  EXPECT_EQ(fixed, (std::array<std::uint8_t, 2>{6, 7}));
  EXPECT_EQ(Bytes(view.begin(), view.end()), (Bytes{8, 9, 10}));
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.offset(), bytes.size());
  EXPECT_TRUE(r.finish("test").is_ok());
}

TEST(ByteReader, ViewPointsIntoTheInput) {
  Bytes bytes = {0, 0, 0, 2, 0xaa, 0xbb};
  ByteReader r(bytes);
  ByteView view;
  ASSERT_TRUE(r.view32("v", 2, view).is_ok());
  EXPECT_EQ(view.data(), bytes.data() + 4);
  EXPECT_EQ(view.size(), 2u);
}

TEST(ByteReader, TruncatedIntegerNamesTheField) {
  Bytes bytes = {1, 2, 3};
  {
    ByteReader r(bytes);
    std::uint32_t v = 0;
    Status s = r.u32("height", v);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(s, "height: truncated")) << s.message();
  }
  {
    ByteReader r(bytes);
    std::uint64_t v = 0;
    Status s = r.u64("amount", v);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(s, "amount: truncated")) << s.message();
  }
  {
    ByteReader r(Bytes{1});
    std::uint16_t v = 0;
    Status s = r.u16("count", v);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(s, "count: truncated")) << s.message();
  }
  {
    ByteReader r(ByteView{});
    std::uint8_t v = 0;
    Status s = r.u8("flag", v);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(s, "flag: truncated")) << s.message();
  }
}

TEST(ByteReader, TruncationMessageGivesOffsetAndSizes) {
  Bytes bytes = {1, 2, 3};
  ByteReader r(bytes);
  std::uint8_t first = 0;
  ASSERT_TRUE(r.u8("first", first).is_ok());
  std::uint32_t v = 0;
  Status s = r.u32("second", v);
  EXPECT_TRUE(contains(s, "second: truncated at byte 1 (need 4, have 2)")) << s.message();
}

TEST(ByteReader, TruncatedFixedNamesTheField) {
  Bytes bytes(31, 0);
  ByteReader r(bytes);
  std::array<std::uint8_t, 32> out{};
  Status s = r.fixed("sender", out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "sender: truncated")) << s.message();
}

TEST(ByteReader, TruncatedStringBodyNamesTheField) {
  Bytes bytes = {5, 'a', 'b'};
  ByteReader r(bytes);
  std::string out;
  Status s = r.string8("chain id", out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "chain id: truncated")) << s.message();
}

TEST(ByteReader, TruncatedBytesBodyNamesTheField) {
  Bytes b16 = {0, 3, 1, 2};
  ByteReader r16(b16);
  Bytes out;
  Status s = r16.bytes16("memo", 100, out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "memo: truncated")) << s.message();

  Bytes b32 = {0, 0, 0, 3, 1, 2};
  ByteReader r32(b32);
  s = r32.bytes32("payload", 100, out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "payload: truncated")) << s.message();
}

// The declared length is compared with the limit before any body is read, so a huge declared
// length is refused as too long rather than as truncated (and nothing is allocated for it).
TEST(ByteReader, Bytes16LimitEnforcedBeforeReading) {
  Bytes bytes = {0x01, 0x01};  // declares 257 bytes, carries none
  ByteReader r(bytes);
  Bytes out;
  Status s = r.bytes16("memo", 256, out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "memo: length 257 exceeds the limit of 256")) << s.message();
  EXPECT_TRUE(out.empty());
}

TEST(ByteReader, Bytes32LimitEnforcedBeforeReading) {
  Bytes bytes = {0xff, 0xff, 0xff, 0xff};  // declares 4 GiB, carries none
  ByteReader r(bytes);
  Bytes out;
  Status s = r.bytes32("blob", 1024, out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "blob: length 4294967295 exceeds the limit of 1024")) << s.message();
  EXPECT_TRUE(out.empty());

  ByteReader r2(bytes);
  ByteView view;
  s = r2.view32("view", 1024, view);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "view: length 4294967295 exceeds the limit of 1024")) << s.message();
}

TEST(ByteReader, BytesAtExactlyTheLimitAccepted) {
  ByteWriter w;
  w.bytes16(Bytes(256, 7)).bytes32(Bytes(10, 8));
  Bytes bytes = std::move(w).take();
  ByteReader r(bytes);
  Bytes a, b;
  ASSERT_TRUE(r.bytes16("a", 256, a).is_ok());
  ASSERT_TRUE(r.bytes32("b", 10, b).is_ok());
  EXPECT_EQ(a.size(), 256u);
  EXPECT_EQ(b.size(), 10u);
  EXPECT_TRUE(r.finish("test").is_ok());
}

TEST(ByteReader, ExpectTagAcceptsMatchingTag) {
  ByteWriter w;
  w.string8("ledgerd/vote");
  ByteReader r(w.data());
  EXPECT_TRUE(r.expect_tag("vote", "ledgerd/vote").is_ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteReader, ExpectTagMismatchNamesBothTags) {
  ByteWriter w;
  w.string8("ledgerd/vote");
  ByteReader r(w.data());
  Status s = r.expect_tag("block header", "ledgerd/block");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      contains(s, "not a block header: domain tag is 'ledgerd/vote', expected 'ledgerd/block'"))
      << s.message();
}

TEST(ByteReader, ExpectTagRejectsPrefixOfTag) {
  ByteWriter w;
  w.string8("ledgerd/bloc").u8('k');
  ByteReader r(w.data());
  Status s = r.expect_tag("block header", "ledgerd/block");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST(ByteReader, ExpectTagOnTruncatedInputFails) {
  Bytes bytes = {13, 'l', 'e'};
  ByteReader r(bytes);
  Status s = r.expect_tag("block header", "ledgerd/block");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "truncated")) << s.message();
}

TEST(ByteReader, FinishRejectsTrailingBytes) {
  Bytes bytes = {1, 2, 3};
  ByteReader r(bytes);
  std::uint8_t v = 0;
  ASSERT_TRUE(r.u8("v", v).is_ok());
  Status s = r.finish("thing");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "thing: 2 trailing bytes after offset 1")) << s.message();
}

TEST(ByteReader, FinishAcceptsEmptyInput) {
  ByteReader r(ByteView{});
  EXPECT_TRUE(r.finish("nothing").is_ok());
}

TEST(ByteReader, FailedReadDoesNotAdvance) {
  Bytes bytes = {1, 2, 3};
  ByteReader r(bytes);
  std::uint32_t v = 0;
  ASSERT_FALSE(r.u32("v", v).is_ok());
  EXPECT_EQ(r.offset(), 0u);
  EXPECT_EQ(r.remaining(), 3u);
}

}  // namespace
}  // namespace ledger
