// A fake peer for the integration tests: one TCP connection to a node's p2p port over a blocking
// POSIX socket, playing the initiator with the real handshake and frame primitives
// (include/ledger/node/p2p/handshake.h, frame_cipher.h), so that a test can send a node what a
// broken or Byzantine peer would: bytes before the handshake, bad frames after it, or genuine
// Envelopes with lies in them. Reads poll() with deadlines. Not thread-safe.
#pragma once

#include <arpa/inet.h>
#include <errno.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "harness.h"
#include "ledger/core/assert.h"
#include "ledger/node/p2p/frame_cipher.h"
#include "ledger/node/p2p/handshake.h"
#include "ledger/storage/key_file.h"
#include "testnet_harness.h"

namespace ledger::itest {

namespace p2p = ledger::node::p2p;

inline std::uint32_t decode_u32(const Bytes& b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         std::uint32_t{b[3]};
}

inline Bytes encode_u32(std::uint32_t n) {
  return {static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
          static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
}

// One TCP connection to a node's p2p port over a blocking POSIX socket, read with poll()
// deadlines. The test plays the initiator, as a node that dialed would.
class RawPeer {
 public:
  explicit RawPeer(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      ADD_FAILURE() << "socket: " << std::strerror(errno);
      return;
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      ADD_FAILURE() << "connect to 127.0.0.1:" << port << ": " << std::strerror(errno);
      ::close(fd_);
      fd_ = -1;
      return;
    }
    sockaddr_in local{};
    socklen_t length = sizeof local;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length);
    local_port_ = ntohs(local.sin_port);
  }
  ~RawPeer() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawPeer(const RawPeer&) = delete;
  RawPeer& operator=(const RawPeer&) = delete;

  // How the node names this connection before it knows the key: "127.0.0.1:<our port>".
  std::string address() const { return "127.0.0.1:" + std::to_string(local_port_); }

  bool write(ByteView bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  // Exactly n bytes; nullopt on EOF, error or timeout.
  std::optional<Bytes> read_exact(std::size_t n, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    Bytes out(n);
    std::size_t got = 0;
    while (got < n) {
      const long r = read_some(out.data() + got, n - got, deadline);
      if (r <= 0) return std::nullopt;
      got += static_cast<std::size_t>(r);
    }
    return out;
  }

  // A u32-length-prefixed frame (header, body) with a body of at most `body_max` bytes.
  std::optional<std::pair<Bytes, Bytes>> read_frame(std::size_t body_max) {
    auto header = read_exact(4);
    if (!header) return std::nullopt;
    const std::uint32_t length = decode_u32(*header);
    if (length > body_max) return std::nullopt;
    auto body = read_exact(length);
    if (!body) return std::nullopt;
    return std::make_pair(std::move(*header), std::move(*body));
  }

  // Whether the node closes the connection (EOF or reset) within `timeout`; what it sends
  // meanwhile is discarded.
  bool wait_closed(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<std::uint8_t> buffer(64 * 1024);
    while (true) {
      const long r = read_some(buffer.data(), buffer.size(), deadline);
      if (r == kTimedOut) return false;
      if (r <= 0) return true;
    }
  }

  // Hellos, keys and auth frames as an initiator proving `signer`'s key on `chain_id`. Keeps
  // the keys, the auth frame it sent and the key the node proved. With `send_auth` false the
  // caller sends its own auth frame with `sealer`.
  ::testing::AssertionResult handshake(const Signer& signer, const std::string& chain_id,
                                       bool send_auth = true) {
    auto state = p2p::HandshakeState::create(p2p::Role::kInitiator, chain_id);
    if (!state.is_ok()) return ::testing::AssertionFailure() << state.status().to_string();
    if (!write(state->hello_frame())) return ::testing::AssertionFailure() << "write failed";
    auto hello = read_frame(p2p::kHelloBytesMax);
    if (!hello) return ::testing::AssertionFailure() << "no hello from the node";
    auto keys = state->on_peer_hello(hello->second);
    if (!keys.is_ok()) return ::testing::AssertionFailure() << keys.status().to_string();
    keys_ = *keys;
    sealer.emplace(keys->send_key);
    opener.emplace(keys->recv_key, p2p::kFramePayloadBytesLimit);
    if (send_auth) {
      sent_auth_payload =
          p2p::auth_payload(p2p::Role::kInitiator, signer, keys->transcript, chain_id);
      sent_auth_frame = sealer->seal(sent_auth_payload);
      if (!write(sent_auth_frame)) return ::testing::AssertionFailure() << "write failed";
    }
    auto auth = read_frame(p2p::kAuthPayloadBytes + p2p::kFrameTagBytes);
    if (!auth) return ::testing::AssertionFailure() << "no auth frame from the node";
    auto payload = opener->open(auth->first, auth->second);
    if (!payload.is_ok()) return ::testing::AssertionFailure() << payload.status().to_string();
    auto key = p2p::check_auth(*payload, p2p::Role::kResponder, keys->transcript, chain_id);
    if (!key.is_ok()) return ::testing::AssertionFailure() << key.status().to_string();
    node_key = *key;
    return ::testing::AssertionSuccess();
  }

  // The next payload frame from the node, opened.
  std::optional<Bytes> read_payload() {
    auto frame = read_frame(64 << 20);
    if (!frame) return std::nullopt;
    auto payload = opener->open(frame->first, frame->second);
    if (!payload.is_ok()) return std::nullopt;
    return *payload;
  }

  // Whether a byte can be read (or the connection closed) within `timeout`: read_payload()
  // after this does not wait for the peer to start a frame.
  bool readable(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    while (true) {
      const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
      if (ready < 0 && errno == EINTR) continue;
      return ready != 0;
    }
  }

  // Seals `payload` as the next frame and sends it.
  bool send_payload(ByteView payload) { return write(sealer->seal(payload)); }

  const p2p::SessionKeys& keys() const { return keys_; }

  std::optional<p2p::FrameSealer> sealer;
  std::optional<p2p::FrameOpener> opener;
  Bytes sent_auth_payload;
  Bytes sent_auth_frame;  // header || ciphertext, as sent
  std::optional<PublicKey> node_key;

 private:
  static constexpr long kTimedOut = -2;

  // Bytes read (> 0), 0 on EOF, -1 on an error (a reset), kTimedOut at the deadline.
  long read_some(std::uint8_t* out, std::size_t n, std::chrono::steady_clock::time_point deadline) {
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return kTimedOut;
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) return -1;
      if (ready == 0) continue;  // the deadline check above ends it
      const ssize_t got = ::recv(fd_, out, n, 0);
      if (got < 0 && errno == EINTR) continue;
      return got < 0 ? -1 : static_cast<long>(got);
    }
  }

  int fd_ = -1;
  std::uint16_t local_port_ = 0;
  p2p::SessionKeys keys_;
};

