// SubscribeBlocks on a real dev chain: every committed block exactly once and in height order,
// replay from a past height and then live blocks, a status (not a hang) when the node stops,
// and subscribers that never read cannot hold up commits or take more than subscribers_max.
// On a testnet with failed rounds: blocks committed together by one 2-chain reach subscribers
// and commit waiters all at once.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "harness.h"
#include "itest_util.h"
#include "testnet_harness.h"

namespace ledger::itest {
namespace {

// A SubscribeBlocks stream read on its own thread: the blocks received so far and, once the
// stream ended, its status. The call has a deadline, so a server that never ends the stream
// fails the test instead of hanging it.
class BlockStream {
 public:
  BlockStream(const std::string& address, std::optional<std::uint64_t> from_height,
              std::chrono::seconds deadline = 60s)
      : stub_(connect(address)) {
    context_.set_deadline(std::chrono::system_clock::now() + deadline);
    ledger::v1::SubscribeBlocksRequest request;
    if (from_height) request.set_from_height(*from_height);
    thread_ = std::thread([this, request] { run(request); });
  }
  ~BlockStream() {
    cancel();
    thread_.join();
  }
  BlockStream(const BlockStream&) = delete;
  BlockStream& operator=(const BlockStream&) = delete;

  void cancel() { context_.TryCancel(); }

  // True once a block at `height` or above has arrived.
  bool wait_for_height(std::uint64_t height, std::chrono::milliseconds timeout) {
    return poll_until(
        [&] {
          std::lock_guard lock(mutex_);
          return !blocks_.empty() && blocks_.back().header().height() >= height;
        },
        timeout);
  }
  // The final status once the stream ended within `timeout`.
  std::optional<grpc::Status> wait_for_end(std::chrono::milliseconds timeout) {
    poll_until(
        [&] {
          std::lock_guard lock(mutex_);
          return end_.has_value();
        },
        timeout);
    std::lock_guard lock(mutex_);
    return end_;
  }
  std::vector<ledger::v1::Block> blocks() const {
    std::lock_guard lock(mutex_);
    return blocks_;
  }
  // The final status if the stream has ended.
  std::optional<grpc::Status> end() const {
    std::lock_guard lock(mutex_);
    return end_;
  }

 private:
  void run(const ledger::v1::SubscribeBlocksRequest& request) {
    auto reader = stub_->SubscribeBlocks(&context_, request);
    ledger::v1::BlockEvent event;
    while (reader->Read(&event)) {
      std::lock_guard lock(mutex_);
      blocks_.push_back(event.block());
    }
    const grpc::Status status = reader->Finish();
    std::lock_guard lock(mutex_);
    end_ = status;
  }

