#include "ledger/node/home.h"

#include "ledger/storage/file_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <system_error>

#include "ledger/core/chain_id.h"
#include "ledger/node/genesis_file.h"
#include "ledger/storage/key_file.h"

namespace ledger::node {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kConfigFileName = "config.toml";
constexpr std::string_view kKeysDirName = "keys";
constexpr std::string_view kDevKeyFileName = "dev.json";
constexpr std::string_view kRpcAddressFileName = "rpc.address";

// Where init_home writes, resolved against the home directory.
struct HomePaths {
  fs::path config;
  fs::path genesis;
  fs::path keys_dir;
  fs::path node_key;
  fs::path dev_key;
  fs::path data;
};

HomePaths home_paths(const fs::path& home, const NodeConfig& config) {
  HomePaths paths;
  paths.config = home / kConfigFileName;
  paths.genesis = NodeConfig::resolve(home, config.genesis_file);
  paths.keys_dir = home / kKeysDirName;
  paths.node_key = NodeConfig::resolve(home, config.key_file);
  paths.dev_key = paths.keys_dir / kDevKeyFileName;
  paths.data = NodeConfig::resolve(home, config.data_dir);
  return paths;
}

// True if `path` exists, as anything, a dangling symbolic link included.
bool occupied(const fs::path& path) {
  std::error_code ec;
  return fs::symlink_status(path, ec).type() != fs::file_type::not_found;
}

// `inner` is `outer` or lies under it (lexically, after normalizing both).
bool is_within(const fs::path& inner, const fs::path& outer) {
  const fs::path a = fs::absolute(inner).lexically_normal();
  const fs::path b = fs::absolute(outer).lexically_normal();
  auto [end_b, end_a] = std::mismatch(b.begin(), b.end(), a.begin(), a.end());
  return end_b == b.end() || (std::next(end_b) == b.end() && end_b->empty());
}

// Refuses an init that would delete the home itself or a file it writes along with data/.
Status check_layout(const fs::path& home, const HomePaths& paths) {
  for (const fs::path* path :
       {&home, &paths.config, &paths.genesis, &paths.node_key, &paths.keys_dir}) {
    if (is_within(*path, paths.data)) {
      return Status::invalid_argument("config.toml: node.data_dir: " + paths.data.string() +
                                      " would hold " + path->string() +
                                      "; the data directory must be apart from the others");
    }
  }
  return Status::ok();
}

Status refuse_existing(const HomePaths& paths) {
  for (const fs::path* path :
       {&paths.config, &paths.genesis, &paths.keys_dir, &paths.node_key, &paths.data}) {
    if (occupied(*path)) {
      return Status::already_exists(path->string() +
                                    " already exists: use --force to replace it (this deletes " +
                                    paths.data.string() + ")");
    }
  }
  return Status::ok();
}

// Creates directory `dir` with `mode` if it does not exist (its parent must), and syncs the
// parent so that the new entry is durable. An existing directory is left as it is.
Status make_directory(const fs::path& dir, mode_t mode) {
  if (::mkdir(dir.c_str(), mode) != 0) {
    if (errno == EEXIST) {
      std::error_code ec;
      if (fs::is_directory(dir, ec)) return Status::ok();
      return Status::io_error(dir.string() + ": exists and is not a directory");
    }
    return storage::errno_status(dir, "cannot create directory");
  }
  return storage::sync_directory(storage::parent_directory(dir));
}

Status make_private_directory(const fs::path& dir) {
  LEDGER_RETURN_IF_ERROR(make_directory(dir, 0700));
  // An existing directory (under --force) may be wider; keys live here.
  if (::chmod(dir.c_str(), 0700) != 0) return storage::errno_status(dir, "cannot chmod 700");
  return Status::ok();
}

Status make_home(const fs::path& home) {
  if (home.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(home.parent_path(), ec);
    if (ec)
      return Status::io_error(home.parent_path().string() + ": cannot create: " + ec.message());
  }
  return make_directory(home, 0700);
}

Status remove_data(const fs::path& data) {
  std::error_code ec;
  fs::remove_all(data, ec);
  if (ec) return Status::io_error(data.string() + ": cannot remove: " + ec.message());
  return storage::sync_directory(storage::parent_directory(data));
}

// A validator name ([A-Za-z0-9._-], 1..64) from a moniker (printable ASCII, 1..64).
std::string validator_name(const std::string& moniker) {
  std::string name = moniker;
  for (char& ch : name) {
    bool allowed = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    if (!allowed) ch = '-';
  }
  return name;
}

std::uint64_t now_ms() {
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count());
}

struct Keys {
  SecretKey node;
  PublicKey node_public;
  std::optional<SecretKey> dev;
  std::optional<PublicKey> dev_public;
};

StatusOr<Keys> generate_keys(bool dev_account) {
  LEDGER_ASSIGN_OR_RETURN(SecretKey node, SecretKey::generate());
  LEDGER_ASSIGN_OR_RETURN(Signer node_signer, Signer::create(node));
  Keys keys{std::move(node), node_signer.public_key(), std::nullopt, std::nullopt};
  if (dev_account) {
    LEDGER_ASSIGN_OR_RETURN(SecretKey dev, SecretKey::generate());
    LEDGER_ASSIGN_OR_RETURN(Signer dev_signer, Signer::create(dev));
    keys.dev_public = dev_signer.public_key();
    keys.dev = std::move(dev);
  }
  return keys;
}

