// A transport facing bad peers played by hand over raw sockets: garbage, oversized lengths,
// silence, replays, forged auth, bad frames, peers that never read, too many connections.
// Each test checks that the connection is closed, that the counters and the one log line say
// why, and that a good peer still connects afterwards.
#include <gtest/gtest.h>

#include <list>

#include "ledger/node/p2p/transport.h"
#include "p2p_test_util.h"

namespace ledger::node::p2p {
namespace {

using namespace testing;

class AdversaryTest : public ::testing::Test {
 protected:
  AdversaryTest()
      : target_secret_(test_secret(0x71, 1)),
        raw_secret_(test_secret(0x71, 2)),
        good_secret_(test_secret(0x71, 3)),
        raw_signer_(test_signer_of(raw_secret_)),
        good_key_(key_of(good_secret_)) {}

  TransportOptions options() const {
    TransportOptions o;
    o.chain_id = std::string(kChain);
    o.validators = {raw_signer_.public_key(), good_key_};
    o.handshake_timeout = 300ms;
    o.dial_backoff_min = 10ms;
    o.dial_backoff_max = 50ms;
    o.frame_bytes_max = 64 * 1024;
    o.send_queue_bytes_max = 256 * 1024;
    return o;
  }

  void start_target(TransportOptions o) {
    auto t = Transport::start(io_, target_secret_, std::move(o), target_handler_);
    ASSERT_TRUE(t.is_ok()) << t.status().to_string();
    target_ = std::move(t).value();
  }
  void start_target() { start_target(options()); }

  Transport::Counters counters() const { return target_->counters(); }

  // A raw peer connected to the target.
  std::unique_ptr<RawPeer> raw(bool small_receive_buffer = false) {
    auto peer = std::make_unique<RawPeer>(io_);
    peer->connect(target_->listen_address(), small_receive_buffer);
    return peer;
  }

  // A raw peer the target has authenticated (its on_connected delivered).
  std::unique_ptr<RawPeer> authenticated_raw(bool small_receive_buffer = false) {
    auto peer = raw(small_receive_buffer);
    EXPECT_TRUE(peer->handshake(raw_signer_, Role::kInitiator));
    EXPECT_TRUE(run_until(io_, [&] { return target_handler_.up(raw_signer_.public_key()); }))
        << log_.all();
    return peer;
  }

  // A good transport dials the target, both connect and a frame goes each way.
  void expect_still_works() {
    RecordingHandler good_handler;
    TransportOptions o = options();
    auto address = parse_peer_address(target_->node_key().hex() + "@" + target_->listen_address());
    ASSERT_TRUE(address.is_ok());
    o.peers = {*address};
    auto good = Transport::start(io_, good_secret_, o, good_handler);
    ASSERT_TRUE(good.is_ok());
    const PublicKey target_key = target_->node_key();
    ASSERT_TRUE(run_until(io_, [&] {
      return good_handler.up(target_key) && target_handler_.up(good_key_);
    })) << log_.all();
    ASSERT_TRUE((*good)->send(target_key, payload_of("still")));
    ASSERT_TRUE(target_->send(good_key_, payload_of("works")));
    ASSERT_TRUE(run_until(io_, [&] {
      return !good_handler.frames[target_key].empty() && !target_handler_.frames[good_key_].empty();
    }));
    EXPECT_EQ(text_of(good_handler.frames[target_key].back()), "works");
    EXPECT_EQ(text_of(target_handler_.frames[good_key_].back()), "still");
    good->reset();
    ASSERT_TRUE(run_until(io_, [&] { return !target_handler_.up(good_key_); }));
  }

