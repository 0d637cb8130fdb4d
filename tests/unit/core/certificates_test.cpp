// Votes, quorum certificates, timeouts and timeout certificates (certificates.h): strict
// decoders and the signature and power checks, with real BIP340 signatures.
#include "ledger/core/certificates.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ledger/core/encoding.h"
#include "support/test_keys.h"

namespace ledger {
namespace {

using ledger::testing::contains;
Signer signer_from(std::uint8_t last) {
  return ledger::testing::test_signer(0x33, last);
}

constexpr std::string_view kChain = "ledgerd-test";
constexpr std::array<std::uint8_t, 32> kAux{};

Hash hash_of(std::string_view text) {
  return sha256(as_bytes(text));
}

VoteData vote_data(std::uint64_t round, std::uint64_t parent_round) {
  VoteData d;
  d.block_id = hash_of("block " + std::to_string(round));
  d.round = round;
  d.parent_id = hash_of("block " + std::to_string(parent_round));
  d.parent_round = parent_round;
  return d;
}

// Four validators of power 1, kept sorted by public key so index order is signer order.
class CertificatesTest : public ::testing::Test {
 protected:
  CertificatesTest() {
    for (std::uint8_t seed = 1; seed <= 4; ++seed)
      signers_.push_back(signer_from(seed));
    std::sort(signers_.begin(), signers_.end(),
              [](const Signer& a, const Signer& b) { return a.public_key() < b.public_key(); });
    std::vector<Validator> validators;
    for (std::size_t i = 0; i < signers_.size(); ++i)
      validators.push_back({signers_[i].public_key(), 1, "v" + std::to_string(i)});
    validators_ = std::move(ValidatorSet::create(validators)).value();

    genesis_qc_.data.block_id = hash_of("genesis block");
    genesis_qc_.data.parent_id = hash_of("genesis document");
  }

  const PublicKey& key(std::size_t i) const { return signers_.at(i).public_key(); }

  Vote vote(std::size_t signer, const VoteData& data, std::string_view chain = kChain) const {
    return {data, key(signer), signers_.at(signer).sign(vote_signing_hash(chain, data), kAux)};
  }

  // Signatures in the order of `signer_indexes` (sorted if the indexes are increasing).
  QuorumCert qc(const VoteData& data, const std::vector<std::size_t>& signer_indexes) const {
    QuorumCert out;
    out.data = data;
    for (std::size_t i : signer_indexes) {
      Vote v = vote(i, data);
      out.signatures.push_back({v.signer, v.signature});
    }
    return out;
  }

  Timeout timeout(std::size_t signer, std::uint64_t round, const QuorumCert& high_qc) const {
    Timeout t;
    t.round = round;
    t.high_qc = high_qc;
    t.signer = key(signer);
    t.signature =
        signers_.at(signer).sign(timeout_signing_hash(kChain, round, high_qc.round()), kAux);
    return t;
  }

  TimeoutCertEntry entry(std::size_t signer, std::uint64_t round,
                         std::uint64_t high_qc_round) const {
    return {key(signer), high_qc_round,
            signers_.at(signer).sign(timeout_signing_hash(kChain, round, high_qc_round), kAux)};
  }

  // A TC for round 6 from validators 0, 1, 2 whose highest QC is of round 4.
  TimeoutCert good_tc() const {
    TimeoutCert tc;
    tc.round = 6;
    tc.entries = {entry(0, 6, 3), entry(1, 6, 4), entry(2, 6, 2)};
    tc.high_qc = qc(vote_data(4, 3), {0, 1, 3});
    return tc;
  }

