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
// Certificates that FAILED verification are remembered too, by the same digest, in a second
// bounded cache (failed_certs_max): verification is a deterministic function of the certificate's
// bytes and of the chain id, validator set and genesis QC, all fixed for this verifier, so a
// certificate that failed once fails forever, and a Byzantine validator resending the same
// invalid certificate costs no signature check after the first. A certificate whose distinct
// validator signers do not add up to quorum power is refused before any signature is checked.
//
// Thread-compatible (one owner). Owned by SafetyRules, which re-checks the certificates it votes
// on; the replica verifies incoming certificates through the same instance.
#pragma once

#include <cstddef>
#include <cstdint>
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
  static constexpr std::size_t kFailedCertsMaxDefault = 256;

  // `verified_certs_max` >= 1 bounds the cache of verified certificates, `failed_certs_max` >= 1
  // that of failed ones (oldest entries are evicted first in both).
  CertificateVerifier(std::string chain_id, ValidatorSet validators, QuorumCert genesis_qc,
                      std::size_t verified_certs_max,
                      std::size_t failed_certs_max = kFailedCertsMaxDefault);

  // kInvalidArgument naming the problem (from the core verify_* functions).
  Status verify_qc(const QuorumCert& qc);
  Status verify_tc(const TimeoutCert& tc);
  Status verify_vote(const Vote& vote) const;
  // The signature over (round, high_qc.round) and the high QC (through both caches). Cheap
  // checks first: membership, round order, a high QC known to have failed; then the one
  // signature; then the high QC's quorum, only if it is not known.
  Status verify_timeout(const Timeout& timeout);

  // A QC already verified for exactly `data`, or nullptr. Any valid QC for the same vote data
  // proves the same thing, so a message whose signature does not cover its QC's signers (a
  // timeout signs only its high QC's round) can carry this one instead of its own: QCs built
  // from other signer subsets then cost no verification. Valid until the next verify_* call.
  const QuorumCert* known_qc(const VoteData& data) const;

  // Whether verify_qc / verify_tc would answer without checking a signature: the certificate is
  // in either cache, or is a round-0 QC (compared with the genesis QC).
  bool has_verdict(const QuorumCert& qc) const;
  bool has_verdict(const TimeoutCert& tc) const;

  const std::string& chain_id() const { return chain_id_; }
  const ValidatorSet& validators() const { return validators_; }
  const QuorumCert& genesis_qc() const { return genesis_qc_; }
  std::size_t cached_count() const { return cache_.size(); }
  std::size_t failed_count() const { return failed_.size(); }
  // Checks that verified signatures (a whole certificate, or one timeout signature), i.e. not
  // answered from either cache. For tests and metrics: the cost an input made this node pay.
  std::uint64_t checks_run() const { return checks_run_; }

 private:
  bool cached(const Hash& digest) const { return cache_.contains(digest); }
  bool failed(const Hash& digest) const { return failed_.contains(digest); }
  void remember(const Hash& digest);
  void remember_failed(const Hash& digest);
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
  std::size_t failed_certs_max_;
  // Digests of certificates that failed verification; size <= failed_certs_max_, disjoint from
  // cache_.
  std::unordered_set<Hash, HashHasher> failed_;
  std::deque<Hash> failed_order_;  // same elements as failed_, oldest first
  std::uint64_t checks_run_ = 0;
};

}  // namespace ledger::consensus
