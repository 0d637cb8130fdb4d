// Shutdown of a real ledgerd process: a client that has seen the node's RPC address may stop it
// with SIGTERM at once, and the node must shut down cleanly (exit 0), not die of the signal.
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstring>
#include <string>

#include "harness.h"

namespace ledger::itest {
namespace {

namespace fs = std::filesystem;

// Watches a directory for a file that appears under one name (created, or renamed into it).
class FileWatch {
 public:
  FileWatch(const fs::path& dir, std::string name) : name_(std::move(name)) {
    fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ >= 0) ::inotify_add_watch(fd_, dir.c_str(), IN_MOVED_TO | IN_CREATE);
  }
  ~FileWatch() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileWatch(const FileWatch&) = delete;
  FileWatch& operator=(const FileWatch&) = delete;

  bool ok() const { return fd_ >= 0; }

  // Blocks until an event names the file (true) or `timeout` passes (false), so that the
  // caller acts within microseconds of the file appearing.
  bool wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (appeared()) return true;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 100)));
    }
  }

 private:
  // True once an event names the file; reads every pending event.
  bool appeared() {
    alignas(inotify_event) std::array<char, 4096> buffer{};
    for (;;) {
      const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
      if (n <= 0) return false;
      for (ssize_t offset = 0; offset < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer.data() + offset);
        if (event->len > 0 && name_ == event->name) return true;
        offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      }
    }
  }

  int fd_ = -1;
  std::string name_;
};

// The RPC address file is written (renamed into place, then the directory synced) while the
// node starts. A SIGTERM sent the instant it appears must find the node's handler installed:
// before the fix the handlers were installed after the file was written, and the default action
// of SIGTERM killed the process (exit status -15). The test blocks on an inotify watch so that the
// signal lands within microseconds of the rename, inside that window.
TEST(Shutdown, SigtermAsSoonAsTheRpcAddressAppears_ExitsCleanly) {
  DevNode node;
  for (int attempt = 0; attempt < 3; ++attempt) {
    FileWatch watch(node.home(), "rpc.address");
    ASSERT_TRUE(watch.ok()) << std::strerror(errno);
    fs::remove(node.home() / "rpc.address");
    auto process = Process::spawn({ledgerd_path(), "start", "--home", node.home().string()},
                                  node.home() / "ledgerd.log");
    ASSERT_NE(process, nullptr);
    ASSERT_TRUE(watch.wait(60s)) << "no rpc.address after 60 s\n" << node.log();
    ASSERT_TRUE(process->running()) << "ledgerd exited before writing its address\n" << node.log();
    process->signal(SIGTERM);
    const auto status = process->wait_for_exit(60s);
    ASSERT_TRUE(status.has_value()) << "ledgerd did not exit within 60 s of SIGTERM";
    EXPECT_EQ(*status, 0) << "attempt " << attempt << " (-15: killed by SIGTERM)\n" << node.log();
  }
}

}  // namespace
}  // namespace ledger::itest
