// Named keys: the keys directory of ledgerctl (one key file per name, docs/key-file.md), and how
// a --key / --from / --to argument names a key or an address.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/core/keys.h"
#include "ledger/core/status.h"

namespace ledger::ctl {

// A key name is 1..64 characters of [A-Za-z0-9._-], not starting with '.'; it is stored as
// <keys-dir>/<name>.json.
inline constexpr std::size_t kKeyNameBytesMax = 64;
Status validate_key_name(std::string_view name);

std::filesystem::path key_path(const std::filesystem::path& keys_dir, std::string_view name);

// A key argument resolved to a file and the secret read from it.
struct LoadedKey {
  std::filesystem::path path;
  SecretKey secret;
};

// Resolves `argument` to a key file: a path if it contains '/', else the named key in
// `keys_dir` if it exists, else a file of that name in the current directory. Errors:
// kNotFound naming both places looked in; read_key_file's errors (mode, format) otherwise.
StatusOr<LoadedKey> load_key(std::string_view argument, const std::filesystem::path& keys_dir);

// An address argument: 64 lowercase hex characters, or a key (as load_key resolves it) whose
// public key is used. kInvalidArgument if it is neither.
StatusOr<Address> resolve_address(std::string_view argument, const std::filesystem::path& keys_dir);

// Creates a fresh key named `name` in `keys_dir` (the directory is created mode 0700 if
// missing). kAlreadyExists if the name is taken; kInvalidArgument for a bad name; kIoError.
StatusOr<LoadedKey> create_key(std::string_view name, const std::filesystem::path& keys_dir);

struct KeyEntry {
  std::string name;
  std::filesystem::path path;
  std::string address;  // empty if the file could not be read
  std::string error;    // why it could not be read
};

// Every *.json file of `keys_dir`, sorted by name. A missing directory is an empty list.
StatusOr<std::vector<KeyEntry>> list_keys(const std::filesystem::path& keys_dir);

// The public key (address) of `secret`.
StatusOr<Address> address_of(const SecretKey& secret);

}  // namespace ledger::ctl
