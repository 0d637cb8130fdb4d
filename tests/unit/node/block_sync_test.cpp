// Block sync (include/ledger/node/block_sync.h, sync_service.h): the asking side driven with
// crafted responses and a fake clock, and the answering side over an in-memory chain store.
//
// The chains here have failed rounds, so that several blocks share one commit certificate: a
// QC for B1 whose parent B0 has B1.round == B0.round + 1 commits B0 and every uncommitted block
// below it.
#include "ledger/node/block_sync.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ledger/node/sync_service.h"
#include "ledger/storage/memory_chain_store.h"
#include "support/chain_fixture.h"
#include "support/test_keys.h"

namespace ledger::node {
namespace {

using namespace std::chrono_literals;
using storage::ChainTip;

constexpr const char* kChain = "sync-test";
constexpr std::uint64_t kHugeHeight = 1'000'000'000'000;

// A chain of blocks at heights 1..rounds.size() with the given rounds, signed commit
// certificates (4 validators of power 1), and an in-memory store holding its committed part.
class SyncChain {
 public:
  explicit SyncChain(const std::vector<std::uint64_t>& rounds) {
    std::vector<Validator> members;
    for (std::uint8_t i = 0; i < 4; ++i) {
      signers_.push_back(testing::test_signer(0x5b, static_cast<std::uint8_t>(i + 1)));
      members.push_back(Validator{signers_.back().public_key(), 1, "v" + std::to_string(i)});
    }
    validators_ = ValidatorSet::create(members).value();
    Block genesis;
    genesis.header.chain_id = kChain;
    genesis.header.parent_id = sha256(as_bytes("sync-test genesis document"));
    genesis.header.timestamp_ms = 1000;
    genesis.header.transactions_root = transactions_root({});
    blocks_.push_back(genesis);
    for (std::uint64_t round : rounds)
      append(round);
    // Commit certificates: block h is committed by the first B0 at or above h whose child is
    // one round later; the blocks of one batch share the very same QC, as consensus makes them.
    std::map<std::uint64_t, QuorumCert> by_b0;
    for (std::uint64_t h = 1; h < blocks_.size(); ++h) {
      for (std::uint64_t b0 = h; b0 + 1 < blocks_.size(); ++b0) {
        const Block& child = blocks_[b0 + 1];
        if (child.header.round != blocks_[b0].header.round + 1) continue;
        if (!by_b0.contains(b0)) {
          VoteData data{child.id(), child.header.round, blocks_[b0].id(), blocks_[b0].header.round};
          by_b0.emplace(b0, testing::sign_qc(data, kChain, signers_));
        }
        certs_.push_back(by_b0.at(b0));
        b0_.push_back(b0);
        break;
      }
      if (certs_.size() < h) break;  // not committed yet
    }
    certs_.insert(certs_.begin(), genesis_qc(genesis));
    b0_.insert(b0_.begin(), 0);
    store_ = std::make_unique<storage::MemoryChainStore>(kChain);
    for (std::uint64_t h = 0; h <= committed_height(); ++h) {
      storage::BlockCommit commit;
      commit.block = blocks_[h];
      commit.commit_cert = certs_[h];
      commit.results.codes.assign(blocks_[h].transactions.size(), TxResultCode::kSuccess);
      commit.results.state_root = commit.accumulator.digest();
      const Status s = store_->commit(commit);
      EXPECT_TRUE(s.is_ok()) << s.to_string();
    }
  }

  BlockSyncConfig config() const {
    BlockSyncConfig c;
    c.chain_id = kChain;
    c.validators = validators_;
    c.genesis_qc = certs_[0];
    c.blocks_max = 4;
    c.proof_headers_max = 16;
    return c;
  }
  SyncServiceConfig service_config() const {
    SyncServiceConfig c;
    c.blocks_max = 4;
    c.proof_headers_max = 16;
    c.requests_per_second = 1000;
    return c;
  }

  std::uint64_t committed_height() const { return certs_.size() - 1; }
  const Block& block(std::uint64_t h) const { return blocks_.at(h); }
  Hash id(std::uint64_t h) const { return blocks_.at(h).id(); }
  const QuorumCert& cert(std::uint64_t h) const { return certs_.at(h); }
  std::uint64_t b0_of(std::uint64_t h) const { return b0_.at(h); }
  ChainTip tip_at(std::uint64_t h) const { return ChainTip{h, id(h)}; }
  const storage::ChainStore& store() const { return *store_; }
  const std::vector<Signer>& signers() const { return signers_; }

