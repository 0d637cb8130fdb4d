#include "rocks_database.h"

#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include <algorithm>

#include "ledger/core/assert.h"

namespace ledger::storage::detail {
namespace {

// Bloom filter bits per key: the commit path probes the transaction index for every included
// transaction, and most probes miss.
constexpr double kBloomBitsPerKey = 10.0;

constexpr std::array<std::string_view, kColumnCount> kColumnNames = {
    "blocks",   "block_ids", "tx_index", "commit_certs", "results",
    "accounts", "safety",    "tree",     "meta",
};

rocksdb::ColumnFamilyOptions column_options() {
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(kBloomBitsPerKey));
  rocksdb::ColumnFamilyOptions options;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

// The column families to open at `path`: those the database has (so an existing database is
// opened unchanged, whatever its schema), or all of ours for a database that does not exist yet.
std::vector<rocksdb::ColumnFamilyDescriptor> column_descriptors(const std::string& path) {
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok()) {
    // No database there (or an unreadable one, which DB::Open then reports).
    names.assign(1, rocksdb::kDefaultColumnFamilyName);
    for (std::string_view name : kColumnNames)
      names.emplace_back(name);
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> out;
  for (const std::string& name : names)
    out.emplace_back(name, column_options());
  return out;
}

rocksdb::Slice as_slice(std::string_view bytes) {
  return {bytes.data(), bytes.size()};
}

}  // namespace

std::string_view column_name(Column column) {
  const auto index = static_cast<std::size_t>(column);
  LEDGER_ASSERT(index < kColumnCount);
  return kColumnNames[index];
}

Status from_rocks(const rocksdb::Status& status, std::string_view context) {
  LEDGER_ASSERT(!status.ok());
  std::string message = std::string(context) + ": " + status.ToString();
  if (status.IsCorruption()) return Status::corruption(std::move(message));
  return Status::io_error(std::move(message));
}

StatusOr<std::unique_ptr<Database>> Database::open(const std::string& path,
                                                   const DatabaseOptions& options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  // Only a new database gets column families here; see create_missing_columns().
  db_options.create_missing_column_families = options.create_if_missing;
  db_options.paranoid_checks = options.paranoid_checks;
  const std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = column_descriptors(path);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(db_options, path, descriptors, &handles, &raw);
  if (!status.ok()) return from_rocks(status, "open RocksDB at " + path);
  LEDGER_ASSERT(raw != nullptr && handles.size() == descriptors.size());
  return std::unique_ptr<Database>(
      new Database(std::unique_ptr<rocksdb::DB>(raw), std::move(handles)));
}

Database::Database(std::unique_ptr<rocksdb::DB> db,
                   std::vector<rocksdb::ColumnFamilyHandle*> opened)
    : db_(std::move(db)), opened_(std::move(opened)) {
  for (rocksdb::ColumnFamilyHandle* handle : opened_) {
    LEDGER_ASSERT(handle != nullptr);
    auto it = std::find(kColumnNames.begin(), kColumnNames.end(), handle->GetName());
    if (it != kColumnNames.end())
      columns_[static_cast<std::size_t>(it - kColumnNames.begin())] = handle;
  }
}

Database::~Database() {
  for (rocksdb::ColumnFamilyHandle* handle : opened_) {
    // Only fails for a null handle; nothing useful to do with an error while closing.
    db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  db_->Close().PermitUncheckedError();
}

rocksdb::ColumnFamilyHandle* Database::handle(Column column) const {
  const auto index = static_cast<std::size_t>(column);
  LEDGER_ASSERT(index < kColumnCount && columns_[index] != nullptr);
  return columns_[index];
}

bool Database::has_column(Column column) const {
  const auto index = static_cast<std::size_t>(column);
  LEDGER_ASSERT(index < kColumnCount);
  return columns_[index] != nullptr;
}

std::vector<std::string_view> Database::missing_columns() const {
  std::vector<std::string_view> missing;
  for (std::size_t i = 0; i < kColumnCount; ++i) {
    if (columns_[i] == nullptr) missing.push_back(kColumnNames[i]);
  }
  return missing;
}

Status Database::create_missing_columns() {
  for (std::size_t i = 0; i < kColumnCount; ++i) {
    if (columns_[i] != nullptr) continue;
    const std::string name(kColumnNames[i]);
    rocksdb::ColumnFamilyHandle* handle = nullptr;
    rocksdb::Status status = db_->CreateColumnFamily(column_options(), name, &handle);
    if (!status.ok()) return from_rocks(status, "create column family " + name);
    LEDGER_ASSERT(handle != nullptr);
    opened_.push_back(handle);
    columns_[i] = handle;
  }
  return Status::ok();
}

StatusOr<std::optional<std::string>> Database::get(Column column, std::string_view key,
                                                   std::string_view what) const {
  std::string value;
  rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), handle(column), as_slice(key), &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (!status.ok()) {
    return from_rocks(status, "read " + std::string(what) + " from column family " +
                                  std::string(column_name(column)));
  }
  return std::optional<std::string>(std::move(value));
}

StatusOr<bool> Database::read_pinned(Column column, std::string_view key, std::string_view what,
                                     const std::function<Status(ByteView)>& read) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), handle(column), as_slice(key), &value);
  if (status.IsNotFound()) return false;
  if (!status.ok()) {
    return from_rocks(status, "read " + std::string(what) + " from column family " +
                                  std::string(column_name(column)));
  }
  LEDGER_RETURN_IF_ERROR(
      read(ByteView(reinterpret_cast<const std::uint8_t*>(value.data()), value.size())));
  return true;
}

