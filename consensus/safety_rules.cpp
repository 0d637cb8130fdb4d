#include "ledger/consensus/safety_rules.h"

#include <algorithm>
#include <limits>

#include "ledger/consensus/messages.h"
#include "ledger/core/encoding.h"

namespace ledger::consensus {
namespace {

constexpr std::string_view kAuxTag = "ledgerd/bip340-aux";

SafetyError error(SafetyErrorCode code, std::string message) {
  return SafetyError{code, std::move(message)};
}

std::string str(std::uint64_t v) {
  return std::to_string(v);
}

}  // namespace

const char* safety_error_name(SafetyErrorCode code) {
  switch (code) {
    case SafetyErrorCode::kRoundNotAboveLastVoted:
      return "round_not_above_last_voted";
    case SafetyErrorCode::kNotExtendingPrevious:
      return "not_extending_previous_round";
    case SafetyErrorCode::kQcBelowTcHighQc:
      return "qc_below_tc_high_qc";
    case SafetyErrorCode::kTimeoutBelowLastVoted:
      return "timeout_below_last_voted";
    case SafetyErrorCode::kTimeoutRoundNotNext:
      return "timeout_round_not_next";
    case SafetyErrorCode::kHighQcBelowOneChain:
      return "high_qc_below_one_chain";
    case SafetyErrorCode::kNotProposer:
      return "not_proposer";
    case SafetyErrorCode::kAlreadyProposed:
      return "already_proposed";
    case SafetyErrorCode::kInvalidCertificate:
      return "invalid_certificate";
    case SafetyErrorCode::kMalformedBlock:
      return "malformed_block";
    case SafetyErrorCode::kPersistFailed:
      return "persist_failed";
  }
  return "unknown";
}

StatusOr<SafetyRules> SafetyRules::create(Signer signer, SafetyStore& store,
                                          CertificateVerifier verifier) {
  auto loaded = store.load();
  if (!loaded.is_ok()) return loaded.status().with_context("loading safety data");
  SafetyData data = loaded.value().value_or(SafetyData{});
  // The store is trusted for rounds (it is the only record of them), but a QC it holds is
  // checked like any other: the replica takes one_chain_qc as its high QC on restart and sends
  // it in timeouts, so a corrupted or tampered store could otherwise inject a certificate. No
  // fallback (dropping the field) is attempted: data that fails a check it passed when saved is
  // corrupt, and its rounds, which keep this validator from signing twice, cannot be trusted
  // either: an operator must look before this validator signs again.
  if (data.one_chain_qc) {
    const QuorumCert& qc = *data.one_chain_qc;
    if (qc.round() != data.one_chain_round) {
      return Status::corruption("safety data: one_chain_qc is of round " +
                                std::to_string(qc.round()) + ", one_chain_round is " +
                                std::to_string(data.one_chain_round));
    }
    if (Status s = verifier.verify_qc(qc); !s.is_ok()) {
      return Status::corruption("safety data: one_chain_qc (round " + std::to_string(qc.round()) +
                                ") does not verify against the validator set: " + s.message());
    }
  }
  return SafetyRules(std::move(signer), store, std::move(verifier), std::move(data));
}

SafetyRules::SafetyRules(Signer signer, SafetyStore& store, CertificateVerifier verifier,
                         SafetyData data)
    : signer_(std::move(signer)),
      store_(&store),
      verifier_(std::move(verifier)),
      data_(std::move(data)) {}

std::optional<SafetyError> SafetyRules::verify_and_update_last_vote_round(std::uint64_t round,
                                                                          SafetyData& data) {
#ifndef LEDGER_TEST_BREAK_VOTE_RULE
  if (round <= data.last_voted_round) {
    return error(
        SafetyErrorCode::kRoundNotAboveLastVoted,
        "round " + str(round) + " is not above last voted round " + str(data.last_voted_round));
  }
#endif
  // Test-only builds (LEDGER_TEST_BREAK_VOTE_RULE) skip the check above: the simulator's
  // negative control proves its checkers catch the resulting double votes.
  data.last_voted_round = std::max(data.last_voted_round, round);
  return std::nullopt;
}

std::optional<SafetyError> SafetyRules::safe_to_vote(std::uint64_t round, std::uint64_t qc_round,
                                                     const std::optional<TimeoutCert>& tc) {
  if (round == 0) return error(SafetyErrorCode::kNotExtendingPrevious, "round 0 is genesis");
  const std::uint64_t previous = round - 1;
  if (qc_round == previous) return std::nullopt;
  if (!tc || tc->round != previous) {
    return error(SafetyErrorCode::kNotExtendingPrevious,
                 "block QC round " + str(qc_round) + " is not round " + str(previous) +
                     " and there is no TC for round " + str(previous));
  }
  if (qc_round < tc->high_qc.round()) {
    return error(SafetyErrorCode::kQcBelowTcHighQc, "block QC round " + str(qc_round) +
                                                        " is below the TC's highest QC round " +
                                                        str(tc->high_qc.round()));
  }
  return std::nullopt;
}

std::optional<SafetyError> SafetyRules::safe_to_timeout(std::uint64_t round, std::uint64_t qc_round,
                                                        std::optional<std::uint64_t> tc_round,
                                                        const SafetyData& data) {
  if (round < data.last_voted_round) {
    return error(
        SafetyErrorCode::kTimeoutBelowLastVoted,
        "timeout round " + str(round) + " is below last voted round " + str(data.last_voted_round));
  }
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  const bool after_qc = qc_round != kMax && round == qc_round + 1;
  const bool after_tc = tc_round && *tc_round != kMax && round == *tc_round + 1;
  if (!after_qc && !after_tc) {
    return error(SafetyErrorCode::kTimeoutRoundNotNext,
                 "timeout round " + str(round) + " follows neither the high QC round " +
                     str(qc_round) + " nor the high TC round " +
                     (tc_round ? str(*tc_round) : std::string("(none)")));
  }
  if (qc_round < data.one_chain_round) {
    return error(SafetyErrorCode::kHighQcBelowOneChain, "high QC round " + str(qc_round) +
                                                            " is below one-chain round " +
                                                            str(data.one_chain_round));
  }
  return std::nullopt;
}

void SafetyRules::observe_qc(std::uint64_t qc_round, SafetyData& data) {
  data.one_chain_round = std::max(data.one_chain_round, qc_round);
}

Signature SafetyRules::sign(const Hash& message) const {
  ByteWriter w;
  w.string8(kAuxTag).fixed(message.bytes);
  return signer_.sign(message, sha256(w.data()).bytes);
}

std::optional<SafetyError> SafetyRules::persist(const SafetyData& next) {
  LEDGER_ASSERT(next.last_voted_round >= data_.last_voted_round);
  LEDGER_ASSERT(next.one_chain_round >= data_.one_chain_round);
  Status saved = store_->save(next);
  if (!saved.is_ok()) {
    return error(SafetyErrorCode::kPersistFailed, "saving safety data: " + saved.to_string());
  }
  data_ = next;
  return std::nullopt;
}

SafetyResult<Vote> SafetyRules::sign_vote(const BlockHeader& header, const Hash& block_id,
                                          const std::optional<TimeoutCert>& tc) {
  const std::uint64_t round = header.round;
  // Asked again in the round of the last vote: the same vote, never a second one.
  if (data_.last_vote && data_.last_vote->data.round == round) return *data_.last_vote;

  const QuorumCert& qc = header.parent_qc;
  if (header.parent_id != qc.block_id() || qc.round() >= round) {
    return error(SafetyErrorCode::kMalformedBlock,
                 "block parent id/round does not match its QC (round " + str(round) + ")");
  }
  if (Status s = verifier_.verify_qc(qc); !s.is_ok()) {
    return error(SafetyErrorCode::kInvalidCertificate, "block QC: " + s.message());
  }
  if (tc) {
    if (Status s = verifier_.verify_tc(*tc); !s.is_ok()) {
      return error(SafetyErrorCode::kInvalidCertificate, "TC: " + s.message());
    }
  }
  if (auto e = safe_to_vote(round, qc.round(), tc)) return *e;

  SafetyData next = data_;
  if (auto e = verify_and_update_last_vote_round(round, next)) return *e;
  observe_qc(qc.round(), next);
  if (qc.round() > 0 && qc.round() == next.one_chain_round) next.one_chain_qc = qc;

  Vote vote;
  vote.data = VoteData{block_id, round, qc.block_id(), qc.round()};
  vote.signer = public_key();
  vote.signature = sign(vote_signing_hash(verifier_.chain_id(), vote.data));
  next.last_vote = vote;
  if (auto e = persist(next)) return *e;
  LEDGER_ASSERT(data_.last_voted_round >= round);
  return vote;
}

SafetyResult<Timeout> SafetyRules::sign_timeout(std::uint64_t round, const QuorumCert& high_qc,
                                                const std::optional<TimeoutCert>& high_tc) {
  // The timer fired again in the same round: re-send the same timeout.
  if (data_.last_timeout && data_.last_timeout->round == round) return *data_.last_timeout;

  if (Status s = verifier_.verify_qc(high_qc); !s.is_ok()) {
    return error(SafetyErrorCode::kInvalidCertificate, "high QC: " + s.message());
  }
  if (high_tc) {
    if (Status s = verifier_.verify_tc(*high_tc); !s.is_ok()) {
      return error(SafetyErrorCode::kInvalidCertificate, "high TC: " + s.message());
    }
  }
  const std::optional<std::uint64_t> tc_round =
      high_tc ? std::optional<std::uint64_t>(high_tc->round) : std::nullopt;
  if (auto e = safe_to_timeout(round, high_qc.round(), tc_round, data_)) return *e;

  SafetyData next = data_;
  next.last_voted_round = std::max(next.last_voted_round, round);
  Timeout timeout;
  timeout.round = round;
  timeout.high_qc = high_qc;
  timeout.signer = public_key();
  timeout.signature = sign(timeout_signing_hash(verifier_.chain_id(), round, high_qc.round()));
  next.last_timeout = timeout;
  if (auto e = persist(next)) return *e;
  LEDGER_ASSERT(data_.last_voted_round >= round);
  return timeout;
}

SafetyResult<Signature> SafetyRules::sign_proposal(const BlockHeader& header, const Hash& block_id,
                                                   const std::optional<TimeoutCert>& tc) {
  if (header.proposer != public_key()) {
    return error(SafetyErrorCode::kNotProposer,
                 "block proposer " + header.proposer.hex() + " is not this validator");
  }
  if (last_proposal_ && last_proposal_->first == header.round) {
    if (last_proposal_->second == block_id) return *last_proposal_signature_;
    return error(SafetyErrorCode::kAlreadyProposed,
                 "another block was already proposed in round " + str(header.round));
  }
  if (header.round <= data_.last_voted_round) {
    return error(SafetyErrorCode::kRoundNotAboveLastVoted, "proposal round " + str(header.round) +
                                                               " is not above last voted round " +
                                                               str(data_.last_voted_round));
  }
  if (header.parent_id != header.parent_qc.block_id() || header.parent_qc.round() >= header.round) {
    return error(SafetyErrorCode::kMalformedBlock, "proposal parent does not match its QC");
  }
  Signature signature = sign(proposal_signing_hash(verifier_.chain_id(), block_id, tc));
  last_proposal_ = std::make_pair(header.round, block_id);
  last_proposal_signature_ = signature;
  return signature;
}

}  // namespace ledger::consensus
