#include "testnet_harness.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "gtest/gtest.h"
#include "ledger/core/assert.h"
#include "ledger/storage/key_file.h"

namespace ledger::itest {
namespace {

using ledger::testing::read_text;

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Ports are picked below Linux's ephemeral range (32768-60999), where no outgoing connection
// can hold one just when a node binds it.
constexpr std::uint16_t kBasePortLow = 20000;
constexpr std::uint16_t kBasePortHigh = 30000;
constexpr int kPortStride = 10;  // `ledgerd testnet`: node i uses base + 10 i and the port after
constexpr int kStartAttempts = 3;
constexpr std::string_view kListeningLine = "p2p: listening on ";
constexpr std::string_view kCommitLine = " info committed height=";
// An address where nothing listens (port 1), for the stubs of a node that never ran.
constexpr const char* kNowhere = "127.0.0.1:1";

// Whether a listener could bind 127.0.0.1:port now (bound without SO_REUSEADDR, so that a
// port held by anything, even a connection in TIME_WAIT, counts as taken).
bool port_free(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return bound;
}

// A base port whose 2 ports per node are all free, drawn at random so that tests running at
// the same time rarely try the same one.
std::uint16_t pick_base_port(int validators) {
  static std::mt19937 rng(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
  std::uniform_int_distribution<int> base(kBasePortLow, kBasePortHigh - kPortStride * validators);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int candidate = base(rng);
    bool all_free = true;
    for (int i = 0; i < validators && all_free; ++i) {
      all_free = port_free(static_cast<std::uint16_t>(candidate + kPortStride * i)) &&
                 port_free(static_cast<std::uint16_t>(candidate + kPortStride * i + 1));
    }
    if (all_free) return static_cast<std::uint16_t>(candidate);
  }
  ADD_FAILURE() << "no free range of loopback ports found in " << kBasePortLow << ".."
                << kBasePortHigh;
  return kBasePortLow;
}

void set_dotted_config(const fs::path& config_file, const std::string& dotted,
                       const std::string& value) {
  const auto dot = dotted.find('.');
  ASSERT_NE(dot, std::string::npos) << "config key " << dotted << " is not section.key";
  set_config(config_file, dotted.substr(0, dot), dotted.substr(dot + 1), value);
}

std::string quoted(const std::string& text) {
  return "\"" + text + "\"";
}

}  // namespace

// ---- TestnetNode ------------------------------------------------------------------------------

TestnetNode::TestnetNode(std::string name, fs::path home)
    : name_(std::move(name)), home_(std::move(home)) {}

TestnetNode::~TestnetNode() {
  stub_.reset();
  admin_.reset();
  process_.reset();  // SIGKILL if still running, also when stopped (SIGSTOP)
}

std::string TestnetNode::key_hex() const {
  auto secret = storage::read_key_file(home_ / "keys" / "node_key.json");
  EXPECT_TRUE(secret.is_ok()) << secret.status().to_string();
  if (!secret.is_ok()) return {};
  auto signer = Signer::create(secret.value());
  LEDGER_ASSERT(signer.is_ok());
  return signer.value().public_key().hex();
}

::testing::AssertionResult TestnetNode::start() {
  if (process_ && process_->running()) {
    return ::testing::AssertionFailure() << name_ << " is already running";
  }
  const fs::path address_file = home_ / "rpc.address";
  fs::remove(address_file);  // a kill -9 leaves the previous one behind
  const std::uintmax_t log_mark = log_size();
  paused_ = false;
  process_ = Process::spawn_tied({ledgerd_path(), "start", "--home", home_.string()}, log_path());
  if (!process_) return ::testing::AssertionFailure() << "cannot spawn ledgerd for " << name_;
  // rpc.address is written before the p2p listener binds: wait for both.
  const bool listening = poll_until(
      [&] {
        return !process_->running() ||
               (fs::exists(address_file) &&
                log_since(log_mark).find(kListeningLine) != std::string::npos);
      },
      60s);
  if (!process_->running()) {
    return ::testing::AssertionFailure() << name_ << " exited while starting (status "
                                         << process_->wait_for_exit(0ms).value_or(0) << "):\n"
                                         << log_since(log_mark);
  }
  if (!listening) {
    return ::testing::AssertionFailure() << name_ << " does not listen after 60 s:\n"
                                         << log_since(log_mark);
  }
  std::ifstream in(address_file);
  std::getline(in, rpc_address_);
  if (rpc_address_.empty()) return ::testing::AssertionFailure() << name_ << ": no rpc.address";
  connect_stubs(rpc_address_);  // a new channel: the old one may be backing off
  if (!poll_until([&] { return status().has_value(); }, 30s)) {
    return ::testing::AssertionFailure()
           << name_ << ": GetStatus never answered on " << rpc_address_ << "\n"
           << log_since(log_mark);
  }
  return ::testing::AssertionSuccess();
}

int TestnetNode::stop() {
  if (!process_) return -1;
  if (paused_) resume();
  process_->signal(SIGTERM);
  const auto status = process_->wait_for_exit(60s);
  EXPECT_TRUE(status.has_value()) << name_ << " did not exit within 60 s of SIGTERM\n"
                                  << log_tail();
  process_.reset();  // SIGKILL if it did not exit
  return status.value_or(-1000);
}

void TestnetNode::kill9() {
  if (!process_) return;
  process_->signal(SIGKILL);
  process_->wait_for_exit(30s);
  process_.reset();
  paused_ = false;
}

void TestnetNode::pause() {
  ASSERT_TRUE(running()) << name_;
  process_->signal(SIGSTOP);
  paused_ = true;
}

void TestnetNode::resume() {
  ASSERT_TRUE(running()) << name_;
  process_->signal(SIGCONT);
  paused_ = false;
}

bool TestnetNode::running() {
  return process_ && process_->running();
}

void TestnetNode::connect_stubs(const std::string& address) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  stub_ = ledger::v1::Ledger::NewStub(channel);
  admin_ = ledger::v1::Admin::NewStub(channel);
}

