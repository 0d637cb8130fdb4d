#include "ledger/node/testnet.h"

#include "ledger/storage/file_io.h"

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "ledger/core/chain_id.h"
#include "ledger/node/home.h"
#include "ledger/storage/key_file.h"

namespace ledger::node {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kPortMax = 65535;
// Files of a node directory that belong to a previous run of the testnet, not to its home:
// deleted with data/ under --force.
constexpr std::string_view kRunFiles[] = {"ledgerd.log", kTestnetPidFileName, "rpc.address"};

std::string node_name(std::uint64_t index) {
  return "node" + std::to_string(index);
}

std::uint64_t now_ms() {
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count());
}

// The host as it goes before ":port": an IPv6 literal in brackets.
StatusOr<std::string> host_for_address(const std::string& host) {
  std::string bare = host;
  if (bare.size() >= 2 && bare.front() == '[' && bare.back() == ']') {
    bare = bare.substr(1, bare.size() - 2);
  }
  if (bare.empty()) return Status::invalid_argument("--host: must not be empty");
  for (char ch : bare) {
    const bool allowed = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                         (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == ':';
    if (!allowed) {
      return Status::invalid_argument("--host '" + host +
                                      "': must be a host name or an IP address");
    }
  }
  const std::string bracketed = bare.find(':') != std::string::npos ? "[" + bare + "]" : bare;
  // Every node serves the admin service, which config.toml allows only on loopback.
  if (bracketed != "localhost" && bracketed != "[::1]" && bracketed.rfind("127.", 0) != 0) {
    return Status::invalid_argument(
        "--host '" + host +
        "': must be a loopback address (127.0.0.1, ::1 or localhost): every testnet node "
        "serves the admin API (rpc.admin), which is allowed only on loopback");
  }
  return bracketed;
}

Status check_counts_and_ports(const TestnetOptions& options) {
  if (options.validators < 1 || options.validators > kTestnetValidatorsMax) {
    return Status::invalid_argument("--validators: must be between 1 and " +
                                    std::to_string(kTestnetValidatorsMax) + " (got " +
                                    std::to_string(options.validators) + ")");
  }
  if (options.base_port < 1 || options.base_port > kPortMax) {
    return Status::invalid_argument("--base-port: must be between 1 and 65535 (got " +
                                    std::to_string(options.base_port) + ")");
  }
  const std::uint64_t last_port =
      options.base_port + std::uint64_t{kTestnetPortStride} * (options.validators - 1) + 1;
  if (last_port > kPortMax) {
    return Status::invalid_argument(
        "--base-port " + std::to_string(options.base_port) + ": " +
        std::to_string(options.validators) + " validators need ports up to " +
        std::to_string(last_port) + " (node i uses base + " + std::to_string(kTestnetPortStride) +
        "*i and the port after it), past 65535; choose a base port of at most " +
        std::to_string(kPortMax - 1 - kTestnetPortStride * (options.validators - 1)));
  }
  return Status::ok();
}

// True if `path` names a directory entry of any kind.
bool occupied(const fs::path& path) {
  std::error_code ec;
  return fs::symlink_status(path, ec).type() != fs::file_type::not_found;
}

// The process id in a node's ledgerd.pid if that process is alive and is a ledgerd.
std::optional<long> running_ledgerd(const fs::path& node_dir) {
  std::ifstream pid_file(node_dir / kTestnetPidFileName);
  long pid = 0;
  if (!(pid_file >> pid) || pid <= 0) return std::nullopt;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return std::nullopt;
  // A stale file may name a process id the system has given to another program since.
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  if (comm >> name && name != "ledgerd") return std::nullopt;
  return pid;
}

// Refuses a non-empty output directory without force, and under force one whose nodes run.
Status check_output(const TestnetOptions& options) {
  const fs::path& dir = options.output;
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (status.type() == fs::file_type::not_found) return Status::ok();
  if (ec) return Status::io_error(dir.string() + ": cannot stat: " + ec.message());
  if (!fs::is_directory(status)) {
    return Status::invalid_argument(dir.string() + ": exists and is not a directory");
  }
  const bool empty = fs::is_empty(dir, ec);
  if (ec) return Status::io_error(dir.string() + ": cannot read: " + ec.message());
  if (empty) return Status::ok();
  if (!options.force) {
    return Status::already_exists(dir.string() +
                                  " is not empty: use --force to replace the testnet in it (this "
                                  "deletes the nodes' data/), or choose another directory");
  }
  for (std::uint64_t i = 0; i < options.validators; ++i) {
    const fs::path node_dir = dir / node_name(i);
    if (auto pid = running_ledgerd(node_dir)) {
      return Status::failed_precondition((node_dir / kTestnetPidFileName).string() +
                                         " names a running ledgerd (pid " + std::to_string(*pid) +
                                         "): stop the testnet first (testnet/stop.sh " +
                                         dir.string() + ")");
    }
  }
  return Status::ok();
}

struct NodePlan {
  TestnetNode node;
  SecretKey key;
  HomeFiles files;
};

StatusOr<PublicKey> public_key_of(const SecretKey& secret) {
  LEDGER_ASSIGN_OR_RETURN(Signer signer, Signer::create(secret));
  return signer.public_key();
}

// Keys, addresses and the shared genesis document; nothing is written.
StatusOr<std::vector<NodePlan>> plan_nodes(const TestnetOptions& options, const std::string& host,
                                           const PublicKey& faucet) {
  std::vector<NodePlan> plans;
  std::vector<Validator> validators;
  for (std::uint64_t i = 0; i < options.validators; ++i) {
    LEDGER_ASSIGN_OR_RETURN(SecretKey key, SecretKey::generate());
    LEDGER_ASSIGN_OR_RETURN(PublicKey public_key, public_key_of(key));
    const std::uint64_t p2p_port = options.base_port + std::uint64_t{kTestnetPortStride} * i;
    TestnetNode node{node_name(i), options.output / node_name(i),
                     host + ":" + std::to_string(p2p_port),
                     host + ":" + std::to_string(p2p_port + 1), public_key};
    validators.push_back(Validator{public_key, 1, node.name});
    plans.push_back(NodePlan{std::move(node), std::move(key), HomeFiles{}});
  }

  Genesis genesis;
  genesis.chain_id = options.chain_id;
  genesis.genesis_time_ms = options.genesis_time_ms != 0 ? options.genesis_time_ms : now_ms();
  LEDGER_ASSIGN_OR_RETURN(genesis.validators, ValidatorSet::create(std::move(validators)));
  genesis.accounts.push_back({faucet, kDevAccountBalance});

  for (NodePlan& plan : plans) {
    NodeConfig config;
    config.moniker = plan.node.name;
    config.rpc.listen_address = plan.node.rpc_address;
    config.rpc.admin = true;
    config.p2p.listen = plan.node.p2p_address;
    for (const NodePlan& other : plans) {
      if (other.node.name == plan.node.name) continue;
      config.p2p.peers.push_back(other.node.key.hex() + "@" + other.node.p2p_address);
    }
    plan.files = HomeFiles{plan.node.home, std::move(config), genesis, options.force};
    const Status checked = check_home(plan.files);
    if (!checked.is_ok()) return checked.with_context(plan.node.name);
  }
  return plans;
}

// Removes `path` if it exists (ignoring absence).
Status remove_file(const fs::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return storage::errno_status(path, "cannot remove");
  }
  return Status::ok();
}

