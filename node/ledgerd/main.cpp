// ledgerd: the validator node binary (docs/operator.md).
//
//   ledgerd init   --home DIR [--chain-id ID] [--moniker NAME] [--dev-account] [--force]
//   ledgerd start  --home DIR [--log-level LEVEL]
//   ledgerd verify --home DIR [--skip-signatures]
//   ledgerd dev    [--home DIR] [--log-level LEVEL]
//   ledgerd testnet --validators N --output DIR [--chain-id ID] [--base-port P] [--host HOST]
//                   [--force]
//
// Exit codes: 0 success (start: a graceful shutdown); 1 usage or configuration error;
// 2 a runtime failure (store, RPC bind, a fatal error while running); 3 verify found problems.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/program_options.hpp>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "ledger/core/bytes.h"
#include "ledger/node/config.h"
#include "ledger/node/genesis_file.h"
#include "ledger/node/home.h"
#include "ledger/node/node.h"
#include "ledger/node/testnet.h"
#include "ledger/storage/chain_verifier.h"
#include "ledger/storage/key_file.h"
#include "ledger/storage/rocks_chain_store.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 1;
constexpr int kExitRuntime = 2;
constexpr int kExitVerifyProblems = 3;

const char* const kVersion = LEDGERD_VERSION;

fs::path default_home(const char* leaf) {
  if (const char* env = std::getenv("LEDGERD_HOME"); env != nullptr && *env != '\0') return env;
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr ? home : ".") / leaf;
}

int fail(int code, const ledger::Status& status) {
  std::cerr << "ledgerd: " << status.message() << "\n";
  return code;
}

// A status that names a user mistake (bad config, missing file) is a usage error.
int exit_code_for(const ledger::Status& status) {
  switch (status.code()) {
    case ledger::StatusCode::kInvalidArgument:
    case ledger::StatusCode::kNotFound:
    case ledger::StatusCode::kAlreadyExists:
    case ledger::StatusCode::kFailedPrecondition:
      return kExitUsage;
    default:
      return kExitRuntime;
  }
}

void setup_logging(const std::string& level) {
  auto logger = spdlog::stdout_logger_mt("ledgerd");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::info);
}

struct LoadedHome {
  ledger::node::NodeConfig config;
  ledger::Genesis genesis;
};

ledger::StatusOr<LoadedHome> load_home(const fs::path& home) {
  if (!ledger::node::home_initialized(home)) {
    return ledger::Status::not_found("no config.toml in " + home.string() +
                                     ": run `ledgerd init --home " + home.string() + "` first");
  }
  LoadedHome loaded;
  LEDGER_ASSIGN_OR_RETURN(loaded.config, ledger::node::load_config(home / "config.toml"));
  LEDGER_ASSIGN_OR_RETURN(loaded.genesis,
                          ledger::node::load_genesis_file(
                              ledger::node::NodeConfig::resolve(home, loaded.config.genesis_file)));
  LEDGER_RETURN_IF_ERROR(loaded.config.apply_genesis(loaded.genesis));
  return loaded;
}

int run_node(const fs::path& home, const std::string& log_level_override) {
  auto loaded = load_home(home);
  if (!loaded.is_ok()) return fail(exit_code_for(loaded.status()), loaded.status());
  LoadedHome& h = loaded.value();
  setup_logging(log_level_override.empty() ? h.config.log_level : log_level_override);
  auto key =
      ledger::storage::read_key_file(ledger::node::NodeConfig::resolve(home, h.config.key_file));
  if (!key.is_ok()) return fail(exit_code_for(key.status()), key.status());

  ledger::node::NodeOptions options{home,     h.config, h.genesis, std::move(key).value(),
                                    kVersion, true};
  spdlog::info("ledgerd {} starting, home {}", kVersion, home.string());
  auto node = ledger::node::Node::open(std::move(options));
  if (!node.is_ok()) {
    spdlog::critical("cannot open the node: {}", node.status().message());
    return fail(exit_code_for(node.status()), node.status());
  }
  const ledger::Status stopped = node.value()->run();
  if (!stopped.is_ok()) return fail(kExitRuntime, stopped);
  return kExitOk;
}

