#include "support/raw_rocksdb.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace ledger::testing {
namespace {

// Opens the closed store's directory with every column family it has and runs `edit` on it.
void with_raw_db(
    const std::string& path,
    const std::function<void(rocksdb::DB&, std::map<std::string, rocksdb::ColumnFamilyHandle*>&)>&
        edit) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names)
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status opened =
      rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors, &handles, &raw);
  ASSERT_TRUE(opened.ok()) << opened.ToString();
  std::unique_ptr<rocksdb::DB> db(raw);
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name;
  for (std::size_t i = 0; i < names.size(); ++i)
    by_name[names[i]] = handles[i];
  edit(*db, by_name);
  for (rocksdb::ColumnFamilyHandle* handle : handles)
    ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
  ASSERT_TRUE(db->Close().ok());
}

}  // namespace

std::string be_u64(std::uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, value >>= 8)
    out[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xff);
  return out;
}

std::string be_u32(std::uint32_t value) {
  return be_u64(value).substr(4);
}

void raw_put(const std::string& path, const std::string& column, const std::string& key,
             const std::string& value) {
  with_raw_db(path, [&](rocksdb::DB& db, auto& columns) {
    ASSERT_TRUE(columns.contains(column)) << column;
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), columns[column], key, value).ok());
  });
}

void raw_get(const std::string& path, const std::string& column, const std::string& key,
             std::string& value) {
  with_raw_db(path, [&](rocksdb::DB& db, auto& columns) {
    ASSERT_TRUE(columns.contains(column)) << column;
    ASSERT_TRUE(db.Get(rocksdb::ReadOptions(), columns[column], key, &value).ok()) << key;
  });
}

}  // namespace ledger::testing
