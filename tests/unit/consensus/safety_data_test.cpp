// The consensus safety data encoding (safety_data.h) and the in-memory safety store.
#include "ledger/consensus/safety_data.h"

#include <gtest/gtest.h>

#include <string>

#include "ledger/core/encoding.h"
#include "ledger/storage/memory_safety_store.h"
#include "support/test_keys.h"

namespace ledger::consensus {
namespace {

using ledger::testing::contains;

constexpr std::string_view kSafetyTag = "ledgerd/safety";
// Offsets in the encoding: tag (u8 length + 14 bytes), version, two u64 rounds, then flags.
constexpr std::size_t kVersionOffset = 1 + kSafetyTag.size();
constexpr std::size_t kVoteFlagOffset = kVersionOffset + 1 + 8 + 8;

Hash hash_of(std::string_view text) {
  return sha256(as_bytes(text));
}

PublicKey key_of(std::uint8_t b) {
  PublicKey k;
  k.bytes.fill(b);
  return k;
}

Vote sample_vote() {
  Vote v;
  v.data = {hash_of("block 9"), 9, hash_of("block 8"), 8};
  v.signer = key_of(0x21);
  v.signature.bytes.fill(0x77);
  return v;
}

Timeout sample_timeout() {
  Timeout t;
  t.round = 10;
  t.high_qc.data = {hash_of("block 8"), 8, hash_of("block 7"), 7};
  t.high_qc.signatures = {{key_of(0x01), {}}, {key_of(0x02), {}}, {key_of(0x03), {}}};
  t.signer = key_of(0x21);
  t.signature.bytes.fill(0x66);
  return t;
}

SafetyData full() {
  SafetyData d;
  d.last_voted_round = 10;
  d.one_chain_round = 8;
  d.last_vote = sample_vote();
  d.last_timeout = sample_timeout();
  d.one_chain_qc = sample_timeout().high_qc;  // round 8
  return d;
}

TEST(SafetyDataEncoding, RoundTripsWithoutVoteOrTimeout) {
  SafetyData d;
  d.last_voted_round = 5;
  d.one_chain_round = 3;
  Bytes bytes = encode_safety_data(d);
  EXPECT_EQ(bytes.size(), kVoteFlagOffset + 3);
  auto decoded = decode_safety_data(bytes);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, d);
  EXPECT_FALSE(decoded->last_vote.has_value());
  EXPECT_FALSE(decoded->last_timeout.has_value());
}

TEST(SafetyDataEncoding, RoundTripsDefault) {
  auto decoded = decode_safety_data(encode_safety_data(SafetyData{}));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, SafetyData{});
}

TEST(SafetyDataEncoding, RoundTripsWithVoteAndTimeout) {
  SafetyData d = full();
  auto decoded = decode_safety_data(encode_safety_data(d));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, d);
}

TEST(SafetyDataEncoding, RoundTripsWithOnlyVote) {
  SafetyData d = full();
  d.last_timeout.reset();
  auto decoded = decode_safety_data(encode_safety_data(d));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, d);
  EXPECT_FALSE(decoded->last_timeout.has_value());
}

TEST(SafetyDataEncoding, RoundTripsWithOnlyTimeout) {
  SafetyData d = full();
  d.last_vote.reset();
  auto decoded = decode_safety_data(encode_safety_data(d));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, d);
  EXPECT_FALSE(decoded->last_vote.has_value());
}

TEST(SafetyDataEncoding, RoundTripsMaximumRounds) {
  SafetyData d;
  d.last_voted_round = UINT64_MAX;
  d.one_chain_round = UINT64_MAX - 1;
  auto decoded = decode_safety_data(encode_safety_data(d));
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(*decoded, d);
}

TEST(SafetyDataEncoding, DecodeRejectsWrongTag) {
  Bytes bytes = encode_safety_data(full());
  bytes[1] = 'L';
  auto decoded = decode_safety_data(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "not a safety data")) << decoded.status().message();

  // Another domain's encoding is not safety data either.
  ByteWriter w;
  w.string8("ledgerd/vote").u8(1);
  EXPECT_EQ(decode_safety_data(w.data()).status().code(), StatusCode::kInvalidArgument);
}

TEST(SafetyDataEncoding, DecodeRejectsUnknownVersion) {
  for (std::uint8_t version : {0, 3}) {
    Bytes bytes = encode_safety_data(full());
    bytes[kVersionOffset] = version;
    auto decoded = decode_safety_data(bytes);
    ASSERT_FALSE(decoded.is_ok()) << int{version};
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(
        contains(decoded.status(), "unknown safety data version " + std::to_string(version)))
        << decoded.status().message();
  }
}

TEST(SafetyDataEncoding, DecodeRejectsVoteFlagTwo) {
  SafetyData d;
  Bytes bytes = encode_safety_data(d);
  bytes[kVoteFlagOffset] = 2;
  auto decoded = decode_safety_data(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "has last vote: must be 0 or 1"))
      << decoded.status().message();
}

