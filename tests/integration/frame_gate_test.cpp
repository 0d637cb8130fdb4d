// Issue 11, point 6: a frame is checked for its kind, its sender and whether it was asked for
// before it is parsed or its body decoded. Played by raw peers that complete the real handshake,
// as node3 (node3 itself is stopped) or as a stranger. Each test sends frames whose bodies do not
// decode or parse: dropped unread, they leave no "undecodable" / "not an Envelope" warning, which
// parsing them would log. A control frame whose first bytes are wrong follows: frames of one
// connection are handled in order, so once the control's warning is in the log, the frames before
// it were handled, and the absence of their warnings means something.
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
using Clock = std::chrono::steady_clock;

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

// An Envelope frame whose one field, a sync_response (field 5), holds `body` as is: the envelope
// is well formed, its body is whatever the test wants.
Bytes raw_sync_response(const Bytes& body) {
  Bytes out = {static_cast<std::uint8_t>((5u << 3) | 2u)};
  for (std::uint64_t n = body.size(); true; n >>= 7) {
    out.push_back(static_cast<std::uint8_t>((n & 0x7fu) | (n >= 0x80 ? 0x80u : 0u)));
    if (n < 0x80) break;
  }
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// Sends the control frame (consensus kind 9, refused from its header) and waits for its warning,
// "sent an undecodable consensus message: unknown consensus message kind 9".
::testing::AssertionResult control_handled(RawPeer& peer, TestnetNode& target,
                                           std::uintmax_t mark) {
  wire::Envelope control;
  control.set_consensus(junk_consensus(9));
  if (!peer.send_payload(serialize(control))) {
    return ::testing::AssertionFailure() << "control not sent";
  }
  if (poll_until(
          [&] {
            return target.log_since(mark).find("unknown consensus message kind 9") !=
                   std::string::npos;
          },
          10s)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no warning for the control; log:\n"
                                       << target.log_since(mark);
}

// How many times `text` occurs in `log`.
std::size_t count(const std::string& log, const std::string& text) {
  std::size_t n = 0;
  for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1))
    ++n;
  return n;
}

// The validators in `indexes` commit 3 more blocks.
void expect_still_commits(Testnet& net, const std::vector<std::size_t>& indexes) {
  const auto nodes = net.nodes(indexes);
  const auto now = max_height(nodes);
  ASSERT_TRUE(now.has_value());
  EXPECT_TRUE(wait_for_heights(nodes, *now + 3, 30s));
}

TEST(FrameGate, UnsolicitedBlockResponse_DroppedUnread) {
  Testnet net;
  const Impostor node3 = start_with_impostor(net, 0, 3);
  ASSERT_TRUE(node3.peer);
  TestnetNode& target = net.node(0);

  // Nobody asked node3 for blocks: a block response (kind 6) with a junk body.
  wire::Envelope block_response;
  block_response.set_consensus(junk_consensus(6));
  ASSERT_TRUE(node3.peer->send_payload(serialize(block_response)));
  ASSERT_TRUE(control_handled(*node3.peer, target, node3.log_mark));
  const std::string log = target.log_since(node3.log_mark);
  EXPECT_EQ(log.find("block response carries"), std::string::npos) << log;
  EXPECT_EQ(count(log, "undecodable"), 1u) << "only the control's warning\n" << log;
  expect_still_commits(net, {0, 1, 2});
}

// A sync response nobody asked for is dropped before the Envelope is parsed: its body here is
// not protobuf, so counting its entries or parsing it would log a warning.
TEST(FrameGate, UnsolicitedSyncResponse_DroppedBeforeParsing) {
  Testnet net;
  const Impostor node3 = start_with_impostor(net, 0, 3);
  ASSERT_TRUE(node3.peer);
  TestnetNode& target = net.node(0);

  // node0 is a validator in step with the others: it asks nobody for blocks.
  ASSERT_TRUE(node3.peer->send_payload(raw_sync_response(Bytes(4096, 0xFF))));
  ASSERT_TRUE(control_handled(*node3.peer, target, node3.log_mark));
  const std::string log = target.log_since(node3.log_mark);
  EXPECT_EQ(log.find("sent a sync response"), std::string::npos) << log;
  EXPECT_EQ(log.find("not an Envelope"), std::string::npos) << log;
  EXPECT_EQ(log.find("sent a bad response"), std::string::npos) << log;
  expect_still_commits(net, {0, 1, 2});
}