  std::vector<Signer> signers_;
  ValidatorSet validators_;
  QuorumCert genesis_qc_;
};

using CertificatesEncoding = CertificatesTest;
using VerifyVote = CertificatesTest;
using VerifyQc = CertificatesTest;
using VerifyTimeout = CertificatesTest;
using VerifyTc = CertificatesTest;

// ---- Signing hashes ----

TEST(CertificateSigningHash, VoteHashCoversEveryFieldAndTheChainId) {
  const VoteData base = vote_data(5, 4);
  const Hash h = vote_signing_hash(kChain, base);
  EXPECT_NE(vote_signing_hash("ledgerd-main", base), h);
  VoteData d = base;
  d.block_id.bytes[0] ^= 1;
  EXPECT_NE(vote_signing_hash(kChain, d), h);
  d = base;
  d.round += 1;
  EXPECT_NE(vote_signing_hash(kChain, d), h);
  d = base;
  d.parent_id.bytes[31] ^= 1;
  EXPECT_NE(vote_signing_hash(kChain, d), h);
  d = base;
  d.parent_round -= 1;
  EXPECT_NE(vote_signing_hash(kChain, d), h);
}

TEST(CertificateSigningHash, TimeoutHashCoversRoundHighQcRoundAndChainId) {
  const Hash h = timeout_signing_hash(kChain, 5, 3);
  EXPECT_NE(timeout_signing_hash(kChain, 6, 3), h);
  EXPECT_NE(timeout_signing_hash(kChain, 5, 4), h);
  EXPECT_NE(timeout_signing_hash("other", 5, 3), h);
  EXPECT_EQ(timeout_signing_hash(kChain, 5, 3), h);
}

TEST(CertificateSigningHash, VoteHashIsTaggedEncoding) {
  const VoteData d = vote_data(5, 4);
  ByteWriter w;
  w.string8("ledgerd/vote").u8(1).string8(kChain).raw(encode_vote_data(d));
  EXPECT_EQ(vote_signing_hash(kChain, d), sha256(w.data()));
  EXPECT_EQ(encode_vote_data(d).size(), 32u + 8 + 32 + 8);
}

// ---- Encodings ----

TEST_F(CertificatesEncoding, VoteRoundTrips) {
  Vote v = vote(2, vote_data(9, 8));
  Bytes bytes = encode_vote(v);
  EXPECT_EQ(bytes.size(), 1u + 80 + 32 + 64);
  auto decoded = decode_vote(bytes);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, v);
}

TEST_F(CertificatesEncoding, QcRoundTrips) {
  for (const QuorumCert& q : {genesis_qc_, qc(vote_data(3, 2), {0, 2, 3}),
                              qc(vote_data(UINT64_MAX, UINT64_MAX - 1), {0, 1, 2, 3})}) {
    Bytes bytes = encode_qc(q);
    EXPECT_EQ(bytes.size(), 1u + 80 + 2 + 96 * q.signatures.size());
    auto decoded = decode_qc(bytes);
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    EXPECT_EQ(*decoded, q);
  }
}

TEST_F(CertificatesEncoding, TimeoutRoundTrips) {
  for (const Timeout& t :
       {timeout(1, 1, genesis_qc_), timeout(3, 7, qc(vote_data(5, 4), {0, 1, 2}))}) {
    auto decoded = decode_timeout(encode_timeout(t));
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    EXPECT_EQ(*decoded, t);
  }
}

TEST_F(CertificatesEncoding, TcRoundTrips) {
  TimeoutCert tc = good_tc();
  auto decoded = decode_tc(encode_tc(tc));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, tc);

  TimeoutCert empty;
  auto decoded_empty = decode_tc(encode_tc(empty));
  ASSERT_TRUE(decoded_empty.is_ok()) << decoded_empty.status().to_string();
  EXPECT_EQ(*decoded_empty, empty);
}

TEST_F(CertificatesEncoding, WriteQcAndReadQcEmbed) {
  QuorumCert q = qc(vote_data(3, 2), {1, 2, 3});
  ByteWriter w;
  w.u8(0xaa);
  write_qc(w, q);
  w.u8(0xbb);
  ByteReader r(w.data());
  std::uint8_t before = 0, after = 0;
  QuorumCert out;
  ASSERT_TRUE(r.u8("before", before).is_ok());
  ASSERT_TRUE(read_qc(r, out).is_ok());
  ASSERT_TRUE(r.u8("after", after).is_ok());
  EXPECT_TRUE(r.finish("test").is_ok());
  EXPECT_EQ(out, q);
  EXPECT_EQ(after, 0xbb);
}