std::string manifest_json(const TestnetOptions& options, const TestnetResult& result) {
  nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
  for (const TestnetNode& node : result.nodes) {
    nodes.push_back({{"name", node.name},
                     {"home", node.name},
                     {"rpc", node.rpc_address},
                     {"p2p", node.p2p_address},
                     {"key", node.key.hex()}});
  }
  nlohmann::ordered_json manifest{{"chain_id", options.chain_id},
                                  {"validators", result.nodes.size()},
                                  {"nodes", std::move(nodes)},
                                  {"faucet",
                                   {{"key_file", std::string(kTestnetFaucetKeyName)},
                                    {"address", result.faucet_address.hex()}}}};
  return manifest.dump(2) + "\n";
}

}  // namespace

StatusOr<TestnetResult> init_testnet(const TestnetOptions& options) {
  if (options.output.empty()) return Status::invalid_argument("--output: must not be empty");
  LEDGER_RETURN_IF_ERROR(check_counts_and_ports(options));
  const Status chain_id_ok = validate_chain_id(options.chain_id);
  if (!chain_id_ok.is_ok()) return chain_id_ok.with_context("--chain-id");
  LEDGER_ASSIGN_OR_RETURN(const std::string host, host_for_address(options.host));
  LEDGER_RETURN_IF_ERROR(check_output(options));

  // Everything is built and checked in memory before the first file is touched.
  LEDGER_ASSIGN_OR_RETURN(SecretKey faucet_key, SecretKey::generate());
  LEDGER_ASSIGN_OR_RETURN(PublicKey faucet_address, public_key_of(faucet_key));
  LEDGER_ASSIGN_OR_RETURN(std::vector<NodePlan> plans, plan_nodes(options, host, faucet_address));

  TestnetResult result;
  result.faucet_key_file = options.output / kTestnetFaucetKeyName;
  result.faucet_address = faucet_address;
  result.manifest = options.output / kTestnetManifestName;

  std::error_code ec;
  fs::create_directories(options.output, ec);
  if (ec) return Status::io_error(options.output.string() + ": cannot create: " + ec.message());
  // The manifest goes first and comes back last, so that a testnet.json always describes
  // complete homes.
  if (options.force) LEDGER_RETURN_IF_ERROR(remove_file(result.manifest));
  for (NodePlan& plan : plans) {
    if (options.force && occupied(plan.node.home)) {
      for (std::string_view name : kRunFiles) {
        LEDGER_RETURN_IF_ERROR(remove_file(plan.node.home / name));
      }
    }
    LEDGER_RETURN_IF_ERROR(write_home(plan.files, plan.key));
    result.nodes.push_back(std::move(plan.node));
  }
  LEDGER_RETURN_IF_ERROR(
      storage::write_key_file(result.faucet_key_file, faucet_key, options.force));
  LEDGER_RETURN_IF_ERROR(
      storage::write_file_atomically(result.manifest, manifest_json(options, result), 0644));
  return result;
}

}  // namespace ledger::node