  std::unique_ptr<ledger::v1::Ledger::Stub> stub_;
  grpc::ClientContext context_;
  mutable std::mutex mutex_;
  std::vector<ledger::v1::Block> blocks_;  // guarded by mutex_, in arrival order
  std::optional<grpc::Status> end_;        // guarded by mutex_; set once the stream ended
  std::thread thread_;                     // last: starts after the members it uses exist
};

// The blocks are consecutive heights from `first_height`, each the child of the one before,
// and each is the block GetBlock returns at its height.
void expect_chain(ledger::v1::Ledger::Stub& stub, const std::vector<ledger::v1::Block>& blocks,
                  std::uint64_t first_height) {
  ASSERT_FALSE(blocks.empty());
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const auto& block = blocks[i];
    ASSERT_EQ(block.header().height(), first_height + i) << "gap or duplicate at position " << i;
    if (i > 0) {
      EXPECT_EQ(block.header().parent_id(), blocks[i - 1].id()) << "height " << i;
    }
    ledger::v1::Block stored;
    const grpc::Status status = get_block(stub, block.header().height(), &stored);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(block.id(), stored.id()) << "height " << block.header().height();
    EXPECT_EQ(block.raw(), stored.raw()) << "height " << block.header().height();
  }
}

struct Position {
  std::uint64_t height = 0;
  std::uint32_t index = 0;
  friend bool operator==(const Position&, const Position&) = default;
};

// Where each transaction of `blocks` is; a failure for a transaction seen twice.
std::map<std::string, Position> positions(const std::vector<ledger::v1::Block>& blocks) {
  std::map<std::string, Position> found;
  for (const auto& block : blocks) {
    for (int i = 0; i < block.transactions_size(); ++i) {
      const Position at{block.header().height(), static_cast<std::uint32_t>(i)};
      const bool inserted = found.emplace(block.transactions(i).hash(), at).second;
      EXPECT_TRUE(inserted) << "transaction " << block.transactions(i).hash() << " seen twice";
    }
  }
  return found;
}

// Commits `count` transfers from the dev account (nonces from `nonce`), one at a time; the
// position each one committed at, by hash.
std::map<std::string, Position> commit_transfers(DevNode& node, std::uint64_t nonce, int count) {
  std::map<std::string, Position> committed;
  const Signer recipient = random_signer();
  for (int i = 0; i < count; ++i) {
    const auto tx = node.transfer(node.dev(), nonce + i, recipient.public_key(), 1 + i);
    ledger::v1::SubmitTransactionResponse response;
    const grpc::Status status = node.submit(tx, /*wait_for_commit=*/true, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.status(), ledger::v1::TX_STATUS_COMMITTED);
    committed[hash_hex(tx)] = {response.height(), response.index()};
  }
  return committed;
}

TEST(SubscribeBlocks, FromGenesis_SeesEveryCommittedBlockOnceInOrder) {
  DevNode node;
  node.start();
  BlockStream stream(node.address(), 0);
  ASSERT_TRUE(stream.wait_for_height(0, 10s)) << "genesis (height 0) was not served";

  const auto committed = commit_transfers(node, 0, 20);  // while the stream is being read
  const std::uint64_t latest = node.height();
  ASSERT_TRUE(stream.wait_for_height(latest, 20s)) << "the stream fell behind the chain";
  stream.cancel();

  const auto blocks = stream.blocks();
  expect_chain(node.stub(), blocks, 0);
  const auto seen = positions(blocks);
  for (const auto& [hash, at] : committed) {
    ASSERT_TRUE(seen.contains(hash)) << "committed transaction " << hash << " not streamed";
    EXPECT_EQ(seen.at(hash), at) << hash;
  }
  EXPECT_EQ(node.stop(), 0);
}

TEST(SubscribeBlocks, FromPastHeight_ReplaysThenGoesLive) {
  DevNode node;
  node.start();
  auto committed = commit_transfers(node, 0, 5);
  const std::uint64_t past = node.height();
  ASSERT_GE(past, 5u);

  BlockStream stream(node.address(), 1);
  ASSERT_TRUE(stream.wait_for_height(past, 10s)) << "no replay up to height " << past;
  const auto live = commit_transfers(node, 5, 3);
  committed.insert(live.begin(), live.end());
  std::uint64_t last = 0;
  for (const auto& [hash, at] : live)
    last = std::max(last, at.height);
  ASSERT_GT(last, past);
  ASSERT_TRUE(stream.wait_for_height(last, 10s)) << "the live block " << last << " never came";
  stream.cancel();

  const auto blocks = stream.blocks();
  expect_chain(node.stub(), blocks, 1);
  const auto seen = positions(blocks);
  for (const auto& [hash, at] : committed) {
    ASSERT_TRUE(seen.contains(hash)) << "committed transaction " << hash << " not streamed";
    EXPECT_EQ(seen.at(hash), at) << hash;
  }
  EXPECT_EQ(node.stop(), 0);
}

TEST(SubscribeBlocks, WithoutFromHeight_StartsAfterTheLatestBlock) {
  DevNode node;
  node.start();
  commit_transfers(node, 0, 2);
  const std::uint64_t before = node.height();
  BlockStream stream(node.address(), std::nullopt);
  commit_transfers(node, 2, 2);
  const std::uint64_t after = node.height();
  ASSERT_TRUE(stream.wait_for_height(after, 10s));
  stream.cancel();
  const auto blocks = stream.blocks();
  ASSERT_FALSE(blocks.empty());
  EXPECT_GT(blocks.front().header().height(), before) << "a block committed before the call";
  expect_chain(node.stub(), blocks, blocks.front().header().height());
  EXPECT_EQ(node.stop(), 0);
}

TEST(SubscribeBlocks, NodeShutdown_EndsTheStreamWithUnavailableAndTheResumeHeight) {
  DevNode node;
  node.start();
  BlockStream stream(node.address(), 0);
  commit_transfers(node, 0, 2);
  ASSERT_TRUE(stream.wait_for_height(node.height(), 10s));

  EXPECT_EQ(node.stop(), 0);
  const auto end = stream.wait_for_end(10s);
  ASSERT_TRUE(end.has_value()) << "the stream did not end within 10 s of the node stopping";
  EXPECT_EQ(end->error_code(), grpc::StatusCode::UNAVAILABLE) << end->error_message();
  const auto blocks = stream.blocks();
  ASSERT_FALSE(blocks.empty());
  const std::string resume = "from_height " + std::to_string(blocks.back().header().height() + 1);
  EXPECT_NE(end->error_message().find(resume), std::string::npos)
      << "expected '" << resume << "' in: " << end->error_message();
}

// A subscription whose client never calls Read. The channel's flow-control window is kept
// small (no BDP growth), so the server's writes stall once a few blocks are in flight.
struct StalledSubscriber {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<ledger::v1::Ledger::Stub> stub;
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<ledger::v1::BlockEvent>> reader;
};

std::unique_ptr<StalledSubscriber> subscribe_without_reading(const std::string& address) {
  auto s = std::make_unique<StalledSubscriber>();
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1024);
  s->channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  s->stub = ledger::v1::Ledger::NewStub(s->channel);
  s->context.set_deadline(std::chrono::system_clock::now() + 60s);
  ledger::v1::SubscribeBlocksRequest request;
  request.set_from_height(0);
  s->reader = s->stub->SubscribeBlocks(&s->context, request);
  return s;
}