// Each decoder fails on every strict prefix of a valid encoding.
TEST_F(CertificatesEncoding, DecodersRejectEveryTruncation) {
  const Bytes vote_bytes = encode_vote(vote(0, vote_data(2, 1)));
  const Bytes qc_bytes = encode_qc(qc(vote_data(2, 1), {0, 1, 2}));
  const Bytes timeout_bytes = encode_timeout(timeout(0, 3, qc(vote_data(2, 1), {0, 1, 2})));
  const Bytes tc_bytes = encode_tc(good_tc());
  for (std::size_t n = 0; n < vote_bytes.size(); ++n) {
    auto d = decode_vote(ByteView(vote_bytes.data(), n));
    ASSERT_FALSE(d.is_ok()) << "vote prefix " << n;
    EXPECT_TRUE(contains(d.status(), "truncated")) << n << ": " << d.status().message();
  }
  for (std::size_t n = 0; n < qc_bytes.size(); ++n) {
    auto d = decode_qc(ByteView(qc_bytes.data(), n));
    ASSERT_FALSE(d.is_ok()) << "QC prefix " << n;
    EXPECT_TRUE(contains(d.status(), "truncated")) << n << ": " << d.status().message();
  }
  for (std::size_t n = 0; n < timeout_bytes.size(); ++n) {
    auto d = decode_timeout(ByteView(timeout_bytes.data(), n));
    ASSERT_FALSE(d.is_ok()) << "timeout prefix " << n;
    EXPECT_TRUE(contains(d.status(), "truncated")) << n << ": " << d.status().message();
  }
  for (std::size_t n = 0; n < tc_bytes.size(); ++n) {
    auto d = decode_tc(ByteView(tc_bytes.data(), n));
    ASSERT_FALSE(d.is_ok()) << "TC prefix " << n;
    EXPECT_TRUE(contains(d.status(), "truncated")) << n << ": " << d.status().message();
  }
}

TEST_F(CertificatesEncoding, DecodersRejectTrailingBytes) {
  Bytes vote_bytes = encode_vote(vote(0, vote_data(2, 1)));
  Bytes qc_bytes = encode_qc(qc(vote_data(2, 1), {0, 1, 2}));
  Bytes timeout_bytes = encode_timeout(timeout(0, 3, genesis_qc_));
  Bytes tc_bytes = encode_tc(good_tc());
  for (Bytes* b : {&vote_bytes, &qc_bytes, &timeout_bytes, &tc_bytes})
    b->push_back(0);
  for (const Status& s : {decode_vote(vote_bytes).status(), decode_qc(qc_bytes).status(),
                          decode_timeout(timeout_bytes).status(), decode_tc(tc_bytes).status()}) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(s, "1 trailing bytes")) << s.message();
  }
}

TEST_F(CertificatesEncoding, DecodersRejectUnknownVersion) {
  Bytes vote_bytes = encode_vote(vote(0, vote_data(2, 1)));
  Bytes qc_bytes = encode_qc(genesis_qc_);
  Bytes timeout_bytes = encode_timeout(timeout(0, 3, genesis_qc_));
  Bytes tc_bytes = encode_tc(good_tc());
  for (std::uint8_t version : {0, 2}) {
    for (Bytes* b : {&vote_bytes, &qc_bytes, &timeout_bytes, &tc_bytes})
      (*b)[0] = version;
    for (const Status& s : {decode_vote(vote_bytes).status(), decode_qc(qc_bytes).status(),
                            decode_timeout(timeout_bytes).status(), decode_tc(tc_bytes).status()}) {
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
      EXPECT_TRUE(contains(s, "unknown version " + std::to_string(version))) << s.message();
    }
  }
}

TEST_F(CertificatesEncoding, QcDecoderRejectsUnsortedSigners) {
  QuorumCert q = qc(vote_data(2, 1), {0, 2, 1});
  auto decoded = decode_qc(encode_qc(q));
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "out of order")) << decoded.status().message();
}

TEST_F(CertificatesEncoding, QcDecoderRejectsDuplicateSigners) {
  QuorumCert q = qc(vote_data(2, 1), {0, 1, 1});
  auto decoded = decode_qc(encode_qc(q));
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "duplicate")) << decoded.status().message();
}

TEST_F(CertificatesEncoding, TimeoutDecoderRejectsUnsortedHighQcSigners) {
  Timeout t = timeout(0, 5, qc(vote_data(2, 1), {3, 1, 2}));
  auto decoded = decode_timeout(encode_timeout(t));
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_TRUE(contains(decoded.status(), "out of order")) << decoded.status().message();
}

