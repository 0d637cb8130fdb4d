// A local testnet of real ledgerd processes for the integration tests: the homes `ledgerd
// testnet` writes, in a temporary directory, on loopback ports checked to be free; genesis timing
// made fast so that a chain grows by ~50 blocks a second; per-node start, stop, kill -9, pause
// and resume; gRPC stubs of each node's Ledger and Admin services; and the checks the tests
// share (agreement on block ids, waiting for heights).
//
// Every process is SIGKILLed and reaped when its Testnet goes out of scope, also when a test
// fails; a failed test first gets the tail of every node's log on stderr. Waits poll with a
// deadline. Not thread-safe: one test thread drives a Testnet.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness.h"
#include "ledger/v1/admin.grpc.pb.h"
#include "ledger/v1/ledger.grpc.pb.h"

namespace ledger::itest {

struct TestnetOptions {
  int validators = 4;
  std::string chain_id = "itest-net";
  // Genesis consensus.round_timeout_ms (default 1000). A validator that is down costs two
  // timeouts per turn of the leader rotation (the round whose votes go to it, then its own), so
  // this sets the pace of a chain with a node down: about 7 blocks a second at 100 ms.
  std::uint64_t round_timeout_ms = 100;
  // config.toml consensus.empty_block_interval_ms (default 500), below round_timeout_ms: the
  // pace of a healthy chain, about 50 blocks a second at 20 ms.
  std::uint64_t empty_block_interval_ms = 20;
  // Set in every validator's config.toml before the first start: "section.key" -> TOML value.
  std::map<std::string, std::string> config;
};

// One node of a testnet: its home, its process while it runs, and its gRPC stubs.
class TestnetNode {
 public:
  TestnetNode(std::string name, std::filesystem::path home);
  ~TestnetNode();  // SIGKILL and reap if running
  TestnetNode(const TestnetNode&) = delete;
  TestnetNode& operator=(const TestnetNode&) = delete;

  const std::string& name() const { return name_; }
  const std::filesystem::path& home() const { return home_; }
  std::filesystem::path log_path() const { return home_ / "ledgerd.log"; }
  std::filesystem::path config_path() const { return home_ / "config.toml"; }
  // The node key (64 hex), from keys/node_key.json.
  std::string key_hex() const;
  // The gRPC address the running node wrote to rpc.address ("" before the first start).
  const std::string& rpc_address() const { return rpc_address_; }

  // Starts `ledgerd start --home`, output appended to ledgerd.log, and waits until it listens
  // for peers and GetStatus answers (60 s). A failure says why, with the log's tail.
  ::testing::AssertionResult start();
  // SIGTERM (SIGCONT first, in case it is paused), then waits up to 60 s; the exit status.
  int stop();
  // SIGKILL and reap: a crash.
  void kill9();
  // SIGSTOP / SIGCONT: a hung host whose connections stay open.
  void pause();
  void resume();
  bool running();

  // Stubs on the channel of the latest run: after a kill or stop their calls fail (UNAVAILABLE)
  // until start() connects new ones. A gtest failure if the node never started.
  ledger::v1::Ledger::Stub& stub();
  ledger::v1::Admin::Stub& admin();

  // nullopt if the call fails within `deadline`.
  std::optional<ledger::v1::GetStatusResponse> status(
      std::chrono::milliseconds deadline = std::chrono::seconds(2));
  std::optional<std::uint64_t> height();
  // "<block id> state <state root after it>" of the committed block at `height`; nullopt and
  // the reason in `error`.
  std::optional<std::string> block_and_state(std::uint64_t height, std::string* error = nullptr);
  // Polls until latest_height >= `height`.
  bool wait_for_height(std::uint64_t height, std::chrono::milliseconds timeout);
  grpc::Status set_network(bool enabled);
  std::optional<ledger::v1::GetNetworkResponse> network();