// Strict decimal: digits only, no sign or spaces (Boost would read "-1" as 2^64-1).
ledger::StatusOr<std::uint64_t> parse_u64(const std::string& text, const std::string& what) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return ledger::Status::invalid_argument(what + " '" + text + "': must be a whole number");
  }
  return value;
}

// ---- Subcommands --------------------------------------------------------------------------

int cmd_init(const std::vector<std::string>& args) {
  std::string home, chain_id, moniker;
  po::options_description desc("ledgerd init: create a single-validator home directory");
  desc.add_options()("help,h", "this help")(
      "home", po::value(&home)->default_value(default_home(".ledgerd").string()), "home directory")(
      "chain-id", po::value(&chain_id)->default_value("ledger-local"),
      "chain id (1-50 of [A-Za-z0-9._-])")("moniker", po::value(&moniker)->default_value("ledgerd"),
                                           "this node's name")(
      "dev-account", "also create keys/dev.json, funded in genesis")(
      "force", "replace an existing home (rewrites config, genesis and keys, DELETES data/)");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kExitOk;
  }
  ledger::node::InitOptions options;
  options.home = home;
  options.chain_id = chain_id;
  options.moniker = moniker;
  options.config.moniker = moniker;
  options.dev_account = vm.count("dev-account") > 0;
  options.force = vm.count("force") > 0;
  auto result = ledger::node::init_home(options);
  if (!result.is_ok()) return fail(exit_code_for(result.status()), result.status());
  std::cout << "initialised " << home << " for chain " << chain_id << "\n"
            << "  validator " << ledger::to_hex(result.value().node_key.bytes) << "\n";
  if (result.value().dev_key_file) {
    std::cout << "  dev account " << ledger::to_hex(result.value().dev_address->bytes)
              << ", key file " << result.value().dev_key_file->string() << "\n";
  }
  std::cout << "start it with: ledgerd start --home " << home << "\n";
  return kExitOk;
}

int cmd_start(const std::vector<std::string>& args) {
  std::string home, log_level;
  po::options_description desc("ledgerd start: run the node until SIGINT/SIGTERM");
  desc.add_options()("help,h", "this help")(
      "home", po::value(&home)->default_value(default_home(".ledgerd").string()), "home directory")(
      "log-level", po::value(&log_level), "trace|debug|info|warn|error (overrides config.toml)");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kExitOk;
  }
  return run_node(home, log_level);
}

int cmd_dev(const std::vector<std::string>& args) {
  std::string home, log_level;
  po::options_description desc(
      "ledgerd dev: a single-validator dev chain with a funded account (initialised on first "
      "use)");
  desc.add_options()("help,h", "this help")(
      "home", po::value(&home)->default_value(default_home(".ledgerd-dev").string()),
      "home directory")("log-level", po::value(&log_level), "trace|debug|info|warn|error");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kExitOk;
  }
  const fs::path dev_key = fs::path(home) / "keys" / "dev.json";
  if (!ledger::node::home_initialized(home)) {
    ledger::node::InitOptions options;
    options.home = home;
    options.chain_id = std::string(ledger::node::kDevChainId);
    options.moniker = "dev";
    options.config.moniker = "dev";
    // A single validator has no peers: listen for them on any free port, so that a dev chain
    // and a local testnet (node0 on 26656) can run side by side.
    options.config.p2p.listen = "127.0.0.1:0";
    options.dev_account = true;
    auto result = ledger::node::init_home(options);
    if (!result.is_ok()) return fail(exit_code_for(result.status()), result.status());
    std::cout << "initialised dev chain home " << home << "\n";
  }
  auto key = ledger::storage::read_key_file(dev_key);
  if (key.is_ok()) {
    auto signer = ledger::Signer::create(key.value());
    if (signer.is_ok()) {
      std::cout << "dev account: " << ledger::to_hex(signer.value().public_key().bytes) << "\n"
                << "dev key file: " << dev_key.string() << "\n"
                << "try: ledgerctl send --from " << dev_key.string()
                << " --to <address> --amount 100\n";
    }
  } else {
    std::cout << "no dev key at " << dev_key.string() << " (" << key.status().message() << ")\n";
  }
  std::cout.flush();
  return run_node(home, log_level);
}

