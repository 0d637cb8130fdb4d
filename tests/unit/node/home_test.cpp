// The home directory (node/home.h): init_home, its refusal to overwrite, --force, rpc.address.
#include "ledger/node/home.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "ledger/node/genesis_file.h"
#include "ledger/storage/key_file.h"
#include "support/temp_dir.h"
#include "support/test_keys.h"

namespace ledger::node {
namespace {

using ledger::testing::mode_of;
using ledger::testing::read_text;

using ledger::testing::contains;

namespace fs = std::filesystem;

InitOptions options_for(const fs::path& home) {
  InitOptions options;
  options.home = home;
  options.chain_id = "ledger-test";
  options.moniker = "node-0";
  options.genesis_time_ms = 1795305600123;
  return options;
}

PublicKey public_key_of(const SecretKey& secret) {
  return Signer::create(secret).value().public_key();
}

TEST(Home, Init_CreatesConfigGenesisAndKeysWithPrivateModes) {
  testing::TempDir dir;
  const fs::path home = dir.path() / "a" / "home";
  EXPECT_FALSE(home_initialized(home));
  auto result = init_home(options_for(home));
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  EXPECT_TRUE(home_initialized(home));

  EXPECT_EQ(mode_of(home), 0700u);
  EXPECT_EQ(mode_of(home / "keys"), 0700u);
  EXPECT_EQ(mode_of(home / "keys" / "node_key.json"), 0600u);
  EXPECT_EQ(mode_of(home / "genesis.json"), 0644u);
  EXPECT_EQ(mode_of(home / "config.toml"), 0644u);
  EXPECT_FALSE(fs::exists(home / "data"));  // created by `ledgerd start`
  EXPECT_FALSE(fs::exists(home / "keys" / "dev.json"));
  EXPECT_FALSE(result->dev_key_file.has_value());
  EXPECT_FALSE(result->dev_address.has_value());

  auto config = load_config(home / "config.toml");
  ASSERT_TRUE(config.is_ok()) << config.status().to_string();
  EXPECT_EQ(config->moniker, "node-0");

  auto key = storage::read_key_file(home / "keys" / "node_key.json");
  ASSERT_TRUE(key.is_ok()) << key.status().to_string();
  EXPECT_EQ(public_key_of(*key), result->node_key);

  auto genesis = load_genesis_file(home / "genesis.json");
  ASSERT_TRUE(genesis.is_ok()) << genesis.status().to_string();
  EXPECT_EQ(genesis->chain_id, "ledger-test");
  EXPECT_EQ(genesis->genesis_time_ms, 1795305600123u);
  ASSERT_EQ(genesis->validators.size(), 1u);
  EXPECT_EQ(genesis->validators.at(0).key, result->node_key);
  EXPECT_EQ(genesis->validators.at(0).power, 1u);
  EXPECT_EQ(genesis->validators.at(0).name, "node-0");
  EXPECT_TRUE(genesis->accounts.empty());
  EXPECT_EQ(genesis->consensus, ConsensusParams{});
  // The config written works with the genesis written.
  EXPECT_TRUE(config->apply_genesis(*genesis).is_ok());
}

TEST(Home, Init_DevAccountIsFundedInGenesisAndLoadable) {
  testing::TempDir dir;
  InitOptions options = options_for(dir.path() / "home");
  options.dev_account = true;
  const PublicKey extra_a = ledger::testing::test_signer(0x41, 1).public_key();
  const PublicKey extra_b = ledger::testing::test_signer(0x41, 2).public_key();
  options.accounts = {{extra_a, 5}, {extra_b, 7}};
  auto result = init_home(options);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  ASSERT_TRUE(result->dev_key_file.has_value());
  ASSERT_TRUE(result->dev_address.has_value());
  EXPECT_EQ(*result->dev_key_file, options.home / "keys" / "dev.json");
  EXPECT_EQ(mode_of(*result->dev_key_file), 0600u);

  auto dev_key = storage::read_key_file(*result->dev_key_file);
  ASSERT_TRUE(dev_key.is_ok()) << dev_key.status().to_string();
  EXPECT_EQ(public_key_of(*dev_key), *result->dev_address);
  EXPECT_NE(*result->dev_address, result->node_key);

  auto genesis = load_genesis_file(options.home / "genesis.json");
  ASSERT_TRUE(genesis.is_ok()) << genesis.status().to_string();
  std::vector<GenesisAccount> expected = {
      {*result->dev_address, kDevAccountBalance}, {extra_a, 5}, {extra_b, 7}};
  std::sort(expected.begin(), expected.end(),
            [](const GenesisAccount& a, const GenesisAccount& b) { return a.address < b.address; });
  EXPECT_EQ(genesis->accounts, expected);
}

TEST(Home, Init_GenesisTimeZeroMeansNow) {
  testing::TempDir dir;
  InitOptions options = options_for(dir.path() / "home");
  options.genesis_time_ms = 0;
  auto ms_now = [] {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  };
  const std::uint64_t before = ms_now();
  ASSERT_TRUE(init_home(options).is_ok());
  const std::uint64_t after = ms_now();
  auto genesis = load_genesis_file(options.home / "genesis.json");
  ASSERT_TRUE(genesis.is_ok());
  EXPECT_GE(genesis->genesis_time_ms, before);
  EXPECT_LE(genesis->genesis_time_ms, after);
}

TEST(Home, Init_RefusesAnExistingHomeWithoutForce) {
  for (const char* existing : {"config.toml", "genesis.json", "keys", "data"}) {
    testing::TempDir dir;
    const fs::path home = dir.path();
    const fs::path path = home / existing;
    if (std::string(existing).find('.') == std::string::npos) {
      fs::create_directory(path);
    } else {
      std::ofstream(path) << "old";
    }
    auto result = init_home(options_for(home));
    ASSERT_FALSE(result.is_ok()) << existing;
    EXPECT_EQ(result.status().code(), StatusCode::kAlreadyExists) << existing;
    EXPECT_TRUE(contains(result.status(), path.string())) << result.status().message();
    EXPECT_TRUE(contains(result.status(), "use --force to replace it"))
        << result.status().message();
    // Nothing was written.
    EXPECT_EQ(std::distance(fs::directory_iterator(home), fs::directory_iterator()), 1) << existing;
  }
}

TEST(Home, Init_ForceReplacesKeysAndGenesisAndDeletesData) {
  testing::TempDir dir;
  const fs::path home = dir.path() / "home";
  InitOptions options = options_for(home);
  options.dev_account = true;
  auto first = init_home(options);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  fs::create_directories(home / "data" / "blocks");
  std::ofstream(home / "data" / "blocks" / "000001.sst") << "old block";
  ::chmod((home / "keys").c_str(), 0755);

  EXPECT_EQ(init_home(options).status().code(), StatusCode::kAlreadyExists);

  options.force = true;
  options.dev_account = false;
  options.chain_id = "ledger-second";
  auto second = init_home(options);
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  EXPECT_FALSE(fs::exists(home / "data"));
  EXPECT_NE(second->node_key, first->node_key);
  EXPECT_EQ(mode_of(home / "keys"), 0700u);
  // A dev key from before would fund nothing on the new chain.
  EXPECT_FALSE(fs::exists(home / "keys" / "dev.json"));
  auto key = storage::read_key_file(home / "keys" / "node_key.json");
  ASSERT_TRUE(key.is_ok());
  EXPECT_EQ(public_key_of(*key), second->node_key);
  auto genesis = load_genesis_file(home / "genesis.json");
  ASSERT_TRUE(genesis.is_ok());
  EXPECT_EQ(genesis->chain_id, "ledger-second");
  EXPECT_EQ(genesis->validators.at(0).key, second->node_key);
  EXPECT_TRUE(genesis->accounts.empty());
}

TEST(Home, Init_RejectsABadChainIdBeforeWritingAnything) {
  testing::TempDir dir;
  InitOptions options = options_for(dir.path() / "home");
  options.chain_id = "bad chain";
  auto result = init_home(options);
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(result.status(), "chain id")) << result.status().message();
  EXPECT_FALSE(fs::exists(options.home));
}

TEST(Home, Init_RejectsABadMonikerBeforeWritingAnything) {
  testing::TempDir dir;
  InitOptions options = options_for(dir.path() / "home");
  options.moniker = "";
  auto result = init_home(options);
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(result.status(), "node.moniker")) << result.status().message();
  EXPECT_FALSE(fs::exists(options.home));
}