TEST_F(CertificatesEncoding, TcDecoderRejectsUnsortedOrDuplicateEntries) {
  TimeoutCert tc = good_tc();
  std::swap(tc.entries[0], tc.entries[2]);
  auto unsorted = decode_tc(encode_tc(tc));
  ASSERT_FALSE(unsorted.is_ok());
  EXPECT_EQ(unsorted.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(unsorted.status(), "out of order")) << unsorted.status().message();

  tc = good_tc();
  tc.entries[1] = tc.entries[0];
  auto duplicate = decode_tc(encode_tc(tc));
  ASSERT_FALSE(duplicate.is_ok());
  EXPECT_TRUE(contains(duplicate.status(), "duplicate")) << duplicate.status().message();

  tc = good_tc();
  tc.high_qc = qc(vote_data(4, 3), {1, 0, 3});
  auto bad_qc = decode_tc(encode_tc(tc));
  ASSERT_FALSE(bad_qc.is_ok());
  EXPECT_TRUE(contains(bad_qc.status(), "out of order")) << bad_qc.status().message();
}

// The count is checked against kValidatorsMax before anything is allocated or read for it.
TEST_F(CertificatesEncoding, QcDecoderRejectsCountAboveValidatorsMax) {
  ByteWriter w;
  w.u8(kCertificateVersion).raw(encode_vote_data(vote_data(2, 1)));
  w.u16(static_cast<std::uint16_t>(kValidatorsMax + 1));
  auto decoded = decode_qc(w.data());
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "QC signature count: 1025 exceeds the limit of 1024"))
      << decoded.status().message();

  ByteWriter max;
  max.u8(kCertificateVersion).raw(encode_vote_data(vote_data(2, 1))).u16(0xffff);
  EXPECT_TRUE(contains(decode_qc(max.data()).status(), "exceeds the limit"));
}

TEST_F(CertificatesEncoding, TcDecoderRejectsCountAboveValidatorsMax) {
  ByteWriter w;
  w.u8(kCertificateVersion).u64(6).u16(static_cast<std::uint16_t>(kValidatorsMax + 1));
  auto decoded = decode_tc(w.data());
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "TC entry count: 1025 exceeds the limit of 1024"))
      << decoded.status().message();
}

TEST_F(CertificatesEncoding, DecodersDoNotVerifySignatures) {
  QuorumCert q = qc(vote_data(2, 1), {0, 1, 2});
  q.signatures[0].signature.bytes[0] ^= 1;
  EXPECT_TRUE(decode_qc(encode_qc(q)).is_ok());
}

// ---- verify_vote ----

TEST_F(VerifyVote, AcceptsValidatorVote) {
  EXPECT_TRUE(verify_vote(vote(1, vote_data(3, 2)), kChain, validators_).is_ok());
}

TEST_F(VerifyVote, RejectsNonValidator) {
  Signer outsider = signer_from(99);
  VoteData d = vote_data(3, 2);
  Vote v{d, outsider.public_key(), outsider.sign(vote_signing_hash(kChain, d))};
  Status s = verify_vote(v, kChain, validators_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "non-validator")) << s.message();
}

TEST_F(VerifyVote, RejectsBadSignature) {
  Vote v = vote(1, vote_data(3, 2));
  v.signature.bytes[5] ^= 0x10;
  Status s = verify_vote(v, kChain, validators_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "bad vote signature")) << s.message();
}

TEST_F(VerifyVote, RejectsSignatureOfAnotherValidator) {
  Vote v = vote(1, vote_data(3, 2));
  v.signer = key(2);
  EXPECT_EQ(verify_vote(v, kChain, validators_).code(), StatusCode::kInvalidArgument);
}

TEST_F(VerifyVote, RejectsWrongChainId) {
  Vote v = vote(1, vote_data(3, 2), "ledgerd-other");
  Status s = verify_vote(v, kChain, validators_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "bad vote signature")) << s.message();
  EXPECT_TRUE(verify_vote(v, "ledgerd-other", validators_).is_ok());
}

TEST_F(VerifyVote, RejectsChangedVoteData) {
  Vote v = vote(1, vote_data(3, 2));
  v.data.round = 4;
  EXPECT_EQ(verify_vote(v, kChain, validators_).code(), StatusCode::kInvalidArgument);
}

TEST_F(VerifyVote, RejectsParentRoundNotBelowRound) {
  for (std::uint64_t parent_round : {3u, 4u}) {
    Vote v = vote(1, vote_data(3, parent_round));
    Status s = verify_vote(v, kChain, validators_);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(s, "parent round")) << s.message();
  }
}

// ---- verify_qc ----

