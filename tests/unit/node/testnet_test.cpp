// The local testnet (node/testnet.h): N homes of one genesis, peers, ports, the faucet, the
// manifest, and the refusals of init_testnet.
#include "ledger/node/testnet.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "ledger/node/config.h"
#include "ledger/node/genesis_file.h"
#include "ledger/node/home.h"
#include "ledger/storage/key_file.h"
#include "support/temp_dir.h"
#include "support/test_keys.h"

namespace ledger::node {
namespace {

using ledger::testing::mode_of;
using ledger::testing::read_text;

using ledger::testing::contains;

namespace fs = std::filesystem;

TestnetOptions options_for(const fs::path& output, std::uint64_t validators = 4) {
  TestnetOptions options;
  options.output = output;
  options.validators = validators;
  options.genesis_time_ms = 1795305600123;
  return options;
}

PublicKey public_key_of(const SecretKey& secret) {
  return Signer::create(secret).value().public_key();
}

std::size_t entries_in(const fs::path& dir) {
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(Testnet, Init_WritesAHomePerNodeThatLoads) {
  testing::TempDir dir;
  const fs::path out = dir.path() / "net";
  auto result = init_testnet(options_for(out));
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  ASSERT_EQ(result->nodes.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    const TestnetNode& node = result->nodes[i];
    const fs::path home = out / ("node" + std::to_string(i));
    EXPECT_EQ(node.name, "node" + std::to_string(i));
    EXPECT_EQ(node.home, home);
    EXPECT_TRUE(home_initialized(home));
    EXPECT_EQ(mode_of(home / "keys"), 0700u);
    EXPECT_EQ(mode_of(home / "keys" / "node_key.json"), 0600u);
    EXPECT_FALSE(fs::exists(home / "data"));

    auto config = load_config(home / "config.toml");
    ASSERT_TRUE(config.is_ok()) << config.status().to_string();
    EXPECT_EQ(config->moniker, node.name);
    EXPECT_TRUE(config->rpc.admin);
    EXPECT_EQ(config->rpc.listen_address, node.rpc_address);
    EXPECT_EQ(config->p2p.listen, node.p2p_address);

    auto key = storage::read_key_file(home / "keys" / "node_key.json");
    ASSERT_TRUE(key.is_ok()) << key.status().to_string();
    EXPECT_EQ(public_key_of(*key), node.key);
  }
}

TEST(Testnet, Init_AllNodesShareOneGenesisWithEveryValidatorAndTheFaucet) {
  testing::TempDir dir;
  const fs::path out = dir.path() / "net";
  TestnetOptions options = options_for(out, 5);
  options.chain_id = "ledger-t1";
  auto result = init_testnet(options);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();

  const std::string genesis_text = read_text(out / "node0" / "genesis.json");
  for (const TestnetNode& node : result->nodes) {
    EXPECT_EQ(read_text(node.home / "genesis.json"), genesis_text) << node.name;
  }
  auto genesis = load_genesis_file(out / "node0" / "genesis.json");
  ASSERT_TRUE(genesis.is_ok()) << genesis.status().to_string();
  EXPECT_EQ(genesis->chain_id, "ledger-t1");
  EXPECT_EQ(genesis->genesis_time_ms, 1795305600123u);
  EXPECT_EQ(genesis->consensus, ConsensusParams{});
  ASSERT_EQ(genesis->validators.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(genesis->validators.at(i).key, result->nodes[i].key);
    EXPECT_EQ(genesis->validators.at(i).power, 1u);
    EXPECT_EQ(genesis->validators.at(i).name, "node" + std::to_string(i));
  }

  // The faucet: a key file like keys/dev.json, funded like the dev account.
  EXPECT_EQ(result->faucet_key_file, out / "faucet.json");
  EXPECT_EQ(mode_of(out / "faucet.json"), 0600u);
  auto faucet = storage::read_key_file(out / "faucet.json");
  ASSERT_TRUE(faucet.is_ok()) << faucet.status().to_string();
  EXPECT_EQ(public_key_of(*faucet), result->faucet_address);
  ASSERT_EQ(genesis->accounts.size(), 1u);
  EXPECT_EQ(genesis->accounts[0].address, result->faucet_address);
  EXPECT_EQ(genesis->accounts[0].balance, kDevAccountBalance);
}

TEST(Testnet, Init_PeersListEveryOtherNodeAndNotItself) {
  testing::TempDir dir;
  auto result = init_testnet(options_for(dir.path() / "net"));
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  for (const TestnetNode& node : result->nodes) {
    auto config = load_config(node.home / "config.toml");
    ASSERT_TRUE(config.is_ok()) << config.status().to_string();
    std::set<std::string> expected;
    for (const TestnetNode& other : result->nodes) {
      if (other.name != node.name) expected.insert(other.key.hex() + "@" + other.p2p_address);
    }
    const std::set<std::string> peers(config->p2p.peers.begin(), config->p2p.peers.end());
    EXPECT_EQ(peers, expected) << node.name;
    EXPECT_EQ(config->p2p.peers.size(), 3u) << node.name;
  }
}

TEST(Testnet, Init_PortsFollowTheBasePortAndAreDistinct) {
  testing::TempDir dir;
  TestnetOptions options = options_for(dir.path() / "net");
  options.base_port = 30000;
  auto result = init_testnet(options);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  std::set<std::string> addresses;
  for (std::size_t i = 0; i < 4; ++i) {
    const TestnetNode& node = result->nodes[i];
    EXPECT_EQ(node.p2p_address, "127.0.0.1:" + std::to_string(30000 + 10 * i));
    EXPECT_EQ(node.rpc_address, "127.0.0.1:" + std::to_string(30000 + 10 * i + 1));
    addresses.insert(node.p2p_address);
    addresses.insert(node.rpc_address);
  }
  EXPECT_EQ(addresses.size(), 8u);
}

TEST(Testnet, Init_DefaultPortsStartAt26656) {
  testing::TempDir dir;
  auto result = init_testnet(options_for(dir.path() / "net", 2));
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  EXPECT_EQ(result->nodes[0].p2p_address, "127.0.0.1:26656");
  EXPECT_EQ(result->nodes[0].rpc_address, "127.0.0.1:26657");
  EXPECT_EQ(result->nodes[1].p2p_address, "127.0.0.1:26666");
  EXPECT_EQ(result->nodes[1].rpc_address, "127.0.0.1:26667");
}

TEST(Testnet, Init_WritesTheManifestForTheScripts) {
  testing::TempDir dir;
  const fs::path out = dir.path() / "net";
  auto result = init_testnet(options_for(out, 3));
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  EXPECT_EQ(result->manifest, out / "testnet.json");
  const auto manifest = nlohmann::json::parse(read_text(out / "testnet.json"));
  EXPECT_EQ(manifest["chain_id"], "ledger-testnet");
  EXPECT_EQ(manifest["validators"], 3);
  ASSERT_EQ(manifest["nodes"].size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& entry = manifest["nodes"][i];
    const TestnetNode& node = result->nodes[i];
    EXPECT_EQ(entry["name"], node.name);
    EXPECT_EQ(entry["home"], node.name);  // relative to the testnet directory
    EXPECT_EQ(entry["rpc"], node.rpc_address);
    EXPECT_EQ(entry["p2p"], node.p2p_address);
    EXPECT_EQ(entry["key"], node.key.hex());
  }
  EXPECT_EQ(manifest["faucet"]["key_file"], "faucet.json");
  EXPECT_EQ(manifest["faucet"]["address"], result->faucet_address.hex());
}

TEST(Testnet, Init_OneValidatorHasNoPeers) {
  testing::TempDir dir;
  auto result = init_testnet(options_for(dir.path() / "net", 1));
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  auto config = load_config(result->nodes[0].home / "config.toml");
  ASSERT_TRUE(config.is_ok());
  EXPECT_TRUE(config->p2p.peers.empty());
}

TEST(Testnet, Init_AcceptsAnEmptyExistingDirectory) {
  testing::TempDir dir;
  auto result = init_testnet(options_for(dir.path(), 2));
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
}

TEST(Testnet, Init_RefusesANonEmptyDirectoryWithoutForce) {
  testing::TempDir dir;
  std::ofstream(dir.path() / "notes.txt") << "mine";
  auto result = init_testnet(options_for(dir.path()));
  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(contains(result.status(), "is not empty: use --force")) << result.status().message();
  EXPECT_EQ(entries_in(dir.path()), 1u);  // nothing written
}

TEST(Testnet, Init_ForceReplacesTheNodesAndDeletesTheirData) {
  testing::TempDir dir;
  const fs::path out = dir.path();
  auto first = init_testnet(options_for(out, 3));
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  fs::create_directories(out / "node1" / "data" / "blocks");
  std::ofstream(out / "node1" / "data" / "blocks" / "000001.sst") << "old block";
  std::ofstream(out / "node1" / "ledgerd.log") << "old log";
  std::ofstream(out / "node1" / "ledgerd.pid") << "999999999\n";  // no such process
  std::ofstream(out / "notes.txt") << "mine";
  fs::create_directories(out / "node7");  // not one the new testnet writes

  EXPECT_EQ(init_testnet(options_for(out, 3)).status().code(), StatusCode::kAlreadyExists);

  TestnetOptions options = options_for(out, 2);
  options.force = true;
  options.chain_id = "ledger-second";
  auto second = init_testnet(options);
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  EXPECT_FALSE(fs::exists(out / "node1" / "data"));
  EXPECT_FALSE(fs::exists(out / "node1" / "ledgerd.log"));
  EXPECT_FALSE(fs::exists(out / "node1" / "ledgerd.pid"));
  EXPECT_EQ(read_text(out / "notes.txt"), "mine");
  EXPECT_TRUE(fs::exists(out / "node7"));
  EXPECT_TRUE(fs::exists(out / "node2" / "config.toml"));  // left alone: not written again

  auto genesis = load_genesis_file(out / "node1" / "genesis.json");
  ASSERT_TRUE(genesis.is_ok());
  EXPECT_EQ(genesis->chain_id, "ledger-second");
  EXPECT_EQ(genesis->validators.size(), 2u);
  EXPECT_NE(second->nodes[1].key, first->nodes[1].key);
  auto faucet = storage::read_key_file(out / "faucet.json");
  ASSERT_TRUE(faucet.is_ok());
  EXPECT_EQ(public_key_of(*faucet), second->faucet_address);
  const auto manifest = nlohmann::json::parse(read_text(out / "testnet.json"));
  EXPECT_EQ(manifest["validators"], 2);
}

// A process named "ledgerd" (a sleep started through a link of that name) until destroyed.
class FakeLedgerd {
 public:
  explicit FakeLedgerd(const fs::path& dir) {
    const fs::path link = dir / "ledgerd";
    fs::create_symlink("/bin/sleep", link);
    // The write end closes on exec: end of file on the read end means the exec happened (or
    // the child died), so the process has its new name when the constructor returns.
    int exec_pipe[2];
    if (::pipe2(exec_pipe, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl(link.c_str(), "ledgerd", "60", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(exec_pipe[1]);
    char byte = 0;
    while (::read(exec_pipe[0], &byte, 1) < 0 && errno == EINTR) {
    }
    ::close(exec_pipe[0]);
  }
  ~FakeLedgerd() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  FakeLedgerd(const FakeLedgerd&) = delete;
  FakeLedgerd& operator=(const FakeLedgerd&) = delete;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

TEST(Testnet, Init_ForceRefusesWhileANodeRuns) {
  testing::TempDir dir;
  const fs::path out = dir.path() / "net";
  ASSERT_TRUE(init_testnet(options_for(out, 2)).is_ok());
  TestnetOptions options = options_for(out, 2);
  options.force = true;

  FakeLedgerd node(dir.path());
  ASSERT_GT(node.pid(), 0);
  std::ofstream(out / "node1" / "ledgerd.pid") << node.pid() << "\n";
  auto result = init_testnet(options);
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(contains(
      result.status(),
      "names a running ledgerd (pid " + std::to_string(node.pid()) + "): stop the testnet first"))
      << result.status().message();
  EXPECT_TRUE(fs::exists(out / "node1" / "ledgerd.pid"));

  // A live process of another name is a stale pid file (the id was reused): --force goes on.
  std::ofstream(out / "node1" / "ledgerd.pid") << ::getpid() << "\n";
  EXPECT_TRUE(init_testnet(options).is_ok());
}

TEST(Testnet, Init_RefusesAValidatorCountOutsideTheLimit) {
  for (std::uint64_t count : {std::uint64_t{0}, kTestnetValidatorsMax + 1}) {
    testing::TempDir dir;
    auto result = init_testnet(options_for(dir.path() / "net", count));
    ASSERT_FALSE(result.is_ok()) << count;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(result.status(), "--validators: must be between 1 and 64 (got " +
                                              std::to_string(count) + ")"))
        << result.status().message();
    EXPECT_FALSE(fs::exists(dir.path() / "net"));
  }
}

TEST(Testnet, Init_AcceptsTheLargestValidatorCount) {
  testing::TempDir dir;
  TestnetOptions options = options_for(dir.path() / "net", kTestnetValidatorsMax);
  options.base_port = 20000;
  auto result = init_testnet(options);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  EXPECT_EQ(result->nodes.back().rpc_address, "127.0.0.1:20631");
}

TEST(Testnet, Init_RefusesPortsPast65535) {
  testing::TempDir dir;
  TestnetOptions options = options_for(dir.path() / "net", 4);
  options.base_port = 65510;  // node3: 65540
  auto result = init_testnet(options);
  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(result.status(), "--base-port 65510: 4 validators need ports up to 65541"))
      << result.status().message();
  EXPECT_TRUE(contains(result.status(), "at most 65504")) << result.status().message();
  EXPECT_FALSE(fs::exists(dir.path() / "net"));

  options.base_port = 65504;  // node3 rpc: 65535
  EXPECT_TRUE(init_testnet(options).is_ok());
}

TEST(Testnet, Init_RefusesBasePortZeroAndAbove65535) {
  for (std::uint64_t port : {std::uint64_t{0}, std::uint64_t{65536}}) {
    testing::TempDir dir;
    TestnetOptions options = options_for(dir.path() / "net", 1);
    options.base_port = port;
    auto result = init_testnet(options);
    ASSERT_FALSE(result.is_ok()) << port;
    EXPECT_TRUE(contains(result.status(), "--base-port: must be between 1 and 65535"))
        << result.status().message();
  }
}

TEST(Testnet, Init_RefusesABadChainIdOrHost) {
  testing::TempDir dir;
  TestnetOptions options = options_for(dir.path() / "net");
  options.chain_id = "bad chain";
  auto result = init_testnet(options);
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(result.status(), "--chain-id")) << result.status().message();

  options = options_for(dir.path() / "net");
  options.host = "host name";
  result = init_testnet(options);
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(result.status(), "--host")) << result.status().message();
  EXPECT_FALSE(fs::exists(dir.path() / "net"));
}

TEST(Testnet, Init_RefusesANonLoopbackHostBecauseOfTheAdminService) {
  testing::TempDir dir;
  TestnetOptions options = options_for(dir.path() / "net");
  options.host = "10.1.2.3";
  auto result = init_testnet(options);
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(result.status(), "--host '10.1.2.3': must be a loopback address"))
      << result.status().message();
  EXPECT_FALSE(fs::exists(dir.path() / "net"));
}

TEST(Testnet, Init_BracketsAnIpv6Host) {
  testing::TempDir dir;
  for (const char* host : {"::1", "[::1]"}) {
    TestnetOptions options = options_for(dir.path() / host, 2);
    options.host = host;
    auto result = init_testnet(options);
    ASSERT_TRUE(result.is_ok()) << result.status().to_string();
    EXPECT_EQ(result->nodes[1].p2p_address, "[::1]:26666");
  }
}

}  // namespace
}  // namespace ledger::node
