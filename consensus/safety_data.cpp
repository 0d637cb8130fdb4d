#include "ledger/consensus/safety_data.h"

#include "ledger/core/encoding.h"

namespace ledger::consensus {
namespace {
constexpr std::string_view kSafetyTag = "ledgerd/safety";
constexpr std::uint8_t kSafetyVersion = 2;  // 2 added one_chain_qc; 1 is still read
constexpr std::size_t kEmbeddedBytesMax = 1 << 20;
}  // namespace

Bytes encode_safety_data(const SafetyData& data) {
  ByteWriter w;
  w.string8(kSafetyTag).u8(kSafetyVersion).u64(data.last_voted_round).u64(data.one_chain_round);
  w.u8(data.last_vote ? 1 : 0);
  if (data.last_vote) w.bytes32(encode_vote(*data.last_vote));
  w.u8(data.last_timeout ? 1 : 0);
  if (data.last_timeout) w.bytes32(encode_timeout(*data.last_timeout));
  w.u8(data.one_chain_qc ? 1 : 0);
  if (data.one_chain_qc) w.bytes32(encode_qc(*data.one_chain_qc));
  return std::move(w).take();
}

StatusOr<SafetyData> decode_safety_data(ByteView bytes) {
  ByteReader r(bytes);
  LEDGER_RETURN_IF_ERROR(r.expect_tag("safety data", kSafetyTag));
  std::uint8_t version = 0;
  LEDGER_RETURN_IF_ERROR(r.u8("version", version));
  if (version != kSafetyVersion && version != 1) {
    return Status::invalid_argument("unknown safety data version " + std::to_string(version));
  }
  SafetyData data;
  LEDGER_RETURN_IF_ERROR(r.u64("last voted round", data.last_voted_round));
  LEDGER_RETURN_IF_ERROR(r.u64("one chain round", data.one_chain_round));
  std::uint8_t has = 0;
  LEDGER_RETURN_IF_ERROR(r.u8("has last vote", has));
  if (has > 1) return Status::invalid_argument("has last vote: must be 0 or 1");
  if (has == 1) {
    ByteView v;
    LEDGER_RETURN_IF_ERROR(r.view32("last vote", kEmbeddedBytesMax, v));
    LEDGER_ASSIGN_OR_RETURN(data.last_vote, decode_vote(v));
  }
  LEDGER_RETURN_IF_ERROR(r.u8("has last timeout", has));
  if (has > 1) return Status::invalid_argument("has last timeout: must be 0 or 1");
  if (has == 1) {
    ByteView v;
    LEDGER_RETURN_IF_ERROR(r.view32("last timeout", kEmbeddedBytesMax, v));
    LEDGER_ASSIGN_OR_RETURN(data.last_timeout, decode_timeout(v));
  }
  if (version >= 2) {
    LEDGER_RETURN_IF_ERROR(r.u8("has one chain QC", has));
    if (has > 1) return Status::invalid_argument("has one chain QC: must be 0 or 1");
    if (has == 1) {
      ByteView v;
      LEDGER_RETURN_IF_ERROR(r.view32("one chain QC", kEmbeddedBytesMax, v));
      LEDGER_ASSIGN_OR_RETURN(data.one_chain_qc, decode_qc(v));
      if (data.one_chain_qc->round() != data.one_chain_round) {
        return Status::invalid_argument(
            "one chain QC round " + std::to_string(data.one_chain_qc->round()) +
            " is not the one chain round " + std::to_string(data.one_chain_round));
      }
    }
  }
  LEDGER_RETURN_IF_ERROR(r.finish("safety data"));
  return data;
}

}  // namespace ledger::consensus
