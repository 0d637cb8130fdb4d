// Transports talking to each other over real loopback sockets: connecting, frames, key
// policy, duplicate connections, redialing, fault injection. Every wait is bounded by
// run_until (which returns as soon as the condition holds); nothing sleeps.
#include "ledger/node/p2p/transport.h"

#include <gtest/gtest.h>

#include <list>

#include "p2p_test_util.h"

namespace ledger::node::p2p {
namespace {

using namespace testing;

// ---- parse_peer_address.

constexpr std::string_view kKeyHex =
    "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";  // secp256k1 G

TEST(PeerAddress, ParsesIpv4AndName) {
  auto a = parse_peer_address(std::string(kKeyHex) + "@127.0.0.1:26656");
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  EXPECT_EQ(a->key.hex(), kKeyHex);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 26656);
  EXPECT_EQ(a->to_string(), std::string(kKeyHex) + "@127.0.0.1:26656");
  auto b = parse_peer_address(std::string(kKeyHex) + "@node-1.example:1");
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(b->host, "node-1.example");
}

TEST(PeerAddress, ParsesBracketedIpv6) {
  auto a = parse_peer_address(std::string(kKeyHex) + "@[::1]:26656");
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->to_string(), std::string(kKeyHex) + "@[::1]:26656");
}

TEST(PeerAddress, RejectsMalformed) {
  const std::string key(kKeyHex);
  for (const std::string& bad :
       {std::string("127.0.0.1:26656"), key + "127.0.0.1:26656", key + "@127.0.0.1",
        key + "@:26656", key + "@127.0.0.1:0", key + "@127.0.0.1:65536", key + "@127.0.0.1:x",
        key + "@::1:26656", key + "@[::1:26656", key + "@[]:26656", key.substr(2) + "@a:1",
        std::string(64, 'A') + "@a:1", std::string(64, '0') + "@a:1", key + "@a b:1"}) {
    EXPECT_FALSE(parse_peer_address(bad).is_ok()) << bad;
  }
}

// ---- Fixture: transports on one io_context.

struct TestPeer {
  TestPeer(std::uint8_t prefix, std::uint8_t last)
      : secret(test_secret(prefix, last)), key(key_of(secret)) {}
  SecretKey secret;
  PublicKey key;
  RecordingHandler handler;
  std::unique_ptr<Transport> transport;  // destroyed before the handler
};

class TransportTest : public ::testing::Test {
 protected:
  TransportOptions options() const {
    TransportOptions o;
    o.chain_id = std::string(kChain);
    o.handshake_timeout = 2000ms;
    o.dial_backoff_min = 10ms;
    o.dial_backoff_max = 100ms;
    o.frame_bytes_max = 1 << 20;
    o.send_queue_bytes_max = 8 << 20;
    return o;
  }

  TestPeer& make_peer(std::uint8_t last) {
    peers_.emplace_back(0x70, last);
    return peers_.back();
  }

  void start(TestPeer& p, TransportOptions o) {
    auto t = Transport::start(io_, p.secret, std::move(o), p.handler);
    ASSERT_TRUE(t.is_ok()) << t.status().to_string();
    p.transport = std::move(t).value();
  }

  static PeerAddress address_of(const TestPeer& p) {
    auto a = parse_peer_address(p.key.hex() + "@" + p.transport->listen_address());
    LEDGER_ASSERT(a.is_ok());
    return *a;
  }
  static PeerAddress address_at(const TestPeer& p, std::uint16_t port) {
    return PeerAddress{p.key, "127.0.0.1", port};
  }

  bool connected(TestPeer& a, TestPeer& b, std::chrono::milliseconds timeout = 5000ms) {
    return run_until(
        io_,
        [&] {
          return a.transport->is_connected(b.key) && b.transport->is_connected(a.key) &&
                 a.handler.up(b.key) && b.handler.up(a.key);
        },
        timeout);
  }

