// Helpers for the p2p tests: keys, a recording handler, a bounded io loop, a log capture and a
// raw-socket peer that speaks (or breaks) the protocol by hand. Header-only: the test build
// globs *_test.cpp only.
#pragma once

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ledger/core/keys.h"
#include "ledger/node/p2p/frame_cipher.h"
#include "ledger/node/p2p/handshake.h"
#include "ledger/node/p2p/transport.h"

namespace ledger::node::p2p::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

inline constexpr std::string_view kChain = "ledger-test";

// A fixed secret key: all zero except byte 0 = `prefix` and byte 31 = `last`.
inline SecretKey test_secret(std::uint8_t prefix, std::uint8_t last) {
  std::array<std::uint8_t, SecretKey::kSize> bytes{};
  bytes[0] = prefix;
  bytes[31] = last;
  auto secret = SecretKey::from_bytes(bytes);
  LEDGER_ASSERT(secret.is_ok());
  return std::move(secret).value();
}

inline Signer test_signer_of(const SecretKey& secret) {
  auto signer = Signer::create(secret);
  LEDGER_ASSERT(signer.is_ok());
  return std::move(signer).value();
}

inline PublicKey key_of(const SecretKey& secret) {
  return test_signer_of(secret).public_key();
}

inline std::shared_ptr<const Bytes> payload_of(std::string_view text) {
  return std::make_shared<const Bytes>(text.begin(), text.end());
}

inline bool contains(const Status& status, std::string_view text) {
  return status.message().find(text) != std::string::npos;
}

inline std::string text_of(const Bytes& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

// Runs `io` until `done()` or `timeout`; returns done(). Never sleeps past an event.
template <typename Done>
bool run_until(asio::io_context& io, Done done, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(std::min<std::chrono::steady_clock::duration>(deadline - now, 20ms));
  }
  return true;
}

// Runs `io` for `duration` (to check that nothing more happens).
inline void run_for(asio::io_context& io, std::chrono::milliseconds duration) {
  if (io.stopped()) io.restart();
  io.run_for(duration);
}

// A free loopback port (bound, read and released; the transport binds it with SO_REUSEADDR).
inline std::uint16_t free_port(asio::io_context& io) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

// Records callbacks and checks that on_connected/on_disconnected alternate per key.
class RecordingHandler : public Transport::Handler {
 public:
  void on_connected(const PublicKey& peer) override {
    EXPECT_FALSE(up_[peer]) << "on_connected twice for " << peer.hex();
    up_[peer] = true;
    ++connects;
    if (on_connected_hook) on_connected_hook(peer);
  }
  void on_disconnected(const PublicKey& peer) override {
    EXPECT_TRUE(up_[peer]) << "on_disconnected without on_connected for " << peer.hex();
    up_[peer] = false;
    ++disconnects;
  }
  void on_frame(const PublicKey& peer, Bytes payload) override {
    EXPECT_TRUE(up_[peer]) << "frame from a peer not connected: " << peer.hex();
    if (on_frame_hook) on_frame_hook(peer, payload);
    frames[peer].push_back(std::move(payload));
  }
  bool up(const PublicKey& peer) const {
    auto it = up_.find(peer);
    return it != up_.end() && it->second;
  }
  int up_count() const {
    int n = 0;
    for (const auto& [key, is_up] : up_)
      n += is_up ? 1 : 0;
    return n;
  }

  int connects = 0;
  int disconnects = 0;
  std::map<PublicKey, std::vector<Bytes>> frames;
  std::function<void(const PublicKey&)> on_connected_hook;
  std::function<void(const PublicKey&, const Bytes&)> on_frame_hook;

 private:
  std::map<PublicKey, bool> up_;
};

// Captures every spdlog line (info and above) while alive; warn and above also go to stderr
// so that a failing test shows them.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<Sink>()), previous_(spdlog::default_logger()) {
    auto stderr_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    stderr_sink->set_level(spdlog::level::warn);
    auto logger =
        std::make_shared<spdlog::logger>("p2p-test", spdlog::sinks_init_list{sink_, stderr_sink});
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Lines containing `text`.
  int count(std::string_view text) const {
    std::lock_guard lock(sink_->mutex_lines);
    int n = 0;
    for (const auto& line : sink_->lines)
      n += line.find(text) != std::string::npos ? 1 : 0;
    return n;
  }
  bool contains(std::string_view text) const { return count(text) > 0; }
  std::string all() const {
    std::lock_guard lock(sink_->mutex_lines);
    std::string out;
    for (const auto& line : sink_->lines)
      out += line + "\n";
    return out;
  }

 private:
  struct Sink : spdlog::sinks::base_sink<std::mutex> {
    void sink_it_(const spdlog::details::log_msg& msg) override {
      std::lock_guard lock(mutex_lines);
      lines.emplace_back(msg.payload.data(), msg.payload.size());
    }
    void flush_() override {}
    mutable std::mutex mutex_lines;
    std::vector<std::string> lines;
  };
  std::shared_ptr<Sink> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

// A peer driven by hand over a raw socket on the test's io_context.
class RawPeer {
 public:
  explicit RawPeer(asio::io_context& io) : io_(io), socket_(io) {}
  RawPeer(asio::io_context& io, tcp::socket socket) : io_(io), socket_(std::move(socket)) {}

