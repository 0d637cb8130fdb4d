// Encrypted frames (frame_cipher.h): one test per rule of docs/p2p.md "Frames".
#include "ledger/node/p2p/frame_cipher.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ledger::node::p2p {
namespace {

constexpr std::uint64_t kMax = 1024;

SymmetricKey key_filled(std::uint8_t value) {
  SymmetricKey key;
  key.fill(value);
  return key;
}

ByteView header_of(const Bytes& frame) {
  return ByteView(frame).first(kFrameHeaderBytes);
}
ByteView body_of(const Bytes& frame) {
  return ByteView(frame).subspan(kFrameHeaderBytes);
}

bool has(const Status& status, std::string_view text) {
  return status.message().find(text) != std::string::npos;
}

Bytes bytes_of(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

TEST(FrameCipher, RoundTripsManyFramesInOrder) {
  FrameSealer sealer(key_filled(1));
  FrameOpener opener(key_filled(1), kMax);
  for (int i = 0; i < 200; ++i) {
    const Bytes payload(static_cast<std::size_t>(i * 5 % (kMax + 1)), static_cast<std::uint8_t>(i));
    const Bytes frame = sealer.seal(payload);
    ASSERT_EQ(frame.size(), payload.size() + kFrameOverheadBytes);
    auto length = opener.open_header(header_of(frame));
    ASSERT_TRUE(length.is_ok());
    EXPECT_EQ(*length, payload.size() + kFrameTagBytes);
    auto opened = opener.open(header_of(frame), body_of(frame));
    ASSERT_TRUE(opened.is_ok()) << i << ": " << opened.status().to_string();
    EXPECT_EQ(*opened, payload);
  }
  EXPECT_EQ(sealer.counter(), 200u);
  EXPECT_EQ(opener.counter(), 200u);
}

TEST(FrameCipher, EmptyPayloadIsAFrame) {
  FrameSealer sealer(key_filled(1));
  FrameOpener opener(key_filled(1), kMax);
  const Bytes frame = sealer.seal({});
  EXPECT_EQ(frame.size(), kFrameOverheadBytes);
  auto opened = opener.open(header_of(frame), body_of(frame));
  ASSERT_TRUE(opened.is_ok());
  EXPECT_TRUE(opened->empty());
}

TEST(FrameCipher, SealIntoAppendsFrames) {
  FrameSealer batch(key_filled(3));
  FrameSealer single(key_filled(3));
  Bytes out;
  batch.seal_into(as_bytes("one"), out);
  batch.seal_into(as_bytes("two"), out);
  Bytes expected = single.seal(as_bytes("one"));
  const Bytes second = single.seal(as_bytes("two"));
  expected.insert(expected.end(), second.begin(), second.end());
  EXPECT_EQ(out, expected);
}

TEST(FrameCipher, NonceIsFourZeroBytesThenBigEndianCounter) {
  const auto nonce = frame_nonce(0x0102030405060708ull);
  EXPECT_EQ(to_hex(nonce), "000000000102030405060708");
}

TEST(FrameCipher, TamperedCiphertextFailsAuthentication) {
  FrameSealer sealer(key_filled(1));
  FrameOpener opener(key_filled(1), kMax);
  Bytes frame = sealer.seal(as_bytes("payload"));
  frame[kFrameHeaderBytes + 2] ^= 0x40;
  auto opened = opener.open(header_of(frame), body_of(frame));
  ASSERT_FALSE(opened.is_ok());
  EXPECT_TRUE(has(opened.status(), "frame authentication failed"));
}

TEST(FrameCipher, TamperedTagFailsAuthentication) {
  FrameSealer sealer(key_filled(1));
  FrameOpener opener(key_filled(1), kMax);
  Bytes frame = sealer.seal(as_bytes("payload"));
  frame.back() ^= 1;
  EXPECT_FALSE(opener.open(header_of(frame), body_of(frame)).is_ok());
}

TEST(FrameCipher, LengthIsAuthenticated) {
  // A frame cut short with its header rewritten to match: the header is the AAD.
  FrameSealer sealer(key_filled(1));
  FrameOpener opener(key_filled(1), kMax);
  Bytes frame = sealer.seal(as_bytes("payload!"));
  frame.erase(frame.begin() + kFrameHeaderBytes, frame.begin() + kFrameHeaderBytes + 1);
  frame[3] -= 1;
  auto opened = opener.open(header_of(frame), body_of(frame));
  ASSERT_FALSE(opened.is_ok());
  EXPECT_TRUE(has(opened.status(), "frame authentication failed"));
}

TEST(FrameCipher, WrongKeyFailsAuthentication) {
  FrameSealer sealer(key_filled(1));
  FrameOpener opener(key_filled(2), kMax);
  const Bytes frame = sealer.seal(as_bytes("payload"));
  EXPECT_FALSE(opener.open(header_of(frame), body_of(frame)).is_ok());
}

TEST(FrameCipher, ReplayedFrameFailsAndCounterDoesNotAdvance) {
  FrameSealer sealer(key_filled(1));
  FrameOpener opener(key_filled(1), kMax);
  const Bytes first = sealer.seal(as_bytes("first"));
  const Bytes second = sealer.seal(as_bytes("second"));
  ASSERT_TRUE(opener.open(header_of(first), body_of(first)).is_ok());
  auto replay = opener.open(header_of(first), body_of(first));
  ASSERT_FALSE(replay.is_ok());
  EXPECT_TRUE(has(replay.status(), "frame authentication failed"));
  EXPECT_EQ(opener.counter(), 1u);
  auto next = opener.open(header_of(second), body_of(second));
  ASSERT_TRUE(next.is_ok());
  EXPECT_EQ(*next, bytes_of("second"));
}

TEST(FrameCipher, ReorderedFrameFails) {
  FrameSealer sealer(key_filled(1));
  FrameOpener opener(key_filled(1), kMax);
  const Bytes first = sealer.seal(as_bytes("first"));
  const Bytes second = sealer.seal(as_bytes("second"));
  EXPECT_FALSE(opener.open(header_of(second), body_of(second)).is_ok());
  EXPECT_TRUE(opener.open(header_of(first), body_of(first)).is_ok());
}

TEST(FrameCipher, DirectionKeysDoNotOpenEachOther) {
  // A frame reflected back to its sender does not open under the sender's receive key.
  FrameSealer a_to_b(key_filled(1));
  FrameOpener a_from_b(key_filled(2), kMax);
  const Bytes frame = a_to_b.seal(as_bytes("reflected"));
  EXPECT_FALSE(a_from_b.open(header_of(frame), body_of(frame)).is_ok());
}

TEST(FrameCipher, Header_RejectsOversizedBeforeBody) {
  FrameOpener opener(key_filled(1), kMax);
  const std::uint32_t limit = kMax + kFrameTagBytes;
  auto at_limit = opener.open_header(std::array<std::uint8_t, 4>{0, 0, 0x04, 0x10});
  ASSERT_TRUE(at_limit.is_ok());
  EXPECT_EQ(*at_limit, limit);
  auto over = opener.open_header(std::array<std::uint8_t, 4>{0, 0, 0x04, 0x11});
  ASSERT_FALSE(over.is_ok());
  EXPECT_TRUE(has(over.status(), "oversized frame: 1041 bytes, limit 1040"))
      << over.status().message();
  auto huge = opener.open_header(std::array<std::uint8_t, 4>{0xff, 0xff, 0xff, 0xff});
  ASSERT_FALSE(huge.is_ok());
  EXPECT_TRUE(has(huge.status(), "oversized frame: 4294967295 bytes"));
}

TEST(FrameCipher, Header_RejectsFrameShorterThanTag) {
  FrameOpener opener(key_filled(1), kMax);
  auto short_frame = opener.open_header(std::array<std::uint8_t, 4>{0, 0, 0, 15});
  ASSERT_FALSE(short_frame.is_ok());
  EXPECT_TRUE(has(short_frame.status(), "short frame: 15 bytes"));
  const Bytes header{0, 0, 0, 15};
  const Bytes body(15, 0);
  EXPECT_FALSE(opener.open(header, body).is_ok());
}

TEST(FrameCipher, Open_RejectsBodyOfOtherLengthThanHeader) {
  FrameSealer sealer(key_filled(1));
  FrameOpener opener(key_filled(1), kMax);
  Bytes frame = sealer.seal(as_bytes("payload"));
  frame.push_back(0);
  EXPECT_FALSE(opener.open(header_of(frame), body_of(frame)).is_ok());
}

TEST(FrameCipher, SealerReportsExhaustionBeforeTheCounterWraps) {
  FrameSealer sealer(key_filled(1), kFrameCounterLast - 1);
  EXPECT_FALSE(sealer.exhausted());
  const Bytes frame = sealer.seal(as_bytes("last"));
  EXPECT_TRUE(sealer.exhausted());
  FrameOpener opener(key_filled(1), kMax, kFrameCounterLast - 1);
  ASSERT_TRUE(opener.open(header_of(frame), body_of(frame)).is_ok());
  // A peer that kept going would have to reuse a nonce; the opener refuses first.
  auto next = opener.open(header_of(frame), body_of(frame));
  ASSERT_FALSE(next.is_ok());
  EXPECT_TRUE(has(next.status(), "frame counter exhausted"));
}

}  // namespace
}  // namespace ledger::node::p2p