  // A response with blocks from..from+count-1 and, if `proofs`, the headers up to the last
  // block's B0.
  SyncResponseMessage response(std::uint64_t from, std::uint64_t count, bool proofs = true) const {
    SyncResponseMessage r;
    r.from_height = from;
    r.committed_height = committed_height();
    for (std::uint64_t h = from; h < from + count; ++h) {
      r.blocks.push_back({encode_block(block(h)), encode_qc(cert(h))});
    }
    if (proofs) {
      for (std::uint64_t h = from + count; h <= b0_of(from + count - 1); ++h)
        r.proof_headers.push_back(encode_header(block(h).header));
    }
    return r;
  }

 private:
  void append(std::uint64_t round) {
    const Block& parent = blocks_.back();
    Block block;
    block.header.chain_id = kChain;
    block.header.height = parent.header.height + 1;
    block.header.round = round;
    block.header.parent_id = parent.id();
    block.header.parent_qc.data =
        VoteData{parent.id(), parent.header.round, parent.header.parent_id, 0};
    block.header.proposer = signers_[round % signers_.size()].public_key();
    block.header.timestamp_ms = parent.header.timestamp_ms + 1;
    block.header.transactions_root = transactions_root({});
    block.header.state_root =
        sha256(as_bytes("state after " + std::to_string(parent.header.height)));
    blocks_.push_back(std::move(block));
  }

  std::vector<Signer> signers_;
  ValidatorSet validators_;
  std::vector<Block> blocks_;      // by height
  std::vector<QuorumCert> certs_;  // by height, committed heights only
  std::vector<std::uint64_t> b0_;  // by height: the height of the B0 of certs_[h]
  std::unique_ptr<storage::MemoryChainStore> store_;
};

// Heights 1..12. Rounds 4 and 6 failed, so heights 3, 4 and 5 share one certificate (B0 = 5);
// round 11 failed, so 8 and 9 share one (B0 = 9). Height 12 is not committed.
const std::vector<std::uint64_t> kRounds = {1, 2, 3, 5, 7, 8, 9, 10, 12, 13, 14, 15};

PublicKey peer_key(std::uint8_t n) {
  return testing::test_signer(0x5c, n).public_key();
}

// The asking side with a local chain: applies commits as the node's commit path would.
class Asker {
 public:
  Asker(const SyncChain& chain, BlockSyncConfig config)
      : chain_(chain), sync_(std::move(config)), tip_(chain.tip_at(0)) {}

  BlockSync& sync() { return sync_; }
  const ChainTip& tip() const { return tip_; }
  SyncTime now() const { return now_; }
  void advance(std::chrono::milliseconds d) { now_ += d; }

  std::optional<SyncRequestOut> poll() {
    SyncOutput out = sync_.poll(tip_, now_);
    record(out);
    return out.request;
  }
  SyncOutput respond(const PublicKey& peer, const SyncResponseMessage& response) {
    SyncOutput out = sync_.on_response(peer, response, tip_, now_);
    record(out);
    for (const SyncCommitGroup& group : out.commits) {
      EXPECT_FALSE(group.blocks.empty());
      for (const SyncedBlock& synced : group.blocks) {
        EXPECT_EQ(synced.block.header.height, tip_.height + 1);
        EXPECT_EQ(synced.block.header.parent_id, tip_.block_id);
        EXPECT_EQ(synced.id, chain_.id(synced.block.header.height));
        EXPECT_EQ(group.commit_cert, chain_.cert(synced.block.header.height));
        tip_ = ChainTip{synced.block.header.height, synced.id};
      }
    }
    return out;
  }
  const std::vector<SyncPenalty>& penalties() const { return penalties_; }

 private:
  void record(const SyncOutput& out) {
    penalties_.insert(penalties_.end(), out.penalties.begin(), out.penalties.end());
  }

