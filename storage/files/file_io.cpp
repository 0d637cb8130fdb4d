#include "ledger/storage/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ledger::storage {

Status errno_status(const std::filesystem::path& path, const std::string& what) {
  return Status::io_error(path.string() + ": " + what + ": " + std::strerror(errno));
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

TempFileGuard::~TempFileGuard() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

Status write_all(int fd, std::string_view text, const std::filesystem::path& path) {
  std::size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(path, "cannot write");
    }
    written += static_cast<std::size_t>(n);
  }
  return Status::ok();
}

Status sync_directory(const std::filesystem::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return errno_status(dir, "cannot open directory to sync it");
  if (::fsync(fd.get()) != 0) return errno_status(dir, "cannot sync directory");
  return Status::ok();
}

std::filesystem::path parent_directory(const std::filesystem::path& path) {
  return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

Status write_file_atomically(const std::filesystem::path& path, std::string_view text,
                             mode_t mode) {
  if (!path.has_filename()) return Status::invalid_argument(path.string() + ": names no file");
  const std::filesystem::path dir = parent_directory(path);
  std::string temp = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  Fd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (fd.get() < 0) return errno_status(temp, "cannot create temporary file");
  TempFileGuard guard(temp);
  if (::fchmod(fd.get(), mode) != 0) return errno_status(temp, "cannot chmod");
  LEDGER_RETURN_IF_ERROR(write_all(fd.get(), text, temp));
  if (::fsync(fd.get()) != 0) return errno_status(temp, "cannot sync");
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return errno_status(path, "cannot rename " + temp + " onto it");
  }
  guard.release();
  return sync_directory(dir);
}

}  // namespace ledger::storage