// Linux lends an outgoing connection a local port from net.ipv4.ip_local_port_range; a testnet
// port inside it may be held by one (any program's) when its node starts, which then cannot
// bind. Says so; silent where the range cannot be read.
void warn_if_ephemeral(std::uint64_t port_first, std::uint64_t port_last) {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  std::uint64_t low = 0, high = 0;
  if (!(range >> low >> high) || port_last < low || port_first > high) return;
  std::cerr << "warning: ports " << port_first << "-" << port_last
            << " overlap the ephemeral port range " << low << "-" << high
            << " (net.ipv4.ip_local_port_range): an outgoing connection may hold one of them "
               "when a node starts; a base port below "
            << low << " avoids that\n";
}

int cmd_testnet(const std::vector<std::string>& args) {
  namespace node = ledger::node;
  std::string validators_text, base_port_text, output, chain_id, host;
  po::options_description desc(
      "ledgerd testnet: create the homes of a local testnet of N validators that share one "
      "genesis (docs/testnet.md); start it with testnet/start.sh DIR");
  desc.add_options()("help,h", "this help")(
      "validators", po::value(&validators_text)->required(),
      ("number of validators, 1 to " + std::to_string(node::kTestnetValidatorsMax)).c_str())(
      "output", po::value(&output)->required(),
      "the testnet directory: DIR/node0 ... DIR/node{N-1}, DIR/faucet.json, DIR/testnet.json")(
      "chain-id", po::value(&chain_id)->default_value(std::string(node::kTestnetChainIdDefault)),
      "chain id (1-50 of [A-Za-z0-9._-])")(
      "base-port",
      po::value(&base_port_text)->default_value(std::to_string(node::kTestnetBasePortDefault)),
      "node i listens for peers on base-port + 10*i and for gRPC on the port after it")(
      "host", po::value(&host)->default_value("127.0.0.1"),
      "address every node listens on and is dialed at (loopback: rpc.admin is on)")(
      "force",
      "replace a testnet in a non-empty DIR: for each node<i> written, DELETES its data/, "
      "ledgerd.log, ledgerd.pid and rpc.address and rewrites config, genesis and keys; rewrites "
      "faucet.json and testnet.json; leaves anything else in DIR alone");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kExitOk;
  }
  po::notify(vm);
  auto validators = parse_u64(validators_text, "--validators");
  if (!validators.is_ok()) return fail(kExitUsage, validators.status());
  auto base_port = parse_u64(base_port_text, "--base-port");
  if (!base_port.is_ok()) return fail(kExitUsage, base_port.status());
  if (output.empty()) {
    return fail(kExitUsage, ledger::Status::invalid_argument("--output: must not be empty"));
  }
  node::TestnetOptions options;
  options.output = fs::absolute(output).lexically_normal();
  options.validators = *validators;
  options.chain_id = chain_id;
  options.base_port = *base_port;
  options.host = host;
  options.force = vm.count("force") > 0;
  auto result = node::init_testnet(options);
  if (!result.is_ok()) return fail(exit_code_for(result.status()), result.status());
  const node::TestnetResult& r = result.value();
  warn_if_ephemeral(options.base_port,
                    options.base_port + node::kTestnetPortStride * (r.nodes.size() - 1) + 1);
  std::cout << "created a testnet of " << r.nodes.size() << " validator(s) for chain " << chain_id
            << " in " << options.output.string() << "\n";
  for (const node::TestnetNode& n : r.nodes) {
    std::cout << "  " << n.name << "  p2p " << n.p2p_address << "  rpc " << n.rpc_address
              << "  key " << n.key.hex() << "\n";
  }
  std::cout << "faucet account: " << r.faucet_address.hex() << "\n"
            << "faucet key file: " << r.faucet_key_file.string() << "\n"
            << "manifest: " << r.manifest.string() << "\n"
            << "start it with: testnet/start.sh " << options.output.string()
            << "   (or each node: ledgerd start --home " << (options.output / "node0").string()
            << ")\n";
  return kExitOk;
}

