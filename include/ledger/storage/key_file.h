// Key files: how a secret key is kept on disk (docs/key-file.md).
//
// Format: a JSON object
//   {"type": "ledgerd-bip340-secret-key", "secret_key": "<64 hex>", "public_key": "<64 hex>"}
// written with mode 0600 (created so, never widened). Reading refuses a file that group or
// others can read or write, a public key that does not match the secret key, and unknown types.
#pragma once

#include <filesystem>

#include "ledger/core/keys.h"

namespace ledger::storage {

inline constexpr std::string_view kKeyFileType = "ledgerd-bip340-secret-key";
inline constexpr std::size_t kKeyFileBytesMax = 4096;

// Writes `secret` to `path` atomically (temporary file, fsync, rename, directory fsync), mode
// 0600. kAlreadyExists if the file exists and
// `overwrite` is false; kIoError naming the path and errno text on any system failure.
Status write_key_file(const std::filesystem::path& path, const SecretKey& secret,
                      bool overwrite = false);

// kNotFound if absent; kFailedPrecondition if its mode lets group/others in (the message says
// "chmod 600 <path>"); kInvalidArgument if the content is malformed (naming the field).
StatusOr<SecretKey> read_key_file(const std::filesystem::path& path);

}  // namespace ledger::storage
