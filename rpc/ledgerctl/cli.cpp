#include "cli.h"

#include <pthread.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <limits>

namespace ledger::ctl {

int fail(int code, const std::string& message) {
  std::cerr << "error: " << message << "\n";
  return code;
}

int usage_error(const CommandSpec& spec, const std::string& message) {
  std::cerr << "error: " << message << "\n"
            << "usage: ledgerctl " << spec.usage << "\n"
            << "run 'ledgerctl " << spec.name << " --help' for the options\n";
  return kExitUsage;
}

int local_error(const Status& status) {
  return fail(kExitLocalError, status.message());
}

std::string default_node() {
  const char* env = std::getenv("LEDGERCTL_NODE");
  if (env != nullptr && *env != '\0') return env;
  return std::string(kDefaultNode);
}

std::string default_keys_dir() {
  const char* home = std::getenv("LEDGERCTL_HOME");
  if (home != nullptr && *home != '\0') return std::string(home) + "/keys";
  const char* user_home = std::getenv("HOME");
  std::string base = (user_home != nullptr && *user_home != '\0') ? user_home : ".";
  return base + "/.ledgerctl/keys";
}

void add_connection_options(po::options_description& desc, ConnectionOptions& options) {
  desc.add_options()                                                     //
      ("node", po::value(&options.node)->default_value(default_node()),  //
       "node gRPC address host:port (default from $LEDGERCTL_NODE)")     //
      ("timeout", po::value(&options.timeout_seconds)->default_value(kDefaultTimeoutSeconds),
       "deadline of each call to the node, in seconds");
}

void add_json_option(po::options_description& desc, bool& json) {
  desc.add_options()("json", po::bool_switch(&json),
                     "print one JSON document per result (one line each) instead of text");
}

void add_keys_dir_option(po::options_description& desc, std::string& keys_dir) {
  desc.add_options()("keys-dir", po::value(&keys_dir)->default_value(default_keys_dir()),
                     "directory of named key files (default $LEDGERCTL_HOME/keys or "
                     "~/.ledgerctl/keys)");
}

std::optional<int> parse_command_line(const std::vector<std::string>& args, const CommandSpec& spec,
                                      po::options_description& desc,
                                      const po::positional_options_description& positional,
                                      po::variables_map& vm) {
  desc.add_options()("help,h", "show this help");
  try {
    po::store(
        po::command_line_parser(args)
            .options(desc)
            .positional(positional)
            .style(po::command_line_style::unix_style ^ po::command_line_style::allow_guessing)
            .run(),
        vm);
    if (vm.count("help") != 0) {
      std::cout << "usage: ledgerctl " << spec.usage << "\n\n"
                << spec.description << "\n\n"
                << desc << "\n"
                << "Exit codes: 0 ok, 1 usage error, 2 node error, 3 node unreachable, "
                   "4 transaction failed, 5 local error.\n";
      return kExitOk;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error(spec, e.what());
  }
  return std::nullopt;
}

std::optional<std::string> check_connection_options(const ConnectionOptions& options) {
  if (options.node.empty()) return "--node must not be empty";
  if (options.node.find(':') == std::string::npos) {
    return "--node '" + options.node + "' must be host:port";
  }
  if (options.timeout_seconds <= 0) return "--timeout must be a positive number of seconds";
  return std::nullopt;
}

StatusOr<std::uint64_t> parse_u64(std::string_view text, std::string_view what) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    std::string why = ec == std::errc::result_out_of_range ? "is larger than 2^64-1"
                                                           : "is not a non-negative integer";
    return Status::invalid_argument(std::string(what) + " '" + std::string(text) + "' " + why);
  }
  return value;
}

InterruptWatcher::InterruptWatcher() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  thread_ = std::thread([this] { run(); });
}

InterruptWatcher::~InterruptWatcher() {
  stopping_.store(true);
  thread_.join();
  // A signal that arrived after the helper stopped stays pending; leave it blocked rather than
  // die on it while the command unwinds. The process is about to exit anyway.
}

void InterruptWatcher::on_interrupt(std::function<void()> callback) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (interrupted_.load()) {
    callback();
    return;
  }
  callbacks_.push_back(std::move(callback));
}

void InterruptWatcher::run() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  const timespec poll_interval{0, 100'000'000};  // how quickly the destructor is noticed
  while (!stopping_.load()) {
    int signal = sigtimedwait(&signals, nullptr, &poll_interval);
    if (signal < 0) continue;  // EAGAIN (timeout) or EINTR
    std::lock_guard<std::mutex> lock(mutex_);
    if (interrupted_.exchange(true)) {
      // A second Ctrl-C: the user does not want to wait for a clean stop.
      std::_Exit(128 + signal);
    }
    for (auto& callback : callbacks_)
      callback();
    callbacks_.clear();
  }
}

}  // namespace ledger::ctl
