// Consensus messages that are signed, and the certificates built from them: votes and quorum
// certificates (QC), timeouts and timeout certificates (TC). Their canonical encodings and
// signing bytes live here so that blocks (which embed a QC) and storage (which keeps commit
// certificates) share one definition. The protocol logic is in consensus/.
//
// Signing bytes (see docs/consensus.md):
//   vote:    tag "ledgerd/vote", version 1, chain id, block id, round, parent id, parent round
//   timeout: tag "ledgerd/timeout", version 1, chain id, round, high QC round
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ledger/core/bytes.h"
#include "ledger/core/hash.h"
#include "ledger/core/keys.h"
#include "ledger/core/validators.h"

namespace ledger {

inline constexpr std::string_view kVoteTag = "ledgerd/vote";
inline constexpr std::string_view kTimeoutTag = "ledgerd/timeout";
inline constexpr std::uint8_t kCertificateVersion = 1;

// What a vote is for. A QC certifies exactly this data.
struct VoteData {
  Hash block_id;
  std::uint64_t round = 0;
  Hash parent_id;
  std::uint64_t parent_round = 0;  // < round, except for genesis where both are 0

  friend bool operator==(const VoteData&, const VoteData&) = default;
};

Hash vote_signing_hash(std::string_view chain_id, const VoteData& data);
Hash timeout_signing_hash(std::string_view chain_id, std::uint64_t round,
                          std::uint64_t high_qc_round);

struct SignerSignature {
  PublicKey signer;
  Signature signature;
  friend bool operator==(const SignerSignature&, const SignerSignature&) = default;
};

struct Vote {
  VoteData data;
  PublicKey signer;
  Signature signature;  // over vote_signing_hash(chain id, data)
  friend bool operator==(const Vote&, const Vote&) = default;
};

struct QuorumCert {
  VoteData data;
  // Sorted by signer, strictly increasing (so no duplicates, one encoding per set).
  // Empty only for the genesis QC.
  std::vector<SignerSignature> signatures;

  std::uint64_t round() const { return data.round; }
  const Hash& block_id() const { return data.block_id; }
  friend bool operator==(const QuorumCert&, const QuorumCert&) = default;
};

struct Timeout {
  std::uint64_t round = 0;
  QuorumCert high_qc;  // the signer's highest QC; high_qc.round() < round
  PublicKey signer;
  Signature signature;  // over timeout_signing_hash(chain id, round, high_qc.round())
  friend bool operator==(const Timeout&, const Timeout&) = default;
};

struct TimeoutCertEntry {
  PublicKey signer;
  std::uint64_t high_qc_round = 0;
  Signature signature;
  friend bool operator==(const TimeoutCertEntry&, const TimeoutCertEntry&) = default;
};

struct TimeoutCert {
  std::uint64_t round = 0;
  std::vector<TimeoutCertEntry> entries;  // sorted by signer, strictly increasing
  QuorumCert high_qc;                     // round == max entry high_qc_round, < round

  friend bool operator==(const TimeoutCert&, const TimeoutCert&) = default;
};

// Encodings. Decoders are strict (tag, version, sorted signers, counts <= kValidatorsMax, no
// trailing bytes) and do not verify signatures.
Bytes encode_vote_data(const VoteData& data);
Bytes encode_vote(const Vote& vote);
StatusOr<Vote> decode_vote(ByteView bytes);
Bytes encode_qc(const QuorumCert& qc);
StatusOr<QuorumCert> decode_qc(ByteView bytes);
Bytes encode_timeout(const Timeout& timeout);
StatusOr<Timeout> decode_timeout(ByteView bytes);
Bytes encode_tc(const TimeoutCert& tc);
StatusOr<TimeoutCert> decode_tc(ByteView bytes);

// Writers/readers for embedding a QC in another encoding (block header, timeout, TC).
void write_qc(class ByteWriter& w, const QuorumCert& qc);
Status read_qc(class ByteReader& r, QuorumCert& out);

// Signature and power checks. Each returns kInvalidArgument naming the first problem:
// unknown signer, duplicate or unsorted signer, bad signature, power below quorum.
Status verify_vote(const Vote& vote, std::string_view chain_id, const ValidatorSet& validators);
// A QC of round 0 is valid only if it equals `genesis_qc` (it carries no signatures).
Status verify_qc(const QuorumCert& qc, std::string_view chain_id, const ValidatorSet& validators,
                 const QuorumCert& genesis_qc);
Status verify_timeout(const Timeout& timeout, std::string_view chain_id,
                      const ValidatorSet& validators, const QuorumCert& genesis_qc);
Status verify_tc(const TimeoutCert& tc, std::string_view chain_id, const ValidatorSet& validators,
                 const QuorumCert& genesis_qc);

}  // namespace ledger