  const SyncChain& chain_;
  BlockSync sync_;
  ChainTip tip_;
  SyncTime now_{std::chrono::hours(1)};
  std::vector<SyncPenalty> penalties_;
};

// Sync from `service` until nothing more is asked; returns the number of requests.
int sync_all(Asker& asker, const PublicKey& peer, SyncService& service) {
  int requests = 0;
  for (int i = 0; i < 100; ++i) {
    auto request = asker.poll();
    if (!request) break;
    ++requests;
    EXPECT_EQ(request->peer, peer);
    auto answer = service.answer(request->request);
    EXPECT_TRUE(answer.is_ok()) << answer.status().to_string();
    if (!answer.is_ok()) break;
    const SyncOutput out = asker.respond(peer, answer.value().response);
    EXPECT_TRUE(out.penalties.empty()) << out.penalties.front().reason;
    if (!out.penalties.empty()) break;
  }
  return requests;
}

::testing::AssertionResult penalised_for(const SyncOutput& out, const PublicKey& peer,
                                         const std::string& reason) {
  if (out.penalties.size() != 1) {
    return ::testing::AssertionFailure() << out.penalties.size() << " penalties";
  }
  if (out.penalties[0].peer != peer) return ::testing::AssertionFailure() << "another peer";
  if (out.penalties[0].reason.find(reason) == std::string::npos) {
    return ::testing::AssertionFailure() << "reason: " << out.penalties[0].reason;
  }
  if (!out.commits.empty()) return ::testing::AssertionFailure() << "blocks were accepted";
  return ::testing::AssertionSuccess();
}

// ---- A cut inside a commit batch ----------------------------------------------------------

TEST(BlockSync, CutInsideABatch_ProvedByProofHeaders_IsAcceptedAndCompletes) {
  const SyncChain chain(kRounds);
  ASSERT_EQ(chain.committed_height(), 11u);
  ASSERT_EQ(chain.b0_of(3), 5u);
  const PublicKey peer = peer_key(1);
  Asker asker(chain, chain.config());
  SyncService service(chain.store(), chain.service_config());
  asker.sync().on_peer_status(peer, chain.committed_height());

  // Asked for 1..4: height 4 is committed by height 5, which the answer proves with its header.
  auto request = asker.poll();
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->request, (SyncRequestMessage{1, 4}));
  auto answer = service.answer(request->request);
  ASSERT_TRUE(answer.is_ok());
  ASSERT_EQ(answer.value().response.blocks.size(), 4u);
  ASSERT_EQ(answer.value().response.proof_headers.size(), 1u);
  EXPECT_EQ(answer.value().response.proof_headers[0], encode_header(chain.block(5).header));
  const SyncOutput out = asker.respond(peer, answer.value().response);
  EXPECT_TRUE(out.penalties.empty());
  ASSERT_EQ(out.commits.size(), 3u);  // {1}, {2}, {3, 4}: the proof header is not committed
  EXPECT_EQ(out.commits[2].blocks.size(), 2u);
  EXPECT_EQ(asker.tip().height, 4u);