  // Sends a frame each way and waits for both.
  ::testing::AssertionResult exchange(TestPeer& a, TestPeer& b, const std::string& tag) {
    const std::size_t a_had = a.handler.frames[b.key].size();
    const std::size_t b_had = b.handler.frames[a.key].size();
    if (!a.transport->send(b.key, payload_of(tag + " a->b"))) {
      return ::testing::AssertionFailure() << "send a->b refused";
    }
    if (!b.transport->send(a.key, payload_of(tag + " b->a"))) {
      return ::testing::AssertionFailure() << "send b->a refused";
    }
    if (!run_until(io_, [&] {
          return a.handler.frames[b.key].size() > a_had && b.handler.frames[a.key].size() > b_had;
        })) {
      return ::testing::AssertionFailure() << "frames not delivered";
    }
    if (text_of(b.handler.frames[a.key].back()) != tag + " a->b" ||
        text_of(a.handler.frames[b.key].back()) != tag + " b->a") {
      return ::testing::AssertionFailure() << "wrong payloads";
    }
    return ::testing::AssertionSuccess();
  }

  asio::io_context io_;  // declared first: destroyed after the transports
  LogCapture log_;
  std::list<TestPeer> peers_;
};

TEST_F(TransportTest, Start_RejectsBadListenAddress) {
  TestPeer& a = make_peer(1);
  TransportOptions o = options();
  o.listen = "127.0.0.1";
  auto t = Transport::start(io_, a.secret, o, a.handler);
  ASSERT_FALSE(t.is_ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(t.status(), "p2p listen address")) << t.status().message();
}

TEST_F(TransportTest, Start_ReportsBindFailureNamingAddress) {
  TestPeer& a = make_peer(1);
  TestPeer& b = make_peer(2);
  start(a, options());
  TransportOptions o = options();
  o.listen = a.transport->listen_address();
  auto t = Transport::start(io_, b.secret, o, b.handler);
  ASSERT_FALSE(t.is_ok());
  EXPECT_EQ(t.status().code(), StatusCode::kIoError);
  EXPECT_TRUE(contains(t.status(), a.transport->listen_address())) << t.status().message();
}

TEST_F(TransportTest, Start_RejectsInvalidOptions) {
  TestPeer& a = make_peer(1);
  TransportOptions bad_chain = options();
  bad_chain.chain_id = "no spaces";
  EXPECT_FALSE(Transport::start(io_, a.secret, bad_chain, a.handler).is_ok());
  TransportOptions small_queue = options();
  small_queue.send_queue_bytes_max = small_queue.frame_bytes_max - 1;
  EXPECT_FALSE(Transport::start(io_, a.secret, small_queue, a.handler).is_ok());
  TransportOptions backoff = options();
  backoff.dial_backoff_max = 1ms;
  EXPECT_FALSE(Transport::start(io_, a.secret, backoff, a.handler).is_ok());
}

TEST_F(TransportTest, TwoPeers_ExchangeManyFramesBothWaysInOrder) {
  TestPeer& a = make_peer(1);
  TestPeer& b = make_peer(2);
  TransportOptions ob = options();
  ob.validators = {a.key};
  ob.send_queue_bytes_max = 32 << 20;  // everything is queued before the loop runs
  start(b, ob);
  TransportOptions oa = options();
  oa.validators = {b.key};
  oa.peers = {address_of(b)};
  oa.send_queue_bytes_max = 32 << 20;
  start(a, oa);
  ASSERT_TRUE(connected(a, b)) << log_.all();
  EXPECT_EQ(a.transport->connected(), std::vector<PublicKey>{b.key});

  constexpr int kFrames = 1000;
  for (int i = 0; i < kFrames; ++i) {
    // Sizes from empty to 40 KB, so that batches split frames across writes.
    auto payload = std::make_shared<Bytes>(static_cast<std::size_t>((i * 7919) % 40000));
    for (std::size_t j = 0; j < payload->size(); j += 997)
      (*payload)[j] = static_cast<std::uint8_t>(i);
    if (!payload->empty()) (*payload)[0] = static_cast<std::uint8_t>(i >> 8);
    ASSERT_TRUE(a.transport->send(b.key, payload));
    ASSERT_TRUE(b.transport->send(a.key, payload));
  }
  ASSERT_TRUE(run_until(io_, [&] {
    return a.handler.frames[b.key].size() == kFrames && b.handler.frames[a.key].size() == kFrames;
  }));
  for (int i = 0; i < kFrames; ++i) {
    const Bytes& got_b = b.handler.frames[a.key][i];
    ASSERT_EQ(got_b.size(), static_cast<std::size_t>((i * 7919) % 40000)) << i;
    if (!got_b.empty()) {
      ASSERT_EQ(got_b[0], static_cast<std::uint8_t>(i >> 8)) << i;
    }
    ASSERT_EQ(a.handler.frames[b.key][i], got_b) << i;
  }
  const auto ca = a.transport->counters();
  EXPECT_EQ(ca.frames_out, static_cast<std::uint64_t>(kFrames));
  EXPECT_EQ(ca.frames_in, static_cast<std::uint64_t>(kFrames));
  EXPECT_EQ(ca.handshakes_ok, 1u);
  EXPECT_EQ(ca.connections_open, 1u);
  EXPECT_EQ(b.transport->counters().bytes_in, ca.bytes_out);
}

