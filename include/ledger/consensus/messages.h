// The consensus wire messages (DESIGN.md section 3) and their canonical encodings.
//
// Every message travels as:
//   tag "ledgerd/consensus-msg" (string8), version u8 = 1, kind u8, then the body of that kind:
//   kProposal       bytes32 block (encode_block), u8 has_tc, [bytes32 TC], signature (64 bytes)
//   kVote           bytes32 vote (encode_vote)
//   kTimeout        bytes32 timeout (encode_timeout), u8 has_high_tc, [bytes32 TC]
//   kTimeoutCert    bytes32 TC (encode_tc)
//   kBlockRequest   block id (32 bytes), u32 count (1..fetch_blocks_max)
//   kBlockResponse  u32 count (0..fetch_blocks_max), count x bytes32 block
// Decoders are strict: unknown tag, version or kind, a flag other than 0/1, a count outside its
// bound, a message above message_bytes_max, a body that does not decode, and trailing bytes are
// all rejected with kInvalidArgument. Decoding never verifies a signature: the replica does.
//
// A proposal is signed by its proposer over
//   SHA-256(string8 "ledgerd/proposal", u8 version 1, string8 chain id, block id)
// so that two proposals for one round are transferable evidence of an equivocating leader.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "ledger/core/block.h"
#include "ledger/core/certificates.h"
#include "ledger/core/status.h"

namespace ledger::consensus {

inline constexpr std::string_view kMessageTag = "ledgerd/consensus-msg";
inline constexpr std::string_view kProposalTag = "ledgerd/proposal";
inline constexpr std::uint8_t kMessageVersion = 1;

// Binds the TC that justifies the round (when there is one) as well as the block, so that a copy
// relayed with another TC fails the signature check instead of shadowing the leader's proposal.
Hash proposal_signing_hash(std::string_view chain_id, const Hash& block_id,
                           const std::optional<TimeoutCert>& tc);

// The leader's block for block.header.round. Invariants checked by the replica, not the decoder:
// tc is present iff block.header.parent_qc.round() + 1 != block.header.round, and then
// tc->round + 1 == block.header.round.
struct Proposal {
  Block block;
  std::optional<TimeoutCert> tc;
  Signature signature;  // by block.header.proposer over proposal_signing_hash(chain, block id, tc)
  friend bool operator==(const Proposal&, const Proposal&) = default;
};

// A timeout, with the sender's highest TC so a replica that is behind can catch up.
struct TimeoutMessage {
  Timeout timeout;
  std::optional<TimeoutCert> high_tc;
  friend bool operator==(const TimeoutMessage&, const TimeoutMessage&) = default;
};

// Asks for block `block_id` and up to count - 1 of its ancestors.
struct BlockRequest {
  Hash block_id;
  std::uint32_t count = 1;
  friend bool operator==(const BlockRequest&, const BlockRequest&) = default;
};

// Answer to a BlockRequest: newest first; each block is the parent of the one before it. May be
// shorter than asked (the responder sends what it has), or empty.
struct BlockResponse {
  std::vector<Block> blocks;
  friend bool operator==(const BlockResponse&, const BlockResponse&) = default;
};

using Message =
    std::variant<Proposal, Vote, TimeoutMessage, TimeoutCert, BlockRequest, BlockResponse>;

enum class MessageKind : std::uint8_t {
  kProposal = 1,
  kVote = 2,
  kTimeout = 3,
  kTimeoutCert = 4,
  kBlockRequest = 5,
  kBlockResponse = 6,
};

MessageKind message_kind(const Message& message);
const char* message_kind_name(MessageKind kind);

// Bounds a decoder enforces; from the genesis consensus parameters and the replica config.
struct MessageLimits {
  BlockLimits block;
  std::uint32_t fetch_blocks_max = 64;
  // A block response may carry fetch_blocks_max blocks of block.bytes_max each.
  std::uint64_t message_bytes_max = 64ull * 1024 * 1024;
};

Bytes encode_message(const Message& message);
StatusOr<Message> decode_message(ByteView bytes, const MessageLimits& limits);

// The kind of an encoded message, read from its first bytes without decoding (or allocating
// for) the body, so that a host can drop what it would refuse anyway before paying for it.
// kInvalidArgument if the tag, version or kind is wrong.
StatusOr<MessageKind> peek_message_kind(ByteView bytes);

}  // namespace ledger::consensus