  sync_all(asker, peer, service);
  EXPECT_EQ(asker.tip(), chain.tip_at(chain.committed_height()));
  EXPECT_EQ(asker.sync().stats().failures, 0u);
}

TEST(BlockSync, CutInsideABatch_WithoutProofHeaders_IsRefused) {
  const SyncChain chain(kRounds);
  const PublicKey peer = peer_key(1);
  Asker asker(chain, chain.config());
  asker.sync().on_peer_status(peer, chain.committed_height());
  ASSERT_TRUE(asker.poll().has_value());
  EXPECT_TRUE(penalised_for(asker.respond(peer, chain.response(1, 4, /*proofs=*/false)), peer,
                            "does not prove a 2-chain over it"));
  EXPECT_EQ(asker.tip().height, 0u);
}

TEST(BlockSync, SyncBlocksMax1_SyncsAcrossABatchOfThree) {
  const SyncChain chain(kRounds);
  const PublicKey peer = peer_key(1);
  BlockSyncConfig config = chain.config();
  config.blocks_max = 1;
  SyncServiceConfig service_config = chain.service_config();
  service_config.blocks_max = 1;
  Asker asker(chain, config);
  SyncService service(chain.store(), service_config);
  asker.sync().on_peer_status(peer, chain.committed_height());
  const int requests = sync_all(asker, peer, service);
  EXPECT_EQ(asker.tip(), chain.tip_at(chain.committed_height()));
  EXPECT_EQ(requests, static_cast<int>(chain.committed_height()));  // one block per request
  EXPECT_EQ(asker.sync().stats().failures, 0u);
}

TEST(BlockSync, ProofHeadersOverTheBound_Refused) {
  // Rounds 2, 4 and 6 failed: heights 1..4 share one certificate (B0 = 4).
  const SyncChain chain({1, 3, 5, 7, 8, 9});
  ASSERT_EQ(chain.b0_of(1), 4u);
  const PublicKey peer = peer_key(1);
  BlockSyncConfig config = chain.config();
  config.proof_headers_max = 2;
  Asker asker(chain, config);
  asker.sync().on_peer_status(peer, chain.committed_height());
  ASSERT_TRUE(asker.poll().has_value());
  const SyncResponseMessage response = chain.response(1, 1);  // block 1 and headers 2, 3, 4
  ASSERT_EQ(response.proof_headers.size(), 3u);
  EXPECT_TRUE(penalised_for(asker.respond(peer, response), peer, "3 proof headers, more than 2"));
}

TEST(BlockSync, ProofHeaders_MustLinkAndEndAtB0) {
  const SyncChain chain(kRounds);
  const PublicKey peer = peer_key(1);
  Asker asker(chain, chain.config());
  asker.sync().on_peer_status(peer, chain.committed_height());

  // One header short of B0.
  ASSERT_TRUE(asker.poll().has_value());
  SyncResponseMessage short_of_b0 = chain.response(1, 3);  // 1..3, headers 4 and 5
  short_of_b0.proof_headers.pop_back();
  EXPECT_TRUE(penalised_for(asker.respond(peer, short_of_b0), peer,
                            "the last proof header is not the block that commits height 3"));

  // A header that does not link to the last block.
  asker.advance(1h);
  ASSERT_TRUE(asker.poll().has_value());
  SyncResponseMessage unlinked = chain.response(1, 4);
  BlockHeader forged = chain.block(5).header;
  forged.parent_id = sha256(as_bytes("elsewhere"));
  unlinked.proof_headers[0] = encode_header(forged);
  EXPECT_TRUE(penalised_for(asker.respond(peer, unlinked), peer,
                            "proof header at height 5 does not link to the block before it"));
  EXPECT_EQ(asker.tip().height, 0u);
}

// ---- Refused responses ------------------------------------------------------------------------

TEST(BlockSync, TamperedTransactions_RefusedAndPeerPenalised) {
  const SyncChain chain(kRounds);
  const PublicKey liar = peer_key(1);
  const PublicKey honest = peer_key(2);
  Asker asker(chain, chain.config());
  asker.sync().on_peer_status(liar, chain.committed_height() + 5);  // the highest claim
  asker.sync().on_peer_status(honest, chain.committed_height());
  auto request = asker.poll();
  ASSERT_TRUE(request.has_value());
  ASSERT_EQ(request->peer, liar);

  SyncResponseMessage response = chain.response(1, 2);
  Block tampered = chain.block(2);
  const Signer& sender = chain.signers()[0];
  tampered.transactions.push_back(
      testing::make_transfer(sender, kChain, 0, peer_key(9), 5));  // the header is unchanged
  response.blocks[1].block = encode_block(tampered);
  EXPECT_TRUE(penalised_for(asker.respond(liar, response), liar,
                            "block at height 2: transactions do not match the root"));
  EXPECT_EQ(asker.tip().height, 0u);  // nothing of the response is committed
  EXPECT_EQ(asker.sync().failures_of(liar), 1u);

  // Paced: nothing for retry_interval, then the other peer is asked.
  EXPECT_FALSE(asker.poll().has_value());
  asker.advance(chain.config().retry_interval);
  request = asker.poll();
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->peer, honest);
  EXPECT_EQ(request->request.from_height, 1u);
}

TEST(BlockSync, CertificateThatDoesNotProveTheBlock_Refused) {
  const SyncChain chain(kRounds);
  const PublicKey peer = peer_key(1);
  Asker asker(chain, chain.config());
  asker.sync().on_peer_status(peer, chain.committed_height());
  auto ask = [&] {
    asker.advance(60s);  // past any backoff here, not long enough to forget the failures
    ASSERT_TRUE(asker.poll().has_value());
  };

  // The certificate of an earlier block: its B0 is below the block.
  ask();
  SyncResponseMessage earlier = chain.response(1, 2);
  earlier.blocks[1].commit_cert = encode_qc(chain.cert(1));
  EXPECT_TRUE(penalised_for(asker.respond(peer, earlier), peer,
                            "the commit certificate of height 2 does not prove a 2-chain over it"));

  // A QC for a child two rounds later: a 1-chain, which commits nothing.
  ask();
  SyncResponseMessage gap = chain.response(1, 1);
  const Block& b1 = chain.block(1);
  gap.blocks[0].commit_cert = encode_qc(testing::sign_qc(
      VoteData{sha256(as_bytes("child")), b1.header.round + 2, b1.id(), b1.header.round}, kChain,
      chain.signers()));
  EXPECT_TRUE(penalised_for(asker.respond(peer, gap), peer,
                            "does not prove a 2-chain: round 3 after parent round 1"));

  // The right shape, but signed by only 2 of 4 validators: no quorum.
  ask();
  SyncResponseMessage weak = chain.response(1, 1);
  std::vector<Signer> two;
  two.push_back(testing::test_signer(0x5b, 1));
  two.push_back(testing::test_signer(0x5b, 2));
  weak.blocks[0].commit_cert = encode_qc(testing::sign_qc(chain.cert(1).data, kChain, two));
  EXPECT_TRUE(penalised_for(asker.respond(peer, weak), peer, "the commit certificate of height 1"));

  // A parent round that is not B0's round.
  ask();
  SyncResponseMessage wrong_round = chain.response(1, 1);
  VoteData data = chain.cert(1).data;
  data.parent_round += 1;
  data.round += 1;
  wrong_round.blocks[0].commit_cert = encode_qc(testing::sign_qc(data, kChain, chain.signers()));
  EXPECT_TRUE(penalised_for(asker.respond(peer, wrong_round), peer, "names parent round 2"));

  EXPECT_EQ(asker.tip().height, 0u);
  EXPECT_EQ(asker.sync().failures_of(peer), 4u);
}