TEST_F(VerifyQc, AcceptsThreeOfFour) {
  Status s = verify_qc(qc(vote_data(3, 2), {0, 1, 2}), kChain, validators_, genesis_qc_);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_TRUE(verify_qc(qc(vote_data(3, 2), {1, 2, 3}), kChain, validators_, genesis_qc_).is_ok());
  EXPECT_TRUE(
      verify_qc(qc(vote_data(3, 2), {0, 1, 2, 3}), kChain, validators_, genesis_qc_).is_ok());
}

TEST_F(VerifyQc, RejectsTwoOfFourAsBelowQuorum) {
  Status s = verify_qc(qc(vote_data(3, 2), {0, 3}), kChain, validators_, genesis_qc_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "QC power 2 is below quorum 3")) << s.message();
}

TEST_F(VerifyQc, RejectsEmptyNonGenesisQc) {
  Status s = verify_qc(qc(vote_data(3, 2), {}), kChain, validators_, genesis_qc_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "below quorum")) << s.message();
}

TEST_F(VerifyQc, CountsPowerNotSigners) {
  std::vector<Validator> weighted;
  for (std::size_t i = 0; i < 4; ++i)
    weighted.push_back({key(i), i == 3 ? 2u : 1u, "w" + std::to_string(i)});
  auto set = ValidatorSet::create(weighted);
  ASSERT_TRUE(set.is_ok());
  ASSERT_EQ(set->quorum_power(), 4u);
  Status three_light = verify_qc(qc(vote_data(3, 2), {0, 1, 2}), kChain, *set, genesis_qc_);
  EXPECT_TRUE(contains(three_light, "QC power 3 is below quorum 4")) << three_light.message();
  EXPECT_TRUE(verify_qc(qc(vote_data(3, 2), {0, 1, 3}), kChain, *set, genesis_qc_).is_ok());
}

TEST_F(VerifyQc, RejectsDuplicateSigner) {
  // Two copies of one valid signature plus another would reach 3 if duplicates were counted.
  Status s = verify_qc(qc(vote_data(3, 2), {0, 1, 1}), kChain, validators_, genesis_qc_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "duplicate")) << s.message();
}

TEST_F(VerifyQc, RejectsUnsortedSigners) {
  Status s = verify_qc(qc(vote_data(3, 2), {2, 0, 1}), kChain, validators_, genesis_qc_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "out of order")) << s.message();
}

TEST_F(VerifyQc, RejectsNonValidatorSigner) {
  QuorumCert q = qc(vote_data(3, 2), {0, 1, 2});
  Signer outsider = signer_from(99);
  q.signatures.push_back(
      {outsider.public_key(), outsider.sign(vote_signing_hash(kChain, q.data), kAux)});
  std::sort(q.signatures.begin(), q.signatures.end(),
            [](const SignerSignature& a, const SignerSignature& b) { return a.signer < b.signer; });
  Status s = verify_qc(q, kChain, validators_, genesis_qc_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "non-validator")) << s.message();
}

TEST_F(VerifyQc, RejectsBadSignature) {
  QuorumCert q = qc(vote_data(3, 2), {0, 1, 2, 3});
  q.signatures[2].signature.bytes[40] ^= 0x01;
  Status s = verify_qc(q, kChain, validators_, genesis_qc_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "bad signature from " + key(2).hex())) << s.message();
}

TEST_F(VerifyQc, RejectsWrongChainId) {
  Status s = verify_qc(qc(vote_data(3, 2), {0, 1, 2}), "ledgerd-other", validators_, genesis_qc_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "bad signature")) << s.message();
}

TEST_F(VerifyQc, RejectsSignaturesOverOtherData) {
  QuorumCert q = qc(vote_data(3, 2), {0, 1, 2});
  q.data.block_id = hash_of("another block");
  EXPECT_TRUE(contains(verify_qc(q, kChain, validators_, genesis_qc_), "bad signature"));
}

TEST_F(VerifyQc, AcceptsGenesisQcOnlyWhenEqualToTheGivenOne) {
  EXPECT_TRUE(verify_qc(genesis_qc_, kChain, validators_, genesis_qc_).is_ok());

  QuorumCert other = genesis_qc_;
  other.data.block_id = hash_of("another genesis");
  Status s = verify_qc(other, kChain, validators_, genesis_qc_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "genesis")) << s.message();

  other = genesis_qc_;
  other.data.parent_id = hash_of("another document");
  EXPECT_FALSE(verify_qc(other, kChain, validators_, genesis_qc_).is_ok());

  // Signatures do not make a round-0 QC acceptable.
  other = qc(genesis_qc_.data, {0, 1, 2, 3});
  EXPECT_FALSE(verify_qc(other, kChain, validators_, genesis_qc_).is_ok());
}