// The single-validator genesis document (write_home validates it).
Genesis make_genesis(const InitOptions& options, const Keys& keys, ValidatorSet validators) {
  Genesis genesis;
  genesis.chain_id = options.chain_id;
  genesis.genesis_time_ms = options.genesis_time_ms != 0 ? options.genesis_time_ms : now_ms();
  genesis.validators = std::move(validators);
  genesis.accounts = options.accounts;
  if (keys.dev_public) genesis.accounts.push_back({*keys.dev_public, kDevAccountBalance});
  std::sort(genesis.accounts.begin(), genesis.accounts.end(),
            [](const GenesisAccount& a, const GenesisAccount& b) { return a.address < b.address; });
  return genesis;
}

// The checks of a home's configuration and paths that need no genesis document.
Status check_config_and_paths(const fs::path& home, const NodeConfig& config, bool force) {
  if (home.empty()) return Status::invalid_argument("home directory: must not be empty");
  LEDGER_RETURN_IF_ERROR(validate_config(config));
  const HomePaths paths = home_paths(home, config);
  LEDGER_RETURN_IF_ERROR(check_layout(home, paths));
  if (!force) LEDGER_RETURN_IF_ERROR(refuse_existing(paths));
  return Status::ok();
}

}  // namespace

Status check_home(const HomeFiles& files) {
  LEDGER_RETURN_IF_ERROR(check_config_and_paths(files.home, files.config, files.force));
  // As load_genesis_file would read it back.
  auto reparsed = parse_genesis(genesis_to_json(files.genesis));
  if (!reparsed.is_ok()) return reparsed.status();
  NodeConfig applied = files.config;
  return applied.apply_genesis(files.genesis);
}

Status write_home(const HomeFiles& files, const SecretKey& node_key, const SecretKey* dev_key) {
  LEDGER_RETURN_IF_ERROR(check_home(files));
  const HomePaths paths = home_paths(files.home, files.config);

  LEDGER_RETURN_IF_ERROR(make_home(files.home));
  // Old data first: a crash part way must never leave old blocks beside a new genesis.
  if (files.force) LEDGER_RETURN_IF_ERROR(remove_data(paths.data));
  LEDGER_RETURN_IF_ERROR(make_private_directory(paths.keys_dir));
  if (storage::parent_directory(paths.node_key) != paths.keys_dir) {
    LEDGER_RETURN_IF_ERROR(make_directory(storage::parent_directory(paths.node_key), 0700));
  }
  LEDGER_RETURN_IF_ERROR(storage::write_key_file(paths.node_key, node_key, files.force));
  if (dev_key != nullptr) {
    LEDGER_RETURN_IF_ERROR(storage::write_key_file(paths.dev_key, *dev_key, files.force));
  } else if (files.force && ::unlink(paths.dev_key.c_str()) != 0 && errno != ENOENT) {
    // A dev key left from an earlier init would hold no funds on the new chain.
    return storage::errno_status(paths.dev_key, "cannot remove stale dev key");
  }
  LEDGER_RETURN_IF_ERROR(write_genesis_file(paths.genesis, files.genesis));
  // Last: config.toml marks the home as initialised (home_initialized).
  return write_config(paths.config, files.config);
}

StatusOr<InitResult> init_home(const InitOptions& options) {
  if (options.home.empty()) return Status::invalid_argument("home directory: must not be empty");
  LEDGER_RETURN_IF_ERROR(validate_chain_id(options.chain_id));
  NodeConfig config = options.config;
  config.moniker = options.moniker;
  LEDGER_RETURN_IF_ERROR(check_config_and_paths(options.home, config, options.force));

  // Everything is built and checked in memory (write_home checks again) before the first file
  // is touched.
  LEDGER_ASSIGN_OR_RETURN(Keys keys, generate_keys(options.dev_account));
  LEDGER_ASSIGN_OR_RETURN(
      ValidatorSet validators,
      ValidatorSet::create({Validator{keys.node_public, 1, validator_name(config.moniker)}}));
  HomeFiles files{options.home, config, make_genesis(options, keys, std::move(validators)),
                  options.force};
  LEDGER_RETURN_IF_ERROR(write_home(files, keys.node, keys.dev ? &*keys.dev : nullptr));

  InitResult result;
  result.node_key = keys.node_public;
  if (keys.dev) {
    result.dev_key_file = home_paths(options.home, config).dev_key;
    result.dev_address = keys.dev_public;
  }
  return result;
}

bool home_initialized(const std::filesystem::path& home) {
  std::error_code ec;
  return std::filesystem::exists(home / kConfigFileName, ec);
}

Status write_rpc_address(const std::filesystem::path& home, const std::string& address) {
  return storage::write_file_atomically(home / kRpcAddressFileName, address + "\n", 0644);
}

void remove_rpc_address(const std::filesystem::path& home) {
  const std::filesystem::path path = home / kRpcAddressFileName;
  if (::unlink(path.c_str()) == 0) (void)storage::sync_directory(home);
}

}  // namespace ledger::node
