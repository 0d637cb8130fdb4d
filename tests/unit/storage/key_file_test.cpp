// Key files (include/ledger/storage/key_file.h): how a secret key is kept on disk.
#include "ledger/storage/key_file.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <vector>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/temp_dir.h"
#include "support/test_keys.h"

namespace ledger::storage {
namespace {

using ledger::testing::mode_of;

using ledger::testing::contains;

namespace fs = std::filesystem;

constexpr const char* kSecretHex =
    "b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef";
constexpr const char* kPublicHex =
    "dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659";

SecretKey secret(const char* hex = kSecretHex) {
  auto key = SecretKey::from_hex(hex);
  EXPECT_TRUE(key.is_ok());
  return std::move(key).value();
}

// Writes `text` to `path` with `mode` (set explicitly, so the umask does not matter).
void write_raw(const fs::path& path, const std::string& text, fs::perms mode = fs::perms(0600)) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    ASSERT_TRUE(out.good()) << path;
    out << text;
  }
  fs::permissions(path, mode, fs::perm_options::replace);
}

std::string document(const std::string& type, const std::string& secret_hex,
                     const std::string& public_hex) {
  return "{\"type\": \"" + type + "\", \"secret_key\": \"" + secret_hex + "\", \"public_key\": \"" +
         public_hex + "\"}\n";
}

class KeyFile : public ::testing::Test {
 protected:
  fs::path path(const char* name = "validator.key") const { return dir_.path() / name; }
  ledger::testing::TempDir dir_;
};

TEST_F(KeyFile, WriteThenReadRoundTrips) {
  ASSERT_TRUE(write_key_file(path(), secret()).is_ok());
  auto read = read_key_file(path());
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(read->hex(), kSecretHex);
}

TEST_F(KeyFile, GeneratedKeyRoundTrips) {
  auto generated = SecretKey::generate();
  ASSERT_TRUE(generated.is_ok());
  ASSERT_TRUE(write_key_file(path(), *generated).is_ok());
  auto read = read_key_file(path());
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(read->bytes(), generated->bytes());
}

TEST_F(KeyFile, WrittenFileIsTheDocumentedJson) {
  ASSERT_TRUE(write_key_file(path(), secret()).is_ok());
  std::ifstream in(path());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"type\": \"ledgerd-bip340-secret-key\""), std::string::npos) << text;
  EXPECT_NE(text.find(std::string("\"secret_key\": \"") + kSecretHex + "\""), std::string::npos);
  EXPECT_NE(text.find(std::string("\"public_key\": \"") + kPublicHex + "\""), std::string::npos);
}

TEST_F(KeyFile, CreatedFileHasMode0600) {
  ASSERT_TRUE(write_key_file(path(), secret()).is_ok());
  EXPECT_EQ(mode_of(path()), 0600u);
}

TEST_F(KeyFile, CreatedFileHasMode0600EvenWithPermissiveUmask) {
  mode_t old = ::umask(0);
  Status s = write_key_file(path(), secret());
  ::umask(old);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(mode_of(path()), 0600u);
}

TEST_F(KeyFile, RefusesExistingFileWithoutOverwrite) {
  write_raw(path(), "precious");
  Status s = write_key_file(path(), secret());
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(contains(s, path().string())) << s.message();
  std::ifstream in(path());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "precious");
}

TEST_F(KeyFile, OverwriteReplacesContentAndNarrowsModeTo0600) {
  write_raw(path(), std::string(1000, 'x'), fs::perms(0644));
  ASSERT_EQ(mode_of(path()), 0644u);
  Status s = write_key_file(path(), secret(), /*overwrite=*/true);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(mode_of(path()), 0600u);
  auto read = read_key_file(path());
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(read->hex(), kSecretHex);
}

TEST_F(KeyFile, WriteLeavesOnlyTheKeyFileInTheDirectory) {
  ASSERT_TRUE(write_key_file(path(), secret()).is_ok());
  ASSERT_TRUE(write_key_file(path(), secret(), /*overwrite=*/true).is_ok());
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_.path())) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"validator.key"});
}

TEST_F(KeyFile, StaleTemporaryFileDoesNotLeakItsMode) {
  fs::path temp = path();
  temp += ".tmp";
  write_raw(temp, "stale", fs::perms(0644));
  ASSERT_TRUE(write_key_file(path(), secret()).is_ok());
  EXPECT_EQ(mode_of(path()), 0600u);
  EXPECT_FALSE(fs::exists(temp));
}

TEST_F(KeyFile, OverwriteOfAbsentFileCreatesIt) {
  ASSERT_TRUE(write_key_file(path(), secret(), /*overwrite=*/true).is_ok());
  EXPECT_EQ(mode_of(path()), 0600u);
  EXPECT_TRUE(read_key_file(path()).is_ok());
}

TEST_F(KeyFile, WriteIntoMissingDirectoryIsIoError) {
  Status s = write_key_file(dir_.path() / "missing" / "validator.key", secret());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_TRUE(contains(s, "missing")) << s.message();
}