  // Connects to "127.0.0.1:port" (the listen backlog completes it without the acceptor
  // running). A small receive buffer makes "never reads" fill up quickly.
  void connect(const std::string& address, bool small_receive_buffer = false) {
    const auto colon = address.rfind(':');
    const tcp::endpoint endpoint(asio::ip::make_address(address.substr(0, colon)),
                                 static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
    socket_.open(endpoint.protocol());
    if (small_receive_buffer) socket_.set_option(asio::socket_base::receive_buffer_size(4096));
    socket_.connect(endpoint);
  }

  void write(ByteView bytes) {
    boost::system::error_code ignored;
    asio::write(socket_, asio::buffer(bytes.data(), bytes.size()), ignored);
  }

  // Exactly n bytes, or nullopt on EOF, error or timeout.
  std::optional<Bytes> read_exact(std::size_t n, std::chrono::milliseconds timeout = 3000ms) {
    auto buffer = std::make_shared<Bytes>(n);
    bool done = false;
    boost::system::error_code error;
    asio::async_read(socket_, asio::buffer(*buffer),
                     [&done, &error, buffer](const boost::system::error_code& e, std::size_t) {
                       error = e;
                       done = true;
                     });
    if (!run_until(
            io_, [&] { return done; }, timeout)) {
      boost::system::error_code ignored;
      socket_.cancel(ignored);
      run_until(
          io_, [&] { return done; }, 1000ms);
      return std::nullopt;
    }
    if (error) return std::nullopt;
    return *buffer;
  }

  // One length-prefixed frame: header and body.
  std::optional<std::pair<Bytes, Bytes>> read_frame(std::size_t body_max = 1 << 20) {
    auto header = read_exact(4);
    if (!header) return std::nullopt;
    const std::uint32_t length = (std::uint32_t{(*header)[0]} << 24) |
                                 (std::uint32_t{(*header)[1]} << 16) |
                                 (std::uint32_t{(*header)[2]} << 8) | (*header)[3];
    if (length > body_max) return std::nullopt;
    auto body = read_exact(length);
    if (!body) return std::nullopt;
    return std::make_pair(std::move(*header), std::move(*body));
  }

  // Whether the other side closes the connection within `timeout` (data is discarded).
  bool wait_closed(std::chrono::milliseconds timeout = 3000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto chunk = read_some(left);
      if (!chunk.has_value()) return !timed_out_;
    }
    return false;
  }

  // The protocol up to authentication, as `role`, proving `signer`'s key. With `send_auth`
  // false the caller sends its own (forged) auth frame with `sealer`. The peer's auth payload
  // and its raw frame are kept.
  ::testing::AssertionResult handshake(const Signer& signer, Role role,
                                       std::string_view chain = kChain, bool send_auth = true) {
    auto state = HandshakeState::create(role, std::string(chain));
    if (!state.is_ok()) return ::testing::AssertionFailure() << state.status().to_string();
    write(state->hello_frame());
    auto hello = read_frame(kHelloBytesMax);
    if (!hello) return ::testing::AssertionFailure() << "no hello from the peer";
    auto keys = state->on_peer_hello(hello->second);
    if (!keys.is_ok()) return ::testing::AssertionFailure() << keys.status().to_string();
    keys_ = *keys;
    sealer.emplace(keys->send_key);
    opener.emplace(keys->recv_key, 1 << 20);
    if (send_auth) write(sealer->seal(auth_payload(role, signer, keys->transcript, chain)));
    auto auth = read_frame();
    if (!auth) return ::testing::AssertionFailure() << "no auth frame from the peer";
    peer_auth_frame = auth->first;
    peer_auth_frame.insert(peer_auth_frame.end(), auth->second.begin(), auth->second.end());
    auto plain = opener->open(auth->first, auth->second);
    if (!plain.is_ok()) return ::testing::AssertionFailure() << plain.status().to_string();
    peer_auth_payload = *plain;
    auto key = check_auth(*plain, peer_role(role), keys->transcript, chain);
    if (!key.is_ok()) return ::testing::AssertionFailure() << key.status().to_string();
    peer_key = *key;
    return ::testing::AssertionSuccess();
  }

  // Reads and opens one payload frame from the peer.
  std::optional<Bytes> read_payload() {
    auto frame = read_frame();
    if (!frame) return std::nullopt;
    auto plain = opener->open(frame->first, frame->second);
    if (!plain.is_ok()) return std::nullopt;
    return *plain;
  }

  const SessionKeys& keys() const { return keys_; }
  tcp::socket& socket() { return socket_; }

  std::optional<FrameSealer> sealer;
  std::optional<FrameOpener> opener;
  Bytes peer_auth_frame;    // header || ciphertext, as received
  Bytes peer_auth_payload;  // decrypted
  std::optional<PublicKey> peer_key;

 private:
  // Some bytes, or nullopt on EOF/error (timed_out_ false) or timeout (timed_out_ true).
  std::optional<Bytes> read_some(std::chrono::milliseconds timeout) {
    auto buffer = std::make_shared<Bytes>(64 * 1024);
    bool done = false;
    boost::system::error_code error;
    std::size_t got = 0;
    socket_.async_read_some(asio::buffer(*buffer),
                            [&, buffer](const boost::system::error_code& e, std::size_t n) {
                              error = e;
                              got = n;
                              done = true;
                            });
    timed_out_ = !run_until(
        io_, [&] { return done; }, timeout);
    if (timed_out_) {
      boost::system::error_code ignored;
      socket_.cancel(ignored);
      run_until(
          io_, [&] { return done; }, 1000ms);
      return std::nullopt;
    }
    if (error) return std::nullopt;
    buffer->resize(got);
    return *buffer;
  }

  asio::io_context& io_;
  tcp::socket socket_;
  SessionKeys keys_;
  bool timed_out_ = false;
};

}  // namespace ledger::node::p2p::testing