TEST_F(TransportTest, Frames_EmptyAndLargestPayloadPassLargerIsRefusedBySend) {
  TestPeer& a = make_peer(1);
  TestPeer& b = make_peer(2);
  TransportOptions ob = options();
  ob.validators = {a.key};
  start(b, ob);
  TransportOptions oa = options();
  oa.peers = {address_of(b)};
  start(a, oa);
  ASSERT_TRUE(connected(a, b));
  auto largest = std::make_shared<const Bytes>(oa.frame_bytes_max, 0xab);
  EXPECT_TRUE(a.transport->send(b.key, std::make_shared<const Bytes>()));
  EXPECT_TRUE(a.transport->send(b.key, largest));
  EXPECT_FALSE(a.transport->send(b.key, std::make_shared<const Bytes>(oa.frame_bytes_max + 1, 0)));
  EXPECT_TRUE(log_.contains("larger than frame_bytes_max"));
  ASSERT_TRUE(run_until(io_, [&] { return b.handler.frames[a.key].size() == 2; }));
  EXPECT_TRUE(b.handler.frames[a.key][0].empty());
  EXPECT_EQ(b.handler.frames[a.key][1], *largest);
  EXPECT_TRUE(a.transport->is_connected(b.key));  // a caller bug does not cost the peer
}

TEST_F(TransportTest, Send_FalseForPeerNotConnected) {
  TestPeer& a = make_peer(1);
  start(a, options());
  EXPECT_FALSE(a.transport->send(key_of(test_secret(0x70, 9)), payload_of("x")));
}

TEST_F(TransportTest, ThreePeers_FullMeshEachDialingEveryOther) {
  TestPeer* p[3] = {&make_peer(1), &make_peer(2), &make_peer(3)};
  std::uint16_t port[3];
  for (auto& x : port)
    x = free_port(io_);
  for (int i = 0; i < 3; ++i) {
    TransportOptions o = options();
    o.listen = "127.0.0.1:" + std::to_string(port[i]);
    for (int j = 0; j < 3; ++j) {
      if (j == i) continue;
      o.validators.insert(p[j]->key);
      o.peers.push_back(address_at(*p[j], port[j]));
    }
    start(*p[i], o);
  }
  for (int i = 0; i < 3; ++i)
    for (int j = i + 1; j < 3; ++j)
      ASSERT_TRUE(connected(*p[i], *p[j])) << i << "-" << j << "\n" << log_.all();
  for (int i = 0; i < 3; ++i)
    for (int j = i + 1; j < 3; ++j)
      ASSERT_TRUE(exchange(*p[i], *p[j], "mesh " + std::to_string(i) + std::to_string(j)));
  run_for(io_, 200ms);  // duplicates settle; nothing should flap
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(p[i]->transport->connected().size(), 2u);
    EXPECT_EQ(p[i]->transport->counters().connections_open, 2u);
    EXPECT_EQ(p[i]->handler.up_count(), 2);
    EXPECT_EQ(p[i]->handler.connects - p[i]->handler.disconnects, 2);
  }
}