ledger::v1::Ledger::Stub& TestnetNode::stub() {
  if (!stub_) {
    ADD_FAILURE() << name_ << " was never started: its calls fail";
    connect_stubs(kNowhere);
  }
  return *stub_;
}

ledger::v1::Admin::Stub& TestnetNode::admin() {
  if (!admin_) {
    ADD_FAILURE() << name_ << " was never started: its calls fail";
    connect_stubs(kNowhere);
  }
  return *admin_;
}

std::optional<ledger::v1::GetStatusResponse> TestnetNode::status(
    std::chrono::milliseconds deadline) {
  if (!stub_) return std::nullopt;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  ledger::v1::GetStatusResponse response;
  if (!stub_->GetStatus(&context, {}, &response).ok()) return std::nullopt;
  return response;
}

std::optional<std::uint64_t> TestnetNode::height() {
  auto s = status();
  if (!s) return std::nullopt;
  return s->latest_height();
}

std::optional<std::string> TestnetNode::block_and_state(std::uint64_t height, std::string* error) {
  if (!stub_) {
    if (error) *error = name_ + " never ran";
    return std::nullopt;
  }
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  ledger::v1::GetBlockRequest request;
  request.set_height(height);
  ledger::v1::GetBlockResponse response;
  const grpc::Status status = stub_->GetBlock(&context, request, &response);
  if (!status.ok()) {
    if (error) {
      *error = "GetBlock " + std::to_string(height) + ": code " +
               std::to_string(status.error_code()) + ": " + status.error_message();
    }
    return std::nullopt;
  }
  // The id covers the header (and so the state before the block); the result state root is
  // the state after it: equal values mean the same block and the same state at this height.
  return response.block().id() + " state " + response.block().result_state_root();
}