TEST(BlockSync, BlocksThatDoNotExtendTheTip_Refused) {
  const SyncChain chain(kRounds);
  // Another history of the same chain from height 2 on (round 2 failed there).
  const SyncChain other({1, 3, 4, 5, 6, 7});
  ASSERT_EQ(other.id(1), chain.id(1));
  ASSERT_NE(other.id(2), chain.id(2));
  const PublicKey peer = peer_key(1);
  Asker asker(chain, chain.config());
  asker.sync().on_peer_status(peer, chain.committed_height());
  ASSERT_TRUE(asker.poll().has_value());
  asker.respond(peer, chain.response(1, 2));
  ASSERT_EQ(asker.tip().height, 2u);

  ASSERT_TRUE(asker.poll().has_value());
  EXPECT_TRUE(penalised_for(asker.respond(peer, other.response(3, 2)), peer,
                            "block at height 3 does not extend the tip"));
  asker.advance(1h);
  ASSERT_TRUE(asker.poll().has_value());
  EXPECT_TRUE(penalised_for(asker.respond(peer, chain.response(4, 2)), peer,
                            "blocks from height 4, asked from 3"));
  asker.advance(1h);
  ASSERT_TRUE(asker.poll().has_value());
  EXPECT_TRUE(
      penalised_for(asker.respond(peer, chain.response(3, 5)), peer, "5 blocks, more than the 4"));
  asker.advance(1h);
  ASSERT_TRUE(asker.poll().has_value());
  SyncResponseMessage garbage = chain.response(3, 3);
  garbage.blocks[1].block = Bytes{1, 2, 3};
  EXPECT_TRUE(penalised_for(asker.respond(peer, garbage), peer, "block at height 4: "));
  asker.advance(1h);
  ASSERT_TRUE(asker.poll().has_value());
  SyncResponseMessage bad_cert = chain.response(3, 3);
  bad_cert.blocks[2].commit_cert = Bytes{9};
  EXPECT_TRUE(penalised_for(asker.respond(peer, bad_cert), peer,
                            "commit certificate of block at height 5: "));
  EXPECT_EQ(asker.tip().height, 2u);
}

TEST(BlockSync, UnsolicitedResponses_Ignored) {
  const SyncChain chain(kRounds);
  const PublicKey asked = peer_key(1);
  const PublicKey stranger = peer_key(2);
  Asker asker(chain, chain.config());

  // Nothing asked: ignored, nobody penalised, nothing committed.
  SyncOutput out = asker.respond(asked, chain.response(1, 2));
  EXPECT_TRUE(out.commits.empty());
  EXPECT_TRUE(out.penalties.empty());

  // Asked one peer; another answers: ignored, and the request stays in flight.
  asker.sync().on_peer_status(asked, chain.committed_height());
  ASSERT_TRUE(asker.poll().has_value());
  out = asker.respond(stranger, chain.response(1, 2));
  EXPECT_TRUE(out.commits.empty());
  EXPECT_TRUE(out.penalties.empty());
  EXPECT_TRUE(asker.sync().request_in_flight());
  EXPECT_EQ(asker.sync().stats().responses_unsolicited, 2u);

  // The peer asked answers: accepted. A second answer to the same request is unsolicited.
  out = asker.respond(asked, chain.response(1, 2));
  EXPECT_EQ(asker.tip().height, 2u);
  out = asker.respond(asked, chain.response(3, 3));
  EXPECT_TRUE(out.commits.empty());
  EXPECT_EQ(asker.tip().height, 2u);
  EXPECT_EQ(asker.sync().stats().responses_unsolicited, 3u);
}

// ---- Liveness: liars, timeouts, pacing --------------------------------------------------------

