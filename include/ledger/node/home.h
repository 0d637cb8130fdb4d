// A node's home directory (DESIGN.md section 7):
//   <home>/config.toml        NodeConfig (config.h)
//   <home>/genesis.json       the genesis document
//   <home>/keys/              mode 0700
//   <home>/keys/node_key.json the node's (validator's) key, mode 0600
//   <home>/keys/dev.json      `ledgerd dev` only: the funded dev account, mode 0600
//   <home>/data/              RocksDB (created by `ledgerd start`)
//   <home>/rpc.address        written by a running node: its bound gRPC address
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ledger/core/genesis.h"
#include "ledger/core/keys.h"
#include "ledger/core/status.h"
#include "ledger/node/config.h"

namespace ledger::node {

inline constexpr std::string_view kDevChainId = "ledger-dev";
inline constexpr std::uint64_t kDevAccountBalance = 1'000'000'000'000;  // 10^12 units

struct InitOptions {
  std::filesystem::path home;
  std::string chain_id = "ledger-local";
  std::string moniker = "ledgerd";  // written as config.moniker (overrides config.moniker)
  // Replace an existing home: rewrites config, genesis and keys, and DELETES data/.
  bool force = false;
  // Also create keys/dev.json and fund it with kDevAccountBalance in genesis.
  bool dev_account = false;
  std::vector<GenesisAccount> accounts;  // extra genesis allocations
  // Written as config.toml (defaults unless set). Its key_file, genesis_file and data_dir say
  // where the key, the genesis document and the data directory go (checked and removed).
  NodeConfig config;
  std::uint64_t genesis_time_ms = 0;  // 0: now
};

struct InitResult {
  PublicKey node_key;                                 // also the single validator
  std::optional<std::filesystem::path> dev_key_file;  // when dev_account
  std::optional<PublicKey> dev_address;
};

// Creates a single-validator home: the node key is the one validator (power 1, named after the
// moniker), genesis holds the dev account (if asked) and `accounts`, with default consensus
// parameters. kAlreadyExists (naming the file and suggesting --force) if the home already has
// config.toml, genesis.json, keys/ (or the key file) or data/ and !force; kInvalidArgument for a
// bad chain id, moniker or config (validate_config, apply_genesis), for accounts genesis refuses
// (repeated address, zero balance), or for a data_dir that would hold the home's other files;
// kIoError naming the path on system failure. Nothing is written when an argument is refused.
// Not safe to run twice at once on one home.
StatusOr<InitResult> init_home(const InitOptions& options);

// A home whose keys and genesis the caller made: `ledgerd testnet` writes several homes that
// share one genesis document, each with its own node key. init_home is make-keys-and-genesis
// then write_home.
struct HomeFiles {
  std::filesystem::path home;
  // Written as config.toml as it is (moniker included); its key_file, genesis_file and data_dir
  // say where the key, the genesis document and the data directory go.
  NodeConfig config;
  Genesis genesis;
  // As InitOptions::force: replace config, genesis and keys, and DELETE data/.
  bool force = false;
};

// The checks write_home makes before it writes anything: config (validate_config, and
// apply_genesis against `files.genesis`), genesis (as load_genesis_file would), the layout
// (data_dir apart from the other files) and, unless force, that the home holds none of the
// files it would write. Errors as init_home. Touches nothing.
Status check_home(const HomeFiles& files);

// check_home, then writes the home in init_home's order: the home directory (0700), data/
// deleted first under force, keys/ (0700), the node key (0600), keys/dev.json when `dev_key` is
// not null (else, under force, a stale one is removed), genesis.json, and config.toml last.
// kIoError naming the path on system failure. Not safe to run twice at once on one home.
Status write_home(const HomeFiles& files, const SecretKey& node_key,
                  const SecretKey* dev_key = nullptr);

// True if `home` holds a config.toml (an initialised home).
bool home_initialized(const std::filesystem::path& home);

// Writes <home>/rpc.address atomically ("host:port\n", mode 0644; kIoError naming the path);
// removes it (ignoring absence and errors).
Status write_rpc_address(const std::filesystem::path& home, const std::string& address);
void remove_rpc_address(const std::filesystem::path& home);

}  // namespace ledger::node
