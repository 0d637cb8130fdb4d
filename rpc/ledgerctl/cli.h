// Command-line plumbing shared by every ledgerctl command: exit codes, option parsing with
// Boost.Program_options, strict number parsing, and Ctrl-C handling for long-running commands.
#pragma once

#include <atomic>
#include <boost/program_options.hpp>
#include <csignal>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ledger/core/status.h"

namespace ledger::ctl {

namespace po = boost::program_options;

// The process exit codes (docs/ledgerctl.md lists them; scripts rely on them, never renumber).
enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,        // bad command line: unknown option, missing or malformed argument
  kExitNodeError = 2,    // the node answered with an error status
  kExitUnreachable = 3,  // the node could not be reached (UNAVAILABLE, connection refused)
  kExitTxFailed = 4,     // send: committed, but its result is not SUCCESS
  kExitLocalError = 5,   // a local failure: key file, keys directory, random source
};

inline constexpr std::string_view kDefaultNode = "127.0.0.1:26657";
inline constexpr int kDefaultTimeoutSeconds = 10;

// Options every command that talks to a node accepts.
struct ConnectionOptions {
  std::string node;         // host:port
  int timeout_seconds = 0;  // per-call deadline; > 0
};

// What a command's --help shows, and how parse errors point back to it.
struct CommandSpec {
  std::string name;         // "send", "keys new"
  std::string usage;        // "send --from KEY --to ADDRESS --amount N [options]"
  std::string description;  // one paragraph
};

// Prints "error: <message>" to stderr and returns `code`.
int fail(int code, const std::string& message);
// Prints "error: <message>" and the --help hint for `spec`; returns kExitUsage.
int usage_error(const CommandSpec& spec, const std::string& message);
// Maps a local Status to kExitLocalError, printing it.
int local_error(const Status& status);

// The node address when --node is not given: $LEDGERCTL_NODE, else kDefaultNode.
std::string default_node();
// The keys directory when --keys-dir is not given: $LEDGERCTL_HOME/keys, else
// $HOME/.ledgerctl/keys (or ./.ledgerctl/keys if HOME is unset).
std::string default_keys_dir();

// Adds --node and --timeout (into `options`) to `desc`.
void add_connection_options(po::options_description& desc, ConnectionOptions& options);
// Adds --json.
void add_json_option(po::options_description& desc, bool& json);
// Adds --keys-dir.
void add_keys_dir_option(po::options_description& desc, std::string& keys_dir);

// Parses `args` (the words after the command name) against `desc` (to which --help is added)
// and `positional`. Returns an exit code when the command must stop: kExitOk after printing
// --help, kExitUsage after printing a parse error. Returns nullopt when the command should run;
// `vm` is then notified (option variables are set).
std::optional<int> parse_command_line(const std::vector<std::string>& args, const CommandSpec& spec,
                                      po::options_description& desc,
                                      const po::positional_options_description& positional,
                                      po::variables_map& vm);

// Validates the values add_connection_options filled; an error message or nullopt.
std::optional<std::string> check_connection_options(const ConnectionOptions& options);

// Strict decimal uint64: digits only, no sign, no whitespace, no overflow. `what` names the
// option in the error ("--amount").
StatusOr<std::uint64_t> parse_u64(std::string_view text, std::string_view what);

// Turns SIGINT and SIGTERM into a flag and callbacks, so that a long-running command can stop
// cleanly (cancel its stream, print what it has). Construct it before any gRPC channel: the
// signals are blocked in the constructing thread, which every thread created later inherits, and
// a helper thread waits for them. One instance at a time; not copyable.
class InterruptWatcher {
 public:
  InterruptWatcher();
  ~InterruptWatcher();
  InterruptWatcher(const InterruptWatcher&) = delete;
  InterruptWatcher& operator=(const InterruptWatcher&) = delete;

  bool interrupted() const { return interrupted_.load(); }
  // Runs `callback` on the helper thread when a signal arrives (at once if one already did).
  // The callback must be thread-safe (e.g. grpc::ClientContext::TryCancel).
  void on_interrupt(std::function<void()> callback);

 private:
  void run();

  std::atomic<bool> interrupted_{false};
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<std::function<void()>> callbacks_;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace ledger::ctl