// The state `ledgerd start` reads besides the chain: the safety data (the last vote), the block
// tree (uncommitted blocks, high QC and TC) and the publication hold. verify_chain does not look
// at them, but a start refuses a store where one does not read back, so verify must say so too.
std::vector<std::string> consensus_state_problems(ledger::storage::RocksChainStore& store) {
  std::vector<std::string> problems;
  if (const auto safety = store.safety_store().load(); !safety.is_ok()) {
    problems.push_back("consensus safety data: " + safety.status().message());
  }
  if (const auto tree = store.tree_store().load(); !tree.is_ok()) {
    problems.push_back("consensus block tree: " + tree.status().message());
  }
  if (const auto hold = store.publication_hold(); !hold.is_ok()) {
    problems.push_back("publication hold: " + hold.status().message());
  }
  return problems;
}

int cmd_verify(const std::vector<std::string>& args) {
  std::string home;
  po::options_description desc(
      "ledgerd verify: re-check every stored block, certificate and the state, and that the "
      "consensus safety data and block tree read back (node stopped)");
  desc.add_options()("help,h", "this help")(
      "home", po::value(&home)->default_value(default_home(".ledgerd").string()), "home directory")(
      "skip-signatures", "do not re-verify signatures (faster)");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kExitOk;
  }
  auto loaded = load_home(home);
  if (!loaded.is_ok()) return fail(exit_code_for(loaded.status()), loaded.status());
  ledger::storage::RocksChainStore::Options store_options;
  store_options.block_limits = loaded.value().genesis.consensus.block_limits();
  store_options.create_if_missing = false;
  const fs::path data = ledger::node::NodeConfig::resolve(home, loaded.value().config.data_dir);
  auto store = ledger::storage::RocksChainStore::open(
      data.string(), loaded.value().genesis.chain_id, store_options);
  if (!store.is_ok()) return fail(kExitRuntime, store.status());
  ledger::storage::VerifyOptions verify_options;
  verify_options.check_signatures = vm.count("skip-signatures") == 0;
  auto report =
      ledger::storage::verify_chain(*store.value(), loaded.value().genesis, verify_options);
  if (!report.is_ok()) return fail(kExitRuntime, report.status());
  const auto& r = report.value();
  std::cout << "checked " << r.blocks_checked << " blocks, " << r.transactions_checked
            << " transactions\n";
  for (const auto& problem : r.problems) {
    std::cout << "height " << problem.height << ": " << problem.message << "\n";
  }
  if (r.truncated) std::cout << "(more problems not shown)\n";
  const std::vector<std::string> consensus_problems = consensus_state_problems(*store.value());
  for (const auto& problem : consensus_problems)
    std::cout << problem << "\n";
  const std::size_t problem_count = r.problems.size() + consensus_problems.size();
  if (problem_count > 0) {
    std::cout << "verify: FAILED, " << problem_count << " problem(s)\n";
    return kExitVerifyProblems;
  }
  std::cout << "verify: ok\n";
  return kExitOk;
}

void usage(std::ostream& out) {
  out << "ledgerd " << kVersion << ": a BFT ledger validator node\n\n"
      << "usage: ledgerd <command> [options]   (ledgerd <command> --help for options)\n\n"
      << "commands:\n"
      << "  init     create a home directory: config.toml, genesis.json, keys/\n"
      << "  start    run the node\n"
      << "  dev      run a single-validator dev chain with a funded account\n"
      << "  testnet  create the homes of a local testnet of N validators\n"
      << "  verify   re-check the stored chain (node stopped)\n"
      << "  version  print the version\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(std::cerr);
    return kExitUsage;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (command == "init") return cmd_init(args);
    if (command == "start") return cmd_start(args);
    if (command == "dev") return cmd_dev(args);
    if (command == "verify") return cmd_verify(args);
    if (command == "testnet") return cmd_testnet(args);
    if (command == "version" || command == "--version") {
      std::cout << kVersion << "\n";
      return kExitOk;
    }
    if (command == "help" || command == "--help" || command == "-h") {
      usage(std::cout);
      return kExitOk;
    }
    std::cerr << "ledgerd: unknown command \"" << command << "\"\n";
    usage(std::cerr);
    return kExitUsage;
  } catch (const po::error& e) {
    std::cerr << "ledgerd " << command << ": " << e.what() << "\n";
    return kExitUsage;
  }
}