  asio::io_context io_;  // declared first: destroyed last
  LogCapture log_;
  SecretKey target_secret_;
  SecretKey raw_secret_;
  SecretKey good_secret_;
  Signer raw_signer_;
  PublicKey good_key_;
  RecordingHandler target_handler_;
  std::unique_ptr<Transport> target_;  // destroyed before its handler
};

TEST_F(AdversaryTest, GarbageBytes_RefusedBeforeReadingTheClaimedLength) {
  start_target();
  auto peer = raw();
  peer->write(Bytes(600, 0xab));
  EXPECT_TRUE(peer->wait_closed());
  EXPECT_EQ(counters().handshakes_refused, 1u);
  EXPECT_TRUE(log_.contains("p2p: refused 127.0.0.1:")) << log_.all();
  EXPECT_TRUE(log_.contains(": hello of 2880154539 bytes, limit 512")) << log_.all();
  expect_still_works();
}

TEST_F(AdversaryTest, HttpRequest_Refused) {
  start_target();
  auto peer = raw();
  peer->write(as_bytes("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  EXPECT_TRUE(peer->wait_closed());
  EXPECT_EQ(counters().handshakes_refused, 1u);
  EXPECT_TRUE(log_.contains(": hello of 1195725856 bytes, limit 512")) << log_.all();
  expect_still_works();
}

TEST_F(AdversaryTest, HelloWithWrongMagic_RefusedAsNotALedgerdPeer) {
  start_target();
  auto peer = raw();
  Bytes frame{0, 0, 0, 20, 11};
  const std::string_view text = "ledgerd/p2q.......";
  frame.insert(frame.end(), text.begin(), text.end());
  frame.resize(24, '.');
  peer->write(frame);
  EXPECT_TRUE(peer->wait_closed());
  EXPECT_EQ(counters().handshakes_refused, 1u);
  EXPECT_TRUE(log_.contains(": not a ledgerd peer")) << log_.all();
  expect_still_works();
}

TEST_F(AdversaryTest, OversizedHelloLength_RefusedAtOnceNotAtTimeout) {
  TransportOptions o = options();
  o.handshake_timeout = 10000ms;  // a refusal within the wait below cannot be the timeout
  start_target(o);
  auto peer = raw();
  peer->write(Bytes{0xff, 0xff, 0xff, 0xff});
  EXPECT_TRUE(peer->wait_closed(2000ms));
  EXPECT_EQ(counters().handshakes_refused, 1u);
  EXPECT_TRUE(log_.contains(": hello of 4294967295 bytes, limit 512")) << log_.all();
  expect_still_works();
}

TEST_F(AdversaryTest, HelloThenNothing_ClosedAtHandshakeTimeout) {
  start_target();
  auto peer = raw();
  auto state = HandshakeState::create(Role::kInitiator, std::string(kChain));
  ASSERT_TRUE(state.is_ok());
  peer->write(state->hello_frame());
  EXPECT_TRUE(peer->wait_closed());
  EXPECT_EQ(counters().handshakes_refused, 1u);
  EXPECT_TRUE(log_.contains(": handshake not completed within 300 ms")) << log_.all();
  EXPECT_EQ(counters().connections_open, 0u);
  expect_still_works();
}

TEST_F(AdversaryTest, ReflectedHello_Refused) {
  start_target();
  auto peer = raw();
  auto hello = peer->read_frame(kHelloBytesMax);
  ASSERT_TRUE(hello);
  Bytes frame = hello->first;
  frame.insert(frame.end(), hello->second.begin(), hello->second.end());
  peer->write(frame);
  EXPECT_TRUE(peer->wait_closed());
  EXPECT_TRUE(log_.contains("our own ephemeral key (reflected)")) << log_.all();
  expect_still_works();
}

TEST_F(AdversaryTest, WrongChainFromRawPeer_RefusedNamingBoth) {
  start_target();
  auto peer = raw();
  EXPECT_FALSE(peer->handshake(raw_signer_, Role::kInitiator, "forked-chain"));
  EXPECT_TRUE(peer->wait_closed());
  EXPECT_TRUE(log_.contains(": peer is on chain \"forked-chain\", this node runs \"ledger-test\""))
      << log_.all();
}

TEST_F(AdversaryTest, AuthClaimingResponderRole_Refused) {
  start_target();
  auto peer = raw();
  ASSERT_TRUE(peer->handshake(raw_signer_, Role::kInitiator, kChain, /*send_auth=*/false));
  peer->write(peer->sealer->seal(
      auth_payload(Role::kResponder, raw_signer_, peer->keys().transcript, kChain)));
  EXPECT_TRUE(peer->wait_closed());
  EXPECT_EQ(counters().handshakes_refused, 1u);
  EXPECT_TRUE(log_.contains(": peer claims role responder, expected initiator")) << log_.all();
  expect_still_works();
}

TEST_F(AdversaryTest, AuthFrameOfWrongSize_RefusedBeforeReadingIt) {
  start_target();
  auto peer = raw();
  ASSERT_TRUE(peer->handshake(raw_signer_, Role::kInitiator, kChain, /*send_auth=*/false));
  peer->write(peer->sealer->seal(Bytes(500, 1)));
  EXPECT_TRUE(peer->wait_closed());
  EXPECT_TRUE(log_.contains(": auth frame of 516 bytes, expected 113")) << log_.all();
  expect_still_works();
}

TEST_F(AdversaryTest, UnknownKey_Refused) {
  start_target();
  auto peer = raw();
  const Signer stranger = test_signer_of(test_secret(0x71, 77));
  // The raw side completes its half; the target refuses after checking the key.
  EXPECT_TRUE(peer->handshake(stranger, Role::kInitiator));
  EXPECT_TRUE(peer->wait_closed());
  EXPECT_TRUE(log_.contains(": unknown peer key " + stranger.public_key().hex())) << log_.all();
  EXPECT_EQ(target_handler_.connects, 0);
  expect_still_works();
}

// A malicious node M records what an honest validator V sends when V dials M, then dials the
// target pretending to be V. The auth signature covers the transcript of V's connection to M,
// which includes both of its fresh ephemeral keys, so neither the recorded frame nor the
// recorded (re-encrypted) payload passes on M's own connection to the target.
TEST_F(AdversaryTest, AuthReplayedFromAnotherConnection_Refused) {
  const SecretKey victim_secret = test_secret(0x71, 4);
  const PublicKey victim_key = key_of(victim_secret);
  TransportOptions o = options();
  o.validators.insert(victim_key);
  start_target(o);

  tcp::acceptor trap(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::optional<tcp::socket> trapped;
  trap.async_accept([&](const boost::system::error_code& error, tcp::socket socket) {
    if (!error) trapped.emplace(std::move(socket));
  });
  RecordingHandler victim_handler;
  TransportOptions victim_options = options();
  const Signer malicious = test_signer_of(test_secret(0x71, 5));
  victim_options.peers = {
      PeerAddress{malicious.public_key(), "127.0.0.1", trap.local_endpoint().port()}};
  auto victim = Transport::start(io_, victim_secret, victim_options, victim_handler);
  ASSERT_TRUE(victim.is_ok());
  ASSERT_TRUE(run_until(io_, [&] { return trapped.has_value(); }));
  RawPeer recorder(io_, std::move(*trapped));
  ASSERT_TRUE(recorder.handshake(malicious, Role::kResponder, kChain, /*send_auth=*/false));
  ASSERT_EQ(recorder.peer_key, victim_key);  // a genuine auth of the victim, as initiator
  victim->reset();

  // 1. The recorded frame, byte for byte.
  auto first = raw();
  ASSERT_TRUE(first->handshake(raw_signer_, Role::kInitiator, kChain, /*send_auth=*/false));
  first->write(recorder.peer_auth_frame);
  EXPECT_TRUE(first->wait_closed());
  EXPECT_TRUE(log_.contains(": auth frame: frame authentication failed")) << log_.all();

  // 2. The recorded payload, encrypted under this connection's keys.
  auto second = raw();
  ASSERT_TRUE(second->handshake(raw_signer_, Role::kInitiator, kChain, /*send_auth=*/false));
  second->write(second->sealer->seal(recorder.peer_auth_payload));
  EXPECT_TRUE(second->wait_closed());
  EXPECT_TRUE(log_.contains(": bad handshake signature (key " + victim_key.hex() + ")"))
      << log_.all();

  EXPECT_EQ(counters().handshakes_refused, 2u);
  EXPECT_FALSE(target_->is_connected(victim_key));
  EXPECT_EQ(target_handler_.connects, 0);
  expect_still_works();
}

TEST_F(AdversaryTest, OversizedFrameAfterAuth_DroppedBeforeReadingIt) {
  start_target();
  auto peer = authenticated_raw();
  const std::uint32_t length = 64 * 1024 + 17;
  peer->write(Bytes{0, static_cast<std::uint8_t>(length >> 16),
                    static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)});
  EXPECT_TRUE(peer->wait_closed());
  EXPECT_EQ(counters().peers_dropped, 1u);
  EXPECT_TRUE(log_.contains("p2p: dropped " + raw_signer_.public_key().hex().substr(0, 12) +
                            " (127.0.0.1:"))
      << log_.all();
  EXPECT_TRUE(log_.contains(": oversized frame: 65553 bytes, limit 65552")) << log_.all();
  ASSERT_TRUE(run_until(io_, [&] { return !target_handler_.up(raw_signer_.public_key()); }));
  expect_still_works();
}

TEST_F(AdversaryTest, TamperedFrameAfterAuth_Dropped) {
  start_target();
  auto peer = authenticated_raw();
  Bytes good = peer->sealer->seal(as_bytes("fine"));
  Bytes bad = peer->sealer->seal(as_bytes("evil"));
  bad[6] ^= 0x20;
  peer->write(good);
  peer->write(bad);
  EXPECT_TRUE(peer->wait_closed());
  EXPECT_EQ(counters().peers_dropped, 1u);
  EXPECT_TRUE(log_.contains(": frame authentication failed")) << log_.all();
  ASSERT_TRUE(run_until(io_, [&] { return !target_handler_.up(raw_signer_.public_key()); }));
  ASSERT_EQ(target_handler_.frames[raw_signer_.public_key()].size(), 1u);
  EXPECT_EQ(text_of(target_handler_.frames[raw_signer_.public_key()][0]), "fine");
  expect_still_works();
}

TEST_F(AdversaryTest, ReplayedFrameAfterAuth_Dropped) {
  start_target();
  auto peer = authenticated_raw();
  Bytes frame = peer->sealer->seal(as_bytes("once"));
  peer->write(frame);
  peer->write(frame);
  EXPECT_TRUE(peer->wait_closed());
  EXPECT_EQ(counters().peers_dropped, 1u);
  EXPECT_EQ(target_handler_.frames[raw_signer_.public_key()].size(), 1u);
  EXPECT_TRUE(log_.contains(": frame authentication failed")) << log_.all();
}

TEST_F(AdversaryTest, PeerThatNeverReads_DroppedWhenSendQueueFull) {
  start_target();
  auto peer = authenticated_raw(/*small_receive_buffer=*/true);
  const PublicKey raw_key = raw_signer_.public_key();
  auto payload = std::make_shared<const Bytes>(60 * 1024, 0x5a);
  int sent = 0;
  // The kernel buffers absorb some megabytes first; then the queue fills within 5 frames.
  while (target_->send(raw_key, payload) && sent < 20000) {
    ++sent;
    io_.poll();
  }
  ASSERT_LT(sent, 20000) << "the queue never filled";
  EXPECT_EQ(counters().peers_dropped, 1u);
  EXPECT_TRUE(log_.contains(" (127.0.0.1:")) << log_.all();
  EXPECT_TRUE(log_.contains(": send queue full: ")) << log_.all();
  EXPECT_TRUE(log_.contains(" bytes queued, limit 262144")) << log_.all();
  EXPECT_FALSE(target_->is_connected(raw_key));
  EXPECT_FALSE(target_->send(raw_key, payload));
  ASSERT_TRUE(run_until(io_, [&] { return !target_handler_.up(raw_key); }));
  EXPECT_EQ(target_handler_.disconnects, 1);
  expect_still_works();
}

TEST_F(AdversaryTest, PeerThatNeverReads_DroppedWhenAWriteStalls) {
  TransportOptions o = options();
  o.send_queue_bytes_max = 64 << 20;
  o.write_timeout = 300ms;
  start_target(o);
  auto peer = authenticated_raw(/*small_receive_buffer=*/true);
  const PublicKey raw_key = raw_signer_.public_key();
  auto payload = std::make_shared<const Bytes>(64 * 1024, 0x5a);
  for (int i = 0; i < 400; ++i)  // 25 MiB: more than the kernel buffers on both ends
    ASSERT_TRUE(target_->send(raw_key, payload));
  ASSERT_TRUE(run_until(
      io_, [&] { return counters().peers_dropped == 1; }, 10000ms))
      << log_.all();
  EXPECT_TRUE(log_.contains(": stalled: a write of ")) << log_.all();
  EXPECT_TRUE(log_.contains(" did not complete within 300 ms")) << log_.all();
  expect_still_works();
}

// ---- Duplicate connections to one key.

TEST_F(AdversaryTest, PeerRedialingWithSameKey_NewerConnectionReplacesOlder) {
  start_target();
  auto first = authenticated_raw();
  auto second = raw();
  ASSERT_TRUE(second->handshake(raw_signer_, Role::kInitiator));
  EXPECT_TRUE(first->wait_closed());
  EXPECT_TRUE(log_.contains(": replaced by a newer connection dialed by " +
                            raw_signer_.public_key().hex().substr(0, 12)))
      << log_.all();
  ASSERT_TRUE(run_until(io_, [&] { return target_handler_.connects == 2; }));
  EXPECT_EQ(target_handler_.disconnects, 1);
  EXPECT_TRUE(target_handler_.up(raw_signer_.public_key()));
  EXPECT_EQ(counters().connections_open, 1u);
  ASSERT_TRUE(target_->send(raw_signer_.public_key(), payload_of("to the new one")));
  auto got = second->read_payload();
  ASSERT_TRUE(got);
  EXPECT_EQ(text_of(*got), "to the new one");
}

// The target dials a listed peer P (played by hand) whose key is larger than the target's,
// then P dials the target too: the connection whose initiator has the smaller key (the
// target's) is kept while the two are twins, and the newer one once the older is old enough to
// be a half-open leftover.
class DuplicateTest : public AdversaryTest {
 protected:
  void SetUp() override {
    for (std::uint8_t last = 1; !peer_; ++last) {
      Signer candidate = test_signer_of(test_secret(0x72, last));
      if (candidate.public_key() > key_of(target_secret_)) peer_.emplace(std::move(candidate));
    }
    trap_.emplace(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    trap_->async_accept([this](const boost::system::error_code& error, tcp::socket socket) {
      if (!error) trapped_.emplace(std::move(socket));
    });
    TransportOptions o = options();
    o.peers = {PeerAddress{peer_->public_key(), "127.0.0.1", trap_->local_endpoint().port()}};
    start_target(o);
    ASSERT_TRUE(run_until(io_, [&] { return trapped_.has_value(); }));
    dialed_.emplace(io_, std::move(*trapped_));
    ASSERT_TRUE(dialed_->handshake(*peer_, Role::kResponder));
    ASSERT_TRUE(run_until(io_, [&] { return target_handler_.up(peer_->public_key()); }));
  }

  std::optional<Signer> peer_;
  std::optional<tcp::acceptor> trap_;
  std::optional<tcp::socket> trapped_;
  std::optional<RawPeer> dialed_;  // the connection the target dialed
};

TEST_F(DuplicateTest, Twins_ConnectionDialedBySmallerKeyIsKept) {
  auto twin = raw();
  ASSERT_TRUE(twin->handshake(*peer_, Role::kInitiator));
  EXPECT_TRUE(twin->wait_closed());
  EXPECT_TRUE(log_.contains(": duplicate connection; keeping the one dialed by " +
                            target_->node_key().hex().substr(0, 12)))
      << log_.all();
  EXPECT_EQ(target_handler_.connects, 1);
  EXPECT_EQ(target_handler_.disconnects, 0);
  ASSERT_TRUE(target_->send(peer_->public_key(), payload_of("to the dialed one")));
  auto got = dialed_->read_payload();
  ASSERT_TRUE(got);
  EXPECT_EQ(text_of(*got), "to the dialed one");
}

TEST_F(DuplicateTest, DuplicateLongAfterTheFirst_NewerIsKept) {
  run_for(io_, 700ms);  // more than 2 handshake timeouts (300 ms)
  auto newer = raw();
  ASSERT_TRUE(newer->handshake(*peer_, Role::kInitiator));
  EXPECT_TRUE(dialed_->wait_closed());
  ASSERT_TRUE(run_until(io_, [&] { return target_handler_.connects == 2; }));
  EXPECT_EQ(target_handler_.disconnects, 1);
  EXPECT_TRUE(target_handler_.up(peer_->public_key()));
  ASSERT_TRUE(target_->send(peer_->public_key(), payload_of("to the newer one")));
  auto got = newer->read_payload();
  ASSERT_TRUE(got);
  EXPECT_EQ(text_of(*got), "to the newer one");
}

TEST_F(AdversaryTest, ConnectionsMax_ClosesExtraConnectionsAtAccept) {
  TransportOptions o = options();
  o.connections_max = 2;
  start_target(o);
  auto first = raw();
  auto second = raw();
  ASSERT_TRUE(run_until(io_, [&] { return counters().connections_open == 2; }));
  auto third = raw();
  EXPECT_TRUE(third->wait_closed(1000ms));
  EXPECT_EQ(counters().connections_refused, 1u);
  EXPECT_TRUE(log_.contains(": connection limit reached (2 connections, connections_max 2)"))
      << log_.all();
  // The two silent ones time out; then there is room again.
  EXPECT_TRUE(first->wait_closed());
  EXPECT_TRUE(second->wait_closed());
  ASSERT_TRUE(run_until(io_, [&] { return counters().connections_open == 0; }));
  expect_still_works();
}

}  // namespace
}  // namespace ledger::node::p2p
