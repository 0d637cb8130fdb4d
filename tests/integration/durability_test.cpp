// Durability of a real dev chain: a restart keeps every block and balance; kill -9 under load
// loses no acknowledged commit and leaves a store that `ledgerd verify` accepts; SIGTERM under
// load exits 0 promptly without leaving a call hanging; `ledgerd verify` reports a damaged home.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "harness.h"
#include "itest_util.h"

namespace ledger::itest {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

CommandResult verify(const DevNode& node) {
  return run_command({ledgerd_path(), "verify", "--home", node.home().string()}, 60s);
}

// Sends `amount` from the dev account (at `nonce`) to `to` and waits for the commit.
void fund(DevNode& node, std::uint64_t nonce, const Address& to, std::uint64_t amount) {
  ledger::v1::SubmitTransactionResponse response;
  const grpc::Status status =
      node.submit(node.transfer(node.dev(), nonce, to, amount), true, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.result(), ledger::v1::TX_RESULT_SUCCESS);
}

// One transfer a load thread built and submitted, and what the node answered.
struct Sent {
  std::string hash;
  std::uint64_t nonce = 0;
  std::uint64_t amount = 0;
  grpc::Status status;
  ledger::v1::SubmitTransactionResponse response;
  Clock::duration took{};

  bool acknowledged() const {
    return status.ok() && response.status() == ledger::v1::TX_STATUS_COMMITTED &&
           response.result() == ledger::v1::TX_RESULT_SUCCESS;
  }
};

// One sender submitting transfers one at a time with wait_for_commit, on its own thread and its
// own channel, from nonce `first_nonce`, until the first failed call, `stop`, or `count_max`
// transfers. Every transfer it built is in sent(), including the one in flight at the end.
class LoadThread {
 public:
  LoadThread(const std::string& address, const Signer& from, std::uint64_t first_nonce,
             const Address& to, int count_max)
      : stub_(connect(address)), from_(from), to_(to) {
    thread_ = std::thread([this, first_nonce, count_max] { run(first_nonce, count_max); });
  }
  ~LoadThread() {
    stop_.store(true);
    thread_.join();
  }
  LoadThread(const LoadThread&) = delete;
  LoadThread& operator=(const LoadThread&) = delete;

  void stop() { stop_.store(true); }
  bool done() const { return done_.load(); }
  int acknowledged() const { return acknowledged_.load(); }
  // Call once done().
  const std::vector<Sent>& sent() const {
    EXPECT_TRUE(done());
    return sent_;
  }

  static std::uint64_t amount_for(std::uint64_t nonce) { return 1 + nonce % 7; }

 private:
  void run(std::uint64_t first_nonce, int count_max) {
    for (int i = 0; i < count_max && !stop_.load(); ++i) {
      Transfer t;
      t.chain_id = "ledger-dev";
      t.sender = from_.public_key();
      t.nonce = first_nonce + i;
      t.recipient = to_;
      t.amount = amount_for(t.nonce);
      const SignedTransfer tx = sign_transfer(t, from_);
      Sent sent{hash_hex(tx), t.nonce, t.amount, {}, {}, {}};
      const auto started = Clock::now();
      // A long deadline: a call that hangs shows as a long `took`, not as a quiet timeout.
      sent.status = submit(*stub_, tx, /*wait_for_commit=*/true, &sent.response, 30s);
      sent.took = Clock::now() - started;
      const bool ok = sent.acknowledged();
      sent_.push_back(std::move(sent));
      if (!ok) break;
      acknowledged_.fetch_add(1);
    }
    done_.store(true);
  }

