#include "ledger/node/genesis_file.h"

#include "ledger/storage/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace ledger::node {
namespace {

// Reads to the end of `fd`, failing once more than `bytes_max` bytes arrive (the file may
// have grown since it was measured), so memory stays bounded by the limit.
StatusOr<std::string> read_bounded(int fd, const std::filesystem::path& path, std::size_t size_hint,
                                   std::size_t bytes_max) {
  std::string text;
  text.reserve(size_hint);
  char chunk[64 * 1024];
  while (true) {
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      return storage::errno_status(path, "cannot read genesis file");
    }
    if (n == 0) return text;
    if (text.size() + static_cast<std::size_t>(n) > bytes_max) {
      return Status::invalid_argument(path.string() + ": genesis file grew past " +
                                      std::to_string(bytes_max) + " bytes while being read");
    }
    text.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace

StatusOr<Genesis> load_genesis_file(const std::filesystem::path& path) {
  storage::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Status::not_found(path.string() + ": genesis file does not exist");
    return storage::errno_status(path, "cannot open genesis file");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return storage::errno_status(path, "cannot stat genesis file");
  if (!S_ISREG(st.st_mode)) {
    return Status::invalid_argument(path.string() + ": genesis file is not a regular file");
  }
  if (static_cast<std::uintmax_t>(st.st_size) > kGenesisFileBytesMax) {
    return Status::invalid_argument(path.string() + ": genesis file is " +
                                    std::to_string(st.st_size) + " bytes, the limit is " +
                                    std::to_string(kGenesisFileBytesMax));
  }
  LEDGER_ASSIGN_OR_RETURN(
      std::string text,
      read_bounded(fd.get(), path, static_cast<std::size_t>(st.st_size), kGenesisFileBytesMax));
  auto genesis = parse_genesis(text);
  if (!genesis.is_ok()) return genesis.status().with_context(path.string());
  return genesis;
}

Status write_genesis_file(const std::filesystem::path& path, const Genesis& genesis) {
  if (!path.has_filename()) {
    return Status::invalid_argument(path.string() + ": genesis file path names no file");
  }
  std::string text = genesis_to_json(genesis);
  if (text.size() > kGenesisFileBytesMax) {
    return Status::invalid_argument(path.string() + ": refusing to write: the genesis JSON is " +
                                    std::to_string(text.size()) + " bytes, over the " +
                                    std::to_string(kGenesisFileBytesMax) +
                                    "-byte limit that load_genesis_file enforces");
  }
  auto reloaded = parse_genesis(text);
  if (!reloaded.is_ok()) {
    return reloaded.status().with_context(path.string() + ": refusing to write");
  }
  const std::filesystem::path dir = storage::parent_directory(path);
  std::string temp = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  storage::Fd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (fd.get() < 0) return storage::errno_status(temp, "cannot create temporary genesis file");
  storage::TempFileGuard guard(temp);
  if (::fchmod(fd.get(), 0644) != 0) return storage::errno_status(temp, "cannot chmod");
  LEDGER_RETURN_IF_ERROR(storage::write_all(fd.get(), text, temp));
  if (::fsync(fd.get()) != 0) return storage::errno_status(temp, "cannot sync");
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return storage::errno_status(path, "cannot rename " + temp + " onto it");
  }
  guard.release();
  return storage::sync_directory(dir);
}

}  // namespace ledger::node