TEST(Home, Init_MonikerBecomesAValidValidatorName) {
  testing::TempDir dir;
  InitOptions options = options_for(dir.path() / "home");
  options.moniker = "my node #1";
  ASSERT_TRUE(init_home(options).is_ok());
  EXPECT_EQ(load_config(options.home / "config.toml")->moniker, "my node #1");
  EXPECT_EQ(load_genesis_file(options.home / "genesis.json")->validators.at(0).name, "my-node--1");
}

TEST(Home, Init_RejectsAConfigThatDoesNotFitTheGenesis) {
  testing::TempDir dir;
  InitOptions options = options_for(dir.path() / "home");
  options.config.consensus.empty_block_interval_ms = ConsensusParams{}.round_timeout_ms;
  auto result = init_home(options);
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(result.status(), "empty_block_interval_ms")) << result.status().message();
  EXPECT_FALSE(fs::exists(options.home));
}

TEST(Home, Init_RejectsRepeatedGenesisAccounts) {
  testing::TempDir dir;
  InitOptions options = options_for(dir.path() / "home");
  const PublicKey extra = ledger::testing::test_signer(0x42, 1).public_key();
  options.accounts = {{extra, 5}, {extra, 6}};
  auto result = init_home(options);
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(options.home));
}

TEST(Home, Init_RejectsADataDirThatHoldsTheHome) {
  testing::TempDir dir;
  for (const char* data_dir : {".", "keys", "..", "./"}) {
    InitOptions options = options_for(dir.path() / "home");
    options.force = true;
    options.config.data_dir = data_dir;
    auto result = init_home(options);
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << data_dir;
    EXPECT_TRUE(contains(result.status(), "node.data_dir")) << result.status().message();
  }
  EXPECT_FALSE(fs::exists(dir.path() / "home"));
}

