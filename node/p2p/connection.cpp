#include "connection.h"

#include <spdlog/spdlog.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <utility>

namespace ledger::node::p2p {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Payload frames sealed into one write: enough to amortize the system call, small enough that
// a batch does not hold much more memory than the queue it came from.
constexpr std::size_t kWriteBatchBytes = 256 * 1024;

std::uint32_t decode_u32(const std::array<std::uint8_t, 4>& b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         std::uint32_t{b[3]};
}

std::string ms(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

}  // namespace

std::string short_key(const PublicKey& key) {
  return key.hex().substr(0, 12);
}

Connection::Connection(tcp::socket socket, Role role, std::string remote,
                       std::optional<PublicKey> dialed_key,
                       std::shared_ptr<const ConnectionSettings> settings, ConnectionOwner* owner,
                       Transport::Counters* counters)
    : socket_(std::move(socket)),
      handshake_timer_(socket_.get_executor()),
      write_timer_(socket_.get_executor()),
      role_(role),
      remote_(std::move(remote)),
      dialed_key_(std::move(dialed_key)),
      settings_(std::move(settings)),
      owner_(owner),
      counters_(counters) {
  LEDGER_ASSERT(settings_);
  LEDGER_ASSERT(dialed_key_.has_value() == (role_ == Role::kInitiator));
}

std::string Connection::describe() const {
  if (peer_key_) return short_key(*peer_key_) + " (" + remote_ + ")";
  if (dialed_key_) return remote_ + " (dialed " + short_key(*dialed_key_) + ")";
  return remote_;
}

void Connection::start() {
  LEDGER_ASSERT(phase_ == Phase::kHello);
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  socket_.set_option(asio::socket_base::keep_alive(true), ignored);

  auto state = HandshakeState::create(role_, settings_->chain_id);
  if (!state.is_ok()) {
    close(CloseKind::kRefused, state.status().message());
    return;
  }
  handshake_.emplace(std::move(state).value());

  handshake_timer_.expires_after(settings_->handshake_timeout);
  handshake_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    if (error == asio::error::operation_aborted) return;
    if (self->phase_ == Phase::kHello || self->phase_ == Phase::kAuth) {
      self->close(CloseKind::kRefused,
                  "handshake not completed within " + ms(self->settings_->handshake_timeout));
    }
  });
  queue_raw(handshake_->hello_frame());
  read_header();
}

// ---- Reading.

void Connection::read_header() {
  asio::async_read(socket_, asio::buffer(header_),
                   [self = shared_from_this()](const boost::system::error_code& error,
                                               std::size_t) { self->on_header(error); });
}

void Connection::on_header(const boost::system::error_code& error) {
  if (phase_ == Phase::kClosed) return;
  if (error) return on_read_error(error);
  const std::uint32_t length = decode_u32(header_);
  // Each phase bounds the body before a byte of it is read or allocated.
  switch (phase_) {
    case Phase::kHello:
      if (length > kHelloBytesMax) {
        return fail("hello of " + std::to_string(length) + " bytes, limit " +
                    std::to_string(kHelloBytesMax));
      }
      break;
    case Phase::kAuth:
      if (length != kAuthPayloadBytes + kFrameTagBytes) {
        return fail("auth frame of " + std::to_string(length) + " bytes, expected " +
                    std::to_string(kAuthPayloadBytes + kFrameTagBytes));
      }
      break;
    case Phase::kOpen: {
      auto checked = opener_->open_header(header_);
      if (!checked.is_ok()) return fail(checked.status().message());
      break;
    }
    case Phase::kClosed:
      return;
  }
  body_.resize(length);
  asio::async_read(socket_, asio::buffer(body_),
                   [self = shared_from_this()](const boost::system::error_code& error,
                                               std::size_t) { self->on_body(error); });
}

void Connection::on_body(const boost::system::error_code& error) {
  if (phase_ == Phase::kClosed) return;
  if (error) return on_read_error(error);
  if (counters_) counters_->bytes_in += kFrameHeaderBytes + body_.size();
  switch (phase_) {
    case Phase::kHello:
      on_hello(body_);
      break;
    case Phase::kAuth:
      on_auth_frame(body_);
      break;
    case Phase::kOpen:
      on_data_frame(body_);
      break;
    case Phase::kClosed:
      return;
  }
  if (phase_ != Phase::kClosed) read_header();
}

void Connection::on_hello(ByteView body) {
  auto keys = handshake_->on_peer_hello(body);
  if (!keys.is_ok()) return fail(keys.status().message());
  transcript_ = keys->transcript;
  sealer_.emplace(keys->send_key);
  opener_.emplace(keys->recv_key, settings_->frame_bytes_max);
  handshake_.reset();  // the ephemeral key is no longer needed
  phase_ = Phase::kAuth;
  const Bytes auth = auth_payload(role_, settings_->signer, transcript_, settings_->chain_id);
  queue_raw(sealer_->seal(auth));
}

void Connection::on_auth_frame(ByteView body) {
  auto payload = opener_->open(header_, body);
  if (!payload.is_ok()) return fail("auth frame: " + payload.status().message());
  auto key = check_auth(*payload, peer_role(role_), transcript_, settings_->chain_id);
  if (!key.is_ok()) return fail(key.status().message());
  if (*key == settings_->signer.public_key()) {
    return fail("connected to itself (the peer proved this node's own key)");
  }
  if (dialed_key_ && *key != *dialed_key_) {
    return fail("expected key " + dialed_key_->hex() + ", peer proved key " + key->hex());
  }
  if (owner_) {
    Status allowed = owner_->authorize(*key);
    if (!allowed.is_ok()) return fail(allowed.message());
  }
  peer_key_ = *key;
  authenticated_at_ = std::chrono::steady_clock::now();
  phase_ = Phase::kOpen;
  handshake_timer_.cancel();
  if (counters_) ++counters_->handshakes_ok;
  spdlog::info("p2p: connected {} as {}", describe(), role_name(role_));
  if (owner_) owner_->on_authenticated(shared_from_this());
}