TEST_F(TransportTest, SimultaneousDial_OneConnectionEachWayAndBalancedCallbacks) {
  for (std::uint8_t round = 0; round < 4; ++round) {
    TestPeer& a = make_peer(static_cast<std::uint8_t>(10 + 2 * round));
    TestPeer& b = make_peer(static_cast<std::uint8_t>(11 + 2 * round));
    const std::uint16_t port_a = free_port(io_);
    const std::uint16_t port_b = free_port(io_);
    TransportOptions oa = options();
    oa.listen = "127.0.0.1:" + std::to_string(port_a);
    oa.peers = {address_at(b, port_b)};
    TransportOptions ob = options();
    ob.listen = "127.0.0.1:" + std::to_string(port_b);
    ob.peers = {address_at(a, port_a)};
    start(a, oa);
    start(b, ob);
    ASSERT_TRUE(connected(a, b)) << log_.all();
    ASSERT_TRUE(run_until(io_, [&] {
      return a.transport->counters().connections_open == 1 &&
             b.transport->counters().connections_open == 1;
    })) << log_.all();
    run_for(io_, 150ms);  // no further dials or swaps
    EXPECT_EQ(a.transport->counters().connections_open, 1u);
    EXPECT_EQ(b.transport->counters().connections_open, 1u);
    EXPECT_EQ(a.handler.connects - a.handler.disconnects, 1);
    EXPECT_EQ(b.handler.connects - b.handler.disconnects, 1);
    ASSERT_TRUE(exchange(a, b, "round " + std::to_string(round)));
    a.transport.reset();
    b.transport.reset();
  }
}

TEST_F(TransportTest, Restart_OtherSideRedialsAndReconnects) {
  TestPeer& a = make_peer(1);
  TestPeer& b = make_peer(2);
  TransportOptions ob = options();
  ob.validators = {a.key};
  start(b, ob);
  const std::string b_address = b.transport->listen_address();
  TransportOptions oa = options();
  oa.peers = {address_of(b)};
  start(a, oa);
  ASSERT_TRUE(connected(a, b));

  b.transport.reset();  // b goes away
  ASSERT_TRUE(run_until(io_, [&] { return !a.handler.up(b.key); }));
  EXPECT_EQ(a.handler.disconnects, 1);
  run_for(io_, 150ms);  // a keeps redialing a closed port, with backoff

  ob.listen = b_address;  // b comes back on the same port
  RecordingHandler fresh;
  auto restarted = Transport::start(io_, b.secret, ob, fresh);
  ASSERT_TRUE(restarted.is_ok()) << restarted.status().to_string();
  ASSERT_TRUE(run_until(io_, [&] { return a.handler.up(b.key) && fresh.up(a.key); })) << log_.all();
  EXPECT_EQ(a.handler.connects, 2);
  ASSERT_TRUE((*restarted)->send(a.key, payload_of("back")));
  ASSERT_TRUE(run_until(io_, [&] { return a.handler.frames[b.key].size() == 1; }));
  EXPECT_EQ(text_of(a.handler.frames[b.key][0]), "back");
}

TEST_F(TransportTest, WrongChainId_RefusedNamingBothChains) {
  TestPeer& a = make_peer(1);
  TestPeer& b = make_peer(2);
  TransportOptions ob = options();
  ob.validators = {a.key};
  start(b, ob);
  TransportOptions oa = options();
  oa.chain_id = "other";
  oa.peers = {address_of(b)};
  start(a, oa);
  ASSERT_TRUE(run_until(io_, [&] {
    return b.transport->counters().handshakes_refused >= 1 &&
           a.transport->counters().handshakes_refused >= 1;
  }));
  EXPECT_TRUE(log_.contains(": peer is on chain \"other\", this node runs \"ledger-test\""))
      << log_.all();
  EXPECT_TRUE(log_.contains(": peer is on chain \"ledger-test\", this node runs \"other\""));
  EXPECT_EQ(a.handler.connects + b.handler.connects, 0);
}

