// A 4-validator testnet of real ledgerd processes on loopback (docs/testnet.md): the validators
// agree on one chain, a transaction submitted to one is committed on all, the chain survives
// one crashed validator and stops without forking while two are down, and a validator that was
// stopped, cut off or paused catches up by block sync and votes again.
//
// Genesis timing is fast (round timeout 100 ms, empty blocks every 20 ms) so that the chains
// grow by tens of blocks a second, a few a second with a node down; every wait polls with a
// deadline far above the expected time.
#include <gtest/gtest.h>

#include "itest_util.h"
#include "testnet_harness.h"

namespace ledger::itest {
namespace {

using Clock = std::chrono::steady_clock;

// Starts every validator and waits until the chain has grown to `height` on all of them.
void start_and_grow(Testnet& net, std::uint64_t height = 5) {
  ASSERT_TRUE(net.start());
  ASSERT_TRUE(wait_for_heights(net.validators(), height, 30s));
}

// Submits `tx` to `node` and waits for its commit; the response says where it landed.
::testing::AssertionResult commit(TestnetNode& node, const SignedTransfer& tx,
                                  ledger::v1::SubmitTransactionResponse* response) {
  const grpc::Status status = submit(node.stub(), tx, /*wait_for_commit=*/true, response, 30s);
  if (!status.ok()) {
    return ::testing::AssertionFailure()
           << node.name() << ": SubmitTransaction: " << status.error_message();
  }
  if (response->status() != ledger::v1::TX_STATUS_COMMITTED ||
      response->result() != ledger::v1::TX_RESULT_SUCCESS) {
    return ::testing::AssertionFailure()
           << node.name() << ": not committed successfully: " << response->DebugString();
  }
  return ::testing::AssertionSuccess();
}

// Polls GetTransaction on `node` until it reports `hash` committed.
::testing::AssertionResult wait_committed(TestnetNode& node, const std::string& hash,
                                          ledger::v1::GetTransactionResponse* found,
                                          std::chrono::milliseconds timeout = 30s) {
  grpc::Status last;
  const bool committed = poll_until(
      [&] {
        last = get_transaction(node.stub(), hash, found);
        return last.ok() && found->status() == ledger::v1::TX_STATUS_COMMITTED;
      },
      timeout);
  if (committed) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << node.name() << ": transaction " << hash << " not committed within " << timeout.count()
         << " ms (last answer: " << (last.ok() ? found->ShortDebugString() : last.error_message())
         << ")";
}

struct Balance {
  std::uint64_t balance = 0;
  std::uint64_t nonce = 0;
  friend bool operator==(const Balance&, const Balance&) = default;
};

std::ostream& operator<<(std::ostream& out, const Balance& b) {
  return out << "{balance " << b.balance << ", nonce " << b.nonce << "}";
}

// Every node reports `expected` for `account`.
void expect_balance_everywhere(const std::vector<TestnetNode*>& nodes, const Address& account,
                               const Balance& expected, const std::string& label) {
  for (TestnetNode* node : nodes) {
    ledger::v1::GetAccountResponse found;
    const grpc::Status status = get_account(node->stub(), account, &found);
    ASSERT_TRUE(status.ok()) << node->name() << ": " << status.error_message();
    EXPECT_EQ((Balance{found.balance(), found.nonce()}), expected)
        << label << " on " << node->name() << " as of height " << found.height();
  }
}

// Every node's height stays at `heights` (as wait_until_settled returned them) for `window`.
// This is the one check that must watch for a while: that nothing happens.
::testing::AssertionResult heights_stay(const std::vector<TestnetNode*>& nodes,
                                        const std::vector<std::uint64_t>& heights,
                                        std::chrono::milliseconds window) {
  std::string moved;
  poll_until(
      [&] {
        for (std::size_t i = 0; i < nodes.size(); ++i) {
          const auto h = nodes[i]->height();
          if (h && *h != heights[i]) {
            moved = nodes[i]->name() + " went from " + std::to_string(heights[i]) + " to " +
                    std::to_string(*h);
            return true;
          }
        }
        return false;
      },
      window);
  if (moved.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << moved;
}

TEST(Testnet, FourValidatorsAgree) {
  Testnet net;
  start_and_grow(net, 10);
  const auto all = net.validators();
  for (TestnetNode* node : all) {
    const auto status = node->status();
    ASSERT_TRUE(status.has_value()) << node->name();
    EXPECT_TRUE(status->validator()) << node->name();
    EXPECT_EQ(status->chain_id(), net.chain_id());
  }
  EXPECT_TRUE(same_blocks(all));

  // Transfers submitted to different nodes; each waits for the previous one's commit on the
  // node it goes to (admission checks the balance there).
  const Signer alice = random_signer();
  const Signer bob = random_signer();
  ledger::v1::SubmitTransactionResponse r;
  ASSERT_TRUE(commit(net.node(0), net.transfer(net.faucet(), 0, alice.public_key(), 1000), &r));
  ASSERT_TRUE(commit(net.node(1), net.transfer(net.faucet(), 1, bob.public_key(), 2000), &r));
  ASSERT_TRUE(net.node(2).wait_for_height(r.height(), 30s));
  ASSERT_TRUE(commit(net.node(2), net.transfer(alice, 0, bob.public_key(), 300), &r));
  ASSERT_TRUE(net.node(3).wait_for_height(r.height(), 30s));
  ASSERT_TRUE(commit(net.node(3), net.transfer(bob, 0, alice.public_key(), 50), &r));
  ASSERT_TRUE(wait_for_heights(all, r.height(), 30s));

  expect_balance_everywhere(all, net.faucet().public_key(), {1'000'000'000'000 - 3000, 2},
                            "faucet");
  expect_balance_everywhere(all, alice.public_key(), {1000 - 300 + 50, 1}, "alice");
  expect_balance_everywhere(all, bob.public_key(), {2000 + 300 - 50, 1}, "bob");
  EXPECT_TRUE(same_blocks(all));
}

TEST(Testnet, TransactionSubmittedToOneIsCommittedOnAll) {
  Testnet net;
  start_and_grow(net);
  const auto all = net.validators();
  const Signer recipient = random_signer();

  // Several at once, so that some share a block at different indexes; the last waits.
  constexpr int kCount = 6;
  std::vector<std::string> hashes;
  for (int i = 0; i < kCount; ++i) {
    const SignedTransfer tx = net.transfer(net.faucet(), i, recipient.public_key(), 10 + i);
    hashes.push_back(hash_hex(tx));
    ledger::v1::SubmitTransactionResponse response;
    const bool last = i + 1 == kCount;
    const grpc::Status status = submit(net.node(0).stub(), tx, last, &response, 30s);
    ASSERT_TRUE(status.ok()) << status.error_message();
    if (last) {
      ASSERT_EQ(response.status(), ledger::v1::TX_STATUS_COMMITTED);
    }
  }

  for (const std::string& hash : hashes) {
    ledger::v1::GetTransactionResponse on_node0;
    ASSERT_TRUE(wait_committed(net.node(0), hash, &on_node0));
    EXPECT_EQ(on_node0.result(), ledger::v1::TX_RESULT_SUCCESS);
    for (std::size_t i = 1; i < all.size(); ++i) {
      ledger::v1::GetTransactionResponse found;
      ASSERT_TRUE(wait_committed(*all[i], hash, &found));
      EXPECT_EQ(found.height(), on_node0.height()) << all[i]->name() << " " << hash;
      EXPECT_EQ(found.index(), on_node0.index()) << all[i]->name() << " " << hash;
      EXPECT_EQ(found.result(), on_node0.result()) << all[i]->name() << " " << hash;
    }
  }
  std::uint64_t sent = 0;
  for (int i = 0; i < kCount; ++i)
    sent += 10 + i;
  expect_balance_everywhere(all, recipient.public_key(), {sent, 0}, "recipient");
  expect_balance_everywhere(all, net.faucet().public_key(),
                            {1'000'000'000'000 - sent, static_cast<std::uint64_t>(kCount)},
                            "faucet");
  EXPECT_TRUE(same_blocks(all));
}

TEST(Testnet, KillOneKeepsCommitting) {
  Testnet net;
  start_and_grow(net);
  net.node(2).kill9();
  const auto alive = net.nodes({0, 1, 3});
  const auto at_kill = max_height(alive);
  ASSERT_TRUE(at_kill.has_value());
  ASSERT_TRUE(wait_for_heights(alive, *at_kill + 5, 30s));

  // A transfer commits on the three.
  ledger::v1::SubmitTransactionResponse r;
  ASSERT_TRUE(
      commit(net.node(3), net.transfer(net.faucet(), 0, random_signer().public_key(), 7), &r));
  ASSERT_TRUE(wait_for_heights(alive, r.height(), 30s));
  EXPECT_TRUE(same_blocks(alive));
}

TEST(Testnet, KillTwoStopsThenResumes) {
  Testnet net;
  start_and_grow(net);
  net.node(2).kill9();
  net.node(3).kill9();
  const auto alive = net.nodes({0, 1});

  // A quorum is 3 of 4: once what was in flight has landed, nothing commits.
  std::vector<std::uint64_t> stalled;
  ASSERT_TRUE(wait_until_settled(alive, 2s, 30s, &stalled));
  EXPECT_TRUE(heights_stay(alive, stalled, 5s)) << "committed without a quorum";
  EXPECT_TRUE(same_blocks(alive));

  // One back: a quorum again. It catches up and the three commit.
  ASSERT_TRUE(net.node(2).start());
  const auto three = net.nodes({0, 1, 2});
  const std::uint64_t top = *std::max_element(stalled.begin(), stalled.end());
  ASSERT_TRUE(wait_for_heights(three, top + 5, 60s));
  EXPECT_TRUE(same_blocks(three));
}

TEST(Testnet, RestartedNodeCatchesUpBySyncThenVotes) {
  // With node3 down each turn of the leader rotation costs two timeouts: shorter ones make the
  // 200 blocks take ~15 s rather than a minute.
  TestnetOptions options;
  options.round_timeout_ms = 50;
  options.empty_block_interval_ms = 10;
  Testnet net(options);
  start_and_grow(net);
  ASSERT_EQ(net.node(3).stop(), 0);
  const auto others = net.nodes({0, 1, 2});
  const auto at_stop = max_height(others);
  ASSERT_TRUE(at_stop.has_value());
  ASSERT_TRUE(wait_for_heights(others, *at_stop + 200, 60s));

  const auto target = max_height(others);
  ASSERT_TRUE(target.has_value());
  const std::uintmax_t log_mark = net.node(3).log_size();
  const auto restarted = Clock::now();
  ASSERT_TRUE(net.node(3).start());
  ASSERT_TRUE(net.node(3).wait_for_height(*target, 60s))
      << "did not catch up: " << describe_heights(net.validators()) << ", target " << *target;
  const auto took = Clock::now() - restarted;
  const std::string log = net.node(3).log_since(log_mark);
  EXPECT_NE(log.find("sync: committed "), std::string::npos)
      << "caught up " << *target - *at_stop << " blocks without a block-sync line";
  EXPECT_TRUE(same_blocks(net.validators()));
  std::cerr << "node3 caught up to height " << *target << " in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";

  // Without node0 the chain needs node3's votes: a quorum is 3 of 4.
  net.node(0).kill9();
  const auto voters = net.nodes({1, 2, 3});
  const auto at_kill = max_height(voters);
  ASSERT_TRUE(at_kill.has_value());
  ASSERT_TRUE(wait_for_heights(voters, *at_kill + 5, 30s));
  EXPECT_TRUE(same_blocks(voters));
}

TEST(Testnet, CutOffNodeCatchesUp) {
  Testnet net;
  start_and_grow(net);
  TestnetNode& cut = net.node(1);
  const auto others = net.nodes({0, 2, 3});
  ASSERT_TRUE(cut.set_network(false).ok());
  ASSERT_TRUE(poll_until(
      [&] {
        const auto s = cut.status();
        return s && s->peer_count() == 0;
      },
      10s))
      << "peer_count " << cut.status().value_or(ledger::v1::GetStatusResponse{}).peer_count();
  const auto network = cut.network();
  ASSERT_TRUE(network.has_value());
  EXPECT_FALSE(network->enabled());
  EXPECT_EQ(network->connected_peers_size(), 0);
  ASSERT_TRUE(poll_until(
      [&] {
        for (TestnetNode* node : others) {
          const auto s = node->status();
          if (!s || s->peer_count() != 2) return false;
        }
        return true;
      },
      10s))
      << "the others still count the cut-off node as a peer";

  const auto cut_height = cut.height();
  ASSERT_TRUE(cut_height.has_value());
  ASSERT_TRUE(wait_for_heights(others, *cut_height + 20, 30s));
  EXPECT_EQ(cut.height(), cut_height) << "the cut-off node committed on its own";

  ASSERT_TRUE(cut.set_network(true).ok());
  const auto target = max_height(others);
  ASSERT_TRUE(target.has_value());
  ASSERT_TRUE(cut.wait_for_height(*target, 30s))
      << describe_heights(net.validators()) << ", target " << *target;
  EXPECT_TRUE(poll_until(
      [&] {
        const auto s = cut.status();
        return s && s->peer_count() == 3;
      },
      10s));
  EXPECT_TRUE(same_blocks(net.validators()));
  // And it takes part again: the chain grows on all four.
  ASSERT_TRUE(wait_for_heights(net.validators(), *target + 5, 30s));
}

TEST(Testnet, PausedNodeResumes) {
  Testnet net;
  start_and_grow(net);
  TestnetNode& paused = net.node(2);
  const auto others = net.nodes({0, 1, 3});
  paused.pause();
  const auto at_pause = max_height(others);
  ASSERT_TRUE(at_pause.has_value());
  // The others carry on; the silent node's rounds as leader time out.
  ASSERT_TRUE(wait_for_heights(others, *at_pause + 30, 30s));
  paused.resume();

  const auto target = max_height(others);
  ASSERT_TRUE(target.has_value());
  ASSERT_TRUE(paused.wait_for_height(*target, 30s))
      << describe_heights(net.validators()) << ", target " << *target;
  EXPECT_TRUE(same_blocks(net.validators()));
  ASSERT_TRUE(wait_for_heights(net.validators(), *target + 5, 30s));
}

}  // namespace
}  // namespace ledger::itest
