// Direct access to a closed store's RocksDB directory, to damage it the way a disk fault or an
// operator's tool would. Test-only; failures are reported as GoogleTest failures.
#pragma once

#include <cstdint>
#include <string>

namespace ledger::testing {

// Big-endian keys as the RocksDB store writes them.
std::string be_u64(std::uint64_t value);
std::string be_u32(std::uint32_t value);

// Opens the directory with every column family it has, writes or reads one value, closes it.
void raw_put(const std::string& path, const std::string& column, const std::string& key,
             const std::string& value);
void raw_get(const std::string& path, const std::string& column, const std::string& key,
             std::string& value);

}  // namespace ledger::testing