// A peer that is not a genesis validator may connect (p2p.accept_unknown_peers) and ask for
// blocks, but its consensus messages are dropped from their header, before the body is decoded.
TEST(FrameGate, ConsensusMessagesFromANonValidator_DroppedUnread) {
  TestnetOptions options;
  options.config["p2p.accept_unknown_peers"] = "true";
  Testnet net(options);
  ASSERT_TRUE(net.start());
  ASSERT_TRUE(wait_for_heights(net.validators(), 3, 30s));
  TestnetNode& target = net.node(0);
  const auto mark = target.log_size();
  const Signer stranger = random_signer();
  auto peer = connect_as(net.p2p_port(0), stranger, net.chain_id());
  ASSERT_TRUE(peer);

  // A proposal, a vote, a timeout and a TC (kinds 1 to 4), each with a junk body.
  for (std::uint8_t kind = 1; kind <= 4; ++kind) {
    wire::Envelope message;
    message.set_consensus(junk_consensus(kind));
    ASSERT_TRUE(peer->send_payload(serialize(message)));
  }
  ASSERT_TRUE(control_handled(*peer, target, mark));
  const std::string log = target.log_since(mark);
  EXPECT_EQ(count(log, "undecodable consensus message"), 1u) << "only the control's warning\n"
                                                             << log;
  EXPECT_EQ(log.find("consensus rejected input from " + stranger.public_key().hex().substr(0, 12)),
            std::string::npos)
      << log;
  expect_still_commits(net, {0, 1, 2, 3});
}

// A gossip batch of more entries than p2p.gossip_batch_max is refused from a count of its
// entries, before the frame is parsed into strings (it used to be parsed, copied, then refused).
TEST(FrameGate, OverfullGossipBatchRefusedUnparsed) {
  Testnet net;
  const Impostor node3 = start_with_impostor(net, 0, 3, /*height=*/2);
  ASSERT_TRUE(node3.peer);
  TestnetNode& target = net.node(0);
  wire::Envelope batch;
  for (int i = 0; i < 100'000; ++i)
    batch.mutable_transactions()->add_transactions(std::string(1, 'x'));
  ASSERT_TRUE(node3.peer->send_payload(serialize(batch)));
  const std::string line = "sent a gossip batch with 100000 entries, above the 2000 allowed";
  EXPECT_TRUE(poll_until(
      [&] { return target.log_since(node3.log_mark).find(line) != std::string::npos; }, 10s))
      << target.log_since(node3.log_mark);
}

// A solicited sync response whose entries are shorter than any block header is refused from a
// walk over its entries, unparsed, and the peer fails the request: p2p.sync_proof_headers_max
// allows millions of entries (an honest batch can be that long), so their size is what keeps a
// frame from becoming millions of strings. (Tiny entries used to be refused only above
// sync_blocks_max + 2 x consensus.pending_blocks_max of them.) Played towards a full node, which
// asks node3 (the raw peer) because it claims to be far ahead.
TEST(FrameGate, SyncResponseOfEntriesShorterThanAHeader_RefusedUnparsed) {
  TestnetOptions options;
  options.config["p2p.accept_unknown_peers"] = "true";
  Testnet net(options);
  ASSERT_TRUE(net.start());
  ASSERT_TRUE(wait_for_heights(net.validators(), 3, 30s));
  const Signer node3 = impersonate_validator(net, 3);
  TestnetNode& full = net.add_full_node();
  ASSERT_TRUE(full.start());
  const auto port = logged_p2p_port(full);
  ASSERT_TRUE(port.has_value()) << full.log_tail();
  const auto mark = full.log_size();
  auto peer = connect_as(*port, node3, net.chain_id());
  ASSERT_TRUE(peer);
  wire::Envelope status;
  status.mutable_status()->set_committed_height(1'000'000);
  status.mutable_status()->set_validator(true);
  ASSERT_TRUE(peer->send_payload(serialize(status)));

  // The full node asks node3 once it is the only peer ahead, if not at once.
  std::optional<wire::SyncRequest> request;
  const auto deadline = Clock::now() + 30s;
  while (!request && Clock::now() < deadline) {
    if (!peer->readable(100ms)) continue;
    const auto payload = peer->read_payload();
    ASSERT_TRUE(payload.has_value()) << "the full node closed the connection";
    wire::Envelope envelope;
    if (envelope.ParseFromArray(payload->data(), static_cast<int>(payload->size())) &&
        envelope.has_sync_request()) {
      request = envelope.sync_request();
    }
  }
  ASSERT_TRUE(request.has_value()) << "node3 was never asked for blocks\n" << full.log_tail();

  // 100000 entries of 3 bytes (a SyncedBlock holding a 1-byte block): within the count allowed.
  wire::Envelope answer;
  answer.mutable_sync_response()->set_from_height(request->from_height());
  answer.mutable_sync_response()->set_committed_height(1'000'000);
  for (int i = 0; i < 100'000; ++i)
    answer.mutable_sync_response()->add_blocks()->set_block(std::string(1, 'x'));
  ASSERT_TRUE(peer->send_payload(serialize(answer)));
  const std::string refused =
      "sent a sync response with an entry of 3 bytes, shorter than any block header";
  EXPECT_TRUE(
      poll_until([&] { return full.log_since(mark).find(refused) != std::string::npos; }, 10s))
      << full.log_since(mark);
  // Parsed, it would have been refused for its blocks ("more than the 64 asked for").
  const std::string failed = "sync: " + node3.public_key().hex().substr(0, 12) +
                             " sent a bad response: no blocks, though it claimed height 1000000";
  EXPECT_TRUE(
      poll_until([&] { return full.log_since(mark).find(failed) != std::string::npos; }, 10s))
      << full.log_since(mark);
}

}  // namespace
}  // namespace ledger::itest
