#include "ledger/core/certificates.h"

#include "ledger/core/encoding.h"

namespace ledger {
namespace {

void write_vote_data(ByteWriter& w, const VoteData& d) {
  w.fixed(d.block_id.bytes).u64(d.round).fixed(d.parent_id.bytes).u64(d.parent_round);
}

Status read_vote_data(ByteReader& r, VoteData& d) {
  LEDGER_RETURN_IF_ERROR(r.fixed("block id", d.block_id.bytes));
  LEDGER_RETURN_IF_ERROR(r.u64("round", d.round));
  LEDGER_RETURN_IF_ERROR(r.fixed("parent id", d.parent_id.bytes));
  LEDGER_RETURN_IF_ERROR(r.u64("parent round", d.parent_round));
  return Status::ok();
}

Status read_version(ByteReader& r, std::string_view what) {
  std::uint8_t version = 0;
  LEDGER_RETURN_IF_ERROR(r.u8("version", version));
  if (version != kCertificateVersion) {
    return Status::invalid_argument(std::string(what) + ": unknown version " +
                                    std::to_string(version));
  }
  return Status::ok();
}

Status read_count(ByteReader& r, std::string_view field, std::uint16_t& count) {
  LEDGER_RETURN_IF_ERROR(r.u16(field, count));
  if (count > kValidatorsMax) {
    return Status::invalid_argument(std::string(field) + ": " + std::to_string(count) +
                                    " exceeds the limit of " + std::to_string(kValidatorsMax));
  }
  return Status::ok();
}

// Signers must be strictly increasing: that rules out duplicates and gives one encoding per set.
template <typename Entry>
Status check_sorted_signers(const std::vector<Entry>& entries, std::string_view what) {
  for (std::size_t i = 1; i < entries.size(); ++i) {
    if (!(entries[i - 1].signer < entries[i].signer)) {
      return Status::invalid_argument(
          std::string(what) + ": signer " + std::to_string(i) +
          (entries[i - 1].signer == entries[i].signer ? " is a duplicate" : " is out of order"));
    }
  }
  return Status::ok();
}

}  // namespace

Hash vote_signing_hash(std::string_view chain_id, const VoteData& data) {
  ByteWriter w;
  w.string8(kVoteTag).u8(kCertificateVersion).string8(chain_id);
  write_vote_data(w, data);
  return sha256(w.data());
}

Hash timeout_signing_hash(std::string_view chain_id, std::uint64_t round,
                          std::uint64_t high_qc_round) {
  ByteWriter w;
  w.string8(kTimeoutTag).u8(kCertificateVersion).string8(chain_id).u64(round).u64(high_qc_round);
  return sha256(w.data());
}

Bytes encode_vote_data(const VoteData& data) {
  ByteWriter w;
  write_vote_data(w, data);
  return std::move(w).take();
}

void write_qc(ByteWriter& w, const QuorumCert& qc) {
  LEDGER_ASSERT(qc.signatures.size() <= kValidatorsMax);
  write_vote_data(w, qc.data);
  w.u16(static_cast<std::uint16_t>(qc.signatures.size()));
  for (const auto& s : qc.signatures)
    w.fixed(s.signer.bytes).fixed(s.signature.bytes);
}

Status read_qc(ByteReader& r, QuorumCert& qc) {
  LEDGER_RETURN_IF_ERROR(read_vote_data(r, qc.data));
  std::uint16_t count = 0;
  LEDGER_RETURN_IF_ERROR(read_count(r, "QC signature count", count));
  qc.signatures.resize(count);
  for (auto& s : qc.signatures) {
    LEDGER_RETURN_IF_ERROR(r.fixed("QC signer", s.signer.bytes));
    LEDGER_RETURN_IF_ERROR(r.fixed("QC signature", s.signature.bytes));
  }
  return check_sorted_signers(qc.signatures, "QC");
}

Bytes encode_vote(const Vote& vote) {
  ByteWriter w;
  w.u8(kCertificateVersion);
  write_vote_data(w, vote.data);
  w.fixed(vote.signer.bytes).fixed(vote.signature.bytes);
  return std::move(w).take();
}

StatusOr<Vote> decode_vote(ByteView bytes) {
  ByteReader r(bytes);
  LEDGER_RETURN_IF_ERROR(read_version(r, "vote"));
  Vote vote;
  LEDGER_RETURN_IF_ERROR(read_vote_data(r, vote.data));
  LEDGER_RETURN_IF_ERROR(r.fixed("signer", vote.signer.bytes));
  LEDGER_RETURN_IF_ERROR(r.fixed("signature", vote.signature.bytes));
  LEDGER_RETURN_IF_ERROR(r.finish("vote"));
  return vote;
}

Bytes encode_qc(const QuorumCert& qc) {
  ByteWriter w;
  w.u8(kCertificateVersion);
  write_qc(w, qc);
  return std::move(w).take();
}

StatusOr<QuorumCert> decode_qc(ByteView bytes) {
  ByteReader r(bytes);
  LEDGER_RETURN_IF_ERROR(read_version(r, "QC"));
  QuorumCert qc;
  LEDGER_RETURN_IF_ERROR(read_qc(r, qc));
  LEDGER_RETURN_IF_ERROR(r.finish("QC"));
  return qc;
}

Bytes encode_timeout(const Timeout& timeout) {
  ByteWriter w;
  w.u8(kCertificateVersion).u64(timeout.round);
  write_qc(w, timeout.high_qc);
  w.fixed(timeout.signer.bytes).fixed(timeout.signature.bytes);
  return std::move(w).take();
}

StatusOr<Timeout> decode_timeout(ByteView bytes) {
  ByteReader r(bytes);
  LEDGER_RETURN_IF_ERROR(read_version(r, "timeout"));
  Timeout t;
  LEDGER_RETURN_IF_ERROR(r.u64("round", t.round));
  LEDGER_RETURN_IF_ERROR(read_qc(r, t.high_qc));
  LEDGER_RETURN_IF_ERROR(r.fixed("signer", t.signer.bytes));
  LEDGER_RETURN_IF_ERROR(r.fixed("signature", t.signature.bytes));
  LEDGER_RETURN_IF_ERROR(r.finish("timeout"));
  return t;
}

Bytes encode_tc(const TimeoutCert& tc) {
  LEDGER_ASSERT(tc.entries.size() <= kValidatorsMax);
  ByteWriter w;
  w.u8(kCertificateVersion).u64(tc.round);
  w.u16(static_cast<std::uint16_t>(tc.entries.size()));
  for (const auto& e : tc.entries) {
    w.fixed(e.signer.bytes).u64(e.high_qc_round).fixed(e.signature.bytes);
  }
  write_qc(w, tc.high_qc);
  return std::move(w).take();
}

StatusOr<TimeoutCert> decode_tc(ByteView bytes) {
  ByteReader r(bytes);
  LEDGER_RETURN_IF_ERROR(read_version(r, "TC"));
  TimeoutCert tc;
  LEDGER_RETURN_IF_ERROR(r.u64("round", tc.round));
  std::uint16_t count = 0;
  LEDGER_RETURN_IF_ERROR(read_count(r, "TC entry count", count));
  tc.entries.resize(count);
  for (auto& e : tc.entries) {
    LEDGER_RETURN_IF_ERROR(r.fixed("TC signer", e.signer.bytes));
    LEDGER_RETURN_IF_ERROR(r.u64("TC high QC round", e.high_qc_round));
    LEDGER_RETURN_IF_ERROR(r.fixed("TC signature", e.signature.bytes));
  }
  LEDGER_RETURN_IF_ERROR(check_sorted_signers(tc.entries, "TC"));
  LEDGER_RETURN_IF_ERROR(read_qc(r, tc.high_qc));
  LEDGER_RETURN_IF_ERROR(r.finish("TC"));
  return tc;
}

Status verify_vote(const Vote& vote, std::string_view chain_id, const ValidatorSet& validators) {
  if (!validators.contains(vote.signer)) {
    return Status::invalid_argument("vote from non-validator " + vote.signer.hex());
  }
  if (vote.data.parent_round >= vote.data.round) {
    return Status::invalid_argument("vote parent round " + std::to_string(vote.data.parent_round) +
                                    " is not below its round " + std::to_string(vote.data.round));
  }
  if (!verify_signature(vote.signer, vote_signing_hash(chain_id, vote.data), vote.signature)) {
    return Status::invalid_argument("bad vote signature from " + vote.signer.hex());
  }
  return Status::ok();
}

Status verify_qc(const QuorumCert& qc, std::string_view chain_id, const ValidatorSet& validators,
                 const QuorumCert& genesis_qc) {
  if (qc.data.round == 0) {
    if (qc != genesis_qc) return Status::invalid_argument("round-0 QC is not the genesis QC");
    return Status::ok();
  }
  if (qc.data.parent_round >= qc.data.round) {
    return Status::invalid_argument("QC parent round " + std::to_string(qc.data.parent_round) +
                                    " is not below its round " + std::to_string(qc.data.round));
  }
  LEDGER_RETURN_IF_ERROR(check_sorted_signers(qc.signatures, "QC"));
  const Hash message = vote_signing_hash(chain_id, qc.data);
  std::uint64_t power = 0;
  for (const auto& s : qc.signatures) {
    std::uint64_t p = validators.power_of(s.signer);
    if (p == 0) return Status::invalid_argument("QC signed by non-validator " + s.signer.hex());
    if (!verify_signature(s.signer, message, s.signature)) {
      return Status::invalid_argument("QC has a bad signature from " + s.signer.hex());
    }
    power += p;
  }
  if (power < validators.quorum_power()) {
    return Status::invalid_argument("QC power " + std::to_string(power) + " is below quorum " +
                                    std::to_string(validators.quorum_power()));
  }
  return Status::ok();
}

Status verify_timeout(const Timeout& timeout, std::string_view chain_id,
                      const ValidatorSet& validators, const QuorumCert& genesis_qc) {
  if (!validators.contains(timeout.signer)) {
    return Status::invalid_argument("timeout from non-validator " + timeout.signer.hex());
  }
  if (timeout.high_qc.round() >= timeout.round) {
    return Status::invalid_argument("timeout high QC round is not below the timeout round");
  }
  const Hash message = timeout_signing_hash(chain_id, timeout.round, timeout.high_qc.round());
  if (!verify_signature(timeout.signer, message, timeout.signature)) {
    return Status::invalid_argument("bad timeout signature from " + timeout.signer.hex());
  }
  return verify_qc(timeout.high_qc, chain_id, validators, genesis_qc)
      .with_context("timeout high QC");
}

Status verify_tc(const TimeoutCert& tc, std::string_view chain_id, const ValidatorSet& validators,
                 const QuorumCert& genesis_qc) {
  LEDGER_RETURN_IF_ERROR(check_sorted_signers(tc.entries, "TC"));
  std::uint64_t power = 0;
  std::uint64_t max_hqc_round = 0;
  for (const auto& e : tc.entries) {
    std::uint64_t p = validators.power_of(e.signer);
    if (p == 0) return Status::invalid_argument("TC signed by non-validator " + e.signer.hex());
    if (e.high_qc_round >= tc.round) {
      return Status::invalid_argument("TC entry high QC round is not below the TC round");
    }
    if (!verify_signature(e.signer, timeout_signing_hash(chain_id, tc.round, e.high_qc_round),
                          e.signature)) {
      return Status::invalid_argument("TC has a bad signature from " + e.signer.hex());
    }
    power += p;
    max_hqc_round = std::max(max_hqc_round, e.high_qc_round);
  }
  if (power < validators.quorum_power()) {
    return Status::invalid_argument("TC power " + std::to_string(power) + " is below quorum " +
                                    std::to_string(validators.quorum_power()));
  }
  if (tc.high_qc.round() != max_hqc_round) {
    return Status::invalid_argument("TC high QC round " + std::to_string(tc.high_qc.round()) +
                                    " is not the highest entry round " +
                                    std::to_string(max_hqc_round));
  }
  return verify_qc(tc.high_qc, chain_id, validators, genesis_qc).with_context("TC high QC");
}

}  // namespace ledger