TEST_F(TransportTest, UnknownKey_RefusedUnlessAcceptUnknownPeers) {
  TestPeer& a = make_peer(1);
  TestPeer& b = make_peer(2);
  start(b, options());  // knows nobody
  TransportOptions oa = options();
  oa.peers = {address_of(b)};
  start(a, oa);
  ASSERT_TRUE(run_until(io_, [&] { return b.transport->counters().handshakes_refused >= 1; }));
  EXPECT_TRUE(log_.contains("p2p: refused 127.0.0.1:"));
  EXPECT_TRUE(log_.contains(": unknown peer key " + a.key.hex() +
                            " (not a validator, not in p2p.peers, accept_unknown_peers is off)"))
      << log_.all();
  EXPECT_FALSE(b.transport->is_connected(a.key));
  EXPECT_EQ(a.handler.connects, 0);

  TestPeer& c = make_peer(3);
  TransportOptions oc = options();
  oc.accept_unknown_peers = true;
  start(c, oc);
  TestPeer& d = make_peer(4);
  TransportOptions od = options();
  od.peers = {address_of(c)};
  start(d, od);
  ASSERT_TRUE(connected(c, d)) << log_.all();
  EXPECT_TRUE(exchange(c, d, "unknown but welcome"));
}

TEST_F(TransportTest, ListedPeerIsAcceptedInboundWithoutBeingAValidator) {
  TestPeer& a = make_peer(1);
  TestPeer& b = make_peer(2);
  // a lists b (at an address where nothing listens), knows no validators: b dialing in is
  // accepted because its key is listed.
  TransportOptions oa = options();
  oa.peers = {address_at(b, free_port(io_))};
  start(a, oa);
  TransportOptions ob = options();
  ob.peers = {address_of(a)};
  start(b, ob);
  ASSERT_TRUE(connected(a, b)) << log_.all();
  EXPECT_TRUE(exchange(a, b, "listed"));
}

TEST_F(TransportTest, ConfiguredPeerProvingAnotherKey_Refused) {
  TestPeer& a = make_peer(1);
  TestPeer& b = make_peer(2);
  const PublicKey expected = key_of(test_secret(0x70, 99));
  TransportOptions ob = options();
  ob.accept_unknown_peers = true;
  start(b, ob);
  TransportOptions oa = options();
  oa.peers = {PeerAddress{expected, "127.0.0.1", address_of(b).port}};
  start(a, oa);
  ASSERT_TRUE(run_until(io_, [&] { return a.transport->counters().handshakes_refused >= 1; }));
  EXPECT_TRUE(log_.contains("(dialed " + expected.hex().substr(0, 12) + "): expected key " +
                            expected.hex() + ", peer proved key " + b.key.hex()))
      << log_.all();
  EXPECT_FALSE(a.transport->is_connected(b.key));
  EXPECT_EQ(a.handler.connects, 0);
}

TEST_F(TransportTest, DialingItself_RefusedAsConnectedToItself) {
  TestPeer& a = make_peer(1);
  const std::uint16_t port = free_port(io_);
  TransportOptions oa = options();
  oa.listen = "127.0.0.1:" + std::to_string(port);
  oa.accept_unknown_peers = true;
  // Another key at our own address: the dial reaches this very node.
  oa.peers = {PeerAddress{key_of(test_secret(0x70, 98)), "127.0.0.1", port},
              PeerAddress{a.key, "127.0.0.1", port}};  // own key: skipped
  start(a, oa);
  EXPECT_TRUE(log_.contains("it is this node's own key"));
  ASSERT_TRUE(run_until(io_, [&] { return a.transport->counters().handshakes_refused >= 2; }));
  EXPECT_TRUE(log_.contains(": connected to itself")) << log_.all();
  EXPECT_EQ(a.handler.connects, 0);
}