void Connection::on_data_frame(ByteView body) {
  auto payload = opener_->open(header_, body);
  if (!payload.is_ok()) return fail(payload.status().message());
  if (counters_) ++counters_->frames_in;
  if (owner_) owner_->on_payload(*this, std::move(payload).value());
}

void Connection::on_read_error(const boost::system::error_code& error) {
  const std::string reason = error == asio::error::eof ? std::string("connection closed by peer")
                                                       : "read failed: " + error.message();
  close(phase_ == Phase::kOpen ? CloseKind::kDisconnected : CloseKind::kHandshakeFailed, reason);
}

void Connection::fail(std::string_view reason) {
  close(phase_ == Phase::kOpen ? CloseKind::kDropped : CloseKind::kRefused, reason);
}

// ---- Writing.

void Connection::queue_raw(Bytes frame) {
  raw_out_.push_back(std::move(frame));
  start_write();
}

bool Connection::queue_payload(std::shared_ptr<const Bytes> payload) {
  LEDGER_ASSERT(payload);
  LEDGER_ASSERT(phase_ == Phase::kOpen);
  LEDGER_ASSERT(payload->size() <= settings_->frame_bytes_max);
  if (queued_bytes_ + payload->size() > settings_->send_queue_bytes_max) {
    close(CloseKind::kDropped,
          "send queue full: " + std::to_string(queued_bytes_ + payload->size()) +
              " bytes queued, limit " + std::to_string(settings_->send_queue_bytes_max));
    return false;
  }
  queued_bytes_ += payload->size();
  payloads_.push_back(std::move(payload));
  start_write();
  return true;
}

void Connection::start_write() {
  if (writing_ || phase_ == Phase::kClosed) return;
  out_.clear();
  out_payload_frames_ = 0;
  out_payload_bytes_ = 0;
  for (Bytes& frame : raw_out_)
    out_.insert(out_.end(), frame.begin(), frame.end());
  raw_out_.clear();
  while (!payloads_.empty() && out_.size() < kWriteBatchBytes) {
    if (sealer_->exhausted()) return fail("frame counter exhausted");
    sealer_->seal_into(*payloads_.front(), out_);
    out_payload_bytes_ += payloads_.front()->size();
    payloads_.pop_front();
    ++out_payload_frames_;
  }
  if (out_.empty()) return;
  writing_ = true;
  const std::uint64_t generation = ++write_generation_;
  write_timer_.expires_after(settings_->write_timeout);
  write_timer_.async_wait(
      [self = shared_from_this(), generation](const boost::system::error_code& error) {
        if (error != asio::error::operation_aborted) self->on_write_timeout(generation);
      });
  asio::async_write(
      socket_, asio::buffer(out_),
      [self = shared_from_this(), generation](const boost::system::error_code& error, std::size_t) {
        self->on_written(error, generation);
      });
}

void Connection::on_written(const boost::system::error_code& error, std::uint64_t generation) {
  if (phase_ == Phase::kClosed) return;
  LEDGER_ASSERT(writing_ && generation == write_generation_);
  writing_ = false;
  write_timer_.cancel();
  if (error) {
    const std::string reason = "write failed: " + error.message();
    close(phase_ == Phase::kOpen ? CloseKind::kDisconnected : CloseKind::kHandshakeFailed, reason);
    return;
  }
  LEDGER_ASSERT(queued_bytes_ >= out_payload_bytes_);
  queued_bytes_ -= out_payload_bytes_;
  if (counters_) {
    counters_->bytes_out += out_.size();
    counters_->frames_out += out_payload_frames_;
  }
  start_write();
}

void Connection::on_write_timeout(std::uint64_t generation) {
  if (phase_ == Phase::kClosed || !writing_ || generation != write_generation_) return;
  fail("stalled: a write of " + std::to_string(out_.size()) + " bytes did not complete within " +
       ms(settings_->write_timeout) + " (" + std::to_string(queued_bytes_) + " bytes queued)");
}

// ---- Closing.

void Connection::close(CloseKind kind, std::string_view reason) {
  if (phase_ == Phase::kClosed) return;
  auto self = shared_from_this();  // the owner may drop its reference in on_closed
  phase_ = Phase::kClosed;
  switch (kind) {
    case CloseKind::kRefused:
      spdlog::warn("p2p: refused {}: {}", describe(), reason);
      if (counters_) ++counters_->handshakes_refused;
      break;
    case CloseKind::kHandshakeFailed:
      spdlog::info("p2p: handshake with {} failed: {}", describe(), reason);
      if (counters_) ++counters_->handshakes_failed;
      break;
    case CloseKind::kDropped:
      spdlog::warn("p2p: dropped {}: {}", describe(), reason);
      if (counters_) ++counters_->peers_dropped;
      break;
    case CloseKind::kDisconnected:
      spdlog::info("p2p: disconnected {}: {}", describe(), reason);
      break;
    case CloseKind::kClosed:
      spdlog::info("p2p: closed {}: {}", describe(), reason);
      break;
    case CloseKind::kSilent:
      break;
  }
  boost::system::error_code ignored;
  socket_.close(ignored);
  handshake_timer_.cancel();
  write_timer_.cancel();
  raw_out_.clear();
  payloads_.clear();
  queued_bytes_ = 0;
  handshake_.reset();
  if (ConnectionOwner* owner = std::exchange(owner_, nullptr)) owner->on_closed(*this);
}

}  // namespace ledger::node::p2p