// Issue 11 point 5: a peer that claims a huge height and answers every request with no blocks.
// It is backed off exponentially and the honest peer is asked; over 120 simulated seconds (the
// liar repeating its claim every second) it gets a handful of requests, not one per answer.
TEST(BlockSync, EmptyRepliesFromAPeerClaimingAHugeHeight_RotateAndBoundRequests) {
  const SyncChain chain(kRounds);
  const PublicKey liar = peer_key(1);
  const PublicKey honest = peer_key(2);
  Asker asker(chain, chain.config());
  SyncService service(chain.store(), chain.service_config());
  asker.sync().on_peer_status(honest, chain.committed_height());

  int liar_requests = 0;
  int honest_requests = 0;
  std::optional<int> synced_at_ms;
  constexpr int kStepMs = 10;
  constexpr int kSimulatedMs = 120'000;
  for (int t = 0; t < kSimulatedMs; t += kStepMs) {
    if (t % 1000 == 0) asker.sync().on_peer_status(liar, kHugeHeight);
    int in_step = 0;
    while (auto request = asker.poll()) {
      ASSERT_LE(++in_step, 100) << "asking in a loop at " << t << " ms, " << liar_requests
                                << " requests to the liar so far";
      if (request->peer == liar) {
        ++liar_requests;
        SyncResponseMessage empty;
        empty.from_height = request->request.from_height;
        empty.committed_height = t % 2000 == 0 ? kHugeHeight : 0;  // both are lies
        asker.respond(liar, empty);
      } else {
        ++honest_requests;
        auto answer = service.answer(request->request);
        ASSERT_TRUE(answer.is_ok());
        asker.respond(honest, answer.value().response);
      }
    }
    // The shell arms its timer at next_poll(): never at a time already past (a busy loop).
    if (const auto next = asker.sync().next_poll(asker.now())) {
      ASSERT_GT(*next, asker.now());
    }
    if (!synced_at_ms && asker.tip().height == chain.committed_height()) synced_at_ms = t;
    asker.advance(std::chrono::milliseconds(kStepMs));
  }
  ASSERT_TRUE(synced_at_ms.has_value()) << "stuck at height " << asker.tip().height;
  EXPECT_LE(*synced_at_ms, 1000);
  EXPECT_EQ(asker.tip(), chain.tip_at(chain.committed_height()));
  // Backoff 1, 2, 4, ... 60 s: asked at about 0, 1, 3, 7, 15, 31, 63 and 123 s.
  EXPECT_GE(liar_requests, 2);
  EXPECT_LE(liar_requests, 8);
  EXPECT_LE(honest_requests, 4);
  EXPECT_EQ(asker.sync().failures_of(liar), static_cast<std::uint32_t>(liar_requests));
  for (const SyncPenalty& penalty : asker.penalties()) {
    EXPECT_EQ(penalty.peer, liar);
    EXPECT_NE(
        penalty.reason.find("no blocks, though it claimed height " + std::to_string(kHugeHeight)),
        std::string::npos)
        << penalty.reason;
    EXPECT_LE(penalty.backoff, chain.config().backoff_max);
  }
}

TEST(BlockSync, UnansweredRequest_TimesOutAndAnotherPeerIsAsked) {
  const SyncChain chain(kRounds);
  const PublicKey silent = peer_key(1);
  const PublicKey honest = peer_key(2);
  Asker asker(chain, chain.config());
  asker.sync().on_peer_status(silent, chain.committed_height() + 1);
  asker.sync().on_peer_status(honest, chain.committed_height());
  auto request = asker.poll();
  ASSERT_TRUE(request.has_value());
  ASSERT_EQ(request->peer, silent);
  EXPECT_EQ(asker.sync().next_poll(asker.now()), asker.now() + chain.config().request_timeout);

  // One request in flight: nothing else is asked until it times out.
  asker.advance(chain.config().request_timeout - 1ms);
  EXPECT_FALSE(asker.poll().has_value());
  asker.advance(1ms);
  EXPECT_FALSE(asker.poll().has_value());  // timed out; the retry interval starts
  ASSERT_EQ(asker.penalties().size(), 1u);
  EXPECT_NE(asker.penalties()[0].reason.find("did not answer within 10000 ms"), std::string::npos);
  EXPECT_EQ(asker.sync().next_poll(asker.now()), asker.now() + chain.config().retry_interval);
  asker.advance(chain.config().retry_interval);
  request = asker.poll();
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->peer, honest);
}

