// Builders for consensus unit tests: a 4-validator chain, signed votes, QCs, timeouts, TCs,
// blocks and proposals, all deterministic.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "ledger/consensus/replica.h"
#include "ledger/storage/memory_safety_store.h"

namespace ledger::consensus::testing {

inline constexpr std::string_view kChain = "test-chain";

inline SecretKey test_key(std::size_t i) {
  std::array<std::uint8_t, 32> b{};
  b[0] = 0x11;
  b[31] = static_cast<std::uint8_t>(i + 1);
  return SecretKey::from_bytes(b).value().copy();
}

inline Signature sign_det(const Signer& s, const Hash& m) {
  return s.sign(m, m.bytes);
}

// A SafetyStore whose saves can be made to fail.
class FlakySafetyStore final : public SafetyStore {
 public:
  Status save(const SafetyData& data) override {
    if (fail_) return Status::io_error("disk full (test)");
    Status s = inner_.save(data);
    if (s.is_ok()) ++saves_;
    return s;
  }
  StatusOr<std::optional<SafetyData>> load() const override { return inner_.load(); }
  void set_fail(bool fail) { fail_ = fail; }
  int saves() const { return saves_; }

 private:
  storage::MemorySafetyStore inner_;
  bool fail_ = false;
  int saves_ = 0;
};

class TestChain {
 public:
  explicit TestChain(std::size_t n = 4) {
    std::vector<Validator> vs;
    for (std::size_t i = 0; i < n; ++i) {
      signers_.push_back(Signer::create(test_key(i)).value());
      vs.push_back(Validator{signers_.back().public_key(), 1, "v" + std::to_string(i)});
    }
    validators_ = ValidatorSet::create(vs).value();
    genesis_.header.chain_id = std::string(kChain);
    genesis_.header.parent_id = sha256(as_bytes("test genesis"));
    genesis_.header.timestamp_ms = 1000;
    genesis_.header.transactions_root = transactions_root({});
    gqc_ = genesis_qc(genesis_);
  }

  std::size_t size() const { return signers_.size(); }
  const ValidatorSet& validators() const { return validators_; }
  const Block& genesis() const { return genesis_; }
  const QuorumCert& gqc() const { return gqc_; }
  const Signer& signer(std::size_t i) const { return signers_.at(i); }
  const PublicKey& key(std::size_t i) const { return signers_.at(i).public_key(); }
  std::size_t leader_index(std::uint64_t round) const { return round % size(); }

  ReplicaConfig config() const {
    ReplicaConfig c;
    c.chain_id = std::string(kChain);
    c.validators = validators_;
    c.genesis = genesis_;
    c.pacemaker.round_timeout_ticks = 10;
    c.payload_checks = false;  // tests that want the host's check turn it on
    return c;
  }
  CertificateVerifier verifier() const {
    return CertificateVerifier(std::string(kChain), validators_, gqc_, 16);
  }

