// Node: the peer-to-peer side of the event loop (docs/p2p.md): routing consensus messages,
// transaction gossip, peer status, and block sync. Everything here runs on the loop thread,
// except queue_gossip (any thread).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>

#include "ledger/core/assert.h"
#include "ledger/core/bytes.h"
#include "ledger/p2p/v1/p2p.pb.h"
#include "node_impl.h"

namespace ledger::node {
namespace {

namespace wire = ::ledger::p2p::v1;

// The gossip queue holds at most this many batches' worth of transactions; beyond it new
// admissions are not gossiped (they stay in this node's mempool and are proposed from here).
constexpr std::size_t kGossipQueueBatches = 16;
// A validator more than this many blocks behind its best peer syncs blocks instead of waiting
// for consensus to fetch them; a full node syncs whenever a peer is ahead.
constexpr std::uint64_t kValidatorSyncLagBlocks = 8;
// A sync request unanswered for this long is abandoned, and that peer avoided for a while.
constexpr std::chrono::milliseconds kSyncTimeout{10'000};
constexpr std::chrono::milliseconds kSyncAvoid{30'000};
// Room for the envelope and the certificate around each synced block.
constexpr std::size_t kEnvelopeSlack = 64 * 1024;

std::string peer_name(const PublicKey& key) {
  return to_hex(key.bytes).substr(0, 12);
}

std::shared_ptr<const Bytes> serialize(const wire::Envelope& envelope) {
  auto out = std::make_shared<Bytes>(envelope.ByteSizeLong());
  const bool ok = envelope.SerializeToArray(out->data(), static_cast<int>(out->size()));
  LEDGER_ASSERT(ok);
  return out;
}

std::string as_string(const Bytes& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

// ---- Starting and stopping -------------------------------------------------------------------

Status Node::Impl::start_network() {
  const P2pConfig& config = options.config.p2p;
  p2p::TransportOptions t;
  t.chain_id = options.genesis.chain_id;
  t.listen = config.listen;
  for (const std::string& text : config.peers) {
    LEDGER_ASSIGN_OR_RETURN(auto peer, p2p::parse_peer_address(text));
    if (peer.key == node_id) continue;  // a shared peer list may name this node too
    t.peers.push_back(std::move(peer));
  }
  for (std::size_t i = 0; i < options.genesis.validators.size(); ++i) {
    t.validators.insert(options.genesis.validators.at(i).key);
  }
  t.accept_unknown_peers = config.accept_unknown_peers;
  t.frame_bytes_max = config.frame_bytes_max;
  t.send_queue_bytes_max = config.send_queue_bytes_max;
  t.connections_max = config.connections_max;
  t.handshake_timeout = std::chrono::milliseconds(config.handshake_timeout_ms);
  t.write_timeout = std::chrono::milliseconds(config.write_timeout_ms);
  t.dial_backoff_min = std::chrono::milliseconds(config.dial_backoff_min_ms);
  t.dial_backoff_max = std::chrono::milliseconds(config.dial_backoff_max_ms);
  LEDGER_ASSIGN_OR_RETURN(transport, p2p::Transport::start(io, options.node_key, t, *this));
  spdlog::info("p2p: node key {}, {} peers configured, {}", peer_name(node_id), t.peers.size(),
               is_validator() ? "validator" : "full node");
  schedule_gossip();
  schedule_status();
  return Status::ok();
}

void Node::Impl::stop_network() {
  gossip_timer.cancel();
  status_timer.cancel();
  sync_timer.cancel();
  if (transport) transport->stop();
  admission_pool.stop();  // admissions in progress refuse with kUnavailable (stopping is set)
}

void Node::Impl::publish_network() {
  std::vector<PublicKey> keys;
  keys.reserve(peers.size());
  for (const auto& [key, state] : peers)
    keys.push_back(key);
  std::lock_guard lock(network_mutex);
  connected_peers = std::move(keys);
}

void Node::Impl::on_connected(const PublicKey& peer) {
  PeerState state;
  state.validator = options.genesis.validators.contains(peer);
  peers[peer] = state;
  publish_network();
  // The transport logs the connection itself at info.
  spdlog::debug("p2p: peer {} ({}) ready, {} peers", peer_name(peer),
                state.validator ? "validator" : "full node", peers.size());
  send_status(peer);
}

void Node::Impl::on_disconnected(const PublicKey& peer) {
  peers.erase(peer);
  block_service.forget_peer(peer);
  publish_network();
  spdlog::debug("p2p: peer {} gone, {} peers", peer_name(peer), peers.size());
  if (sync && sync->peer == peer) {
    sync.reset();
    sync_timer.cancel();
    maybe_start_sync();
  }
}

// ---- Incoming frames --------------------------------------------------------------------------

void Node::Impl::on_frame(const PublicKey& peer, Bytes payload) {
  if (stopping) return;
  wire::Envelope envelope;
  if (!envelope.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    spdlog::warn("p2p: {} sent a frame that is not an Envelope ({} bytes); ignored",
                 peer_name(peer), payload.size());
    return;
  }
  switch (envelope.body_case()) {
    case wire::Envelope::kConsensus:
      on_consensus_message(peer, as_bytes(envelope.consensus()));
      return;
    case wire::Envelope::kTransactions: {
      auto* txs = envelope.mutable_transactions()->mutable_transactions();
      on_transactions(peer, std::vector<std::string>(std::make_move_iterator(txs->begin()),
                                                     std::make_move_iterator(txs->end())));
      return;
    }
    case wire::Envelope::kStatus: {
      auto it = peers.find(peer);
      if (it == peers.end()) return;
      it->second.status_known = true;
      it->second.committed_height = envelope.status().committed_height();
      maybe_start_sync();
      return;
    }
    case wire::Envelope::kSyncRequest:
      on_sync_request(peer, envelope.sync_request().from_height(), envelope.sync_request().count());
      return;
    case wire::Envelope::kSyncResponse:
      on_sync_response(peer, envelope.sync_response());
      return;
    case wire::Envelope::BODY_NOT_SET:
      break;
  }
  spdlog::warn("p2p: {} sent an empty or unknown envelope; ignored", peer_name(peer));
}

void Node::Impl::on_consensus_message(const PublicKey& peer, ByteView bytes) {
  auto message = consensus::decode_message(bytes, replica_config.message_limits());
  if (!message.is_ok()) {
    spdlog::warn("p2p: {} sent an undecodable consensus message: {}", peer_name(peer),
                 message.status().message());
    return;
  }
  if (const auto* request = std::get_if<consensus::BlockRequest>(&message.value())) {
    answer_block_request(peer, *request);
    return;
  }
  if (!replica) return;  // a full node does not take part in consensus
  if (!options.genesis.validators.contains(peer)) {
    spdlog::debug("p2p: consensus message from non-validator {} ignored", peer_name(peer));
    return;
  }
  handle(replica->on_message(peer, message.value()));
  std::lock_guard lock(tip_mutex);
  snapshot.current_round = replica->current_round();
}

// The block service answers from the replica's tree, then the chain store, within the peer's
// request rate.
void Node::Impl::answer_block_request(const PublicKey& peer,
                                      const consensus::BlockRequest& request) {
  auto response =
      block_service.answer(peer, request, replica ? &replica->tree() : nullptr, steady_ms());
  if (!response) {
    spdlog::debug("p2p: block request from {} dropped: above p2p.block_requests_per_second",
                  peer_name(peer));
    return;
  }
  std::vector<consensus::OutgoingMessage> out;
  out.push_back(consensus::OutgoingMessage{peer, std::move(*response)});
  send_messages(std::move(out));
}

// ---- Outgoing consensus messages -----------------------------------------------------------

void Node::Impl::send_messages(std::vector<consensus::OutgoingMessage> messages) {
  if (!transport) return;
  for (auto& outgoing : messages) {
    Bytes encoded = consensus::encode_message(outgoing.message);
    // A block response may not fit a frame: send fewer blocks (the asker asks again).
    if (auto* response = std::get_if<consensus::BlockResponse>(&outgoing.message)) {
      while (encoded.size() + kEnvelopeSlack > options.config.p2p.frame_bytes_max &&
             !response->blocks.empty()) {
        response->blocks.pop_back();
        encoded = consensus::encode_message(outgoing.message);
      }
    }
    if (encoded.size() + kEnvelopeSlack > options.config.p2p.frame_bytes_max) {
      spdlog::error("p2p: a {} message of {} bytes does not fit p2p.frame_bytes_max; not sent",
                    consensus::message_kind_name(consensus::message_kind(outgoing.message)),
                    encoded.size());
      continue;
    }
    wire::Envelope envelope;
    envelope.set_consensus(as_string(encoded));
    const auto payload = serialize(envelope);
    if (outgoing.to) {
      if (*outgoing.to == node_id) continue;
      if (!transport->send(*outgoing.to, payload)) {
        spdlog::debug("p2p: {} for {} not sent: not connected",
                      consensus::message_kind_name(consensus::message_kind(outgoing.message)),
                      peer_name(*outgoing.to));
      }
      continue;
    }
    for (const auto& [key, state] : peers) {
      if (state.validator) transport->send(key, payload);
    }
  }
}

// ---- Transaction gossip -----------------------------------------------------------------------

void Node::Impl::queue_gossip(const SignedTransfer& tx, const std::optional<PublicKey>& origin) {
  auto wire_bytes = std::make_shared<const Bytes>(encode_transaction(tx));
  std::lock_guard lock(gossip_mutex);
  if (gossip_queue.size() >= options.config.p2p.gossip_batch_max * kGossipQueueBatches) {
    if (gossip_dropped++ % 10'000 == 0) {
      spdlog::warn(
          "p2p: gossip queue full ({} transactions); {} admitted transactions not "
          "gossiped so far",
          gossip_queue.size(), gossip_dropped);
    }
    return;
  }
  gossip_queue.push_back(GossipItem{std::move(wire_bytes), origin});
}

void Node::Impl::schedule_gossip() {
  gossip_timer.expires_after(std::chrono::milliseconds(options.config.p2p.gossip_interval_ms));
  gossip_timer.async_wait([this](const boost::system::error_code& error) {
    if (error || stopping) return;
    flush_gossip();
    schedule_gossip();
  });
}

void Node::Impl::flush_gossip() {
  std::vector<GossipItem> items;
  {
    std::lock_guard lock(gossip_mutex);
    items.swap(gossip_queue);
  }
  if (items.empty() || !transport) return;
  const std::size_t batch_max = options.config.p2p.gossip_batch_max;
  const std::uint64_t bytes_max = options.config.p2p.frame_bytes_max - kEnvelopeSlack;
  for (const auto& [peer, state] : peers) {
    wire::Envelope envelope;
    std::uint64_t bytes = 0;
    auto flush = [&] {
      if (envelope.transactions().transactions_size() == 0) return;
      transport->send(peer, serialize(envelope));
      envelope.Clear();
      bytes = 0;
    };
    for (const GossipItem& item : items) {
      if (item.origin && *item.origin == peer) continue;  // never echo back
      if (static_cast<std::size_t>(envelope.transactions().transactions_size()) >= batch_max ||
          bytes + item.wire->size() > bytes_max) {
        flush();
      }
      envelope.mutable_transactions()->add_transactions(as_string(*item.wire));
      bytes += item.wire->size() + 4;
    }
    flush();
  }
}

// Admission verifies signatures: done off the loop thread, so that a flood of gossip never
// delays consensus. At most kGossipQueueBatches batches wait; more are dropped (the sender's
// own mempool still holds the transactions).
void Node::Impl::on_transactions(const PublicKey& peer, std::vector<std::string> wires) {
  const std::size_t batch_max = options.config.p2p.gossip_batch_max;
  if (wires.size() > batch_max) {
    spdlog::warn(
        "p2p: {} gossiped {} transactions in one batch, above p2p.gossip_batch_max {}; "
        "ignored",
        peer_name(peer), wires.size(), batch_max);
    return;
  }
  if (admission_backlog.fetch_add(wires.size()) + wires.size() > batch_max * kGossipQueueBatches) {
    admission_backlog.fetch_sub(wires.size());
    spdlog::debug("p2p: admission backlog full; {} gossiped transactions from {} dropped",
                  wires.size(), peer_name(peer));
    return;
  }
  boost::asio::post(admission_pool, [this, peer, wires = std::move(wires)] {
    std::size_t admitted = 0;
    std::size_t refused = 0;
    for (const std::string& bytes : wires) {
      auto tx = decode_transaction(as_bytes(bytes));
      const Status s = tx.is_ok() ? admit(tx.value(), peer) : tx.status();
      if (s.is_ok()) {
        ++admitted;
      } else if (s.code() != StatusCode::kAlreadyExists) {
        ++refused;
        spdlog::debug("p2p: gossiped transaction from {} refused: {}", peer_name(peer),
                      s.message());
      }
    }
    admission_backlog.fetch_sub(wires.size());
    if (refused > 0) {
      spdlog::debug("p2p: {} gossiped {} transactions: {} admitted, {} refused", peer_name(peer),
                    wires.size(), admitted, refused);
    }
  });
}

// ---- Peer status --------------------------------------------------------------------------

void Node::Impl::schedule_status() {
  status_timer.expires_after(std::chrono::milliseconds(options.config.p2p.status_interval_ms));
  status_timer.async_wait([this](const boost::system::error_code& error) {
    if (error || stopping) return;
    broadcast_status();
    publish_network();
    maybe_start_sync();
    schedule_status();
  });
}

void Node::Impl::send_status(const PublicKey& peer) {
  if (!transport) return;
  wire::Envelope envelope;
  wire::PeerStatus* status = envelope.mutable_status();
  {
    std::lock_guard lock(tip_mutex);
    status->set_committed_height(snapshot.height);
    status->set_committed_id(
        as_string(Bytes(snapshot.block_id.bytes.begin(), snapshot.block_id.bytes.end())));
  }
  status->set_round(replica ? replica->current_round() : 0);
  status->set_validator(is_validator());
  transport->send(peer, serialize(envelope));
}

void Node::Impl::broadcast_status() {
  for (const auto& [peer, state] : peers)
    send_status(peer);
}

// ---- Block sync -------------------------------------------------------------------------------

void Node::Impl::maybe_start_sync() {
  if (sync || stopping || !transport) return;
  const std::uint64_t height = store->tip()->height;
  const std::uint64_t lag = is_validator() ? kValidatorSyncLagBlocks : 0;
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(sync_avoid, [&](const auto& entry) { return entry.second <= now; });
  std::optional<PublicKey> best;
  std::uint64_t best_height = height + lag;
  for (const auto& [peer, state] : peers) {
    if (!state.status_known || state.committed_height <= best_height) continue;
    if (auto avoid = sync_avoid.find(peer); avoid != sync_avoid.end() && avoid->second > now) {
      continue;
    }
    best = peer;
    best_height = state.committed_height;
  }
  if (!best) return;
  const std::uint32_t count = options.config.p2p.sync_blocks_max;
  sync = SyncRequestState{*best, height + 1, now + kSyncTimeout};
  wire::Envelope envelope;
  envelope.mutable_sync_request()->set_from_height(height + 1);
  envelope.mutable_sync_request()->set_count(count);
  if (!transport->send(*best, serialize(envelope))) {
    sync.reset();
    return;
  }
  spdlog::debug("sync: asking {} for {} blocks from height {} (its tip {})", peer_name(*best),
                count, height + 1, best_height);
  sync_timer.expires_at(sync->deadline);
  sync_timer.async_wait([this](const boost::system::error_code& error) {
    if (error || stopping || !sync) return;
    spdlog::warn("sync: {} did not answer within {} ms; asking another peer", peer_name(sync->peer),
                 kSyncTimeout.count());
    sync_avoid[sync->peer] = std::chrono::steady_clock::now() + kSyncAvoid;
    sync.reset();
    maybe_start_sync();
  });
}

void Node::Impl::on_sync_request(const PublicKey& peer, std::uint64_t from_height,
                                 std::uint32_t count) {
  const std::uint64_t tip = store->tip()->height;
  wire::Envelope envelope;
  wire::SyncResponse* response = envelope.mutable_sync_response();
  response->set_from_height(from_height);
  response->set_committed_height(tip);
  const std::uint64_t count_max =
      std::min<std::uint64_t>(count, options.config.p2p.sync_blocks_max);
  std::uint64_t bytes = 0;
  for (std::uint64_t h = std::max<std::uint64_t>(from_height, 1);
       h <= tip && h < from_height + count_max; ++h) {
    auto raw = store->raw_block_at(h);
    auto cert = store->commit_cert_at(h);
    if (!raw.is_ok() || !cert.is_ok()) {
      spdlog::error("sync: cannot read height {} for {}: {}", h, peer_name(peer),
                    (raw.is_ok() ? cert.status() : raw.status()).to_string());
      break;
    }
    const Bytes encoded_cert = encode_qc(cert.value());
    bytes += raw.value().size() + encoded_cert.size() + 16;
    if (bytes + kEnvelopeSlack > options.config.p2p.frame_bytes_max &&
        response->blocks_size() > 0) {
      break;
    }
    wire::SyncedBlock* synced = response->add_blocks();
    synced->set_block(as_string(raw.value()));
    synced->set_commit_cert(as_string(encoded_cert));
  }
  transport->send(peer, serialize(envelope));
}

void Node::Impl::on_sync_response(const PublicKey& peer, const wire::SyncResponse& response) {
  if (!sync || sync->peer != peer) {
    spdlog::debug("sync: unsolicited response from {} ignored", peer_name(peer));
    return;
  }
  sync.reset();
  sync_timer.cancel();
  if (auto it = peers.find(peer); it != peers.end()) {
    it->second.status_known = true;
    it->second.committed_height = response.committed_height();
  }
  if (static_cast<std::size_t>(response.blocks_size()) > options.config.p2p.sync_blocks_max) {
    spdlog::warn("sync: {} answered with {} blocks, more than the {} asked for; ignored",
                 peer_name(peer), response.blocks_size(), options.config.p2p.sync_blocks_max);
    sync_avoid[peer] = std::chrono::steady_clock::now() + kSyncAvoid;
    maybe_start_sync();
    return;
  }
  std::vector<std::pair<Block, QuorumCert>> items;
  Status decoded;
  const BlockLimits limits = replica_config.block_limits;
  for (const wire::SyncedBlock& synced : response.blocks()) {
    auto block = decode_block(as_bytes(synced.block()), limits);
    auto cert = decode_qc(as_bytes(synced.commit_cert()));
    if (!block.is_ok() || !cert.is_ok()) {
      decoded = (block.is_ok() ? cert.status() : block.status()).with_context("undecodable block");
      break;
    }
    items.emplace_back(std::move(block).value(), std::move(cert).value());
  }
  std::uint64_t committed = 0;
  Status applied = decoded.is_ok() ? apply_synced(std::move(items), committed) : decoded;
  if (!applied.is_ok()) {
    if (applied.code() == StatusCode::kIoError || applied.code() == StatusCode::kCorruption ||
        applied.code() == StatusCode::kInternal) {
      return fail(applied.with_context("block sync"));
    }
    spdlog::warn("sync: refused blocks from {}: {}", peer_name(peer), applied.message());
    sync_avoid[peer] = std::chrono::steady_clock::now() + kSyncAvoid;
  }
  if (committed > 0) {
    spdlog::info("sync: committed {} blocks from {}, height now {} (peer at {})", committed,
                 peer_name(peer), store->tip()->height, response.committed_height());
    broadcast_status();
    if (replica && store->tip()->height > replica->committed_height()) {
      if (Status s = restore_replica(); !s.is_ok()) return fail(s.with_context("after sync"));
      if (!stopping) handle(replica->start());
    }
  }
  if (!stopping) maybe_start_sync();
}

// Verifies and commits synced blocks in height order. Each block must extend the tip by hash,
// and be committed by a verified certificate: a QC for B1 whose parent B0 (B1.round ==
// B0.round + 1) is this block or a later block of the same response, so that hash links from
// B0 down to this block authenticate it.
Status Node::Impl::apply_synced(std::vector<std::pair<Block, QuorumCert>> items,
                                std::uint64_t& committed) {
  const auto tip = store->tip();
  LEDGER_ASSERT(tip.has_value());
  // Skip what we already have (the tip may have moved since the request).
  std::size_t first = 0;
  while (first < items.size() && items[first].first.header.height <= tip->height)
    ++first;
  if (first == items.size()) return Status::ok();
  std::vector<Hash> ids;
  Hash parent = tip->block_id;
  std::uint64_t height = tip->height;
  for (std::size_t i = first; i < items.size(); ++i) {
    const BlockHeader& h = items[i].first.header;
    ids.push_back(items[i].first.id());
    if (h.chain_id != options.genesis.chain_id) {
      return Status::invalid_argument("block for chain " + h.chain_id);
    }
    if (h.height != height + 1 || h.parent_id != parent) {
      return Status::invalid_argument("block at height " + std::to_string(h.height) +
                                      " does not extend height " + std::to_string(height) + " (" +
                                      to_hex(parent.bytes).substr(0, 12) + ")");
    }
    if (transactions_root(items[i].first.transactions) != h.transactions_root) {
      return Status::invalid_argument("block at height " + std::to_string(h.height) +
                                      ": transactions do not match the root");
    }
    parent = ids.back();
    height = h.height;
  }
  std::unordered_map<Hash, std::size_t, HashHasher> position;  // block id -> index in items
  for (std::size_t i = first; i < items.size(); ++i)
    position.emplace(ids[i - first], i);
  // The blocks up to the B0 their certificates name are committed as one batch (issue 11,
  // point 9): commit_blocks checks each state root and publishes the tip once.
  std::vector<consensus::CommittedBlock> batch;
  std::size_t batch_end = first;  // the index of the last B0 the batch's certificates name
  for (std::size_t i = first; i < items.size(); ++i) {
    const Block& block = items[i].first;
    const QuorumCert& cert = items[i].second;
    const VoteData& d = cert.data;
    const auto b0 = position.find(d.parent_id);
    const bool proves = d.round == d.parent_round + 1 && b0 != position.end() && b0->second >= i &&
                        items[b0->second].first.header.round == d.parent_round;
    if (!proves) {
      return Status::invalid_argument("the commit certificate of height " +
                                      std::to_string(block.header.height) +
                                      " does not prove a 2-chain over it");
    }
    if (Status s = sync_verifier->verify_qc(cert); !s.is_ok()) {
      return s.with_context("commit certificate of height " + std::to_string(block.header.height));
    }
    batch.push_back(consensus::CommittedBlock{block, cert});
    batch_end = std::max(batch_end, b0->second);
    if (i < batch_end) continue;
    const std::size_t size = batch.size();
    LEDGER_RETURN_IF_ERROR(commit_blocks(std::exchange(batch, {})));
    committed += size;
  }
  LEDGER_ASSERT(batch.empty());  // the last block names itself as B0, at the latest
  return Status::ok();
}

}  // namespace ledger::node
