// The simulation's invariant checks (simulation.h): what honest validators sign, what they
// commit (ids, contents and state roots at every height), and liveness after healing.
#include "ledger/core/encoding.h"
#include "simulation.h"

namespace ledger::sim {

using consensus::Message;
using consensus::Proposal;
using consensus::TimeoutMessage;

void Simulation::check_signed(SimNode& node, const Message& message) {
  SignedLog& log = node.log;
  const std::string who = "honest node " + std::to_string(node.index);
  // A conflict with what an earlier incarnation signed means the persisted safety data failed.
  auto restart = [&](std::uint64_t round) {
    auto it = log.incarnation.find(round);
    return it != log.incarnation.end() && it->second != node.incarnation ? " (across a restart)"
                                                                         : "";
  };
  auto signed_in = [&](std::uint64_t round) { log.incarnation.emplace(round, node.incarnation); };
  if (const auto* p = std::get_if<Proposal>(&message)) {
    if (p->block.header.proposer != node.key) return;
    const std::uint64_t r = p->block.header.round;
    auto [it, inserted] = log.proposals.emplace(r, p->block.id());
    if (!inserted && it->second != p->block.id())
      fail(who + " proposed two blocks in round " + std::to_string(r) + restart(r));
    signed_in(r);
    return;
  }
  if (const auto* v = std::get_if<Vote>(&message)) {
    if (v->signer != node.key) return;
    const std::uint64_t r = v->data.round;
    auto it = log.votes.find(r);
    if (it != log.votes.end()) {
      if (it->second != v->data)
        fail(who + " signed two different votes in round " + std::to_string(r) + restart(r));
      return;
    }
    if (!log.timeouts.empty() && r <= log.max_timeout_round) {
      fail(who + " voted in round " + std::to_string(r) + " after timing out in round " +
           std::to_string(log.max_timeout_round) + restart(log.max_timeout_round));
    }
    if (r < log.max_vote_round) {
      fail(who + " voted in round " + std::to_string(r) + " after voting in round " +
           std::to_string(log.max_vote_round) + restart(log.max_vote_round));
    }
    log.votes.emplace(r, v->data);
    signed_in(r);
    log.max_vote_round = std::max(log.max_vote_round, r);
    return;
  }
  if (const auto* t = std::get_if<TimeoutMessage>(&message)) {
    if (t->timeout.signer != node.key) return;
    const std::uint64_t r = t->timeout.round;
    auto it = log.timeouts.find(r);
    if (it != log.timeouts.end()) {
      if (it->second != t->timeout)
        fail(who + " signed two different timeouts in round " + std::to_string(r) + restart(r));
      return;
    }
    if (r < log.max_vote_round) {
      fail(who + " timed out in round " + std::to_string(r) + " below its vote in round " +
           std::to_string(log.max_vote_round) + restart(log.max_vote_round));
    }
    log.timeouts.emplace(r, t->timeout);
    signed_in(r);
    log.max_timeout_round = std::max(log.max_timeout_round, r);
  }
}

bool Simulation::verified_once(const QuorumCert& qc) {
  ByteWriter w;
  write_qc(w, qc);
  const Hash digest = sha256(w.data());
  if (verified_certs_.contains(digest)) return true;
  if (!verify_qc(qc, kChainId, genesis_.validators, genesis_qc_).is_ok()) return false;
  verified_certs_.insert(digest);
  return true;
}

// `commits` were just stored by `node`'s commit pipeline: its chain store holds them.
void Simulation::check_commits(SimNode& node, const std::vector<consensus::CommittedBlock>& commits,
                               bool synced) {
  const storage::ChainStore& chain = node.durable->chain;
  const std::string who = "honest node " + std::to_string(node.index);
  for (std::size_t i = 0; i < commits.size(); ++i) {
    const Block& b = commits[i].block;
    const Hash id = b.id();
    const std::uint64_t height = b.header.height;
    auto stored = chain.block_at(height);
    auto results = chain.results_at(height);
    if (!stored.is_ok() || stored.value().id() != id || !results.is_ok()) {
      fail(who + " committed " + id.hex() + " at height " + std::to_string(height) +
           " but its chain store does not hold it there");
      return;
    }
    // What was stored, not what consensus handed over: the contents a reader would see.
    const Canonical mine{id, sha256(encode_block(stored.value())), results.value().state_root};
    if (height < canonical_.size()) {
      const Canonical& agreed = canonical_[height];
      if (agreed.id != mine.id) {
        fail("AGREEMENT: " + who + " committed " + id.hex() + " at height " +
             std::to_string(height) + ", another honest node committed " + agreed.id.hex());
        return;
      }
      if (agreed.content != mine.content) {
        fail("CONTENT AGREEMENT: " + who + " committed block " + id.hex() + " at height " +
             std::to_string(height) + " with other transactions than another honest node");
        return;
      }
      if (agreed.state_root != mine.state_root) {
        fail("STATE AGREEMENT: " + who + " has state root " + mine.state_root.hex() +
             " after height " + std::to_string(height) + ", another honest node " +
             agreed.state_root.hex());
        return;
      }
    } else {
      if (height != canonical_.size()) {
        fail(who + " committed height " + std::to_string(height) + " before height " +
             std::to_string(canonical_.size()) + " was committed by anyone");
        return;
      }
      // First commit at this height: it must link to the previous one through a valid QC.
      if (b.header.parent_qc.block_id() != canonical_[height - 1].id ||
          !verified_once(b.header.parent_qc)) {
        fail(who + " committed block at height " + std::to_string(height) +
             " without a valid QC for its parent");
        return;
      }
      canonical_.push_back(mine);
      result_.transactions += b.transactions.size();
    }
    const QuorumCert& cert = commits[i].commit_cert;
    const bool last_of_batch = i + 1 == commits.size() || commits[i + 1].commit_cert != cert;
    // Block sync may commit a batch cut across responses: the certificate of its last block then
    // names a B0 above it, which BlockSync checked through the response's proof headers.
    const bool b0_here = cert.data.parent_id == id;
    const bool b0_later = synced && cert.data.parent_round > b.header.round;
    if (last_of_batch && ((!b0_here && !b0_later) || cert.round() != cert.data.parent_round + 1 ||
                          !verified_once(cert))) {
      // Reported at the end of the run unless an agreement violation comes first: a broken
      // commit rule must show as the disagreement it causes, the worst of its effects.
      if (validity_failure_.empty()) {
        validity_failure_ = "t=" + std::to_string(now_) + "ms: VALIDITY: " + who +
                            " committed height " + std::to_string(height) +
                            " without a valid 2-chain commit certificate";
      }
    }
  }
}

// Invariants of the publication rule (include/ledger/node/chain_view.h), each named in its
// failure:
//  - PUBLISHED MONOTONIC: the published height never goes down over the node's lifetime. A
//    restart republishes from the store's publication hold (publish_stored): nothing at or
//    above the hold's first height was published before the crash, and the hold is durable
//    with its blocks, so a restart publishes the height published before or a higher one.
//  - PUBLISHED STORED: the published height is at most the stored tip.
//  - PUBLISHED B0: every block at or below the published height has its commit certificate's B0
//    stored at or below the published height (a reader can resolve every certificate it meets).
//  - PUBLISHED READABLE: ChainView::block_at answers every published height.
// Heights are checked once, when first published: the store only grows, and a B0 at or below
// the published height then stays so.
void Simulation::check_published(SimNode& node) {
  const node::ChainView& view = node.host->view();
  const storage::ChainStore& chain = node.durable->chain;
  const std::string who = "honest node " + std::to_string(node.index);
  const std::uint64_t published = view.latest_height();
  if (published < node.published_max) {
    fail("PUBLISHED MONOTONIC: " + who + " publishes height " + std::to_string(published) +
         " after height " + std::to_string(node.published_max) + " (incarnation " +
         std::to_string(node.incarnation) + ")");
    return;
  }
  node.published_max = published;
  const std::uint64_t stored = chain.tip()->height;
  if (published > stored) {
    fail("PUBLISHED STORED: " + who + " publishes height " + std::to_string(published) +
         " above its stored tip " + std::to_string(stored));
    return;
  }
  for (std::uint64_t h = node.published_checked + 1; h <= published; ++h) {
    auto cert = chain.commit_cert_at(h);
    if (!cert.is_ok()) {
      fail("PUBLISHED READABLE: " + who + " published height " + std::to_string(h) +
           " whose certificate cannot be read: " + cert.status().to_string());
      return;
    }
    const Hash& b0 = cert.value().data.parent_id;
    auto b0_height = chain.height_of(b0);
    if (!b0_height.is_ok() || b0_height.value() > published) {
      fail("PUBLISHED B0: " + who + " published height " + std::to_string(published) +
           ", but the certificate of height " + std::to_string(h) + " names B0 " + b0.hex() +
           (b0_height.is_ok() ? " at height " + std::to_string(b0_height.value())
                              : std::string(", which it does not store")));
      return;
    }
    auto view_block = view.block_at(h);
    if (!view_block.is_ok()) {
      fail("PUBLISHED READABLE: " + who + " published height " + std::to_string(published) +
           " but its ChainView cannot answer height " + std::to_string(h) + ": " +
           view_block.status().to_string());
      return;
    }
  }
  node.published_checked = std::max(node.published_checked, published);
}

void Simulation::check_liveness() {
  if (!height_at_heal_ || live_) return;
  std::uint64_t lowest = UINT64_MAX;
  for (const SimNode& n : nodes_) {
    if (!n.byzantine) lowest = std::min<std::uint64_t>(lowest, n.durable->chain.tip()->height);
  }
  if (lowest >= *height_at_heal_ + config_.new_blocks) live_ = true;
}

}  // namespace ledger::sim