TEST(SafetyDataEncoding, DecodeRejectsTimeoutFlagTwo) {
  SafetyData d;
  Bytes bytes = encode_safety_data(d);
  bytes[kVoteFlagOffset + 1] = 2;
  auto decoded = decode_safety_data(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "has last timeout: must be 0 or 1"))
      << decoded.status().message();
}

TEST(SafetyDataEncoding, DecodeRejectsEveryTruncation) {
  for (const SafetyData& d : {SafetyData{}, full()}) {
    Bytes bytes = encode_safety_data(d);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      auto decoded = decode_safety_data(ByteView(bytes.data(), n));
      ASSERT_FALSE(decoded.is_ok()) << "prefix of " << n << " bytes decoded";
      EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument) << n;
      EXPECT_TRUE(contains(decoded.status(), "truncated"))
          << n << ": " << decoded.status().message();
    }
  }
}

TEST(SafetyDataEncoding, DecodeRejectsTrailingBytes) {
  for (const SafetyData& d : {SafetyData{}, full()}) {
    Bytes bytes = encode_safety_data(d);
    bytes.push_back(0);
    auto decoded = decode_safety_data(bytes);
    ASSERT_FALSE(decoded.is_ok());
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(decoded.status(), "safety data: 1 trailing bytes"))
        << decoded.status().message();
  }
}

TEST(SafetyDataEncoding, DecodeRejectsCorruptEmbeddedVote) {
  SafetyData d = full();
  d.last_timeout.reset();
  Bytes bytes = encode_safety_data(d);
  bytes[kVoteFlagOffset + 1 + 4] = 9;  // the embedded vote's version byte
  auto decoded = decode_safety_data(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "unknown version 9")) << decoded.status().message();
}

TEST(SafetyDataEncoding, DecodeRejectsEmbeddedVoteWithTrailingBytes) {
  ByteWriter w;
  Bytes vote = encode_vote(sample_vote());
  vote.push_back(0);
  w.string8(kSafetyTag).u8(1).u64(9).u64(8).u8(1).bytes32(vote).u8(0);
  auto decoded = decode_safety_data(w.data());
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_TRUE(contains(decoded.status(), "vote: 1 trailing bytes")) << decoded.status().message();
}

TEST(SafetyDataEncoding, LayoutIsTaggedVersionedAndBigEndian) {
  SafetyData d;
  d.last_voted_round = 0x0102;
  d.one_chain_round = 0x03;
  ByteWriter w;
  w.string8(kSafetyTag).u8(2).u64(0x0102).u64(0x03).u8(0).u8(0).u8(0);
  EXPECT_EQ(encode_safety_data(d), w.data());
}

// Version 1 (before one_chain_qc) is still read: a node upgraded in place keeps its data.
TEST(SafetyDataEncoding, DecodeRejectsOneChainQcOfAnotherRound) {
  SafetyData d = full();
  d.one_chain_round = 7;
  auto decoded = decode_safety_data(encode_safety_data(d));
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_TRUE(contains(decoded.status(), "is not the one chain round"))
      << decoded.status().message();
}

TEST(SafetyDataEncoding, DecodesVersionOne) {
  ByteWriter w;
  w.string8(kSafetyTag).u8(1).u64(0x0102).u64(0x03).u8(0).u8(0);
  auto decoded = decode_safety_data(w.data());
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->last_voted_round, 0x0102u);
  EXPECT_EQ(decoded->one_chain_round, 0x03u);
  EXPECT_FALSE(decoded->one_chain_qc.has_value());
}

TEST(SafetyDataMemoryStore, LoadBeforeSaveReturnsNullopt) {
  storage::MemorySafetyStore store;
  auto loaded = store.load();
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_FALSE(loaded->has_value());
  EXPECT_EQ(store.save_count(), 0u);
}

TEST(SafetyDataMemoryStore, SaveThenLoadRoundTrips) {
  storage::MemorySafetyStore store;
  SafetyData d = full();
  ASSERT_TRUE(store.save(d).is_ok());
  auto loaded = store.load();
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, d);
  EXPECT_EQ(store.save_count(), 1u);
}

TEST(SafetyDataMemoryStore, LaterSaveReplacesEarlier) {
  storage::MemorySafetyStore store;
  ASSERT_TRUE(store.save(full()).is_ok());
  SafetyData newer;
  newer.last_voted_round = 11;
  newer.one_chain_round = 9;
  ASSERT_TRUE(store.save(newer).is_ok());
  auto loaded = store.load();
  ASSERT_TRUE(loaded.is_ok());
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, newer);
  EXPECT_FALSE((*loaded)->last_vote.has_value());
  EXPECT_EQ(store.save_count(), 2u);
}

TEST(SafetyDataMemoryStore, LoadIsRepeatable) {
  storage::MemorySafetyStore store;
  ASSERT_TRUE(store.save(full()).is_ok());
  auto first = store.load();
  auto second = store.load();
  ASSERT_TRUE(first.is_ok());
  ASSERT_TRUE(second.is_ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(store.save_count(), 1u);
}

}  // namespace
}  // namespace ledger::consensus
