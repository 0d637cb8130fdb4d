#include "harness.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "ledger/core/assert.h"
#include "ledger/storage/key_file.h"

extern char** environ;

namespace ledger::itest {
namespace fs = std::filesystem;

bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);  // the polling interval, not a wait for an event
  }
}

std::string ledgerd_path() {
  return LEDGERD_PATH;
}
std::string ledgerctl_path() {
  return LEDGERCTL_PATH;
}

Signer random_signer() {
  auto secret = SecretKey::generate();
  LEDGER_ASSERT(secret.is_ok());
  auto signer = Signer::create(secret.value());
  LEDGER_ASSERT(signer.is_ok());
  return std::move(signer).value();
}

// ---- Process --------------------------------------------------------------------------------

std::unique_ptr<Process> Process::spawn(const std::vector<std::string>& argv,
                                        const fs::path& log_file) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, STDIN_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int error = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    ADD_FAILURE() << "cannot spawn " << argv[0] << ": " << std::strerror(error);
    return nullptr;
  }
  return std::unique_ptr<Process>(new Process(pid));
}

std::unique_ptr<Process> Process::spawn_tied(const std::vector<std::string>& argv,
                                             const fs::path& log_file) {
  // Everything the child needs is prepared before fork: the parent has other threads, so the
  // child may only make async-signal-safe calls until exec.
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string log = log_file.string();
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "cannot fork for " << argv[0] << ": " << std::strerror(errno);
    return nullptr;
  }
  if (pid == 0) {
    // If the parent died before prctl, the signal will never come: give up at once.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(127);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) ::_exit(127);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    if (fd != STDOUT_FILENO && fd != STDERR_FILENO) ::close(fd);
    ::close(STDIN_FILENO);
    ::execve(args[0], args.data(), environ);
    ::_exit(127);
  }
  return std::unique_ptr<Process>(new Process(pid));
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait_for_exit(30s);
  }
}

bool Process::running() {
  if (exit_status_) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) {
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  } else {
    exit_status_ = -1000;  // not our child any more; treat as gone
  }
  return false;
}

void Process::signal(int signal_number) {
  if (running()) ::kill(pid_, signal_number);
}

std::optional<int> Process::wait_for_exit(std::chrono::milliseconds timeout) {
  poll_until([this] { return !running(); }, timeout);
  return exit_status_;
}

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  testing::TempDir dir;
  const fs::path log = dir.path() / "output.txt";
  CommandResult result;
  auto process = Process::spawn(argv, log);
  if (!process) return result;
  const auto status = process->wait_for_exit(timeout);
  result.exit_code = status ? *status : -1000;
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  result.output = text.str();
  return result;
}

void set_config(const fs::path& config_file, const std::string& section, const std::string& key,
                const std::string& value) {
  std::ifstream in(config_file);
  std::string line, current, out;
  bool done = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '[') current = line.substr(1, line.find(']') - 1);
    if (!done && current == section && line.rfind(key + " =", 0) == 0) {
      line = key + " = " + value;
      done = true;
    }
    out += line + "\n";
  }
  ASSERT_TRUE(done) << "no key " << section << "." << key << " in " << config_file;
  std::ofstream(config_file, std::ios::trunc) << out;
}

// ---- DevNode --------------------------------------------------------------------------------

DevNode::DevNode(const std::map<std::string, std::string>& config) {
  const auto init = run_command({ledgerd_path(), "init", "--home", home().string(), "--chain-id",
                                 "ledger-dev", "--dev-account"});
  EXPECT_EQ(init.exit_code, 0) << init.output;
  set_config(home() / "config.toml", "rpc", "listen", "\"127.0.0.1:0\"");
  // The p2p port too (default 26656): tests that run at the same time (ctest -j) must not
  // compete for one fixed port. A single validator has no peers to be found by it.
  set_config(home() / "config.toml", "p2p", "listen", "\"127.0.0.1:0\"");
  for (const auto& [dotted, value] : config) {
    const auto dot = dotted.find('.');
    set_config(home() / "config.toml", dotted.substr(0, dot), dotted.substr(dot + 1), value);
  }
  auto secret = storage::read_key_file(dev_key_file());
  EXPECT_TRUE(secret.is_ok()) << secret.status().to_string();
  if (secret.is_ok()) {
    auto signer = Signer::create(secret.value());
    LEDGER_ASSERT(signer.is_ok());
    dev_.emplace(std::move(signer).value());
  }
}