TEST(BlockSync, PeerGoneWithARequestInFlight_IsAFailure) {
  const SyncChain chain(kRounds);
  const PublicKey peer = peer_key(1);
  Asker asker(chain, chain.config());
  asker.sync().on_peer_status(peer, chain.committed_height());
  ASSERT_TRUE(asker.poll().has_value());
  const SyncOutput out = asker.sync().on_peer_gone(peer, asker.now());
  EXPECT_TRUE(penalised_for(out, peer, "disconnected with a request in flight"));
  EXPECT_FALSE(asker.sync().request_in_flight());
  // Back again at once: still backing off (the penalty outlives the connection).
  asker.sync().on_peer_status(peer, chain.committed_height());
  asker.advance(chain.config().retry_interval);
  EXPECT_FALSE(asker.poll().has_value());
  asker.advance(chain.config().backoff_min);
  EXPECT_TRUE(asker.poll().has_value());
}

TEST(BlockSync, Backoff_DoublesUpToItsBoundAndSuccessClearsIt) {
  const SyncChain chain(kRounds);
  const PublicKey peer = peer_key(1);
  Asker asker(chain, chain.config());
  asker.sync().on_peer_status(peer, chain.committed_height());
  std::vector<std::chrono::milliseconds> backoffs;
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(asker.poll().has_value()) << i;
    SyncResponseMessage empty;
    empty.from_height = 1;
    empty.committed_height = chain.committed_height();
    const SyncOutput out = asker.respond(peer, empty);
    ASSERT_EQ(out.penalties.size(), 1u);
    backoffs.push_back(out.penalties[0].backoff);
    asker.advance(out.penalties[0].backoff - 1ms);
    EXPECT_FALSE(asker.poll().has_value()) << "asked before its backoff ended";
    asker.advance(1ms);
  }
  const std::vector<std::chrono::milliseconds> expected = {1s, 2s, 4s, 8s, 16s, 32s, 60s, 60s, 60s};
  EXPECT_EQ(backoffs, expected);
  ASSERT_TRUE(asker.poll().has_value());
  asker.respond(peer, chain.response(1, 2));
  EXPECT_EQ(asker.tip().height, 2u);
  EXPECT_EQ(asker.sync().failures_of(peer), 0u);
}

TEST(BlockSync, ValidatorLag_OnlyPeersFurtherAheadAreAsked) {
  const SyncChain chain(kRounds);
  const PublicKey peer = peer_key(1);
  BlockSyncConfig config = chain.config();
  config.lag_blocks = 8;
  Asker asker(chain, config);
  asker.sync().on_peer_status(peer, 8);
  EXPECT_FALSE(asker.poll().has_value());
  asker.sync().on_peer_status(peer, 9);
  EXPECT_TRUE(asker.poll().has_value());
}

TEST(BlockSync, TipMovedDuringTheRequest_NeitherFailureNorSuccess) {
  const SyncChain chain(kRounds);
  const PublicKey peer = peer_key(1);
  BlockSync sync(chain.config());
  sync.on_peer_status(peer, chain.committed_height());
  const SyncTime now{};
  auto asked = sync.poll(chain.tip_at(0), now);
  ASSERT_TRUE(asked.request.has_value());
  // Consensus committed 1..4 meanwhile.
  SyncOutput out = sync.on_response(peer, chain.response(1, 4), chain.tip_at(4), now);
  EXPECT_TRUE(out.commits.empty());
  EXPECT_TRUE(out.penalties.empty());
  EXPECT_EQ(sync.stats().responses_stale, 1u);
  // Partly above it: only the rest is returned, and it must extend the new tip.
  asked = sync.poll(chain.tip_at(1), now);
  ASSERT_TRUE(asked.request.has_value());
  out = sync.on_response(peer, chain.response(2, 4), chain.tip_at(3), now);
  ASSERT_EQ(out.commits.size(), 1u);
  ASSERT_EQ(out.commits[0].blocks.size(), 2u);
  EXPECT_EQ(out.commits[0].blocks[0].block.header.height, 4u);
}

// ---- The answering side -----------------------------------------------------------------------

TEST(SyncService, Answer_EndsWithProofHeadersUpToB0) {
  const SyncChain chain(kRounds);
  SyncService service(chain.store(), chain.service_config());
  for (std::uint64_t from = 1; from <= chain.committed_height(); ++from) {
    auto answer = service.answer(SyncRequestMessage{from, 2});
    ASSERT_TRUE(answer.is_ok());
    const SyncResponseMessage& r = answer.value().response;
    EXPECT_EQ(r.from_height, from);
    EXPECT_EQ(r.committed_height, chain.committed_height());
    const std::uint64_t last = std::min(from + 1, chain.committed_height());
    ASSERT_EQ(r.blocks.size(), last - from + 1);
    EXPECT_EQ(r.proof_headers.size(), chain.b0_of(last) - last) << "from " << from;
  }
  auto above = service.answer(SyncRequestMessage{chain.committed_height() + 1, 4});
  ASSERT_TRUE(above.is_ok());
  EXPECT_TRUE(above.value().response.blocks.empty());
}

