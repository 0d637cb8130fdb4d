// A chain with failed rounds for the block-sync tests (block_sync_test.cpp,
// sync_service_test.cpp): several blocks share one commit certificate, as consensus makes them
// (a QC for B1 whose parent B0 has B1.round == B0.round + 1 commits B0 and every uncommitted
// block below it), with signed certificates and an in-memory store of the committed part.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ledger/node/block_sync.h"
#include "ledger/node/sync_service.h"
#include "ledger/storage/memory_chain_store.h"
#include "support/chain_fixture.h"
#include "support/test_keys.h"

namespace ledger::node::sync_test {

using storage::ChainTip;

inline constexpr const char* kChain = "sync-test";
inline constexpr std::uint64_t kHugeHeight = 1'000'000'000'000;

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
          // The QC for the child, as the grandchild's header carries it when there is one.
          VoteData data{child.id(), child.header.round, blocks_[b0].id(), blocks_[b0].header.round};
          by_b0.emplace(b0, b0 + 2 < blocks_.size() ? blocks_[b0 + 2].header.parent_qc
                                                    : testing::sign_qc(data, kChain, signers_));
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
      const Status s = store_->commit(commit, std::nullopt);
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
    // A real, signed QC for the parent, as consensus makes them (block sync trusts none it does
    // not verify, but uses those of committed headers: see "Nearest certificates").
    block.header.parent_qc =
        parent.header.height == 0
            ? genesis_qc(parent)
            : testing::sign_qc(VoteData{parent.id(), parent.header.round, parent.header.parent_id,
                                        blocks_[parent.header.height - 1].header.round},
                               kChain, signers_);
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
inline const std::vector<std::uint64_t> kRounds = {1, 2, 3, 5, 7, 8, 9, 10, 12, 13, 14, 15};

// `chain` as a node stores it after a peer answered heights 1..4 with the genuine certificate of
// height 11 (a later batch, B0 = chain.b0_of(11)), and honest peers the rest.
inline std::unique_ptr<storage::MemoryChainStore> store_with_far_certificates(
    const SyncChain& chain) {
  auto stored = std::make_unique<storage::MemoryChainStore>(kChain);
  for (std::uint64_t h = 0; h <= chain.committed_height(); ++h) {
    storage::BlockCommit commit;
    commit.block = chain.block(h);
    commit.commit_cert = h >= 1 && h <= 4 ? chain.cert(11) : chain.cert(h);
    commit.results.state_root = commit.accumulator.digest();
    EXPECT_TRUE(stored->commit(commit, std::nullopt).is_ok());
  }
  return stored;
}

inline PublicKey peer_key(std::uint8_t n) {
  return testing::test_signer(0x5c, n).public_key();
}

}  // namespace ledger::node::sync_test