DevNode::~DevNode() {
  stub_.reset();
  process_.reset();  // SIGKILL if still running
}

void DevNode::start() {
  ASSERT_TRUE(process_ == nullptr || !process_->running()) << "already running";
  const fs::path address_file = home() / "rpc.address";
  fs::remove(address_file);  // a kill -9 leaves the previous one behind
  process_ =
      Process::spawn({ledgerd_path(), "start", "--home", home().string()}, home() / "ledgerd.log");
  ASSERT_NE(process_, nullptr);
  ASSERT_TRUE(poll_until([&] { return fs::exists(address_file) || !process_->running(); }, 60s))
      << "no rpc.address after 60 s\n"
      << log();
  ASSERT_TRUE(process_->running()) << "ledgerd exited\n" << log();
  std::ifstream in(address_file);
  std::getline(in, address_);
  ASSERT_FALSE(address_.empty());
  stub_ = ledger::v1::Ledger::NewStub(
      grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  const bool up = poll_until(
      [&] {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + 1s);
        ledger::v1::GetStatusResponse response;
        return stub_->GetStatus(&context, {}, &response).ok();
      },
      30s);
  ASSERT_TRUE(up) << "GetStatus never answered\n" << log();
}

int DevNode::stop() {
  if (!process_) return -1;
  process_->signal(SIGTERM);
  const auto status = process_->wait_for_exit(60s);
  EXPECT_TRUE(status.has_value()) << "ledgerd did not exit within 60 s of SIGTERM\n" << log();
  process_.reset();
  stub_.reset();
  return status.value_or(-1000);
}

void DevNode::kill9() {
  if (!process_) return;
  process_->signal(SIGKILL);
  process_->wait_for_exit(30s);
  process_.reset();
  stub_.reset();
}

std::string DevNode::log() const {
  std::ifstream in(home() / "ledgerd.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

SignedTransfer DevNode::transfer(const Signer& from, std::uint64_t nonce, const Address& to,
                                 std::uint64_t amount, const std::string& memo) const {
  Transfer t;
  t.chain_id = chain_id();
  t.sender = from.public_key();
  t.nonce = nonce;
  t.recipient = to;
  t.amount = amount;
  t.memo.assign(memo.begin(), memo.end());
  return sign_transfer(t, from);
}

grpc::Status DevNode::submit(const SignedTransfer& tx, bool wait_for_commit,
                             ledger::v1::SubmitTransactionResponse* response,
                             std::chrono::milliseconds deadline) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  ledger::v1::SubmitTransactionRequest request;
  const Bytes wire = encode_transaction(tx);
  request.set_transaction(std::string(wire.begin(), wire.end()));
  request.set_wait_for_commit(wait_for_commit);
  ledger::v1::SubmitTransactionResponse ignored;
  return stub().SubmitTransaction(&context, request, response ? response : &ignored);
}

grpc::Status DevNode::submit_raw(const std::string& bytes,
                                 ledger::v1::SubmitTransactionResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  ledger::v1::SubmitTransactionRequest request;
  request.set_transaction(bytes);
  return stub().SubmitTransaction(&context, request, response);
}

ledger::v1::GetAccountResponse DevNode::account(const Address& address) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  ledger::v1::GetAccountRequest request;
  request.set_address(to_hex(address.bytes));
  ledger::v1::GetAccountResponse response;
  const auto status = stub().GetAccount(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

std::uint64_t DevNode::height() {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  ledger::v1::GetStatusResponse response;
  const auto status = stub().GetStatus(&context, {}, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.latest_height();
}

bool DevNode::wait_for_height(std::uint64_t height, std::chrono::milliseconds timeout) {
  return poll_until([&] { return this->height() >= height; }, timeout);
}

}  // namespace ledger::itest