  std::unique_ptr<ledger::v1::Ledger::Stub> stub_;
  const Signer& from_;
  const Address to_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::atomic<int> acknowledged_{0};
  std::vector<Sent> sent_;  // written by the thread only; read once done_
  std::thread thread_;      // last: starts after the members it uses exist
};

std::vector<Signer> random_signers(int count) {
  std::vector<Signer> signers;
  for (int i = 0; i < count; ++i)
    signers.push_back(random_signer());
  return signers;
}

int acknowledged(const std::vector<std::unique_ptr<LoadThread>>& threads) {
  int total = 0;
  for (const auto& t : threads)
    total += t->acknowledged();
  return total;
}

bool all_done(const std::vector<std::unique_ptr<LoadThread>>& threads) {
  for (const auto& t : threads)
    if (!t->done()) return false;
  return true;
}

// Every acknowledged commit is stored committed, at the height and index it was reported at.
void expect_committed(ledger::v1::Ledger::Stub& stub, const std::vector<Sent>& acknowledged) {
  for (const Sent& sent : acknowledged) {
    ledger::v1::GetTransactionResponse found;
    const grpc::Status status = get_transaction(stub, sent.hash, &found);
    ASSERT_TRUE(status.ok()) << "acknowledged transaction " << sent.hash
                             << " lost: " << status.error_message();
    EXPECT_EQ(found.status(), ledger::v1::TX_STATUS_COMMITTED) << sent.hash;
    EXPECT_EQ(found.height(), sent.response.height()) << sent.hash;
    EXPECT_EQ(found.index(), sent.response.index()) << sent.hash;
    EXPECT_EQ(found.result(), ledger::v1::TX_RESULT_SUCCESS) << sent.hash;
  }
}

TEST(Durability, Restart_KeepsEveryBlockAndBalance) {
  DevNode node;
  node.start();
  const std::vector<Signer> recipients = random_signers(3);
  for (std::uint64_t nonce = 0; nonce < 9; ++nonce)
    fund(node, nonce, recipients[nonce % 3].public_key(), 100 + nonce);

  std::vector<ledger::v1::GetAccountResponse> balances;
  balances.push_back(node.account(node.dev().public_key()));
  for (const auto& r : recipients)
    balances.push_back(node.account(r.public_key()));
  const std::uint64_t height = node.height();
  const auto ids = block_ids(node.stub(), height);

  ASSERT_EQ(node.stop(), 0) << node.log();
  EXPECT_NE(node.log().find("stopped cleanly at height"), std::string::npos) << node.log();
  node.start();
  EXPECT_GE(node.height(), height);
  EXPECT_EQ(block_ids(node.stub(), height), ids);
  EXPECT_EQ(node.account(node.dev().public_key()).balance(), balances[0].balance());
  EXPECT_EQ(node.account(node.dev().public_key()).nonce(), 9u);
  for (std::size_t i = 0; i < recipients.size(); ++i)
    EXPECT_EQ(node.account(recipients[i].public_key()).balance(), balances[i + 1].balance());

  fund(node, 9, recipients[0].public_key(), 1);  // the restarted chain still commits
  EXPECT_EQ(node.account(recipients[0].public_key()).balance(), balances[1].balance() + 1);
  EXPECT_EQ(node.stop(), 0);
}

TEST(Durability, Kill9UnderLoad_LosesNoAcknowledgedCommit) {
  constexpr std::uint64_t kFunding = 1'000'000;
  constexpr int kTransfersMax = 400;  // per sender and round
  // Acknowledged commits (both senders) after which each round kills the node: mid-load, right
  // after the load began, and in between.
  constexpr int kKillAfter[] = {40, 1, 15};

  DevNode node;
  node.start();
  const std::vector<Signer> senders = random_signers(2);
  const Signer recipient = random_signer();
  for (std::size_t i = 0; i < senders.size(); ++i)
    fund(node, i, senders[i].public_key(), kFunding);

  std::vector<Sent> acknowledged_all;
  std::vector<std::uint64_t> built(senders.size(), 0);  // transfers built per sender (nonces)
  for (const int kill_after : kKillAfter) {
    SCOPED_TRACE("round killing after " + std::to_string(kill_after) + " commits");
    std::vector<std::unique_ptr<LoadThread>> threads;
    for (std::size_t i = 0; i < senders.size(); ++i) {
      ledger::v1::GetAccountResponse account;
      ASSERT_TRUE(get_account(node.stub(), senders[i].public_key(), &account).ok());
      threads.push_back(std::make_unique<LoadThread>(node.address(), senders[i], account.nonce(),
                                                     recipient.public_key(), kTransfersMax));
    }
    const bool loaded =
        poll_until([&] { return acknowledged(threads) >= kill_after || all_done(threads); }, 30s);
    node.kill9();
    ASSERT_TRUE(loaded) << "load too slow: " << acknowledged(threads) << " commits in 30 s";
    for (auto& t : threads)
      t->stop();
    ASSERT_TRUE(poll_until([&] { return all_done(threads); }, 40s)) << "a submission hung";
    EXPECT_GE(acknowledged(threads), kill_after) << "a sender stopped before the kill";
    for (std::size_t i = 0; i < threads.size(); ++i) {
      for (const Sent& sent : threads[i]->sent()) {
        if (sent.acknowledged()) acknowledged_all.push_back(sent);
        built[i] = std::max(built[i], sent.nonce + 1);
      }
    }

    const auto verified = verify(node);
    EXPECT_EQ(verified.exit_code, 0) << verified.output;
    EXPECT_NE(verified.output.find("verify: ok"), std::string::npos) << verified.output;

    node.start();
    const std::uint64_t reopened = node.height();
    expect_committed(node.stub(), acknowledged_all);
    // Blocks recovered from before the crash are committed or dropped once two more commit.
    ASSERT_TRUE(node.wait_for_height(reopened + 3, 20s));
    std::uint64_t received = 0;
    for (std::size_t i = 0; i < senders.size(); ++i) {
      const auto account = node.account(senders[i].public_key());
      // Nonces are used in order, so the committed ones are exactly those below the account's.
      EXPECT_LE(account.nonce(), built[i]);
      std::uint64_t spent = 0;
      for (std::uint64_t nonce = 0; nonce < account.nonce(); ++nonce)
        spent += LoadThread::amount_for(nonce);
      EXPECT_EQ(account.balance(), kFunding - spent) << "sender " << i;
      received += spent;
    }
    EXPECT_EQ(node.account(recipient.public_key()).balance(), received);
  }
  std::uint64_t acked_nonce_max = 0;
  for (const Sent& sent : acknowledged_all)
    acked_nonce_max = std::max(acked_nonce_max, sent.nonce);
  EXPECT_GT(acked_nonce_max, 0u);

  // The chain still commits after the last restart.
  ledger::v1::GetAccountResponse account;
  ASSERT_TRUE(get_account(node.stub(), senders[0].public_key(), &account).ok());
  LoadThread after(node.address(), senders[0], account.nonce(), recipient.public_key(), 1);
  ASSERT_TRUE(poll_until([&] { return after.done(); }, 20s));
  EXPECT_EQ(after.acknowledged(), 1);
  EXPECT_EQ(node.stop(), 0);
}

TEST(Durability, SigtermUnderLoad_ExitsZeroAndNoCallHangs) {
  DevNode node;
  node.start();
  const std::vector<Signer> senders = random_signers(2);
  const Signer recipient = random_signer();
  for (std::size_t i = 0; i < senders.size(); ++i)
    fund(node, i, senders[i].public_key(), 1'000'000);

  std::vector<std::unique_ptr<LoadThread>> threads;
  for (const Signer& sender : senders)
    threads.push_back(
        std::make_unique<LoadThread>(node.address(), sender, 0, recipient.public_key(), 1000));
  ASSERT_TRUE(poll_until([&] { return acknowledged(threads) >= 20 || all_done(threads); }, 30s));
  ASSERT_FALSE(all_done(threads)) << "the load ended before the shutdown";

  const auto stop_started = Clock::now();
  EXPECT_EQ(node.stop(), 0) << node.log();
  const auto stop_took = Clock::now() - stop_started;
  EXPECT_LT(stop_took, 10s)
      << "SIGTERM to exit took "
      << std::chrono::duration_cast<std::chrono::milliseconds>(stop_took).count() << " ms";
  EXPECT_NE(node.log().find("stopped cleanly at height"), std::string::npos) << node.log();

  // Each thread stops at its first failed call; none may hang.
  ASSERT_TRUE(poll_until([&] { return all_done(threads); }, 15s)) << "a submission hung";
  std::vector<Sent> acknowledged_all;
  for (const auto& t : threads) {
    ASSERT_FALSE(t->sent().empty());
    for (const Sent& sent : t->sent()) {
      EXPECT_LT(sent.took, 10s) << sent.hash;
      if (sent.acknowledged()) {
        acknowledged_all.push_back(sent);
      } else if (sent.status.error_code() == grpc::StatusCode::CANCELLED) {
        // gRPC core (grpc/grpc#41785) cancels a call that reached the server during its
        // shutdown but was never handed to a handler, with the bare message "CANCELLED"; the
        // node never saw it. The server's own CANCELLED messages say the client cancelled.
        EXPECT_EQ(sent.status.error_message(), "CANCELLED") << sent.hash;
      } else {
        EXPECT_EQ(sent.status.error_code(), grpc::StatusCode::UNAVAILABLE)
            << sent.hash << ": " << sent.status.error_message();
      }
    }
    EXPECT_FALSE(t->sent().back().acknowledged()) << "the last call should have failed";
  }

  node.start();
  expect_committed(node.stub(), acknowledged_all);
  EXPECT_EQ(node.stop(), 0);
}

// Stops a node that committed a transfer, for the damaged-home tests.
void commit_and_stop(DevNode& node) {
  node.start();
  fund(node, 0, random_signer().public_key(), 5);
  ASSERT_EQ(node.stop(), 0);
}

TEST(Verify, IntactHome_IsOk) {
  DevNode node;
  commit_and_stop(node);
  const auto result = verify(node);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("verify: ok"), std::string::npos) << result.output;
}

