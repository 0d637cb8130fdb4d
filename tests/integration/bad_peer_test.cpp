// Bad peers against node0 of a running 4-validator testnet, played over raw loopback sockets
// with the handshake and frame primitives (docs/p2p.md): garbage, an oversized hello, a hello
// for another chain, a key that is not allowed, a silent peer, an auth frame replayed from an
// earlier connection, and bad frames after a genuine handshake. For each, node0 closes the
// connection within a deadline, its log says why in the words of docs/p2p.md, and the testnet
// keeps committing.
#include <arpa/inet.h>
#include <errno.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "ledger/core/assert.h"
#include "ledger/node/key_file.h"
#include "ledger/node/p2p/frame_cipher.h"
#include "ledger/node/p2p/handshake.h"
#include "testnet_harness.h"

namespace ledger::itest {
namespace {

namespace p2p = ledger::node::p2p;
using Clock = std::chrono::steady_clock;

// The node closes a refused connection at once; this is far above that and below the default
// 5 s handshake timeout, so a close within it is the refusal, not the timeout.
constexpr auto kCloseDeadline = 3s;

std::uint32_t decode_u32(const Bytes& b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         std::uint32_t{b[3]};
}

Bytes encode_u32(std::uint32_t n) {
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
    const auto deadline = Clock::now() + timeout;
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
    const auto deadline = Clock::now() + timeout;
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

  const p2p::SessionKeys& keys() const { return keys_; }

  std::optional<p2p::FrameSealer> sealer;
  std::optional<p2p::FrameOpener> opener;
  Bytes sent_auth_payload;
  Bytes sent_auth_frame;  // header || ciphertext, as sent
  std::optional<PublicKey> node_key;

 private:
  static constexpr long kTimedOut = -2;

  // Bytes read (> 0), 0 on EOF, -1 on an error (a reset), kTimedOut at the deadline.
  long read_some(std::uint8_t* out, std::size_t n, Clock::time_point deadline) {
    while (true) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
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

Signer signer_of_key_file(const std::filesystem::path& path) {
  auto secret = node::read_key_file(path);
  if (!secret.is_ok()) {
    ADD_FAILURE() << secret.status().to_string();
    return random_signer();
  }
  auto signer = Signer::create(secret.value());
  LEDGER_ASSERT(signer.is_ok());
  return std::move(signer).value();
}

class BadPeer : public ::testing::Test {
 protected:
  void start(TestnetOptions options = {}) {
    net_.emplace(std::move(options));
    ASSERT_TRUE(net_->start());
    ASSERT_TRUE(wait_for_heights(net_->validators(), 3, 30s));
    log_mark_ = target().log_size();
  }

  TestnetNode& target() { return net_->node(0); }
  std::uint16_t target_port() { return net_->p2p_port(0); }
  std::unique_ptr<RawPeer> connect() { return std::make_unique<RawPeer>(target_port()); }

  // node0's log gets a line containing `text` (within 5 s: the close may come first).
  ::testing::AssertionResult logged(const std::string& text) {
    if (poll_until([&] { return target().log_since(log_mark_).find(text) != std::string::npos; },
                   5s)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "node0's log has no line with \"" << text << "\"; since the testnet started it has:\n"
           << target().log_since(log_mark_);
  }

  // The validators in `indexes` commit 5 more blocks and agree on every block.
  void expect_still_commits(const std::vector<std::size_t>& indexes = {0, 1, 2, 3}) {
    const auto nodes = net_->nodes(indexes);
    const auto now = max_height(nodes);
    ASSERT_TRUE(now.has_value()) << describe_heights(nodes);
    EXPECT_TRUE(wait_for_heights(nodes, *now + 5, 30s));
    EXPECT_TRUE(same_blocks(nodes));
  }

  // The validator key of node3, stopped so that this test can be node3 towards node0 without
  // the real node3's connection competing with it (one connection per key).
  Signer impersonate_node3() {
    net_->node(3).kill9();
    return signer_of_key_file(net_->node(3).home() / "keys" / "node_key.json");
  }

  // A genuine handshake as node3: node0 accepts it and sends consensus traffic.
  void expect_accepted(RawPeer& peer, const Signer& node3) {
    ASSERT_TRUE(peer.handshake(node3, net_->chain_id()));
    ASSERT_EQ(peer.node_key->hex(), target().key_hex());
    EXPECT_TRUE(logged("p2p: connected " + node3.public_key().hex().substr(0, 12) + " (" +
                       peer.address() + ") as responder"));
    EXPECT_TRUE(peer.read_payload().has_value()) << "node0 sent nothing after the handshake";
  }

  std::optional<Testnet> net_;
  std::uintmax_t log_mark_ = 0;
};

TEST_F(BadPeer, GarbageBytes_Refused) {
  start();
  auto peer = connect();
  peer->write(Bytes(600, 0xab));
  EXPECT_TRUE(peer->wait_closed(kCloseDeadline));
  EXPECT_TRUE(logged("p2p: refused " + peer->address() + ": hello of 2880154539 bytes, limit 512"));

  // A length that passes, then a body that is not a hello: the magic is off by one letter.
  auto second = connect();
  Bytes frame = encode_u32(40);
  frame.push_back(11);
  const std::string junk = "ledgerd/p2q and then some more bytes....";
  frame.insert(frame.end(), junk.begin(), junk.begin() + 39);
  second->write(frame);
  EXPECT_TRUE(second->wait_closed(kCloseDeadline));
  EXPECT_TRUE(logged("p2p: refused " + second->address() +
                     ": not a ledgerd peer: hello magic is not \"ledgerd/p2p\""));
  expect_still_commits();
}

TEST_F(BadPeer, OversizedHelloLength_RefusedBeforeReadingIt) {
  start();
  auto peer = connect();
  peer->write(Bytes{0xff, 0xff, 0xff, 0xff});
  EXPECT_TRUE(peer->wait_closed(kCloseDeadline));
  EXPECT_TRUE(logged("p2p: refused " + peer->address() + ": hello of 4294967295 bytes, limit 512"));

  auto just_over = connect();
  just_over->write(encode_u32(p2p::kHelloBytesMax + 1));
  EXPECT_TRUE(just_over->wait_closed(kCloseDeadline));
  EXPECT_TRUE(logged("p2p: refused " + just_over->address() + ": hello of 513 bytes, limit 512"));
  expect_still_commits();
}

TEST_F(BadPeer, HelloForAnotherChain_Refused) {
  start();
  auto peer = connect();
  auto state = p2p::HandshakeState::create(p2p::Role::kInitiator, "other-chain");
  ASSERT_TRUE(state.is_ok());
  peer->write(state->hello_frame());
  EXPECT_TRUE(peer->wait_closed(kCloseDeadline));
  EXPECT_TRUE(logged("p2p: refused " + peer->address() +
                     ": peer is on chain \"other-chain\", this node runs \"" + net_->chain_id() +
                     "\""));
  expect_still_commits();
}

TEST_F(BadPeer, KeyThatIsNotAValidator_Refused) {
  start();  // accept_unknown_peers is off by default
  const Signer stranger = random_signer();
  auto peer = connect();
  // The node proves its own key before it checks ours; then it refuses.
  EXPECT_TRUE(peer->handshake(stranger, net_->chain_id()));
  EXPECT_TRUE(peer->wait_closed(kCloseDeadline));
  EXPECT_TRUE(logged("p2p: refused " + peer->address() + ": unknown peer key " +
                     stranger.public_key().hex() +
                     " (not a validator, not in p2p.peers, accept_unknown_peers is off)"));
  const auto network = target().network();
  ASSERT_TRUE(network.has_value());
  for (const std::string& key : network->connected_peers())
    EXPECT_NE(key, stranger.public_key().hex());
  expect_still_commits();
}

TEST_F(BadPeer, SilentAfterHello_ClosedAtHandshakeTimeout) {
  TestnetOptions options;
  options.config["p2p.handshake_timeout_ms"] = "1000";
  start(options);
  auto peer = connect();
  auto state = p2p::HandshakeState::create(p2p::Role::kInitiator, net_->chain_id());
  ASSERT_TRUE(state.is_ok());
  peer->write(state->hello_frame());
  const auto sent = Clock::now();
  EXPECT_TRUE(peer->wait_closed(5s));
  EXPECT_GE(Clock::now() - sent, 900ms) << "closed before the handshake timeout";
  EXPECT_TRUE(
      logged("p2p: refused " + peer->address() + ": handshake not completed within 1000 ms"));
  expect_still_commits();
}

// An auth frame recorded on an earlier, accepted connection (an eavesdropper's copy of node3's
// handshake) opens on no other connection: its keys and transcript were that connection's.
TEST_F(BadPeer, AuthFrameReplayedFromEarlierConnection_Refused) {
  start();
  const Signer node3 = impersonate_node3();
  Bytes recorded_frame;
  Bytes recorded_payload;
  {
    RawPeer genuine(target_port());
    expect_accepted(genuine, node3);
    if (HasFatalFailure()) return;
    recorded_frame = genuine.sent_auth_frame;
    recorded_payload = genuine.sent_auth_payload;
  }  // closed: node0 logs the disconnect and would accept node3 again

  // 1. The recorded frame, byte for byte.
  auto replay = connect();
  ASSERT_TRUE(replay->handshake(node3, net_->chain_id(), /*send_auth=*/false));
  replay->write(recorded_frame);
  EXPECT_TRUE(replay->wait_closed(kCloseDeadline));
  EXPECT_TRUE(
      logged("p2p: refused " + replay->address() + ": auth frame: frame authentication failed"));

  // 2. The recorded payload, sealed under this connection's keys: the signature covers the
  // earlier connection's transcript.
  auto resealed = connect();
  ASSERT_TRUE(resealed->handshake(node3, net_->chain_id(), /*send_auth=*/false));
  resealed->write(resealed->sealer->seal(recorded_payload));
  EXPECT_TRUE(resealed->wait_closed(kCloseDeadline));
  EXPECT_TRUE(logged("p2p: refused " + resealed->address() + ": bad handshake signature (key " +
                     node3.public_key().hex() + ")"));

  expect_still_commits({0, 1, 2});
  ASSERT_TRUE(net_->node(3).start());
  expect_still_commits();
}

TEST_F(BadPeer, OversizedFrameAfterHandshake_Dropped) {
  start();
  const Signer node3 = impersonate_node3();
  auto peer = connect();
  expect_accepted(*peer, node3);
  if (HasFatalFailure()) return;
  // p2p.frame_bytes_max is 64 MiB by default: the limit on L is that plus the 16-byte tag.
  constexpr std::uint32_t kLimit = (64u << 20) + 16;
  peer->write(encode_u32(kLimit + 1));
  EXPECT_TRUE(peer->wait_closed(kCloseDeadline));
  EXPECT_TRUE(logged("p2p: dropped " + node3.public_key().hex().substr(0, 12) + " (" +
                     peer->address() + "): oversized frame: " + std::to_string(kLimit + 1) +
                     " bytes, limit " + std::to_string(kLimit)));
  expect_still_commits({0, 1, 2});
  ASSERT_TRUE(net_->node(3).start());
  expect_still_commits();
}

TEST_F(BadPeer, TamperedFrameAfterHandshake_Dropped) {
  start();
  const Signer node3 = impersonate_node3();
  auto peer = connect();
  expect_accepted(*peer, node3);
  if (HasFatalFailure()) return;
  Bytes frame = peer->sealer->seal(Bytes(32, 0x11));
  frame[10] ^= 0x01;  // a ciphertext byte
  peer->write(frame);
  EXPECT_TRUE(peer->wait_closed(kCloseDeadline));
  EXPECT_TRUE(logged("p2p: dropped " + node3.public_key().hex().substr(0, 12) + " (" +
                     peer->address() + "): frame authentication failed"));
  expect_still_commits({0, 1, 2});
  ASSERT_TRUE(net_->node(3).start());
  expect_still_commits();
}

}  // namespace
}  // namespace ledger::itest
