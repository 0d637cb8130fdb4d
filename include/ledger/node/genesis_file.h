// Genesis files: the genesis document (core/genesis.h) as it is kept on disk, genesis.json.
#pragma once

#include <cstdint>
#include <filesystem>

#include "ledger/core/genesis.h"

namespace ledger::node {

// A genesis file larger than this is refused before it is read. As genesis_to_json writes it
// (about 140 bytes per account) this holds roughly 480,000 accounts, more than
// kGenesisAccountsMax, so every valid document fits; write_genesis_file still checks.
inline constexpr std::uintmax_t kGenesisFileBytesMax = 64 * 1024 * 1024;

// Reads and validates the genesis file at `path`. Every error message starts with the path.
// kNotFound if it does not exist; kInvalidArgument if it is not a regular file, is larger than
// kGenesisFileBytesMax, or does not parse (the message names the field, see parse_genesis);
// kIoError naming the errno text if the system fails. Thread-safe (touches no shared state).
StatusOr<Genesis> load_genesis_file(const std::filesystem::path& path);

// Writes `genesis` to `path` atomically: the JSON goes to a temporary file in the same
// directory, is fsynced, renamed over `path`, and the directory is fsynced, so a crash leaves
// either the old file or the new one. Overwrites an existing file. The file is world-readable
// (mode 0644): a genesis document is public. kInvalidArgument if `genesis` would not load back
// (it is validated first, and its JSON must fit kGenesisFileBytesMax); kIoError naming the path
// and errno text on any system failure.
Status write_genesis_file(const std::filesystem::path& path, const Genesis& genesis);

}  // namespace ledger::node
