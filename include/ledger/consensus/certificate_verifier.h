// Verification of consensus certificates against the validator set, with a bounded cache of
// certificates already verified.
//
// Every check is delegated to the core verify_* functions (core/certificates.cpp): signer is a
// validator, signatures valid, signers sorted and distinct, power >= ValidatorSet::quorum_power(),
// right chain id (it is in the signing bytes). The cache only remembers that a certificate with
// exactly these bytes (SHA-256 of its canonical encoding) already passed, so a QC that arrives in
// a proposal, then in ten timeouts, is verified once. A cache hit is as strong as a verification:
// the key is a collision-resistant digest of the whole certificate.
//
// Thread-compatible (one owner). Owned by SafetyRules, which re-checks the certificates it votes
// on; the replica verifies incoming certificates through the same instance.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "ledger/core/certificates.h"
#include "ledger/core/status.h"
#include "ledger/core/validators.h"

namespace ledger::consensus {

class CertificateVerifier {
 public:
  // `verified_certs_max` >= 1 bounds the cache (oldest entries are evicted first).
  CertificateVerifier(std::string chain_id, ValidatorSet validators, QuorumCert genesis_qc,
                      std::size_t verified_certs_max);

  // kInvalidArgument naming the problem (from the core verify_* functions).
  Status verify_qc(const QuorumCert& qc);
  Status verify_tc(const TimeoutCert& tc);
  Status verify_vote(const Vote& vote) const;
  // The signature over (round, high_qc.round) and the high QC (through the cache).
  Status verify_timeout(const Timeout& timeout);

  // A QC already verified for exactly `data`, or nullptr. Any valid QC for the same vote data
  // proves the same thing, so a message whose signature does not cover its QC's signers (a
  // timeout signs only its high QC's round) can carry this one instead of its own: QCs built
  // from other signer subsets then cost no verification. Valid until the next verify_* call.
  const QuorumCert* known_qc(const VoteData& data) const;

  const std::string& chain_id() const { return chain_id_; }
  const ValidatorSet& validators() const { return validators_; }
  const QuorumCert& genesis_qc() const { return genesis_qc_; }
  std::size_t cached_count() const { return cache_.size(); }

 private:
  bool cached(const Hash& digest) const { return cache_.contains(digest); }
  void remember(const Hash& digest);
  void remember_qc(const QuorumCert& qc);

  std::string chain_id_;
  ValidatorSet validators_;
  QuorumCert genesis_qc_;
  std::size_t verified_certs_max_;
  std::unordered_set<Hash, HashHasher> cache_;  // size <= verified_certs_max_
  std::deque<Hash> cache_order_;                // same elements as cache_, oldest first
  // Verified QCs by the digest of their vote data; size <= verified_certs_max_.
  std::unordered_map<Hash, QuorumCert, HashHasher> by_data_;
  std::deque<Hash> by_data_order_;  // same keys as by_data_, oldest first
};

}  // namespace ledger::consensus
