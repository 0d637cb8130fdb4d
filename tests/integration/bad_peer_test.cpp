// Bad peers against node0 of a running 4-validator testnet, played over raw loopback sockets
// with the handshake and frame primitives (docs/p2p.md): garbage, an oversized hello, a hello
// for another chain, a key that is not allowed, a silent peer, an auth frame replayed from an
// earlier connection, and bad frames after a genuine handshake. For each, node0 closes the
// connection within a deadline, its log says why in the words of docs/p2p.md, and the testnet
// keeps committing.
#include <gtest/gtest.h>

#include "raw_peer.h"
#include "testnet_harness.h"

namespace ledger::itest {
namespace {

using Clock = std::chrono::steady_clock;

// The node closes a refused connection at once; this is far above that and below the default
// 5 s handshake timeout, so a close within it is the refusal, not the timeout.
constexpr auto kCloseDeadline = 3s;

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
  Signer impersonate_node3() { return impersonate_validator(*net_, 3); }

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