  std::string log() const;
  // Bytes in ledgerd.log now, and what was appended after such a mark.
  std::uintmax_t log_size() const;
  std::string log_since(std::uintmax_t offset) const;
  // The end of the log with runs of routine "committed height=" lines folded, for a report.
  std::string log_tail(std::size_t lines = 40) const;

 private:
  void connect_stubs(const std::string& address);

  std::string name_;
  std::filesystem::path home_;
  std::unique_ptr<Process> process_;
  bool paused_ = false;
  std::string rpc_address_;
  std::unique_ptr<ledger::v1::Ledger::Stub> stub_;
  std::unique_ptr<ledger::v1::Admin::Stub> admin_;
};

class Testnet {
 public:
  // Writes the homes (`ledgerd testnet`, then the genesis and config edits of `options`);
  // starts nothing. A gtest failure if that fails.
  explicit Testnet(TestnetOptions options = {});
  ~Testnet();
  Testnet(const Testnet&) = delete;
  Testnet& operator=(const Testnet&) = delete;

  // Starts every validator and waits until each answers. If one cannot bind its port (another
  // program took it since it was checked), writes a new testnet on other ports and tries again.
  ::testing::AssertionResult start();

  // A home that is not a validator, following the chain from the validators: `ledgerd init`,
  // the testnet's genesis copied over, p2p.peers = every validator, ports picked by the system.
  // Call after start() (the validators' ports are final then). Not started.
  TestnetNode& add_full_node();

  const std::string& chain_id() const { return options_.chain_id; }
  std::size_t validator_count() const { return static_cast<std::size_t>(options_.validators); }
  TestnetNode& node(std::size_t index) { return *nodes_.at(index); }
  // The validators, or the nodes with the given indexes (full nodes come after validators).
  std::vector<TestnetNode*> validators();
  std::vector<TestnetNode*> nodes(const std::vector<std::size_t>& indexes);
  // The p2p port of validator `index` (from testnet.json).
  std::uint16_t p2p_port(std::size_t index) const;

  // The account genesis funds with 10^12 units.
  const Signer& faucet() const { return *faucet_; }
  SignedTransfer transfer(const Signer& from, std::uint64_t nonce, const Address& to,
                          std::uint64_t amount, const std::string& memo = "") const;

 private:
  void create(int attempt);

  TestnetOptions options_;
  testing::TempDir root_;
  std::filesystem::path dir_;  // the current testnet directory under root_
  std::uint16_t base_port_ = 0;
  std::vector<std::unique_ptr<TestnetNode>> nodes_;  // validators first, then full nodes
  std::optional<Signer> faucet_;
};

// ---- Checks over several nodes ----------------------------------------------------------------

// The lowest latest_height among `nodes`; nullopt if one does not answer.
std::optional<std::uint64_t> min_height(const std::vector<TestnetNode*>& nodes);
std::optional<std::uint64_t> max_height(const std::vector<TestnetNode*>& nodes);
// Polls until every node's latest_height >= `height`.
::testing::AssertionResult wait_for_heights(const std::vector<TestnetNode*>& nodes,
                                            std::uint64_t height,
                                            std::chrono::milliseconds timeout);
// No fork: every node has the same block id and the same state root after it at every height
// from 0 up to the lowest height among them (returned in `common_height` if given).
::testing::AssertionResult same_blocks(const std::vector<TestnetNode*>& nodes,
                                       std::uint64_t* common_height = nullptr);
// Polls until no node's height has changed for `quiet`; the heights then.
::testing::AssertionResult wait_until_settled(const std::vector<TestnetNode*>& nodes,
                                              std::chrono::milliseconds quiet,
                                              std::chrono::milliseconds timeout,
                                              std::vector<std::uint64_t>* heights = nullptr);
// "node0=12 node1=13 ..." (or "?" for a node that does not answer), for messages.
std::string describe_heights(const std::vector<TestnetNode*>& nodes);

}  // namespace ledger::itest