// The signer of a node's key file (a gtest failure and a random signer if it cannot be read).
inline Signer signer_of_key_file(const std::filesystem::path& path) {
  auto secret = storage::read_key_file(path);
  if (!secret.is_ok()) {
    ADD_FAILURE() << secret.status().to_string();
    return random_signer();
  }
  auto signer = Signer::create(secret.value());
  LEDGER_ASSERT(signer.is_ok());
  return std::move(signer).value();
}

// ---- Playing a validator of a testnet ----------------------------------------------------------

// Stops validator `index` of `net` (kill -9) and returns its key, so that a raw peer can be that
// validator towards the others without the real node's connection competing with it (a node
// keeps one connection per key).
inline Signer impersonate_validator(Testnet& net, std::size_t index) {
  net.node(index).kill9();
  return signer_of_key_file(net.node(index).home() / "keys" / "node_key.json");
}

// A raw peer connected to 127.0.0.1:`port` that completed the real handshake as `signer`; a
// gtest failure and nullptr if it could not.
inline std::unique_ptr<RawPeer> connect_as(std::uint16_t port, const Signer& signer,
                                           const std::string& chain_id) {
  auto peer = std::make_unique<RawPeer>(port);
  const ::testing::AssertionResult done = peer->handshake(signer, chain_id);
  if (!done) {
    ADD_FAILURE() << "handshake with 127.0.0.1:" << port << " as "
                  << signer.public_key().hex().substr(0, 12) << ": " << done.message();
    return nullptr;
  }
  return peer;
}

// The opening of most raw-peer tests, as one step: `net` starts, its validators reach `height`,
// validator `impersonated` is stopped and a raw peer completes the handshake with validator
// `target` as it.
struct Impostor {
  std::optional<Signer> signer;   // the stopped validator's key
  std::uintmax_t log_mark = 0;    // the target's log size before the raw peer connected
  std::unique_ptr<RawPeer> peer;  // nullptr (and a gtest failure) if a step failed
};

inline Impostor start_with_impostor(Testnet& net, std::size_t target, std::size_t impersonated,
                                    std::uint64_t height = 3) {
  Impostor out;
  if (const auto started = net.start(); !started) {
    ADD_FAILURE() << started.message();
    return out;
  }
  if (const auto reached = wait_for_heights(net.validators(), height, 30s); !reached) {
    ADD_FAILURE() << reached.message();
    return out;
  }
  out.signer = impersonate_validator(net, impersonated);
  out.log_mark = net.node(target).log_size();
  out.peer = connect_as(net.p2p_port(target), *out.signer, net.chain_id());
  return out;
}

// The p2p port of a node that listens on port 0 (a full node of add_full_node()), from its log
// line "p2p: listening on 127.0.0.1:<port> as ...".
inline std::optional<std::uint16_t> logged_p2p_port(const TestnetNode& node) {
  const std::string log = node.log();
  const std::string marker = "p2p: listening on 127.0.0.1:";
  const auto at = log.rfind(marker);
  if (at == std::string::npos) return std::nullopt;
  std::uint32_t port = 0;
  for (std::size_t i = at + marker.size(); i < log.size() && std::isdigit(log[i]); ++i)
    port = port * 10 + static_cast<std::uint32_t>(log[i] - '0');
  if (port == 0 || port > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(port);
}

}  // namespace ledger::itest
