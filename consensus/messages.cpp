#include "ledger/consensus/messages.h"

#include "ledger/core/encoding.h"

namespace ledger::consensus {
namespace {

// A TC or a vote is far below this; it only stops a length prefix from claiming gigabytes.
constexpr std::size_t kCertificateBytesMax = 1 << 20;

Status read_flag(ByteReader& r, std::string_view field, bool& out) {
  std::uint8_t v = 0;
  LEDGER_RETURN_IF_ERROR(r.u8(field, v));
  if (v > 1) return Status::invalid_argument(std::string(field) + ": must be 0 or 1");
  out = v == 1;
  return Status::ok();
}

Status read_tc(ByteReader& r, std::string_view field, TimeoutCert& out) {
  ByteView v;
  LEDGER_RETURN_IF_ERROR(r.view32(field, kCertificateBytesMax, v));
  auto tc = decode_tc(v);
  if (!tc.is_ok()) return tc.status().with_context(std::string(field));
  out = std::move(tc).value();
  return Status::ok();
}

Status read_block(ByteReader& r, const BlockLimits& limits, Block& out) {
  ByteView v;
  LEDGER_RETURN_IF_ERROR(r.view32("block", limits.bytes_max, v));
  auto block = decode_block(v, limits);
  if (!block.is_ok()) return block.status().with_context("block");
  out = std::move(block).value();
  return Status::ok();
}

void write_body(ByteWriter& w, const Proposal& p) {
  w.bytes32(encode_block(p.block));
  w.u8(p.tc ? 1 : 0);
  if (p.tc) w.bytes32(encode_tc(*p.tc));
  w.fixed(p.signature.bytes);
}

void write_body(ByteWriter& w, const Vote& v) {
  w.bytes32(encode_vote(v));
}

void write_body(ByteWriter& w, const TimeoutMessage& t) {
  w.bytes32(encode_timeout(t.timeout));
  w.u8(t.high_tc ? 1 : 0);
  if (t.high_tc) w.bytes32(encode_tc(*t.high_tc));
}

void write_body(ByteWriter& w, const TimeoutCert& tc) {
  w.bytes32(encode_tc(tc));
}

void write_body(ByteWriter& w, const BlockRequest& req) {
  w.fixed(req.block_id.bytes).u32(req.count);
}

void write_body(ByteWriter& w, const BlockResponse& resp) {
  w.u32(static_cast<std::uint32_t>(resp.blocks.size()));
  for (const auto& b : resp.blocks)
    w.bytes32(encode_block(b));
}

StatusOr<Message> read_proposal(ByteReader& r, const MessageLimits& limits) {
  Proposal p;
  LEDGER_RETURN_IF_ERROR(read_block(r, limits.block, p.block));
  bool has_tc = false;
  LEDGER_RETURN_IF_ERROR(read_flag(r, "has TC", has_tc));
  if (has_tc) {
    p.tc.emplace();
    LEDGER_RETURN_IF_ERROR(read_tc(r, "proposal TC", *p.tc));
  }
  LEDGER_RETURN_IF_ERROR(r.fixed("proposal signature", p.signature.bytes));
  return Message(std::move(p));
}

StatusOr<Message> read_vote(ByteReader& r) {
  ByteView v;
  LEDGER_RETURN_IF_ERROR(r.view32("vote", kCertificateBytesMax, v));
  auto vote = decode_vote(v);
  if (!vote.is_ok()) return vote.status().with_context("vote");
  return Message(std::move(vote).value());
}

StatusOr<Message> read_timeout(ByteReader& r) {
  TimeoutMessage t;
  ByteView v;
  LEDGER_RETURN_IF_ERROR(r.view32("timeout", kCertificateBytesMax, v));
  auto timeout = decode_timeout(v);
  if (!timeout.is_ok()) return timeout.status().with_context("timeout");
  t.timeout = std::move(timeout).value();
  bool has_tc = false;
  LEDGER_RETURN_IF_ERROR(read_flag(r, "has high TC", has_tc));
  if (has_tc) {
    t.high_tc.emplace();
    LEDGER_RETURN_IF_ERROR(read_tc(r, "high TC", *t.high_tc));
  }
  return Message(std::move(t));
}

StatusOr<Message> read_block_request(ByteReader& r, const MessageLimits& limits) {
  BlockRequest req;
  LEDGER_RETURN_IF_ERROR(r.fixed("requested block id", req.block_id.bytes));
  LEDGER_RETURN_IF_ERROR(r.u32("requested count", req.count));
  if (req.count == 0 || req.count > limits.fetch_blocks_max) {
    return Status::invalid_argument("requested count " + std::to_string(req.count) +
                                    " is outside 1.." + std::to_string(limits.fetch_blocks_max));
  }
  return Message(req);
}

StatusOr<Message> read_block_response(ByteReader& r, const MessageLimits& limits) {
  std::uint32_t count = 0;
  LEDGER_RETURN_IF_ERROR(r.u32("block count", count));
  if (count > limits.fetch_blocks_max) {
    return Status::invalid_argument("block response carries " + std::to_string(count) +
                                    " blocks, the limit is " +
                                    std::to_string(limits.fetch_blocks_max));
  }
  BlockResponse resp;
  resp.blocks.resize(count);
  for (auto& b : resp.blocks)
    LEDGER_RETURN_IF_ERROR(read_block(r, limits.block, b));
  return Message(std::move(resp));
}

}  // namespace

Hash proposal_signing_hash(std::string_view chain_id, const Hash& block_id,
                           const std::optional<TimeoutCert>& tc) {
  ByteWriter w;
  w.string8(kProposalTag).u8(kMessageVersion).string8(chain_id).fixed(block_id.bytes);
  w.u8(tc ? 1 : 0);
  if (tc) w.fixed(sha256(encode_tc(*tc)).bytes);
  return sha256(w.data());
}

MessageKind message_kind(const Message& message) {
  return static_cast<MessageKind>(message.index() + 1);
}

const char* message_kind_name(MessageKind kind) {
  switch (kind) {
    case MessageKind::kProposal:
      return "proposal";
    case MessageKind::kVote:
      return "vote";
    case MessageKind::kTimeout:
      return "timeout";
    case MessageKind::kTimeoutCert:
      return "timeout_cert";
    case MessageKind::kBlockRequest:
      return "block_request";
    case MessageKind::kBlockResponse:
      return "block_response";
  }
  return "unknown";
}

Bytes encode_message(const Message& message) {
  ByteWriter w;
  w.string8(kMessageTag).u8(kMessageVersion).u8(static_cast<std::uint8_t>(message_kind(message)));
  std::visit([&w](const auto& body) { write_body(w, body); }, message);
  return std::move(w).take();
}

namespace {

// The tag, version and kind every message starts with; leaves `r` at the body.
StatusOr<MessageKind> read_header(ByteReader& r) {
  LEDGER_RETURN_IF_ERROR(r.expect_tag("consensus message", kMessageTag));
  std::uint8_t version = 0;
  LEDGER_RETURN_IF_ERROR(r.u8("version", version));
  if (version != kMessageVersion) {
    return Status::invalid_argument("unknown consensus message version " + std::to_string(version));
  }
  std::uint8_t kind = 0;
  LEDGER_RETURN_IF_ERROR(r.u8("kind", kind));
  if (kind < static_cast<std::uint8_t>(MessageKind::kProposal) ||
      kind > static_cast<std::uint8_t>(MessageKind::kBlockResponse)) {
    return Status::invalid_argument("unknown consensus message kind " + std::to_string(kind));
  }
  return static_cast<MessageKind>(kind);
}

}  // namespace

StatusOr<MessageKind> peek_message_kind(ByteView bytes) {
  ByteReader r(bytes);
  return read_header(r);
}

StatusOr<Message> decode_message(ByteView bytes, const MessageLimits& limits) {
  if (bytes.size() > limits.message_bytes_max) {
    return Status::invalid_argument("message is " + std::to_string(bytes.size()) +
                                    " bytes, the limit is " +
                                    std::to_string(limits.message_bytes_max));
  }
  ByteReader r(bytes);
  LEDGER_ASSIGN_OR_RETURN(const MessageKind kind, read_header(r));
  StatusOr<Message> out = Status::invalid_argument("unknown consensus message kind " +
                                                   std::to_string(static_cast<int>(kind)));
  switch (kind) {
    case MessageKind::kProposal:
      out = read_proposal(r, limits);
      break;
    case MessageKind::kVote:
      out = read_vote(r);
      break;
    case MessageKind::kTimeout:
      out = read_timeout(r);
      break;
    case MessageKind::kTimeoutCert: {
      TimeoutCert tc;
      Status s = read_tc(r, "TC", tc);
      out = s.is_ok() ? StatusOr<Message>(Message(std::move(tc))) : StatusOr<Message>(s);
      break;
    }
    case MessageKind::kBlockRequest:
      out = read_block_request(r, limits);
      break;
    case MessageKind::kBlockResponse:
      out = read_block_response(r, limits);
      break;
  }
  if (!out.is_ok()) return out;
  LEDGER_RETURN_IF_ERROR(r.finish("consensus message"));
  return out;
}

}  // namespace ledger::consensus