TEST(Home, Init_WritesWhereTheConfigSays) {
  testing::TempDir dir;
  InitOptions options = options_for(dir.path() / "home");
  options.config.key_file = (dir.path() / "secrets" / "validator.json").string();
  options.config.genesis_file = "chain.json";
  auto result = init_home(options);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  EXPECT_EQ(mode_of(dir.path() / "secrets"), 0700u);
  EXPECT_EQ(mode_of(dir.path() / "secrets" / "validator.json"), 0600u);
  EXPECT_TRUE(fs::exists(options.home / "chain.json"));
  EXPECT_FALSE(fs::exists(options.home / "genesis.json"));
  // Without --force, the key file outside the home also counts as existing.
  fs::remove(options.home / "config.toml");
  fs::remove(options.home / "chain.json");
  fs::remove(options.home / "keys");
  auto again = init_home(options);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(contains(again.status(), "validator.json")) << again.status().message();
}

TEST(Home, RpcAddress_WriteReplaceAndRemove) {
  testing::TempDir dir;
  const fs::path path = dir.path() / "rpc.address";
  ASSERT_TRUE(write_rpc_address(dir.path(), "127.0.0.1:41234").is_ok());
  EXPECT_EQ(read_text(path), "127.0.0.1:41234\n");
  EXPECT_EQ(mode_of(path), 0644u);
  ASSERT_TRUE(write_rpc_address(dir.path(), "127.0.0.1:5").is_ok());
  EXPECT_EQ(read_text(path), "127.0.0.1:5\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
  remove_rpc_address(dir.path());
  EXPECT_FALSE(fs::exists(path));
  remove_rpc_address(dir.path());  // absent: no error
}

TEST(Home, RpcAddress_WriteFailsNamingThePath) {
  testing::TempDir dir;
  Status status = write_rpc_address(dir.path() / "missing", "127.0.0.1:1");
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_TRUE(contains(status, (dir.path() / "missing").string())) << status.message();
}

}  // namespace
}  // namespace ledger::node
