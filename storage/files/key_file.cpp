#include "ledger/storage/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "ledger/storage/file_io.h"

namespace ledger::storage {

// Writes a temporary file beside `path` (mode 0600, fsynced), then renames it into place and
// syncs the directory: a crash at any instant leaves either the old key or the new one.
Status write_key_file(const std::filesystem::path& path, const SecretKey& secret, bool overwrite) {
  auto signer = Signer::create(secret);
  if (!signer.is_ok()) return signer.status();
  nlohmann::ordered_json doc;
  doc["type"] = kKeyFileType;
  doc["secret_key"] = secret.hex();
  doc["public_key"] = signer->public_key().hex();
  std::string text = doc.dump(2) + "\n";

  std::error_code ec;
  if (!overwrite && std::filesystem::exists(path, ec)) {
    return Status::already_exists("key file " + path.string() + " already exists");
  }
  std::filesystem::path temp = path;
  temp += ".tmp";
  Status status = [&]() -> Status {
    Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.get() < 0) return errno_status(temp, "cannot create key file");
    // A stale temporary file keeps its old mode when reopened; narrow it.
    if (::fchmod(fd.get(), 0600) != 0) return errno_status(temp, "cannot chmod key file");
    LEDGER_RETURN_IF_ERROR(write_all(fd.get(), text, temp));
    if (::fsync(fd.get()) != 0) return errno_status(temp, "cannot sync key file");
    return Status::ok();
  }();
  std::memset(text.data(), 0, text.size());
  if (status.is_ok() && !overwrite) {
    // link(2) fails if `path` appeared meanwhile: never replace a key that was not asked for.
    if (::link(temp.c_str(), path.c_str()) != 0) {
      status = errno == EEXIST
                   ? Status::already_exists("key file " + path.string() + " already exists")
                   : errno_status(path, "cannot create key file");
    }
    ::unlink(temp.c_str());
  } else if (status.is_ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = errno_status(path, "cannot replace key file");
  }
  if (!status.is_ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  return sync_directory(parent_directory(path));
}

StatusOr<SecretKey> read_key_file(const std::filesystem::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Status::not_found("key file " + path.string() + " does not exist");
    return errno_status(path, "cannot open key file");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno_status(path, "cannot stat key file");
  if (!S_ISREG(st.st_mode)) {
    return Status::invalid_argument("key file " + path.string() + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    return Status::failed_precondition("key file " + path.string() +
                                       " is accessible by group or others; run: chmod 600 " +
                                       path.string());
  }
  if (st.st_size > static_cast<off_t>(kKeyFileBytesMax)) {
    return Status::invalid_argument("key file " + path.string() + " is larger than " +
                                    std::to_string(kKeyFileBytesMax) + " bytes");
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(path, "cannot read key file");
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);

  const std::string where = "key file " + path.string() + ": ";
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::memset(text.data(), 0, text.size());
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::invalid_argument(where + "not a JSON object");
  }
  auto field = [&](const char* name) -> StatusOr<std::string> {
    auto it = doc.find(name);
    if (it == doc.end() || !it->is_string()) {
      return Status::invalid_argument(where + "field '" + name + "' is missing or not a string");
    }
    return it->get<std::string>();
  };
  LEDGER_ASSIGN_OR_RETURN(std::string type, field("type"));
  if (type != kKeyFileType) {
    return Status::invalid_argument(where + "unknown type '" + type + "', expected '" +
                                    std::string(kKeyFileType) + "'");
  }
  LEDGER_ASSIGN_OR_RETURN(std::string secret_hex, field("secret_key"));
  LEDGER_ASSIGN_OR_RETURN(std::string public_hex, field("public_key"));
  auto secret = SecretKey::from_hex(secret_hex);
  std::memset(secret_hex.data(), 0, secret_hex.size());
  if (!secret.is_ok()) return secret.status().with_context(where + "secret_key");
  auto signer = Signer::create(*secret);
  if (!signer.is_ok()) return signer.status();
  if (signer->public_key().hex() != public_hex) {
    return Status::invalid_argument(where + "public_key does not match secret_key");
  }
  return std::move(secret).value();
}

}  // namespace ledger::storage
