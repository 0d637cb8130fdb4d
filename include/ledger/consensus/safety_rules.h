// SafetyRules: the one unit that holds the validator's Signer and refuses to sign anything that
// would break a voting rule of DESIGN.md section 3 (2-chain HotStuff, Jolteon / DiemBFT v4).
//
// Whatever the replica, the pacemaker or leader election get wrong, they cannot make this node
// vote twice in a round, vote in a round it timed out in, or time out below a round it voted in:
// those rules are checked here, against SafetyData that is durably saved through the SafetyStore
// BEFORE the signed vote or timeout is returned. If save() fails, nothing signed is returned and
// the in-memory data is unchanged.
//
// The rules, one function each (after aptos-core safety_rules_2chain.rs):
//   verify_and_update_last_vote_round  round > last_voted_round, then last_voted_round = round
//   safe_to_vote                       B.qc.round == r-1, or tc.round == r-1 and
//                                      B.qc.round >= tc's highest hqc round
//   safe_to_timeout                    r >= last_voted_round, (r == qc.round+1 or
//                                      r == tc.round+1), qc.round >= one_chain_round
//   observe_qc                         one_chain_round = max(one_chain_round, qc.round)
// A request to sign in a round already signed returns the cached vote/timeout (same bytes).
//
// Certificates a signature depends on (the block's QC, the TC, the timeout's high QC/TC) are
// verified here, through the CertificateVerifier this class owns, so a caller that forgot to
// verify cannot get a vote on a forged certificate.
//
// Signatures are deterministic (BIP340 with auxiliary randomness derived from the message), so
// the state machine stays reproducible and a re-sign of the same message yields the same bytes.
//
// Thread-compatible: one owner (the replica) calls it; it is not shared.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "ledger/consensus/certificate_verifier.h"
#include "ledger/consensus/safety_data.h"
#include "ledger/core/block.h"
#include "ledger/core/keys.h"

namespace ledger::consensus {

enum class SafetyErrorCode : std::uint8_t {
  kRoundNotAboveLastVoted,  // vote: round <= last_voted_round
  kNotExtendingPrevious,    // vote: neither qc.round == r-1 nor a TC of r-1 justifies it
  kQcBelowTcHighQc,         // vote via TC: B.qc.round < the TC's highest hqc round
  kTimeoutBelowLastVoted,   // timeout: round < last_voted_round
  kTimeoutRoundNotNext,     // timeout: round is neither high_qc.round+1 nor high_tc.round+1
  kHighQcBelowOneChain,     // timeout: high_qc.round < one_chain_round
  kNotProposer,             // proposal: the block's proposer is not this validator
  kAlreadyProposed,         // proposal: another block was already signed for this round
  kInvalidCertificate,      // a certificate does not verify
  kMalformedBlock,          // the block header is inconsistent (parent id vs QC, rounds)
  kPersistFailed,           // SafetyStore::save failed: nothing signed was released
};

const char* safety_error_name(SafetyErrorCode code);

struct SafetyError {
  SafetyErrorCode code;
  std::string message;
};

// A signed object or the reason it was refused.
template <typename T>
class [[nodiscard]] SafetyResult {
 public:
  SafetyResult(T value) : state_(std::move(value)) {}            // NOLINT: implicit by design
  SafetyResult(SafetyError error) : state_(std::move(error)) {}  // NOLINT: implicit by design

  bool is_ok() const { return std::holds_alternative<T>(state_); }
  const T& value() const {
    LEDGER_ASSERT(is_ok());
    return std::get<T>(state_);
  }
  const SafetyError& error() const {
    LEDGER_ASSERT(!is_ok());
    return std::get<SafetyError>(state_);
  }

 private:
  std::variant<T, SafetyError> state_;
};

class SafetyRules {
 public:
  // Loads the safety data from `store` (defaults for a fresh validator: all rounds 0). Fails
  // with the store's error (kCorruption, kIoError), or kCorruption naming one_chain_qc if the
  // stored QC is not of one_chain_round or does not verify (validator set, signatures, power,
  // genesis QC rule). `store` must outlive this object.
  static StatusOr<SafetyRules> create(Signer signer, SafetyStore& store,
                                      CertificateVerifier verifier);

  SafetyRules(SafetyRules&&) noexcept = default;
  SafetyRules& operator=(SafetyRules&&) noexcept = default;
  SafetyRules(const SafetyRules&) = delete;
  SafetyRules& operator=(const SafetyRules&) = delete;

  const PublicKey& public_key() const { return signer_.public_key(); }
  const SafetyData& data() const { return data_; }
  CertificateVerifier& verifier() { return verifier_; }
  const CertificateVerifier& verifier() const { return verifier_; }

  // A vote for the block with `header` (id `block_id`), justified by header.parent_qc and, when
  // the QC is not of round-1, by `tc`. Persists before returning. Errors: any SafetyErrorCode
  // of the vote rules, kInvalidCertificate, kMalformedBlock, kPersistFailed.
  SafetyResult<Vote> sign_vote(const BlockHeader& header, const Hash& block_id,
                               const std::optional<TimeoutCert>& tc);

  // A timeout for `round` carrying `high_qc`. Persists before returning. Errors: the timeout
  // rules, kInvalidCertificate, kPersistFailed.
  SafetyResult<Timeout> sign_timeout(std::uint64_t round, const QuorumCert& high_qc,
                                     const std::optional<TimeoutCert>& high_tc);

  // The proposer's signature over a block it built. Refused if the block is not ours, if its
  // round is not above last_voted_round (we already voted or timed out there), or if another
  // block was signed for this round. Nothing is persisted: the leader's vote on its own block,
  // which is persisted, is released together with the proposal.
  SafetyResult<Signature> sign_proposal(const BlockHeader& header, const Hash& block_id,
                                        const std::optional<TimeoutCert>& tc);

  // The rules. Pure functions of their arguments, public so that each can be tested alone.
  [[nodiscard]] static std::optional<SafetyError> verify_and_update_last_vote_round(
      std::uint64_t round, SafetyData& data);
  [[nodiscard]] static std::optional<SafetyError> safe_to_vote(
      std::uint64_t round, std::uint64_t qc_round, const std::optional<TimeoutCert>& tc);
  [[nodiscard]] static std::optional<SafetyError> safe_to_timeout(
      std::uint64_t round, std::uint64_t qc_round, std::optional<std::uint64_t> tc_round,
      const SafetyData& data);
  static void observe_qc(std::uint64_t qc_round, SafetyData& data);

 private:
  SafetyRules(Signer signer, SafetyStore& store, CertificateVerifier verifier, SafetyData data);
  Signature sign(const Hash& message) const;
  // Saves `next` and, only if that succeeded, makes it the current data.
  std::optional<SafetyError> persist(const SafetyData& next);

  Signer signer_;       // the validator key; used nowhere else in the process
  SafetyStore* store_;  // non-owning; outlives this
  CertificateVerifier verifier_;
  SafetyData data_;  // == the last successfully saved data
  // The last proposal signed, in memory only (see sign_proposal).
  std::optional<std::pair<std::uint64_t, Hash>> last_proposal_;
  std::optional<Signature> last_proposal_signature_;
};

}  // namespace ledger::consensus
