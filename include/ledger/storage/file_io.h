// POSIX file helpers for the files ledgerd keeps outside RocksDB (key files, genesis, config,
// the RPC address, the signing mark): library ledger_files (storage/files/), which links no
// RocksDB, so that ledgerctl can use it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "ledger/core/status.h"

namespace ledger::storage {

// kIoError "<path>: <what>: <strerror(errno)>". Call right after the failing system call.
Status errno_status(const std::filesystem::path& path, const std::string& what);

// Owns a file descriptor; closes it on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Removes a temporary file on scope exit unless release() was called (it was renamed away).
class TempFileGuard {
 public:
  explicit TempFileGuard(std::filesystem::path path) : path_(std::move(path)) {}
  ~TempFileGuard();
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  void release() { path_.clear(); }

 private:
  std::filesystem::path path_;
};

// Writes all of `text` to `fd`, retrying short writes and EINTR.
Status write_all(int fd, std::string_view text, const std::filesystem::path& path);

// fsyncs directory `dir`, making a completed create or rename in it durable.
Status sync_directory(const std::filesystem::path& dir);

// The directory that holds `path` ("." for a bare file name).
std::filesystem::path parent_directory(const std::filesystem::path& path);

// Writes `text` to `path` atomically: a temporary file beside it (mode `mode`), fsync, rename
// over `path`, fsync of the directory; a crash leaves the old file or the new one. kIoError
// naming the path on system failure.
Status write_file_atomically(const std::filesystem::path& path, std::string_view text, mode_t mode);

}  // namespace ledger::storage
