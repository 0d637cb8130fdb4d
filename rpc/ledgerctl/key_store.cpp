#include "key_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "ledger/storage/key_file.h"

namespace ledger::ctl {

namespace fs = std::filesystem;

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool is_lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

StatusOr<LoadedKey> read_key(const fs::path& path) {
  auto secret = storage::read_key_file(path);
  if (!secret.is_ok()) return secret.status();
  return LoadedKey{path, std::move(secret).value()};
}

// mkdir -p with mode 0700 for the directories it creates: a keys directory holds secrets.
Status make_private_directories(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return Status::ok();
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    LEDGER_RETURN_IF_ERROR(make_private_directories(dir.parent_path()));
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::io_error("cannot create keys directory " + dir.string() + ": " +
                            std::strerror(errno));
  }
  return Status::ok();
}

}  // namespace

Status validate_key_name(std::string_view name) {
  if (name.empty() || name.size() > kKeyNameBytesMax) {
    return Status::invalid_argument("key name must be 1 to " + std::to_string(kKeyNameBytesMax) +
                                    " characters");
  }
  if (name.front() == '.') {
    return Status::invalid_argument("key name '" + std::string(name) + "' must not start with '.'");
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!is_name_char(name[i])) {
      return Status::invalid_argument("key name '" + std::string(name) + "' has '" +
                                      std::string(1, name[i]) + "' at position " +
                                      std::to_string(i) + "; use only [A-Za-z0-9._-]");
    }
  }
  return Status::ok();
}

fs::path key_path(const fs::path& keys_dir, std::string_view name) {
  return keys_dir / (std::string(name) + ".json");
}

StatusOr<LoadedKey> load_key(std::string_view argument, const fs::path& keys_dir) {
  if (argument.empty()) return Status::invalid_argument("key must not be empty");
  if (argument.find('/') != std::string_view::npos) return read_key(fs::path(argument));
  std::error_code ec;
  if (validate_key_name(argument).is_ok()) {
    fs::path named = key_path(keys_dir, argument);
    if (fs::exists(named, ec)) return read_key(named);
  }
  fs::path local(argument);
  if (fs::exists(local, ec)) return read_key(local);
  return Status::not_found("no key named '" + std::string(argument) + "' in " + keys_dir.string() +
                           " and no file ./" + std::string(argument) +
                           " (create one with: ledgerctl keys new " + std::string(argument) + ")");
}

StatusOr<Address> resolve_address(std::string_view argument, const fs::path& keys_dir) {
  if (argument.size() == 2 * PublicKey::kSize && is_lower_hex(argument)) {
    auto address = PublicKey::from_hex(argument);
    if (!address.is_ok()) {
      return Status::invalid_argument("'" + std::string(argument) +
                                      "' is not a valid address: " + address.status().message());
    }
    return address;
  }
  auto key = load_key(argument, keys_dir);
  if (!key.is_ok()) {
    if (key.status().code() != StatusCode::kNotFound) return key.status();
    return Status::invalid_argument("'" + std::string(argument) +
                                    "' is neither an address (64 lowercase hex characters) nor a "
                                    "key name in " +
                                    keys_dir.string());
  }
  return address_of(key->secret);
}

StatusOr<LoadedKey> create_key(std::string_view name, const fs::path& keys_dir) {
  LEDGER_RETURN_IF_ERROR(validate_key_name(name));
  LEDGER_RETURN_IF_ERROR(make_private_directories(keys_dir));
  fs::path path = key_path(keys_dir, name);
  LEDGER_ASSIGN_OR_RETURN(SecretKey secret, SecretKey::generate());
  LEDGER_RETURN_IF_ERROR(storage::write_key_file(path, secret, /*overwrite=*/false));
  return LoadedKey{path, std::move(secret)};
}

StatusOr<std::vector<KeyEntry>> list_keys(const fs::path& keys_dir) {
  std::vector<KeyEntry> keys;
  std::error_code ec;
  if (!fs::exists(keys_dir, ec)) return keys;
  fs::directory_iterator it(keys_dir, ec);
  if (ec) {
    return Status::io_error("cannot list keys directory " + keys_dir.string() + ": " +
                            ec.message());
  }
  for (const fs::directory_entry& entry : it) {
    const fs::path& path = entry.path();
    if (path.extension() != ".json") continue;
    std::string name = path.stem().string();
    if (!validate_key_name(name).is_ok()) continue;  // not created by ledgerctl (e.g. ".json")
    KeyEntry key{name, path, "", ""};
    auto loaded = read_key(path);
    if (loaded.is_ok()) {
      auto address = address_of(loaded->secret);
      if (address.is_ok()) {
        key.address = address->hex();
      } else {
        key.error = address.status().message();
      }
    } else {
      key.error = loaded.status().message();
    }
    keys.push_back(std::move(key));
  }
  std::sort(keys.begin(), keys.end(),
            [](const KeyEntry& a, const KeyEntry& b) { return a.name < b.name; });
  return keys;
}

StatusOr<Address> address_of(const SecretKey& secret) {
  LEDGER_ASSIGN_OR_RETURN(Signer signer, Signer::create(secret));
  return signer.public_key();
}

}  // namespace ledger::ctl
