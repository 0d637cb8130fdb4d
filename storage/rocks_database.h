// The one RocksDB instance of a node, its column families, and the byte codecs of its keys.
// Private to storage/: RocksChainStore, RocksSafetyStore and RocksTreeStore share one Database,
// and no RocksDB type leaves storage/ (include/ledger/ never includes a RocksDB header).
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/core/bytes.h"
#include "ledger/core/status.h"

namespace ledger::storage::detail {

// The column families (DESIGN.md section 5). Their names are part of the on-disk format.
enum class Column : std::size_t {
  kBlocks,       // height (u64 BE) -> encode_block; append-only
  kBlockIds,     // block id -> height (u64 BE)
  kTxIndex,      // transaction hash -> height (u64 BE) || index (u32 BE)
  kCommitCerts,  // height (u64 BE) -> encode_qc
  kResults,      // height (u64 BE) -> encode_block_results
  kAccounts,     // address -> encode_account; empty accounts are absent
  kSafety,       // kSafetyKey -> encode_safety_data
  kTree,         // block id (32 bytes) -> encode_block; kTreeHighQcKey, kTreeHighTcKey
  kMeta,         // the kMeta*Key keys below
};
inline constexpr std::size_t kColumnCount = 9;
std::string_view column_name(Column column);

inline constexpr std::string_view kMetaChainIdKey = "chain_id";               // the chain id
inline constexpr std::string_view kMetaSchemaVersionKey = "schema_version";   // u32 BE
inline constexpr std::string_view kMetaTipHeightKey = "tip_height";           // u64 BE
inline constexpr std::string_view kMetaTipIdKey = "tip_id";                   // 32 bytes
inline constexpr std::string_view kMetaAccumulatorKey = "state_accumulator";  // encode()
// first_height (u64 BE) || b0_id (32 bytes) || b0_round (u64 BE); absent when no hold.
inline constexpr std::string_view kMetaPublicationHoldKey = "publication_hold";
inline constexpr std::string_view kSafetyKey = "safety_data";
// In the tree column family beside the 32-byte block ids; shorter, so they never collide.
inline constexpr std::string_view kTreeHighQcKey = "high_qc";  // encode_qc
inline constexpr std::string_view kTreeHighTcKey = "high_tc";  // encode_tc

struct DatabaseOptions {
  bool create_if_missing = true;  // also creates missing column families
  bool paranoid_checks = true;
};

// kCorruption for a RocksDB corruption, kIoError for anything else; the message is
// "<context>: <RocksDB's message>".
Status from_rocks(const rocksdb::Status& status, std::string_view context);

// Owns the DB and its column family handles. Thread-safe as RocksDB is: concurrent reads and
// writes are fine, once create_missing_columns() has returned.
class Database {
 public:
  // A new database (when options.create_if_missing) gets every column family. An existing one
  // is opened with the column families it has, and no others: a database written by another
  // schema must be refused unchanged (a column family added here would stop the build that
  // wrote it from opening it again). The caller checks the metadata, then calls
  // create_missing_columns() before using any other column.
  static StatusOr<std::unique_ptr<Database>> open(const std::string& path,
                                                  const DatabaseOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // The value at `key`, or nullopt when absent. `what` names the key in error messages.
  StatusOr<std::optional<std::string>> get(Column column, std::string_view key,
                                           std::string_view what) const;
  // Calls `read` with a view of the value at `key`, pinned in RocksDB's cache instead of copied
  // (for reading part of a large value); returns whether the key was there, or `read`'s error.
  StatusOr<bool> read_pinned(Column column, std::string_view key, std::string_view what,
                             const std::function<Status(ByteView)>& read) const;
  // Writes `batch` atomically with WriteOptions::sync, so it is durable when this returns ok.
  Status write(rocksdb::WriteBatch& batch, std::string_view what);
  // A new iterator over `column` (it pins an implicit snapshot).
  std::unique_ptr<rocksdb::Iterator> iterator(Column column) const;
  // Asserts has_column(column).
  rocksdb::ColumnFamilyHandle* handle(Column column) const;

  bool has_column(Column column) const;
  // The names of the column families of Column that the database does not have, in Column order.
  std::vector<std::string_view> missing_columns() const;
  // Creates every missing column family; kIoError (or kCorruption) with RocksDB's message.
  Status create_missing_columns();

 private:
  Database(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> opened);

  std::unique_ptr<rocksdb::DB> db_;  // never null
  // Every handle RocksDB returned (ours and any other column family the database has); owned,
  // destroyed on close.
  std::vector<rocksdb::ColumnFamilyHandle*> opened_;
  // Indexed by Column; null for a column family the database does not have (yet).
  std::array<rocksdb::ColumnFamilyHandle*, kColumnCount> columns_{};
};

// Collects the puts and deletes of one commit; remembers the first error RocksDB reports.
class BatchBuilder {
 public:
  explicit BatchBuilder(const Database& db) : db_(db) {}
  void put(Column column, std::string_view key, ByteView value);
  void remove(Column column, std::string_view key);
  const Status& status() const { return status_; }
  rocksdb::WriteBatch& batch() { return batch_; }

 private:
  const Database& db_;
  rocksdb::WriteBatch batch_;
  Status status_;
};

// Keys and fixed-width values are big-endian so that height keys sort in numeric order.
std::string u64_bytes(std::uint64_t value);
std::string u32_bytes(std::uint32_t value);
template <std::size_t N>
std::string array_key(const std::array<std::uint8_t, N>& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), N);
}
ByteView as_view(std::string_view bytes);
// kCorruption naming `what` unless `bytes` is exactly 8 (or 4) bytes.
StatusOr<std::uint64_t> decode_u64(std::string_view bytes, std::string_view what);
StatusOr<std::uint32_t> decode_u32(std::string_view bytes, std::string_view what);

}  // namespace ledger::storage::detail