TEST_F(TransportTest, SetEnabled_FalseClosesAndRefusesTrueReconnects) {
  TestPeer& a = make_peer(1);
  TestPeer& b = make_peer(2);
  const std::uint16_t port_a = free_port(io_);
  const std::uint16_t port_b = free_port(io_);
  TransportOptions oa = options();
  oa.listen = "127.0.0.1:" + std::to_string(port_a);
  oa.peers = {address_at(b, port_b)};
  TransportOptions ob = options();
  ob.listen = "127.0.0.1:" + std::to_string(port_b);
  ob.peers = {address_at(a, port_a)};
  start(a, oa);
  start(b, ob);
  ASSERT_TRUE(connected(a, b));

  a.transport->set_enabled(false);
  EXPECT_FALSE(a.transport->enabled());
  EXPECT_FALSE(a.transport->send(b.key, payload_of("while disabled")));
  ASSERT_TRUE(run_until(io_, [&] { return !a.handler.up(b.key) && !b.handler.up(a.key); }));
  // b keeps redialing; a refuses at accept and does not dial.
  ASSERT_TRUE(run_until(io_, [&] { return a.transport->counters().connections_refused >= 2; }));
  EXPECT_TRUE(log_.contains(": p2p is disabled"));
  EXPECT_EQ(a.transport->counters().connections_open, 0u);
  EXPECT_FALSE(b.transport->is_connected(a.key));

  a.transport->set_enabled(true);
  ASSERT_TRUE(connected(a, b)) << log_.all();
  EXPECT_TRUE(exchange(a, b, "re-enabled"));
  EXPECT_EQ(a.handler.connects - a.handler.disconnects, 1);
  EXPECT_EQ(b.handler.connects - b.handler.disconnects, 1);
}

TEST_F(TransportTest, Handler_MaySendFromCallbacks) {
  TestPeer& a = make_peer(1);
  TestPeer& b = make_peer(2);
  TransportOptions ob = options();
  ob.validators = {a.key};
  start(b, ob);
  // b greets on connect and echoes every frame, from inside its callbacks.
  b.handler.on_connected_hook = [&](const PublicKey& peer) {
    EXPECT_TRUE(b.transport->send(peer, payload_of("hello")));
  };
  b.handler.on_frame_hook = [&](const PublicKey& peer, const Bytes& payload) {
    EXPECT_TRUE(b.transport->send(peer, std::make_shared<const Bytes>(payload)));
  };
  TransportOptions oa = options();
  oa.peers = {address_of(b)};
  start(a, oa);
  ASSERT_TRUE(connected(a, b));
  ASSERT_TRUE(a.transport->send(b.key, payload_of("echo me")));
  ASSERT_TRUE(run_until(io_, [&] { return a.handler.frames[b.key].size() == 2; }));
  EXPECT_EQ(text_of(a.handler.frames[b.key][0]), "hello");
  EXPECT_EQ(text_of(a.handler.frames[b.key][1]), "echo me");
}

TEST_F(TransportTest, Stop_IsIdempotentAndMakesNoCallbacks) {
  TestPeer& a = make_peer(1);
  TestPeer& b = make_peer(2);
  TransportOptions ob = options();
  ob.validators = {a.key};
  start(b, ob);
  TransportOptions oa = options();
  oa.peers = {address_of(b)};
  start(a, oa);
  ASSERT_TRUE(connected(a, b));
  ASSERT_TRUE(b.transport->send(a.key, payload_of("in flight")));
  a.transport->stop();
  a.transport->stop();
  EXPECT_TRUE(a.transport->connected().empty());
  EXPECT_FALSE(a.transport->send(b.key, payload_of("after stop")));
  const int a_disconnects = a.handler.disconnects;
  ASSERT_TRUE(run_until(io_, [&] { return !b.handler.up(a.key); }));
  run_for(io_, 50ms);
  EXPECT_EQ(a.handler.disconnects, a_disconnects);
  EXPECT_EQ(a.transport->counters().connections_open, 0u);
}

}  // namespace
}  // namespace ledger::node::p2p