TEST(Verify, TamperedGenesisAllocation_FailsAtHeightZero) {
  DevNode node;
  commit_and_stop(node);
  const fs::path genesis = node.home() / "genesis.json";
  auto document = nlohmann::json::parse(read_file(genesis));
  auto& balance = document["accounts"][0]["balance"];
  const std::uint64_t old_balance =
      balance.is_string() ? std::stoull(balance.get<std::string>()) : balance.get<std::uint64_t>();
  balance = std::to_string(old_balance + 1);
  write_file(genesis, document.dump(2));

  const auto result = verify(node);
  EXPECT_EQ(result.exit_code, 3) << result.output;
  EXPECT_NE(result.output.find("height 0: "), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("verify: FAILED"), std::string::npos) << result.output;
}

TEST(Verify, UnreadableGenesisFile_IsAConfigurationError) {
  DevNode node;
  commit_and_stop(node);
  const fs::path genesis = node.home() / "genesis.json";
  const std::string text = read_file(genesis);
  write_file(genesis, text.substr(0, text.size() / 2));

  const auto result = verify(node);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("genesis"), std::string::npos) << result.output;
}

TEST(Verify, CorruptStoreMetadata_CannotOpenWithTheReason) {
  DevNode node;
  commit_and_stop(node);
  write_file(node.home() / "data" / "CURRENT", "garbage\n");

  const auto result = verify(node);
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("Corruption"), std::string::npos) << result.output;
}

