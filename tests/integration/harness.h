// Integration test harness: real ledgerd / ledgerctl processes on loopback ports, driven over
// gRPC. Every process a test starts is killed (SIGKILL) and reaped when its handle goes out of
// scope, also when the test fails. Waiting is polling with a deadline, never a bare sleep.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ledger/core/keys.h"
#include "ledger/core/transaction.h"
#include "ledger/v1/ledger.grpc.pb.h"
#include "support/temp_dir.h"

namespace ledger::itest {

using namespace std::chrono_literals;

// Polls `done` every few milliseconds until it returns true or `timeout` passes.
bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

// A child process with stdout and stderr appended to `log_file`.
class Process {
 public:
  static std::unique_ptr<Process> spawn(const std::vector<std::string>& argv,
                                        const std::filesystem::path& log_file);
  // As spawn(), and the child gets SIGKILL when this process dies (PR_SET_PDEATHSIG): a test
  // binary that crashes or is killed at its ctest timeout, so that no destructor runs, still
  // leaves no node running.
  static std::unique_ptr<Process> spawn_tied(const std::vector<std::string>& argv,
                                             const std::filesystem::path& log_file);
  ~Process();  // SIGKILL and reap if still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int signal_number);
  // The exit status once the process exited within `timeout` (-signal if killed by one).
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);

 private:
  explicit Process(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  std::optional<int> exit_status_;
};

struct CommandResult {
  int exit_code = -1;  // -signal if killed; -1000 on timeout
  std::string output;  // stdout and stderr
};
// Runs a command to completion (killed after `timeout`).
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = 60s);

// Sets `key = value` under [section] in a TOML file written by config_to_toml (value is TOML).
void set_config(const std::filesystem::path& config_file, const std::string& section,
                const std::string& key, const std::string& value);

// A single-validator dev chain in a temporary home: `ledgerd init --dev-account`, rpc.listen and
// p2p.listen on 127.0.0.1:0, then start()/stop()/kill9() of real ledgerd processes.
class DevNode {
 public:
  // `config` entries ("section.key" -> TOML value) are applied to config.toml after init.
  explicit DevNode(const std::map<std::string, std::string>& config = {});
  ~DevNode();

  // Starts ledgerd and waits until GetStatus answers. Asserts (gtest) on failure, with the log.
  void start();
  // SIGTERM, then waits for exit; returns the exit status.
  int stop();
  // SIGKILL and reap.
  void kill9();

  ledger::v1::Ledger::Stub& stub() { return *stub_; }
  const std::string& address() const { return address_; }
  const std::filesystem::path& home() const { return home_.path(); }
  std::filesystem::path dev_key_file() const { return home() / "keys" / "dev.json"; }
  const Signer& dev() const { return *dev_; }
  std::string log() const;  // everything the node processes printed so far
  std::string chain_id() const { return "ledger-dev"; }

  // Helpers over the stub (deadline 10 s unless given).
  SignedTransfer transfer(const Signer& from, std::uint64_t nonce, const Address& to,
                          std::uint64_t amount, const std::string& memo = "") const;
  grpc::Status submit(const SignedTransfer& tx, bool wait_for_commit,
                      ledger::v1::SubmitTransactionResponse* response = nullptr,
                      std::chrono::milliseconds deadline = 10s);
  grpc::Status submit_raw(const std::string& bytes,
                          ledger::v1::SubmitTransactionResponse* response);
  ledger::v1::GetAccountResponse account(const Address& address);
  std::uint64_t height();
  // Polls GetStatus until latest_height >= height; false on timeout.
  bool wait_for_height(std::uint64_t height, std::chrono::milliseconds timeout = 30s);

 private:
  testing::TempDir home_;
  std::optional<Signer> dev_;
  std::unique_ptr<Process> process_;
  std::string address_;
  std::unique_ptr<ledger::v1::Ledger::Stub> stub_;
};

Signer random_signer();
std::string ledgerd_path();
std::string ledgerctl_path();

}  // namespace ledger::itest