TEST(SyncService, BatchLongerThanProofHeadersMax_AnswersOnlyProvableBlocks) {
  // Heights 2..5 share one certificate (B0 = 5): from 2 with 1 block needs 3 proof headers.
  const SyncChain chain({1, 2, 4, 6, 8, 9, 10, 11});
  ASSERT_EQ(chain.b0_of(2), 5u);
  SyncServiceConfig config = chain.service_config();
  config.proof_headers_max = 2;
  SyncService service(chain.store(), config);
  auto answer = service.answer(SyncRequestMessage{1, 2});  // 1 is provable alone, 2 is not
  ASSERT_TRUE(answer.is_ok());
  EXPECT_EQ(answer.value().response.blocks.size(), 1u);
  EXPECT_TRUE(answer.value().response.proof_headers.empty());
  answer = service.answer(SyncRequestMessage{2, 1});
  ASSERT_TRUE(answer.is_ok());
  EXPECT_TRUE(answer.value().response.blocks.empty());
  ASSERT_EQ(answer.value().notes.size(), 1u);
  EXPECT_NE(answer.value().notes[0].text.find("more than proof_headers_max (2)"), std::string::npos)
      << answer.value().notes[0].text;
}

TEST(SyncService, ResponseBytesMax_CutsTheAnswerAndKeepsItProvable) {
  const SyncChain chain(kRounds);
  SyncServiceConfig config = chain.service_config();
  const std::uint64_t one = encode_block(chain.block(3)).size() + encode_qc(chain.cert(3)).size();
  config.response_bytes_max = 2 * one + 100;  // two blocks, not three
  SyncService service(chain.store(), config);
  auto answer = service.answer(SyncRequestMessage{3, 4});
  ASSERT_TRUE(answer.is_ok());
  const SyncResponseMessage& r = answer.value().response;
  ASSERT_GE(r.blocks.size(), 1u);
  ASSERT_LE(r.blocks.size(), 2u);
  EXPECT_EQ(r.proof_headers.size(), 5 - (3 + r.blocks.size() - 1));

  BlockSync sync(chain.config());
  sync.on_peer_status(peer_key(1), chain.committed_height());
  ASSERT_TRUE(sync.poll(chain.tip_at(2), SyncTime{}).request.has_value());
  const SyncOutput out = sync.on_response(peer_key(1), r, chain.tip_at(2), SyncTime{});
  EXPECT_TRUE(out.penalties.empty());
  ASSERT_EQ(out.commits.size(), 1u);
  EXPECT_EQ(out.commits[0].blocks.size(), r.blocks.size());
}

TEST(SyncService, RateLimit_DropsAboveTheRateAndLogsAtMostOnceASecond) {
  const SyncChain chain(kRounds);
  SyncServiceConfig config = chain.service_config();
  config.requests_per_second = 5;
  SyncService service(chain.store(), config);
  const PublicKey flooder = peer_key(1);
  const PublicKey other = peer_key(2);
  SyncTime now{std::chrono::hours(1)};
  int admitted = 0;
  int lines = 0;
  for (int i = 0; i < 100; ++i) {  // 100 requests within 100 ms
    const SyncAdmission a = service.admit(flooder, now);
    admitted += a.admitted ? 1 : 0;
    if (a.log_line) {
      ++lines;
      EXPECT_NE(
          a.log_line->find("sync: dropped a request from " + to_hex(flooder.bytes).substr(0, 12) +
                           ": more than 5 requests per second"),
          std::string::npos)
          << *a.log_line;
    }
    now += 1ms;
  }
  EXPECT_EQ(admitted, 5);  // the burst; less than one token refilled meanwhile
  EXPECT_EQ(lines, 1);
  EXPECT_EQ(service.dropped(), 95u);
  EXPECT_TRUE(service.admit(other, now).admitted);  // per peer
  now += 1s;
  int after = 0;
  for (int i = 0; i < 10; ++i)
    after += service.admit(flooder, now).admitted ? 1 : 0;
  EXPECT_EQ(after, 5);  // refilled at the rate, up to the burst
}

}  // namespace
}  // namespace ledger::node
