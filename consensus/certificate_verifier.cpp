#include "ledger/consensus/certificate_verifier.h"

#include "ledger/core/encoding.h"

namespace ledger::consensus {
namespace {

Hash qc_digest(const QuorumCert& qc) {
  ByteWriter w;
  w.string8("qc");
  write_qc(w, qc);
  return sha256(w.data());
}

Hash tc_digest(const TimeoutCert& tc) {
  ByteWriter w;
  w.string8("tc").bytes32(encode_tc(tc));
  return sha256(w.data());
}

Hash vote_data_digest(const VoteData& data) {
  ByteWriter w;
  w.string8("vote-data").fixed(data.block_id.bytes).u64(data.round).fixed(data.parent_id.bytes);
  w.u64(data.parent_round);
  return sha256(w.data());
}

// The power of the validators among `signers`, at most once each, and saturating: a cheap
// upper bound of what the signatures could prove. Below quorum, no signature needs checking.
template <typename Entries>
std::uint64_t claimed_power(const Entries& entries, const ValidatorSet& validators) {
  std::uint64_t power = 0;
  const PublicKey* previous = nullptr;
  for (const auto& e : entries) {
    if (previous != nullptr && !(*previous < e.signer)) continue;  // unsorted or repeated
    previous = &e.signer;
    power += validators.power_of(e.signer);
    if (power >= validators.quorum_power()) return power;
  }
  return power;
}

Status below_quorum(const char* what, std::uint64_t power, const ValidatorSet& validators) {
  return Status::invalid_argument(std::string(what) + " power " + std::to_string(power) +
                                  " is below quorum " + std::to_string(validators.quorum_power()) +
                                  " (no signature checked)");
}

}  // namespace

CertificateVerifier::CertificateVerifier(std::string chain_id, ValidatorSet validators,
                                         QuorumCert genesis_qc, std::size_t verified_certs_max,
                                         std::size_t failed_certs_max)
    : chain_id_(std::move(chain_id)),
      validators_(std::move(validators)),
      genesis_qc_(std::move(genesis_qc)),
      verified_certs_max_(verified_certs_max),
      failed_certs_max_(failed_certs_max) {
  LEDGER_ASSERT(verified_certs_max_ >= 1);
  LEDGER_ASSERT(failed_certs_max_ >= 1);
  LEDGER_ASSERT(validators_.size() > 0);
}

void CertificateVerifier::remember(const Hash& digest) {
  if (cache_.contains(digest)) return;
  if (cache_.size() >= verified_certs_max_) {
    cache_.erase(cache_order_.front());
    cache_order_.pop_front();
  }
  cache_.insert(digest);
  cache_order_.push_back(digest);
  LEDGER_ASSERT(cache_.size() == cache_order_.size());
  LEDGER_ASSERT(cache_.size() <= verified_certs_max_);
}

void CertificateVerifier::remember_failed(const Hash& digest) {
  if (failed_.contains(digest)) return;
  if (failed_.size() >= failed_certs_max_) {
    failed_.erase(failed_order_.front());
    failed_order_.pop_front();
  }
  failed_.insert(digest);
  failed_order_.push_back(digest);
  LEDGER_ASSERT(failed_.size() == failed_order_.size());
  LEDGER_ASSERT(failed_.size() <= failed_certs_max_);
}

void CertificateVerifier::remember_qc(const QuorumCert& qc) {
  remember(qc_digest(qc));
  const Hash key = vote_data_digest(qc.data);
  if (by_data_.contains(key)) return;
  if (by_data_.size() >= verified_certs_max_) {
    by_data_.erase(by_data_order_.front());
    by_data_order_.pop_front();
  }
  by_data_.emplace(key, qc);
  by_data_order_.push_back(key);
  LEDGER_ASSERT(by_data_.size() == by_data_order_.size());
  LEDGER_ASSERT(by_data_.size() <= verified_certs_max_);
}

const QuorumCert* CertificateVerifier::known_qc(const VoteData& data) const {
  auto it = by_data_.find(vote_data_digest(data));
  return it == by_data_.end() ? nullptr : &it->second;
}

bool CertificateVerifier::has_verdict(const QuorumCert& qc) const {
  if (qc.round() == 0) return true;
  const Hash digest = qc_digest(qc);
  return cached(digest) || failed(digest);
}

bool CertificateVerifier::has_verdict(const TimeoutCert& tc) const {
  const Hash digest = tc_digest(tc);
  return cached(digest) || failed(digest);
}

Status CertificateVerifier::verify_qc(const QuorumCert& qc) {
  if (qc.round() == 0) return ledger::verify_qc(qc, chain_id_, validators_, genesis_qc_);
  const Hash digest = qc_digest(qc);
  if (cached(digest)) return Status::ok();
  if (failed(digest)) return Status::invalid_argument("QC already failed verification");
  if (const auto power = claimed_power(qc.signatures, validators_);
      power < validators_.quorum_power()) {
    remember_failed(digest);
    return below_quorum("QC", power, validators_);
  }
  ++checks_run_;
  if (Status s = ledger::verify_qc(qc, chain_id_, validators_, genesis_qc_); !s.is_ok()) {
    remember_failed(digest);
    return s;
  }
  remember_qc(qc);
  return Status::ok();
}

Status CertificateVerifier::verify_tc(const TimeoutCert& tc) {
  const Hash digest = tc_digest(tc);
  if (cached(digest)) return Status::ok();
  if (failed(digest)) return Status::invalid_argument("TC already failed verification");
  if (const auto power = claimed_power(tc.entries, validators_);
      power < validators_.quorum_power()) {
    remember_failed(digest);
    return below_quorum("TC", power, validators_);
  }
  ++checks_run_;
  if (Status s = ledger::verify_tc(tc, chain_id_, validators_, genesis_qc_); !s.is_ok()) {
    remember_failed(digest);
    return s;
  }
  remember(digest);
  // The TC's high QC is verified too; remember it so a proposal carrying it is not re-checked.
  if (tc.high_qc.round() > 0) remember_qc(tc.high_qc);
  return Status::ok();
}

Status CertificateVerifier::verify_vote(const Vote& vote) const {
  return ledger::verify_vote(vote, chain_id_, validators_);
}

// The steps of core verify_timeout, reordered so that the cheap ones come first and the high QC
// goes through both caches (a timeout's signature covers only the high QC's round, so the same
// signed timeout can be resent with any QC; its quorum is checked at most once per QC).
Status CertificateVerifier::verify_timeout(const Timeout& timeout) {
  if (!validators_.contains(timeout.signer)) {
    return Status::invalid_argument("timeout from non-validator " + timeout.signer.hex());
  }
  if (timeout.high_qc.round() >= timeout.round) {
    return Status::invalid_argument("timeout high QC round is not below the timeout round");
  }
  if (timeout.high_qc.round() == 0 && timeout.high_qc != genesis_qc_) {
    return Status::invalid_argument("timeout high QC: round-0 QC is not the genesis QC");
  }
  if (timeout.high_qc.round() > 0 && failed(qc_digest(timeout.high_qc))) {
    return Status::invalid_argument("timeout high QC: QC already failed verification");
  }
  ++checks_run_;
  const Hash message = timeout_signing_hash(chain_id_, timeout.round, timeout.high_qc.round());
  if (!verify_signature(timeout.signer, message, timeout.signature)) {
    return Status::invalid_argument("bad timeout signature from " + timeout.signer.hex());
  }
  if (timeout.high_qc.round() == 0) return Status::ok();
  return verify_qc(timeout.high_qc).with_context("timeout high QC");
}

}  // namespace ledger::consensus
