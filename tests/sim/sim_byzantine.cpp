// What Byzantine validators send (simulation.h). A Byzantine validator runs the honest code and
// then lies about its output, seed-chosen per message: equivocating proposals, bad signatures,
// withheld proposals, double and rule-breaking votes, timeouts far ahead or carrying other
// QCs, TCs without quorum, block responses with other transactions, unsolicited or empty
// responses, and honest proposals relayed with another TC. On the block sync side a Byzantine
// validator keeps one lie for the whole run (SyncLie): a huge claimed height with empty answers,
// tampered answers, or no answers at all.
#include "ledger/core/encoding.h"
#include "simulation.h"

namespace ledger::sim {

using consensus::BlockResponse;
using consensus::Message;
using consensus::OutgoingMessage;
using consensus::Proposal;
using consensus::TimeoutMessage;

namespace {

constexpr std::size_t kSeenQcsMax = 16;

// Deterministic signatures (auxiliary randomness from the message) keep a seed reproducible.
Signature sign_det(const Signer& signer, const Hash& message) {
  return signer.sign(message, message.bytes);
}

}  // namespace

SignedTransfer Simulation::forged_transfer() {
  const ClientAccount& client = clients_[uniform(0, clients_.size() - 1)];
  Transfer t;
  t.chain_id = std::string(kChainId);
  t.sender = client.signer.public_key();
  t.recipient = clients_[uniform(0, clients_.size() - 1)].signer.public_key();
  t.nonce = uniform(0, 40);
  t.amount = uniform(1, 1'000'000);
  return sign_transfer(t, client.signer, std::array<std::uint8_t, 32>{});
}

void Simulation::byzantine_receive(SimNode& node, const Message& message) {
  auto remember = [&node](const QuorumCert& qc) {
    if (qc.round() == 0) return;
    for (const QuorumCert& seen : node.seen_qcs)
      if (seen == qc) return;
    if (node.seen_qcs.size() >= kSeenQcsMax) node.seen_qcs.erase(node.seen_qcs.begin());
    node.seen_qcs.push_back(qc);
  };
  if (const auto* p = std::get_if<Proposal>(&message)) {
    remember(p->block.header.parent_qc);
    // Relay the leader's proposal with another TC: the signature binds the TC, so honest
    // validators must refuse the copy and still vote on the leader's own.
    const auto& high_tc = node.host->replica().high_tc();
    if (!node.silent && p->tc && high_tc && *high_tc != *p->tc && chance(0.5)) {
      Proposal relayed = *p;
      relayed.tc = high_tc;
      send(node, OutgoingMessage{std::nullopt, relayed});
    }
  }
  if (const auto* t = std::get_if<TimeoutMessage>(&message)) remember(t->timeout.high_qc);
  // The rest moved past the withheld proposal's round: show it, late, to one validator.
  const auto* tc = std::get_if<TimeoutCert>(&message);
  if (node.withheld && tc != nullptr && tc->round >= node.withheld->block.header.round) {
    const std::size_t to = uniform(0, nodes_.size() - 1);
    if (to != node.index) send(node, OutgoingMessage{nodes_[to].key, *node.withheld});
    node.withheld.reset();
  }
}

void Simulation::byzantine_send(SimNode& node, const OutgoingMessage& m) {
  if (node.silent) return;
  const Signer& signer = *node.own_signer;
  const std::string chain(kChainId);
  auto random_hash = [this] {
    Hash h;
    for (auto& b : h.bytes)
      b = static_cast<std::uint8_t>(uniform(0, 255));
    return h;
  };
  std::uint64_t behavior = uniform(0, 5);
  if (node.withholder && std::holds_alternative<Proposal>(m.message)) behavior = 4;
  if (behavior == 0) {  // honest
    send(node, m);
    return;
  }
  if (const auto* p = std::get_if<Proposal>(&m.message)) {
    if (behavior == 1) {  // equivocate: a second block for the same round to half of the peers
      Proposal other = *p;
      other.block.header.timestamp_ms += 1 + uniform(0, 5);
      other.signature =
          sign_det(signer, consensus::proposal_signing_hash(chain, other.block.id(), other.tc));
      const Bytes a = consensus::encode_message(*p);
      const Bytes b = consensus::encode_message(other);
      for (std::size_t to = 0; to < nodes_.size(); ++to) {
        if (to != node.index) send_bytes(node.index, to, to % 2 == 0 ? a : b);
      }
      return;
    }
    if (behavior == 2) {  // bad signature
      Proposal bad = *p;
      bad.signature.bytes[uniform(0, 63)] ^= 0x01;
      send(node, OutgoingMessage{m.to, bad});
      return;
    }
    if (behavior == 4) {  // withheld: the round's QC goes nowhere for now
      // ... and its timeouts do not show it either, so a TC forms without it; once one has,
      // the proposal (and its QC) goes to one validator only (byzantine_receive).
      node.hidden_qc_round = p->block.header.parent_qc.round();
      node.withheld = *p;
      return;
    }
    if (behavior == 5) {  // unsolicited: its tree's chain as a block response, to anyone
      BlockResponse unasked{node.host->replica().tree().chain_back(p->block.id(), 4)};
      const std::size_t to = uniform(0, nodes_.size() - 1);
      if (to != node.index) send(node, OutgoingMessage{nodes_[to].key, unasked});
    }
  }
  if (const auto* r = std::get_if<BlockResponse>(&m.message)) {
    if (behavior <= 3 && !r->blocks.empty()) {  // the certified header, other transactions
      BlockResponse tampered = *r;
      Block& first = tampered.blocks.front();
      if (first.transactions.empty() || chance(0.5)) {
        first.transactions.push_back(forged_transfer());
      } else {
        first.transactions.pop_back();
      }
      send(node, OutgoingMessage{m.to, tampered});
      return;
    }
    if (behavior == 4) {  // empty: "I do not have it"
      send(node, OutgoingMessage{m.to, BlockResponse{}});
      return;
    }
  }
  if (const auto* v = std::get_if<Vote>(&m.message)) {
    if (behavior == 1 || behavior == 3) {  // double vote: a second vote in the same round
      Vote other = *v;
      other.data.block_id = random_hash();
      other.signature = sign_det(signer, vote_signing_hash(chain, other.data));
      send(node, OutgoingMessage{m.to, other});
      send(node, m);
      return;
    }
    if (behavior == 2) {
      Vote bad = *v;
      bad.signature.bytes[uniform(0, 63)] ^= 0x80;
      send(node, OutgoingMessage{m.to, bad});
      return;
    }
    if (behavior == 4 && v->data.round > 2) {  // a vote that breaks the rules: old round
      Vote old = *v;
      old.data.round = v->data.round - 2;
      old.data.parent_round = old.data.round - 1;
      old.data.block_id = random_hash();
      old.signature = sign_det(signer, vote_signing_hash(chain, old.data));
      send(node, OutgoingMessage{std::nullopt, old});
      return;
    }
  }
  if (const auto* t = std::get_if<TimeoutMessage>(&m.message)) {
    if (node.hidden_qc_round && t->timeout.high_qc.round() == *node.hidden_qc_round) {
      const QuorumCert* older = nullptr;
      for (const QuorumCert& qc : node.seen_qcs) {
        if (qc.round() < *node.hidden_qc_round && (!older || qc.round() > older->round())) {
          older = &qc;
        }
      }
      TimeoutMessage hiding = *t;
      hiding.timeout.high_qc = older != nullptr ? *older : genesis_qc_;
      hiding.timeout.signature = sign_det(
          signer,
          timeout_signing_hash(chain, hiding.timeout.round, hiding.timeout.high_qc.round()));
      send(node, OutgoingMessage{std::nullopt, hiding});
      return;
    }
    if (behavior == 2) {
      TimeoutMessage bad = *t;
      bad.timeout.signature.bytes[uniform(0, 63)] ^= 0x02;
      send(node, OutgoingMessage{m.to, bad});
      return;
    }
    if (behavior == 4) {  // a timeout for a round far ahead, validly signed
      TimeoutMessage ahead = *t;
      ahead.timeout.round += 5;
      ahead.timeout.signature = sign_det(
          signer, timeout_signing_hash(chain, ahead.timeout.round, ahead.timeout.high_qc.round()));
      send(node, OutgoingMessage{std::nullopt, ahead});
      return;
    }
    if (behavior == 5 && !node.seen_qcs.empty()) {  // carrying an older QC (abandoned blocks)
      TimeoutMessage other = *t;
      other.timeout.high_qc = node.seen_qcs[uniform(0, node.seen_qcs.size() - 1)];
      if (other.timeout.high_qc.round() < other.timeout.round) {
        other.timeout.signature = sign_det(
            signer,
            timeout_signing_hash(chain, other.timeout.round, other.timeout.high_qc.round()));
        send(node, OutgoingMessage{std::nullopt, other});
        return;
      }
    }
    if (behavior == 1) {  // a TC without quorum, carrying only its own entry
      TimeoutCert tc;
      tc.round = t->timeout.round;
      tc.entries.push_back(
          TimeoutCertEntry{node.key, t->timeout.high_qc.round(), t->timeout.signature});
      tc.high_qc = t->timeout.high_qc;
      send(node, OutgoingMessage{std::nullopt, tc});
      send(node, m);
      return;
    }
  }
  if (behavior == 3 && chance(0.5)) return;  // selective silence
  send(node, m);
}

// ---- Block sync -------------------------------------------------------------------------

// The committed height a Byzantine validator claims: far ahead to be asked (and to be asked
// again and again, if asking never penalised it), or its own.
std::uint64_t Simulation::byzantine_claim(SimNode& node, std::uint64_t height) {
  switch (node.sync_lie) {
    case SyncLie::kHugeEmpty:
      return chance(0.5) ? UINT64_MAX : height + uniform(1'000, std::uint64_t{1} << 40);
    case SyncLie::kTampered:
    case SyncLie::kUnanswered:
      return height + uniform(0, 50);
    case SyncLie::kNone:
    case SyncLie::kFarCertificate:  // only its true height: its answers must be full to be used
      break;
  }
  return height;
}

std::optional<node::SyncResponseMessage> Simulation::byzantine_sync_answer(
    SimNode& node, node::SyncResponseMessage answer) {
  switch (node.sync_lie) {
    case SyncLie::kNone:
      return answer;
    case SyncLie::kUnanswered:
      return std::nullopt;
    case SyncLie::kHugeEmpty:
      answer.blocks.clear();
      answer.proof_headers.clear();
      answer.committed_height = UINT64_MAX;
      return answer;
    case SyncLie::kFarCertificate:
      return far_certificate_answer(node, std::move(answer));
    case SyncLie::kTampered:
      break;
  }
  if (answer.blocks.empty()) return answer;
  const BlockLimits& limits = replica_config_.block_limits;
  const std::size_t i = uniform(0, answer.blocks.size() - 1);
  auto block = decode_block(answer.blocks[i].block, limits);
  auto cert = decode_qc(answer.blocks[i].commit_cert);
  if (!block.is_ok() || !cert.is_ok()) return answer;
  switch (uniform(0, 4)) {
    case 0: {  // the certified header, other transactions
      Block& b = block.value();
      if (b.transactions.empty() || chance(0.5)) {
        b.transactions.push_back(forged_transfer());
      } else {
        b.transactions.pop_back();
      }
      answer.blocks[i].block = encode_block(b);
      break;
    }
    case 1: {  // a forged certificate: one signature changed
      QuorumCert& qc = cert.value();
      if (!qc.signatures.empty()) qc.signatures[0].signature.bytes[uniform(0, 63)] ^= 0x04;
      answer.blocks[i].commit_cert = encode_qc(qc);
      break;
    }
    case 2:  // a valid certificate that does not commit this block: its parent's QC
      answer.blocks[i].commit_cert = encode_qc(block.value().header.parent_qc);
      break;
    case 3:  // blocks that do not link: one left out, or a header changed (another id)
      if (answer.blocks.size() >= 2) {
        answer.blocks.erase(answer.blocks.begin() +
                            static_cast<std::ptrdiff_t>(i % (answer.blocks.size() - 1)));
      } else {
        block.value().header.timestamp_ms += 1;
        answer.blocks[i].block = encode_block(block.value());
      }
      break;
    default:  // proof headers that do not prove the batch
      if (!answer.proof_headers.empty()) {
        answer.proof_headers.pop_back();
      } else {
        answer.committed_height = UINT64_MAX;
        answer.blocks.resize(i);  // fewer blocks than it has, and a lie about its height
      }
      break;
  }
  return answer;
}

// The honest answer, but every block carries the genuine certificate of a later batch, whose B0
// is as far above the last block as the asker takes proof headers for, with the proof headers
// up to it. BlockSync accepts it: it does prove those blocks committed. The asker commits each
// block under the nearest certificate the headers prove (block_sync.h, "Nearest certificates"),
// and where none is nearer, must not publish it before that B0 is stored.
node::SyncResponseMessage Simulation::far_certificate_answer(const SimNode& node,
                                                             node::SyncResponseMessage answer) {
  if (answer.blocks.empty()) return answer;
  const storage::ChainStore& chain = node.durable->chain;
  const std::uint64_t last = answer.from_height + answer.blocks.size() - 1;
  const std::uint64_t reach = last + 2 * replica_config_.pending_blocks_max;  // proof_headers_max
  const Bytes original = answer.blocks.back().commit_cert;
  for (std::uint64_t h = std::min(reach, chain.tip()->height); h > last; --h) {
    auto cert = chain.commit_cert_at(h);
    if (!cert.is_ok()) continue;
    auto b0 = chain.height_of(cert.value().data.parent_id);
    if (!b0.is_ok() || b0.value() <= last || b0.value() > reach) continue;
    const Bytes far = encode_qc(cert.value());
    if (far == original) continue;  // the honest certificate
    std::vector<Bytes> headers;
    for (std::uint64_t p = last + 1; p <= b0.value(); ++p) {
      auto header = chain.raw_header_at(p);
      if (!header.is_ok()) return answer;
      headers.push_back(std::move(header).value());
    }
    for (node::SyncResponseMessage::Item& item : answer.blocks)
      item.commit_cert = far;
    answer.proof_headers = std::move(headers);
    return answer;
  }
  return answer;
}

}  // namespace ledger::sim