bool TestnetNode::wait_for_height(std::uint64_t target, std::chrono::milliseconds timeout) {
  return poll_until(
      [&] {
        const auto h = height();
        return h && *h >= target;
      },
      timeout);
}

grpc::Status TestnetNode::set_network(bool enabled) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  ledger::v1::SetNetworkRequest request;
  request.set_enabled(enabled);
  ledger::v1::SetNetworkResponse response;
  grpc::Status status = admin().SetNetwork(&context, request, &response);
  if (status.ok() && response.enabled() != enabled) {
    return grpc::Status(grpc::StatusCode::INTERNAL,
                        "SetNetwork answered enabled=" + std::to_string(response.enabled()));
  }
  return status;
}

std::optional<ledger::v1::GetNetworkResponse> TestnetNode::network() {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  ledger::v1::GetNetworkResponse response;
  if (!admin().GetNetwork(&context, {}, &response).ok()) return std::nullopt;
  return response;
}

std::string TestnetNode::log() const {
  return read_text(log_path());
}

std::uintmax_t TestnetNode::log_size() const {
  std::error_code ec;
  const auto size = fs::file_size(log_path(), ec);
  return ec ? 0 : size;
}

std::string TestnetNode::log_since(std::uintmax_t offset) const {
  std::ifstream in(log_path(), std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string TestnetNode::log_tail(std::size_t lines) const {
  std::istringstream in(log());
  std::vector<std::string> folded;
  // A run of consecutive commit lines shows as its first and last line.
  std::size_t run_length = 0;
  std::string run_first;
  std::string run_last;
  auto end_run = [&] {
    if (run_length == 0) return;
    folded.push_back(run_first);
    if (run_length > 2) {
      folded.push_back("    ... " + std::to_string(run_length - 2) + " more commit lines");
    }
    if (run_length > 1) folded.push_back(run_last);
    run_length = 0;
  };
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(kCommitLine) != std::string::npos) {
      if (run_length == 0) run_first = line;
      run_last = line;
      ++run_length;
      continue;
    }
    end_run();
    folded.push_back(line);
  }
  end_run();
  const std::size_t first = folded.size() > lines ? folded.size() - lines : 0;
  std::string out;
  for (std::size_t i = first; i < folded.size(); ++i)
    out += folded[i] + "\n";
  return out;
}

// ---- Testnet ----------------------------------------------------------------------------------

Testnet::Testnet(TestnetOptions options) : options_(std::move(options)) {
  LEDGER_ASSERT(options_.validators >= 1);
  LEDGER_ASSERT(options_.empty_block_interval_ms < options_.round_timeout_ms);
  create(0);
}

Testnet::~Testnet() {
  if (::testing::Test::HasFailure()) {
    for (const auto& node : nodes_) {
      std::cerr << "---- " << node->name() << " (" << node->home().string()
                << "): end of ledgerd.log ----\n"
                << node->log_tail() << std::flush;
    }
  }
  nodes_.clear();  // SIGKILL every process before the directory goes
}

void Testnet::create(int attempt) {
  nodes_.clear();
  dir_ = root_.path() / ("net" + std::to_string(attempt));
  base_port_ = pick_base_port(options_.validators);
  const auto made = run_command(
      {ledgerd_path(), "testnet", "--validators", std::to_string(options_.validators), "--output",
       dir_.string(), "--base-port", std::to_string(base_port_), "--chain-id", options_.chain_id});
  ASSERT_EQ(made.exit_code, 0) << made.output;

  // One genesis document, written identically into every home before the first start.
  auto genesis = nlohmann::json::parse(read_text(dir_ / "node0" / "genesis.json"));
  genesis["consensus"]["round_timeout_ms"] = options_.round_timeout_ms;
  const std::string genesis_text = genesis.dump(2) + "\n";
  for (int i = 0; i < options_.validators; ++i) {
    const fs::path home = dir_ / ("node" + std::to_string(i));
    std::ofstream(home / "genesis.json", std::ios::trunc) << genesis_text;
    set_config(home / "config.toml", "consensus", "empty_block_interval_ms",
               std::to_string(options_.empty_block_interval_ms));
    for (const auto& [dotted, value] : options_.config)
      set_dotted_config(home / "config.toml", dotted, value);
    nodes_.push_back(std::make_unique<TestnetNode>("node" + std::to_string(i), home));
  }

  auto secret = storage::read_key_file(dir_ / "faucet.json");
  ASSERT_TRUE(secret.is_ok()) << secret.status().to_string();
  auto signer = Signer::create(secret.value());
  LEDGER_ASSERT(signer.is_ok());
  faucet_.emplace(std::move(signer).value());
}