// The table file of a column family: its properties block names it ("...name" + "tree").
std::optional<fs::path> table_file_of(const fs::path& data_dir, const std::string& family) {
  for (const auto& entry : fs::directory_iterator(data_dir)) {
    if (entry.path().extension() != ".sst") continue;
    if (read_file(entry.path()).find("name" + family) != std::string::npos) return entry.path();
  }
  return std::nullopt;
}

TEST(Verify, CorruptConsensusBlockTree_FailsAsStartWould) {
  DevNode node;
  commit_and_stop(node);
  // Opening the store (verify does) moves the write-ahead log into table files.
  ASSERT_EQ(verify(node).exit_code, 0);
  const auto tree_file = table_file_of(node.home() / "data", "tree");
  ASSERT_TRUE(tree_file.has_value()) << "no table file of the tree column family";
  std::string bytes = read_file(*tree_file);
  ASSERT_GT(bytes.size(), 64u);
  bytes.replace(8, 16, std::string(16, 'X'));  // inside the first data block
  write_file(*tree_file, bytes);

  const auto result = verify(node);
  EXPECT_EQ(result.exit_code, 3) << result.output;
  EXPECT_NE(result.output.find("consensus block tree"), std::string::npos) << result.output;
  const auto start = run_command({ledgerd_path(), "start", "--home", node.home().string()}, 30s);
  EXPECT_EQ(start.exit_code, 2) << start.output;
}

TEST(Verify, RunningNode_IsRefusedNamingTheLock) {
  DevNode node;
  node.start();
  const auto result = verify(node);
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("lock"), std::string::npos) << result.output;
  EXPECT_EQ(node.stop(), 0);
}

}  // namespace
}  // namespace ledger::itest
