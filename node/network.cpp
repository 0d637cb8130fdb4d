// Node: the peer-to-peer side of the event loop (docs/p2p.md): the transport's handler, which
// checks each frame before parsing it and routes it (consensus messages to the ConsensusLoop,
// block requests to the BlockService, gossip batches to Gossip, block sync to the SyncDriver),
// outgoing consensus messages, and peer status. Everything here runs on the loop thread.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "envelope.h"
#include "ledger/core/assert.h"
#include "ledger/core/bytes.h"
#include "ledger/p2p/v1/p2p.pb.h"
#include "node_impl.h"

namespace ledger::node {
namespace {

namespace wire = ::ledger::p2p::v1;

// Room for the envelope around a message's own bytes.
constexpr std::size_t kEnvelopeSlack = 64 * 1024;

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
  sync = std::make_unique<SyncDriver>(
      io, options, is_validator(), *store, consensus_loop, stopping,
      SyncDriver::Hooks{[this](const PublicKey& peer, std::shared_ptr<const Bytes> payload) {
                          return transport && transport->send(peer, std::move(payload));
                        },
                        [this] { broadcast_status(); }, [this](const Status& s) { fail(s); }});
  LEDGER_ASSIGN_OR_RETURN(transport, p2p::Transport::start(io, options.node_key, t, *this));
  spdlog::info("p2p: node key {}, {} peers configured, {}", peer_name(node_id), t.peers.size(),
               is_validator() ? "validator" : "full node");
  gossip.start();
  schedule_status();
  return Status::ok();
}

void Node::Impl::stop_network() {
  status_timer.cancel();
  if (sync) sync->stop();
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
  if (sync) sync->on_peer_gone(peer);
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
  if (field->number == kSyncResponseField && !sync->awaits_response_from(peer)) {
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
      if (field->number == kSyncResponseField) sync->on_response(peer, wire::SyncResponse{});
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
      sync->on_peer_status(peer, envelope.status().committed_height());
      return;
    }
    case wire::Envelope::kSyncRequest:
      if (!small) break;
      sync->on_request(peer, SyncRequestMessage{envelope.sync_request().from_height(),
                                                envelope.sync_request().count()});
      return;
    case wire::Envelope::kSyncResponse:
      sync->on_response(peer, envelope.sync_response());
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
    sync->poll();
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

}  // namespace ledger::node