TEST(SubscribeBlocks, SubscribersThatNeverRead_DoNotHoldUpCommits) {
  constexpr int kSubscribersMax = 3;
  DevNode node({{"rpc.subscribers_max", std::to_string(kSubscribersMax)}});
  node.start();
  std::vector<std::unique_ptr<StalledSubscriber>> stalled;
  for (int i = 0; i < kSubscribersMax; ++i) {
    stalled.push_back(subscribe_without_reading(node.address()));
    // The server sends the headers with the genesis block, after it took a subscriber slot.
    stalled.back()->reader->WaitForInitialMetadata();
  }
  {
    auto refused = subscribe_without_reading(node.address());
    ledger::v1::BlockEvent event;
    EXPECT_FALSE(refused->reader->Read(&event));
    const grpc::Status status = refused->reader->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
    EXPECT_NE(status.error_message().find("subscribers_max"), std::string::npos);
  }

  // Blocks with full memos, far more bytes than the stalled streams' windows hold.
  const std::uint64_t before = node.height();
  const Signer recipient = random_signer();
  const std::string memo(kMemoBytesMax, 'm');
  constexpr int kTransfers = 400;
  for (int nonce = 0; nonce < kTransfers; ++nonce) {
    const auto tx = node.transfer(node.dev(), nonce, recipient.public_key(), 1, memo);
    const bool last = nonce + 1 == kTransfers;
    ledger::v1::SubmitTransactionResponse response;
    const grpc::Status status = node.submit(tx, /*wait_for_commit=*/last, &response, 20s);
    ASSERT_TRUE(status.ok()) << "nonce " << nonce << ": " << status.error_message();
    if (last) {
      EXPECT_EQ(response.status(), ledger::v1::TX_STATUS_COMMITTED);
    }
  }
  EXPECT_EQ(node.account(recipient.public_key()).balance(), std::uint64_t{kTransfers});
  const std::uint64_t latest = node.height();
  EXPECT_GT(latest, before);

  // A stalled subscriber that starts reading gets every block, in order, up to the latest.
  std::vector<ledger::v1::Block> blocks;
  ledger::v1::BlockEvent event;
  while ((blocks.empty() || blocks.back().header().height() < latest) &&
         stalled.front()->reader->Read(&event)) {
    blocks.push_back(event.block());
  }
  expect_chain(node.stub(), blocks, 0);
  EXPECT_EQ(blocks.back().header().height(), latest);

  // Closing the stalled streams frees their slots.
  for (auto& s : stalled)
    s->context.TryCancel();
  for (auto& s : stalled)
    EXPECT_EQ(s->reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  stalled.clear();
  const bool slot_free = poll_until(
      [&] {
        auto again = subscribe_without_reading(node.address());
        ledger::v1::BlockEvent first;
        const bool read = again->reader->Read(&first);
        again->context.TryCancel();
        (void)again->reader->Finish();
        return read;
      },
      10s);
  EXPECT_TRUE(slot_free) << "subscriber slots were not released after the streams closed";
  EXPECT_EQ(node.stop(), 0);
}

// Whether `block` was committed together with a later block: its commit certificate (shared by
// the batch) certifies a block above its child, so its B0 is a later block.
bool committed_with_a_later_block(const ledger::v1::Block& block) {
  return block.commit_cert().height() > block.header().height() + 1;
}

// Issue 11, point 9. With one of four validators paused, every turn of the leader rotation has
// a failed round, and the 2-chain after it commits two or more blocks at once, under one
// certificate naming the last of them. The stream, live, must serve every block of such a
// batch (reading a block's certificate reads the batch's last block), and a commit waiter woken
// by the batch must find its block readable. Before the fix the blocks of a batch were
// published one by one and the stream ended with INTERNAL ("the block its commit certificate
// builds on ... cannot be read").
TEST(SubscribeBlocks, Testnet_BatchesAfterFailedRounds_ReachReadersAllAtOnce) {
  constexpr std::size_t kLiveBatches = 6;  // multi-block batches to see streamed live
  Testnet net;
  ASSERT_TRUE(net.start());
  ASSERT_TRUE(wait_for_heights(net.validators(), 3, 30s));
  net.node(3).pause();
  TestnetNode& node = net.node(0);
  const auto paused_at = node.height();
  ASSERT_TRUE(paused_at.has_value());
  BlockStream stream(node.rpc_address(), 1);
  auto stub = connect(node.rpc_address());

  // Transfers submitted with wait_for_commit, each followed at once by GetBlock of the height
  // the answer names (what `ledgerctl bench` does), until enough batches went by live.
  const Signer recipient = random_signer();
  std::uint64_t nonce = 0;
  std::size_t live_batches = 0;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (live_batches < kLiveBatches && !stream.end() &&
         std::chrono::steady_clock::now() < deadline) {
    const auto tx = net.transfer(net.faucet(), nonce, recipient.public_key(), 1);
    ledger::v1::SubmitTransactionResponse response;
    const grpc::Status submitted = submit(*stub, tx, /*wait_for_commit=*/true, &response);
    ASSERT_TRUE(submitted.ok()) << "nonce " << nonce << ": " << submitted.error_message();
    ASSERT_EQ(response.status(), ledger::v1::TX_STATUS_COMMITTED) << response.ShortDebugString();
    ++nonce;
    ledger::v1::Block block;
    const grpc::Status read = get_block(*stub, response.height(), &block);
    ASSERT_TRUE(read.ok()) << "GetBlock " << response.height()
                           << " right after its commit: " << read.error_message();
    ASSERT_GT(block.transactions_size(), static_cast<int>(response.index()));
    EXPECT_EQ(block.transactions(static_cast<int>(response.index())).hash(), hash_hex(tx));
    live_batches = 0;
    for (const auto& streamed : stream.blocks()) {
      if (streamed.header().height() > *paused_at && committed_with_a_later_block(streamed)) {
        ++live_batches;
      }
    }
  }
  const auto end = stream.end();
  ASSERT_FALSE(end.has_value()) << "the stream ended: " << end->error_code() << " "
                                << end->error_message();
  ASSERT_GE(live_batches, kLiveBatches) << "too few multi-block batches within 20 s to test them ("
                                        << describe_heights(net.validators()) << ")";
  stream.cancel();
  const auto blocks = stream.blocks();
  expect_chain(node.stub(), blocks, 1);
}

}  // namespace
}  // namespace ledger::itest