::testing::AssertionResult Testnet::start() {
  for (int attempt = 0;; ++attempt) {
    if (nodes_.size() < validator_count()) {
      return ::testing::AssertionFailure() << "the testnet homes were not created";
    }
    std::optional<::testing::AssertionResult> failed;
    bool port_taken = false;
    for (std::size_t i = 0; i < validator_count() && !failed; ++i) {
      auto started = nodes_[i]->start();
      if (!started) {
        port_taken = nodes_[i]->log().find("Address already in use") != std::string::npos;
        failed.emplace(std::move(started));
      }
    }
    if (!failed) return ::testing::AssertionSuccess();
    if (!port_taken || attempt + 1 == kStartAttempts) return *failed;
    std::cerr << "a port of the testnet on base port " << base_port_
              << " was taken after it was checked; trying other ports\n";
    create(attempt + 1);
  }
}

TestnetNode& Testnet::add_full_node() {
  const std::string name = "full" + std::to_string(nodes_.size() - validator_count());
  const fs::path home = dir_ / name;
  const auto init = run_command(
      {ledgerd_path(), "init", "--home", home.string(), "--chain-id", options_.chain_id});
  EXPECT_EQ(init.exit_code, 0) << init.output;
  fs::copy_file(dir_ / "node0" / "genesis.json", home / "genesis.json",
                fs::copy_options::overwrite_existing);
  std::string peers = "[";
  for (std::size_t i = 0; i < validator_count(); ++i) {
    if (i > 0) peers += ", ";
    peers += quoted(nodes_[i]->key_hex() + "@127.0.0.1:" + std::to_string(p2p_port(i)));
  }
  peers += "]";
  const fs::path config = home / "config.toml";
  set_config(config, "p2p", "peers", peers);
  set_config(config, "p2p", "listen", quoted("127.0.0.1:0"));
  set_config(config, "rpc", "listen", quoted("127.0.0.1:0"));
  set_config(config, "node", "moniker", quoted(name));
  // Checked against the genesis round timeout even where the node does not propose.
  set_config(config, "consensus", "empty_block_interval_ms",
             std::to_string(options_.empty_block_interval_ms));
  nodes_.push_back(std::make_unique<TestnetNode>(name, home));
  return *nodes_.back();
}

std::vector<TestnetNode*> Testnet::validators() {
  std::vector<TestnetNode*> out;
  for (std::size_t i = 0; i < validator_count() && i < nodes_.size(); ++i)
    out.push_back(nodes_[i].get());
  return out;
}

std::vector<TestnetNode*> Testnet::nodes(const std::vector<std::size_t>& indexes) {
  std::vector<TestnetNode*> out;
  for (std::size_t i : indexes)
    out.push_back(nodes_.at(i).get());
  return out;
}

std::uint16_t Testnet::p2p_port(std::size_t index) const {
  LEDGER_ASSERT(index < validator_count());
  return static_cast<std::uint16_t>(base_port_ + kPortStride * index);
}