  Vote vote(std::size_t i, const Block& b) const {
    Vote v;
    v.data = VoteData{b.id(), b.header.round, b.header.parent_id, b.header.parent_qc.round()};
    v.signer = key(i);
    v.signature = sign_det(signer(i), vote_signing_hash(kChain, v.data));
    return v;
  }
  // A QC for `b` signed by validators `who` (default: the first quorum).
  QuorumCert qc(const Block& b, std::vector<std::size_t> who = {}) const {
    if (who.empty()) {
      for (std::size_t i = 0; i < validators_.quorum_power(); ++i)
        who.push_back(i);
    }
    QuorumCert q;
    for (std::size_t i : who) {
      Vote v = vote(i, b);
      q.data = v.data;
      q.signatures.push_back({v.signer, v.signature});
    }
    std::sort(q.signatures.begin(), q.signatures.end(),
              [](const auto& a, const auto& c) { return a.signer < c.signer; });
    return q;
  }
  Timeout timeout(std::size_t i, std::uint64_t round, const QuorumCert& high_qc) const {
    Timeout t;
    t.round = round;
    t.high_qc = high_qc;
    t.signer = key(i);
    t.signature = sign_det(signer(i), timeout_signing_hash(kChain, round, high_qc.round()));
    return t;
  }
  TimeoutCert tc(std::uint64_t round, const QuorumCert& high_qc,
                 std::vector<std::size_t> who = {}) const {
    if (who.empty()) {
      for (std::size_t i = 0; i < validators_.quorum_power(); ++i)
        who.push_back(i);
    }
    TimeoutCert t;
    t.round = round;
    for (std::size_t i : who) {
      Timeout x = timeout(i, round, high_qc);
      t.entries.push_back({x.signer, high_qc.round(), x.signature});
    }
    std::sort(t.entries.begin(), t.entries.end(),
              [](const auto& a, const auto& c) { return a.signer < c.signer; });
    t.high_qc = high_qc;
    return t;
  }
  // A block of `round` on the block `parent_qc` certifies (`parent`), by the round's leader.
  Block block(const Block& parent, std::uint64_t round, const QuorumCert& parent_qc,
              std::uint64_t timestamp_ms = 0) const {
    Block b;
    b.header.chain_id = std::string(kChain);
    b.header.height = parent.header.height + 1;
    b.header.round = round;
    b.header.parent_id = parent.id();
    b.header.parent_qc = parent_qc;
    b.header.proposer = key(leader_index(round));
    b.header.timestamp_ms = timestamp_ms != 0 ? timestamp_ms : parent.header.timestamp_ms + 1;
    b.header.transactions_root = transactions_root({});
    return b;
  }
  Proposal proposal(const Block& b, std::optional<TimeoutCert> tc = {}) const {
    Proposal p;
    p.block = b;
    p.tc = std::move(tc);
    const std::size_t i = index_of(b.header.proposer);
    p.signature = sign_det(signer(i), proposal_signing_hash(kChain, b.id(), p.tc));
    return p;
  }
  std::size_t index_of(const PublicKey& k) const {
    for (std::size_t i = 0; i < size(); ++i)
      if (key(i) == k) return i;
    return 0;
  }

  // A fresh replica for validator `i` with its own store.
  std::unique_ptr<Replica> replica(std::size_t i, SafetyStore& store,
                                   std::optional<RecoveryData> recovery = {},
                                   bool payload_checks = false) const {
    ReplicaConfig c = config();
    c.payload_checks = payload_checks;
    auto r = Replica::create(c, Signer::create(test_key(i)).value(), store,
                             recovery ? *recovery : Replica::genesis_recovery(c));
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return std::move(r).value();
  }
  SafetyRules safety_rules(std::size_t i, SafetyStore& store) const {
    return SafetyRules::create(Signer::create(test_key(i)).value(), store, verifier()).value();
  }

 private:
  std::vector<Signer> signers_;
  ValidatorSet validators_;
  Block genesis_;
  QuorumCert gqc_;
};

// Finders over Actions.
template <typename T>
std::vector<T> sent(const Actions& a) {
  std::vector<T> out;
  for (const auto& m : a.messages)
    if (const T* x = std::get_if<T>(&m.message)) out.push_back(*x);
  return out;
}

inline bool rejected(const Actions& a, RejectReason reason) {
  return std::any_of(a.rejections.begin(), a.rejections.end(),
                     [&](const Rejection& r) { return r.reason == reason; });
}

// A four-validator chain and a safety store, with the first blocks of consecutive rounds: round
// r is led by validator r % 4, and QC(b[r+1]) commits b[r]. The base of the replica tests.
class ReplicaFixture : public ::testing::Test {
 protected:
  TestChain c_;
  storage::MemorySafetyStore store_;
  Block b1_ = c_.block(c_.genesis(), 1, c_.gqc());
  QuorumCert qc1_ = c_.qc(b1_);
  Block b2_ = c_.block(b1_, 2, qc1_);
  QuorumCert qc2_ = c_.qc(b2_);
  Block b3_ = c_.block(b2_, 3, qc2_);

  // `b` as its proposer sends it.
  Actions propose(Replica& r, const Block& b, std::optional<TimeoutCert> tc = {}) {
    return r.on_proposal(b.header.proposer, c_.proposal(b, std::move(tc)));
  }
};

}  // namespace ledger::consensus::testing