TEST_F(VerifyQc, RejectsParentRoundNotBelowRound) {
  for (std::uint64_t parent_round : {3u, 4u}) {
    Status s =
        verify_qc(qc(vote_data(3, parent_round), {0, 1, 2}), kChain, validators_, genesis_qc_);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << parent_round;
    EXPECT_TRUE(contains(s, "is not below its round")) << s.message();
  }
}

// ---- verify_timeout ----

TEST_F(VerifyTimeout, AcceptsTimeoutWithGenesisHighQc) {
  Status s = verify_timeout(timeout(2, 1, genesis_qc_), kChain, validators_, genesis_qc_);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
}

TEST_F(VerifyTimeout, AcceptsTimeoutWithCertifiedHighQc) {
  Status s = verify_timeout(timeout(2, 7, qc(vote_data(5, 4), {0, 1, 3})), kChain, validators_,
                            genesis_qc_);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
}

TEST_F(VerifyTimeout, RejectsNonValidator) {
  Signer outsider = signer_from(99);
  Timeout t;
  t.round = 3;
  t.high_qc = genesis_qc_;
  t.signer = outsider.public_key();
  t.signature = outsider.sign(timeout_signing_hash(kChain, 3, 0), kAux);
  Status s = verify_timeout(t, kChain, validators_, genesis_qc_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "non-validator")) << s.message();
}

TEST_F(VerifyTimeout, RejectsHighQcRoundNotBelowTimeoutRound) {
  QuorumCert high = qc(vote_data(5, 4), {0, 1, 2});
  for (std::uint64_t round : {4u, 5u}) {
    Status s = verify_timeout(timeout(0, round, high), kChain, validators_, genesis_qc_);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << round;
    EXPECT_TRUE(contains(s, "high QC round is not below")) << s.message();
  }
}

TEST_F(VerifyTimeout, RejectsBadSignature) {
  Timeout t = timeout(1, 3, genesis_qc_);
  t.signature.bytes[0] ^= 0x80;
  Status s = verify_timeout(t, kChain, validators_, genesis_qc_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "bad timeout signature")) << s.message();
}

TEST_F(VerifyTimeout, RejectsWrongChainId) {
  Status s = verify_timeout(timeout(1, 3, genesis_qc_), "ledgerd-other", validators_, genesis_qc_);
  EXPECT_TRUE(contains(s, "bad timeout signature")) << s.message();
}

// The signature covers the high QC round, so a timeout cannot be replayed with another QC.
TEST_F(VerifyTimeout, RejectsSwappedHighQc) {
  Timeout t = timeout(1, 7, qc(vote_data(5, 4), {0, 1, 2}));
  t.high_qc = qc(vote_data(6, 5), {0, 1, 2});
  EXPECT_TRUE(
      contains(verify_timeout(t, kChain, validators_, genesis_qc_), "bad timeout signature"));
}

TEST_F(VerifyTimeout, RejectsInvalidHighQc) {
  Status s =
      verify_timeout(timeout(1, 7, qc(vote_data(5, 4), {0, 1})), kChain, validators_, genesis_qc_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "timeout high QC: QC power 2 is below quorum")) << s.message();

  QuorumCert fake_genesis = genesis_qc_;
  fake_genesis.data.block_id = hash_of("fork");
  s = verify_timeout(timeout(1, 2, fake_genesis), kChain, validators_, genesis_qc_);
  EXPECT_TRUE(contains(s, "timeout high QC")) << s.message();
}

// ---- verify_tc ----

TEST_F(VerifyTc, AcceptsThreeOfFour) {
  Status s = verify_tc(good_tc(), kChain, validators_, genesis_qc_);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
}

TEST_F(VerifyTc, AcceptsAllEntriesAtGenesis) {
  TimeoutCert tc;
  tc.round = 1;
  tc.entries = {entry(0, 1, 0), entry(1, 1, 0), entry(2, 1, 0), entry(3, 1, 0)};
  tc.high_qc = genesis_qc_;
  Status s = verify_tc(tc, kChain, validators_, genesis_qc_);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
}