SignedTransfer Testnet::transfer(const Signer& from, std::uint64_t nonce, const Address& to,
                                 std::uint64_t amount, const std::string& memo) const {
  Transfer t;
  t.chain_id = options_.chain_id;
  t.sender = from.public_key();
  t.nonce = nonce;
  t.recipient = to;
  t.amount = amount;
  t.memo.assign(memo.begin(), memo.end());
  return sign_transfer(t, from);
}

// ---- Checks over several nodes ----------------------------------------------------------------

std::optional<std::uint64_t> min_height(const std::vector<TestnetNode*>& nodes) {
  std::optional<std::uint64_t> lowest;
  for (TestnetNode* node : nodes) {
    const auto h = node->height();
    if (!h) return std::nullopt;
    lowest = lowest ? std::min(*lowest, *h) : *h;
  }
  return lowest;
}

std::optional<std::uint64_t> max_height(const std::vector<TestnetNode*>& nodes) {
  std::optional<std::uint64_t> highest;
  for (TestnetNode* node : nodes) {
    const auto h = node->height();
    if (!h) return std::nullopt;
    highest = highest ? std::max(*highest, *h) : *h;
  }
  return highest;
}

std::string describe_heights(const std::vector<TestnetNode*>& nodes) {
  std::string out;
  for (TestnetNode* node : nodes) {
    const auto h = node->height();
    if (!out.empty()) out += " ";
    out += node->name() + "=" + (h ? std::to_string(*h) : std::string("?"));
  }
  return out;
}

::testing::AssertionResult wait_for_heights(const std::vector<TestnetNode*>& nodes,
                                            std::uint64_t height,
                                            std::chrono::milliseconds timeout) {
  const auto started = Clock::now();
  if (poll_until(
          [&] {
            const auto h = min_height(nodes);
            return h && *h >= height;
          },
          timeout)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "not every node reached height " << height << " within "
         << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()
         << " ms: " << describe_heights(nodes);
}

::testing::AssertionResult same_blocks(const std::vector<TestnetNode*>& nodes,
                                       std::uint64_t* common_height) {
  const auto lowest = min_height(nodes);
  if (!lowest) {
    return ::testing::AssertionFailure()
           << "a node does not answer GetStatus: " << describe_heights(nodes);
  }
  for (std::uint64_t height = 0; height <= *lowest; ++height) {
    std::vector<std::optional<std::string>> ids;
    std::vector<std::string> errors(nodes.size());
    bool differ = false;
    for (TestnetNode* node : nodes) {
      ids.push_back(node->block_and_state(height, &errors[ids.size()]));
      differ = differ || !ids.back() || ids.back()->empty() || ids.back() != ids.front();
    }
    if (differ) {
      auto failure = ::testing::AssertionFailure();
      failure << "the nodes disagree at height " << height << " (lowest common height " << *lowest
              << "):";
      for (std::size_t i = 0; i < nodes.size(); ++i)
        failure << "\n  " << nodes[i]->name() << ": " << ids[i].value_or("(" + errors[i] + ")");
      return failure;
    }
  }
  if (common_height) *common_height = *lowest;
  return ::testing::AssertionSuccess() << "agree on heights 0.." << *lowest;
}

::testing::AssertionResult wait_until_settled(const std::vector<TestnetNode*>& nodes,
                                              std::chrono::milliseconds quiet,
                                              std::chrono::milliseconds timeout,
                                              std::vector<std::uint64_t>* heights) {
  std::vector<std::uint64_t> last;
  auto last_change = Clock::now();
  const bool settled = poll_until(
      [&] {
        std::vector<std::uint64_t> now;
        for (TestnetNode* node : nodes)
          now.push_back(node->height().value_or(0));
        if (now != last) {
          last = std::move(now);
          last_change = Clock::now();
          return false;
        }
        return Clock::now() - last_change >= quiet;
      },
      timeout);
  if (heights) *heights = last;
  if (settled) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "heights still changing after " << timeout.count()
                                       << " ms: " << describe_heights(nodes);
}

}  // namespace ledger::itest
