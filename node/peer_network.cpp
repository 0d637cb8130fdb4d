// PeerNetwork (peer_network.h): the transport's handler and its routing, outgoing consensus
// messages, and peer status. Everything here runs on the loop thread unless said otherwise.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "envelope.h"
#include "ledger/core/assert.h"
#include "ledger/core/bytes.h"
#include "ledger/p2p/v1/p2p.pb.h"
#include "peer_network.h"

namespace ledger::node {
namespace {

namespace wire = ::ledger::p2p::v1;

// Room for the envelope around a message's own bytes.
constexpr std::size_t kEnvelopeSlack = 64 * 1024;

}  // namespace

PeerNetwork::PeerNetwork(boost::asio::io_context& io, const NodeOptions& options,
                         const PublicKey& node_id, bool validator, storage::RocksChainStore& store,
                         ChainView& view, ConsensusLoop& consensus, Gossip& gossip,
                         const std::atomic<bool>& stopping, std::function<void(const Status&)> fail)
    : io_(io),
      options_(options),
      node_id_(node_id),
      validator_(validator),
      view_(view),
      consensus_(consensus),
      gossip_(gossip),
      stopping_(stopping),
      fail_(std::move(fail)),
      block_service_(
          {consensus::ReplicaConfig{}.fetch_blocks_max,
           options.config.p2p.frame_bytes_max > kEnvelopeSlack
               ? options.config.p2p.frame_bytes_max - kEnvelopeSlack
               : 0,
           options.config.p2p.block_requests_per_second, options.config.p2p.block_requests_burst,
           options.config.p2p.connections_max + options.genesis.validators.size(),
           options.config.p2p.block_bytes_per_second},
          store),
      sync_entry_bytes_min_(encoded_header_bytes_min(options.genesis.chain_id)),
      sync_(
          io, options, validator, store, view, consensus, stopping,
          SyncDriver::Hooks{[this](const PublicKey& peer, std::shared_ptr<const Bytes> payload) {
                              return send(peer, std::move(payload));
                            },
                            [this] { broadcast_status(); }, [this](const Status& s) { fail_(s); }}),
      status_timer_(io) {}

bool PeerNetwork::send(const PublicKey& peer, std::shared_ptr<const Bytes> payload) {
  return transport_ && transport_->send(peer, std::move(payload));
}

std::vector<PublicKey> PeerNetwork::peer_keys() const {
  std::vector<PublicKey> keys;
  keys.reserve(peers_.size());
  for (const auto& [key, state] : peers_)
    keys.push_back(key);
  return keys;
}

void PeerNetwork::set_enabled(bool enabled) {
  {
    std::lock_guard lock(mutex_);
    enabled_ = enabled;
  }
  boost::asio::post(io_, [this, enabled] {
    if (stopping_ || !transport_) return;
    transport_->set_enabled(enabled);
    spdlog::warn("p2p: networking turned {} through the admin API", enabled ? "on" : "off");
  });
}

rpc::NetworkView PeerNetwork::network_view() const {
  std::lock_guard lock(mutex_);
  return rpc::NetworkView{enabled_, connected_};
}

std::size_t PeerNetwork::peer_count() const {
  std::lock_guard lock(mutex_);
  return connected_.size();
}

std::uint64_t PeerNetwork::steady_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

// ---- Starting and stopping -------------------------------------------------------------------

Status PeerNetwork::start() {
  const P2pConfig& config = options_.config.p2p;
  p2p::TransportOptions t;
  t.chain_id = options_.genesis.chain_id;
  t.listen = config.listen;
  for (const std::string& text : config.peers) {
    LEDGER_ASSIGN_OR_RETURN(auto peer, p2p::parse_peer_address(text));
    if (peer.key == node_id_) continue;  // a shared peer list may name this node too
    t.peers.push_back(std::move(peer));
  }
  for (std::size_t i = 0; i < options_.genesis.validators.size(); ++i) {
    t.validators.insert(options_.genesis.validators.at(i).key);
  }
  t.accept_unknown_peers = config.accept_unknown_peers;
  t.frame_bytes_max = config.frame_bytes_max;
  t.send_queue_bytes_max = config.send_queue_bytes_max;
  t.connections_max = config.connections_max;
  t.handshake_timeout = std::chrono::milliseconds(config.handshake_timeout_ms);
  t.write_timeout = std::chrono::milliseconds(config.write_timeout_ms);
  t.dial_backoff_min = std::chrono::milliseconds(config.dial_backoff_min_ms);
  t.dial_backoff_max = std::chrono::milliseconds(config.dial_backoff_max_ms);
  LEDGER_ASSIGN_OR_RETURN(transport_, p2p::Transport::start(io_, options_.node_key, t, *this));
  spdlog::info("p2p: node key {}, {} peers configured, {}", peer_name(node_id_), t.peers.size(),
               validator_ ? "validator" : "full node");
  schedule_status();
  return Status::ok();
}

void PeerNetwork::stop() {
  status_timer_.cancel();
  sync_.stop();
  if (transport_) transport_->stop();
}

void PeerNetwork::publish_peers() {
  std::vector<PublicKey> keys;
  keys.reserve(peers_.size());
  for (const auto& [key, state] : peers_)
    keys.push_back(key);
  std::lock_guard lock(mutex_);
  connected_ = std::move(keys);
}

void PeerNetwork::on_connected(const PublicKey& peer) {
  PeerState state;
  state.validator = options_.genesis.validators.contains(peer);
  peers_[peer] = state;
  publish_peers();
  // The transport logs the connection itself at info.
  spdlog::debug("p2p: peer {} ({}) ready, {} peers", peer_name(peer),
                state.validator ? "validator" : "full node", peers_.size());
  send_status(peer);
}

void PeerNetwork::on_disconnected(const PublicKey& peer) {
  peers_.erase(peer);
  block_service_.on_peer_gone(peer);
  publish_peers();
  spdlog::debug("p2p: peer {} gone, {} peers", peer_name(peer), peers_.size());
  sync_.on_peer_gone(peer);
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

// The length-delimited fields of a message body (repeated bytes or messages), read without
// parsing it.
struct Entries {
  std::size_t count = 0;
  std::size_t shortest = SIZE_MAX;  // bytes of the shortest one
};

// nullopt if the body is not a well-formed protobuf body.
std::optional<Entries> count_entries(ByteView body) {
  std::size_t pos = 0;
  Entries entries;
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
        ++entries.count;
        entries.shortest = std::min<std::size_t>(entries.shortest, *length);
        break;
      }
      default:
        return std::nullopt;
    }
  }
  return entries;
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
void PeerNetwork::on_frame(const PublicKey& peer, Bytes payload) {
  if (stopping_) return;
  const auto field = peek_envelope(payload);
  if (!field) {
    spdlog::warn("p2p: {} sent a frame that is not an Envelope ({} bytes); ignored",
                 peer_name(peer), payload.size());
    return;
  }
  if (field->number == kConsensusField) return on_consensus_message(peer, field->body);
  if (field->number == kSyncResponseField && !sync_.awaits_response_from(peer)) {
    spdlog::debug("sync: unsolicited response from {} ({} bytes) dropped unread", peer_name(peer),
                  payload.size());
    return;
  }
  // Repeated entries are counted before parsing: a frame of tiny entries must not become
  // millions of strings. A sync response may hold many proof headers (an honest batch can be
  // p2p.sync_proof_headers_max long), so its entries must also each be at least a header long:
  // then a frame holds at most frame_bytes_max / sync_entry_bytes_min_ of them.
  if (field->number == kTransactionsField || field->number == kSyncResponseField) {
    const bool sync = field->number == kSyncResponseField;
    const auto entries = count_entries(field->body);
    const std::size_t entries_max = sync ? std::size_t{options_.config.p2p.sync_blocks_max} +
                                               options_.config.p2p.sync_proof_headers_max
                                         : options_.config.p2p.gossip_batch_max;
    const bool too_short =
        sync && entries && entries->count > 0 && entries->shortest < sync_entry_bytes_min_;
    if (!entries || entries->count > entries_max || too_short) {
      if (too_short) {
        spdlog::warn(
            "p2p: {} sent a sync response with an entry of {} bytes, shorter than any block "
            "header ({} bytes); ignored unparsed",
            peer_name(peer), entries->shortest, sync_entry_bytes_min_);
      } else {
        spdlog::warn("p2p: {} sent a {} with {} entries, above the {} allowed; ignored unparsed",
                     peer_name(peer), sync ? "sync response" : "gossip batch",
                     entries ? std::to_string(entries->count) : std::string("malformed"),
                     entries_max);
      }
      // For block sync, as good as no answer: the peer fails this request.
      if (field->number == kSyncResponseField) sync_.on_response(peer, wire::SyncResponse{});
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
      gossip_.on_batch(peer, std::vector<std::string>(std::make_move_iterator(txs->begin()),
                                                      std::make_move_iterator(txs->end())));
      return;
    }
    case wire::Envelope::kStatus: {
      if (!small || !peers_.contains(peer)) break;
      sync_.on_peer_status(peer, envelope.status().committed_height());
      return;
    }
    case wire::Envelope::kSyncRequest:
      if (!small) break;
      sync_.on_request(peer, SyncRequestMessage{envelope.sync_request().from_height(),
                                                envelope.sync_request().count(),
                                                envelope.sync_request().bytes_max()});
      return;
    case wire::Envelope::kSyncResponse:
      sync_.on_response(peer, envelope.sync_response());
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
void PeerNetwork::on_consensus_message(const PublicKey& peer, ByteView bytes) {
  const auto kind = consensus::peek_message_kind(bytes);
  if (!kind.is_ok()) {
    spdlog::warn("p2p: {} sent an undecodable consensus message: {}", peer_name(peer),
                 kind.status().message());
    return;
  }
  if (*kind != consensus::MessageKind::kBlockRequest) {
    if (!consensus_.replica()) return;  // a full node does not take part in consensus
    if (!options_.genesis.validators.contains(peer)) {
      spdlog::debug("p2p: {} from non-validator {} ({} bytes) ignored unread",
                    consensus::message_kind_name(*kind), peer_name(peer), bytes.size());
      return;
    }
    if (*kind == consensus::MessageKind::kBlockResponse &&
        !consensus_.replica()->awaits_block_response_from(peer)) {
      spdlog::debug("p2p: unsolicited block response from {} ({} bytes) dropped unread",
                    peer_name(peer), bytes.size());
      return;
    }
  }
  std::optional<StatusOr<consensus::Message>> message;
  try {
    message.emplace(consensus::decode_message(bytes, consensus_.replica_config().message_limits()));
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
  consensus_.on_message(peer, message->value());
}

// The block service answers from the replica's tree, then the chain store, within the peer's
// request rate.
void PeerNetwork::answer_block_request(const PublicKey& peer,
                                       const consensus::BlockRequest& request) {
  auto response = block_service_.answer(
      peer, request, consensus_.replica() ? &consensus_.replica()->tree() : nullptr, steady_ms());
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

void PeerNetwork::send_messages(std::vector<consensus::OutgoingMessage> messages) {
  if (!transport_) return;
  for (auto& outgoing : messages) {
    Bytes encoded = consensus::encode_message(outgoing.message);
    // A block response may not fit a frame: send fewer blocks (the asker asks again).
    if (auto* response = std::get_if<consensus::BlockResponse>(&outgoing.message)) {
      while (encoded.size() + kEnvelopeSlack > options_.config.p2p.frame_bytes_max &&
             !response->blocks.empty()) {
        response->blocks.pop_back();
        encoded = consensus::encode_message(outgoing.message);
      }
    }
    if (encoded.size() + kEnvelopeSlack > options_.config.p2p.frame_bytes_max) {
      spdlog::error("p2p: a {} message of {} bytes does not fit p2p.frame_bytes_max; not sent",
                    consensus::message_kind_name(consensus::message_kind(outgoing.message)),
                    encoded.size());
      continue;
    }
    wire::Envelope envelope;
    envelope.set_consensus(as_string(encoded));
    const auto payload = serialize(envelope);
    if (outgoing.to) {
      if (*outgoing.to == node_id_) continue;
      if (!transport_->send(*outgoing.to, payload)) {
        spdlog::debug("p2p: {} for {} not sent: not connected",
                      consensus::message_kind_name(consensus::message_kind(outgoing.message)),
                      peer_name(*outgoing.to));
      }
      continue;
    }
    for (const auto& [key, state] : peers_) {
      if (state.validator) transport_->send(key, payload);
    }
  }
}

// ---- Peer status --------------------------------------------------------------------------

void PeerNetwork::schedule_status() {
  status_timer_.expires_after(std::chrono::milliseconds(options_.config.p2p.status_interval_ms));
  status_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error || stopping_) return;
    broadcast_status();
    publish_peers();
    sync_.poll();
    schedule_status();
  });
}

void PeerNetwork::send_status(const PublicKey& peer) {
  if (!transport_) return;
  wire::Envelope envelope;
  wire::PeerStatus* status = envelope.mutable_status();
  const PublishedTip tip = view_.tip();
  status->set_committed_height(tip.height);
  status->set_committed_id(as_string(Bytes(tip.block_id.bytes.begin(), tip.block_id.bytes.end())));
  status->set_round(consensus_.current_round());
  status->set_validator(validator_);
  transport_->send(peer, serialize(envelope));
}

void PeerNetwork::broadcast_status() {
  for (const auto& [peer, state] : peers_)
    send_status(peer);
}

}  // namespace ledger::node
