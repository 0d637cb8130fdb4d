// Issue 11, point 6: a frame is checked for its kind, its sender and whether it was asked for
// before it is parsed or its body decoded. Played by a raw peer that completes the real
// handshake with node3's key (node3 itself is stopped): it sends block responses and sync
// responses nobody asked for, with bodies that do not decode. They must be dropped unread (so
// no "undecodable" warning is logged for them); a control message whose first bytes are wrong
// shows that such warnings do reach the log. (The sync response's refusal used to be a debug
// line only; it is sent to show the node survives it, not asserted on.)
#include <gtest/gtest.h>

#include "ledger/consensus/messages.h"
#include "ledger/core/encoding.h"
#include "ledger/p2p/v1/p2p.pb.h"
#include "raw_peer.h"
#include "testnet_harness.h"

namespace ledger::itest {
namespace {

namespace wire = ::ledger::p2p::v1;
using namespace std::chrono_literals;

Bytes serialize(const wire::Envelope& envelope) {
  std::string text;
  EXPECT_TRUE(envelope.SerializeToString(&text));
  return Bytes(text.begin(), text.end());
}

// A consensus message whose header says `kind` and whose body is junk.
std::string junk_consensus(std::uint8_t kind) {
  ByteWriter w;
  w.string8(consensus::kMessageTag).u8(1).u8(kind);
  Bytes bytes = std::move(w).take();
  bytes.insert(bytes.end(), 4096, 0xEE);
  return std::string(bytes.begin(), bytes.end());
}

TEST(FrameGate, UnsolicitedResponsesAreDroppedUnread) {
  Testnet net;
  ASSERT_TRUE(net.start());
  ASSERT_TRUE(wait_for_heights(net.validators(), 3, 30s));
  TestnetNode& target = net.node(0);
  const Signer node3 = impersonate_validator(net, 3);
  const auto mark = target.log_size();
  auto connection = connect_as(net.p2p_port(0), node3, net.chain_id());
  ASSERT_TRUE(connection);
  RawPeer& peer = *connection;

  // Nobody asked node3 for blocks: a block response (kind 6) and a sync response.
  wire::Envelope block_response;
  block_response.set_consensus(junk_consensus(6));
  ASSERT_TRUE(peer.send_payload(serialize(block_response)));
  wire::Envelope sync_response;
  sync_response.mutable_sync_response()->set_from_height(1);
  sync_response.mutable_sync_response()->add_blocks()->set_block(std::string(4096, '\xEE'));
  ASSERT_TRUE(peer.send_payload(serialize(sync_response)));
  // Control: a message of an unknown kind is reported (its first bytes are read). Frames of one
  // connection are handled in order, so once its warning is logged, the others were handled.
  wire::Envelope control;
  control.set_consensus(junk_consensus(9));
  ASSERT_TRUE(peer.send_payload(serialize(control)));
  ASSERT_TRUE(poll_until(
      [&] {
        return target.log_since(mark).find("unknown consensus message kind 9") != std::string::npos;
      },
      10s))
      << target.log_since(mark);
  // The block response was not decoded: decoding its junk would have been reported.
  const std::string log = target.log_since(mark);
  EXPECT_EQ(log.find("block response carries"), std::string::npos) << log;
  EXPECT_EQ(log.find("undecodable block"), std::string::npos) << log;

  // The node is unharmed: the three others still commit.
  const auto nodes = net.nodes({0, 1, 2});
  const auto now = max_height(nodes);
  ASSERT_TRUE(now.has_value());
  EXPECT_TRUE(wait_for_heights(nodes, *now + 3, 30s));
}

// A gossip batch of more entries than p2p.gossip_batch_max is refused from a count of its
// entries, before the frame is parsed into strings (it used to be parsed, copied, then refused).
TEST(FrameGate, OverfullGossipBatchRefusedUnparsed) {
  Testnet net;
  ASSERT_TRUE(net.start());
  ASSERT_TRUE(wait_for_heights(net.validators(), 2, 30s));
  TestnetNode& target = net.node(0);
  const Signer node3 = impersonate_validator(net, 3);
  const auto mark = target.log_size();
  auto connection = connect_as(net.p2p_port(0), node3, net.chain_id());
  ASSERT_TRUE(connection);
  RawPeer& peer = *connection;
  wire::Envelope batch;
  for (int i = 0; i < 100'000; ++i)
    batch.mutable_transactions()->add_transactions(std::string(1, 'x'));
  ASSERT_TRUE(peer.send_payload(serialize(batch)));
  const std::string line = "sent a gossip batch with 100000 entries, above the 2000 allowed";
  EXPECT_TRUE(
      poll_until([&] { return target.log_since(mark).find(line) != std::string::npos; }, 10s))
      << target.log_since(mark);
}

}  // namespace
}  // namespace ledger::itest