TEST_F(VerifyTc, RejectsBelowQuorum) {
  TimeoutCert tc = good_tc();
  tc.entries.pop_back();  // entries 0 and 1: max high QC round is still 4
  Status s = verify_tc(tc, kChain, validators_, genesis_qc_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "TC power 2 is below quorum 3")) << s.message();

  tc.entries.clear();
  EXPECT_TRUE(contains(verify_tc(tc, kChain, validators_, genesis_qc_), "below quorum"));
}

TEST_F(VerifyTc, RejectsHighQcThatIsNotTheHighestEntryRound) {
  TimeoutCert tc = good_tc();
  tc.high_qc = qc(vote_data(3, 2), {0, 1, 2});  // a valid QC, but entry 1 reported round 4
  Status s = verify_tc(tc, kChain, validators_, genesis_qc_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "TC high QC round 3 is not the highest entry round 4")) << s.message();

  tc.high_qc = qc(vote_data(5, 4), {0, 1, 2});  // higher than any entry reported
  EXPECT_TRUE(contains(verify_tc(tc, kChain, validators_, genesis_qc_), "not the highest"));
}

TEST_F(VerifyTc, RejectsEntryHighQcRoundNotBelowTcRound) {
  for (std::uint64_t hqc_round : {6u, 7u}) {
    TimeoutCert tc = good_tc();
    tc.entries[0] = entry(0, 6, hqc_round);
    Status s = verify_tc(tc, kChain, validators_, genesis_qc_);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << hqc_round;
    EXPECT_TRUE(contains(s, "TC entry high QC round is not below the TC round")) << s.message();
  }
}

TEST_F(VerifyTc, RejectsBadSignature) {
  TimeoutCert tc = good_tc();
  tc.entries[1].signature.bytes[63] ^= 0x02;
  Status s = verify_tc(tc, kChain, validators_, genesis_qc_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "TC has a bad signature from " + key(1).hex())) << s.message();
}

TEST_F(VerifyTc, RejectsEntrySignedForAnotherRound) {
  TimeoutCert tc = good_tc();
  tc.entries[2] = entry(2, 5, 2);  // signed for round 5, placed in a round-6 TC
  EXPECT_TRUE(contains(verify_tc(tc, kChain, validators_, genesis_qc_), "bad signature"));
}

TEST_F(VerifyTc, RejectsEntryWithAlteredHighQcRound) {
  TimeoutCert tc = good_tc();
  tc.entries[2].high_qc_round = 1;  // signed with 2
  EXPECT_TRUE(contains(verify_tc(tc, kChain, validators_, genesis_qc_), "bad signature"));
}

TEST_F(VerifyTc, RejectsNonValidatorEntry) {
  TimeoutCert tc = good_tc();
  Signer outsider = signer_from(99);
  tc.entries.push_back(
      {outsider.public_key(), 1, outsider.sign(timeout_signing_hash(kChain, 6, 1), kAux)});
  std::sort(
      tc.entries.begin(), tc.entries.end(),
      [](const TimeoutCertEntry& a, const TimeoutCertEntry& b) { return a.signer < b.signer; });
  Status s = verify_tc(tc, kChain, validators_, genesis_qc_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "non-validator")) << s.message();
}

TEST_F(VerifyTc, RejectsDuplicateOrUnsortedEntries) {
  TimeoutCert tc = good_tc();
  tc.entries[2] = tc.entries[1];
  Status s = verify_tc(tc, kChain, validators_, genesis_qc_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "duplicate")) << s.message();

  tc = good_tc();
  std::swap(tc.entries[0], tc.entries[1]);
  EXPECT_TRUE(contains(verify_tc(tc, kChain, validators_, genesis_qc_), "out of order"));
}

TEST_F(VerifyTc, RejectsInvalidHighQc) {
  TimeoutCert tc = good_tc();
  tc.high_qc.signatures[0].signature.bytes[0] ^= 1;
  Status s = verify_tc(tc, kChain, validators_, genesis_qc_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s, "TC high QC: QC has a bad signature")) << s.message();
}

TEST_F(VerifyTc, RejectsWrongChainId) {
  EXPECT_TRUE(
      contains(verify_tc(good_tc(), "ledgerd-other", validators_, genesis_qc_), "bad signature"));
}

}  // namespace
}  // namespace ledger
