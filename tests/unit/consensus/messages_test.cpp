// Canonical encodings of the consensus wire messages: round trips and strict decoding.
#include "ledger/consensus/messages.h"

#include <gtest/gtest.h>

#include "consensus_test_util.h"

namespace ledger::consensus {
namespace {

using testing::TestChain;

class MessagesTest : public ::testing::Test {
 protected:
  TestChain c_;
  Block b1_ = c_.block(c_.genesis(), 1, c_.gqc());
  MessageLimits limits_;

  void expect_round_trip(const Message& m) {
    Bytes bytes = encode_message(m);
    auto decoded = decode_message(bytes, limits_);
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    EXPECT_EQ(decoded.value(), m);
    EXPECT_EQ(encode_message(decoded.value()), bytes);  // one encoding per value
  }
};

TEST_F(MessagesTest, Messages_EveryKindRoundTrips) {
  expect_round_trip(c_.proposal(b1_));
  Block b3 = c_.block(b1_, 3, c_.qc(b1_));
  expect_round_trip(c_.proposal(b3, c_.tc(2, c_.qc(b1_))));
  expect_round_trip(c_.vote(0, b1_));
  expect_round_trip(TimeoutMessage{c_.timeout(1, 4, c_.gqc()), c_.tc(3, c_.gqc())});
  expect_round_trip(TimeoutMessage{c_.timeout(1, 1, c_.gqc()), std::nullopt});
  expect_round_trip(c_.tc(2, c_.qc(b1_)));
  expect_round_trip(BlockRequest{b1_.id(), 10});
  expect_round_trip(BlockResponse{{b1_, c_.genesis()}});
  expect_round_trip(BlockResponse{});
}

TEST_F(MessagesTest, Messages_DecoderRejectsTrailingBytes) {
  Bytes bytes = encode_message(c_.vote(0, b1_));
  bytes.push_back(0);
  EXPECT_FALSE(decode_message(bytes, limits_).is_ok());
}

TEST_F(MessagesTest, Messages_DecoderRejectsUnknownKindAndVersion) {
  Bytes bytes = encode_message(c_.vote(0, b1_));
  const std::size_t version_at = 1 + kMessageTag.size();
  Bytes bad_kind = bytes;
  bad_kind[version_at + 1] = 99;
  EXPECT_FALSE(decode_message(bad_kind, limits_).is_ok());
  Bytes bad_version = bytes;
  bad_version[version_at] = 2;
  EXPECT_FALSE(decode_message(bad_version, limits_).is_ok());
}

TEST_F(MessagesTest, Messages_DecoderEnforcesBounds) {
  limits_.fetch_blocks_max = 1;
  EXPECT_FALSE(decode_message(encode_message(BlockRequest{b1_.id(), 2}), limits_).is_ok());
  EXPECT_FALSE(decode_message(encode_message(BlockRequest{b1_.id(), 0}), limits_).is_ok());
  EXPECT_FALSE(decode_message(encode_message(BlockResponse{{b1_, c_.genesis()}}), limits_).is_ok());
  limits_.message_bytes_max = 10;
  EXPECT_FALSE(decode_message(encode_message(c_.vote(0, b1_)), limits_).is_ok());
}

TEST_F(MessagesTest, Messages_DecoderRejectsTruncation) {
  Bytes bytes = encode_message(c_.proposal(b1_));
  for (std::size_t n : {std::size_t{0}, std::size_t{5}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_FALSE(decode_message(ByteView(bytes.data(), n), limits_).is_ok()) << n;
  }
}

TEST_F(MessagesTest, Messages_ProposalSigningHashBindsChainAndBlock) {
  EXPECT_NE(proposal_signing_hash("chain-a", b1_.id(), std::nullopt),
            proposal_signing_hash("chain-b", b1_.id(), std::nullopt));
  EXPECT_NE(proposal_signing_hash("chain-a", b1_.id(), std::nullopt),
            proposal_signing_hash("chain-a", c_.genesis().id(), std::nullopt));
}

}  // namespace
}  // namespace ledger::consensus
