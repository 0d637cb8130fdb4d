// Node: the peer-to-peer side of the event loop (docs/p2p.md): routing frames (consensus
// messages, block requests, gossip batches to Gossip), peer status, and block sync. Everything
// here runs on the loop thread.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "ledger/core/assert.h"
#include "ledger/core/bytes.h"
#include "ledger/p2p/v1/p2p.pb.h"
#include "node_impl.h"

namespace ledger::node {
namespace {

namespace wire = ::ledger::p2p::v1;

// A validator more than this many blocks behind its best peer (and more than half of
// consensus.pending_blocks_max, so that what it leaves to consensus fetches always fits its
// tree) syncs blocks instead of waiting for consensus to fetch them; a full node syncs whenever
// a peer is ahead.
constexpr std::uint64_t kValidatorSyncLagBlocks = 8;
// A sync request unanswered for this long is a failure of that peer.
constexpr std::chrono::milliseconds kSyncTimeout{10'000};
// A peer that failed a sync request waits kSyncBackoffMin, doubling with each consecutive
// failure up to kSyncBackoffMax; after any failure no request leaves for kSyncRetryInterval.
constexpr std::chrono::milliseconds kSyncBackoffMin{1'000};
constexpr std::chrono::milliseconds kSyncBackoffMax{60'000};
constexpr std::chrono::milliseconds kSyncRetryInterval{250};
// Room for the envelope around a message's own bytes.
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

Bytes to_bytes(const std::string& text) {
  return Bytes(text.begin(), text.end());
}

SyncResponseMessage from_wire(const wire::SyncResponse& in) {
  SyncResponseMessage out;
  out.from_height = in.from_height();
  out.committed_height = in.committed_height();
  out.blocks.reserve(static_cast<std::size_t>(in.blocks_size()));
  for (const wire::SyncedBlock& synced : in.blocks()) {
    out.blocks.push_back({to_bytes(synced.block()), to_bytes(synced.commit_cert())});
  }
  out.proof_headers.reserve(static_cast<std::size_t>(in.proof_headers_size()));
  for (const std::string& header : in.proof_headers())
    out.proof_headers.push_back(to_bytes(header));
  return out;
}

void to_wire(const SyncResponseMessage& in, wire::SyncResponse& out) {
  out.set_from_height(in.from_height);
  out.set_committed_height(in.committed_height);
  for (const auto& item : in.blocks) {
    wire::SyncedBlock* synced = out.add_blocks();
    synced->set_block(as_string(item.block));
    synced->set_commit_cert(as_string(item.commit_cert));
  }
  for (const Bytes& header : in.proof_headers)
    out.add_proof_headers(as_string(header));
}

void log_notes(const std::vector<SyncNote>& notes) {
  for (const SyncNote& note : notes) {
    switch (note.level) {
      case SyncNote::Level::kDebug:
        spdlog::debug("{}", note.text);
        break;
      case SyncNote::Level::kInfo:
        spdlog::info("{}", note.text);
        break;
      case SyncNote::Level::kWarn:
        spdlog::warn("{}", note.text);
        break;
    }
  }
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
  start_sync();
  LEDGER_ASSIGN_OR_RETURN(transport, p2p::Transport::start(io, options.node_key, t, *this));
  spdlog::info("p2p: node key {}, {} peers configured, {}", peer_name(node_id), t.peers.size(),
               is_validator() ? "validator" : "full node");
  gossip.start();
  schedule_status();
  return Status::ok();
}

void Node::Impl::stop_network() {
  status_timer.cancel();
  sync_timer.cancel();
  if (transport) transport->stop();
  gossip.stop();  // admissions in progress refuse with kUnavailable (stopping is set)
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
  log_notes(block_sync->on_peer_gone(peer, std::chrono::steady_clock::now()).notes);
  drive_sync();
}

// ---- Incoming frames --------------------------------------------------------------------------

namespace {

// The one field of an Envelope (each frame carries exactly one, as protobuf serialises a set
// oneof), read without parsing the frame: its field number and a view of its bytes.
struct EnvelopeField {
  std::uint32_t number = 0;
  ByteView body;
};

std::optional<std::uint64_t> read_varint(ByteView bytes, std::size_t& pos) {
  std::uint64_t value = 0;
  for (int shift = 0; shift < 64 && pos < bytes.size(); shift += 7) {
    const std::uint8_t b = bytes[pos++];
    value |= std::uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80u) == 0) return value;
  }
  return std::nullopt;
}

std::optional<EnvelopeField> peek_envelope(ByteView frame) {
  std::size_t pos = 0;
  const auto tag = read_varint(frame, pos);
  if (!tag || (*tag & 7u) != 2 || (*tag >> 3) == 0 || (*tag >> 3) > 1000) return std::nullopt;
  const auto length = read_varint(frame, pos);
  if (!length || *length != frame.size() - pos) return std::nullopt;
  return EnvelopeField{static_cast<std::uint32_t>(*tag >> 3), frame.subspan(pos)};
}

// How many length-delimited fields a message body holds (repeated bytes or messages), counted
// without parsing it; nullopt if it is not a well-formed protobuf body.
std::optional<std::size_t> count_entries(ByteView body) {
  std::size_t pos = 0;
  std::size_t count = 0;
  while (pos < body.size()) {
    const auto tag = read_varint(body, pos);
    if (!tag) return std::nullopt;
    switch (*tag & 7u) {
      case 0:
        if (!read_varint(body, pos)) return std::nullopt;
        break;
      case 2: {
        const auto length = read_varint(body, pos);
        if (!length || *length > body.size() - pos) return std::nullopt;
        pos += *length;
        ++count;
        break;
      }
      default:
        return std::nullopt;
    }
  }
  return count;
}

// Envelope field numbers (node/proto/ledger/p2p/v1/p2p.proto).
constexpr std::uint32_t kConsensusField = 1;
constexpr std::uint32_t kTransactionsField = 2;
constexpr std::uint32_t kSyncResponseField = 5;
// Peer status and sync requests are a few integers: anything larger is not one.
constexpr std::size_t kSmallEnvelopeBytesMax = 1024;

}  // namespace

// Checks what a frame is, who sent it and whether it was asked for before parsing or decoding
// it (issue 11, point 6): a frame can be frame_bytes_max long. Allocation failures while
// parsing are caught here, at the edge: they drop the frame, never the process.
void Node::Impl::on_frame(const PublicKey& peer, Bytes payload) {
  if (stopping) return;
  const auto field = peek_envelope(payload);
  if (!field) {
    spdlog::warn("p2p: {} sent a frame that is not an Envelope ({} bytes); ignored",
                 peer_name(peer), payload.size());
    return;
  }
  if (field->number == kConsensusField) return on_consensus_message(peer, field->body);
  if (field->number == kSyncResponseField && !block_sync->awaits_response_from(peer)) {
    spdlog::debug("sync: unsolicited response from {} ({} bytes) dropped unread", peer_name(peer),
                  payload.size());
    return;
  }
  // Repeated entries are counted before parsing: a frame of tiny entries must not become
  // millions of strings.
  if (field->number == kTransactionsField || field->number == kSyncResponseField) {
    const auto entries = count_entries(field->body);
    const std::size_t entries_max = field->number == kTransactionsField
                                        ? options.config.p2p.gossip_batch_max
                                        : std::size_t{options.config.p2p.sync_blocks_max} +
                                              2 * options.config.consensus.pending_blocks_max;
    if (!entries || *entries > entries_max) {
      spdlog::warn("p2p: {} sent a {} with {} entries, above the {} allowed; ignored unparsed",
                   peer_name(peer),
                   field->number == kTransactionsField ? "gossip batch" : "sync response",
                   entries ? std::to_string(*entries) : std::string("malformed"), entries_max);
      // For block sync, as good as no answer: the peer fails this request.
      if (field->number == kSyncResponseField) on_sync_response(peer, wire::SyncResponse{});
      return;
    }
  }
  wire::Envelope envelope;
  try {
    if (!envelope.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
      spdlog::warn("p2p: {} sent a frame that is not an Envelope ({} bytes); ignored",
                   peer_name(peer), payload.size());
      return;
    }
  } catch (const std::bad_alloc&) {
    spdlog::error("p2p: out of memory parsing a {}-byte frame from {}; dropped", payload.size(),
                  peer_name(peer));
    return;
  }
  const bool small = payload.size() <= kSmallEnvelopeBytesMax;
  switch (envelope.body_case()) {
    case wire::Envelope::kConsensus:
      return;  // handled above, unparsed
    case wire::Envelope::kTransactions: {
      auto* txs = envelope.mutable_transactions()->mutable_transactions();
      gossip.on_batch(peer, std::vector<std::string>(std::make_move_iterator(txs->begin()),
                                                     std::make_move_iterator(txs->end())));
      return;
    }
    case wire::Envelope::kStatus: {
      if (!small || !peers.contains(peer)) break;
      log_notes(block_sync->on_peer_status(peer, envelope.status().committed_height()).notes);
      drive_sync();
      return;
    }
    case wire::Envelope::kSyncRequest:
      if (!small) break;
      on_sync_request(peer, SyncRequestMessage{envelope.sync_request().from_height(),
                                               envelope.sync_request().count()});
      return;
    case wire::Envelope::kSyncResponse:
      on_sync_response(peer, envelope.sync_response());
      return;
    case wire::Envelope::BODY_NOT_SET:
      break;
  }
  spdlog::warn("p2p: {} sent an empty, unknown or oversized envelope ({} bytes); ignored",
               peer_name(peer), payload.size());
}

// The kind and the sender are checked before the body is decoded: block requests from anyone,
// everything else only from validators, to a validator, and block responses only from a
// validator this node asked.
void Node::Impl::on_consensus_message(const PublicKey& peer, ByteView bytes) {
  const auto kind = consensus::peek_message_kind(bytes);
  if (!kind.is_ok()) {
    spdlog::warn("p2p: {} sent an undecodable consensus message: {}", peer_name(peer),
                 kind.status().message());
    return;
  }
  if (*kind != consensus::MessageKind::kBlockRequest) {
    if (!consensus_loop.replica()) return;  // a full node does not take part in consensus
    if (!options.genesis.validators.contains(peer)) {
      spdlog::debug("p2p: {} from non-validator {} ({} bytes) ignored unread",
                    consensus::message_kind_name(*kind), peer_name(peer), bytes.size());
      return;
    }
    if (*kind == consensus::MessageKind::kBlockResponse &&
        !consensus_loop.replica()->awaits_block_response_from(peer)) {
      spdlog::debug("p2p: unsolicited block response from {} ({} bytes) dropped unread",
                    peer_name(peer), bytes.size());
      return;
    }
  }
  std::optional<StatusOr<consensus::Message>> message;
  try {
    message.emplace(
        consensus::decode_message(bytes, consensus_loop.replica_config().message_limits()));
  } catch (const std::bad_alloc&) {
    spdlog::error("p2p: out of memory decoding a {}-byte consensus message from {}; dropped",
                  bytes.size(), peer_name(peer));
    return;
  }
  if (!message->is_ok()) {
    spdlog::warn("p2p: {} sent an undecodable consensus message: {}", peer_name(peer),
                 message->status().message());
    return;
  }
  if (const auto* request = std::get_if<consensus::BlockRequest>(&message->value())) {
    answer_block_request(peer, *request);
    return;
  }
  consensus_loop.on_message(peer, message->value());
}

// The block service answers from the replica's tree, then the chain store, within the peer's
// request rate.
void Node::Impl::answer_block_request(const PublicKey& peer,
                                      const consensus::BlockRequest& request) {
  auto response = block_service.answer(
      peer, request, consensus_loop.replica() ? &consensus_loop.replica()->tree() : nullptr,
      steady_ms());
  if (!response) {
    spdlog::debug(
        "p2p: block request from {} dropped: above p2p.block_requests_per_second or "
        "p2p.block_bytes_per_second",
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

// ---- Peer status --------------------------------------------------------------------------

void Node::Impl::schedule_status() {
  status_timer.expires_after(std::chrono::milliseconds(options.config.p2p.status_interval_ms));
  status_timer.async_wait([this](const boost::system::error_code& error) {
    if (error || stopping) return;
    broadcast_status();
    publish_network();
    drive_sync();
    schedule_status();
  });
}

void Node::Impl::send_status(const PublicKey& peer) {
  if (!transport) return;
  wire::Envelope envelope;
  wire::PeerStatus* status = envelope.mutable_status();
  const PublishedTip tip = view.tip();
  status->set_committed_height(tip.height);
  status->set_committed_id(as_string(Bytes(tip.block_id.bytes.begin(), tip.block_id.bytes.end())));
  status->set_round(consensus_loop.current_round());
  status->set_validator(is_validator());
  transport->send(peer, serialize(envelope));
}

void Node::Impl::broadcast_status() {
  for (const auto& [peer, state] : peers)
    send_status(peer);
}

// ---- Block sync ------------------------------------------------------------------------------

void Node::Impl::start_sync() {
  BlockSyncConfig c;
  const consensus::ReplicaConfig& replica_config = consensus_loop.replica_config();
  c.chain_id = replica_config.chain_id;
  c.validators = replica_config.validators;
  c.genesis_qc = genesis_qc(replica_config.genesis);
  c.block_limits = replica_config.block_limits;
  c.verified_certs_max = replica_config.verified_certs_max;
  c.blocks_max = options.config.p2p.sync_blocks_max;
  c.proof_headers_max = 2 * options.config.consensus.pending_blocks_max;
  c.lag_blocks =
      is_validator()
          ? std::min<std::uint64_t>(
                kValidatorSyncLagBlocks,
                std::max<std::uint64_t>(1, options.config.consensus.pending_blocks_max / 2))
          : 0;
  c.request_timeout = kSyncTimeout;
  c.backoff_min = kSyncBackoffMin;
  c.backoff_max = kSyncBackoffMax;
  c.retry_interval = kSyncRetryInterval;
  c.peers_max = options.config.p2p.connections_max;
  c.response_bytes_max = options.config.p2p.frame_bytes_max - kEnvelopeSlack;
  block_sync = std::make_unique<BlockSync>(std::move(c));

  SyncServiceConfig s;
  s.blocks_max = options.config.p2p.sync_blocks_max;
  s.proof_headers_max = 2 * options.config.consensus.pending_blocks_max;
  s.response_bytes_max = options.config.p2p.frame_bytes_max - kEnvelopeSlack;
  s.requests_per_second = options.config.p2p.sync_requests_per_second;
  s.bytes_per_second = options.config.p2p.sync_bytes_per_second;
  s.peers_max = options.config.p2p.connections_max;
  sync_service = std::make_unique<SyncService>(*store, s);
}

// Runs BlockSync's poll: sends the request it returns and wakes up again when it asks to.
void Node::Impl::drive_sync() {
  if (stopping || !transport || !block_sync) return;
  const auto now = std::chrono::steady_clock::now();
  SyncOutput out = block_sync->poll(*store->tip(), now);
  log_notes(out.notes);
  if (out.request) {
    const SyncRequestOut& request = *out.request;
    wire::Envelope envelope;
    envelope.mutable_sync_request()->set_from_height(request.request.from_height);
    envelope.mutable_sync_request()->set_count(request.request.count);
    if (!transport->send(request.peer, serialize(envelope))) {
      log_notes(block_sync->on_peer_gone(request.peer, now).notes);
    }
  }
  const auto next = block_sync->next_poll(now);
  if (!next) {
    sync_timer.cancel();
    return;
  }
  sync_timer.expires_at(std::max(*next, now));
  sync_timer.async_wait([this](const boost::system::error_code& error) {
    if (error || stopping) return;
    drive_sync();
  });
}

void Node::Impl::on_sync_request(const PublicKey& peer, const SyncRequestMessage& request) {
  const SyncAdmission admission = sync_service->admit(peer, std::chrono::steady_clock::now());
  if (admission.log_line) spdlog::warn("{}", *admission.log_line);
  if (!admission.admitted) return;
  wire::Envelope envelope;
  auto answer = sync_service->answer(request, admission.bytes_max);
  if (answer.is_ok()) {
    log_notes(answer.value().notes);
    sync_service->charge(peer, answer.value().bytes);
    to_wire(answer.value().response, *envelope.mutable_sync_response());
  } else {
    // No blocks: the asker counts it a failure of this node and asks another peer at once.
    spdlog::error("sync: cannot answer {} from height {}: {}", peer_name(peer), request.from_height,
                  answer.status().to_string());
    envelope.mutable_sync_response()->set_from_height(request.from_height);
    envelope.mutable_sync_response()->set_committed_height(store->tip()->height);
  }
  transport->send(peer, serialize(envelope));
}

void Node::Impl::on_sync_response(const PublicKey& peer, const wire::SyncResponse& response) {
  const auto now = std::chrono::steady_clock::now();
  SyncOutput out = block_sync->on_response(peer, from_wire(response), *store->tip(), now);
  log_notes(out.notes);
  std::uint64_t committed = 0;
  std::optional<consensus::CommittedBlock> last;
  if (!out.commits.empty()) {
    const Status applied = commit_synced(std::move(out.commits), committed, last);
    if (!applied.is_ok()) {
      if (applied.code() == StatusCode::kIoError || applied.code() == StatusCode::kCorruption ||
          applied.code() == StatusCode::kInternal) {
        return fail(applied.with_context("block sync"));
      }
      log_notes(block_sync->on_commit_refused(peer, applied.message(), now).notes);
    }
  }
  if (committed > 0) {
    spdlog::info("sync: committed {} blocks from {}, height now {} (peer at {})", committed,
                 peer_name(peer), store->tip()->height, response.committed_height());
    broadcast_status();
    // The replica is fed the new committed tip, not rebuilt (issue 11, point E): it re-roots its
    // tree there and keeps its round, votes, fetches and the blocks that extend the tip.
    if (last) consensus_loop.on_synced_commit(*last);
  }
  if (!stopping) drive_sync();
}

// Commits blocks that BlockSync verified (hash links, transactions roots, certificates), one
// batch per shared commit certificate, so that readers see each batch at once. The state root is
// this node's to check: the commit pipeline compares it with the state after the parent.
Status Node::Impl::commit_synced(std::vector<SyncCommitGroup> groups, std::uint64_t& committed,
                                 std::optional<consensus::CommittedBlock>& last) {
  for (SyncCommitGroup& group : groups) {
    std::vector<consensus::CommittedBlock> batch;
    batch.reserve(group.blocks.size());
    for (SyncedBlock& synced : group.blocks) {
      batch.push_back(consensus::CommittedBlock{std::move(synced.block), group.commit_cert});
    }
    const std::size_t size = batch.size();
    consensus::CommittedBlock tail = batch.back();
    LEDGER_RETURN_IF_ERROR(consensus_loop.commit_synced(std::move(batch)));
    committed += size;
    last = std::move(tail);
  }
  return Status::ok();
}

}  // namespace ledger::node