Status Database::write(rocksdb::WriteBatch& batch, std::string_view what) {
  rocksdb::WriteOptions options;
  options.sync = true;
  rocksdb::Status status = db_->Write(options, &batch);
  if (!status.ok()) return from_rocks(status, "write " + std::string(what));
  return Status::ok();
}

std::unique_ptr<rocksdb::Iterator> Database::iterator(Column column) const {
  return std::unique_ptr<rocksdb::Iterator>(
      db_->NewIterator(rocksdb::ReadOptions(), handle(column)));
}

void BatchBuilder::put(Column column, std::string_view key, ByteView value) {
  if (!status_.is_ok()) return;
  rocksdb::Slice value_slice(reinterpret_cast<const char*>(value.data()), value.size());
  rocksdb::Status status = batch_.Put(db_.handle(column), as_slice(key), value_slice);
  if (!status.ok())
    status_ = from_rocks(status, "batch put into " + std::string(column_name(column)));
}

void BatchBuilder::remove(Column column, std::string_view key) {
  if (!status_.is_ok()) return;
  rocksdb::Status status = batch_.Delete(db_.handle(column), as_slice(key));
  if (!status.ok()) {
    status_ = from_rocks(status, "batch delete from " + std::string(column_name(column)));
  }
}

std::string u64_bytes(std::uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

std::string u32_bytes(std::uint32_t value) {
  std::string out(4, '\0');
  for (int i = 3; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

ByteView as_view(std::string_view bytes) {
  return as_bytes(bytes);
}

StatusOr<std::uint64_t> decode_u64(std::string_view bytes, std::string_view what) {
  if (bytes.size() != 8) {
    return Status::corruption(std::string(what) + " is " + std::to_string(bytes.size()) +
                              " bytes, expected 8");
  }
  std::uint64_t value = 0;
  for (char c : bytes)
    value = (value << 8) | static_cast<std::uint8_t>(c);
  return value;
}

StatusOr<std::uint32_t> decode_u32(std::string_view bytes, std::string_view what) {
  if (bytes.size() != 4) {
    return Status::corruption(std::string(what) + " is " + std::to_string(bytes.size()) +
                              " bytes, expected 4");
  }
  std::uint32_t value = 0;
  for (char c : bytes)
    value = (value << 8) | static_cast<std::uint8_t>(c);
  return value;
}

}  // namespace ledger::storage::detail