TEST_F(KeyFile, ReadRefusesGroupOrWorldReadableFile) {
  ASSERT_TRUE(write_key_file(path(), secret()).is_ok());
  fs::permissions(path(), fs::perms(0644), fs::perm_options::replace);
  auto read = read_key_file(path());
  ASSERT_FALSE(read.is_ok());
  EXPECT_EQ(read.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(contains(read.status(), "chmod 600 " + path().string())) << read.status().message();
}

TEST_F(KeyFile, ReadRefusesAnyGroupOrOtherPermissionBit) {
  ASSERT_TRUE(write_key_file(path(), secret()).is_ok());
  for (unsigned extra : {0040u, 0020u, 0010u, 0004u, 0002u, 0001u}) {
    fs::permissions(path(), fs::perms(0600 | extra), fs::perm_options::replace);
    auto read = read_key_file(path());
    ASSERT_FALSE(read.is_ok()) << std::oct << extra;
    EXPECT_EQ(read.status().code(), StatusCode::kFailedPrecondition) << std::oct << extra;
  }
}

TEST_F(KeyFile, ReadAcceptsOwnerReadOnlyFile) {
  ASSERT_TRUE(write_key_file(path(), secret()).is_ok());
  fs::permissions(path(), fs::perms(0400), fs::perm_options::replace);
  EXPECT_TRUE(read_key_file(path()).is_ok());
}

TEST_F(KeyFile, ReadOfMissingFileIsNotFound) {
  auto read = read_key_file(path("absent.key"));
  ASSERT_FALSE(read.is_ok());
  EXPECT_EQ(read.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(contains(read.status(), "absent.key")) << read.status().message();
}

TEST_F(KeyFile, ReadRefusesDirectory) {
  fs::create_directory(path("dir.key"));
  fs::permissions(path("dir.key"), fs::perms(0700), fs::perm_options::replace);
  auto read = read_key_file(path("dir.key"));
  ASSERT_FALSE(read.is_ok());
  EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(read.status(), "not a regular file")) << read.status().message();
}

TEST_F(KeyFile, ReadRejectsMalformedJson) {
  for (const std::string& text :
       {std::string("{\"type\": "), std::string("not json"), std::string(""),
        std::string("[\"ledgerd-bip340-secret-key\"]"), std::string("\"a string\"")}) {
    write_raw(path(), text);
    auto read = read_key_file(path());
    ASSERT_FALSE(read.is_ok()) << text;
    EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_TRUE(contains(read.status(), "not a JSON object")) << read.status().message();
  }
}

TEST_F(KeyFile, ReadRejectsWrongType) {
  write_raw(path(), document("ledgerd-ed25519-secret-key", kSecretHex, kPublicHex));
  auto read = read_key_file(path());
  ASSERT_FALSE(read.is_ok());
  EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(read.status(), "unknown type 'ledgerd-ed25519-secret-key'"))
      << read.status().message();
}

TEST_F(KeyFile, ReadRejectsMissingOrNonStringField) {
  const std::string texts[] = {
      "{\"secret_key\": \"" + std::string(kSecretHex) + "\", \"public_key\": \"" + kPublicHex +
          "\"}",
      "{\"type\": \"ledgerd-bip340-secret-key\", \"public_key\": \"" + std::string(kPublicHex) +
          "\"}",
      "{\"type\": \"ledgerd-bip340-secret-key\", \"secret_key\": 5, \"public_key\": \"" +
          std::string(kPublicHex) + "\"}",
      "{\"type\": \"ledgerd-bip340-secret-key\", \"secret_key\": \"" + std::string(kSecretHex) +
          "\"}",
  };
  const char* fields[] = {"'type'", "'secret_key'", "'secret_key'", "'public_key'"};
  for (std::size_t i = 0; i < 4; ++i) {
    write_raw(path(), texts[i]);
    auto read = read_key_file(path());
    ASSERT_FALSE(read.is_ok()) << texts[i];
    EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(read.status(), fields[i])) << read.status().message();
  }
}

TEST_F(KeyFile, ReadRejectsBadSecretHex) {
  std::string bad = kSecretHex;
  bad[4] = 'z';
  for (const std::string& hex : {bad, std::string(kSecretHex).substr(2), std::string(64, '0')}) {
    write_raw(path(), document(std::string(kKeyFileType), hex, kPublicHex));
    auto read = read_key_file(path());
    ASSERT_FALSE(read.is_ok()) << hex;
    EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument) << hex;
    EXPECT_TRUE(contains(read.status(), "secret_key")) << read.status().message();
  }
}

TEST_F(KeyFile, ReadRejectsMismatchedPublicKey) {
  std::string other = kPublicHex;
  other[63] = other[63] == '9' ? '8' : '9';
  write_raw(path(), document(std::string(kKeyFileType), kSecretHex, other));
  auto read = read_key_file(path());
  ASSERT_FALSE(read.is_ok());
  EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(read.status(), "public_key does not match secret_key"))
      << read.status().message();
}

TEST_F(KeyFile, ReadRejectsOversizedFile) {
  std::string text = document(std::string(kKeyFileType), kSecretHex, kPublicHex);
  text.append(kKeyFileBytesMax, ' ');  // still valid JSON, but too large
  write_raw(path(), text);
  auto read = read_key_file(path());
  ASSERT_FALSE(read.is_ok());
  EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(read.status(), "larger than 4096")) << read.status().message();
}

TEST_F(KeyFile, ReadAcceptsFileOfExactlyTheLimit) {
  std::string text = document(std::string(kKeyFileType), kSecretHex, kPublicHex);
  text.append(storage::kKeyFileBytesMax - text.size(), ' ');
  ASSERT_EQ(text.size(), kKeyFileBytesMax);
  write_raw(path(), text);
  auto read = read_key_file(path());
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(read->hex(), kSecretHex);
}

TEST_F(KeyFile, ReadAcceptsHandWrittenDocument) {
  write_raw(path(), document(std::string(kKeyFileType), kSecretHex, kPublicHex));
  auto read = read_key_file(path());
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(read->hex(), kSecretHex);
}

}  // namespace
}  // namespace ledger::storage
